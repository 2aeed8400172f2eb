"""Declarative ceph pools: the logic behind the ceph_pool module.

- check_params() validates the module's parameters (every error at once, before any command).
- pool_state() reads one pool out of `ceph osd pool ls detail` and `ceph osd crush rule dump`.
- plan_pool() compares that state with the wanted one and returns the steps (ceph commands) that
  close the gap, with the diff; it is pure, so check mode is the plan without the apply.
- converge() is the whole run: gather, plan, apply (unless check mode), gather again.

Facts about ceph 16 that shape the plan (checked on a lab cluster):
- `osd pool set NAME size N` also resets min_size to the cluster default for N, so min_size is
  set after size, and again whenever size changes.
- `osd pool set NAME pg_num N` sets pg_num_target; pg_num then moves there step by step. The
  plan compares with pg_num_target, so a rerun during the move changes nothing.
- With pg_autoscale_mode on, the autoscaler owns pg_num: the module uses pg_num only to create
  the pool and never fights the autoscaler afterwards.
- size 1 needs --yes-i-really-mean-it (and mon_allow_pool_size_one on the monitors).
- a second application on a pool needs --yes-i-really-mean-it: the module refuses instead.
- `osd pool rm` needs the name twice, --yes-i-really-really-mean-it, and mon_allow_pool_delete.
"""

from __future__ import annotations

import re

from ansible.module_utils.strata_ceph import (
    CONNECTION_SPEC,
    CephCli,
    CephError,
    Step,
    apply_steps,
    check_connection,
    cluster_not_ready,
    not_ready_warning,
)

APPLICATIONS = ("rbd", "cephfs", "rgw")
AUTOSCALE_MODES = ("on", "off", "warn")
# Ceph's own bounds for a replicated pool (mon_max_pool_pg_num is 65536 by default).
SIZE_MAX = 10
PG_NUM_MAX = 65536
# Pool names go on ceph's command line as single arguments; keep them to what ceph tools and
# OpenStack configs handle without quoting.
POOL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
REPLICATED = 1

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    size=dict(type="int"),
    min_size=dict(type="int"),
    pg_num=dict(type="int"),
    pg_autoscale_mode=dict(type="str", choices=list(AUTOSCALE_MODES)),
    application=dict(type="str", choices=list(APPLICATIONS)),
    crush_rule=dict(type="str"),
    allow_delete=dict(type="bool", default=False),
    **CONNECTION_SPEC,
)

# The settings a pool's state (and the diff) shows, in this order.
SETTINGS = ("size", "min_size", "pg_num", "pg_autoscale_mode", "crush_rule", "applications")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_params(params):
    """Every problem with the parameters, as messages naming the option, value and expectation."""
    errors = []
    name = params.get("name")
    if not isinstance(name, str) or not POOL_NAME_RE.match(name):
        errors.append(
            f"name is {name!r} (expected a pool name: letters, digits, '.', '_', '-', "
            "starting with a letter or digit, at most 128 characters)"
        )
    size, min_size, pg_num = params.get("size"), params.get("min_size"), params.get("pg_num")
    if size is not None and (not _is_int(size) or not 1 <= size <= SIZE_MAX):
        errors.append(f"size is {size!r} (expected a number of replicas from 1 to {SIZE_MAX})")
    if min_size is not None and (not _is_int(min_size) or not 1 <= min_size <= SIZE_MAX):
        errors.append(f"min_size is {min_size!r} (expected a number from 1 to {SIZE_MAX})")
    elif _is_int(size) and _is_int(min_size) and min_size > size:
        errors.append(
            f"min_size is {min_size} but size is {size} "
            "(expected min_size <= size: a pool never has more than size replicas)"
        )
    if pg_num is not None and (not _is_int(pg_num) or not 1 <= pg_num <= PG_NUM_MAX):
        errors.append(f"pg_num is {pg_num!r} (expected a number from 1 to {PG_NUM_MAX})")
    if params.get("state") == "present" and params.get("allow_delete"):
        errors.append("allow_delete is true but state is present (allow_delete goes with absent)")
    check_connection(params, errors)
    return errors


def param_warnings(params):
    pg_num = params.get("pg_num")
    if _is_int(pg_num) and pg_num > 0 and pg_num & (pg_num - 1):
        return [
            f"pg_num {pg_num} is not a power of two: ceph reports POOL_PG_NUM_NOT_POWER_OF_TWO "
            "(HEALTH_WARN) for such a pool"
        ]
    return []


def find_pool(ls_detail, name):
    for pool in ls_detail or []:
        if pool.get("pool_name") == name:
            return pool
    return None


def pool_state(pool, rules):
    """The managed settings of one `osd pool ls detail` entry; None for a missing pool.

    `rules` is `osd crush rule dump`, to show the pool's rule by name.
    """
    if pool is None:
        return None
    rule_names = {rule["rule_id"]: rule["rule_name"] for rule in rules or []}
    return {
        "type": "replicated" if pool.get("type") == REPLICATED else "erasure",
        "size": pool["size"],
        "min_size": pool["min_size"],
        # Where pg_num is going (ceph moves pg_num there gradually).
        "pg_num": pool.get("pg_num_target", pool["pg_num"]),
        "pg_autoscale_mode": pool.get("pg_autoscale_mode"),
        "crush_rule": rule_names.get(pool.get("crush_rule"), pool.get("crush_rule")),
        "applications": sorted(pool.get("application_metadata") or {}),
    }


def _shown(state):
    """A state for the diff: the settings only, in a fixed order."""
    if state is None:
        return {}
    return {key: state[key] for key in SETTINGS if key in state}


def plan_pool(params, current, rule_names):
    """The steps that make the pool as `params` say, from its `current` state (pool_state()).

    `rule_names` are the CRUSH rules that exist (None: unknown). Returns (steps, before,
    after), where before and after are what the diff shows (after is predicted). Raises
    CephError for a change the module refuses.
    """
    name = params["name"]
    if params["state"] == "absent":
        if current is None:
            return [], {}, {}
        if not params.get("allow_delete"):
            raise CephError(
                f"pool {name} exists and state is absent, but allow_delete is not true: deleting "
                "a pool destroys all its data, so set allow_delete: true to mean it (the "
                "monitors must also have mon_allow_pool_delete = true)"
            )
        step = Step(
            f"delete pool {name} and all its data",
            ("osd", "pool", "rm", name, name, "--yes-i-really-really-mean-it"),
        )
        return [step], _shown(current), {}

    rule = params.get("crush_rule")
    # rule_names is None when the cluster cannot be read (check mode on a fresh host).
    if rule is not None and rule_names is not None and rule not in rule_names:
        known = ", ".join(sorted(rule_names)) or "none"
        raise CephError(
            f"crush_rule is {rule!r} but the cluster has no such CRUSH rule (rules: {known}); "
            "create the rule first"
        )
    if current is not None and current["type"] != "replicated":
        raise CephError(f"pool {name} is an erasure-coded pool; ceph_pool manages replicated pools")

    steps = []
    after = dict(current) if current else {"applications": []}
    pg_num = params.get("pg_num")
    if current is None:
        create = ["osd", "pool", "create", name]
        if pg_num is not None:
            create += [str(pg_num), str(pg_num)]
        create.append("replicated")
        if rule is not None:
            create.append(rule)
        steps.append(Step(f"create pool {name}", tuple(create)))
        if pg_num is not None:
            after["pg_num"] = pg_num
        if rule is not None:
            after["crush_rule"] = rule

    def setting(key, value, change=None, extra=()):
        if change is None:
            old = after.get(key)
            change = f"{key}: {value}" if old is None else f"{key}: {old} -> {value}"
        steps.append(
            Step(
                change,
                ("osd", "pool", "set", name, key, str(value)) + tuple(extra),
            )
        )
        after[key] = value

    # The autoscale mode first: pg_num below depends on it, and a new pool must not be
    # autoscaled between its creation and this step.
    mode = params.get("pg_autoscale_mode")
    if mode is not None and after.get("pg_autoscale_mode") != mode:
        setting("pg_autoscale_mode", mode)
    effective_mode = mode or after.get("pg_autoscale_mode")

    size = params.get("size")
    size_changed = size is not None and after.get("size") != size
    if size_changed:
        # ceph refuses size 1 without this flag (it cannot survive the loss of one OSD).
        setting("size", size, extra=("--yes-i-really-mean-it",) if size == 1 else ())
    min_size = params.get("min_size")
    if min_size is not None and (size_changed or after.get("min_size") != min_size):
        # A size change resets min_size to the cluster's default, so set it again.
        if current is None:
            change = f"min_size: {min_size}"
        elif size_changed:
            change = f"min_size: (reset by the size change) -> {min_size}"
        else:
            change = f"min_size: {current['min_size']} -> {min_size}"
        setting("min_size", min_size, change=change)
        if current is not None and size is None and min_size > current["size"]:
            raise CephError(
                f"min_size is {min_size} but pool {name} has size {current['size']} "
                "(expected min_size <= size; set size too)"
            )
    elif size_changed and current is not None:
        after["min_size"] = "(cluster default for the new size)"
    elif current is None:
        after.setdefault("min_size", "(cluster default)")

    # With the autoscaler on, pg_num is only the starting point of a new pool.
    if (
        current is not None
        and pg_num is not None
        and effective_mode != "on"
        and after.get("pg_num") != pg_num
    ):
        setting("pg_num", pg_num)

    if rule is not None and current is not None and after.get("crush_rule") != rule:
        setting("crush_rule", rule)

    application = params.get("application")
    if application is not None and application not in after["applications"]:
        if after["applications"]:
            raise CephError(
                f"pool {name} has application {', '.join(after['applications'])} enabled, "
                f"not {application}; ceph_pool does not add a second application to a pool "
                "(expected the pool's own application, or a pool without one)"
            )
        steps.append(
            Step(
                f"enable application {application}",
                ("osd", "pool", "application", "enable", name, application),
            )
        )
        after["applications"] = [application]
    return steps, _shown(current), _shown(after)


def gather(cli, name):
    """(current state of the pool or None, names of the CRUSH rules)."""
    rules = cli.json(["osd", "crush", "rule", "dump"]) or []
    pool = find_pool(cli.json(["osd", "pool", "ls", "detail"]), name)
    return pool_state(pool, rules), {rule["rule_name"] for rule in rules}


def converge(params, run_command, check_mode=False, binary="ceph"):
    """The module's run. Returns the result dict (with `diff` and `warnings`)."""
    errors = check_params(params)
    if errors:
        raise CephError("; ".join(errors))
    if check_mode:
        reason = cluster_not_ready(params, binary)
        if reason:
            steps, before, after = plan_pool(params, None, None)
            out = result(params, steps, before, after)
            out["warnings"].append(not_ready_warning(reason, f"pool {params['name']}"))
            return out
    cli = CephCli(run_command, params, binary)
    current, rule_names = gather(cli, params["name"])
    steps, before, after = plan_pool(params, current, rule_names)
    if steps and not check_mode:
        apply_steps(steps, lambda step: cli.run(step.args))
        # Report what ceph now says, not what the plan predicted.
        state, _rules = gather(cli, params["name"])
        after = _shown(state)
    return result(params, steps, before, after)


def result(params, steps, before, after):
    """The module's result (RETURN documents every key but diff and warnings)."""
    return {
        "changed": bool(steps),
        "name": params["name"],
        "pool": after or None,
        "changes": [step.change for step in steps],
        "commands": [step.command() for step in steps],
        "diff": {"before": before, "after": after},
        "warnings": param_warnings(params),
    }

"""`strata inventory placement`: the config's service placement against seed 001's table.

Seed 001 ("OpenStack Reference Architecture For 1000 Nodes") ends with a placement summary: for
every service, how many instances, how many dedicated nodes, whether it can share a node and
whether a load balancer fronts it. ``check`` holds a config's placement against that table for
the services Strata deploys and returns one row per service, a warning per departure and notes;
departures are advice, never errors (a lab or a small cloud departs on purpose).

Terms, as the seed uses them:
- instances: hosts running the service (Strata runs one instance per host of its group);
- dedicated: a host of the service that runs no other resource-intensive service: none of the
  services the table says cannot share a node, nor nova-compute (a hypervisor: the seed takes its
  control-plane nodes out of the compute pool) nor swift storage (disks, like ceph-osd).
  Low-footprint services (memcached, haproxy, schedulers, glance, cinder) may share, as the seed
  allows ("These nodes can be used to host other low footprint services").
- Services that the config cannot place apart are not counted against each other (a note says
  so): every config group that places nova-api also places nova-conductor (OSA's
  nova_api_container), so no OSA-format config can give them separate nodes.

Pure functions (``check``, ``render_text``, ``to_json``) do the work; ``config_groups`` reads the
config files' ``*_hosts`` groups (for services Strata's inventory has no group for yet).
"""

import json
import sys
from dataclasses import dataclass

from strata import config as strata_config

SEED = "seed 001"


@dataclass(frozen=True)
class SeedRow:
    service: str  # the seed's name (keystone-all is keystone, mysqld-server is galera)
    group: str  # the inventory group that runs it (OSA's component group name)
    instances: int | None  # "Number Of Instances"; None: one per node of a kind (see `per`)
    dedicated: int | None  # "Number Of Dedicated Nodes"
    shares: bool  # "Can Share A Node"
    lb: bool  # "Requires a Load Balancer"
    per: str = ""  # the seed's count when it is not a number
    # Strata: OSA's config groups that place the service, read from the config's own `*_hosts`
    # keys while Strata's inventory has no such group (OSA's inventory/env.d/nova.yml).
    osa_groups: tuple = ()
    # Strata: the service's role publishes it through HAProxy when the config has haproxy hosts
    # (keystone and galera today; glance, cinder and nova register their APIs the same way).
    published: bool = False


_NOVA_CONTROL = ("compute-infra_hosts", "os-infra_hosts")

# Seed 001, "Services Placement Summary" table, the rows of the services Strata deploys, in the
# seed's order. Numbers from the table; where its cell is empty the seed's text is quoted.
SEED_001 = (
    SeedRow("keystone", "keystone_all", 5, 5, False, True, published=True),
    SeedRow("nova-api", "nova_api_os_compute", 3, 3, False, True, "", _NOVA_CONTROL, True),
    SeedRow("nova-scheduler", "nova_scheduler", 8, None, True, False, "", _NOVA_CONTROL),
    SeedRow("nova-conductor", "nova_conductor", 3, 3, False, False, "", _NOVA_CONTROL),
    # "An instance of it runs on every hypervisor node".
    SeedRow("nova-compute", "nova_compute", None, None, True, False, "per hypervisor"),
    # Strata deploys neutron-server alone (the API nova calls; no agents) and publishes it
    # through HAProxy, where the table asks for no load balancer.
    SeedRow("neutron-server", "neutron_server", 3, None, True, False, published=True),
    SeedRow("glance-api", "glance_api", 3, None, True, True, published=True),
    SeedRow("cinder-api", "cinder_api", 3, None, True, True, published=True),
    SeedRow("cinder-scheduler", "cinder_scheduler", 3, None, True, False),
    # Empty in the table; the text: "In Ceph case, it is recommended to run at least 3 instances
    # of the Volume service for the availability and redundancy of the service."
    SeedRow("cinder-volume", "cinder_volume", 3, None, True, False),
    SeedRow("rabbitmq", "rabbitmq_all", 3, 3, False, False),
    # "mysqld-server ... yes**": the load balancer sends writes to one node (Strata: HAProxy,
    # single writer, the others backup).
    SeedRow("galera", "galera_all", 3, 3, False, True, published=True),
    SeedRow("ceph-mon", "ceph_mon", 3, 3, False, False),
    # "Every storage device requires an instance of Ceph OSD daemon"; no other service there.
    SeedRow("ceph-osd", "ceph_osd", None, None, False, False, "per storage node"),
)

# Not in the table, yet resource-intensive: a host running them is dedicated to nothing else.
OTHER_HEAVY = {"nova_compute": "nova-compute", "swift_storage": "swift-storage"}

LB_GROUP = "haproxy_all"
SHOWN_HOSTS = 8  # host names listed in a message before "... (+N)"


@dataclass
class Row:
    seed: SeedRow
    hosts: list  # sorted host names
    dedicated: list  # the hosts of `hosts` that are dedicated
    sharing: dict  # host -> services it shares with (display names), dedicated hosts left out
    bundled: dict  # host -> services the config cannot place apart from this one (heavy ones)
    fronted: bool  # a load balancer fronts it
    from_osa_groups: bool  # counted from OSA's config groups, not from Strata's inventory
    feeders: tuple  # config groups that place it
    warnings: list


@dataclass
class Report:
    rows: list
    lb_hosts: list
    warnings: list
    notes: list


def _normal(group):
    return group.replace("-", "_")


def _names(hosts):
    shown = ", ".join(hosts[:SHOWN_HOSTS])
    return shown + (f", ... (+{len(hosts) - SHOWN_HOSTS})" if len(hosts) > SHOWN_HOSTS else "")


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _strata_feeders(host_groups):
    """Inventory group -> config groups that place it (Strata's table)."""
    feeders = {}
    for config_group, components in host_groups.items():
        for component in components:
            feeders.setdefault(component, set()).add(config_group)
    return feeders


def check(members, raw_groups, host_groups=None, seed=SEED_001):
    """Hold a placement against the seed table.

    ``members``: inventory group -> host names, for every group Strata's inventory makes
    (``Config.group_members()``). ``raw_groups``: the config's ``*_hosts`` groups as written ->
    host names (``config_groups``), for the rows whose group Strata's inventory lacks.
    ``host_groups``: config group -> inventory groups (default: Strata's ``HOST_GROUPS``).
    """
    host_groups = strata_config.HOST_GROUPS if host_groups is None else host_groups
    feeders = _strata_feeders(host_groups)
    hosts_of = {group: sorted(names) for group, names in members.items()}
    from_osa = set()
    for row in seed:
        if row.group in hosts_of:
            continue
        wanted = {_normal(g) for g in row.osa_groups}
        names = set()
        for config_group, hosts in raw_groups.items():
            if _normal(config_group) in wanted:
                names.update(hosts)
        hosts_of[row.group] = sorted(names)
        feeders[row.group] = set(row.osa_groups)
        from_osa.add(row.group)

    on_host = {}
    for group, names in hosts_of.items():
        for name in names:
            on_host.setdefault(name, set()).add(group)
    display = {**OTHER_HEAVY, **{row.group: row.service for row in seed}}
    heavy = {row.group for row in seed if not row.shares} | set(OTHER_HEAVY)
    lb_hosts = hosts_of.get(LB_GROUP, [])

    placed_by = {group: {_normal(g) for g in names} for group, names in feeders.items()}
    rows = []
    for row in seed:
        mine = placed_by.get(row.group, set())
        # Groups that every config group of this service places too: never apart from it.
        inseparable = {
            group
            for group, theirs in placed_by.items()
            if group != row.group and mine and mine <= theirs
        }
        sharing = {}
        bundled = {}
        for name in hosts_of[row.group]:
            others = (on_host[name] & heavy) - {row.group}
            apart = sorted(display[g] for g in others - inseparable)
            together = sorted(display[g] for g in others & inseparable)
            if apart:
                sharing[name] = apart
            if together and not row.shares:
                bundled[name] = together
        hosts = hosts_of[row.group]
        result = Row(
            seed=row,
            hosts=hosts,
            dedicated=[h for h in hosts if h not in sharing],
            sharing=sharing,
            bundled=bundled,
            fronted=bool(row.published and lb_hosts and hosts),
            from_osa_groups=row.group in from_osa,
            feeders=tuple(sorted(feeders.get(row.group, ()))),
            warnings=[],
        )
        result.warnings = _departures(result)
        rows.append(result)

    return Report(
        rows=rows,
        lb_hosts=lb_hosts,
        warnings=[w for r in rows for w in r.warnings],
        notes=_notes(rows),
    )


def _departures(row):
    seed = row.seed
    count = len(row.hosts)
    found = []
    if seed.instances and count == 0:
        groups = " or ".join(row.feeders)
        found.append(
            f"{seed.service}: not in this config (no host in {groups or 'any group'}); "
            f"{SEED} runs {seed.instances} instances"
        )
        return found
    if seed.instances and count < seed.instances:
        found.append(
            f"{seed.service}: {_plural(count, 'instance')} ({_names(row.hosts)}); {SEED} "
            f"recommends {seed.instances}"
        )
    if not seed.shares and row.sharing:
        by_partners = {}
        for name, partners in row.sharing.items():
            by_partners.setdefault(tuple(partners), []).append(name)
        wanted = f"{seed.dedicated} dedicated nodes" if seed.dedicated else "dedicated nodes"
        for partners, names in sorted(by_partners.items()):
            found.append(
                f"{seed.service}: shares {len(names)} of its {_plural(count, 'node')} with "
                f"{', '.join(partners)} ({_names(names)}); {SEED} puts it on {wanted}"
            )
    if seed.lb and count and not row.fronted:
        why = (
            f"{LB_GROUP} has no host (haproxy_hosts, load_balancer_hosts)"
            if seed.published
            else "Strata does not publish it through HAProxy"
        )
        found.append(f"{seed.service}: no load balancer in front ({why}); {SEED} puts one there")
    return found


def _notes(rows):
    notes = []
    seen = set()
    for row in rows:
        partners = sorted({p for ps in row.bundled.values() for p in ps})
        if not partners:
            continue
        key = frozenset([row.seed.service, *partners])
        if key in seen:
            continue
        seen.add(key)
        notes.append(
            f"{' and '.join([row.seed.service, *partners])} run on the same nodes: every config "
            f"group that places {row.seed.service} ({', '.join(row.feeders)}) places "
            f"{'them' if len(partners) > 1 else 'it'} too, so they are not counted as sharing "
            f"({SEED} gives them separate nodes)"
        )
    osa = [row for row in rows if row.from_osa_groups]
    if osa:
        groups = sorted({g for row in osa for g in row.seed.osa_groups})
        notes.append(
            f"{', '.join(r.seed.service for r in osa)}: counted from {', '.join(groups)} "
            "(OSA's groups for them); Strata's inventory has no group for them yet"
        )
    return notes


# --- output ------------------------------------------------------------------------------------


def _yes(value):
    return "yes" if value else "no"


def _seed_count(value, per=""):
    return str(value) if value else (per or "-")


def table_rows(report):
    rows = [("SERVICE", "GROUP", "HOSTS", "SEED", "DEDICATED", "SEED", "LB", "SEED", "")]
    for row in report.rows:
        seed = row.seed
        rows.append(
            (
                seed.service,
                row.seed.group,
                str(len(row.hosts)),
                _seed_count(seed.instances, seed.per),
                str(len(row.dedicated)),
                _seed_count(seed.dedicated, "all" if not seed.shares else ""),
                _yes(row.fronted),
                _yes(seed.lb),
                "departs" if row.warnings else "ok",
            )
        )
    return rows


def _table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def render_text(report, config_dir, host_count):
    lb = (
        f"haproxy on {_plural(len(report.lb_hosts), 'host')} ({_names(report.lb_hosts)})"
        if report.lb_hosts
        else "none (no haproxy hosts)"
    )
    lines = [
        f"Placement of {config_dir} ({_plural(host_count, 'host')}) against {SEED}, the "
        "reference architecture for 1000 nodes",
        f"load balancer: {lb}",
        "",
        _table(table_rows(report)),
        "",
    ]
    lines += [f"warning: {w}" for w in report.warnings]
    lines += [f"note: {n}" for n in report.notes]
    if not report.warnings:
        lines.append(f"OK: the placement meets {SEED}'s table")
    else:
        lines.append(
            f"{_plural(len(report.warnings), 'departure')} from {SEED}'s table (advice: "
            "its numbers are for about 1000 nodes)"
        )
    return "\n".join(lines)


def to_json(report, config_dir, host_count):
    services = []
    for row in report.rows:
        seed = row.seed
        services.append(
            {
                "service": seed.service,
                "group": seed.group,
                "config_groups": list(row.feeders),
                "counted_from_osa_groups": row.from_osa_groups,
                "hosts": row.hosts,
                "instances": len(row.hosts),
                "dedicated_hosts": row.dedicated,
                "dedicated": len(row.dedicated),
                "sharing": row.sharing,
                "load_balancer": row.fronted,
                "seed": {
                    "instances": seed.instances,
                    "dedicated": seed.dedicated,
                    "can_share_a_node": seed.shares,
                    "load_balancer": seed.lb,
                    "per": seed.per or None,
                },
                "warnings": row.warnings,
            }
        )
    return {
        "config_dir": str(config_dir),
        "hosts": host_count,
        "seed": SEED,
        "load_balancer_hosts": report.lb_hosts,
        "services": services,
        "warnings": report.warnings,
        "notes": report.notes,
    }


# --- reading the config ------------------------------------------------------------------------


def config_groups(config):
    """The config files' ``*_hosts`` groups, merged over the files: group -> host names.

    Strata's inventory leaves out groups it does not deploy (compute-infra_hosts today); the
    placement still counts OSA's groups for the services the seed names."""
    groups = {}
    problems = []  # the files were validated by strata_config.load already
    for path in config.files:
        data = strata_config.read_yaml(path, problems)
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            if isinstance(key, str) and key.endswith("_hosts") and isinstance(value, dict):
                groups.setdefault(key, {}).update(dict.fromkeys(str(name) for name in value))
    return {group: list(names) for group, names in groups.items()}


def register(commands, common):
    """Add `placement` to `strata inventory`'s actions."""
    text = f"the config's service placement against {SEED}'s table (1000-node reference)"
    parser = commands.add_parser("placement", parents=[common], help=text, description=text)
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output (default: text)"
    )
    parser.set_defaults(func=cmd_placement)


def cmd_placement(args):
    config, warnings = strata_config.load(
        strata_config.config_dir_from(getattr(args, "config_dir", None))
    )
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    report = check(config.group_members(), config_groups(config))
    count = len(config.hosts) + len(config.ignored_hosts)
    if args.format == "json":
        print(json.dumps(to_json(report, config.config_dir, count), indent=2))
    else:
        print(render_text(report, config.config_dir, count))
    return 0

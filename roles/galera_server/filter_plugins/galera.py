"""Decisions about a Galera cluster: when to bootstrap, from which node, when to refuse.

Pure functions over the state every node reports (see tasks/state.yml); Ansible filters at the
bottom. A node's state is a dict:

    active         mariadb runs (systemctl is-active)
    status         its wsrep status when it runs: cluster_status ('Primary', 'non-Primary',
                   'Disconnected'), local_state (4 = Synced), cluster_state_uuid, last_committed
    grastate       /var/lib/mysql/grastate.dat: uuid, seqno, safe_to_bootstrap (None: no file)
    recovered      the position `galera_recovery` (mariadbd --wsrep-recover) found, when asked:
                   uuid, seqno (None: not read)
"""

import json

NO_UUID = "00000000-0000-0000-0000-000000000000"
SYNCED = 4


def parse_grastate(text):
    """grastate.dat's fields; None when there is no file (empty text)."""
    if not text or not text.strip():
        return None
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            fields[key.strip()] = value.strip()
    return {
        "uuid": fields.get("uuid", NO_UUID),
        "seqno": _as_int(fields.get("seqno"), -1),
        "safe_to_bootstrap": fields.get("safe_to_bootstrap", "0") == "1",
    }


def parse_status(rows):
    """wsrep status rows ([{Variable_name, Value}], as mysql_query returns them) as a dict."""
    values = {row["Variable_name"].lower(): row["Value"] for row in rows or []}
    if not values:
        return None
    return {
        "cluster_status": values.get("wsrep_cluster_status", "Disconnected"),
        "local_state": _as_int(values.get("wsrep_local_state"), 0),
        "cluster_size": _as_int(values.get("wsrep_cluster_size"), 0),
        "cluster_state_uuid": values.get("wsrep_cluster_state_uuid", NO_UUID) or NO_UUID,
        "last_committed": _as_int(values.get("wsrep_last_committed"), -1),
    }


def parse_recovered(output):
    """The position `galera_recovery` prints (--wsrep_start_position=UUID:SEQNO), or None."""
    for word in (output or "").split():
        if word.startswith("--wsrep_start_position="):
            uuid, _, seqno = word.split("=", 1)[1].rpartition(":")
            if uuid:
                return {"uuid": uuid, "seqno": _as_int(seqno, -1)}
    return None


def node_state(active, status_rows, grastate_text, recovered_output=""):
    """One node's state dict from what the tasks read."""
    return {
        "active": bool(active),
        "status": parse_status(status_rows) if active else None,
        "grastate": parse_grastate(grastate_text),
        "recovered": parse_recovered(recovered_output),
    }


def _as_int(value, default):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def is_primary(state):
    status = (state or {}).get("status")
    return bool(state and state.get("active") and status and status["cluster_status"] == "Primary")


def has_history(state):
    """The node has been part of a cluster: its data belongs to some cluster's history."""
    grastate = (state or {}).get("grastate")
    return bool(grastate and grastate["uuid"] != NO_UUID)


def in_wsrep(state):
    """The node runs with wsrep connected (in a primary component or not)."""
    status = state.get("status") or {}
    return bool(
        state.get("active") and status.get("cluster_status", "Disconnected") != "Disconnected"
    )


def position(state):
    """(uuid, seqno) of a node: the running node's last commit, else the saved or recovered one.

    seqno -1 means unknown (a crash leaves -1 in grastate.dat until --wsrep-recover reads it).
    """
    status = state.get("status")
    if state.get("active") and status and status["cluster_state_uuid"] != NO_UUID:
        return status["cluster_state_uuid"], status["last_committed"]
    grastate = state.get("grastate") or {"uuid": NO_UUID, "seqno": -1}
    recovered = state.get("recovered")
    if grastate["seqno"] < 0 and recovered:
        return recovered["uuid"], recovered["seqno"]
    return grastate["uuid"], grastate["seqno"]


def _plan(action, reason, bootstrap=None, start=(), source=None):
    return {
        "action": action,
        "reason": reason,
        "bootstrap": bootstrap,
        "start": list(start),
        # The node that serves the cluster once it is up (for one-off SQL): a primary member.
        "source": source,
    }


def deploy_plan(states, expected, candidates):
    """How a deployment brings the cluster up.

    states: host -> state, for the hosts that reported; expected: every galera host;
    candidates: the hosts of this run, in inventory order (the first may bootstrap).
    Returns a dict: action is 'join' (start the nodes in `start`, a primary exists or was just
    bootstrapped), 'bootstrap' (a new cluster on `bootstrap`, then start the rest) or 'refuse'.
    """
    primaries = [h for h in expected if is_primary(states.get(h))]
    if primaries:
        start = [h for h in candidates if h in states and not is_primary(states[h])]
        reason = f"primary component on {', '.join(primaries)}"
        if start:
            reason += f"; {', '.join(start)} join it"
        return _plan("join", reason, start=start, source=primaries[0])

    silent = [h for h in expected if h not in states]
    if silent:
        return _plan(
            "refuse",
            f"no node reports a primary component and {', '.join(silent)} did not report its "
            "state (unreachable or not in this run): bootstrapping now could start a second "
            "cluster next to one running there. Run against every galera host.",
        )
    # A node running without wsrep (Disconnected, e.g. the package's stand-alone first start)
    # holds no cluster data; anything else that runs or has a grastate.dat does.
    with_history = [h for h in expected if has_history(states[h]) or in_wsrep(states[h])]
    if with_history:
        return _plan(
            "refuse",
            f"no primary component, but {', '.join(with_history)} already belong to a cluster: "
            "this is an outage, not a first deployment. Recover with "
            "playbooks/galera-recover.yml (it bootstraps from the most advanced node).",
        )
    if not candidates:
        return _plan("refuse", "no galera host in this run to bootstrap a new cluster on")
    first = candidates[0]
    rest = [h for h in candidates if h != first]
    return _plan(
        "bootstrap",
        f"new cluster: {first} bootstraps it, {', '.join(rest) or 'no other node'} join",
        bootstrap=first,
        start=rest,
        source=first,
    )


def recovery_plan(states, expected, named=None, ignored=()):
    """How galera-recover.yml brings a cluster back after an outage.

    states: host -> state for the hosts that reported (positions read); expected: every galera
    host; named: the node the operator says to bootstrap from, or None; ignored: hosts the
    operator says may be left unreported with a named node (they are known to be down).
    Returns a dict like deploy_plan's, plus 'positions' (host -> 'uuid:seqno' or 'unknown').
    """
    positions = {}
    for host in expected:
        if host not in states:
            positions[host] = "unreachable"
            continue
        uuid, seqno = position(states[host])
        positions[host] = f"{uuid}:{seqno}" if seqno >= 0 and uuid != NO_UUID else "unknown"

    def done(plan):
        plan["positions"] = positions
        return plan

    if named is not None and named not in expected:
        return done(
            _plan(
                "refuse",
                f"galera_server_recover_bootstrap_host is {named!r}, which is not a galera host "
                f"(expected one of {', '.join(expected)})",
            )
        )

    primaries = [h for h in expected if is_primary(states.get(h))]
    if primaries:
        if named is not None and named not in primaries:
            return done(
                _plan(
                    "refuse",
                    f"a primary component runs on {', '.join(primaries)}: bootstrapping "
                    f"{named} would split the cluster in two. Start {named} normally; it joins.",
                )
            )
        start = [h for h in expected if h in states and not is_primary(states[h])]
        return done(
            _plan(
                "join",
                f"primary component on {', '.join(primaries)}: no bootstrap; "
                f"{', '.join(start) or 'no node'} to start",
                start=start,
                source=primaries[0],
            )
        )

    strangers = [h for h in ignored if h not in expected]
    if strangers:
        return done(
            _plan(
                "refuse",
                f"galera_server_recover_ignore_unreachable lists {', '.join(strangers)}, which "
                f"is not a galera host (expected some of {', '.join(expected)})",
            )
        )

    if named is not None:
        if named not in states:
            return done(_plan("refuse", f"{named} did not report its state (unreachable?)"))
        # An unreported node may run a primary component: bootstrapping beside it would split
        # the cluster in two. Only the operator can say it is down.
        unreported = [h for h in expected if h not in states and h not in ignored]
        if unreported:
            listed = ", ".join(unreported)
            return done(
                _plan(
                    "refuse",
                    f"{listed} did not report (unreachable, or left out with --limit): it may "
                    f"still run a primary component, and bootstrapping {named} beside it would "
                    "split the cluster in two. Make it reachable, or when you know it is down "
                    'say so with -e \'{"galera_server_recover_ignore_unreachable": '
                    f"{json.dumps(unreported)}}}'",
                )
            )
        rest = [h for h in expected if h != named and h in states]
        return done(
            _plan(
                "bootstrap",
                f"operator named {named}; the other nodes join it and take a state transfer "
                "from it (transactions only they had are lost)",
                bootstrap=named,
                start=rest,
                source=named,
            )
        )

    unknown = [h for h in expected if positions[h] in ("unreachable", "unknown")]
    if unknown:
        detail = ", ".join(f"{h} ({positions[h]})" for h in unknown)
        return done(
            _plan(
                "refuse",
                f"cannot tell which node is most advanced: no position for {detail}. Check "
                "those nodes, or name the node to bootstrap from with "
                "-e galera_server_recover_bootstrap_host=HOST",
            )
        )
    uuids = sorted({positions[h].rpartition(":")[0] for h in expected})
    if len(uuids) > 1:
        detail = ", ".join(f"{h} {positions[h]}" for h in expected)
        return done(
            _plan(
                "refuse",
                f"the nodes hold different cluster histories ({detail}): positions cannot be "
                "compared. Name the node to bootstrap from with "
                "-e galera_server_recover_bootstrap_host=HOST",
            )
        )
    seqnos = {h: int(positions[h].rpartition(":")[2]) for h in expected}
    best = max(seqnos.values())
    leaders = [h for h in expected if seqnos[h] == best]
    # Equal positions hold the same data: prefer the node galera marked safe (the last to leave).
    safe = [h for h in leaders if (states[h].get("grastate") or {}).get("safe_to_bootstrap")]
    chosen = (safe or leaders)[0]
    rest = [h for h in expected if h != chosen]
    return done(
        _plan(
            "bootstrap",
            f"{chosen} is the most advanced node (seqno {best}); the others join it",
            bootstrap=chosen,
            start=rest,
            source=chosen,
        )
    )


def galera_node_state(active, status_rows=None, grastate_text="", recovered_output=""):
    return node_state(active, status_rows, grastate_text, recovered_output)


def galera_deploy_plan(states, expected, candidates):
    return deploy_plan(states, list(expected), list(candidates))


def galera_recovery_plan(states, expected, named=None, ignored=()):
    return recovery_plan(states, list(expected), named or None, list(ignored or ()))


class FilterModule:
    def filters(self):
        return {
            "galera_node_state": galera_node_state,
            "galera_deploy_plan": galera_deploy_plan,
            "galera_recovery_plan": galera_recovery_plan,
            "galera_is_synced": lambda state: bool(
                is_primary(state) and state["status"]["local_state"] == SYNCED
            ),
        }

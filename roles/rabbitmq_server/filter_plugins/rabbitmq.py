"""Pure decisions of the rabbitmq_server role: which node the others join, and which may join;
the users' definitions with pre-hashed passwords (no password on a command line).

A join resets the joining node (`rabbitmqctl reset`): everything it holds is lost. So only a node
that provably holds nothing may join: one whose cluster is itself alone and that has no queue.
The node they join is one already clustered (or holding queues), never a list position.
"""

import base64
import hashlib


def node_state(node_name, cluster_status, queue_count):
    """One node as the plan sees it, from `rabbitmqctl cluster_status --formatter json` (a dict)
    and the number of queues it knows (all vhosts); None when it did not report."""
    if cluster_status is None:
        return None
    disk = sorted(cluster_status.get("disk_nodes") or [])
    ram = sorted(cluster_status.get("ram_nodes") or [])
    members = sorted(set(disk) | set(ram) | {node_name})
    queues = int(queue_count)
    return {
        "node": node_name,
        "members": members,
        "queues": queues,
        # Alone in its own cluster and holding no queue: a reset loses nothing.
        "new": members == [node_name] and queues == 0,
    }


def password_hash(password, seed):
    """RabbitMQ's rabbit_password_hashing_sha256 hash: base64(salt + sha256(salt + password)).

    The 4-byte salt is derived from `seed` (the cluster's cookie and the user name), so the
    same password gives the same hash on every run and the definitions file stays unchanged.
    """
    salt = hashlib.sha256(seed.encode()).digest()[:4]
    digest = hashlib.sha256(salt + password.encode()).digest()
    return base64.b64encode(salt + digest).decode()


def definitions(services, seed):
    """The users and their permissions as `rabbitmqctl import_definitions` reads them.

    services: [{user, password, vhost}]; seed: a cluster secret that salts the hashes.
    """
    return {
        "users": [
            {
                "name": s["user"],
                "password_hash": password_hash(s["password"], seed + ":" + s["user"]),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
            for s in services
        ],
        "permissions": [
            {"user": s["user"], "vhost": s["vhost"], "configure": ".*", "write": ".*", "read": ".*"}
            for s in services
        ],
    }


def _refuse(reason):
    return {"action": "refuse", "reason": reason, "target": None, "join": [], "forget": []}


def cluster_plan(states, hosts):
    """What to do with the nodes of `hosts` (in group order), given {host: node_state or None}.

    Returns {action: join|refuse, reason, target: host the others join (or None), join: hosts to
    reset and join it, in order, forget: node names the target must forget first (a reinstalled
    node it still lists)}.
    """
    reported = [h for h in hosts if states.get(h) is not None]
    if not reported:
        return {
            "action": "join",
            "reason": "no node reported",
            "target": None,
            "join": [],
            "forget": [],
        }
    used = [h for h in reported if not states[h]["new"]]
    clusters = []
    for h in used:
        members = states[h]["members"]
        if members not in clusters:
            clusters.append(members)
    if len(clusters) > 1:
        detail = "; ".join(
            f"{h}: {', '.join(states[h]['members'])} ({states[h]['queues']} queues)" for h in used
        )
        return _refuse(
            "the RabbitMQ nodes belong to different clusters that hold data, and joining one to "
            f"another would reset it and lose its queues: {detail}. Decide which cluster to "
            "keep, then on each node of the other: rabbitmqctl stop_app; rabbitmqctl reset; "
            "rabbitmqctl join_cluster NODE; rabbitmqctl start_app "
            "(docs/operations/control-plane.md)"
        )
    # The cluster in use (if any) is the one the others join; else the group's first reporter.
    target = used[0] if used else reported[0]
    target_node = states[target]["node"]
    cluster = states[target]["members"]
    join = [h for h in reported if h != target and states[h]["node"] not in cluster]
    # A node that the cluster still lists but that is new again (reinstalled) must be forgotten
    # first: the cluster would refuse it as "inconsistent".
    forget = [
        states[h]["node"]
        for h in reported
        if h != target
        and states[h]["new"]
        and states[h]["node"] in cluster
        and states[h]["node"] != target_node
    ]
    join += [h for h in reported if states[h]["node"] in forget]
    if join:
        reason = f"{', '.join(join)} (new, empty) join {target}'s cluster"
    else:
        reason = f"every node is in {target}'s cluster"
    return {"action": "join", "reason": reason, "target": target, "join": join, "forget": forget}


class FilterModule:
    def filters(self):
        return {
            "rabbitmq_node_state": node_state,
            "rabbitmq_cluster_plan": cluster_plan,
            "rabbitmq_definitions": definitions,
        }

"""The rabbitmq_server role's cluster plan: who joins whom, and who must never be reset."""

import importlib.util
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "roles/rabbitmq_server/filter_plugins/rabbitmq.py"
spec = importlib.util.spec_from_file_location("strata_rabbitmq_filters", PLUGIN)
rabbitmq = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rabbitmq)

CLUSTER = ["rabbit@infra1", "rabbit@infra2", "rabbit@infra3"]


def state(host, members=None, queues=0):
    node = f"rabbit@{host}"
    return rabbitmq.node_state(node, {"disk_nodes": members or [node], "ram_nodes": []}, queues)


def clustered(host, queues=5):
    return state(host, CLUSTER, queues)


def plan(states):
    return rabbitmq.cluster_plan(states, list(states))


def test_first_deployment_joins_everyone_to_the_first_node():
    result = plan({h: state(h) for h in ("infra1", "infra2", "infra3")})
    assert result["action"] == "join"
    assert result["target"] == "infra1"
    assert result["join"] == ["infra2", "infra3"]
    assert result["forget"] == []


def test_converged_cluster_does_nothing():
    result = plan({h: clustered(h) for h in ("infra1", "infra2", "infra3")})
    assert result["action"] == "join" and result["join"] == [] and result["target"] == "infra1"


def test_a_new_host_that_sorts_first_joins_the_running_cluster():
    # The review's case: ainfra4 sorts before infra1..3; nobody may reset and join it.
    states = {
        "ainfra4": state("ainfra4"),
        **{h: clustered(h) for h in ("infra1", "infra2", "infra3")},
    }
    result = plan(states)
    assert result["action"] == "join"
    assert result["target"] == "infra1"
    assert result["join"] == ["ainfra4"]


def test_a_single_node_holding_queues_is_kept_and_joined():
    states = {"ainfra4": state("ainfra4"), "infra1": state("infra1", queues=3)}
    result = plan(states)
    assert result["target"] == "infra1" and result["join"] == ["ainfra4"]


def test_two_clusters_holding_data_are_refused():
    states = {"infra1": state("infra1", queues=1), "infra2": state("infra2", queues=2)}
    result = plan(states)
    assert result["action"] == "refuse"
    assert "different clusters" in result["reason"] and "infra2" in result["reason"]
    assert result["join"] == []


def test_a_standalone_node_with_queues_beside_a_cluster_is_refused():
    states = {
        "infra0": state("infra0", queues=4),
        **{h: clustered(h) for h in ("infra1", "infra2", "infra3")},
    }
    assert plan(states)["action"] == "refuse"


def test_a_reinstalled_first_node_is_forgotten_then_joins():
    # infra1 reinstalled: empty, alone; the others still list rabbit@infra1.
    states = {
        "infra1": state("infra1"),
        "infra2": clustered("infra2"),
        "infra3": clustered("infra3"),
    }
    result = plan(states)
    assert result["action"] == "join"
    assert result["target"] == "infra2"
    assert result["forget"] == ["rabbit@infra1"]
    assert result["join"] == ["infra1"]


def test_unreported_nodes_are_left_alone():
    states = {"ainfra4": state("ainfra4"), "infra1": clustered("infra1"), "infra2": None}
    result = plan(states)
    assert result["target"] == "infra1" and result["join"] == ["ainfra4"]
    assert plan({"infra1": None})["join"] == []


def test_node_state_counts_ram_nodes_as_members():
    got = rabbitmq.node_state(
        "rabbit@a", {"disk_nodes": ["rabbit@a"], "ram_nodes": ["rabbit@b"]}, "0"
    )
    assert got["members"] == ["rabbit@a", "rabbit@b"] and not got["new"]
    assert rabbitmq.node_state("rabbit@a", None, 0) is None


def test_password_hash_is_rabbitmqs_sha256_scheme():
    # RabbitMQ's documented example: salt 908DC60A, password test12.
    import base64
    import hashlib

    salt = bytes.fromhex("908DC60A")
    expected = "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR"
    assert base64.b64encode(salt + hashlib.sha256(salt + b"test12").digest()).decode() == expected
    got = base64.b64decode(rabbitmq.password_hash("test12", "seed"))
    assert got[4:] == hashlib.sha256(got[:4] + b"test12").digest()
    # Stable for the same seed, different for another (the salt comes from the seed).
    assert rabbitmq.password_hash("test12", "seed") == rabbitmq.password_hash("test12", "seed")
    assert rabbitmq.password_hash("test12", "seed") != rabbitmq.password_hash("test12", "other")


def test_definitions_hold_hashes_and_permissions_only():
    services = [{"user": "glance", "password": "s3cret", "vhost": "/glance"}]
    defs = rabbitmq.definitions(services, "cookie")
    assert "s3cret" not in str(defs)
    assert defs["users"][0]["name"] == "glance"
    assert defs["users"][0]["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert defs["permissions"] == [
        {"user": "glance", "vhost": "/glance", "configure": ".*", "write": ".*", "read": ".*"}
    ]

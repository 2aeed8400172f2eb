"""The galera_server role's decisions: bootstrap or join at deployment, and recovery."""

import importlib.util
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "roles/galera_server/filter_plugins/galera.py"
spec = importlib.util.spec_from_file_location("strata_galera_filters", PLUGIN)
galera = importlib.util.module_from_spec(spec)
spec.loader.exec_module(galera)

NODES = ["cp1", "cp2", "cp3"]
UUID = "8bd3a2c4-1c5b-11ef-9d1e-6f0d7f3b1a10"
OTHER_UUID = "11111111-2222-3333-4444-555555555555"


def status_rows(cluster_status="Primary", local_state=4, uuid=UUID, committed=10):
    return [
        {"Variable_name": "wsrep_cluster_status", "Value": cluster_status},
        {"Variable_name": "wsrep_local_state", "Value": str(local_state)},
        {"Variable_name": "wsrep_cluster_size", "Value": "3"},
        {"Variable_name": "wsrep_cluster_state_uuid", "Value": uuid},
        {"Variable_name": "wsrep_last_committed", "Value": str(committed)},
    ]


def grastate(uuid=UUID, seqno=-1, safe=0):
    return (
        "# GALERA saved state\nversion: 2.1\n"
        f"uuid:    {uuid}\nseqno:   {seqno}\nsafe_to_bootstrap: {safe}\n"
    )


def running(**kw):
    return galera.node_state(True, status_rows(**kw), grastate())


def stopped(seqno, uuid=UUID, safe=0, recovered=""):
    return galera.node_state(False, None, grastate(uuid, seqno, safe), recovered)


FRESH = galera.node_state(False, None, "")


# ---- parsing -----------------------------------------------------------------------------


def test_grastate_fields():
    parsed = galera.parse_grastate(grastate(seqno=42, safe=1))
    assert parsed == {"uuid": UUID, "seqno": 42, "safe_to_bootstrap": True}


def test_no_grastate_is_none():
    assert galera.parse_grastate("") is None


def test_recovered_position_from_galera_recovery_output():
    out = f"--wsrep_start_position={UUID}:1234\n"
    assert galera.parse_recovered(out) == {"uuid": UUID, "seqno": 1234}
    assert galera.parse_recovered("") is None


def test_status_of_a_node_without_wsrep_is_disconnected():
    rows = [{"Variable_name": "wsrep_cluster_status", "Value": "Disconnected"}]
    assert galera.parse_status(rows)["cluster_status"] == "Disconnected"


# ---- deployment --------------------------------------------------------------------------


def test_first_deployment_bootstraps_the_first_node_only():
    plan = galera.deploy_plan(dict.fromkeys(NODES, FRESH), NODES, NODES)
    assert plan["action"] == "bootstrap"
    assert plan["bootstrap"] == "cp1"
    assert plan["start"] == ["cp2", "cp3"]


def test_a_running_primary_anywhere_means_join_never_bootstrap():
    states = {"cp1": FRESH, "cp2": FRESH, "cp3": running()}
    plan = galera.deploy_plan(states, NODES, NODES)
    assert plan["action"] == "join"
    assert plan["bootstrap"] is None
    assert plan["start"] == ["cp1", "cp2"]
    assert plan["source"] == "cp3"


def test_converged_cluster_needs_nothing():
    plan = galera.deploy_plan(dict.fromkeys(NODES, running()), NODES, NODES)
    assert plan["action"] == "join"
    assert plan["start"] == []


def test_no_bootstrap_when_a_node_cannot_report():
    states = {"cp1": FRESH, "cp2": FRESH}
    plan = galera.deploy_plan(states, NODES, ["cp1", "cp2"])
    assert plan["action"] == "refuse"
    assert "cp3" in plan["reason"]


def test_join_works_with_a_limited_run():
    states = {"cp2": FRESH, "cp3": running()}
    plan = galera.deploy_plan(states, NODES, ["cp2", "cp3"])
    assert plan["action"] == "join"
    assert plan["start"] == ["cp2"]


def test_outage_is_not_a_first_deployment():
    states = {"cp1": stopped(10), "cp2": stopped(12), "cp3": FRESH}
    plan = galera.deploy_plan(states, NODES, NODES)
    assert plan["action"] == "refuse"
    assert "galera-recover.yml" in plan["reason"]
    assert "cp1" in plan["reason"] and "cp2" in plan["reason"]


def test_non_primary_running_node_refuses():
    states = {h: running(cluster_status="non-Primary") for h in NODES}
    assert galera.deploy_plan(states, NODES, NODES)["action"] == "refuse"


def test_stand_alone_package_start_counts_as_fresh():
    standalone = galera.node_state(
        True, [{"Variable_name": "wsrep_cluster_status", "Value": "Disconnected"}], ""
    )
    states = {"cp1": standalone, "cp2": FRESH, "cp3": FRESH}
    assert galera.deploy_plan(states, NODES, NODES)["action"] == "bootstrap"


# ---- recovery ----------------------------------------------------------------------------


def test_recovery_picks_the_most_advanced_node():
    states = {"cp1": stopped(10), "cp2": stopped(15), "cp3": stopped(12)}
    plan = galera.recovery_plan(states, NODES)
    assert plan["action"] == "bootstrap"
    assert plan["bootstrap"] == "cp2"
    assert plan["start"] == ["cp1", "cp3"]
    assert plan["positions"]["cp2"] == f"{UUID}:15"


def test_recovery_reads_crashed_positions_from_wsrep_recover():
    crashed = f"--wsrep_start_position={UUID}:20"
    states = {
        "cp1": stopped(-1, recovered=crashed),
        "cp2": stopped(-1, recovered=f"--wsrep_start_position={UUID}:19"),
        "cp3": stopped(18),
    }
    plan = galera.recovery_plan(states, NODES)
    assert plan["bootstrap"] == "cp1"


def test_equal_positions_prefer_the_node_marked_safe():
    states = {"cp1": stopped(7), "cp2": stopped(7), "cp3": stopped(7, safe=1)}
    assert galera.recovery_plan(states, NODES)["bootstrap"] == "cp3"


def test_equal_positions_without_safe_mark_take_inventory_order():
    states = {"cp1": stopped(6), "cp2": stopped(7), "cp3": stopped(7)}
    assert galera.recovery_plan(states, NODES)["bootstrap"] == "cp2"


def test_recovery_refuses_when_a_position_is_unknown():
    states = {"cp1": stopped(10), "cp2": stopped(-1), "cp3": stopped(12)}
    plan = galera.recovery_plan(states, NODES)
    assert plan["action"] == "refuse"
    assert "cp2 (unknown)" in plan["reason"]
    assert "galera_server_recover_bootstrap_host" in plan["reason"]


def test_recovery_refuses_when_a_node_is_unreachable():
    states = {"cp1": stopped(10), "cp2": stopped(11)}
    plan = galera.recovery_plan(states, NODES)
    assert plan["action"] == "refuse"
    assert "cp3 (unreachable)" in plan["reason"]


def test_recovery_refuses_different_histories():
    states = {"cp1": stopped(10), "cp2": stopped(11, uuid=OTHER_UUID), "cp3": stopped(9)}
    plan = galera.recovery_plan(states, NODES)
    assert plan["action"] == "refuse"
    assert "different cluster histories" in plan["reason"]


def test_operator_named_node_overrides_ambiguity():
    states = {"cp1": stopped(10), "cp2": stopped(-1), "cp3": stopped(12)}
    plan = galera.recovery_plan(states, NODES, named="cp1")
    assert plan["action"] == "bootstrap"
    assert plan["bootstrap"] == "cp1"
    assert plan["start"] == ["cp2", "cp3"]


def test_operator_named_node_refuses_while_a_node_is_unreported():
    # The review's case: db3 left out (--limit) or unreachable may run a primary component.
    states = {"cp1": stopped(10), "cp2": stopped(9)}
    plan = galera.recovery_plan(states, NODES, named="cp1")
    assert plan["action"] == "refuse"
    assert plan["bootstrap"] is None
    assert "cp3 did not report" in plan["reason"]
    assert '"galera_server_recover_ignore_unreachable": ["cp3"]' in plan["reason"]
    assert plan["positions"]["cp3"] == "unreachable"


def test_operator_can_say_an_unreported_node_is_down():
    states = {"cp1": stopped(10), "cp2": stopped(9)}
    plan = galera.recovery_plan(states, NODES, named="cp1", ignored=["cp3"])
    assert plan["action"] == "bootstrap"
    assert plan["bootstrap"] == "cp1"
    assert plan["start"] == ["cp2"]
    # Ignoring one node does not cover another.
    plan = galera.recovery_plan({"cp1": stopped(10)}, NODES, named="cp1", ignored=["cp3"])
    assert plan["action"] == "refuse" and "cp2 did not report" in plan["reason"]


def test_ignored_hosts_must_be_galera_hosts():
    states = {"cp1": stopped(10), "cp2": stopped(9)}
    plan = galera.recovery_plan(states, NODES, named="cp1", ignored=["db3"])
    assert plan["action"] == "refuse"
    assert "db3" in plan["reason"] and "not a galera host" in plan["reason"]


def test_filter_passes_the_ignored_hosts():
    states = {"cp1": stopped(10), "cp2": stopped(9)}
    assert galera.galera_recovery_plan(states, NODES, "cp1", ["cp3"])["action"] == "bootstrap"
    assert galera.galera_recovery_plan(states, NODES, "cp1", None)["action"] == "refuse"


def test_operator_named_node_must_be_a_galera_host():
    plan = galera.recovery_plan(dict.fromkeys(NODES, stopped(1)), NODES, named="db9")
    assert plan["action"] == "refuse"
    assert "'db9'" in plan["reason"]


@pytest.mark.parametrize("named", [None, "cp3"])
def test_recovery_never_bootstraps_beside_a_primary(named):
    states = {"cp1": running(), "cp2": stopped(5), "cp3": stopped(9)}
    plan = galera.recovery_plan(states, NODES, named=named)
    if named is None:
        assert plan["action"] == "join"
        assert plan["start"] == ["cp2", "cp3"]
    else:
        assert plan["action"] == "refuse"
        assert "split the cluster" in plan["reason"]
    assert plan["bootstrap"] is None


def test_running_non_primary_node_reports_its_last_commit():
    states = {
        "cp1": running(cluster_status="non-Primary", committed=30),
        "cp2": stopped(29),
        "cp3": stopped(28),
    }
    plan = galera.recovery_plan(states, NODES)
    assert plan["bootstrap"] == "cp1"
    assert plan["positions"]["cp1"] == f"{UUID}:30"

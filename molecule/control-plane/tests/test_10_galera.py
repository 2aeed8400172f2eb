"""Galera: a synced cluster of three, reached through the VIP with one writer at a time."""

import uuid

import pytest
from cp import (
    DRILL_DB,
    GALERA,
    HAPROXY,
    VIP,
    address,
    check,
    ensure_drill_database,
    galera_backends,
    rows_on,
    run,
    sql,
    vip_holder,
    write_rows,
    wsrep,
)

from tests.infra import inventory

# MariaDB's NETWORK/NETMASK host form of the lab's management network (172.29.236.0/22).
MANAGEMENT_PATTERN = "172.29.236.0/255.255.252.0"


@pytest.mark.parametrize("node", GALERA)
def test_node_is_synced_in_a_cluster_of_three(node):
    status = wsrep(node)
    assert status["wsrep_cluster_size"] == str(len(GALERA))
    assert status["wsrep_local_state_comment"] == "Synced"
    assert status["wsrep_cluster_status"] == "Primary"


@pytest.mark.parametrize("node", GALERA)
def test_listens_on_the_management_address_only(node):
    listening = check(node, "ss -Htlnp | grep mariadbd | awk '{print $4}'").split()
    assert sorted(listening) == sorted(f"{address(node)}:{port}" for port in (3306, 4567))


@pytest.mark.parametrize("node", GALERA)
def test_root_only_through_the_unix_socket(node):
    assert sql(node, "SELECT CURRENT_USER()") == [["root@localhost"]]
    assert sql(node, "SELECT host FROM mysql.user WHERE user = 'root'") == [["localhost"]]
    # No password works over TCP, not even an empty one.
    over_tcp = run(node, f"mariadb -h {address(node)} -u root --password= -e 'SELECT 1'")
    assert over_tcp.rc != 0


@pytest.mark.parametrize("node", GALERA)
def test_health_check_says_synced(node):
    answer = check(node, f"curl -s -i http://{address(node)}:9200/")
    assert answer.startswith("HTTP/1.1 200 OK"), answer


@pytest.mark.parametrize("node", GALERA)
def test_sst_by_mariabackup(node):
    assert sql(node, "SELECT @@wsrep_sst_method") == [["mariabackup"]]


def test_service_databases_and_users_exist():
    # keystone's, made by the keystone role, and the probes' (converge.yml, tasks/probes.yml):
    # each service asks galera_server's `database` entry point for its own.
    names = {r[0] for r in sql(GALERA[0], "SHOW DATABASES")}
    for db in ("keystone", "probe_a", "probe_a_cell0", "probe_b"):
        assert db in names
    grants = sql(GALERA[0], f"SHOW GRANTS FOR 'probe_a'@'{MANAGEMENT_PATTERN}'")
    assert any("`probe_a_cell0`.*" in g[0] for g in grants)
    assert any("`probe_a`.*" in g[0] for g in grants)
    assert not any("`probe_b`.*" in g[0] for g in grants)


def test_service_users_are_limited_to_the_management_network():
    users = ("keystone", "probe_a", "probe_b")
    listed = ", ".join(f"'{u}'" for u in users)
    rows = sql(GALERA[0], f"SELECT user, host FROM mysql.user WHERE user IN ({listed})")
    assert sorted(rows) == sorted([u, MANAGEMENT_PATTERN] for u in users)
    # The real client, through the VIP as keystone does: the server matched the network's user.
    password = inventory.hostvars(GALERA[0])["keystone_galera_password"]
    out = check(
        GALERA[-1],
        f"mariadb -N -B -h {VIP} -u keystone -p'{password}' -e 'SELECT CURRENT_USER()'",
    )
    assert out.strip() == f"keystone@{MANAGEMENT_PATTERN}"


def test_a_row_written_through_the_vip_is_read_on_every_node():
    ensure_drill_database()
    run_id = f"vip-{uuid.uuid4().hex[:8]}"
    acked = write_rows(GALERA[-1], run_id, 1, 5)
    assert acked == {1, 2, 3, 4, 5}
    for node in GALERA:
        assert rows_on(node, run_id) == acked, node


def test_exactly_one_active_galera_backend_on_every_load_balancer():
    for lb in HAPROXY:
        rows = galera_backends(lb)
        assert {r["svname"] for r in rows} == set(GALERA)
        active = [r["svname"] for r in rows if r["bck"] == "0"]
        assert active == [GALERA[0]], f"{lb}: active galera backends {active}"
        assert all(r["status"] == "UP" for r in rows), rows


def test_writes_through_the_vip_land_on_the_active_backend_only():
    holder = vip_holder()
    nodes = check(
        holder,
        "for i in 1 2 3 4 5 6; do mariadb -N -B -h "
        f"{VIP} -u strata_drill -pdrill-secret {DRILL_DB} -e 'SELECT @@hostname'; done",
    ).split()
    assert set(nodes) == {GALERA[0]}

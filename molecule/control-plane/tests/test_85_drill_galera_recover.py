"""Drill 2: every galera node stops (one cleanly, two crash), then playbooks/galera-recover.yml
brings the cluster back from the most advanced node with every acknowledged row."""

import uuid

import pytest
from cp import (
    GALERA,
    ansible_playbook,
    check,
    ensure_drill_database,
    galera_healthy,
    recap,
    rows_on,
    run,
    wait_for,
    write_rows,
)

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill


def stop_crashed(node):
    """SIGKILL mariadbd and keep systemd from restarting it (a host that lost power)."""
    check(node, "systemctl kill --signal=SIGKILL mariadb.service; systemctl stop mariadb.service")


def test_full_outage_recovered_with_every_acknowledged_row():
    assert galera_healthy(), "the cluster must be healthy before the drill"
    ensure_drill_database()
    run_id = f"outage-{uuid.uuid4().hex[:8]}"
    first, second, last = GALERA
    acked = write_rows(first, run_id, 1, 50)

    # The last node leaves cleanly; the others go on writing without it.
    check(last, "systemctl stop mariadb.service")
    acked |= write_rows(first, run_id, 51, 50)
    assert len(acked) == 100

    # Then the two remaining nodes crash: their grastate.dat says seqno -1, so only
    # `--wsrep-recover` knows their position, which is ahead of the last node's.
    stop_crashed(first)
    stop_crashed(second)
    for node in GALERA:
        assert run(node, "systemctl is-active mariadb").stdout.strip() != "active"
    assert "seqno:   -1" in check(first, "cat /var/lib/mysql/grastate.dat")

    # A node that cannot report (here: left out of the run) could hold newer data: refused,
    # and nothing started.
    limited = ansible_playbook("playbooks/galera-recover.yml", "--limit", f"{first},{second}")
    assert limited.returncode != 0
    assert "cannot tell which node is most advanced" in limited.stdout, limited.stdout[-3000:]
    assert f"{last} (unreachable)" in limited.stdout
    for node in GALERA:
        assert run(node, "systemctl is-active mariadb").stdout.strip() != "active"

    result = ansible_playbook("playbooks/galera-recover.yml")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    chosen = [n for n in GALERA if f"{n} is the most advanced node" in result.stdout]
    assert chosen in ([first], [second]), result.stdout[-4000:]

    wait_for(galera_healthy, 300, "all three nodes Synced after recovery")
    for node in GALERA:
        missing = acked - rows_on(node, run_id)
        assert not missing, f"{node} lacks acknowledged rows {sorted(missing)[:20]}"


def test_recover_on_a_healthy_cluster_changes_nothing():
    result = ansible_playbook("playbooks/galera-recover.yml")
    assert result.returncode == 0, result.stdout[-4000:]
    assert all(c["changed"] == 0 for c in recap(result.stdout).values()), result.stdout[-4000:]

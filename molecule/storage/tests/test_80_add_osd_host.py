"""A 4th OSD host added to the inventory (setup-ceph.yml; the host was prepared by the
scenario's converge): check mode on the fresh host does not fail; the
converge creates only its 2 new OSDs, restarts no other daemon, the data rebalances and stays
readable, and a rerun changes nothing. Runs last: it changes the cluster."""

import pytest
from st import (
    CEPH4,
    CEPH4_INVENTORY,
    COUNT,
    OSD_HOSTS,
    ceph_json,
    ceph_playbook,
    check,
    daemon_start_times,
    health,
    objects,
    recap,
    wait_for,
)

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

EXISTING = sorted(set(OSD_HOSTS) | {"st-ceph1", "st-ceph2", "st-ceph3"})


@pytest.fixture(scope="module")
def added():
    before_osds = {o["osd"] for o in ceph_json("osd", "dump")["osds"]}
    before_times = daemon_start_times(EXISTING)
    rc, out, err = ceph_playbook("-i", str(CEPH4_INVENTORY), "--check")
    assert rc == 0, out[-3000:] + err[-3000:]
    rc, out, err = ceph_playbook("-i", str(CEPH4_INVENTORY))
    assert rc == 0, out[-3000:] + err[-3000:]
    return before_osds, before_times, recap(out)


def test_only_the_new_host_changed(added):
    _, _, summary = added
    changed = {name: c["changed"] for name, c in summary.items() if c["changed"]}
    assert set(changed) == {CEPH4}, changed


def test_two_new_osds_on_the_new_host(added):
    before_osds, _, _ = added
    tree = ceph_json("osd", "tree")
    hosts = {n["name"]: set(n["children"]) for n in tree["nodes"] if n["type"] == "host"}
    assert len(hosts[CEPH4]) == 2
    assert {o["osd"] for o in ceph_json("osd", "dump")["osds"]} - before_osds == hosts[CEPH4]


def test_no_other_daemon_restarted(added):
    _, before_times, _ = added
    assert daemon_start_times(EXISTING) == before_times


def test_data_rebalances_and_stays_readable(added):
    wait_for(lambda: health() == "HEALTH_OK", 600, "HEALTH_OK after the rebalance", 10)
    pgs = ceph_json("pg", "ls-by-osd", str(max(ceph_json("osd", "ls"))))
    assert pgs["pg_stats"], "the new host's OSD holds no PG"
    got = objects("get")
    assert got["errors"] == {} and len(got["done"]) == COUNT
    assert check(CEPH4, "systemctl is-active ceph-osd.target").strip() == "active"


def test_second_run_with_the_new_host_changes_nothing(added):
    rc, out, err = ceph_playbook("-i", str(CEPH4_INVENTORY), "--check", "--diff")
    summary = recap(out)
    assert rc == 0 and summary, out[-3000:] + err[-3000:]
    changed = {n: c for n, c in summary.items() if c["changed"] or c["failed"]}
    assert not changed, f"{changed}\n{out[-4000:]}"

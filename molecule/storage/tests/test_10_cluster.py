"""The cluster: 3 monitors in quorum on the storage network (msgr2), a manager active and two
standby, every OSD up and in, HEALTH_OK, and each pool's replicas on 3 different hosts."""

import pytest
from st import (
    ADMIN,
    MDS_HOSTS,
    MONS,
    OSD_HOSTS,
    POOLS,
    ceph_json,
    check,
    health,
    hostvars,
    wait_for,
)


def test_health_ok():
    wait_for(lambda: health() == "HEALTH_OK", 300, "HEALTH_OK", 5)


def test_three_monitors_in_quorum_on_the_storage_network():
    status = ceph_json("quorum_status")
    assert sorted(status["quorum_names"]) == sorted(MONS)
    for mon in status["monmap"]["mons"]:
        address = hostvars(mon["name"])["storage_address"]
        kinds = {a["type"]: a["addr"] for a in mon["public_addrs"]["addrvec"]}
        assert kinds == {"v2": f"{address}:3300", "v1": f"{address}:6789"}, mon


@pytest.mark.parametrize("name", MONS)
def test_monitor_listens_on_its_storage_address_only(name):
    address = hostvars(name)["storage_address"]
    listening = check(name, "ss -Hltn '( sport = :3300 or sport = :6789 )'")
    local = sorted(line.split()[3] for line in listening.splitlines())
    assert local == [f"{address}:3300", f"{address}:6789"], listening


def test_one_manager_active_the_others_standby():
    mgr = ceph_json("mgr", "dump")
    assert mgr["available"] and mgr["active_name"] in MONS
    standbys = sorted(s["name"] for s in mgr["standbys"])
    assert standbys == sorted(set(MONS) - {mgr["active_name"]})


def test_every_osd_up_and_in_two_per_host():
    tree = ceph_json("osd", "tree")
    hosts = {n["name"]: n["children"] for n in tree["nodes"] if n["type"] == "host"}
    assert sorted(hosts) == sorted(OSD_HOSTS)
    assert all(len(children) == 2 for children in hosts.values()), hosts
    osds = ceph_json("osd", "dump")["osds"]
    assert len(osds) == 2 * len(OSD_HOSTS)
    assert all(o["up"] == 1 and o["in"] == 1 for o in osds), osds


def test_pools_have_three_replicas_on_three_hosts():
    detail = {p["pool_name"]: p for p in ceph_json("osd", "pool", "ls", "detail")}
    tree = ceph_json("osd", "tree")
    host_of = {
        child: node["name"]
        for node in tree["nodes"]
        if node["type"] == "host"
        for child in node["children"]
    }
    for pool in POOLS:
        assert detail[pool]["size"] == 3 and detail[pool]["min_size"] == 2, detail[pool]
        assert "rbd" in detail[pool]["application_metadata"], detail[pool]
        for sample in ("sample-a", "sample-b", "sample-c"):
            mapping = ceph_json("osd", "map", pool, sample)
            hosts = {host_of[osd] for osd in mapping["acting"]}
            assert len(mapping["acting"]) == 3 and len(hosts) == 3, (pool, sample, mapping)


def test_filesystem_one_mds_active_one_standby():
    fs = ceph_json("fs", "status")
    states = sorted(m["state"] for m in fs["mdsmap"])
    assert states == ["active", "standby"], fs
    assert sorted(m["name"] for m in fs["mdsmap"]) == sorted(MDS_HOSTS)


def test_admin_keyring_only_on_monitors():
    for name in MONS:
        assert check(name, "stat -c '%a %U:%G' /etc/ceph/ceph.client.admin.keyring").split() == [
            "600",
            "root:root",
        ]
    assert ADMIN in MONS

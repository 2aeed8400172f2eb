"""The ceph roles' filters: ceph.conf, per-daemon config digests, keyrings by group, and the
OSD device plan (keep, create, refuse)."""

import importlib.util
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "roles/ceph_client/filter_plugins/strata_ceph.py"
spec = importlib.util.spec_from_file_location("strata_ceph_filters", PLUGIN)
f = importlib.util.module_from_spec(spec)
spec.loader.exec_module(f)

FSID = "ef9e7f9c-8837-448f-8684-a27c37a533d9"
OTHER = "11111111-2222-3333-4444-555555555555"
SETTINGS = {
    "fsid": FSID,
    "mons": [["m1", "10.0.1.11"], ["m2", "10.0.1.12"], ["m3", "10.0.1.13"]],
    "public_network": "10.0.1.0/24",
    "cluster_network": "",
    "pool_size": 3,
    "pool_min_size": 2,
    "failure_domain": "host",
    "mon_data_avail_warn": 30,
    "mon_data_avail_crit": 5,
    "osd_memory_target": 4294967296,
    "crush_location": "",
}


def test_conf_has_msgr2_monitors_on_the_public_network():
    conf = f.ceph_conf(SETTINGS)
    g = conf["global"]
    assert g["mon host"] == (
        "[v2:10.0.1.11:3300,v1:10.0.1.11:6789],[v2:10.0.1.12:3300,v1:10.0.1.12:6789],"
        "[v2:10.0.1.13:3300,v1:10.0.1.13:6789]"
    )
    assert g["mon initial members"] == "m1, m2, m3"
    assert g["public network"] == "10.0.1.0/24" and "cluster network" not in g
    assert g["osd crush chooseleaf type"] == 1 and "mon allow pool size one" not in g
    assert conf["osd"] == {"osd memory target": 4294967296}


def test_conf_one_host_lab_and_cluster_network_and_rack():
    conf = f.ceph_conf(
        {
            **SETTINGS,
            "pool_size": 1,
            "pool_min_size": 1,
            "failure_domain": "osd",
            "cluster_network": "10.0.2.0/24",
            "crush_location": "root=default rack=r1 host=n1",
        }
    )
    assert conf["global"]["mon allow pool size one"] == "true"
    assert conf["global"]["osd crush chooseleaf type"] == 0
    assert conf["global"]["cluster network"] == "10.0.2.0/24"
    assert conf["osd"]["crush location"] == "root=default rack=r1 host=n1"


def test_overrides_replace_an_option_whatever_its_spelling():
    conf = f.ceph_conf(SETTINGS, {"osd": {"osd_memory_target": 1000}, "mds": {"x": 1}})
    assert conf["osd"] == {"osd_memory_target": 1000}
    assert conf["mds"] == {"x": 1}


def test_digest_changes_only_for_the_daemon_that_reads_the_change():
    base = f.ceph_conf(SETTINGS)
    osd_change = f.ceph_conf(SETTINGS, {"osd": {"osd memory target": 1000}})
    mon_change = f.ceph_conf(SETTINGS, {"mon": {"mon allow pool delete": "true"}})
    assert f.ceph_conf_digest(osd_change, "osd") != f.ceph_conf_digest(base, "osd")
    assert f.ceph_conf_digest(osd_change, "mon") == f.ceph_conf_digest(base, "mon")
    assert f.ceph_conf_digest(mon_change, "osd") == f.ceph_conf_digest(base, "osd")
    assert f.ceph_conf_digest(mon_change, "mon") != f.ceph_conf_digest(base, "mon")
    global_change = f.ceph_conf({**SETTINGS, "pool_size": 2})
    for daemon in ("mon", "mgr", "osd", "mds"):
        assert f.ceph_conf_digest(global_change, daemon) != f.ceph_conf_digest(base, daemon)


def test_a_new_monitor_in_the_list_restarts_nothing():
    base = f.ceph_conf(SETTINGS)
    more = f.ceph_conf({**SETTINGS, "mons": [*SETTINGS["mons"], ["m4", "10.0.1.14"]]})
    for daemon in ("mon", "mgr", "osd", "mds"):
        assert f.ceph_conf_digest(more, daemon) == f.ceph_conf_digest(base, daemon)


USERS = {
    "client.admin": {"secret_var": "a", "group": "root", "mode": "0600"},
    "client.glance": {"secret_var": "g", "group": "glance"},
    "client.cinder": {"secret_var": "c", "group": "cinder"},
    "client.cinder-backup": {"secret_var": "b", "group": "cinder"},
}
GROUPS = {
    "ceph_mon": ["client.admin"],
    "glance_api": ["client.glance"],
    "cinder_backup": ["client.cinder", "client.cinder-backup"],
    "nova_compute": ["client.cinder"],
}


def test_a_host_holds_only_the_keyrings_of_its_groups():
    glance = f.ceph_host_keyrings(["glance_api", "ceph_osd"], GROUPS, USERS)
    assert [k["name"] for k in glance] == ["client.glance"]
    assert glance[0] == {
        "name": "client.glance",
        "secret_var": "g",
        "path": "/etc/ceph/ceph.client.glance.keyring",
        "owner": "root",
        "group": "glance",
        "mode": "0640",
    }
    both = f.ceph_host_keyrings(["nova_compute", "cinder_backup"], GROUPS, USERS)
    assert [k["name"] for k in both] == ["client.cinder", "client.cinder-backup"]
    assert f.ceph_host_keyrings(["swift_storage"], GROUPS, USERS) == []


def test_an_unknown_user_in_the_group_map_is_named():
    with pytest.raises(ValueError, match=r"names client.nova, which ceph_client_users"):
        f.ceph_host_keyrings(["x"], {"x": ["client.nova"]}, USERS)


def probe(blkid="", lsblk="", exists=True, block=True):
    return {"exists": exists, "block": block, "blkid": blkid, "lsblk": lsblk}


RAW_LIST = {
    "uuid-a": {"osd_id": 3, "device": "/dev/loop100", "ceph_fsid": FSID, "type": "bluestore"},
    "uuid-b": {"osd_id": 7, "device": "/dev/loop101", "ceph_fsid": OTHER, "type": "bluestore"},
}
LVM_LIST = {
    "5": [
        {"type": "block", "devices": ["/dev/sdb"], "tags": {"ceph.cluster_fsid": FSID}},
        {"type": "db", "devices": ["/dev/nvme0n1"], "tags": {"ceph.cluster_fsid": FSID}},
    ]
}


def plan(devices, probes, raw=None, lvm=None):
    devices = f.ceph_osd_devices(devices, "raw")
    return f.ceph_osd_plan(devices, probes, raw or {}, lvm or {}, FSID, "h1")


def test_devices_are_normalized_with_the_hosts_method():
    assert f.ceph_osd_devices(["/dev/sdb", {"path": "/dev/sdc", "method": "raw"}], "lvm") == [
        {"path": "/dev/sdb", "method": "lvm", "wipe": False, "db": "", "wal": ""},
        {"path": "/dev/sdc", "method": "raw", "wipe": False, "db": "", "wal": ""},
    ]


def test_an_osd_of_this_cluster_is_kept():
    result = plan(["/dev/loop100"], {"/dev/loop100": probe("TYPE=ceph_bluestore")}, RAW_LIST)
    assert result[0]["action"] == "keep" and result[0]["osd_id"] == 3


def test_an_lvm_osd_of_this_cluster_is_kept():
    devices = [{"path": "/dev/sdb", "method": "lvm"}]
    result = plan(devices, {"/dev/sdb": probe("TYPE=LVM2_member")}, lvm=LVM_LIST)
    assert result[0]["action"] == "keep" and result[0]["osd_id"] == 5
    assert f.ceph_osd_ids(f.ceph_osd_devices(devices), {}, LVM_LIST, FSID) == [5]


def test_an_empty_device_gets_an_osd():
    result = plan([{"path": "/dev/loop102", "db": "/dev/nvme0n1"}], {"/dev/loop102": probe()})
    assert result[0]["action"] == "create" and not result[0]["wipe"]
    assert result[0]["db"] == "/dev/nvme0n1"


@pytest.mark.parametrize(
    ("device", "found", "held"),
    [
        (
            "/dev/loop101",
            probe("TYPE=ceph_bluestore"),
            f"an OSD (osd.7) of another cluster (fsid {OTHER})",
        ),
        ("/dev/sdd", probe("UUID=x\nTYPE=xfs\n"), "data (xfs)"),
        ("/dev/sde", probe("PTTYPE=gpt\n"), "data (a gpt partition table)"),
        ("/dev/sdf", probe("", "sdf disk\nsdf1 part\nsdf2 part\n"), "partitions (sdf1, sdf2)"),
    ],
)
def test_a_device_with_data_is_refused_unless_marked_for_wiping(device, found, held):
    refused = plan([device], {device: found}, RAW_LIST)[0]
    assert refused["action"] == "refuse"
    assert refused["problem"] == (
        f"h1: ceph_osd_devices: {device} holds {held}; expected an empty device, or wipe: true "
        "on the device to erase it"
    )
    wiped = plan([{"path": device, "wipe": True}], {device: found}, RAW_LIST)[0]
    assert wiped["action"] == "create" and wiped["wipe"] and not wiped["problem"]


def test_a_missing_device_or_not_a_block_device_is_refused():
    result = plan(
        ["/dev/nope", "/tmp/file", {"path": "/dev/sdg", "method": "zfs"}],
        {"/dev/nope": probe(exists=False), "/tmp/file": probe(block=False), "/dev/sdg": probe()},
    )
    assert [r["problem"] for r in result] == [
        "h1: ceph_osd_devices: /dev/nope does not exist",
        "h1: ceph_osd_devices: /tmp/file is not a block device",
        "h1: ceph_osd_devices: /dev/sdg method is 'zfs'; expected raw or lvm",
    ]
    # A device the host does not report at all is missing too (never created blindly).
    assert plan(["/dev/sdz"], {})[0]["action"] == "refuse"


def test_osd_ids_only_of_this_cluster_and_declared_devices():
    devices = f.ceph_osd_devices(["/dev/loop100", "/dev/loop101"], "raw")
    assert f.ceph_osd_ids(devices, RAW_LIST, {}, FSID) == [3]

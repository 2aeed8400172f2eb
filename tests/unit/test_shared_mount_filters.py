"""Role shared_mount's filters: unit names, a host's mounts, bindings, pinned-id problems."""

import importlib.util
import subprocess
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "roles/shared_mount/filter_plugins/strata_mounts.py"
spec = importlib.util.spec_from_file_location("strata_mounts_filters", PLUGIN)
f = importlib.util.module_from_spec(spec)
spec.loader.exec_module(f)

SERVICES = {"glance_api": ["glance-api"], "nova_compute": ["nova-compute"]}
GLANCE_FUSE = {
    "what": "none",
    "where": "/var/lib/glance/images/",
    "type": "fuse.ceph",
    "options": "ceph.id=glance,ceph.client_mountpoint=/glance",
}
NOVA_NFS = {
    "what": "nfs1:/srv/nova",
    "where": "/var/lib/nova/instances",
    "type": "nfs4",
    "options": ["vers=4.2", "hard"],
}


@pytest.mark.parametrize(
    "path",
    [
        "/var/lib/glance/images",
        "/var/lib/glance/images/",
        "/srv/a-b/c d",
        "/mnt/.hidden",
        "/.x/.y",
        "/",
    ],
)
def test_unit_name_is_what_systemd_escape_says(path):
    expected = subprocess.run(
        ["systemd-escape", "--path", "--suffix=mount", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert f.shared_mount_unit(path) == expected


def test_unit_name_of_the_glance_store():
    assert f.shared_mount_unit("/var/lib/glance/images") == "var-lib-glance-images.mount"


def test_a_host_gets_the_mounts_of_its_groups_only():
    config = {"glance_api": [GLANCE_FUSE], "nova_compute": [NOVA_NFS]}
    mounts = f.shared_mount_host_mounts(config, ["glance_api", "ceph_osd"], SERVICES)
    assert mounts == [
        {
            "what": "none",
            "where": "/var/lib/glance/images",
            "type": "fuse.ceph",
            "options": "ceph.id=glance,ceph.client_mountpoint=/glance,_netdev",
            "unit": "var-lib-glance-images.mount",
            "fuse": True,
            "network": False,
            "packages": ["ceph-fuse"],
            "owner": "",
            "group": "",
            "mode": "",
            "services": ["glance-api"],
        }
    ]


def test_nfs_options_from_a_list_and_netdev_once():
    config = {"nova_compute": [dict(NOVA_NFS, options=["vers=4.2", "_netdev"])]}
    (mount,) = f.shared_mount_host_mounts(config, ["nova_compute"], SERVICES)
    assert mount["options"] == "vers=4.2,_netdev"
    assert mount["network"] is True and mount["fuse"] is False
    assert mount["packages"] == ["nfs-common"]


def test_no_config_no_mounts():
    assert f.shared_mount_host_mounts({}, ["glance_api"], SERVICES) == []
    assert f.shared_mount_host_mounts(None, ["glance_api"], SERVICES) == []


def test_one_mount_point_of_two_groups_binds_both_services():
    config = {"glance_api": [GLANCE_FUSE], "nova_compute": [GLANCE_FUSE]}
    (mount,) = f.shared_mount_host_mounts(config, ["glance_api", "nova_compute"], SERVICES)
    assert mount["services"] == ["glance-api", "nova-compute"]


def test_one_mount_point_declared_differently_is_refused():
    config = {"glance_api": [GLANCE_FUSE], "nova_compute": [dict(GLANCE_FUSE, what="x:/y")]}
    with pytest.raises(ValueError, match="declared differently"):
        f.shared_mount_host_mounts(config, ["glance_api", "nova_compute"], SERVICES)


def test_bindings_group_mounts_by_service():
    config = {"glance_api": [GLANCE_FUSE, NOVA_NFS]}
    mounts = f.shared_mount_host_mounts(config, ["glance_api"], SERVICES)
    (binding,) = f.shared_mount_bindings(mounts)
    assert binding["service"] == "glance-api"
    assert [m["unit"] for m in binding["mounts"]] == [
        "var-lib-glance-images.mount",
        "var-lib-nova-instances.mount",
    ]


USERS = [{"name": "glance", "uid": 64062, "group": "glance", "gid": 64062}]


def test_matching_or_absent_ids_are_fine():
    assert f.shared_mount_id_problems(USERS, {}, {}) == []
    passwd = {"glance": ["x", "64062", "64062", "", "/var/lib/glance", "/bin/sh"]}
    group = {"glance": ["x", "64062", ""]}
    assert f.shared_mount_id_problems(USERS, passwd, group) == []


def test_a_user_with_another_uid_is_refused():
    passwd = {"glance": ["x", "998", "998", "", "/var/lib/glance", "/bin/sh"]}
    group = {"glance": ["x", "64062", ""]}
    (problem,) = f.shared_mount_id_problems(USERS, passwd, group)
    assert problem.startswith("user glance has uid 998 here, expected 64062")


def test_a_group_with_another_gid_and_a_taken_uid_are_refused():
    passwd = {"someone": ["x", "64062", "100", "", "/", "/bin/sh"]}
    group = {"glance": ["x", "997", ""]}
    problems = f.shared_mount_id_problems(USERS, passwd, group)
    assert problems[0].startswith("group glance has gid 997 here, expected 64062")
    assert problems[1] == "uid 64062 (for user glance) is already user someone here"


def test_cephfs_shares_of_the_ceph_fuse_mounts():
    nfs = dict(NOVA_NFS)
    config = {
        "glance_api": [GLANCE_FUSE, nfs],
        "nova_compute": [
            dict(GLANCE_FUSE, where="/x", options="ceph.id=glance,ceph.client_mountpoint=/glance/"),
            dict(
                GLANCE_FUSE,
                where="/y",
                options="ceph.id=nova,ceph.client_mountpoint=/nova,ceph.client_fs=other",
            ),
            dict(GLANCE_FUSE, where="/z", options="ceph.id=admin"),
        ],
    }
    assert f.shared_mount_cephfs_shares(config) == [
        {"user": "glance", "path": "/glance", "fs": "cephfs"},
        {"user": "nova", "path": "/nova", "fs": "other"},
    ]

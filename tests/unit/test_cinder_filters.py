"""Role cinder's filters: the role's own backend check (before any host changes), cinder.conf
sections, NFS shares files, LVM backends, and the volume type plan."""

import importlib.util
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "roles/cinder/filter_plugins/strata_cinder.py"
spec = importlib.util.spec_from_file_location("strata_cinder_filters", PLUGIN)
f = importlib.util.module_from_spec(spec)
spec.loader.exec_module(f)

LVM = "cinder.volume.drivers.lvm.LVMVolumeDriver"
RBD = "cinder.volume.drivers.rbd.RBDDriver"
NFS = "cinder.volume.drivers.nfs.NfsDriver"
NS4 = "cinder.volume.drivers.nexenta.iscsi.NexentaISCSIDriver"

RBD_BACKEND = {"volume_driver": RBD, "rbd_pool": "volumes", "rbd_user": "cinder"}
STORE1 = {
    "lvm": {
        "volume_driver": LVM,
        "volume_group": "cinder-volumes",
        "devices": ["/dev/loop108"],
        "lvm_type": "default",
    },
    "nfs": {"volume_driver": NFS, "shares": ["10.0.1.60:/srv/cinder", {"ip": "h", "share": "/x"}]},
    "nexenta": {
        "volume_driver": NS4,
        "nexenta_host": "10.0.1.50",
        "nexenta_rest_port": 8457,
        "nexenta_volume": "cinder",
        "nexenta_user": "strata",
        # As Ansible passes it: the secret already substituted.
        "nexenta_password": "s3cret",
        "nexenta_blocksize": 8192,
        "nexenta_sparse": True,
    },
}


def test_a_valid_inventory_has_no_problems_even_with_its_secret_substituted():
    assert f.cinder_backend_problems({"ceph3": {"rbd": RBD_BACKEND}, "store1": STORE1}) == []


def test_hosts_without_backends_are_fine():
    assert f.cinder_backend_problems({"infra1": {}, "store1": None}) == []


def test_an_unknown_driver_is_named_with_the_near_miss():
    problems = f.cinder_backend_problems(
        {"store1": {"lvm": {"volume_driver": LVM.replace("Volume", "Volum"), "volume_group": "v"}}}
    )
    assert len(problems) == 1
    assert "store1: cinder_backends.lvm.volume_driver" in problems[0]
    assert "did you mean cinder.volume.drivers.lvm.LVMVolumeDriver" in problems[0]


def test_a_missing_required_option_is_named():
    backend = dict(STORE1["nexenta"])
    del backend["nexenta_host"]
    problems = f.cinder_backend_problems({"store1": {"nexenta": backend}})
    assert problems == [
        f"inventory: store1: cinder_backends.nexenta.nexenta_host: missing; {NS4} needs "
        "nexenta_host"
    ]


def test_no_volume_driver_and_a_bad_share_are_refused():
    problems = f.cinder_backend_problems(
        {"store1": {"a": {"rbd_pool": "x"}, "nfs": {"volume_driver": NFS, "shares": ["nohost"]}}}
    )
    assert any("cinder_backends.a.volume_driver: missing" in p for p in problems)
    assert any("cinder_backends.nfs.shares[0]: 'nohost' is not an NFS share" in p for p in problems)


def test_one_backend_name_with_two_drivers_across_hosts_is_refused():
    problems = f.cinder_backend_problems(
        {
            "ceph3": {"fast": RBD_BACKEND},
            "store1": {"fast": {"volume_driver": LVM, "volume_group": "v"}},
        }
    )
    assert len(problems) == 1 and "'fast' is also the volume_backend_name" in problems[0]


def test_sections_put_the_storage_address_in_each_iscsi_backend():
    sections = f.cinder_backend_sections(STORE1, "10.0.1.21")
    assert list(sections) == ["lvm", "nexenta", "nfs"]
    assert sections["lvm"]["target_ip_address"] == "10.0.1.21"
    assert sections["lvm"]["target_helper"] == "tgtadm"
    assert "devices" not in sections["lvm"]
    assert sections["nexenta"]["nexenta_sparse"] == "true"
    assert "target_ip_address" not in sections["nexenta"]
    assert sections["nfs"]["nfs_shares_config"] == "/etc/cinder/nfs_shares_nfs"
    assert "shares" not in sections["nfs"]


def test_nfs_shares_files():
    assert f.cinder_nfs_shares(STORE1) == [
        {
            "backend": "nfs",
            "path": "/etc/cinder/nfs_shares_nfs",
            "lines": ["10.0.1.60:/srv/cinder", "h:/x"],
        }
    ]


def test_lvm_backends():
    assert f.cinder_lvm_backends(STORE1) == [
        {
            "backend": "lvm",
            "volume_group": "cinder-volumes",
            "devices": ["/dev/loop108"],
            "target_helper": "tgtadm",
        }
    ]
    assert f.cinder_lvm_backends({"rbd": RBD_BACKEND}) == []


def test_one_volume_type_per_backend_name_over_all_hosts():
    types = f.cinder_volume_types(
        {"ceph3": {"rbd": RBD_BACKEND}, "ceph4": {"rbd": RBD_BACKEND}, "store1": STORE1}
    )
    assert types == {"lvm": "lvm", "nexenta": "nexenta", "nfs": "nfs", "rbd": "rbd"}
    named = f.cinder_volume_types({"a": {"fast": {**RBD_BACKEND, "volume_backend_name": "ceph"}}})
    assert named == {"fast": "ceph"}


def test_the_type_plan_creates_missing_types_and_corrects_wrong_backends():
    listing = [
        {"ID": "1", "Name": "__DEFAULT__", "Properties": {}},
        {"ID": "2", "Name": "rbd", "Properties": {"volume_backend_name": "rbd"}},
        # Older clients print the properties as text.
        {"ID": "3", "Name": "lvm", "Properties": "volume_backend_name='LVM_iSCSI'"},
    ]
    plan = f.cinder_volume_type_plan({"rbd": "rbd", "lvm": "lvm", "nfs": "nfs"}, listing)
    assert plan == {"create": {"nfs": "nfs"}, "correct": {"lvm": "lvm"}}
    done = [{"Name": "rbd", "Properties": {"volume_backend_name": "rbd"}}]
    assert f.cinder_volume_type_plan({"rbd": "rbd"}, done) == {"create": {}, "correct": {}}

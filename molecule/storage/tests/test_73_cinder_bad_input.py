"""Bad cinder backends are refused before any host changes, naming the host, the key, the
value and what was expected (the same rules as `strata inventory validate`,
tests/unit/test_cinder_config.py, which also covers a backend on a host not in storage_hosts)."""

import json

import pytest

from tests.infra.playbook import run

LVM = "cinder.volume.drivers.lvm.LVMVolumeDriver"
NS4 = "cinder.volume.drivers.nexenta.iscsi.NexentaISCSIDriver"
CASES = {
    "unknown driver": (
        {"lvm": {"volume_driver": LVM.replace("Volume", "Volum"), "volume_group": "v"}},
        "cinder_backends.lvm.volume_driver: 'cinder.volume.drivers.lvm.LVMVolumDriver' is not "
        f"a driver Strata deploys; expected one of {LVM}",
    ),
    "no volume_driver": (
        {"lvm": {"volume_group": "v"}},
        "cinder_backends.lvm.volume_driver: missing",
    ),
    "required option missing": (
        {
            "nexenta": {
                "volume_driver": NS4,
                "nexenta_rest_port": 8457,
                "nexenta_volume": "cinder",
                "nexenta_user": "u",
                "nexenta_password": "p",
            }
        },
        f"cinder_backends.nexenta.nexenta_host: missing; {NS4} needs nexenta_host",
    ),
    "device that does not exist": (
        {"lvm": {"volume_driver": LVM, "volume_group": "v", "devices": ["/dev/strata-nope"]}},
        "cinder_backends.lvm.devices: /dev/strata-nope is not a block device on this host",
    ),
    "share not host:/path": (
        {"nfs": {"volume_driver": "cinder.volume.drivers.nfs.NfsDriver", "shares": ["/srv/x"]}},
        "cinder_backends.nfs.shares[0]: '/srv/x' is not an NFS share; expected host:/path",
    ),
    "one backend name, two drivers": (
        {
            "a": {"volume_driver": LVM, "volume_group": "v"},
            "b": {
                "volume_driver": "cinder.volume.drivers.rbd.RBDDriver",
                "rbd_pool": "volumes",
                "rbd_user": "cinder",
                "volume_backend_name": "a",
            },
        },
        "'a' is also the volume_backend_name of",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_backends_fail_before_any_change(case):
    backends, message = CASES[case]
    extra = {"cinder_backends": backends, "cinder_default_volume_type": sorted(backends)[0]}
    rc, output, counts = run("setup-cinder.yml", "-e", json.dumps(extra))
    assert rc != 0, output[-3000:]
    assert message in " ".join(output.split()), output[-3000:]
    assert counts and all(c["changed"] == 0 for c in counts.values()), counts

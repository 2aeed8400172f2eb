"""Bad cinder backends are refused before any host changes, naming the host, the key, the
value and what was expected. The playbook has two paths to a refusal, one case each here: the
rules on the config (the filter cinder_backend_problems, which is strata.cinder_config, the
rules of `strata inventory validate`: every other rule is unit-tested in
tests/unit/test_cinder_config.py and test_cinder_filters.py), and what only the host can tell
(a device that is not there). Each case is a run of setup-cinder.yml (about a minute on the
loaded lab), so the rules themselves are not repeated here."""

import json

import pytest

from tests.infra.playbook import run

LVM = "cinder.volume.drivers.lvm.LVMVolumeDriver"
CASES = {
    "unknown driver": (
        {"lvm": {"volume_driver": LVM.replace("Volume", "Volum"), "volume_group": "v"}},
        "cinder_backends.lvm.volume_driver: 'cinder.volume.drivers.lvm.LVMVolumDriver' is not "
        f"a driver Strata deploys; expected one of {LVM}",
    ),
    "device that does not exist": (
        {"lvm": {"volume_driver": LVM, "volume_group": "v", "devices": ["/dev/strata-nope"]}},
        "cinder_backends.lvm.devices: /dev/strata-nope is not a block device on this host",
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

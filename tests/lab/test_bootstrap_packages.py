"""The bootstrap's Debian packages are enough for the lab on a fresh machine.

A lab host is a clean Debian 12 minbase rootfs (the lab's cached base, never converged): the test
installs exactly the packages scripts/bootstrap installs, the way it installs them (no
recommends), and then checks every program and file the lab's preflight needs
(strata.lab.model.MACHINE_REQUIREMENTS). A package the bootstrap forgets (as lxc-templates was)
fails here instead of on a newcomer's machine, even though this machine already has it.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from strata import ROOT
from strata.lab import model

pytestmark = pytest.mark.lab

STRATA = str(Path(sys.executable).with_name("strata"))
HOST = "bootstrap-probe"
ADDRESS = "172.29.236.35"


def bootstrap_packages():
    text = (ROOT / "scripts" / "bootstrap").read_text()
    return re.search(r"^DEB_PACKAGES=\(([^)]*)\)", text, re.M)[1].split()


@pytest.fixture(scope="module")
def clean_host(tmp_path_factory):
    inventory = tmp_path_factory.mktemp("bootstrap-probe") / "inventory.yml"
    lab_vars = yaml.safe_load((ROOT / "molecule/_shared/group_vars/all.yml").read_text())
    hosts = {HOST: {"management_address": ADDRESS}}
    inventory.write_text(yaml.safe_dump({"all": {"vars": lab_vars, "hosts": hosts}}))
    up = subprocess.run(
        [STRATA, "lab", "up", "-i", str(inventory)], capture_output=True, text=True, check=False
    )
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        yield lab_vars
    finally:
        subprocess.run([STRATA, "lab", "down", "-i", str(inventory)], check=False)


def on_host(lab_vars, command, timeout=600):
    ssh = [
        "ssh", "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={lab_vars['ansible_ssh_common_args'].split('=', 1)[1]}",
        "-i", lab_vars["ansible_ssh_private_key_file"],
        f"root@{ADDRESS}", command,
    ]  # fmt: skip
    return subprocess.run(ssh, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_bootstrap_packages_provide_everything_the_lab_needs(clean_host):
    packages = " ".join(shlex.quote(p) for p in bootstrap_packages())
    install = on_host(
        clean_host,
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
        f"apt-get install -y -qq --no-install-recommends {packages}",
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    checks = []
    for kind, name, package in model.MACHINE_REQUIREMENTS:
        test = (
            f"command -v {name} || test -x /usr/sbin/{name}"
            if kind == "command"
            else f"test -e {shlex.quote(name)}"
        )
        checks.append(f"{{ {test}; }} >/dev/null || echo 'missing: {name} ({package})'")
    result = on_host(clean_host, "; ".join(checks))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", result.stdout

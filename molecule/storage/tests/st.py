"""Helpers of the storage scenario's tests: lab hosts, ceph commands, clients."""

import base64
import json
import os
import subprocess
from pathlib import Path

from tests.infra import inventory
from tests.infra.hosts import check, host, hostvars, run  # noqa: F401 (for the tests)
from tests.infra.playbook import (  # noqa: F401 (for the tests)
    ansible_playbook,
    assert_check_mode_clean,
    recap,
    wait_for,
)

SCENARIO = Path(__file__).resolve().parent.parent
PROJECT = SCENARIO.parent.parent
CLIENTS = Path(__file__).resolve().parent / "clients"
MONS = inventory.hosts("ceph_mon")
OSD_HOSTS = inventory.hosts("ceph_osd")
MDS_HOSTS = inventory.hosts("ceph_mds")
GLANCE = inventory.hosts("glance_api")[0]
CINDER = inventory.hosts("cinder_volume")[0]
ADMIN = MONS[0]
POOLS = ("images", "volumes", "vms", "backups")
# The 4th OSD host, added by test_80 (tests/ceph4.yml).
CEPH4 = "st-ceph4"
CEPH4_INVENTORY = Path(__file__).resolve().parent / "ceph4.yml"
# Objects written by test_20 and read back by the drills and test_80.
PREFIX = "obj"
COUNT = 50


def ceph_json(*args, on=ADMIN):
    return json.loads(check(on, "ceph --connect-timeout 20 " + " ".join(args) + " --format json"))


def health(on=ADMIN):
    return ceph_json("health", on=on)["status"]


def put_client(name, script):
    payload = base64.b64encode((CLIENTS / script).read_bytes()).decode()
    path = f"/tmp/strata-test/{script}"
    check(name, f"mkdir -p /tmp/strata-test && echo {payload} | base64 -d > {path}")
    return path


def objects(action, pool="volumes", prefix=PREFIX, count=COUNT, on=ADMIN, user="admin"):
    """put/get numbered objects with librados; returns {done: [...], errors: {...}}."""
    path = put_client(on, "rados_objects.py")
    out = check(
        on,
        f"python3 {path} {action} --pool {pool} --prefix {prefix} --count {count} --id {user}",
    )
    return json.loads(out)


def converge(*args):
    """ansible-playbook converge.yml on the scenario's inventory: (rc, stdout, stderr)."""
    proc = ansible_playbook(*args, str(SCENARIO / "converge.yml"))
    return proc.returncode, proc.stdout, proc.stderr


def ceph_playbook(*args):
    """playbooks/setup-ceph.yml alone, as docs/operations/ceph.md has operators run it for Ceph
    changes (hosts already prepared by converge.yml; glance and cinder are not Ceph's drills'
    subject, and a no-op pass over them costs minutes): (rc, stdout, stderr)."""
    proc = ansible_playbook(*args, str(PROJECT / "playbooks" / "setup-ceph.yml"))
    return proc.returncode, proc.stdout, proc.stderr


def lab_up():
    """`strata lab up` on the scenario's inventory: starts a stopped host again."""
    directory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    subprocess.run(
        [str(PROJECT / ".venv/bin/strata"), "lab", "up", "-i", directory],
        check=True,
        capture_output=True,
        text=True,
    )


def lxc(*args):
    subprocess.run(["lxc-" + args[0], *args[1:]], check=True, capture_output=True, text=True)


def daemon_start_times(names):
    """{host: {unit: ActiveEnterTimestamp}} of every running ceph daemon on those hosts."""
    times = {}
    for name in names:
        units = check(
            name, "systemctl list-units --state=running --no-legend --plain 'ceph-*@*.service'"
        ).split()
        units = [u for u in units if u.endswith(".service")]
        times[name] = {
            u: check(name, f"systemctl show -p ActiveEnterTimestamp --value {u}").strip()
            for u in units
        }
    return times

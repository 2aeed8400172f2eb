"""Helpers of the storage scenario's glance tests: hosts, the glance client, the test images."""

import base64
import json
from functools import cache
from pathlib import Path

from tests.infra import inventory
from tests.infra.hosts import check, host  # noqa: F401 (for the tests)
from tests.infra.hosts import run as run_on
from tests.infra.playbook import assert_check_mode_clean, run, wait_for  # noqa: F401

CLIENTS = Path(__file__).resolve().parent / "clients"
GLANCE = inventory.hosts("glance_api")
# The control-plane host: it has /root/openrc, and runs the client.
INFRA = inventory.hosts("keystone_all")[0]
MON = inventory.hosts("ceph_mon")[0]
VIP = inventory.hostvars(INFRA)["internal_lb_vip_address"]
PORT = 9292
STORE_DIR = "/var/lib/glance/images"
MOUNT_UNIT = "var-lib-glance-images.mount"
WORK = "/tmp/strata-test"
# The images the tests upload, kept on the client host for the later tests: {store: {id, sha256}}.
IMAGES = f"{WORK}/glance-images.json"
IMAGE_MIB = 24


def url(name=None):
    """glance's URL: the VIP, or one glance host's own management address."""
    address = VIP if name is None else inventory.hostvars(name)["management_address"]
    return f"http://{address}:{PORT}"


@cache
def client():
    payload = base64.b64encode((CLIENTS / "glance_images.py").read_bytes()).decode()
    path = f"{WORK}/glance_images.py"
    check(INFRA, f"mkdir -p {WORK} && echo {payload} | base64 -d > {path}")
    return path


def glance(*args, ok=True):
    """Run the client on the infra host: its stdout (ok) or the CommandResult (ok=False)."""
    command = f". /root/openrc && python3 {client()} " + " ".join(args)
    return check(INFRA, command).strip() if ok else run_on(INFRA, command)


def random_file(name, mib=IMAGE_MIB):
    """A file of random bytes on the infra host: (path, sha256)."""
    path = f"{WORK}/{name}.raw"
    out = check(
        INFRA, f"mkdir -p {WORK} && head -c {mib}M /dev/urandom > {path} && sha256sum {path}"
    )
    return path, out.split()[0]


def images():
    return json.loads(check(INFRA, f"cat {IMAGES}"))


def save_images(data):
    check(INFRA, f"echo '{json.dumps(data)}' > {IMAGES}")


def healthy(name):
    return run_on(name, f"curl -sf {url(name)}/healthcheck").rc == 0


def lb_status(name):
    """HAProxy's status (UP, DOWN, ...) of glance host `name` in the glance backend."""
    out = check(INFRA, "echo 'show stat' | socat stdio /run/haproxy/admin.sock")
    header = out.splitlines()[0].lstrip("# ").split(",")
    for line in out.splitlines()[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "glance_api-back" and row.get("svname") == name:
            return row["status"]
    raise AssertionError(f"{name} is not a backend of glance_api-back")

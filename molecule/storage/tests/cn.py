"""Helpers of the storage scenario's cinder tests: hosts, the openstack client, volumes."""

import json

from tests.infra import hosts, inventory
from tests.infra.hosts import check, hostvars
from tests.infra.playbook import wait_for

# The control-plane host: it has /root/openrc (internal endpoints, through the internal VIP)
# and the openstack client.
INFRA = inventory.hosts("keystone_all")[0]
API = inventory.hosts("cinder_api")
SCHEDULERS = inventory.hosts("cinder_scheduler")
VOLUME_HOSTS = inventory.hosts("cinder_volume")
MON = inventory.hosts("ceph_mon")[0]
VIP = hostvars(INFRA)["internal_lb_vip_address"]
PORT = 8776
# backend -> the host that runs it, from the inventory.
BACKENDS = {
    name: host for host in VOLUME_HOSTS for name in hostvars(host).get("cinder_backends", {})
}


def openstack(*args, ok=True):
    """The openstack client on the infra host: parsed JSON (ok) or the CommandResult."""
    return hosts.openstack(INFRA, *args, ok=ok)


def services():
    """{(binary, host): state} of `openstack volume service list`."""
    return {(s["Binary"], s["Host"]): s["State"] for s in openstack("volume", "service", "list")}


def backend_service(backend):
    """The cinder-volume service name of a backend (host@backend)."""
    return f"{BACKENDS[backend]}@{backend}"


def wait_status(volume, wanted, timeout=180):
    """Wait until the volume has status `wanted` (fails at once on an error status)."""

    def status():
        shown = openstack("volume", "show", volume)
        assert shown["status"] not in ("error", "error_deleting", "error_extending"), shown
        return shown if shown["status"] == wanted else None

    return wait_for(status, timeout, f"volume {volume} to be {wanted}", interval=3)


def create_volume(name, backend, size=1, *extra):
    created = openstack("volume", "create", "--type", backend, "--size", size, *extra, name)
    return wait_status(created["id"], "available")


def delete_volume(volume, timeout=180):
    openstack("volume", "delete", volume, ok=False)
    wait_for(
        lambda: openstack("volume", "show", volume, ok=False).rc != 0,
        timeout,
        f"volume {volume} to be deleted",
        interval=3,
    )


def volume_api(path, body=None):
    """The volume API through the VIP with the admin's token, for what the client has no
    command for (os-initialize_connection, scheduler stats): the parsed answer."""
    token = openstack("token", "issue")
    url = f"http://{VIP}:{PORT}/v3/{token['project_id']}{path}"
    data = ""
    if body is not None:
        payload = json.dumps(body).replace("'", "'\\''")
        data = f"-X POST -H 'Content-Type: application/json' -d '{payload}'"
    out = check(INFRA, f"curl -sf -H 'X-Auth-Token: {token['id']}' {data} {url}")
    return json.loads(out) if out.strip() else None

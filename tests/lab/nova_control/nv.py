"""Helpers of the nova control-plane tests (placement, neutron-server, nova-api, conductor,
scheduler), in the storage scenario's style: hosts from the scenario's inventory
(MOLECULE_INVENTORY_FILE), commands over testinfra, the openstack client on the keystone host.
"""

import json
import shlex

from tests.infra import hosts, inventory
from tests.infra.hosts import check, hostvars

# The control-plane host: it has /root/openrc (internal endpoints, through the internal VIP)
# and the openstack client.
INFRA = inventory.hosts("keystone_all")[0]
API = inventory.hosts("nova_api_os_compute")
CONDUCTORS = inventory.hosts("nova_conductor")
SCHEDULERS = inventory.hosts("nova_scheduler")
PLACEMENT = inventory.hosts("placement_api")
NEUTRON = inventory.hosts("neutron_server")
MANAGE = API[0]
VIP = hostvars(INFRA)["internal_lb_vip_address"]
EXTERNAL_VIP = hostvars(INFRA)["external_lb_vip_address"]
PORTS = {"nova-api": 8774, "placement-api": 8778, "neutron-api": 9696}


def openstack(*args, ok=True):
    """The openstack client on the infra host: parsed JSON (ok) or the CommandResult."""
    return hosts.openstack(INFRA, *args, ok=ok)


def api(url, headers=()):
    """GET an API URL with the admin's token from the infra host (Python's urllib: the lab
    hosts have no curl): the parsed answer."""
    token = openstack("token", "issue")["id"]
    headers = {"X-Auth-Token": token, **dict(h.split(": ", 1) for h in headers)}
    script = (
        "import json, sys, urllib.request; "
        "request = urllib.request.Request(sys.argv[1], headers=json.loads(sys.argv[2])); "
        "print(urllib.request.urlopen(request, timeout=60).read().decode())"
    )
    command = " ".join(shlex.quote(a) for a in ("python3", "-c", script, url, json.dumps(headers)))
    return json.loads(check(INFRA, command))

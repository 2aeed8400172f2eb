"""nova's control plane (role nova), placement (role placement) and the networking API alone
(role neutron_server), checked with real clients: the services on their management addresses
only, conductor and scheduler up, the catalog on the VIPs, nova-status's cells and placement
checks, placement's resource providers, neutron answering and nova reaching it, the cells
mapped once, and a second run that changes nothing.

Written for the storage scenario (the lead moves it to molecule/storage/tests); it runs against
any deployed hosts through MOLECULE_INVENTORY_FILE (see docs/roles/nova.md, "Testing").
"""

import json
import os
import re
import ssl
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

if "MOLECULE_INVENTORY_FILE" not in os.environ:
    pytest.skip(
        "set MOLECULE_INVENTORY_FILE to an inventory of hosts converged with setup-nova.yml",
        allow_module_level=True,
    )

from nv import (  # noqa: E402 (after the skip: the helpers read the inventory)
    API,
    CONDUCTORS,
    EXTERNAL_VIP,
    MANAGE,
    NEUTRON,
    PLACEMENT,
    PORTS,
    SCHEDULERS,
    VIP,
    api,
    openstack,
)

from tests.infra.hosts import check, hostvars, run  # noqa: E402
from tests.infra.playbook import assert_check_mode_clean, wait_for  # noqa: E402
from tests.infra.playbook import run as run_playbook  # noqa: E402

HOSTS = {"nova-api": API, "placement-api": PLACEMENT, "neutron-api": NEUTRON}


@pytest.mark.parametrize(
    "service,name", [(s, h) for s, hosts in HOSTS.items() for h in hosts], ids=str
)
def test_api_listens_on_the_management_address_only(service, name):
    # HAProxy holds the VIPs' ports on the infra host: only uwsgi's own sockets count.
    port = PORTS[service]
    listening = check(
        name, f"ss -Hltnp 'sport = :{port}' | grep uwsgi | awk '{{print $4}}' | sort -u"
    )
    assert listening.split() == [f"{hostvars(name)['management_address']}:{port}"]


@pytest.mark.parametrize(
    "path,owner",
    [
        ("/etc/nova/nova.conf", "root:nova 640"),
        ("/etc/placement/placement.conf", "root:placement 640"),
        ("/etc/neutron/neutron.conf", "root:neutron 640"),
    ],
)
def test_configuration_files_with_secrets_are_readable_by_their_service_only(path, owner):
    hosts = {"nova": API, "placement": PLACEMENT, "neutron": NEUTRON}[path.split("/")[2]]
    for name in hosts:
        assert check(name, f"stat -c '%U:%G %a' {path}").strip() == owner


def test_conductors_and_schedulers_are_up():
    wanted = {("nova-conductor", h) for h in CONDUCTORS} | {
        ("nova-scheduler", h) for h in SCHEDULERS
    }

    def all_up():
        listed = openstack("compute", "service", "list")
        states = {(s["Binary"], s["Host"]): (s["State"], s["Status"]) for s in listed}
        return all(states.get(key) == ("up", "enabled") for key in wanted) and states

    states = wait_for(all_up, 180, "every conductor and scheduler to be up", 5)
    # Only this role's services: nova-compute is another role's.
    assert {binary for binary, _ in states} <= {"nova-conductor", "nova-scheduler", "nova-compute"}


@pytest.mark.parametrize(
    "service_type,port,path",
    [("compute", 8774, "/v2.1"), ("placement", 8778, ""), ("network", 9696, "")],
)
def test_endpoints_are_on_the_vips(service_type, port, path):
    listed = openstack("endpoint", "list", "--service", service_type)
    urls = {e["Interface"]: e["URL"] for e in listed}
    assert urls["internal"] == f"http://{VIP}:{port}{path}"
    assert urls["admin"] == f"http://{VIP}:{port}{path}"
    assert re.fullmatch(
        rf"https?://{re.escape(EXTERNAL_VIP)}:{port}{re.escape(path)}", urls["public"]
    )


def test_nova_status_upgrade_check_passes_the_cells_and_placement_checks():
    result = run(MANAGE, "runuser -u nova -- nova-status upgrade check")
    # 0: every check passed; 1: a warning (none expected here); 2: a failure.
    assert result.rc in (0, 1), result.stdout + result.stderr
    checks = dict(
        re.findall(r"\| Check: (.+?)\s+\|\n\| Result: (\w+)", result.stdout.replace("\r", ""))
    )
    assert checks["Cells v2"] == "Success", result.stdout
    assert checks["Placement API"] == "Success", result.stdout


def test_cell0_and_cell1_are_mapped_once():
    out = check(MANAGE, "runuser -u nova -- nova-manage cell_v2 list_cells")
    names = re.findall(r"(?m)^\| *(\S+) *\|", out)
    assert sorted(n for n in names if n != "Name") == ["cell0", "cell1"], out


def test_placement_answers_through_the_vip_with_a_token():
    answer = api(f"http://{VIP}:8778/resource_providers", ["OpenStack-API-Version: placement 1.0"])
    providers = {p["name"] for p in answer["resource_providers"]}
    # One resource provider per compute host (none while the cloud has no compute host).
    computes = {
        s["Host"] for s in openstack("compute", "service", "list") if s["Binary"] == "nova-compute"
    }
    for compute in computes:
        assert any(p == compute or p.startswith(compute + ".") for p in providers), providers


def test_the_networking_api_answers_and_nova_reaches_it():
    name = "strata-test-nova-net"
    openstack("network", "delete", name, ok=False)
    assert [n for n in openstack("network", "list") if n["Name"] == name] == []
    network = openstack(
        "network", "create", "--provider-network-type", "flat",
        "--provider-physical-network", "physnet-test", name,
    )  # fmt: skip
    try:
        # nova's os-tenant-networks (before microversion 2.36) lists the networking service's
        # networks through nova.conf's [neutron]: nova logs in and asks neutron itself.
        seen = api(
            f"http://{VIP}:8774/v2.1/os-tenant-networks", ["X-OpenStack-Nova-API-Version: 2.1"]
        )
        assert network["id"] in [n["id"] for n in seen["networks"]], seen
    finally:
        openstack("network", "delete", name, ok=False)
    assert [n for n in openstack("network", "list") if n["Name"] == name] == []


def test_the_apis_answer_through_both_vips():
    assert api(f"http://{VIP}:8774/")["versions"]
    # The external VIP serves HTTPS with a certificate of Strata's CA (on the deploy host,
    # where this test runs, in the config dir's tls/).
    config_dir = os.environ.get("STRATA_CONFIG_DIR") or os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
    context = ssl.create_default_context(cafile=str(Path(config_dir) / "tls" / "strata-ca.crt"))
    for port in PORTS.values():
        with urllib.request.urlopen(f"https://{EXTERNAL_VIP}:{port}/", context=context) as answer:
            assert answer.status == 200 and json.loads(answer.read()), port
    # The servers through nova-api and its cells (the openstack client's `server list` would
    # ask glance too, which this cloud may not have).
    servers = api(f"http://{VIP}:8774/v2.1/servers/detail?all_tenants=1")
    assert isinstance(servers["servers"], list)


def test_a_second_run_changes_nothing():
    rc, output, counts = run_playbook("setup-nova.yml")
    assert rc == 0 and counts, output[-3000:]
    changed = {host: c["changed"] for host, c in counts.items() if c["changed"]}
    assert not changed, f"second run changed: {changed}\n{output[-3000:]}"


def test_check_diff_reports_nothing():
    assert_check_mode_clean("setup-nova.yml")

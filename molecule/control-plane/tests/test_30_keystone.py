"""Keystone behind the VIP, fernet keys the same everywhere; memcached and haproxy listeners."""

import pytest
from cp import HAPROXY, KEYSTONE, VIP, address, check, vip_holder

from tests.infra import inventory

MEMCACHED = inventory.hosts("memcached_all")


@pytest.mark.parametrize("node", KEYSTONE)
def test_token_issue_through_the_vip(node):
    out = check(node, ". /root/openrc && echo $OS_AUTH_URL && openstack token issue -f value -c id")
    auth_url, token = out.split()
    assert auth_url == f"http://{VIP}:5000/v3"
    assert token.startswith("gAAAAA")  # a fernet token


def test_fernet_keys_identical_on_every_node():
    sums = {
        node: check(node, "cd /etc/keystone/fernet-keys && sha256sum * | sort") for node in KEYSTONE
    }
    first = sums[KEYSTONE[0]]
    assert len(first.splitlines()) >= 2
    assert all(s == first for s in sums.values()), sums


@pytest.mark.parametrize("node", KEYSTONE)
def test_keystone_listens_on_the_management_address(node):
    listening = check(node, "ss -Htlnp | grep uwsgi | awk '{print $4}' | sort -u").split()
    assert listening == [f"{address(node)}:5000"]


def test_identity_endpoints_and_service_project():
    out = check(
        KEYSTONE[0],
        ". /root/openrc && openstack endpoint list --service identity -f value -c Interface -c URL"
        " && openstack project show service -f value -c name",
    )
    lines = sorted(out.splitlines())
    assert lines == sorted(
        [f"{i} http://{VIP}:5000/v3" for i in ("admin", "internal", "public")] + ["service"]
    )


@pytest.mark.parametrize("node", MEMCACHED)
def test_memcached_on_the_management_address(node):
    listening = check(node, "ss -Htlnp | grep memcached | awk '{print $4}'").split()
    assert listening == [f"{address(node)}:11211"]
    assert check(node, "ss -Hulnp | grep memcached || true").strip() == ""


@pytest.mark.parametrize("node", HAPROXY)
def test_haproxy_stats_on_the_management_address_only(node):
    listening = check(node, "ss -Htlnp | grep haproxy | awk '{print $4}' | sort -u").split()
    assert f"{address(node)}:1936" in listening
    assert all(a.startswith(f"{VIP}:") or a == f"{address(node)}:1936" for a in listening)


def test_the_vip_is_on_one_load_balancer():
    assert vip_holder() in HAPROXY


def test_a_service_registered_with_the_shared_helpers_works():
    # converge.yml registered `strata-probe` with keystone and published it through haproxy,
    # the way the service roles do.
    node = KEYSTONE[-1]
    out = check(
        node,
        ". /root/openrc && openstack endpoint list --service strata-probe -f value "
        "-c Interface -c URL",
    )
    assert sorted(out.splitlines()) == sorted(
        f"{i} http://{VIP}:5999" for i in ("admin", "internal", "public")
    )
    token = check(
        node,
        ". /root/openrc && OS_USERNAME=strata-probe OS_PASSWORD=lab-probe-secret "
        "OS_PROJECT_NAME=service openstack token issue -f value -c id",
    )
    assert token.startswith("gAAAAA")
    # Through the probe's own frontend on the VIP.
    assert check(node, f"curl -s -o /dev/null -w '%{{http_code}}' http://{VIP}:5999/v3") == "200"

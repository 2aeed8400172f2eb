"""keepalived: when haproxy stops on the host holding the VIP, the VIP moves to another haproxy
host and the APIs stay reachable through it; it comes back when haproxy runs again."""

import pytest
from cp import HAPROXY, KEYSTONE, VIP, check, vip_holder, wait_for

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill


def keystone_through_vip(node):
    return check(node, f"curl -s -o /dev/null -w '%{{http_code}}' http://{VIP}:5000/v3")


def holder_or_none():
    try:
        return vip_holder()
    except AssertionError:
        return None


def test_vip_moves_when_haproxy_stops():
    first = vip_holder()
    assert first == HAPROXY[0]
    client = KEYSTONE[-1]
    check(first, "systemctl stop haproxy")
    try:
        moved = wait_for(
            lambda: (h := holder_or_none()) not in (None, first) and h, 30, "the VIP to move"
        )
        assert moved in HAPROXY
        assert keystone_through_vip(client) == "200"
    finally:
        check(first, "systemctl start haproxy")
    # The first host has the highest priority: it takes the VIP back once haproxy runs.
    wait_for(lambda: holder_or_none() == first, 30, "the VIP back on the first host")
    assert keystone_through_vip(client) == "200"

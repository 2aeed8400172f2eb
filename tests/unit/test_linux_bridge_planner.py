"""Planner of the linux_bridge module (module_utils/strata_bridge.py): pure, no kernel.

Production ports are NICs, bonds (bond0) and VLANs (bond0.20). The lab kernel cannot create
VLAN, bond or dummy devices, so their handling is covered here, where a link is only data;
tests that touch a kernel use veth and vxlan ports (test_linux_bridge_netns.py).
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "module_utils"))

from strata_bridge import (  # noqa: E402
    Address,
    Desired,
    Link,
    PlanError,
    Route,
    check_controller_route,
    controller_addresses,
    desired_from_params,
    plan_runtime,
    simulate,
    verify_runtime,
)

MGMT = "172.29.236.11/22"
GATEWAY_ROUTE = Route(family=4, dst="default", gateway="172.29.236.1", protocol=4)
TABLE_ROUTE = Route(family=4, dst="10.50.0.0/16", gateway="172.29.236.254", table=100, protocol=3)


def link(name, kind="", **kw):
    kw.setdefault("mtu", 1500)
    kw.setdefault("up", True)
    if kind == "bridge":
        kw.setdefault("stp", False)
        kw.setdefault("forward_delay", 15)
    return Link(name=name, kind=kind, **kw)


def links_of(*items):
    return {item.name: item for item in items}


def normalized(links):
    """Links with addresses and routes in a fixed order (the kernel keeps no order we model)."""
    return {
        name: Link(
            **{
                **item.__dict__,
                "addresses": tuple(sorted(item.addresses, key=repr)),
                "routes": tuple(sorted(item.routes, key=repr)),
            }
        )
        for name, item in links.items()
    }


def desired(**kw):
    params = {"name": "br-mgmt", "ports": [], "addresses": [], "stp": False}
    params.update(kw)
    return desired_from_params(params)


def actions(steps):
    return [(s.action, s.link) for s in steps]


def position(steps, action, link_name):
    return next(i for i, s in enumerate(steps) if s.action == action and s.link == link_name)


def host_with(port):
    """A host whose management address and routes live on `port` (NIC, bond or VLAN)."""
    kind = {"eth0": "", "bond0": "bond", "bond0.20": "vlan"}[port]
    return links_of(
        link("lo", mtu=65536),
        link(port, kind, addresses=(Address(MGMT),), routes=(GATEWAY_ROUTE, TABLE_ROUTE)),
        link("eth1", addresses=(Address("172.29.244.11/22"),)),
    )


# ----------------------------------------------------------------- safety ordering


@pytest.mark.parametrize("port", ["eth0", "bond0", "bond0.20"])
def test_moving_the_address_keeps_it_reachable_at_every_step(port):
    links = host_with(port)
    steps = plan_runtime(links, desired(ports=[port], addresses=[MGMT]), "172.29.236.11")
    assert actions(steps) == [
        ("create_bridge", "br-mgmt"),
        ("set_master", port),
        ("add_address", "br-mgmt"),
        ("move_route", port),
        ("move_route", port),
        ("del_address", port),
    ]
    assert steps[0].value["stp"] is False  # a new port on an STP bridge blocks for 30 s
    # The address is on the bridge before any route moves, routes move before it leaves.
    assert position(steps, "add_address", "br-mgmt") < position(steps, "move_route", port)
    last_move = max(i for i, s in enumerate(steps) if s.action == "move_route")
    assert last_move < position(steps, "del_address", port)
    assert {s.value for s in steps if s.action == "move_route"} == {GATEWAY_ROUTE, TABLE_ROUTE}
    assert all(s.target == "br-mgmt" for s in steps if s.action == "move_route")
    assert steps[2].previous == "nodad"  # IPv6 would skip duplicate detection: it is ours


def test_at_no_step_is_the_address_or_a_route_missing():
    links = host_with("eth0")
    steps = plan_runtime(links, desired(ports=["eth0"], addresses=[MGMT]))
    for i in range(len(steps) + 1):
        state = simulate(links, steps[:i])
        holders = [n for n, item in state.items() if Address(MGMT) in item.addresses]
        assert holders, f"after step {i} nobody has {MGMT}"
        for route in (GATEWAY_ROUTE, TABLE_ROUTE):
            on = [n for n, item in state.items() if route in item.routes]
            assert len(on) == 1, f"after step {i} route {route.describe()} is on {on}"
            assert Address(MGMT) in state[on[0]].addresses  # its gateway stays reachable


def test_rollback_is_the_same_ordering_backwards():
    links = host_with("bond0.20")
    steps = plan_runtime(links, desired(ports=["bond0.20"], addresses=[MGMT]))
    undo = [s.inverse() for s in reversed(steps)]
    assert actions(undo) == [
        ("add_address", "bond0.20"),
        ("move_route", "br-mgmt"),
        ("move_route", "br-mgmt"),
        ("del_address", "br-mgmt"),
        ("release", "bond0.20"),
        ("delete_bridge", "br-mgmt"),
    ]
    assert all(s.target == "bond0.20" for s in undo if s.action == "move_route")
    assert normalized(simulate(simulate(links, steps), undo)) == normalized(links)


@pytest.mark.parametrize("port", ["eth0", "bond0", "bond0.20"])
def test_second_run_plans_nothing(port):
    links = host_with(port)
    want = desired(ports=[port], addresses=[MGMT])
    after = simulate(links, plan_runtime(links, want))
    assert plan_runtime(after, want) == []
    assert verify_runtime(after, want, plan_runtime(links, want)) == []


def test_new_bridge_keeps_the_mac_of_the_port_whose_address_it_takes():
    links = host_with("eth0")
    links["eth0"] = Link(**{**links["eth0"].__dict__, "mac": "52:54:00:00:00:02"})
    links["eth1"] = Link(**{**links["eth1"].__dict__, "addresses": (), "mac": "52:54:00:00:00:01"})
    steps = plan_runtime(links, desired(ports=["eth1", "eth0"], addresses=[MGMT]))
    assert steps[0].value["mac"] == "52:54:00:00:00:02"  # not the kernel's lowest port MAC
    steps = plan_runtime(links, desired(ports=["eth1"]))
    assert steps[0].value["mac"] == "52:54:00:00:00:01"


def test_existing_stp_bridge_switches_stp_off_while_the_address_moves():
    links = host_with("eth0")
    links["br-mgmt"] = link("br-mgmt", "bridge", stp=True, forward_delay=4)
    steps = plan_runtime(links, desired(ports=["eth0"], addresses=[MGMT], stp=True))
    assert steps[0] == steps[0].__class__("set_stp", "br-mgmt", value=False, previous=True)
    assert position(steps, "set_stp", "br-mgmt") < position(steps, "set_master", "eth0")
    assert (steps[-1].action, steps[-1].value) == ("set_stp", True)
    assert position(steps, "del_address", "eth0") < len(steps) - 1


def test_stp_bridge_keeps_stp_when_the_new_port_carries_no_address():
    links = links_of(
        link("br-mgmt", "bridge", stp=True, forward_delay=4, addresses=(Address(MGMT),)),
        link("eth0"),
    )
    steps = plan_runtime(links, desired(ports=["eth0"], addresses=[MGMT], stp=True))
    assert actions(steps) == [("set_master", "eth0")]


def test_forward_delay_is_set_while_stp_is_off():
    links = links_of(link("eth0"))
    steps = plan_runtime(links, desired(ports=["eth0"], stp=True, forward_delay=4))
    assert actions(steps)[-2:] == [("set_forward_delay", "br-mgmt"), ("set_stp", "br-mgmt")]
    links = links_of(link("br-mgmt", "bridge", stp=True, forward_delay=15))
    steps = plan_runtime(links, desired(stp=False, forward_delay=0))
    assert [(s.action, s.value) for s in steps] == [("set_stp", False), ("set_forward_delay", 0)]


def test_every_step_of_a_new_bridge_can_be_undone():
    links = host_with("eth0")
    want = desired(ports=["eth0"], addresses=[MGMT], mtu=1500, stp=True, forward_delay=4)
    steps = plan_runtime(links, want)
    assert [s.action for s in steps][-2:] == ["set_forward_delay", "set_stp"]
    for step in steps:
        undo = step.inverse()
        if undo.action.startswith("set_") and undo.action not in ("set_up", "set_down"):
            assert undo.value is not None, step  # the kernel's value before, not "unknown"
    assert steps[-2].previous == 15


def test_existing_bridge_drops_unwanted_ports_and_addresses_then_sets_mtu():
    links = links_of(
        link("br-mgmt", "bridge", mtu=1500, addresses=(Address(MGMT), Address("10.0.0.1/24"))),
        link("eth0", master="br-mgmt", mtu=9000),
        link("eth2", master="br-mgmt", mtu=1500, up=False),
        link("eth3", mtu=9000, up=False),
    )
    steps = plan_runtime(links, desired(ports=["eth0", "eth3"], addresses=[MGMT], mtu=9000))
    assert actions(steps) == [
        ("set_up", "eth3"),
        ("set_master", "eth3"),
        ("del_address", "br-mgmt"),
        ("release", "eth2"),
        ("set_mtu", "br-mgmt"),
    ]
    assert steps[2].value == "10.0.0.1/24"
    assert (steps[-1].value, steps[-1].previous) == (9000, 1500)


def test_down_bridge_and_down_port_are_brought_up():
    links = links_of(link("br-mgmt", "bridge", up=False), link("eth0", master="br-mgmt", up=False))
    assert actions(plan_runtime(links, desired(ports=["eth0"]))) == [
        ("set_up", "br-mgmt"),
        ("set_up", "eth0"),
    ]


def test_ipv6_address_and_route_move_too():
    v6 = "fd00:10::11/64"
    route6 = Route(family=6, dst="default", gateway="fd00:10::1", metric=1024, protocol=4)
    links = links_of(link("eth0", addresses=(Address(v6),), routes=(route6,)))
    steps = plan_runtime(links, desired(ports=["eth0"], addresses=["fd00:10:0::11/64"]))
    assert [(s.action, s.value) for s in steps if s.action != "create_bridge"] == [
        ("set_master", "br-mgmt"),
        ("add_address", v6),
        ("move_route", route6),
        ("del_address", v6),
    ]


def test_absent_undoes_everything_in_a_restorable_order():
    links = links_of(
        link("br-mgmt", "bridge", stp=True, forward_delay=4, mtu=9000, addresses=(Address(MGMT),)),
        link("eth0", master="br-mgmt", mtu=9000),
    )
    links["br-mgmt"] = Link(**{**links["br-mgmt"].__dict__, "routes": (GATEWAY_ROUTE,)})
    steps = plan_runtime(links, desired(state="absent"))
    assert actions(steps) == [
        ("del_route", "br-mgmt"),
        ("del_address", "br-mgmt"),
        ("release", "eth0"),
        ("delete_bridge", "br-mgmt"),
    ]
    assert steps[-1].previous == {
        "mac": None,
        "mtu": 9000,
        "stp": True,
        "forward_delay": 4,
        "up": True,
    }
    undo = [s.inverse() for s in reversed(steps)]
    assert normalized(simulate(simulate(links, steps), undo)) == normalized(links)
    assert plan_runtime(links_of(link("eth0")), desired(state="absent")) == []


# ------------------------------------------------------------ failures, before change


def problems_of(links, want, controller=None):
    with pytest.raises(PlanError) as caught:
        plan_runtime(links, want, controller)
    return caught.value.problems


def test_missing_port_fails():
    (problem,) = problems_of(links_of(link("eth0")), desired(ports=["bond0.20"]))
    assert "ports[0]: interface bond0.20 does not exist" in problem


def test_address_in_use_on_another_interface_fails():
    links = host_with("eth0")
    (problem,) = problems_of(links, desired(ports=["eth0"], addresses=[MGMT, "172.29.244.11/22"]))
    assert problem.startswith("addresses[1]: 172.29.244.11 is in use on eth1")


def test_mtu_larger_than_a_port_fails():
    links = links_of(link("bond0", "bond", mtu=9000), link("bond0.20", "vlan", mtu=1500))
    (problem,) = problems_of(links, desired(ports=["bond0", "bond0.20"], mtu=9000))
    assert "mtu: 9000 is larger than the MTU 1500 of port bond0.20" in problem


def test_a_vip_keepalived_holds_on_the_bridge_stays_there():
    vip = Address("172.29.236.9/32")
    links = links_of(
        link("br-mgmt", "bridge", forward_delay=0, addresses=(Address(MGMT), vip)),
        link("eth0", master="br-mgmt"),
    )
    wanted = desired(ports=["eth0"], addresses=[MGMT], keep_addresses=["172.29.236.9"])
    assert plan_runtime(links, wanted) == []
    assert verify_runtime(links, wanted, []) == []
    # Without keep_addresses the same bridge loses its VIP on every converge.
    assert actions(plan_runtime(links, desired(ports=["eth0"], addresses=[MGMT]))) == [
        ("del_address", "br-mgmt")
    ]


def test_a_vip_on_a_port_is_dropped_not_moved_nor_refused():
    links = links_of(link("eth0", addresses=(Address(MGMT), Address("172.29.236.9/32"))))
    wanted = desired(ports=["eth0"], addresses=[MGMT], keep_addresses=["172.29.236.9/32"])
    steps = plan_runtime(links, wanted)
    added = [s.value for s in steps if s.action == "add_address"]
    dropped = [s.value for s in steps if s.action == "del_address" and s.link == "eth0"]
    assert added == [MGMT]
    assert sorted(dropped) == sorted([MGMT, "172.29.236.9/32"])


def test_an_address_both_wanted_and_kept_is_refused():
    with pytest.raises(PlanError) as error:
        desired(addresses=[MGMT], keep_addresses=["172.29.236.11"])
    assert "addresses[0]: 172.29.236.11/22 is also in keep_addresses" in str(error.value)


def test_port_address_missing_from_addresses_fails():
    links = links_of(link("eth0", addresses=(Address("172.29.236.11/24"),)))
    (problem,) = problems_of(links, desired(ports=["eth0"], addresses=[MGMT]))
    assert "eth0 has address 172.29.236.11/24, which is not in addresses" in problem


def test_dynamic_address_on_port_fails():
    links = links_of(link("eth0", addresses=(Address(MGMT, dynamic=True),)))
    (problem,) = problems_of(links, desired(ports=["eth0"], addresses=[MGMT]))
    assert "from DHCP or SLAAC" in problem


def test_port_of_a_bond_or_another_bridge_fails():
    links = links_of(
        link("bond0", "bond"),
        link("eth2", master="bond0"),
        link("br-storage", "bridge"),
        link("eth3", master="br-storage"),
    )
    problems = problems_of(links, desired(ports=["eth2", "eth3"]))
    assert problems == [
        "ports[0]: eth2 is already a port of bond0 (a bond); remove it there first",
        "ports[1]: eth3 is already a port of br-storage (a bridge); remove it there first",
    ]


def test_name_taken_by_a_non_bridge_fails():
    (problem,) = problems_of(links_of(link("br-mgmt", "veth")), desired())
    assert problem == "name: br-mgmt exists and is a veth, not a bridge"
    (problem,) = problems_of(links_of(link("br-mgmt", "vlan")), desired(state="absent"))
    assert "refusing to delete" in problem


def test_bridge_as_port_and_multipath_route_fail():
    multipath = Route(family=4, dst="default", protocol=4, multipath=True)
    links = links_of(link("br-x", "bridge"), link("eth0", routes=(multipath,)))
    problems = problems_of(links, desired(ports=["br-x", "eth0"]))
    assert "a bridge cannot be a port" in problems[0]
    assert "multipath routes are not moved" in problems[1]


def test_all_problems_are_reported_at_once():
    links = links_of(link("eth1", addresses=(Address(MGMT),)))
    problems = problems_of(links, desired(ports=["eth0", "eth9"], addresses=[MGMT]))
    assert len(problems) == 3


def test_controller_address_is_never_removed():
    links = links_of(link("br-mgmt", "bridge", addresses=(Address(MGMT),)))
    (problem,) = problems_of(links, desired(addresses=[]), "172.29.236.11")
    assert "the address this Ansible connection uses" in problem
    (problem,) = problems_of(links, desired(state="absent"), "172.29.236.11")
    assert "deleting the bridge would cut it" in problem
    assert plan_runtime(links, desired(addresses=[]), "10.0.0.9")  # another address: fine


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"addresses": ["172.29.236.11"]}, "addresses[0]: '172.29.236.11' is not an address"),
        ({"addresses": ["172.29.236.300/22"]}, "addresses[0]: '172.29.236.300/22' is not"),
        ({"addresses": ["10.1/8"]}, "addresses[0]: '10.1/8' is not"),
        ({"addresses": ["172.29.236.11/33"]}, "bad prefix length (expected 0-32)"),
        ({"addresses": ["172.29.236.0/22"]}, "is the network or broadcast address of"),
        ({"addresses": [MGMT, "172.29.236.11/24"]}, "addresses[1]: '172.29.236.11/24' repeats"),
        ({"name": "br-management-net0"}, "name: 'br-management-net0' is not a valid interface"),
        ({"ports": ["eth0", "eth0"]}, "ports[1]: 'eth0' is listed twice"),
        ({"ports": ["br-mgmt"]}, "ports[0]: 'br-mgmt' is the bridge itself"),
        ({"ports": ["lo"]}, "cannot be a bridge port"),
        ({"mtu": 40}, "mtu: 40 is out of range"),
        ({"stp": True, "forward_delay": 0}, "forward_delay: 0 is out of range (expected 2-30"),
        ({"forward_delay": 31}, "forward_delay: 31 is out of range (expected 0-30"),
    ],
)
def test_bad_parameters_fail_with_key_value_and_expectation(params, expected):
    with pytest.raises(PlanError) as caught:
        desired(**params)
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_addresses_are_normalized():
    want = desired(addresses=["fd00:0010::0011/64", " 172.29.236.11/22"])
    assert want.addresses == ("fd00:10::11/64", MGMT)
    assert desired(addresses=["10.0.0.1/32"]).addresses == ("10.0.0.1/32",)


# ------------------------------------------------------------------- verification


def test_verify_finds_what_did_not_happen():
    links = host_with("eth0")
    want = desired(ports=["eth0"], addresses=[MGMT])
    steps = plan_runtime(links, want)
    after = simulate(links, steps)
    half = simulate(links, steps[:4])  # the default route moved, the table 100 one did not
    problems = verify_runtime(half, want, steps)
    assert problems == [
        "port eth0 still has 172.29.236.11/22",
        "route 10.50.0.0/16 via 172.29.236.254 table 100 is not on br-mgmt",
        "route 10.50.0.0/16 via 172.29.236.254 table 100 is still on eth0",
    ]
    assert verify_runtime(after, want, steps) == []
    assert verify_runtime(after, desired(state="absent"), []) == ["br-mgmt still exists"]


def test_controller_route_through_a_port_is_a_problem():
    want = desired(ports=["eth0"])
    problem = check_controller_route("eth0", "10.0.0.1", want)
    assert problem.endswith("leaves through eth0, a port of br-mgmt")
    assert check_controller_route("br-mgmt", "10.0.0.1", want) is None
    assert controller_addresses("10.0.0.1 50000 172.29.236.11 22") == ("10.0.0.1", "172.29.236.11")
    assert controller_addresses(None) == (None, None)


def test_desired_defaults():
    assert desired() == Desired(name="br-mgmt")

"""Persistent config of the linux_bridge module: systemd-networkd files, ifupdown takeover."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "module_utils"))

from strata_bridge import (  # noqa: E402
    IFUPDOWN_MARK,
    Address,
    ConfigFile,
    Link,
    NetworkdService,
    PlanError,
    Route,
    check_networkd_link,
    desired_from_params,
    disable_in_interfaces,
    effective_files,
    match_link,
    networkd_link_state,
    parse_unit,
    plan_persistent,
)

ETC = "/etc/systemd/network"
MGMT = "172.29.236.11/22"
GATEWAY_ROUTE = Route(family=4, dst="default", gateway="172.29.236.1", protocol=4)
LAB_ETH0 = "[Match]\nName=eth0\n\n[Network]\nAddress=172.29.236.11/22\n"
RUNNING = NetworkdService(control=True, installed=True, enabled=True, active=True)


def desired(**kw):
    params = {"name": "br-mgmt", "ports": ["eth0"], "addresses": [MGMT], "stp": False}
    params.update(kw)
    return desired_from_params(params)


def after(ports=("eth0",), kinds=None, routes=(GATEWAY_ROUTE,)):
    """Links after the runtime change: the bridge holds the address and routes."""
    kinds = kinds or {}
    links = {
        "br-mgmt": Link(
            "br-mgmt", "bridge", 1500, True, addresses=(Address(MGMT),), routes=routes, stp=False
        )
    }
    for port in ports:
        links[port] = Link(port, kinds.get(port, ""), 1500, True, master="br-mgmt")
    return links


def plan(networkd=(), ifupdown=(), service=RUNNING, want=None, links=None):
    want = want or desired()
    files = [ConfigFile(path, text) for path, text in networkd]
    interfaces = [ConfigFile(path, text) for path, text in ifupdown]
    return plan_persistent(want, links or after(want.ports), files, interfaces, service)


def actions(result):
    return [(s.action, s.path, s.target) for s in result.steps]


def written(result, path):
    return next(s.text for s in result.steps if s.action == "write" and s.path == path)


def problems(**kw):
    with pytest.raises(PlanError) as caught:
        plan(**kw)
    return caught.value.problems


# ------------------------------------------------------------------- lab hosts


def test_lab_host_gets_our_files_and_the_old_one_is_disabled():
    result = plan(networkd=[(f"{ETC}/10-lab-eth0.network", LAB_ETH0)])
    assert actions(result) == [
        ("write", f"{ETC}/05-strata-bridge-br-mgmt.netdev", None),
        ("write", f"{ETC}/05-strata-bridge-br-mgmt.network", None),
        ("write", f"{ETC}/05-strata-port-eth0.network", None),
        ("rename", f"{ETC}/10-lab-eth0.network", f"{ETC}/10-lab-eth0.network.disabled-by-strata"),
        ("networkd", "systemd-networkd.service", "reload"),
    ]
    (entry,) = result.superseded
    assert entry["path"] == f"{ETC}/10-lab-eth0.network" and entry["link"] == "eth0"
    assert entry["action"].startswith("disabled: renamed to ")
    network = written(result, f"{ETC}/05-strata-bridge-br-mgmt.network")
    assert "[Match]\nName=br-mgmt\n" in network
    assert "Address=172.29.236.11/22\n" in network
    assert "\n[Route]\nGateway=172.29.236.1\n" in network
    assert "ConfigureWithoutCarrier=yes" in network
    port = written(result, f"{ETC}/05-strata-port-eth0.network")
    assert "[Match]\nName=eth0\n\n[Network]\nBridge=br-mgmt\n" in port
    assert "Address=" not in port
    netdev = written(result, f"{ETC}/05-strata-bridge-br-mgmt.netdev")
    assert "[NetDev]\nName=br-mgmt\nKind=bridge\n" in netdev and "STP=no" in netdev
    assert result.files_before()[f"{ETC}/10-lab-eth0.network"] == LAB_ETH0
    assert result.files_after()[f"{ETC}/10-lab-eth0.network.disabled-by-strata"] == LAB_ETH0


def test_second_run_changes_no_file():
    first = plan(networkd=[(f"{ETC}/10-lab-eth0.network", LAB_ETH0)])
    now = [(s.path, s.text) for s in first.steps if s.action == "write"]
    now.append((f"{ETC}/10-lab-eth0.network.disabled-by-strata", LAB_ETH0))
    second = plan(networkd=now)
    assert second.steps == [] and second.superseded == []


def test_our_files_sort_before_the_lab_files_so_they_win():
    first = plan(networkd=[(f"{ETC}/10-lab-eth0.network", LAB_ETH0)])
    ours = [s.path.rsplit("/", 1)[1] for s in first.steps if s.action == "write"]
    assert all(name < "10-lab-eth0.network" for name in ours)


def test_a_file_sorting_before_ours_fails():
    (problem,) = problems(networkd=[(f"{ETC}/00-all.network", "[Match]\nName=eth*\n")])
    assert problem.startswith(f"{ETC}/00-all.network matches eth0 and sorts before")
    found = problems(networkd=[(f"{ETC}/01-x.network", "[Match]\nPath=pci-*\n")])
    assert ["may match br-mgmt" in p for p in found] == [True, False]
    assert "may match eth0" in found[1]


def test_a_shared_file_is_left_in_place():
    shared = "[Match]\nName=eth*\n\n[Network]\nLinkLocalAddressing=no\n"
    result = plan(networkd=[(f"{ETC}/20-ethernet.network", shared)])
    assert not [s for s in result.steps if s.action == "rename"]
    (entry,) = result.superseded
    assert entry["action"].startswith("left in place: it also applies to other links")


def test_files_outside_etc_are_left_and_masked_ones_ignored():
    lib = "/usr/lib/systemd/network/10-lab-eth0.network"
    result = plan(networkd=[(lib, LAB_ETH0)])
    assert [s["action"].split(":")[0] for s in result.superseded] == ["left in place"]
    result = plan(networkd=[(lib, LAB_ETH0), (f"{ETC}/10-lab-eth0.network", None)])
    assert result.superseded == []


def test_settings_that_matter_are_carried_and_kept_on_the_next_run():
    bond = (
        "[Match]\nName=bond0\n\n[Network]\nAddress=172.29.236.11/22\nGateway=172.29.236.1\n"
        "DNS=172.29.236.2\nVLAN=bond0.20\n\n[Link]\nMTUBytes=9000\n"
    )
    want = desired(ports=["bond0"])
    links = after(["bond0"], {"bond0": "bond"})
    result = plan(networkd=[(f"{ETC}/10-bond0.network", bond)], want=want, links=links)
    port = written(result, f"{ETC}/05-strata-port-bond0.network")
    assert "VLAN=bond0.20\n" in port and "\n[Link]\nMTUBytes=9000\n" in port
    assert "DNS=172.29.236.2\n" in written(result, f"{ETC}/05-strata-bridge-br-mgmt.network")
    now = [(s.path, s.text) for s in result.steps if s.action == "write"]
    again = plan(networkd=now, want=want, links=links)
    assert again.steps == []


def test_a_setting_that_cannot_be_carried_fails():
    dhcp = "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n"
    (problem,) = problems(networkd=[(f"{ETC}/10-eth0.network", dhcp)])
    assert problem.startswith(f"{ETC}/10-eth0.network line 5: [Network] DHCP=yes applies to eth0")


def test_an_old_netdev_for_the_bridge_is_disabled_or_refused():
    netdev = "[NetDev]\nName=br-mgmt\nKind=bridge\n\n[Bridge]\nSTP=no\n"
    result = plan(networkd=[(f"{ETC}/10-br-mgmt.netdev", netdev)])
    assert (
        "rename",
        f"{ETC}/10-br-mgmt.netdev",
        f"{ETC}/10-br-mgmt.netdev.disabled-by-strata",
    ) in (actions(result))
    (problem,) = problems(networkd=[(f"{ETC}/10-br-mgmt.netdev", netdev + "VLANFiltering=yes\n")])
    assert "[Bridge] VLANFiltering=yes of br-mgmt is not something linux_bridge sets" in problem


def test_stale_port_file_of_ours_is_deleted():
    first = plan(want=desired(ports=["eth0", "eth9"]), links=after(["eth0", "eth9"]))
    now = [(s.path, s.text) for s in first.steps if s.action == "write"]
    result = plan(networkd=now)
    assert actions(result) == [
        ("delete", f"{ETC}/05-strata-port-eth9.network", None),
        ("networkd", "systemd-networkd.service", "reload"),
    ]


def test_routes_and_mtu_and_stp_are_rendered():
    route = Route(
        family=4, dst="10.50.0.0/16", gateway="172.29.236.254", metric=50, table=100, protocol=3
    )
    want = desired(mtu=9000, stp=True, forward_delay=4)
    result = plan(want=want, links=after(routes=(route,)))
    network = written(result, f"{ETC}/05-strata-bridge-br-mgmt.network")
    assert (
        "[Route]\nDestination=10.50.0.0/16\nGateway=172.29.236.254\nMetric=50\nTable=100\n"
        in network
    )
    netdev = written(result, f"{ETC}/05-strata-bridge-br-mgmt.netdev")
    assert "MTUBytes=9000\n" in netdev and "STP=yes\nForwardDelaySec=4\n" in netdev


# ------------------------------------------------------------ service handling


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        (NetworkdService(control=True, enabled=False, active=False), "enable"),
        (NetworkdService(control=True, enabled=True, active=False), "start"),
        (RUNNING, "reload"),
    ],
)
def test_networkd_is_made_to_read_the_files(service, expected):
    result = plan(service=service)
    assert result.steps[-1].action == "networkd" and result.steps[-1].target == expected


def test_no_service_commands_outside_the_real_root_or_without_changes():
    result = plan(service=NetworkdService(control=False))
    assert all(s.action == "write" for s in result.steps)


def test_networkd_not_installed_fails():
    (problem,) = problems(service=NetworkdService(control=True, installed=False))
    assert problem.startswith("systemd-networkd is not installed")


def test_networkd_state_file_is_checked():
    ours = f"{ETC}/05-strata-bridge-br-mgmt.network"
    state = networkd_link_state(f"# comment\nADMIN_STATE=configured\nNETWORK_FILE={ours}\n")
    assert check_networkd_link("br-mgmt", state, ours) is None
    assert check_networkd_link("br-mgmt", {"ADMIN_STATE": "configuring"}, ours) == "pending"
    other = {"ADMIN_STATE": "configured", "NETWORK_FILE": f"{ETC}/10-lab-eth0.network"}
    assert "from /etc/systemd/network/10-lab-eth0.network" in check_networkd_link("x", other, ours)
    assert check_networkd_link("x", {"ADMIN_STATE": "unmanaged"}, ours).endswith("as unmanaged")


# -------------------------------------------------------- ifupdown (Debian netinst)

NETINST = """\
# This file describes the network interfaces available on your system
source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug eth0
iface eth0 inet static
\taddress 172.29.236.11/22
\tgateway 172.29.236.1
\t# dns-* options are implemented by the resolvconf package, if installed
\tdns-nameservers 172.29.236.2 172.29.236.3
\tdns-search example.net
"""


def test_netinst_static_stanza_is_taken_over():
    service = NetworkdService(control=True, enabled=False, active=False)
    result = plan(ifupdown=[("/etc/network/interfaces", NETINST)], service=service)
    text = written(result, "/etc/network/interfaces")
    assert "auto lo\niface lo inet loopback\n" in text
    assert f"{IFUPDOWN_MARK}allow-hotplug eth0\n{IFUPDOWN_MARK}iface eth0 inet static\n" in text
    assert f"{IFUPDOWN_MARK}\tdns-search example.net\n" in text
    assert [
        line for line in text.splitlines() if "eth0" in line and IFUPDOWN_MARK not in line
    ] == []
    network = written(result, f"{ETC}/05-strata-bridge-br-mgmt.network")
    assert "DNS=172.29.236.2\nDNS=172.29.236.3\nDomains=example.net\n" in network
    (entry,) = result.superseded
    assert entry["action"].startswith("commented out lines 10-15 (iface eth0 inet)")
    assert result.steps[-1].target == "enable"


def test_taken_over_interfaces_file_is_stable():
    once = disable_in_interfaces(NETINST, "eth0")
    assert disable_in_interfaces(once, "eth0") == once
    result = plan(ifupdown=[("/etc/network/interfaces", once)])
    assert "/etc/network/interfaces" not in [s.path for s in result.steps]


def test_auto_line_with_several_interfaces_keeps_the_others():
    text = "auto lo eth0 eth1\niface eth0 inet manual\n"
    assert disable_in_interfaces(text, "eth0") == (
        f"{IFUPDOWN_MARK}auto lo eth0 eth1\nauto lo eth1\n{IFUPDOWN_MARK}iface eth0 inet manual\n"
    )


def test_manual_stanza_that_creates_the_port_is_left_alone():
    text = (
        "auto bond0.20\niface bond0.20 inet manual\n    vlan-raw-device bond0\n"
        "    post-up ip link set $IFACE mtu 9000\n"
    )
    want = desired(ports=["bond0.20"])
    links = after(["bond0.20"], {"bond0.20": "vlan"})
    result = plan(ifupdown=[("/etc/network/interfaces.d/vlans", text)], want=want, links=links)
    assert "/etc/network/interfaces.d/vlans" not in [s.path for s in result.steps]
    (entry,) = result.superseded
    assert entry["action"].startswith("left in place: ifupdown only brings bond0.20 up")


def test_stanza_with_address_and_bond_options_fails_with_instructions():
    text = (
        "auto bond0\niface bond0 inet static\n    address 172.29.236.11/22\n"
        "    bond-slaves eno1 eno2\n    bond-mode 802.3ad\n"
    )
    want = desired(ports=["bond0"])
    found = problems(
        ifupdown=[("/etc/network/interfaces", text)],
        want=want,
        links=after(["bond0"], {"bond0": "bond"}),
    )
    assert len(found) == 2
    assert found[0].startswith("/etc/network/interfaces line 4: option 'bond-slaves eno1 eno2'")
    assert "make the stanza 'inet manual' without addresses" in found[0]


def test_dhcp_stanza_fails():
    (problem,) = problems(ifupdown=[("/etc/network/interfaces", "iface eth0 inet dhcp\n")])
    assert "ifupdown configures eth0 with method dhcp" in problem


def test_bridge_stanza_of_ifupdown_is_taken_over():
    text = (
        "auto br-mgmt\niface br-mgmt inet static\n    bridge_ports eth0\n    bridge_stp off\n"
        "    bridge_fd 0\n    address 172.29.236.11/22\n"
    )
    result = plan(ifupdown=[("/etc/network/interfaces.d/br-mgmt", text)])
    assert written(result, "/etc/network/interfaces.d/br-mgmt").count(IFUPDOWN_MARK) == 6


# ---------------------------------------------------------------------- absent


def test_absent_deletes_our_files_only():
    first = plan(networkd=[(f"{ETC}/10-lab-eth0.network", LAB_ETH0)])
    now = [(s.path, s.text) for s in first.steps if s.action == "write"]
    now.append((f"{ETC}/10-other.network", "[Match]\nName=eth1\n"))
    result = plan(networkd=now, want=desired(state="absent", ports=[], addresses=[]), links={})
    assert sorted(s.path for s in result.steps if s.action == "delete") == sorted(
        p for p, _ in now[:3]
    )


def test_absent_refuses_when_other_config_recreates_the_bridge():
    want = desired(state="absent", ports=[], addresses=[])
    found = problems(
        networkd=[(f"{ETC}/10-br.netdev", "[NetDev]\nName=br-mgmt\nKind=bridge\n")],
        ifupdown=[("/etc/network/interfaces", "iface br-mgmt inet manual\n")],
        want=want,
        links={},
    )
    assert found == [
        f"{ETC}/10-br.netdev creates br-mgmt at boot; remove it too or the bridge comes back",
        "/etc/network/interfaces line 1 configures br-mgmt (ifupdown); remove that stanza too or "
        "the bridge comes back at boot",
    ]


# ------------------------------------------------------------------- matching


@pytest.mark.parametrize(
    ("match", "name", "kind", "expected"),
    [
        ("Name=eth0", "eth0", "", "yes"),
        ("Name=eth1 eth0", "eth0", "veth", "yes"),
        ("Name=en*", "eth0", "", "no"),
        ("Name=!eth0", "eth0", "", "no"),
        ("Name=!eth1", "eth0", "", "yes"),
        ("Type=ether", "bond0", "bond", "no"),
        ("Type=vlan", "bond0.20", "vlan", "yes"),
        ("Kind=bond", "bond0", "bond", "yes"),
        ("Name=eth0\nMACAddress=00:11:22:33:44:55", "eth0", "", "maybe"),
        ("WLANInterfaceType=ad-hoc", "eth0", "", "no"),
        ("", "eth0", "", "yes"),
    ],
)
def test_match_link(match, name, kind, expected):
    assert match_link(parse_unit(f"[Match]\n{match}\n"), name, kind) == expected


def test_earlier_directory_masks_the_same_file_name():
    files = [
        ConfigFile("/usr/lib/systemd/network/10-a.network", "lib"),
        ConfigFile(f"{ETC}/10-a.network", "etc"),
        ConfigFile("/run/systemd/network/05-b.network", "run"),
        ConfigFile(f"{ETC}/05-b.network", None),
    ]
    assert [f.text for f in effective_files(files)] == ["etc"]

"""Bridges on three networks, built over the live connection, back after a restart (side_effect)."""

import json

import pytest

from tests.infra import inventory, playbook

HOSTS = inventory.hosts()
NETWORKS = {
    "br-mgmt": ("eth0", "management_address"),
    "br-storage": ("eth1", "storage_address"),
    "br-repl": ("eth2", "replication_address"),
}


def links(host):
    return {link["ifname"]: link for link in json.loads(host.check_output("ip -j addr show"))}


@pytest.mark.parametrize("bridge", sorted(NETWORKS))
def test_bridge_holds_the_address_and_the_port(host, bridge):
    port, address_var = NETWORKS[bridge]
    address = inventory.hostvars(host.backend.host)[address_var]
    state = links(host)
    assert state[bridge]["operstate"] == "UP"
    assert [a["local"] for a in state[bridge]["addr_info"] if a["family"] == "inet"] == [address]
    assert state[port].get("master") == bridge
    assert not [a for a in state[port]["addr_info"] if a["family"] == "inet"]


@pytest.mark.parametrize("bridge", sorted(NETWORKS))
def test_bridge_is_persistent(host, bridge):
    # Written for systemd-networkd; the side_effect step rebooted the host before these tests.
    assert host.file(f"/etc/systemd/network/05-strata-bridge-{bridge}.netdev").exists
    assert host.service("systemd-networkd").is_enabled


@pytest.mark.parametrize("peer", HOSTS)
@pytest.mark.parametrize("bridge", sorted(NETWORKS))
def test_reaches_every_peer_through_the_bridge(host, bridge, peer):
    address = inventory.hostvars(peer)[NETWORKS[bridge][1]]
    result = host.run(f"ping -c 1 -W 2 -I {bridge} {address}")
    assert result.rc == 0, result.stdout + result.stderr


def test_network_sysctls_applied(host):
    assert host.sysctl("net.ipv4.conf.all.rp_filter") == 2
    assert host.sysctl("net.core.somaxconn") == 4096
    reserved = host.check_output("cat /proc/sys/net/ipv4/ip_local_reserved_ports")
    assert reserved == "11211,15672,15692,25672,35672-35682"


def test_kernel_sysctls_written_not_applied_in_a_container(host):
    # The lab host is a container sharing the machine's kernel: written for bare metal only.
    assert "vm.swappiness=10" in host.file("/etc/sysctl.d/60-strata-kernel.conf").content_string


def test_check_mode_reports_nothing_to_change():
    playbook.assert_check_mode_clean("setup-hosts.yml")

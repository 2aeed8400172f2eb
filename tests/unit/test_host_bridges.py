"""Which bridges a host gets, with which address, from its inventory variables."""

import importlib.util
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "roles/host_networking/filter_plugins"
spec = importlib.util.spec_from_file_location(
    "strata_host_bridges", PLUGIN / "strata_host_bridges.py"
)
strata_host_bridges = importlib.util.module_from_spec(spec)
spec.loader.exec_module(strata_host_bridges)
host_bridges = strata_host_bridges.host_bridges

CIDRS = {
    "management_cidr": "172.29.236.0/22",
    "storage_cidr": "172.29.244.0/22",
    "replication_cidr": "172.29.248.0/22",
}


def test_a_bridge_per_network_the_host_has_an_address_on():
    host = {**CIDRS, "management_address": "172.29.236.10", "storage_address": "172.29.244.10"}
    assert host_bridges(host, ports={"br-mgmt": ["bond0.10"]}) == [
        {
            "name": "br-mgmt",
            "network": "management",
            "addresses": ["172.29.236.10/22"],
            "ports": ["bond0.10"],
            "mtu": None,
        },
        {
            "name": "br-storage",
            "network": "storage",
            "addresses": ["172.29.244.10/22"],
            "ports": [],
            "mtu": None,
        },
    ]


def test_provider_networks_name_the_bridges():
    host = {**CIDRS, "management_address": "172.29.236.10", "replication_address": "172.29.248.7"}
    providers = [
        {"network": {"container_bridge": "br-mgmt-x", "ip_from_q": "container"}},
        {"network": {"container_bridge": "br-swift-repl", "ip_from_q": "replication"}},
    ]
    bridges = host_bridges(host, providers, mtus={"br-swift-repl": 9000})
    assert [(b["name"], b["addresses"], b["mtu"]) for b in bridges] == [
        ("br-mgmt-x", ["172.29.236.10/22"], None),
        ("br-swift-repl", ["172.29.248.7/22"], 9000),
    ]


def test_no_network_no_bridge():
    assert host_bridges({"management_address": "172.29.236.10"}) == []

"""Which bridges a host gets, with which address, from its inventory variables."""

import importlib.util
import shutil
from pathlib import Path

from strata import ROOT, inventory

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


def test_network_bridges_name_the_bridges():
    host = {**CIDRS, "management_address": "172.29.236.10", "replication_address": "172.29.248.7"}
    bridges = host_bridges(
        host,
        {"management": "br-mgmt-x", "storage": "br-stor", "replication": "br-swift-repl"},
        mtus={"br-swift-repl": 9000},
    )
    assert [(b["name"], b["addresses"], b["mtu"]) for b in bridges] == [
        ("br-mgmt-x", ["172.29.236.10/22"], None),
        ("br-swift-repl", ["172.29.248.7/22"], 9000),
    ]


def test_a_network_network_bridges_does_not_name_gets_the_default_bridge():
    host = {**CIDRS, "management_address": "172.29.236.10", "storage_address": "172.29.244.10"}
    bridges = host_bridges(host, {"management": "br-mgmt-x"})
    assert [b["name"] for b in bridges] == ["br-mgmt-x", "br-storage"]


def test_no_network_no_bridge():
    assert host_bridges({"management_address": "172.29.236.10"}) == []


def test_bridges_from_the_inventory_as_the_role_sees_it(tmp_path):
    # What host_networking passes the filter: a host's vars (all's group vars, then its own)
    # and network_bridges. Ceph OSDs also get the replication (Ceph cluster) network's bridge.
    config_dir = tmp_path / "reference"
    ignore = shutil.ignore_patterns(f"{inventory.STATE_FILE}*", ".*")
    shutil.copytree(Path(ROOT) / "etc/strata/reference-1000", config_dir, ignore=ignore)
    _, inv, _ = inventory.generate(config_dir)
    all_vars = inv["all"]["vars"]

    def bridges_of(name):
        host = {**all_vars, **inv["_meta"]["hostvars"][name]}
        return [(b["name"], b["network"]) for b in host_bridges(host, all_vars["network_bridges"])]

    osd = inv["ceph_osd"]["hosts"][0]
    compute = inv["nova_compute"]["hosts"][0]
    database = inv["galera_all"]["hosts"][0]
    assert bridges_of(osd) == [
        ("br-mgmt", "management"),
        ("br-storage", "storage"),
        ("br-repl", "replication"),
    ]
    assert bridges_of(compute) == [("br-mgmt", "management"), ("br-storage", "storage")]
    assert bridges_of(database) == [("br-mgmt", "management")]

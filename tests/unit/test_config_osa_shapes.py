"""Configs shaped like each of OpenStack-Ansible's 9 example configs load (issue 10): what OSA's
own generator accepts, Strata accepts, with warnings for what it does not deploy.

The configs (tests/fixtures/osa-shapes/) are Strata's own, written for these tests."""

import ipaddress
import shutil
from pathlib import Path

import pytest

from strata import cli, inventory

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "osa-shapes"
NAMES = (
    "aio",
    "prod",
    "prod-ceph",
    "test",
    "multibond",
    "singlebond",
    "provnet-group",
    "az",
    "pod",
)


def load(name, tmp_path):
    directory = tmp_path / name
    shutil.copytree(SHAPES / name, directory)
    config, inv, warnings = inventory.generate(directory, write=False)
    return config, inv, "\n".join(warnings)


def test_every_shape_is_here():
    assert sorted(p.name for p in SHAPES.iterdir() if p.is_dir()) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_strata_inventory_validate_accepts_each_shape(tmp_path, name, capsys):
    directory = tmp_path / name
    shutil.copytree(SHAPES / name, directory)
    assert cli.main(["inventory", "validate", "--config-dir", str(directory)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("OK: ")
    assert "error:" not in captured.err


def test_aio_shape(tmp_path):
    config, inv, warnings = load("aio", tmp_path)
    # A reserved range may start at a network's own address or end at its broadcast address.
    for first, last in (("10.20.8.0", "10.20.8.50"), ("10.20.1.50", "10.20.3.255")):
        span = (int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last)))
        assert any(lo <= span[0] and span[1] <= hi for lo, hi in config.reserved)
    assert "used_ips outside every cidr_network reserve nothing and are ignored: 10.20.20.1" in (
        warnings
    )
    assert "'{{ deploy_host_public_address }}' is a Jinja expression" in warnings
    assert inv["all"]["vars"]["external_lb_vip_address"] == "{{ deploy_host_public_address }}"
    assert inv["haproxy_all"]["hosts"] == ["allinone"]


def test_prod_shape_limits_container_vars_to_their_components(tmp_path):
    config, inv, warnings = load("prod", tmp_path)
    ctl1 = inv["_meta"]["hostvars"]["ctl1"]
    assert "glance_remote_client" in ctl1  # image_hosts: limit_container_types glance
    assert "limit_container_types" not in ctl1
    assert set(ctl1["cinder_backends"]) == {"nfs_volume"}
    assert "groups Strata does not deploy are ignored: coordination_hosts" in warnings
    assert "gw1" in config.ignored_hosts
    assert inv["all"]["vars"]["external_lb_vip_address"] == "cloud.example.org"


def test_prod_ceph_shape_ignores_the_anchor_holder(tmp_path):
    config, inv, warnings = load("prod-ceph", tmp_path)
    assert "_infrastructure_hosts" not in warnings
    assert inv["ceph_mon"]["hosts"] == ["node1", "node2", "node3"]
    assert inv["ceph_osd"]["hosts"] == ["osd1", "osd2", "osd3"]
    assert "ceph_mds_hosts" in warnings


def test_test_shape_vip_on_the_only_load_balancer_is_a_warning(tmp_path):
    _, inv, warnings = load("test", tmp_path)
    assert "'10.50.0.11' is the address of ctl, the only haproxy host: accepted" in warnings
    assert inv["haproxy_all"]["hosts"] == ["ctl"]


@pytest.mark.parametrize("name", ["multibond", "singlebond", "provnet-group"])
def test_bond_and_group_bound_provider_networks(tmp_path, name):
    _, inv, _ = load(name, tmp_path)
    assert inv["all"]["vars"]["network_bridges"] == {
        "management": "br-mgmt",
        "storage": "br-storage",
    }
    address = ipaddress.ip_address(inv["_meta"]["hostvars"]["compute1"]["storage_address"])
    assert address in ipaddress.ip_network(inv["all"]["vars"]["storage_cidr"])


def test_az_shape_zones_from_env_d_and_a_storage_network_per_zone(tmp_path):
    config, inv, warnings = load("az", tmp_path)
    hostvars = inv["_meta"]["hostvars"]
    assert inv["z1_all"]["hosts"] == ["ctl1", "z1_ceph1", "z1_ceph2", "z1_cmp1"]
    assert inv["z2_all"]["hosts"] == ["ctl2", "z2_ceph1", "z2_cmp1"]
    # env.d: z1_ceph_mon_hosts -> z1_ceph_mon_containers -> ceph_mon_z1 -> ceph_mon.
    assert inv["ceph_mon"]["hosts"] == ["z1_ceph1", "z1_ceph2", "z2_ceph1"]
    assert inv["ceph_osd"]["hosts"] == ["z1_ceph1", "z1_ceph2", "z2_ceph1"]
    assert inv["ceph_mon_z1"]["hosts"] == ["z1_ceph1", "z1_ceph2"]
    assert hostvars["ctl1"]["storage_address"] == "10.80.8.1"
    assert hostvars["z1_ceph1"]["storage_address"] == "10.80.8.2"
    assert hostvars["z1_ceph1"]["storage_cidr"] == "10.80.8.0/24"
    assert hostvars["z2_ceph1"]["storage_address"] == "10.80.9.2"
    assert hostvars["ctl2"]["storage_cidr"] == "10.80.9.0/24"
    assert "storage_cidr" not in inv["all"]["vars"]
    assert "z1_controller_hosts" in warnings  # an anchor holder no env.d defines: ignored
    assert "'internal.zones.example' is a DNS name and Strata deploys no load balancer" in warnings
    assert "host names with '_'" in warnings


def test_pod_shape_management_and_storage_per_pod(tmp_path):
    config, inv, _ = load("pod", tmp_path)
    hostvars = inv["_meta"]["hostvars"]
    assert "management_cidr" not in inv["all"]["vars"]
    assert hostvars["infra1"]["management_cidr"] == "10.90.0.0/24"
    assert hostvars["infra3"]["management_cidr"] == "10.90.1.0/24"
    assert hostvars["infra1"]["storage_address"] == "10.90.8.51"
    assert hostvars["compute1"]["storage_address"] == "10.90.9.51"
    assert hostvars["compute1"]["storage_cidr"] == "10.90.9.0/24"
    assert inv["pod2_all"]["hosts"] == ["compute1", "infra3"]
    assert inv["all"]["vars"]["network_bridges"]["management"] == "br-mgmt"


def test_pod_shape_as_osa_publishes_it_fails_as_osa_fails(tmp_path):
    # OSA's .pod.example gives infra1 two addresses; OSA's generator stops with
    # "Host infra1 has both ... assigned", and so does Strata, naming both places.
    directory = tmp_path / "pod"
    shutil.copytree(SHAPES / "pod", directory)
    path = directory / "strata_user_config.yml"
    path.write_text(path.read_text().replace("    ip: 10.90.0.10\n", "    ip: 10.90.0.12\n", 1))
    assert cli.main(["inventory", "validate", "--config-dir", str(directory)]) == 2

"""strata.placement: a config's placement against seed 001's table, and `strata inventory
placement` on the shipped examples."""

import json
import textwrap
from pathlib import Path

from strata import ROOT, cli, config, placement

EXAMPLES = Path(ROOT) / "etc" / "strata"

HEADER = textwrap.dedent(
    """\
    cidr_networks:
      management: 10.0.0.0/22
      storage: 10.0.4.0/22
    used_ips:
      - "10.0.0.1,10.0.0.10"
    global_overrides:
      internal_lb_vip_address: 10.0.0.9
      external_lb_vip_address: 10.0.0.10
    """
)

# A layout that meets the table: what each service needs, on its own nodes where the seed asks.
MEETS = {
    "haproxy_hosts": ["lb1", "lb2"],
    "identity_hosts": ["ks1", "ks2", "ks3", "ks4", "ks5"],
    "memcaching_hosts": ["ks1", "ks2", "ks3", "ks4", "ks5"],
    "database_hosts": ["db1", "db2", "db3"],
    "mq_hosts": ["mq1", "mq2", "mq3"],
    "compute-infra_hosts": [f"nova{n}" for n in range(1, 9)],
    "storage-infra_hosts": ["ctl1", "ctl2", "ctl3"],
    "image_hosts": ["ctl1", "ctl2", "ctl3"],
    "network-infra_hosts": ["ctl1", "ctl2", "ctl3"],
    "storage_hosts": ["ctl1", "ctl2", "ctl3"],
    "ceph-mon_hosts": ["mon1", "mon2", "mon3"],
    "ceph-osd_hosts": ["osd1", "osd2", "osd3"],
    "compute_hosts": ["cmp1", "cmp2"],
}


def load(tmp_path, groups):
    """Write a config with these host groups (each host one address), load it and check it."""
    addresses = {}
    lines = [HEADER]
    for group, hosts in groups.items():
        lines.append(f"{group}:")
        for name in hosts:
            address = addresses.setdefault(name, f"10.0.1.{len(addresses) + 1}")
            lines.append(f"  {name}:\n    ip: {address}")
    (tmp_path / config.CONFIG_FILE).write_text("\n".join(lines) + "\n")
    cfg, _ = config.load(tmp_path)
    return placement.check(cfg.group_members(), placement.config_groups(cfg))


def rows(report):
    return {row.seed.service: row for row in report.rows}


def with_groups(**changes):
    groups = dict(MEETS)
    for group, hosts in changes.items():
        group = group.replace("__", "-")
        if hosts is None:
            groups.pop(group)
        else:
            groups[group] = hosts
    return groups


def test_the_seed_table_has_every_service_strata_deploys_once():
    services = [row.service for row in placement.SEED_001]
    assert services == [
        "keystone",
        "nova-api",
        "nova-scheduler",
        "nova-conductor",
        "nova-compute",
        "neutron-server",
        "glance-api",
        "cinder-api",
        "cinder-scheduler",
        "cinder-volume",
        "rabbitmq",
        "galera",
        "ceph-mon",
        "ceph-osd",
    ]
    by_service = {row.service: row for row in placement.SEED_001}
    assert (by_service["keystone"].instances, by_service["keystone"].dedicated) == (5, 5)
    assert by_service["nova-scheduler"].instances == 8
    assert by_service["rabbitmq"].shares is False
    assert by_service["glance-api"].lb is True


def test_a_layout_that_meets_the_table_has_no_warning(tmp_path):
    report = load(tmp_path, MEETS)
    assert report.warnings == []
    found = rows(report)
    assert found["keystone"].dedicated == ["ks1", "ks2", "ks3", "ks4", "ks5"]
    assert found["nova-api"].hosts == [f"nova{n}" for n in range(1, 9)]
    assert found["galera"].fronted and found["keystone"].fronted
    assert not found["rabbitmq"].fronted
    assert report.lb_hosts == ["lb1", "lb2"]
    # nova's control plane comes from Strata's inventory (compute-infra_hosts places it); api
    # and conductor cannot be placed apart.
    assert not found["nova-conductor"].from_osa_groups
    assert found["nova-api"].bundled["nova1"] == ["nova-conductor"]
    assert report.notes == [
        "nova-api and nova-conductor run on the same nodes: every config group that places "
        "nova-api (compute-infra_hosts, os-infra_hosts) places it too, so they are not counted "
        "as sharing (seed 001 gives them separate nodes)",
    ]


def test_rabbitmq_sharing_nodes_with_galera_is_a_departure(tmp_path):
    infra = ["infra1", "infra2", "infra3"]
    report = load(
        tmp_path, with_groups(database_hosts=None, mq_hosts=None, shared__infra_hosts=infra)
    )
    assert report.warnings == [
        "rabbitmq: shares 3 of its 3 nodes with galera (infra1, infra2, infra3); seed 001 puts "
        "it on 3 dedicated nodes",
        "galera: shares 3 of its 3 nodes with rabbitmq (infra1, infra2, infra3); seed 001 puts it "
        "on 3 dedicated nodes",
    ]
    assert rows(report)["galera"].dedicated == []
    # memcached (also from shared-infra_hosts) is light: not named.
    assert rows(report)["galera"].sharing["infra1"] == ["rabbitmq"]


def test_fewer_instances_than_the_seed_are_departures(tmp_path):
    report = load(
        tmp_path,
        with_groups(database_hosts=["db1", "db2"], identity_hosts=["ks1", "ks2", "ks3"]),
    )
    assert report.warnings == [
        "keystone: 3 instances (ks1, ks2, ks3); seed 001 recommends 5",
        "galera: 2 instances (db1, db2); seed 001 recommends 3",
    ]
    assert [r.seed.service for r in report.rows if r.warnings] == ["keystone", "galera"]


def test_a_service_missing_from_the_config_names_the_groups_that_would_place_it(tmp_path):
    report = load(tmp_path, with_groups(compute__infra_hosts=None))
    assert report.warnings == [
        "nova-api: not in this config (no host in compute-infra_hosts or os-infra_hosts); "
        "seed 001 runs 3 instances",
        "nova-scheduler: not in this config (no host in compute-infra_hosts or os-infra_hosts); "
        "seed 001 runs 8 instances",
        "nova-conductor: not in this config (no host in compute-infra_hosts or os-infra_hosts); "
        "seed 001 runs 3 instances",
    ]
    # Services counted per node have no minimum.
    report = load(tmp_path, with_groups(compute_hosts=None))
    assert report.warnings == []
    assert rows(report)["nova-compute"].hosts == []


def test_no_load_balancer_is_a_departure_for_the_services_the_seed_fronts(tmp_path):
    report = load(tmp_path, with_groups(haproxy_hosts=None))
    reason = "haproxy_all has no host (haproxy_hosts, load_balancer_hosts)"
    assert report.warnings == [
        f"{service}: no load balancer in front ({reason}); seed 001 puts one there"
        for service in ("keystone", "nova-api", "glance-api", "cinder-api", "galera")
    ]
    assert report.lb_hosts == []


def test_light_services_do_not_break_dedication_heavy_ones_do(tmp_path):
    # haproxy and cinder (light) on the keystone nodes: still dedicated.
    report = load(
        tmp_path, with_groups(haproxy_hosts=["ks1", "ks2"], storage_hosts=["ks1", "ks2", "ks3"])
    )
    assert report.warnings == []
    # A hypervisor on a galera node, and OSDs on computes (hyperconverged): departures. (Three
    # OSD hosts: Ceph's own check refuses 3-replica pools on fewer.)
    computes = ["cmp1", "cmp2", "cmp3"]
    report = load(tmp_path, with_groups(compute_hosts=[*computes, "db1"], ceph__osd_hosts=computes))
    assert report.warnings == [
        "galera: shares 1 of its 3 nodes with nova-compute (db1); seed 001 puts it on 3 "
        "dedicated nodes",
        "ceph-osd: shares 3 of its 3 nodes with nova-compute (cmp1, cmp2, cmp3); seed 001 puts "
        "it on dedicated nodes",
    ]
    assert rows(report)["galera"].dedicated == ["db2", "db3"]


def test_nova_api_on_separable_nodes_is_a_departure(tmp_path):
    # os-infra_hosts places nova's control plane (OSA) and glance: glance is light.
    groups = with_groups(compute__infra_hosts=None)
    groups["os-infra_hosts"] = [f"nova{n}" for n in range(1, 9)]
    groups["database_hosts"] = ["nova1", "nova2", "nova3"]
    report = load(tmp_path, groups)
    assert rows(report)["glance-api"].hosts == sorted(
        ["ctl1", "ctl2", "ctl3", *(f"nova{n}" for n in range(1, 9))]
    )
    assert report.warnings == [
        "nova-api: shares 3 of its 8 nodes with galera (nova1, nova2, nova3); seed 001 puts it "
        "on 3 dedicated nodes",
        "nova-conductor: shares 3 of its 8 nodes with galera (nova1, nova2, nova3); seed 001 "
        "puts it on 3 dedicated nodes",
        "galera: shares 3 of its 3 nodes with nova-api, nova-conductor (nova1, nova2, nova3); "
        "seed 001 puts it on 3 dedicated nodes",
    ]


def test_strata_inventory_groups_win_over_osa_groups():
    # Once Strata's table places nova's control plane, its inventory group is what counts.
    host_groups = {
        "compute-infra_hosts": ("nova_api_os_compute", "nova_scheduler", "nova_conductor"),
        "identity_hosts": ("keystone_all",),
        "haproxy_hosts": ("haproxy_all",),
        "swift_hosts": ("swift_storage",),
    }
    members = {
        "nova_api_os_compute": ["c1", "c2", "c3"],
        "nova_scheduler": ["c1", "c2", "c3"],
        "nova_conductor": ["c1", "c2", "c3"],
        "keystone_all": ["k1", "k2", "k3", "k4", "k5"],
        "haproxy_all": ["k1"],
        "swift_storage": ["k5"],
    }
    raw = {"compute-infra_hosts": ["x1"], "os-infra_hosts": ["x2"]}
    seed = [r for r in placement.SEED_001 if r.group in members]
    report = placement.check(members, raw, host_groups=host_groups, seed=seed)
    found = rows(report)
    assert found["nova-api"].hosts == ["c1", "c2", "c3"]
    assert not found["nova-api"].from_osa_groups
    assert found["nova-api"].feeders == ("compute-infra_hosts",)
    # Swift storage (disks) is heavy: the keystone node with it is not dedicated.
    assert report.warnings == [
        "keystone: shares 1 of its 5 nodes with swift-storage (k5); seed 001 puts it on 5 "
        "dedicated nodes",
        "nova-scheduler: 3 instances (c1, c2, c3); seed 001 recommends 8",
    ]
    assert report.notes[-1].startswith("nova-api and nova-conductor run on the same nodes")


def test_text_output_is_an_aligned_table_with_warnings(tmp_path):
    report = load(tmp_path, with_groups(database_hosts=["db1", "db2"]))
    text = placement.render_text(report, tmp_path, 30).splitlines()
    assert text[0] == (
        f"Placement of {tmp_path} (30 hosts) against seed 001, the reference architecture for "
        "1000 nodes"
    )
    assert text[1] == "load balancer: haproxy on 2 hosts (lb1, lb2)"
    table = text[3 : 3 + 1 + len(placement.SEED_001)]
    assert table[0].split() == [
        "SERVICE", "GROUP", "HOSTS", "SEED", "DEDICATED", "SEED", "LB", "SEED",
    ]  # fmt: skip
    column = table[0].index("HOSTS")
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in table)
    galera = next(line for line in table if line.startswith("galera "))
    assert galera.split() == ["galera", "galera_all", "2", "3", "2", "3", "yes", "yes", "departs"]
    assert "warning: galera: 2 instances (db1, db2); seed 001 recommends 3" in text
    assert text[-1].startswith("1 departure from seed 001's table")


def test_cli_on_the_reference_example_meets_the_table(capsys):
    directory = EXAMPLES / "reference-1000"
    assert cli.main(["inventory", "placement", "--config-dir", str(directory)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "OK: the placement meets seed 001's table"
    assert not any(line.startswith("warning:") for line in out)
    argv = ["inventory", "placement", "--config-dir", str(directory), "--format", "json"]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["warnings"] == []
    assert data["hosts"] == 561
    services = {s["service"]: s for s in data["services"]}
    assert services["keystone"]["instances"] == 5
    assert services["keystone"]["dedicated"] == 5
    assert services["keystone"]["seed"] == {
        "instances": 5,
        "dedicated": 5,
        "can_share_a_node": False,
        "load_balancer": True,
        "per": None,
    }
    assert services["ceph-osd"]["instances"] == 45
    assert services["nova-compute"]["instances"] == 489


def test_cli_on_the_small_and_aio_examples_warns_and_exits_0(capsys):
    assert cli.main(["inventory", "placement", "--config-dir", str(EXAMPLES / "small")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        "warning: rabbitmq: shares 3 of its 3 nodes with galera, keystone (infra1, infra2, "
        "infra3); seed 001 puts it on 3 dedicated nodes"
    ) in out
    assert "warning: keystone: 3 instances (infra1, infra2, infra3); seed 001 recommends 5" in out
    directory = EXAMPLES / "aio"
    argv = ["inventory", "placement", "--config-dir", str(directory), "--format", "json"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert "galera: 1 instance (aio1); seed 001 recommends 3" in data["warnings"]
    # The config's own warnings go to stderr, outside the JSON.
    assert "galera_all has 1 host (aio1)" in captured.err


def test_cli_bad_config_is_an_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / config.CONFIG_FILE).write_text("cidr_networks: [\n")
    assert cli.main(["inventory", "placement", "--config-dir", str(tmp_path)]) == 2
    assert "bad YAML" in capsys.readouterr().err

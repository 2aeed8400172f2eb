"""strata.config: loading, merging conf.d, OSA compatibility, the shipped examples."""

import textwrap
from pathlib import Path

import pytest

from strata import ROOT, config

EXAMPLES = Path(ROOT) / "etc" / "strata"

MINIMAL = textwrap.dedent(
    """\
    cidr_networks:
      management: 10.0.0.0/24
      storage: 10.0.1.0/24
    global_overrides:
      internal_lb_vip_address: 10.0.0.9
      external_lb_vip_address: 10.0.0.10
    """
)


def write(directory, text, name=config.CONFIG_FILE):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_aio_example_loads_with_only_the_single_host_warnings():
    cfg, warnings = config.load(EXAMPLES / "aio")
    assert list(cfg.hosts) == ["aio1"]
    assert [w.split(": ", 2)[2] for w in warnings] == [
        "galera_all has 1 host (aio1); expected 3 or more so that the cluster survives the loss "
        "of one",
        "rabbitmq_all has 1 host (aio1); expected 3 or more so that the cluster survives the "
        "loss of one",
        "ceph_mon has 1 host (aio1); expected 3 or more so that the cluster survives the loss of "
        "one",
    ]
    aio1 = cfg.hosts["aio1"]
    # Every component group Strata deploys.
    assert set(aio1.components) == set(config.COMPONENT_GROUPS)
    assert aio1.networks == ("storage", "replication")
    assert aio1.host_vars["lab_loop_devices"] == 3
    assert {n: net.cidr for n, net in cfg.networks.items()} == {
        "management": "172.29.236.0/22",
        "storage": "172.29.244.0/22",
        "replication": "172.29.248.0/22",
    }
    # The lab machine holds the first address of each network.
    for net in cfg.networks.values():
        assert any(lo <= net.first <= hi for lo, hi in cfg.reserved), net.name
    assert cfg.global_overrides["internal_lb_vip_address"] == "172.29.236.9"
    assert [p.name for p in cfg.user_variable_files] == ["user_variables.yml"]


def test_small_example_loads_without_warnings():
    cfg, warnings = config.load(EXAMPLES / "small")
    assert warnings == []
    assert len(cfg.hosts) == 18
    members = cfg.group_members()
    counts = {group: len(members[group]) for group in members}
    assert counts["galera_all"] == 3
    assert counts["swift_proxy"] == 2
    assert counts["swift_storage"] == 3
    assert counts["ceph_mon"] == 3
    assert counts["ceph_osd"] == 3
    assert counts["cinder_volume"] == 2
    assert counts["nova_compute"] == 2
    # OSA's `container` is the management network.
    assert cfg.networks["management"].name == "container"
    # The replication provider network binds ceph-osd: the Ceph cluster network.
    assert cfg.hosts["ceph-osd1"].networks == ("storage", "replication")
    assert cfg.hosts["ceph-mon1"].networks == ("storage",)
    zones = {cfg.hosts[f"swift{n}"].host_vars["swift_vars"]["zone"] for n in (1, 2, 3)}
    assert zones == {1, 2, 3}


def test_reference_example_follows_the_seed_placement():
    cfg, warnings = config.load(EXAMPLES / "reference-1000")
    # Its nova control plane (compute-infra_hosts) is deployed: no warning at all.
    assert warnings == []
    members = cfg.group_members()
    assert len(members["galera_all"]) == 3
    assert len(members["rabbitmq_all"]) == 3
    assert len(members["ceph_mon"]) == 3
    assert len(members["keystone_all"]) == 5
    assert len(members["ceph_osd"]) == 45
    assert all(len(cfg.hosts[h].host_vars["ceph_osd_devices"]) == 10 for h in members["ceph_osd"])
    # 516 compute/controller nodes + 45 storage nodes.
    assert len(cfg.hosts) + len(cfg.ignored_hosts) == 516 + 45


def test_conf_d_files_merge_in_name_order(tmp_path):
    write(tmp_path, MINIMAL + "used_ips:\n  - 10.0.0.1\n")
    write(
        tmp_path,
        """\
        used_ips:
          - 10.0.1.1
        global_overrides:
          management_bridge: br-mgmt
        compute_hosts:
          c2:
            ip: 10.0.0.22
        """,
        "conf.d/b.yml",
    )
    write(tmp_path, "compute_hosts:\n  c1:\n    ip: 10.0.0.21\n", "conf.d/a.yml")
    write(tmp_path, "", "conf.d/empty.yml")
    write(tmp_path, "compute_hosts:\n  c9:\n    ip: 10.0.0.29\n", "conf.d/ignored.yaml")
    cfg, _ = config.load(tmp_path)
    assert [p.name for p in cfg.files] == [config.CONFIG_FILE, "a.yml", "b.yml", "empty.yml"]
    assert list(cfg.hosts) == ["c1", "c2"]
    # used_ips of both files, and the two VIPs (10.0.0.9, 10.0.0.10).
    assert cfg.reserved == [
        (0x0A000001, 0x0A000001),
        (0x0A000009, 0x0A00000A),
        (0x0A000101, 0x0A000101),
    ]
    assert cfg.global_overrides["management_bridge"] == "br-mgmt"


def test_used_ips_and_vips_become_merged_integer_ranges(tmp_path):
    write(tmp_path, MINIMAL + 'used_ips:\n  - "10.0.0.1,10.0.0.8"\n  - 10.0.0.11\n')
    cfg, _ = config.load(tmp_path)
    base = 0x0A000000
    # 1-8 and the VIPs 9, 10 join into one range; 11 joins it too.
    assert cfg.reserved == [(base + 1, base + 11)]


def test_osa_group_spellings_with_underscores(tmp_path):
    write(tmp_path, MINIMAL + "shared_infra_hosts:\n  i1:\n    ip: 10.0.0.11\n")
    cfg, _ = config.load(tmp_path)
    assert cfg.hosts["i1"].components == ("galera_all", "memcached_all", "rabbitmq_all")


def test_empty_group_is_accepted(tmp_path):
    write(tmp_path, MINIMAL + "compute_hosts:\n")
    cfg, _ = config.load(tmp_path)
    assert cfg.hosts == {}


def test_limit_container_types_applies_vars_only_to_matching_groups(tmp_path):
    write(
        tmp_path,
        MINIMAL
        + textwrap.dedent(
            """\
            storage_hosts:
              s1:
                ip: 10.0.0.31
                container_vars:
                  cinder_backends:
                    limit_container_types: cinder_volume
                    lvm:
                      volume_driver: cinder.volume.drivers.lvm.LVMVolumeDriver
                      volume_group: cinder-volumes
                      devices: [/dev/sdb]
                  plain_var: 1
            compute_hosts:
              c1:
                ip: 10.0.0.21
                container_vars:
                  cinder_backends:
                    limit_container_types: cinder_volume
                    lvm:
                      volume_group: other
                  swift_vars:
                    limit_container_types: swift
                    zone: 3
            """
        ),
    )
    cfg, _ = config.load(tmp_path)
    assert cfg.hosts["s1"].host_vars == {
        "cinder_backends": {
            "lvm": {
                "volume_driver": "cinder.volume.drivers.lvm.LVMVolumeDriver",
                "volume_group": "cinder-volumes",
                "devices": ["/dev/sdb"],
            }
        },
        "plain_var": 1,
    }
    assert cfg.hosts["c1"].host_vars == {}


def test_anchored_container_vars_are_not_changed_by_merging(tmp_path):
    write(
        tmp_path,
        MINIMAL
        + textwrap.dedent(
            """\
            compute_hosts:
              c1:
                ip: 10.0.0.21
                container_vars: &common
                  tuning:
                    a: 1
              c2:
                ip: 10.0.0.22
                container_vars: *common
            storage_hosts:
              c1:
                ip: 10.0.0.21
                container_vars:
                  tuning:
                    b: 2
            """
        ),
    )
    cfg, _ = config.load(tmp_path)
    assert cfg.hosts["c1"].host_vars == {"tuning": {"a": 1, "b": 2}}
    assert cfg.hosts["c2"].host_vars == {"tuning": {"a": 1}}


def test_networks_each_host_needs_come_from_the_table(tmp_path):
    write(
        tmp_path,
        MINIMAL.replace("storage: 10.0.1.0/24", "storage: 10.0.1.0/24\n  replication: 10.0.2.0/24")
        + textwrap.dedent(
            """\
            database_hosts:
              db1: {ip: 10.0.0.11}
            compute_hosts:
              c1: {ip: 10.0.0.21}
            swift_hosts:
              sw1: {ip: 10.0.0.31}
            ceph-osd_hosts:
              osd1: {ip: 10.0.0.41}
            image_hosts:
              g1: {ip: 10.0.0.51}
            """
        ),
    )
    # swift needs its settings; give them in conf.d.
    write(
        tmp_path,
        """\
        global_overrides:
          swift:
            part_power: 8
            replicas: 1
            drives: [{name: sdb}]
          # One OSD host: one copy per pool (strata.ceph_config checks size against hosts).
          ceph_client_pool_default_size: 1
          ceph_client_pool_default_min_size: 1
        """,
        "conf.d/swift.yml",
    )
    cfg, _ = config.load(tmp_path)
    needs = {name: host.networks for name, host in cfg.hosts.items()}
    assert needs == {
        "c1": ("storage",),
        "db1": (),
        "g1": ("storage",),
        "osd1": ("storage",),  # replication only when a provider network binds ceph_osd
        "sw1": ("storage", "replication"),
    }


def test_provider_network_group_binds_add_networks(tmp_path):
    write(
        tmp_path,
        MINIMAL.replace(
            "storage: 10.0.1.0/24", "storage: 10.0.1.0/24\n  replication: 10.0.2.0/24"
        ).replace(
            "global_overrides:\n",
            "global_overrides:\n  ceph_client_pool_default_size: 1\n"
            "  ceph_client_pool_default_min_size: 1\n  provider_networks:\n    - network:\n"
            "        container_bridge: br-repl\n        ip_from_q: replication\n"
            "        group_binds: [ceph-osd, neutron_linuxbridge_agent]\n",
        )
        + "ceph-osd_hosts:\n  osd1: {ip: 10.0.0.41}\ndatabase_hosts:\n  db1: {ip: 10.0.0.11}\n",
    )
    cfg, _ = config.load(tmp_path)
    assert cfg.hosts["osd1"].networks == ("storage", "replication")
    assert cfg.hosts["db1"].networks == ()


def test_unknown_network_name_warns(tmp_path):
    path = write(tmp_path, MINIMAL.replace("  storage:", "  storag: 10.0.5.0/24\n  storage:"))
    _, warnings = config.load(tmp_path)
    assert warnings == [
        f"{path}:3: cidr_networks.storag: not a network Strata uses (management or container, "
        "storage, replication, tunnel, or one a provider network gives that address_prefix); "
        "only checked for overlaps; did you mean storage?",
        f"{path}: no hosts that Strata deploys; the inventory is empty (expected NAME_hosts "
        "groups such as shared-infra_hosts with hosts)",
    ]


def test_user_variables_may_hold_vault_values(tmp_path):
    write(tmp_path, MINIMAL)
    write(
        tmp_path,
        """\
        secret: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          6231
        """,
        "user_variables_secret.yml",
    )
    cfg, _ = config.load(tmp_path)
    assert [p.name for p in cfg.user_variable_files] == ["user_variables_secret.yml"]


def test_config_dir_from_argument_environment_default(monkeypatch):
    monkeypatch.delenv("STRATA_CONFIG_DIR", raising=False)
    assert config.config_dir_from() == Path("/etc/strata")
    monkeypatch.setenv("STRATA_CONFIG_DIR", "/srv/strata")
    assert config.config_dir_from() == Path("/srv/strata")
    assert config.config_dir_from("/opt/x") == Path("/opt/x")


@pytest.mark.parametrize(
    ("ranges", "merged"),
    [
        ([], []),
        ([(5, 9), (1, 3)], [(1, 3), (5, 9)]),
        ([(1, 3), (4, 6)], [(1, 6)]),
        ([(1, 10), (2, 3)], [(1, 10)]),
        ([(7, 7), (1, 8)], [(1, 8)]),
    ],
)
def test_merge_ranges(ranges, merged):
    assert config.merge_ranges(ranges) == merged


def test_reserved_count_clips_to_the_range():
    assert config.reserved_count([(1, 5), (8, 20)], 3, 10) == 3 + 3

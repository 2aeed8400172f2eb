"""One test per validation class of strata.config: the exact message (file:line, key path, value,
what was expected), and that one bad config reports every problem at once."""

import textwrap

import pytest

from strata import config
from strata.errors import ValidationError

# A valid config with no warnings; each test changes one thing.
BASE = textwrap.dedent(
    """\
    cidr_networks:
      management: 10.0.0.0/24
      storage: 10.0.1.0/24
      replication: 10.0.2.0/24
    used_ips:
      - "10.0.0.1,10.0.0.9"
      - 10.0.1.1
    global_overrides:
      internal_lb_vip_address: 10.0.0.9
      external_lb_vip_address: 203.0.113.9
      swift:
        part_power: 8
        replicas: 3
        drives:
          - name: sdb
        storage_policies:
          - policy:
              name: gold
              index: 0
              default: true
    shared-infra_hosts:
      infra1:
        ip: 10.0.0.11
      infra2:
        ip: 10.0.0.12
      infra3:
        ip: 10.0.0.13
    ceph-mon_hosts:
      mon1:
        ip: 10.0.0.14
      mon2:
        ip: 10.0.0.15
      mon3:
        ip: 10.0.0.16
    compute_hosts:
      compute1:
        ip: 10.0.0.21
    swift_hosts:
      swift1:
        ip: 10.0.0.31
        container_vars:
          swift_vars:
            zone: 1
      swift2:
        ip: 10.0.0.32
        container_vars:
          swift_vars:
            zone: 2
      swift3:
        ip: 10.0.0.33
        container_vars:
          swift_vars:
            zone: 3
    """
)


def write(directory, text, name=config.CONFIG_FILE):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def line_of(text, needle, start=0):
    """1-based line of the first line containing ``needle`` (after line ``start``)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def problems_of(directory):
    with pytest.raises(ValidationError) as caught:
        config.load(directory)
    return caught.value.problems


def warnings_of(directory):
    _, warnings = config.load(directory)
    return warnings


def test_base_is_valid_without_warnings(tmp_path):
    write(tmp_path, BASE)
    cfg, warnings = config.load(tmp_path)
    assert warnings == []
    assert len(cfg.hosts) == 10


def test_bad_yaml_names_the_line(tmp_path):
    text = BASE.replace("  infra2:\n", "  infra2:\n   bad: [\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'infra3')}: bad YAML: did not find expected ',' or ']' "
        f"(line {line_of(text, 'infra3')}, column 9); expected valid YAML"
    ]


def test_bad_yaml_in_conf_d_and_user_variables_reported_together(tmp_path):
    write(tmp_path, BASE)
    conf_d = write(tmp_path, "compute_hosts:\n  c2: {ip: 10.0.0.22\n", "conf.d/compute.yml")
    user_vars = write(tmp_path, "a: 1\n  b: 2\n", "user_variables.yml")
    problems = problems_of(tmp_path)
    assert len(problems) == 2
    assert problems[0].startswith(f"{conf_d}:3: bad YAML: ")
    assert problems[1] == (
        f"{user_vars}:2: bad YAML: mapping values are not allowed in this context "
        "(line 2, column 4); expected valid YAML"
    )


def test_duplicate_key(tmp_path):
    text = BASE.replace("  infra3:\n    ip: 10.0.0.13\n", "  infra1:\n    ip: 10.0.0.13\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'infra1', line_of(text, 'infra2'))}: infra1: key given twice in "
        "the same mapping; expected each key once"
    ]


def test_unknown_group_suggests_the_near_name(tmp_path):
    text = BASE.replace("swift_hosts:", "swfit_hosts:")
    path = write(tmp_path, text)
    problems = problems_of(tmp_path)
    assert (
        f"{path}:{line_of(text, 'swfit_hosts')}: swfit_hosts: unknown group; did you mean "
        "swift_hosts?" in problems
    )


def test_unknown_top_level_key(tmp_path):
    text = BASE + "global_override:\n  a: 1\n"
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'global_override:')}: global_override: unknown key; expected "
        "cidr_networks, used_ips, global_overrides or a NAME_hosts group; did you mean "
        "global_overrides?"
    ]


def test_groups_strata_does_not_deploy_give_one_warning(tmp_path):
    text = (
        BASE + "network_hosts:\n  net1:\n    ip: 10.0.0.41\ndashboard_hosts:\n  infra1:\n"
        "    ip: 10.0.0.11\n"
    )
    path = write(tmp_path, text)
    cfg, warnings = config.load(tmp_path)
    assert warnings == [
        f"{path}:{line_of(text, 'network_hosts')}: groups Strata does not deploy are ignored: "
        "network_hosts, dashboard_hosts; hosts only in them are left out of the inventory: net1"
    ]
    assert "net1" not in cfg.hosts
    assert cfg.ignored_hosts == ["net1"]


def test_host_with_two_different_ips(tmp_path):
    text = BASE + "identity_hosts:\n  infra1:\n    ip: 10.0.0.12\n"
    path = write(tmp_path, text)
    problems = problems_of(tmp_path)
    first = line_of(text, "ip: 10.0.0.11")
    assert problems == [
        f"{path}:{line_of(text, 'ip: 10.0.0.12', line_of(text, 'identity_hosts'))}: "
        f"identity_hosts.infra1.ip: '10.0.0.12' differs from '10.0.0.11' given for the same host "
        f"(shared-infra_hosts.infra1.ip at {path}:{first}); expected one address per host"
    ]


def test_host_with_two_ips_across_conf_d(tmp_path):
    main = write(tmp_path, BASE)
    extra = write(tmp_path, "compute_hosts:\n  compute1:\n    ip: 10.0.0.22\n", "conf.d/a.yml")
    assert problems_of(tmp_path) == [
        f"{extra}:3: compute_hosts.compute1.ip: '10.0.0.22' differs from '10.0.0.21' given for "
        f"the same host (compute_hosts.compute1.ip at {main}:{line_of(BASE, '10.0.0.21')}); "
        "expected one address per host"
    ]


def test_duplicate_address(tmp_path):
    text = BASE.replace("ip: 10.0.0.33", "ip: 10.0.0.21")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'ip: 10.0.0.21', line_of(text, 'swift3'))}: swift_hosts.swift3.ip: "
        "'10.0.0.21' is already the address of host compute1 (compute_hosts.compute1.ip at "
        f"{path}:{line_of(text, 'ip: 10.0.0.21')}); expected a unique address"
    ]


def test_vip_on_a_host_address(tmp_path):
    text = BASE.replace("internal_lb_vip_address: 10.0.0.9", "internal_lb_vip_address: 10.0.0.11")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'internal_lb_vip')}: global_overrides.internal_lb_vip_address: "
        "'10.0.0.11' is already the address of host infra1 (shared-infra_hosts.infra1.ip at "
        f"{path}:{line_of(text, 'ip: 10.0.0.11')}); expected an address no host uses"
    ]


def test_host_address_outside_every_cidr_network(tmp_path):
    text = BASE.replace("ip: 10.0.0.21", "ip: 192.168.7.21")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, '192.168.7.21')}: compute_hosts.compute1.ip: '192.168.7.21' is "
        "outside every cidr_network; expected a usable address in cidr_networks.management "
        "(10.0.0.0/24)"
    ]


def test_host_address_in_another_network(tmp_path):
    text = BASE.replace("ip: 10.0.0.21", "ip: 10.0.1.21")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, '10.0.1.21')}: compute_hosts.compute1.ip: '10.0.1.21' is in "
        "cidr_networks.storage (10.0.1.0/24); expected a usable address in "
        "cidr_networks.management (10.0.0.0/24)"
    ]


def test_host_address_not_an_address(tmp_path):
    text = BASE.replace("ip: 10.0.0.21", "ip: 10.0.0.321")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, '10.0.0.321')}: compute_hosts.compute1.ip: '10.0.0.321' is not "
        "an IP address; expected the host's management address, e.g. 172.29.236.11"
    ]


def test_host_without_ip(tmp_path):
    text = BASE.replace("  compute1:\n    ip: 10.0.0.21\n", "  compute1:\n    container_vars: {}\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'compute1')}: compute_hosts.compute1.ip: missing; expected the "
        "host's management address"
    ]


def test_unknown_host_key(tmp_path):
    text = BASE.replace("    ip: 10.0.0.21\n", "    ip: 10.0.0.21\n    container_var: {}\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'container_var:')}: compute_hosts.compute1.container_var: unknown "
        "key; expected ip, management_ip, container_vars or host_vars (OSA's affinity, "
        "no_containers and properties are ignored); did you mean container_vars?"
    ]


def test_overlapping_cidrs(tmp_path):
    text = BASE.replace("replication: 10.0.2.0/24", "replication: 10.0.0.128/25")
    text = text.replace("ip: 10.0.0.31", "ip: 10.0.0.34")
    path = write(tmp_path, text)
    problems = problems_of(tmp_path)
    assert problems[0] == (
        f"{path}:{line_of(text, 'replication:')}: cidr_networks.replication: '10.0.0.128/25' "
        "overlaps cidr_networks.management (10.0.0.0/24); expected networks that do not overlap"
    )


def test_cidr_with_host_bits(tmp_path):
    text = BASE.replace("storage: 10.0.1.0/24", "storage: 10.0.1.5/24")
    path = write(tmp_path, text)
    assert problems_of(tmp_path)[0] == (
        f"{path}:{line_of(text, 'storage: 10.0.1.5/24')}: cidr_networks.storage: '10.0.1.5/24' "
        "has host bits set; expected the network address 10.0.1.0/24"
    )


def test_container_and_management_both_given(tmp_path):
    text = BASE.replace(
        "  management: 10.0.0.0/24\n", "  management: 10.0.0.0/24\n  container: 10.0.9.0/24\n"
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'container:')}: cidr_networks.container: '10.0.9.0/24': container "
        "and management name the same network (container is OSA's name for management); "
        "expected only one of them"
    ]


def test_missing_management_network(tmp_path):
    text = BASE.replace("  management: 10.0.0.0/24\n", "")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}: cidr_networks.management: missing; expected the management network, e.g. "
        "management: 172.29.236.0/22 (OSA's name 'container' is accepted)",
    ]


def test_used_ips_range_reversed(tmp_path):
    text = BASE.replace('"10.0.0.1,10.0.0.9"', '"10.0.0.9,10.0.0.1"')
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, '10.0.0.9,10.0.0.1')}: used_ips[0]: '10.0.0.9,10.0.0.1' is "
        "reversed; expected 'first,last' with first <= last"
    ]


def test_used_ips_outside_every_network_are_ignored_with_a_warning(tmp_path):
    # Harmless (they reserve nothing), as in OSA: issue 10.
    text = BASE.replace("  - 10.0.1.1\n", "  - 10.0.1.1\n  - 192.168.0.1\n")
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        "used_ips outside every cidr_network reserve nothing and are ignored: 192.168.0.1 "
        f"(used_ips[2] at {path}:{line_of(text, '192.168.0.1')})"
    ]


def test_used_ips_not_an_address(tmp_path):
    text = BASE.replace("  - 10.0.1.1\n", "  - 10.0.1.1-10.0.1.5\n")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, '10.0.1.1-')}: used_ips[1]: '10.0.1.1-10.0.1.5' is not an address "
        "or range; expected an address or 'first,last', e.g. '172.29.236.1,172.29.236.50'"
    ]


def test_pool_exhausted_says_needed_and_free(tmp_path):
    text = BASE.replace("storage: 10.0.1.0/24", "storage: 10.0.1.0/29")
    text = text.replace("  - 10.0.1.1\n", '  - "10.0.1.1,10.0.1.2"\n')
    path = write(tmp_path, text)
    # 7 hosts need a storage address (3 mons, compute1, 3 swift); a /29 has 6, 2 are used.
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'storage: 10.0.1.0/29')}: cidr_networks.storage: pool exhausted: "
        "7 hosts need a storage address but 10.0.1.0/29 has 4 free (after used_ips and VIPs); "
        "expected a larger network or fewer used_ips"
    ]


def test_storage_network_missing_while_needed(tmp_path):
    text = BASE.replace("  storage: 10.0.1.0/24\n", "").replace("  - 10.0.1.1\n", "")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'management:')}: cidr_networks.storage: missing; expected a CIDR "
        "because hosts in ceph-mon_hosts, compute_hosts, swift_hosts need storage addresses"
    ]


PROVIDER_NETWORKS = """\
  provider_networks:
    - network:
        container_bridge: br-mgmt
        ip_from_q: container
        group_binds: [hosts]
        is_container_address: true
    - network:
        container_bridge: br-storage
        ip_from_q: storage
        group_binds: [glance_api, nova_compute]
"""


def with_provider_networks(text=PROVIDER_NETWORKS):
    return BASE.replace("global_overrides:\n", "global_overrides:\n" + text)


def test_provider_network_points_to_a_missing_cidr(tmp_path):
    text = with_provider_networks(
        PROVIDER_NETWORKS.replace("ip_from_q: storage", "ip_from_q: strage")
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'strage')}: "
        "global_overrides.provider_networks[1].network.ip_from_q: 'strage' is not in "
        "cidr_networks; expected one of: management, storage, replication; did you mean storage?"
    ]


def test_provider_network_without_a_bridge(tmp_path):
    text = with_provider_networks(
        PROVIDER_NETWORKS.replace("        container_bridge: br-storage\n", "")
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'ip_from_q: storage')}: "
        "global_overrides.provider_networks[1].network.container_bridge: missing; expected the "
        "name of the bridge on the hosts, e.g. br-storage"
    ]


def test_management_provider_network_on_another_bridge(tmp_path):
    text = with_provider_networks(PROVIDER_NETWORKS.replace("br-mgmt", "br-mgt"))
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'br-mgt')}: global_overrides.provider_networks[0].network."
        "container_bridge: 'br-mgt' is the management network's bridge but "
        "global_overrides.management_bridge is 'br-mgmt'; expected the same bridge"
    ]


def test_swift_network_names_a_bridge_no_provider_network_has(tmp_path):
    text = with_provider_networks().replace(
        "    part_power: 8\n", "    part_power: 8\n    storage_network: br-strage\n"
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'br-strage')}: global_overrides.swift.storage_network: "
        "'br-strage' is not the container_bridge of any provider network; expected one of "
        "br-mgmt, br-storage"
    ]


@pytest.mark.parametrize("key", ["internal_lb_vip_address", "external_lb_vip_address"])
def test_missing_vip(tmp_path, key):
    text = "\n".join(line for line in BASE.splitlines() if key not in line) + "\n"
    path = write(tmp_path, text)
    expected_network = " in cidr_networks.management" if key.startswith("internal") else ""
    what = "internal" if key.startswith("internal") else "external"
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'global_overrides')}: global_overrides.{key}: missing; expected "
        f"the {what} load balancer VIP: an IP address{expected_network} or a DNS name"
    ]


def test_internal_vip_outside_management(tmp_path):
    text = BASE.replace("internal_lb_vip_address: 10.0.0.9", "internal_lb_vip_address: 10.0.1.9")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'internal_lb_vip')}: global_overrides.internal_lb_vip_address: "
        "'10.0.1.9' is outside cidr_networks.management (10.0.0.0/24); expected a usable address "
        "in it (haproxy and keepalived hold it on the management bridge)"
    ]


def test_vip_may_be_a_dns_name(tmp_path):
    write(tmp_path, BASE.replace("203.0.113.9", "openstack.example.com"))
    config.load(tmp_path)


@pytest.mark.parametrize("name", ["comp@1", "-compute", "compute-", "a" * 64, "web..example"])
def test_invalid_hostname(tmp_path, name):
    text = BASE.replace("  compute1:\n", f"  {name!r}:\n".replace("'", '"'))
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, '10.0.0.21') - 1}: compute_hosts.{name}: {name!r} is not a valid "
        "hostname; expected letters, digits and '-' (RFC 1123), labels of 1-63 characters that "
        "do not start or end with '-', separated by dots"
    ]


ZONES_WARNING = (
    "some copies will share a zone and a zone's loss can lose them; more zones "
    "(swift_vars.zone per host, or zone per drive) are safer"
)


def test_swift_replicas_more_than_zones_is_a_warning(tmp_path):
    # Legal (swift places replicas as uniquely as it can): issue 10.
    text = BASE.replace("zone: 3", "zone: 2").replace("replicas: 3", "replicas: 3\n    region: 1")
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}:{line_of(text, 'replicas: 3')}: global_overrides.swift.replicas: 3 replicas in 2 "
        f"swift zones (r1z1, r1z2): {ZONES_WARNING}"
    ]


def test_swift_replicas_more_than_drives(tmp_path):
    text = BASE.replace("replicas: 3", "replicas: 4")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'replicas: 4')}: global_overrides.swift.replicas: 4 replicas is "
        "more than the 3 swift drives of all swift hosts; expected at most that many (each "
        "replica needs its own drive)"
    ]


ONE_SWIFT_HOST = BASE.split("  swift2:")[0].replace(
    "      swift_vars:\n        zone: 1\n",
    "      swift_vars:\n        drives:\n          - {name: a, zone: 1}\n"
    "          - {name: b, zone: 2}\n          - {name: c, zone: 3}\n",
)


def test_swift_zones_per_drive_count(tmp_path):
    # One swift host with three drives in three zones: enough for 3 replicas.
    write(tmp_path, ONE_SWIFT_HOST)
    cfg, _ = config.load(tmp_path)
    assert [h for h in cfg.hosts if "swift_storage" in cfg.hosts[h].components] == ["swift1"]


def test_swift_drives_in_one_zone_are_one_zone(tmp_path):
    text = ONE_SWIFT_HOST.replace("zone: 2", "zone: 1").replace("zone: 3", "zone: 1")
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}:{line_of(text, 'replicas: 3')}: global_overrides.swift.replicas: 3 replicas in 1 "
        f"swift zone (r1z1): {ZONES_WARNING}"
    ]


def test_swift_policy_replicas_checked_too(tmp_path):
    text = BASE.replace(
        "          default: true\n",
        "          default: true\n      - policy:\n          name: silver\n          index: 1\n"
        "          repl_number: 4\n",
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'repl_number: 4')}: "
        "global_overrides.swift.storage_policies[1].policy.repl_number: 4 replicas is more than "
        "the 3 swift drives of all swift hosts; expected at most that many (each replica needs "
        "its own drive)"
    ]


@pytest.mark.parametrize("value", ["0", "25", "32", "'eight'", "8.5"])
def test_invalid_part_power(tmp_path, value):
    text = BASE.replace("part_power: 8", f"part_power: {value}")
    path = write(tmp_path, text)
    shown = {"'eight'": "'eight'"}.get(value, value)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'part_power')}: global_overrides.swift.part_power: {shown} is not "
        "valid; expected an integer from 1 to 24 (2^part_power partitions)"
    ]


def test_missing_part_power(tmp_path):
    text = BASE.replace("    part_power: 8\n", "")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'swift:')}: global_overrides.swift.part_power: missing; expected "
        "an integer from 1 to 24 (2^part_power partitions)"
    ]


def test_swift_policies_need_a_default_and_index_0(tmp_path):
    text = BASE.replace("          default: true\n", "").replace("index: 0", "index: 1")
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'storage_policies')}: global_overrides.swift.storage_policies: "
        "0 default policies and no index 0; expected exactly one policy with default: true and "
        "one with index: 0"
    ]


def test_even_number_of_galera_hosts_warns(tmp_path):
    text = BASE.replace(
        "  infra3:\n    ip: 10.0.0.13\n",
        "  infra3:\n    ip: 10.0.0.13\n  infra4:\n    ip: 10.0.0.17\n",
    )
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}:{line_of(text, 'shared-infra_hosts')}: shared-infra_hosts: galera_all has an "
        "even number of hosts (4: infra1, infra2, infra3, infra4); expected an odd number so that "
        "a majority survives a network split"
    ]


def test_even_number_of_ceph_mons_warns(tmp_path):
    text = BASE.replace(
        "  mon3:\n    ip: 10.0.0.16\n", "  mon3:\n    ip: 10.0.0.16\n  mon4:\n    ip: 10.0.0.18\n"
    )
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}:{line_of(text, 'ceph-mon_hosts')}: ceph-mon_hosts: ceph_mon has an even number "
        "of hosts (4: mon1, mon2, mon3, mon4); expected an odd number so that a majority survives "
        "a network split"
    ]


def test_fewer_than_three_of_a_clustered_service_warns(tmp_path):
    text = BASE + "mq_hosts:\n  mq1:\n    ip: 10.0.0.51\n"
    text = text.replace("shared-infra_hosts:", "database_hosts:")
    path = write(tmp_path, text)
    assert warnings_of(tmp_path) == [
        f"{path}:{line_of(text, 'mq_hosts')}: mq_hosts: rabbitmq_all has 1 host (mq1); expected "
        "3 or more so that the cluster survives the loss of one"
    ]


def test_reserved_host_var(tmp_path):
    text = BASE.replace(
        "    ip: 10.0.0.21\n",
        "    ip: 10.0.0.21\n    container_vars:\n      storage_address: 10.0.1.50\n",
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'storage_address')}: "
        "compute_hosts.compute1.container_vars.storage_address: Strata sets this host var itself; "
        "expected another variable name"
    ]


def test_conflicting_container_vars_for_one_host(tmp_path):
    text = (
        BASE + "storage_hosts:\n  swift1:\n    ip: 10.0.0.31\n    container_vars:\n"
        "      swift_vars:\n        zone: 7\n"
    )
    path = write(tmp_path, text)
    assert problems_of(tmp_path) == [
        f"{path}:{line_of(text, 'zone: 7')}: "
        "storage_hosts.swift1.container_vars.swift_vars.zone: 7 differs from 1 given for the same "
        f"host at {path}:{line_of(text, 'zone: 1')}; expected one value per host"
    ]


def test_conf_d_scalar_conflict(tmp_path):
    main = write(tmp_path, BASE)
    extra = write(tmp_path, "global_overrides:\n  swift:\n    part_power: 10\n", "conf.d/swift.yml")
    assert problems_of(tmp_path) == [
        f"{extra}:3: global_overrides.swift.part_power: 10 differs from 8 given at "
        f"{main}:{line_of(BASE, 'part_power')}; expected one value"
    ]


def test_missing_config_file(tmp_path):
    assert problems_of(tmp_path) == [
        f"{tmp_path}/strata_user_config.yml: not found; expected the config file "
        f"strata_user_config.yml in {tmp_path} (set STRATA_CONFIG_DIR or --config-dir)"
    ]


def test_every_problem_is_reported_in_one_pass(tmp_path):
    text = (
        BASE.replace("swift_hosts:", "swfit_hosts:")
        .replace("ip: 10.0.0.21", "ip: 192.168.7.21")
        .replace('"10.0.0.1,10.0.0.9"', '"10.0.0.9,10.0.0.1"')
        .replace("part_power: 8", "part_power: 40")
        .replace("  compute1:\n", "  Compute1:\n")
    )
    write(tmp_path, text)
    problems = problems_of(tmp_path)
    assert len(problems) == 5
    for fragment in (
        "used_ips[0]",
        "swfit_hosts",
        "Compute1: 'Compute1'",
        "192.168.7.21",
        "part_power: 40",
    ):
        assert any(fragment in p for p in problems), fragment

"""strata.ceph_config: Ceph settings checked against the Ceph hosts at config load, each
problem with file:line, key, value and what was expected."""

import textwrap

import pytest

from strata import config
from strata.errors import ValidationError

BASE = textwrap.dedent(
    """\
    cidr_networks:
      management: 10.0.0.0/24
      storage: 10.0.1.0/24
    used_ips:
      - "10.0.0.1,10.0.0.9"
      - 10.0.1.1
    global_overrides:
      internal_lb_vip_address: 10.0.0.9
      external_lb_vip_address: 203.0.113.9
    ceph-mon_hosts:
      c1: {ip: 10.0.0.11}
      c2: {ip: 10.0.0.12}
      c3: {ip: 10.0.0.13}
    ceph-osd_hosts:
      c1: {ip: 10.0.0.11}
      c2: {ip: 10.0.0.12}
      c3: {ip: 10.0.0.13}
    """
)


ANCHOR = "  external_lb_vip_address: 203.0.113.9\n"


def load(tmp_path, extra="", text=BASE):
    text = text.replace(ANCHOR, ANCHOR + extra)
    path = tmp_path / config.CONFIG_FILE
    path.write_text(text)
    return path, text


def problems(tmp_path, extra="", text=BASE):
    path, text = load(tmp_path, extra, text)
    with pytest.raises(ValidationError) as caught:
        config.load(tmp_path)
    return path, text, caught.value.problems


def line(text, needle):
    return next(n for n, text_line in enumerate(text.splitlines(), 1) if needle in text_line)


def test_three_osd_hosts_and_default_pools_are_valid(tmp_path):
    load(tmp_path)
    cfg, warnings = config.load(tmp_path)
    assert sorted(cfg.hosts) == ["c1", "c2", "c3"] and warnings == []


def test_fewer_osd_hosts_than_the_pool_size(tmp_path):
    text = BASE.replace("  c3: {ip: 10.0.0.13}\n", "", 2)
    text = text.replace("ceph-mon_hosts:\n", "ceph-mon_hosts:\n  c3: {ip: 10.0.0.13}\n")
    path, text, found = problems(
        tmp_path,
        "  ceph_mon_pools:\n    - {name: images, size: 3, min_size: 2}\n",
        text,
    )
    assert found == [
        f"{path}:{line(text, 'ceph_mon_pools')}: global_overrides.ceph_mon_pools[0] (images): "
        "pool images: size 3 with failure domain host, but 2 OSD hosts (c1, c2); expected at "
        "least 3 OSD hosts, a smaller size, or ceph_client_failure_domain: osd (one-host labs)"
    ]


def test_pool_size_below_min_size(tmp_path):
    path, text, found = problems(
        tmp_path, "  ceph_mon_pools:\n    - {name: volumes, size: 2, min_size: 3}\n"
    )
    assert found == [
        f"{path}:{line(text, 'ceph_mon_pools')}: global_overrides.ceph_mon_pools[0] (volumes): "
        "pool volumes: size 2 is below min_size 3; expected size >= min_size (the pool would "
        "refuse every write)"
    ]


def test_default_size_below_default_min_size(tmp_path):
    path, text, found = problems(
        tmp_path,
        "  ceph_client_pool_default_size: 1\n  ceph_client_pool_default_min_size: 2\n"
        "  ceph_client_failure_domain: osd\n",
    )
    assert len(found) == 4  # the 4 default pools
    assert found[0] == (
        f"{path}:{line(text, 'ceph_client_pool_default_size')}: "
        "global_overrides.ceph_client_pool_default_size: pool images: size 1 is below "
        "min_size 2; expected size >= min_size (the pool would refuse every write)"
    )


def test_one_host_lab_with_size_one_and_failure_domain_osd_is_valid(tmp_path):
    text = BASE.replace("  c2: {ip: 10.0.0.12}\n  c3: {ip: 10.0.0.13}\n", "")
    load(
        tmp_path,
        "  ceph_client_pool_default_size: 1\n  ceph_client_pool_default_min_size: 1\n"
        "  ceph_client_failure_domain: osd\n",
        text,
    )
    cfg, warnings = config.load(tmp_path)
    assert list(cfg.hosts) == ["c1"]
    assert any("ceph_mon has 1 host" in w for w in warnings)


def test_public_network_that_is_not_the_hosts_network(tmp_path):
    path, text, found = problems(tmp_path, "  ceph_client_public_network: 192.168.5.0/24\n")
    assert found == [
        f"{path}:{line(text, 'ceph_client_public_network')}: "
        "global_overrides.ceph_client_public_network: 192.168.5.0/24 does not hold the Ceph "
        "hosts' addresses, which come from the storage network 10.0.1.0/24; expected that "
        "network (or one containing it)"
    ]


def test_public_network_not_a_cidr_and_bad_failure_domain(tmp_path):
    path, text, found = problems(
        tmp_path,
        "  ceph_client_public_network: storage\n  ceph_client_failure_domain: row\n",
    )
    assert found == [
        f"{path}:{line(text, 'ceph_client_public_network')}: "
        "global_overrides.ceph_client_public_network: 'storage' is not a CIDR",
        f"{path}:{line(text, 'ceph_client_failure_domain')}: "
        "global_overrides.ceph_client_failure_domain: 'row' is not a failure domain; expected "
        "one of osd, host, rack",
    ]


def test_even_number_of_monitors_is_a_warning(tmp_path):
    text = BASE.replace("ceph-mon_hosts:\n", "ceph-mon_hosts:\n  c4: {ip: 10.0.0.14}\n")
    load(tmp_path, text=text)
    _, warnings = config.load(tmp_path)
    assert any("ceph_mon has an even number of hosts (4" in w for w in warnings), warnings

"""Host preparation on real lab hosts: packages, services, /etc/hosts, apt proxy, reachability."""

import pytest

from tests.infra import inventory

HOSTS = inventory.hosts()
ADDRESSES = {name: inventory.hostvars(name)["management_address"] for name in HOSTS}


@pytest.mark.parametrize("package", ["chrony", "ca-certificates", "curl", "rsync", "python3-apt"])
def test_base_package_installed(host, package):
    assert host.package(package).is_installed


def test_chrony_runs(host):
    service = host.service("chrony")
    assert service.is_enabled
    assert service.is_running


def test_apt_proxy_kept(host):
    proxy = host.file("/etc/apt/apt.conf.d/01strata-proxy")
    assert proxy.content_string.strip() == 'Acquire::http::Proxy "http://172.29.236.1:3142";'
    # and apt really goes through it
    assert host.run("apt-get -q update").rc == 0


def test_hosts_file_lists_every_host(host):
    entries = {}
    for line in host.file("/etc/hosts").content_string.splitlines():
        fields = line.split("#")[0].split()
        for name in fields[1:]:
            entries[name] = fields[0]
    for name, address in ADDRESSES.items():
        assert entries.get(name) == address


@pytest.mark.parametrize("peer", HOSTS)
def test_reaches_peer_over_management(host, peer):
    # By name, so /etc/hosts and the br-mgmt path are both exercised.
    result = host.run(f"ping -c 1 -W 2 {peer}")
    assert result.rc == 0, result.stderr
    assert ADDRESSES[peer] in result.stdout

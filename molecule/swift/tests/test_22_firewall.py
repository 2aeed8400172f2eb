"""The storage servers' host firewall: their ports answer the swift hosts only, the replication
servers and rsync the storage hosts only. sw-store4 is on both networks but not yet a swift
host (test_80 adds it), like a compute or cinder host on the storage network."""

import pytest
from sw import PROXIES, STORAGE, STORE4, check, hostvars, run

CURL = "curl -s -m 5 -o /dev/null -w '%{http_code}'"


def answers(source, url):
    result = run(source, f"{CURL} {url}")
    return result.rc == 0 and result.stdout.strip() == "200"


@pytest.mark.parametrize("name", STORAGE)
def test_the_firewall_is_loaded_now_and_at_boot(name):
    assert check(name, "systemctl is-enabled strata-swift-storage-firewall").strip() == "enabled"
    assert check(name, "systemctl is-active strata-swift-storage-firewall").strip() == "active"
    # Membership, not text: nft merges neighbouring addresses into ranges (.42-.46).
    member = "nft get element inet strata_swift_storage clients '{{ {} }}'"
    for proxy in PROXIES:
        assert run(name, member.format(hostvars(proxy)["storage_address"])).rc == 0
    assert run(name, member.format(hostvars(STORE4)["storage_address"])).rc != 0


@pytest.mark.parametrize("name", STORAGE)
def test_swift_hosts_reach_the_servers(name):
    hv = hostvars(name)
    peer = next(s for s in STORAGE if s != name)
    for port in (6200, 6201, 6202):
        assert answers(PROXIES[0], f"http://{hv['storage_address']}:{port}/healthcheck")
    for port in (6210, 6211, 6212):
        assert answers(peer, f"http://{hv['replication_address']}:{port}/healthcheck")
    assert "object_d1" in check(peer, f"timeout 10 rsync rsync://{hv['replication_address']}/")


@pytest.mark.parametrize("name", STORAGE)
def test_other_hosts_on_the_storage_networks_are_refused(name):
    hv = hostvars(name)
    for port in (6200, 6201, 6202):
        result = run(STORE4, f"{CURL} http://{hv['storage_address']}:{port}/healthcheck")
        assert result.rc == 7, (port, result.rc, result.stdout)  # connection refused (reset)
    for port in (6210, 6211, 6212):
        result = run(STORE4, f"{CURL} http://{hv['replication_address']}:{port}/healthcheck")
        assert result.rc == 7, (port, result.rc, result.stdout)
    # rsync's own exit code for a refused connection (a missing rsync would be 127).
    result = run(STORE4, f"timeout 10 rsync rsync://{hv['replication_address']}/")
    assert result.rc == 10 and "object_d1" not in result.stdout, (result.rc, result.stderr)

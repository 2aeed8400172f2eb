"""The proxies' keystonemiddleware caches validated tokens in memcached encrypted and
authenticated (memcache_security_strategy ENCRYPT): memcached has no access control, so a
clear-text cache would let any host on the management network read tokens or plant one."""

import json

import pytest
from sw import HAPROXY, PROXIES, check, hostvars, objects, put_client

from tests.infra import inventory

MEMCACHED = inventory.hosts("memcached_all")


@pytest.mark.parametrize("name", PROXIES)
def test_the_token_cache_is_encrypted(name):
    conf = check(name, "sed -n '/^\\[filter:authtoken\\]/,/^\\[/p' /etc/swift/proxy-server.conf")
    lines = {
        line.split("=", 1)[0].strip(): line.split("=", 1)[1].strip()
        for line in conf.splitlines()
        if "=" in line
    }
    assert lines["memcache_security_strategy"] == "ENCRYPT"
    assert lines["memcache_secret_key"] == hostvars(name)["memcached_secret_key"]


def test_cached_tokens_are_not_readable_in_memcached():
    # Requests through both proxies (the VIP) put the admin's token in the cache.
    for _ in range(2):
        got = objects("get", count=5)
        assert got["errors"] == {}
    path = put_client(HAPROXY[0], "memcache_tokens.py")
    found = [
        json.loads(check(HAPROXY[0], f"python3 {path} {hostvars(m)['management_address']}"))
        for m in MEMCACHED
    ]
    assert sum(f["tokens"] for f in found) > 0, found
    assert all(f["plaintext"] == 0 for f in found), found

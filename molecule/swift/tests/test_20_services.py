"""Each server on its network: storage servers on br-storage, replication servers and rsync on
br-repl, proxies on br-mgmt behind HAProxy; swift registered with keystone."""

import pytest
from sw import EXTERNAL_VIP, HAPROXY, PROXIES, STORAGE, VIP, check, hostvars


def listening(name, process):
    out = check(name, f"ss -Htlnp | grep '\"{process}\"' | awk '{{print $4}}' | sort -u")
    return set(out.split())


@pytest.mark.parametrize("name", STORAGE)
def test_storage_servers_and_replication_servers_addresses(name):
    hv = hostvars(name)
    store, repl = hv["storage_address"], hv["replication_address"]
    found = set()
    for process in ("swift-account-s", "swift-container", "swift-object-se"):
        found |= listening(name, process)
    assert found == {
        f"{store}:6202",
        f"{store}:6201",
        f"{store}:6200",
        f"{repl}:6212",
        f"{repl}:6211",
        f"{repl}:6210",
    }
    # The servers on the storage network refuse replication verbs; the others serve them.
    ask = "curl -s -o /dev/null -w '%{http_code}' -X REPLICATE"
    assert check(name, f"{ask} http://{store}:6200/d1/0") == "405"
    assert check(name, f"{ask} http://{repl}:6210/d1/0") != "405"


@pytest.mark.parametrize("name", STORAGE)
def test_rsync_on_the_replication_address_with_a_module_per_drive(name):
    hv = hostvars(name)
    assert listening(name, "rsync") == {f"{hv['replication_address']}:873"}
    modules = check(name, f"rsync rsync://{hv['replication_address']}/ | awk '{{print $1}}'")
    assert sorted(modules.split()) == sorted(
        f"{t}_{d}" for t in ("account", "container", "object") for d in ("d1", "d2")
    )
    conf = check(name, "cat /etc/rsyncd.conf")
    assert "hosts allow = 172.29.248.0/22" in conf
    replicator = check(name, "cat /etc/swift/object-server.conf")
    assert "rsync_module = {replication_ip}::object_{device}" in replicator


@pytest.mark.parametrize("name", STORAGE)
def test_replicators_auditors_updaters_run(name):
    for unit in (
        "swift-account-replicator",
        "swift-account-auditor",
        "swift-account-reaper",
        "swift-container-replicator",
        "swift-container-updater",
        "swift-container-auditor",
        "swift-object-replicator",
        "swift-object-updater",
        "swift-object-auditor",
    ):
        assert check(name, f"systemctl is-active {unit}").strip() == "active", unit


@pytest.mark.parametrize("name", PROXIES)
def test_proxy_on_the_management_address(name):
    address = hostvars(name)["management_address"]
    assert listening(name, "swift-proxy-ser") == {f"{address}:8080"}
    assert check(name, f"curl -s http://{address}:8080/healthcheck") == "OK"


def test_both_proxies_are_haproxy_backends_and_up():
    out = check(HAPROXY[0], "echo 'show stat' | socat stdio /run/haproxy/admin.sock")
    rows = [line.split(",") for line in out.splitlines() if line.startswith("swift_proxy-back,")]
    assert sorted((r[1], r[17]) for r in rows if r[1] in PROXIES) == [(p, "UP") for p in PROXIES]
    assert check(HAPROXY[0], f"curl -s http://{VIP}:8080/healthcheck") == "OK"


def test_object_store_endpoints_and_service_user():
    out = check(
        HAPROXY[0],
        ". /root/openrc && openstack endpoint list --service object-store -f value "
        "-c Interface -c URL && openstack user show swift -f value -c name",
    )
    assert sorted(out.splitlines()) == sorted(
        [
            f"admin http://{VIP}:8080/v1",
            f"internal http://{VIP}:8080/v1/AUTH_%(project_id)s",
            f"public https://{EXTERNAL_VIP}:8080/v1/AUTH_%(project_id)s",
            "swift",
        ]
    )


def test_requests_without_a_token_are_refused():
    code = check(
        PROXIES[0], f"curl -s -o /dev/null -w '%{{http_code}}' http://{VIP}:8080/v1/AUTH_x"
    )
    assert code == "401"


@pytest.mark.parametrize("name", STORAGE)
def test_replicators_find_their_devices_by_replication_address(name):
    # A replicator that does not find itself in the ring (it matches the ring's replication
    # ip and port) logs this and replicates nothing.
    units = " ".join(f"-u swift-{t}-replicator" for t in ("account", "container", "object"))
    out = check(name, f"journalctl {units} --no-pager -q | grep -c 'find itself' || true")
    assert out.strip() == "0"

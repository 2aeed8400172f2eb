"""A 4th storage host added to the inventory: the swift playbook adds its devices and
rebalances, moving exactly what check mode reported, and every object stays readable. Runs last:
it changes the cluster.

Only setup-swift.yml runs here: no play outside swift reads the swift groups, and the lab's
converge already prepared sw-store4 (role common, hosts: all). The whole cloud's second run and
`--check --diff` are proven once, by molecule's idempotence step and test_50."""

import hashlib
import os
from pathlib import Path

import pytest
from sw import (
    COUNT,
    PROXIES,
    RINGS,
    STORE4,
    STORE4_INVENTORY,
    SWIFT_HOSTS,
    check,
    hostvars,
    objects,
    recap,
    ring_md5s,
    ring_results,
    setup_swift,
)

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

BACKUP = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent")) / "swift-builders"


def sha1(path):
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def previous_builders():
    """The deploy host's builder backups before the 4th host is added."""
    return {ring: sha1(BACKUP / f"{ring}.builder") for ring in RINGS}


@pytest.fixture(scope="module")
def added(previous_builders):
    rc, out, err = setup_swift("-i", str(STORE4_INVENTORY), "--check", json_output=True)
    assert rc == 0, out[-3000:] + err[-3000:]
    checked = ring_results(out)
    rc, out, err = setup_swift("-i", str(STORE4_INVENTORY), json_output=True)
    assert rc == 0, out[-3000:] + err[-3000:]
    return checked, ring_results(out)


def test_check_mode_predicted_the_rebalance(added):
    checked, applied = added
    for ring in RINGS:
        plan = checked[ring]["plan"]
        assert len(plan["added"]) == 2, (ring, plan)
        assert checked[ring]["changed"] and checked[ring]["parts_moved"] > 0, checked[ring]
        assert applied[ring]["rebalanced"], applied[ring]
        assert applied[ring]["parts_moved"] == checked[ring]["parts_moved"], ring
        assert applied[ring]["ring_md5"] == checked[ring]["ring_md5"], ring


def test_the_new_host_serves_its_devices(added):
    hv = hostvars(STORE4)
    out = check(PROXIES[0], "swift-ring-builder /etc/swift/object.builder")
    assert sum(hv["storage_address"] in line for line in out.splitlines()) == 2, out
    sums = {name: ring_md5s(name) for name in [*SWIFT_HOSTS, STORE4]}
    assert len(set(sums.values())) == 1, sums
    assert check(STORE4, "systemctl is-active swift-object swift-object-replicator").split() == [
        "active",
        "active",
    ]


def test_the_other_storage_hosts_firewalls_let_the_new_host_in(added):
    curl = "curl -s -m 5 -o /dev/null -w '%{http_code}'"
    for name in SWIFT_HOSTS:
        hv = hostvars(name)
        if "replication_address" not in hv:
            continue  # a proxy
        assert check(STORE4, f"{curl} http://{hv['storage_address']}:6200/healthcheck") == "200"
        assert check(STORE4, f"{curl} http://{hv['replication_address']}:6210/healthcheck") == "200"


def test_the_replaced_builder_backups_are_kept_in_history(added, previous_builders):
    kept = {}
    for path in sorted((BACKUP / "history").glob("*/*.builder")):
        kept.setdefault(path.name.removesuffix(".builder"), set()).add(sha1(path))
    for ring in RINGS:
        assert previous_builders[ring] in kept.get(ring, set()), (ring, kept)
        assert sha1(BACKUP / f"{ring}.builder") != previous_builders[ring], ring
        assert (BACKUP / f"{ring}.builder").stat().st_size > 0


def test_every_object_stays_readable(added):
    got = objects("get")
    assert got["errors"] == {} and len(got["done"]) == COUNT


def test_second_run_with_the_new_host_changes_nothing(added):
    rc, out, err = setup_swift("-i", str(STORE4_INVENTORY), "--check", "--diff")
    summary = recap(out)
    assert rc == 0 and summary, out[-3000:] + err[-3000:]
    changed = {n: c for n, c in summary.items() if c["changed"] or c["failed"]}
    assert not changed, f"{changed}\n{out[-4000:]}"

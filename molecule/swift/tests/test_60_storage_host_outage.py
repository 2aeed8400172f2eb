"""One storage host stopped: every object still readable, new PUTs succeed (2 of 3). Host back:
after a replication pass every object written during the outage has its 3 replicas in place."""

import os
import subprocess

import pytest
from sw import (
    CONTAINER,
    COUNT,
    PROJECT,
    STORAGE,
    account,
    check,
    direct_head,
    hostvars,
    lxc,
    objects,
    primaries,
    run,
    wait_for,
)

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

DOWN = STORAGE[1]
OUTAGE_PREFIX = "outage"
OUTAGE_COUNT = 20


def lab_up():
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    subprocess.run(
        [str(PROJECT / ".venv/bin/strata"), "lab", "up", "-i", inventory],
        check=True,
        capture_output=True,
        text=True,
    )


def replicas_in_place(acct, names):
    missing = []
    for name in names:
        for ip, _port, device, command in primaries(name, acct, CONTAINER, name):
            if direct_head(command) != "200":
                missing.append((name, ip, device))
    return missing


def test_one_storage_host_down_then_back():
    acct = account()
    down_ip = hostvars(DOWN)["storage_address"]
    lxc("stop", "-k", "-n", DOWN)  # a power cut, not a clean shutdown
    try:
        got = objects("get")
        assert got["errors"] == {} and len(got["done"]) == COUNT
        put = objects("put", prefix=OUTAGE_PREFIX, count=OUTAGE_COUNT)
        assert put["errors"] == {} and len(put["done"]) == OUTAGE_COUNT
        # Some of these objects have a primary on the stopped host: swift wrote 2 of 3 (or a
        # handoff) and the write still succeeded.
        on_down = [
            n
            for n in put["done"]
            if any(ip == down_ip for ip, *_ in primaries(n, acct, CONTAINER, n))
        ]
        assert on_down, "no outage object has a primary on the stopped host"
    finally:
        lab_up()

    wait_for(
        lambda: run(DOWN, "systemctl is-active swift-object-replication-server rsync").rc == 0,
        300,  # every service of the host boots at once; slow on a loaded machine
        f"swift on {DOWN} again",
    )
    names = put["done"]

    def replicated():
        for name in STORAGE:
            check(name, "swift-object-replicator /etc/swift/object-server.conf once")
        return not replicas_in_place(acct, names)

    wait_for(replicated, 600, "3 replicas of every object written during the outage", 5)
    got = objects("get", prefix=OUTAGE_PREFIX, count=OUTAGE_COUNT)
    assert got["errors"] == {}

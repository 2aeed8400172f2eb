"""A configuration change restarts the swift hosts one at a time: each proxy (and each storage
host) is back and answering /healthcheck before the next one stops."""

import pytest
from sw import PROXIES, STORAGE, check, objects

from tests.infra import playbook

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill


def times(name, unit):
    """(stopped, started) of the unit's last restart on the kernel's monotonic clock (in us;
    the lab's containers share the kernel, so the values compare across hosts)."""
    props = "-p InactiveEnterTimestampMonotonic -p ActiveEnterTimestampMonotonic"
    out = check(name, f"systemctl show {props} {unit}")
    values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return int(values["InactiveEnterTimestampMonotonic"]), int(
        values["ActiveEnterTimestampMonotonic"]
    )


def host_window(name, units):
    """(first unit stopped, last unit started) of the host's last restart."""
    spans = [times(name, unit) for unit in units]
    return min(s for s, _ in spans), max(a for _, a in spans)


def assert_one_at_a_time(hosts, units):
    restarts = sorted((host_window(h, units), h) for h in hosts)
    for (earlier, first), (later, second) in zip(restarts, restarts[1:], strict=False):
        # The next host stopped only after every restarted unit of the previous one ran again.
        assert later[0] > earlier[1], f"{second} stopped {later[0]} before {first} ran {earlier[1]}"


@pytest.fixture(scope="module")
def restarted():
    # Another worker count changes every proxy-server.conf and *-server.conf; the second run
    # puts the scenario's value back (and restarts everything again, also in turn).
    try:
        rc, output, _ = playbook.run(
            "setup-swift.yml", "-e", "swift_proxy_workers=2", "-e", "swift_storage_workers=2"
        )
        assert rc == 0, output[-3000:]
        yield
    finally:
        rc, output, _ = playbook.run("setup-swift.yml")
        assert rc == 0, output[-3000:]


def test_proxies_restart_one_at_a_time(restarted):
    assert_one_at_a_time(PROXIES, ["swift-proxy"])


def test_storage_hosts_restart_one_at_a_time(restarted):
    units = [
        f"swift-{t}{s}" for t in ("account", "container", "object") for s in ("", "-replicator")
    ]
    assert_one_at_a_time(STORAGE, units)


def test_objects_still_readable(restarted):
    got = objects("get")
    assert got["errors"] == {}

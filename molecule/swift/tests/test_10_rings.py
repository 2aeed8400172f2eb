"""Rings: identical on every swift host, devices on the storage and replication networks, the
builders backed up on the deploy host."""

import hashlib
import os
from pathlib import Path

from sw import PROXIES, RINGS, STORAGE, SWIFT_HOSTS, check, hostvars, ring_md5s


def test_every_swift_host_holds_identical_rings():
    sums = {name: ring_md5s(name) for name in SWIFT_HOSTS}
    first = sums[SWIFT_HOSTS[0]]
    assert [line.split()[1] for line in first.splitlines()] == [f"{r}.ring.gz" for r in RINGS]
    assert all(s == first for s in sums.values()), sums


def test_ring_devices_use_the_storage_and_replication_addresses():
    ports = {"account": (6202, 6212), "container": (6201, 6211), "object": (6200, 6210)}
    for ring in RINGS:
        out = check(PROXIES[0], f"swift-ring-builder /etc/swift/{ring}.builder")
        assert "3.000000 replicas" in out
        port, replication_port = ports[ring]
        for name in STORAGE:
            hv = hostvars(name)
            zone = hv["swift_vars"]["zone"]
            for drive in ("d1", "d2"):
                assert any(
                    line.split()[2:7]
                    == [
                        str(zone),
                        f"{hv['storage_address']}:{port}",
                        f"{hv['replication_address']}:{replication_port}",
                        drive,
                        "100.00",
                    ]
                    for line in out.splitlines()
                ), f"{ring}: no device {name}/{drive} in zone {zone}:\n{out}"


def test_builders_are_backed_up_on_the_deploy_host():
    backup = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "swift-builders"
    for ring in RINGS:
        local = hashlib.sha256((backup / f"{ring}.builder").read_bytes()).hexdigest()
        remote = check(PROXIES[0], f"sha256sum /etc/swift/{ring}.builder").split()[0]
        assert local == remote, ring

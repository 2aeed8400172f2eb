"""Ceph in the all-in-one lab cloud: a one-host cluster (size 1 pools) in HEALTH_OK, and cinder's
key writing and reading an RBD image in its pool (librbd through the rbd client)."""

import json

import pytest

pytestmark = pytest.mark.lab


def test_cluster_is_healthy_with_its_two_osds(aio):
    host = aio.hosts("ceph_mon")[0]
    status = json.loads(aio.check(host, "ceph -s --format json"))
    assert status["health"]["status"] == "HEALTH_OK", status["health"]
    assert status["osdmap"]["num_up_osds"] == status["osdmap"]["num_osds"] == 2
    pools = json.loads(aio.check(host, "ceph osd pool ls detail --format json"))
    sizes = {p["pool_name"]: p["size"] for p in pools}
    assert {sizes[name] for name in ("images", "volumes", "vms", "backups")} == {1}


def test_cinder_key_writes_and_reads_volumes(aio):
    host = aio.hosts("cinder_volume")[0]
    out = aio.check(
        host,
        "head -c 1048576 /dev/urandom > /tmp/strata-aio-rbd && "
        "(rbd --id cinder rm volumes/strata-aio-probe >/dev/null 2>&1; true) && "
        "rbd --id cinder import /tmp/strata-aio-rbd volumes/strata-aio-probe >/dev/null && "
        "rbd --id cinder export volumes/strata-aio-probe - | sha256sum && "
        "sha256sum < /tmp/strata-aio-rbd && rbd --id cinder rm volumes/strata-aio-probe",
    )
    exported, original = out.split("\n")[:2]
    assert exported.split()[0] == original.split()[0]

"""An OSD host cut off (lxc-stop -k, a power cut): every object written before is readable,
new writes are acknowledged and readable during the outage and after; when the host is back
the cluster returns to HEALTH_OK by itself (its OSDs are activated again at boot)."""

import pytest
from st import ADMIN, COUNT, OSD_HOSTS, ceph_json, health, lab_up, lxc, objects, wait_for

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

DOWN = OSD_HOSTS[-1]
OUTAGE_PREFIX = "outage"
OUTAGE_COUNT = 30


def osds_down():
    return [o["osd"] for o in ceph_json("osd", "dump")["osds"] if not o["up"]]


def test_an_osd_host_down_then_back():
    assert DOWN != ADMIN
    lxc("stop", "-k", "-n", DOWN)
    try:
        wait_for(lambda: len(osds_down()) == 2, 120, f"{DOWN}'s OSDs marked down", 5)
        got = objects("get")
        assert got["errors"] == {} and len(got["done"]) == COUNT
        put = objects("put", prefix=OUTAGE_PREFIX, count=OUTAGE_COUNT)
        assert put["errors"] == {} and len(put["done"]) == OUTAGE_COUNT
        during = objects("get", prefix=OUTAGE_PREFIX, count=OUTAGE_COUNT)
        assert during["errors"] == {} and len(during["done"]) == OUTAGE_COUNT
        assert health() != "HEALTH_OK"
    finally:
        lab_up()
    wait_for(lambda: not osds_down(), 300, f"{DOWN}'s OSDs up again", 5)
    wait_for(lambda: health() == "HEALTH_OK", 600, "HEALTH_OK again", 10)
    for prefix, count in ((OUTAGE_PREFIX, OUTAGE_COUNT), ("obj", COUNT)):
        after = objects("get", prefix=prefix, count=count)
        assert after["errors"] == {} and len(after["done"]) == count

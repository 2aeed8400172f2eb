"""One monitor stopped: the other two keep the quorum and clients keep working; started again,
it rejoins the quorum."""

import pytest
from st import ADMIN, COUNT, MONS, ceph_json, check, objects, wait_for

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

DOWN = MONS[1]


def test_a_monitor_down_then_back():
    assert DOWN != ADMIN
    check(DOWN, f"systemctl stop ceph-mon@{DOWN}")
    try:
        wait_for(
            lambda: sorted(ceph_json("quorum_status")["quorum_names"])
            == sorted(set(MONS) - {DOWN}),
            120,
            "a quorum of the two others",
            5,
        )
        got = objects("get")
        assert got["errors"] == {} and len(got["done"]) == COUNT
        put = objects("put", prefix="mon-down", count=10)
        assert put["errors"] == {} and len(put["done"]) == 10
    finally:
        check(DOWN, f"systemctl start ceph-mon@{DOWN}")
    wait_for(
        lambda: sorted(ceph_json("quorum_status")["quorum_names"]) == sorted(MONS),
        180,
        f"{DOWN} back in the quorum",
        5,
    )

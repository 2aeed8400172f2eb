"""One glance host stopped: the image list and downloads through the VIP keep working; when it
is back it serves again with nothing to repair."""

import pytest
from gl import GLANCE, check, glance, healthy, host, images, lb_status, url, wait_for

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill


def test_a_stopped_glance_host_leaves_the_vip_serving():
    down = GLANCE[0]
    known = images()
    check(down, "systemctl stop glance-api")
    try:
        assert not healthy(down)
        wait_for(lambda: lb_status(down) == "DOWN", 30, f"haproxy to take {down} out")
        listed = set(glance("list", url()).split())
        assert {image["id"] for image in known.values()} <= listed
        # Several downloads, so the load balancer has to send some around the stopped host.
        for _ in range(3):
            for image in known.values():
                assert glance("sha256", url(), image["id"]) == image["sha256"]
    finally:
        check(down, "systemctl start glance-api")
    wait_for(lambda: healthy(down), 120, f"glance-api on {down}")
    wait_for(lambda: lb_status(down) == "UP", 30, f"haproxy to take {down} back")
    assert host(down).service("glance-api").is_running
    for image in known.values():
        assert glance("sha256", url(down), image["id"]) == image["sha256"]

"""The shared mount of a glance host goes away: glance-api there stops (BindsTo), cannot be
started without it, and nothing is written to the local disk under the mount point; uploads
through the VIP go to the other hosts. The mount back, the host serves every image again."""

import pytest
from gl import (
    GLANCE,
    MOUNT_UNIT,
    STORE_DIR,
    check,
    glance,
    healthy,
    images,
    lb_status,
    random_file,
    run_on,
    save_images,
    url,
    wait_for,
)

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

# The key of the ceph-fuse mount's user (client.glance-share).
KEYRING = "/etc/ceph/ceph.client.glance-share.keyring"


def local_entries(name):
    """What is in the mount point's directory on the local disk (the mount being gone)."""
    assert run_on(name, f"findmnt -n {STORE_DIR}").rc != 0, f"{STORE_DIR} still mounted"
    return check(name, f"ls -A {STORE_DIR}").split()


def test_glance_stops_with_its_mount_and_writes_nothing_locally():
    name = GLANCE[-1]
    check(name, f"systemctl stop {MOUNT_UNIT}")
    try:
        wait_for(
            lambda: run_on(name, "systemctl is-active glance-api").stdout.strip() != "active",
            60,
            f"glance-api on {name} to stop with its mount",
        )
        # Refused on that host (nothing listens), accepted through the VIP by the others.
        path, digest = random_file("image-mount-gone", mib=4)
        image = glance("create", url(), "strata-mount-gone")
        assert glance("upload", url(name), image, path, "file", ok=False).rc != 0
        wait_for(lambda: lb_status(name) == "DOWN", 30, f"haproxy to take {name} out")
        glance("upload", url(), image, path, "file")
        assert local_entries(name) == []
        # The mount cannot come up (its key is gone): glance-api refuses to start without it.
        check(name, f"mv {KEYRING} {KEYRING}.away")
        try:
            assert run_on(name, "systemctl start glance-api").rc != 0
            assert run_on(name, "systemctl is-active glance-api").stdout.strip() != "active"
            assert local_entries(name) == []
        finally:
            check(name, f"mv {KEYRING}.away {KEYRING}")
        data = images()
        data["mount-gone"] = {"id": image, "sha256": digest}
        save_images(data)
    finally:
        # Starting the service brings its mount up first.
        check(name, "systemctl start glance-api")
    wait_for(lambda: healthy(name), 120, f"glance-api on {name} back")
    wait_for(lambda: lb_status(name) == "UP", 30, f"haproxy to take {name} back")
    assert run_on(name, f"systemctl is-active {MOUNT_UNIT}").stdout.strip() == "active"
    for image in images().values():
        assert glance("sha256", url(name), image["id"]) == image["sha256"], image

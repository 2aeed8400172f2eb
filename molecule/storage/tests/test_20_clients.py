"""Client keys do what they should and nothing more, with real clients (rbd, librados): glance
writes images and is refused on volumes; cinder writes volumes and vms, reads images and may
not write there. A host holds only the keyrings its groups need."""

import pytest
from st import ADMIN, CINDER, COUNT, GLANCE, check, objects, run

DATA = "/tmp/strata-test/rbd-data"


def rbd(host, user, args):
    return run(host, f"rbd --id {user} {args}")


@pytest.fixture(scope="module")
def data():
    for name in (GLANCE, CINDER):
        check(name, f"mkdir -p /tmp/strata-test && head -c 4194304 /dev/urandom > {DATA}")
    return DATA


def test_keyrings_follow_the_groups():
    assert check(GLANCE, "ls /etc/ceph").split().count("ceph.client.glance.keyring") == 1
    assert run(GLANCE, "test -e /etc/ceph/ceph.client.cinder.keyring").rc != 0
    assert run(CINDER, "test -e /etc/ceph/ceph.client.glance.keyring").rc != 0
    mode = check(CINDER, "stat -c '%a' /etc/ceph/ceph.client.cinder.keyring").strip()
    assert mode == "640"


def test_glance_writes_images_and_is_refused_on_volumes(data):
    rbd(GLANCE, "glance", "rm images/strata-test-image")
    check(GLANCE, f"rbd --id glance import {data} images/strata-test-image")
    out = check(GLANCE, "rbd --id glance export images/strata-test-image - | sha256sum")
    assert out.split()[0] == check(GLANCE, f"sha256sum {data}").split()[0]
    refused = rbd(GLANCE, "glance", f"import {data} volumes/strata-test-from-glance")
    assert refused.rc != 0 and "Operation not permitted" in refused.stderr, refused.stderr


def test_cinder_writes_volumes_and_vms_reads_images(data):
    for pool in ("volumes", "vms"):
        rbd(CINDER, "cinder", f"rm {pool}/strata-test-disk")
        check(CINDER, f"rbd --id cinder import {data} {pool}/strata-test-disk")
    # Reads glance's image (written by the previous test) byte for byte.
    image = check(CINDER, "rbd --id cinder export images/strata-test-image - | sha256sum")
    written = check(GLANCE, f"sha256sum {DATA}")
    assert image.split()[0] == written.split()[0]
    refused = rbd(CINDER, "cinder", f"import {data} images/strata-test-from-cinder")
    assert refused.rc != 0 and "Operation not permitted" in refused.stderr, refused.stderr


def test_numbered_objects_written_for_the_drills():
    put = objects("put")
    assert put["errors"] == {} and len(put["done"]) == COUNT
    assert ADMIN

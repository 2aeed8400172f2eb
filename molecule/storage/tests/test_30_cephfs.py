"""CephFS through ceph-fuse with a path-scoped key on two hosts: a file written on one is read
back, byte for byte, on the other; the key cannot reach outside its path."""

import pytest
from st import ADMIN, CINDER, GLANCE, check, run

MOUNT = "/mnt/strata-cephfs"


@pytest.fixture(scope="module")
def mounted():
    # The directory the key is limited to, made through an admin mount.
    check(ADMIN, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q ceph-fuse >/dev/null")
    check(
        ADMIN, f"mkdir -p {MOUNT}-admin && (mountpoint -q {MOUNT}-admin || ceph-fuse {MOUNT}-admin)"
    )
    check(ADMIN, f"mkdir -p {MOUNT}-admin/shared {MOUNT}-admin/private && umount {MOUNT}-admin")
    keyring = check(ADMIN, "ceph auth get client.shared")
    hosts = (GLANCE, CINDER)
    for name in hosts:
        check(name, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q ceph-fuse >/dev/null")
        check(name, f"cat > /etc/ceph/ceph.client.shared.keyring <<'EOF'\n{keyring}EOF")
        check(
            name,
            f"mkdir -p {MOUNT} && (mountpoint -q {MOUNT}"
            f" || ceph-fuse --id shared -r /shared {MOUNT})",
        )
    yield hosts
    for name in hosts:
        run(name, f"umount {MOUNT}; rm -f /etc/ceph/ceph.client.shared.keyring")


def test_a_file_written_on_one_host_is_read_on_the_other(mounted):
    writer, reader = mounted
    check(writer, f"head -c 1048576 /dev/urandom > {MOUNT}/cross-host && sync")
    written = check(writer, f"sha256sum < {MOUNT}/cross-host")
    assert check(reader, f"sha256sum < {MOUNT}/cross-host") == written
    check(reader, f"echo appended-on-reader >> {MOUNT}/cross-host")
    assert check(writer, f"tail -c 19 {MOUNT}/cross-host") == "appended-on-reader\n"


def test_the_key_is_limited_to_its_path(mounted):
    writer, _ = mounted
    outside = run(writer, "mkdir -p /tmp/outside && ceph-fuse --id shared -r /private /tmp/outside")
    mounted_outside = run(writer, "mountpoint -q /tmp/outside").rc == 0
    run(writer, "umount /tmp/outside")
    assert outside.rc != 0 and not mounted_outside

"""A ring in use whose builder is gone on the ring host: the run stops before building a new
one (which would move every partition), and says how to restore it."""

from sw import check

from tests.infra import inventory, playbook

RING_HOST = inventory.hosts("swift_proxy")[0]


def test_a_lost_builder_stops_the_run_and_is_not_rebuilt():
    before = check(RING_HOST, "md5sum /etc/swift/object.ring.gz")
    check(RING_HOST, "mv /etc/swift/object.builder /root/object.builder.aside")
    try:
        rc, output, _ = playbook.run("setup-swift.yml", "--check")
        text = " ".join(output.split())
        assert rc != 0, output[-3000:]
        assert "has no builder for the ring(s) object that swift hosts already use" in text, text[
            -3000:
        ]
        assert "Restoring the builder files" in text
        assert check(RING_HOST, "ls /etc/swift/object.builder 2>/dev/null || true") == ""
    finally:
        check(RING_HOST, "mv /root/object.builder.aside /etc/swift/object.builder")
    assert check(RING_HOST, "md5sum /etc/swift/object.ring.gz") == before

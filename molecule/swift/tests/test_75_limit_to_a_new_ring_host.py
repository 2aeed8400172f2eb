"""`--limit` to a reinstalled first proxy (the ring host, with neither builders nor rings):
the run must refuse instead of building fresh rings, and the deploy host's builder backup must
stay as it was (it was the only copy)."""

import hashlib
import os
from pathlib import Path

from sw import PROXIES, RINGS, check

from tests.infra import playbook

RING_HOST = PROXIES[0]
ASIDE = "/root/strata-test-ring-host-aside"


def backup_sums():
    # The scenario sets swift_common_builder_backup_dir to molecule's ephemeral directory.
    backup = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "swift-builders"
    return {
        f.name: hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(backup.iterdir())
        if f.is_file()
    }


def test_limit_to_a_ring_host_without_builders_refuses_and_keeps_the_backup():
    before = backup_sums()
    assert {f"{r}.builder" for r in RINGS} <= set(before), before
    check(RING_HOST, f"mkdir -p {ASIDE} && mv /etc/swift/*.builder /etc/swift/*.ring.gz {ASIDE}/")
    try:
        rc, output, _ = playbook.run("setup-swift.yml", "--limit", RING_HOST)
        text = " ".join(output.split())
        assert rc != 0, output[-3000:]
        assert "has no builder for the ring(s) account, container, object" in text, text[-3000:]
        assert "Restoring the builder files" in text
        assert check(RING_HOST, "ls /etc/swift/*.builder 2>/dev/null || true") == ""
        assert backup_sums() == before
    finally:
        check(RING_HOST, f"mv {ASIDE}/* /etc/swift/ && rmdir {ASIDE}")

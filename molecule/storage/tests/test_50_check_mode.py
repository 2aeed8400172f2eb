"""`--check --diff` on the converged hosts: no changes, no failures."""

from st import converge, recap


def test_check_diff_reports_no_changes_and_no_failures():
    rc, out, err = converge("--check", "--diff")
    summary = recap(out)
    assert rc == 0 and summary, out[-3000:] + err[-3000:]
    for name, counts in summary.items():
        assert counts["changed"] == 0, f"{name}: {counts}\n{out[-5000:]}"
        assert counts["failed"] == 0 and counts["unreachable"] == 0, f"{name}: {counts}"

"""`--check --diff` on the converged hosts: no changes, no failures."""

from cp import SCENARIO, ansible_playbook, recap


def test_check_diff_reports_no_changes_and_no_failures():
    result = ansible_playbook(str(SCENARIO / "converge.yml"), "--check", "--diff")
    summary = recap(result.stdout)
    assert summary, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, result.stdout[-3000:]
    for name, counts in summary.items():
        assert counts["changed"] == 0, f"{name}: {counts}\n{result.stdout[-5000:]}"
        assert counts["failed"] == 0 and counts["unreachable"] == 0, f"{name}: {counts}"

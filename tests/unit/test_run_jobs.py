"""scripts/run-jobs: side-by-side jobs, each log printed whole, failures summed."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run-jobs"


def run_jobs(tmp_path, *jobs, jobs_at_once=2):
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--jobs", str(jobs_at_once), "--logs", str(tmp_path), *jobs],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_job_succeeds(tmp_path):
    result = run_jobs(tmp_path, "one=echo first line; echo second line", "two=echo other")
    assert result.returncode == 0, result.stdout + result.stderr
    # A job's log is one block: its lines are never split by another job's.
    assert "first line\nsecond line\n=== one: ok in" in result.stdout
    assert (tmp_path / "two.log").read_text() == "other\n"
    assert "failed:" not in result.stdout


def test_a_failed_job_fails_the_run_and_is_named(tmp_path):
    result = run_jobs(tmp_path, "good=true", "bad=echo broken >&2; exit 3", jobs_at_once=1)
    assert result.returncode == 1
    assert "=== bad: FAILED (exit 3)" in result.stdout
    assert "broken" in result.stdout  # stderr is in the log
    assert result.stdout.rstrip().endswith("failed: bad")


def test_jobs_run_side_by_side(tmp_path):
    # Each job waits for the other's file: only passes when both run at the same time.
    wait_for = "for i in $(seq 100); do [ -e {0} ] && exit 0; sleep 0.1; done; exit 1"
    first, second = tmp_path / "a", tmp_path / "b"
    result = run_jobs(
        tmp_path,
        f"a=touch {first}; " + wait_for.format(second),
        f"b=touch {second}; " + wait_for.format(first),
    )
    assert result.returncode == 0, result.stdout


def test_bad_job_text_is_refused(tmp_path):
    result = run_jobs(tmp_path, "no-equals-sign")
    assert result.returncode == 2
    assert "expected NAME=COMMAND" in result.stderr

"""The operator's every-day command on the converged all-in-one: `strata-ansible
setup-everything.yml` again changes nothing, and `--check --diff` finds nothing to change.

Both run the wrapper exactly as the README does (the config dir of the deployed lab cloud, the
Strata inventory), with `--plain` so ansible-playbook's own recap can be read.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.playbook import ANSI, recap

pytestmark = pytest.mark.lab

STRATA_ANSIBLE = str(Path(sys.executable).parent / "strata-ansible")


def converge(*args):
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["STRATA_CONFIG_DIR"] = os.environ["STRATA_LAB_CONFIG_DIR"]
    env["ANSIBLE_NOCOLOR"] = "1"
    proc = subprocess.run(
        [STRATA_ANSIBLE, "--plain", "setup-everything.yml", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=1800,
    )
    output = ANSI.sub("", proc.stdout + proc.stderr)
    return proc.returncode, output, recap(output)


def assert_nothing_changed(returncode, output, counts):
    assert returncode == 0, output[-4000:]
    assert counts, f"no PLAY RECAP in the output:\n{output[-4000:]}"
    moved = {h: c for h, c in counts.items() if c["changed"] or c["failed"] or c["unreachable"]}
    assert not moved, f"{moved}\n{output[-4000:]}"


def test_a_second_converge_changes_nothing(aio):
    assert_nothing_changed(*converge())


def test_check_mode_with_diff_finds_nothing_to_change(aio):
    assert_nothing_changed(*converge("--check", "--diff"))

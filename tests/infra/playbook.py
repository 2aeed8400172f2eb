"""Run one of the project's playbooks against the scenario's hosts from a test."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)


def run(playbook, *args):
    """ansible-playbook on molecule's inventory; returns (returncode, output, {host: counts})."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    binary = Path(sys.executable).with_name("ansible-playbook")
    # molecule exports ANSIBLE_FORCE_COLOR: plain text here, so the recap can be read.
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    proc = subprocess.run(
        [str(binary), "-i", inventory, str(ROOT / "playbooks" / playbook), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    stdout = ANSI.sub("", proc.stdout)
    recap = {
        m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])}
        for m in RECAP.findall(stdout)
    }
    return proc.returncode, stdout + proc.stderr, recap


def assert_check_mode_clean(playbook):
    """`--check --diff` on converged hosts: no failure and nothing to change on any host."""
    rc, output, recap = run(playbook, "--check", "--diff")
    assert rc == 0, output[-3000:]
    assert recap, output[-3000:]
    changed = {host: c["changed"] for host, c in recap.items() if c["changed"] or c["failed"]}
    assert not changed, f"check mode would change: {changed}\n{output[-3000:]}"

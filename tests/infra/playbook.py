"""Run the project's playbooks against the scenario's hosts from a test: the one way every
scenario's tests do it."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M
)


def _playbook_command(args, env):
    """argv and environment of ansible-playbook ARGS on molecule's inventory."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    binary = Path(sys.executable).with_name("ansible-playbook")
    # molecule exports ANSIBLE_FORCE_COLOR: plain text here, so the recap can be read.
    full_env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        **(env or {}),
    }
    return [str(binary), "-i", inventory, *args], full_env


def ansible_playbook(*args, env=None):
    """ansible-playbook ARGS on molecule's inventory, from the project root (paths relative to
    it); returns the CompletedProcess. `env` adds variables (e.g. another stdout callback)."""
    argv, full_env = _playbook_command(args, env)
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, cwd=ROOT, check=False)


def ansible_playbook_killed_at(pattern, *args):
    """ansible-playbook ARGS as ansible_playbook does, killed (SIGKILL, as a crash or a lost
    deploy host would) when a line of its output matches `pattern`: the output up to there.
    Fails when the run ends without reaching it."""
    argv, env = _playbook_command(args, None)
    return killed_at(pattern, argv, env)


def killed_at(pattern, argv, env):
    """Run ARGV (its own process group), SIGKILL the whole group when a line of its output
    matches `pattern`, and return the output up to there; fails when the run ends before."""
    lines = []
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    ) as proc:
        for line in proc.stdout:
            lines.append(line)
            if re.search(pattern, ANSI.sub("", line)):
                os.killpg(proc.pid, 9)
                proc.wait()
                return "".join(lines)
        proc.wait()
    raise AssertionError(
        f"the run ended (rc={proc.returncode}) before {pattern!r}:\n" + "".join(lines)[-3000:]
    )


def recap(output):
    """host -> {ok, changed, unreachable, failed} from ansible-playbook's PLAY RECAP."""
    return {
        m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])}
        for m in RECAP.findall(ANSI.sub("", output))
    }


def run(playbook, *args):
    """playbooks/PLAYBOOK; returns (returncode, output, {host: counts})."""
    proc = ansible_playbook(str(ROOT / "playbooks" / playbook), *args)
    stdout = ANSI.sub("", proc.stdout)
    return proc.returncode, stdout + proc.stderr, recap(stdout)


def assert_check_mode_clean(playbook):
    """`--check --diff` on converged hosts: no failure and nothing to change on any host."""
    rc, output, counts = run(playbook, "--check", "--diff")
    assert rc == 0, output[-3000:]
    assert counts, output[-3000:]
    changed = {host: c["changed"] for host, c in counts.items() if c["changed"] or c["failed"]}
    assert not changed, f"check mode would change: {changed}\n{output[-3000:]}"


def wait_for(predicate, timeout, what, interval=2):
    """predicate()'s first true value, polled every `interval` s; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)

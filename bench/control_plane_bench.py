#!/usr/bin/env python3
"""Control-plane benchmark: converge time of the molecule scenario `control-plane`.

Run as root from the repository root: `.venv/bin/python bench/control_plane_bench.py`.
It needs the lab (it creates and destroys the scenario's hosts cp1-cp3) and takes a while.

  cold        converge on hosts just created (first use of those hosts; the apt proxy may
              already hold the packages from earlier runs on this machine: it is shared)
  warm        the same on hosts created again (every package now in the apt proxy's cache)
  idempotent  converge again on the converged hosts (nothing to change; must report changed=0)

The hosts are destroyed at the end, whatever happens.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
SCENARIO = "control-plane"
HOSTS = ("cp1", "cp2", "cp3")
RECAP = re.compile(r"(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def molecule(action):
    """Run `molecule ACTION -s control-plane`; returns (seconds, output)."""
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    start = time.monotonic()
    proc = subprocess.run(
        [str(VENV_BIN / "molecule"), action, "-s", SCENARIO],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - start
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.exit(f"molecule {action} failed (rc {proc.returncode}):\n{output[-4000:]}")
    return elapsed, output


def forget_facts():
    """New hosts must not reuse facts cached for earlier hosts of the same name."""
    for path in (ROOT / ".cache" / "facts").glob("*"):
        if path.name.split("_", 1)[-1] in HOSTS or path.name in HOSTS:
            path.unlink()


def changed_total(output):
    return sum(int(m[1]) for m in RECAP.findall(output))


def fresh_converge():
    molecule("destroy")
    forget_facts()
    molecule("create")
    seconds, output = molecule("converge")
    return seconds, changed_total(output)


def main():
    try:
        cold, cold_changed = fresh_converge()
        warm, warm_changed = fresh_converge()
        again, output = molecule("converge")
        again_changed = changed_total(output)
        print(f"converge, cold (new hosts):        {cold:7.1f} s  ({cold_changed} changes)")
        print(f"converge, warm (new hosts again):  {warm:7.1f} s  ({warm_changed} changes)")
        print(f"converge, idempotent rerun:        {again:7.1f} s  ({again_changed} changes)")
        load = os.getloadavg()
        print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    finally:
        molecule("destroy")


if __name__ == "__main__":
    main()

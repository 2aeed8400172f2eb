#!/usr/bin/env python3
"""Ceph benchmark: converge time of the storage scenario, and time from the first OSD to
HEALTH_OK.

Run as root from the repository root: `.venv/bin/python bench/ceph_bench.py`. It needs the lab:
it creates the scenario's hosts (molecule `storage`, under the scenario's lock), converges them
while polling the first monitor, converges again (idempotent), and destroys the hosts at the end,
whatever happens. Prints figures only; nothing here passes or fails on time.

  converge          molecule converge on fresh hosts (host preparation + setup-storage.yml)
  first OSD -> OK   from the first moment `ceph osd stat` shows an OSD up to the first HEALTH_OK
  idempotent        molecule converge again (nothing to change)
"""

import json
import os
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
SCENARIO = "storage"
LOCK = "/tmp/strata-scenario-storage.lock"
MON = "172.29.236.61"  # st-ceph1's management address (molecule/storage/inventory.yml)
LAB = "/var/lib/strata/lab"


def molecule(action):
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    start = time.monotonic()
    proc = subprocess.run(
        ["flock", LOCK, str(VENV_BIN / "molecule"), action, "-s", SCENARIO],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.monotonic() - start, proc


def on_mon(command):
    ssh = [
        "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
        "-o", f"UserKnownHostsFile={LAB}/known_hosts", "-i", f"{LAB}/ssh/id_ed25519",
        f"root@{MON}", command,
    ]  # fmt: skip
    return subprocess.run(ssh, capture_output=True, text=True, timeout=60, check=False)


class Watcher(threading.Thread):
    """Polls the first monitor: when an OSD is first up, when HEALTH_OK is first seen after."""

    def __init__(self):
        super().__init__(daemon=True)
        self.first_osd = None
        self.health_ok = None
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set() and self.health_ok is None:
            try:
                if self.first_osd is None:
                    out = on_mon("ceph --connect-timeout 5 osd stat --format json")
                    if out.returncode == 0 and json.loads(out.stdout).get("num_up_osds", 0) > 0:
                        self.first_osd = time.monotonic()
                else:
                    out = on_mon("ceph --connect-timeout 5 health --format json")
                    if out.returncode == 0 and json.loads(out.stdout)["status"] == "HEALTH_OK":
                        self.health_ok = time.monotonic()
            except (subprocess.TimeoutExpired, ValueError, KeyError):
                pass
            self.stop.wait(2)


def main():
    try:
        molecule("destroy")
        seconds, proc = molecule("create")
        print(f"create            {seconds:7.1f} s (rc {proc.returncode})")
        watcher = Watcher()
        watcher.start()
        seconds, proc = molecule("converge")
        print(f"converge          {seconds:7.1f} s (rc {proc.returncode})")
        deadline = time.monotonic() + 600
        while watcher.health_ok is None and time.monotonic() < deadline and watcher.is_alive():
            time.sleep(2)
        watcher.stop.set()
        if watcher.first_osd and watcher.health_ok:
            print(f"first OSD -> OK   {watcher.health_ok - watcher.first_osd:7.1f} s")
        else:
            print("first OSD -> OK   not seen (cluster not HEALTH_OK within 10 minutes)")
        seconds, proc = molecule("converge")
        print(f"idempotent        {seconds:7.1f} s (rc {proc.returncode})")
    finally:
        molecule("destroy")


if __name__ == "__main__":
    main()

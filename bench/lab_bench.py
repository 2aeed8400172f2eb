#!/usr/bin/env python3
"""Lab benchmark: `strata lab up` for 7 hosts cold and warm, idle memory per host, `lab down`.

Run as root from the repository root: `.venv/bin/python bench/lab_bench.py`.
"cold" builds the base rootfs too (only when no other lab hosts exist, since they use it);
"create" starts from a cached rootfs with no containers; "warm" is `up` on a running lab.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRATA = str(ROOT / ".venv/bin/strata")
HOSTS = 7


def inventory_text():
    lines = [
        "all:",
        "  vars:",
        "    management_cidr: 172.29.236.0/22",
        "    storage_cidr: 172.29.244.0/22",
        "    replication_cidr: 172.29.248.0/22",
        "  hosts:",
    ]
    for i in range(1, HOSTS + 1):
        lines += [
            f"    benchlab{i}:",
            f"      management_address: 172.29.236.{230 + i}",
            f"      storage_address: 172.29.244.{230 + i}",
            f"      replication_address: 172.29.248.{230 + i}",
        ]
    return "\n".join(lines) + "\n"


def timed(*args):
    start = time.monotonic()
    subprocess.run([STRATA, "lab", *args], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def lab_empty():
    out = subprocess.run([STRATA, "lab", "status"], capture_output=True, text=True).stdout
    return out.strip() == "lab is down"


def memory_mib(name):
    out = subprocess.run(
        ["lxc-info", "-n", name, "-S", "-H"], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        if line.startswith("Memory use:"):
            return int(line.split(":")[1]) / 2**20
    return float("nan")


def main():
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as inv:
        inv.write(inventory_text())
        inv.flush()
        if lab_empty():
            print(
                f"lab up, cold (base rootfs built, {HOSTS} hosts created): "
                f"{timed('up', '-i', inv.name, '--rebuild-rootfs'):6.1f} s"
            )
            print(
                f"lab down:                                        "
                f"{timed('down', '-i', inv.name):6.1f} s"
            )
        else:
            print("lab up, cold: skipped (other lab hosts use the base rootfs)")
        print(
            f"lab up, create ({HOSTS} hosts, rootfs cached):          "
            f"{timed('up', '-i', inv.name):6.1f} s"
        )
        print(
            f"lab up, warm (nothing to do, goal <= 30 s):       "
            f"{timed('up', '-i', inv.name):6.1f} s"
        )
        time.sleep(5)  # let the hosts settle to idle
        mem = [memory_mib(f"benchlab{i}") for i in range(1, HOSTS + 1)]
        print(
            f"idle memory per host:                             "
            f"{sum(mem) / len(mem):6.1f} MiB (min {min(mem):.1f}, max {max(mem):.1f})"
        )
        print(
            f"lab down ({HOSTS} hosts):                                "
            f"{timed('down', '-i', inv.name):6.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

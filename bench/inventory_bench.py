#!/usr/bin/env python3
"""Inventory generation speed on the reference layout (etc/strata/reference-1000).

Builds variants of the reference layout with more computes (1041 and 2041 hosts) in a temporary
directory, then measures:
  - in-process CPU time of strata.inventory.generate + JSON (load, validate, assign, build),
    first run (no state file: every address assigned, state written) and steady (state kept);
  - CPU time of the whole inventory script (`inventory/strata_inventory.py --list`), interpreter
    start and imports included;
  - wall time of `ansible-inventory --list` on the 1041-host variant, and for context the same
    on a trivial inventory script with as many hosts and one variable each (ansible-core's own
    share, which no inventory source can go below).
Targets: 1041 hosts <= 0.3 CPU-s, 2041 hosts <= 2.2x that, ansible-inventory <= 1 s.
Exit status 1 when a target is missed. Run: .venv/bin/python bench/inventory_bench.py
"""

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from strata import config as strata_config  # noqa: E402
from strata import inventory  # noqa: E402

REFERENCE = ROOT / "etc" / "strata" / "reference-1000"
SCRIPT = ROOT / "inventory" / "strata_inventory.py"
SIZES = (1041, 2041)
LIMIT_1041 = 0.3  # CPU seconds
LIMIT_RATIO = 2.2  # 2041 hosts vs 1041 hosts
LIMIT_ANSIBLE = 1.0  # wall seconds
REPEAT = 11
VENV_BIN = Path(sys.executable).parent

TRIVIAL_SCRIPT = """#!/bin/sh
cat "$(dirname "$0")/trivial.json"
"""


def make_variant(total_hosts, dest):
    """The reference layout with computes added until it has ``total_hosts`` hosts."""
    ignore = shutil.ignore_patterns(f"{inventory.STATE_FILE}*", ".*")
    shutil.copytree(REFERENCE, dest, ignore=ignore, dirs_exist_ok=True)
    config, _ = strata_config.load(dest)
    existing = len(config.hosts)
    computes = sum(1 for h in config.hosts.values() if "nova_compute" in h.components)
    lines = ["---", "compute_hosts:"]
    for number in range(computes + 1, computes + 1 + total_hosts - existing):
        index = number - 1
        lines.append(f"  cmp{number:04d}:\n    ip: 10.16.{2 + index // 250}.{1 + index % 250}")
    (Path(dest) / "conf.d" / "zz-bench-compute.yml").write_text("\n".join(lines) + "\n")
    config, _ = strata_config.load(dest)
    assert len(config.hosts) == total_hosts, len(config.hosts)


def cpu_in_process(config_dir, first_run):
    """Median CPU time of REPEAT runs of generate + JSON (the median: the machine is shared)."""
    times = []
    for _ in range(REPEAT):
        if first_run:
            for path in Path(config_dir).glob(f"{inventory.STATE_FILE}*"):
                path.unlink()
        start = time.process_time()
        _, inv, _ = inventory.generate(config_dir)
        inventory.to_json(inv)
        times.append(time.process_time() - start)
    return statistics.median(times)


def cpu_script(config_dir):
    """Best CPU time (user + sys) of the inventory script as Ansible runs it."""
    best = None
    # As strata-ansible runs it: the venv's bin first on PATH.
    env = {
        **os.environ,
        "STRATA_CONFIG_DIR": str(config_dir),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for _ in range(REPEAT):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(SCRIPT), "--list"], env=env, check=True, stdout=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = spent if best is None else min(best, spent)
    return best


def ansible_inventory(config_dir, source=None):
    """Best (wall, CPU) seconds of `ansible-inventory --list` (the repo's inventory/, or
    ``source``). CPU counts ansible-inventory and the script it runs; on a busy machine it is
    the steadier figure."""
    binary = VENV_BIN / "ansible-inventory"
    env = {
        **os.environ,
        "STRATA_CONFIG_DIR": str(config_dir),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    argv = [str(binary), "--list"] + (["-i", str(source)] if source else [])
    best_wall = best_cpu = None
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_wall = wall if best_wall is None else min(best_wall, wall)
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    return best_wall, best_cpu


def trivial_inventory(directory, hosts):
    """An inventory script printing ``hosts`` hosts with one variable each."""
    directory.mkdir()
    hostvars = {
        f"h{n:04d}": {"ansible_host": f"10.16.{n // 250}.{n % 250 + 1}"} for n in range(hosts)
    }
    data = {"_meta": {"hostvars": hostvars}, "nova_compute": {"hosts": sorted(hostvars)}}
    (directory / "trivial.json").write_text(json.dumps(data))
    script = directory / "trivial.sh"
    script.write_text(TRIVIAL_SCRIPT)
    script.chmod(0o755)
    return script


def main():
    failures = []
    results = {}
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        for size in SIZES:
            config_dir = Path(tmp) / f"hosts-{size}"
            make_variant(size, config_dir)
            first = cpu_in_process(config_dir, first_run=True)
            steady = cpu_in_process(config_dir, first_run=False)
            script = cpu_script(config_dir)
            results[size] = (first, steady, script, config_dir)
            print(
                f"{size} hosts: generate {first:.3f} CPU-s (first run, state written), "
                f"{steady:.3f} CPU-s (state kept); inventory script --list {script:.3f} CPU-s "
                "(with interpreter start)"
            )
        small, large = results[SIZES[0]], results[SIZES[1]]
        worst_small = max(small[0], small[1])
        if worst_small > LIMIT_1041:
            failures.append(f"{SIZES[0]} hosts: {worst_small:.3f} CPU-s > {LIMIT_1041}")
        for label, index in (("first run", 0), ("state kept", 1)):
            ratio = large[index] / small[index]
            print(f"{SIZES[1]}/{SIZES[0]} ratio ({label}): {ratio:.2f} (limit {LIMIT_RATIO})")
            if ratio > LIMIT_RATIO:
                failures.append(f"ratio ({label}) {ratio:.2f} > {LIMIT_RATIO}")
        wall, cpu = ansible_inventory(small[3])
        trivial = trivial_inventory(Path(tmp) / "trivial", SIZES[0])
        floor_wall, floor_cpu = ansible_inventory(small[3], trivial)
        print(
            f"ansible-inventory --list on {SIZES[0]} hosts: {wall:.3f} s wall, {cpu:.3f} CPU-s; "
            f"ansible-core alone (a trivial script, {SIZES[0]} hosts with one var each): "
            f"{floor_wall:.3f} s wall, {floor_cpu:.3f} CPU-s"
        )
        if wall > LIMIT_ANSIBLE:
            failures.append(f"ansible-inventory {wall:.3f} s > {LIMIT_ANSIBLE}")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("PASS" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

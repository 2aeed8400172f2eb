#!/usr/bin/env python3
"""Inventory generation speed on the reference layout (etc/strata/reference-1000).

Builds variants of the reference layout with more computes (1041 and 2041 hosts) in a temporary
directory, then measures:
  - in-process CPU time of strata.inventory.generate + JSON (load, validate, assign, build),
    first run (no state file: every address assigned, state written) and steady (state kept);
  - CPU time of the whole inventory script (`inventory/strata_inventory.py --list`), interpreter
    start and imports included;
  - `ansible-inventory --list` on the 1041-host variant (CPU time of it and the script it runs,
    and wall time), and for context the same on a trivial inventory script with as many hosts and
    one variable each (ansible-core's own share, which no inventory source can go below).

Targets: 1041 hosts <= 0.3 CPU-s, 2041 hosts <= 2.2x that, ansible-inventory <= 1 s.

The machine may be shared, so every figure is the best of several samples, CPU time rather than
wall time (time spent waiting for a CPU is not the inventory's cost), and the two sizes are
sampled in turn so that both see the same load. A sample of generate runs it several times (after
a garbage collection, so each sample starts from the same heap): a few hundredths of a second
alone is too short to be steady. ansible-inventory is judged on its CPU time: it runs on one core,
so on an idle machine its wall time is its CPU time plus little I/O; the wall time is printed too,
with the load average, and is only meaningful when the load is below the number of cores.

Exit status 1 when a target is missed. Run: .venv/bin/python bench/inventory_bench.py
"""

import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from strata import config as strata_config  # noqa: E402
from strata import inventory  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import load_note, report  # noqa: E402  (bench/ is not a package)

REFERENCE = ROOT / "etc" / "strata" / "reference-1000"
SCRIPT = ROOT / "inventory" / "strata_inventory.py"
SIZES = (1041, 2041)
LIMIT_1041 = 0.3  # CPU seconds
LIMIT_RATIO = 2.2  # 2041 hosts vs 1041 hosts
LIMIT_ANSIBLE = 1.0  # seconds (CPU: see above)
SAMPLES = 9  # samples of each measure; the best counts
RUNS_PER_SAMPLE = 5  # generate runs in one in-process sample
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


def generate_sample(config_dir, first_run):
    """CPU seconds of one generate + JSON, averaged over RUNS_PER_SAMPLE runs. For a first run
    the state files are removed before each run, outside the timing."""
    gc.collect()
    spent = 0.0
    for _ in range(RUNS_PER_SAMPLE):
        if first_run:
            for path in Path(config_dir).glob(f"{inventory.STATE_FILE}*"):
                path.unlink()
        start = time.process_time()
        _, inv, _ = inventory.generate(config_dir)
        inventory.to_json(inv)
        spent += time.process_time() - start
    return spent / RUNS_PER_SAMPLE


def script_sample(config_dir):
    """CPU seconds (user + sys) of the inventory script as Ansible runs it."""
    # As strata-ansible runs it: the venv's bin first on PATH.
    env = {
        **os.environ,
        "STRATA_CONFIG_DIR": str(config_dir),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([str(SCRIPT), "--list"], env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_of_sizes(measure, config_dirs):
    """{size: best of SAMPLES samples of measure(config_dir)}, the sizes sampled in turn."""
    best = {}
    for _ in range(SAMPLES):
        for size, config_dir in config_dirs.items():
            spent = measure(config_dir)
            best[size] = min(best.get(size, spent), spent)
    return best


def ansible_inventory(config_dir, source=None):
    """Best (wall, CPU) seconds of `ansible-inventory --list` (the repo's inventory/, or
    ``source``), with the repo's ansible.cfg as CI uses it. CPU counts ansible-inventory and the
    script it runs."""
    binary = VENV_BIN / "ansible-inventory"
    env = {
        **os.environ,
        "STRATA_CONFIG_DIR": str(config_dir),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    argv = [str(binary), "--list"] + (["-i", str(source)] if source else [])
    best_wall = best_cpu = None
    for _ in range(SAMPLES):
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
    print(f"start: {load_note()}")
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        config_dirs = {}
        for size in SIZES:
            config_dirs[size] = Path(tmp) / f"hosts-{size}"
            make_variant(size, config_dirs[size])
        first = best_of_sizes(lambda d: generate_sample(d, first_run=True), config_dirs)
        steady = best_of_sizes(lambda d: generate_sample(d, first_run=False), config_dirs)
        script = best_of_sizes(script_sample, config_dirs)
        for size in SIZES:
            print(
                f"{size} hosts: generate {first[size]:.3f} CPU-s (first run, state written), "
                f"{steady[size]:.3f} CPU-s (state kept); inventory script --list "
                f"{script[size]:.3f} CPU-s (with interpreter start)"
            )
        small_size, large_size = SIZES
        wall, cpu = ansible_inventory(config_dirs[small_size])
        trivial = trivial_inventory(Path(tmp) / "trivial", small_size)
        floor_wall, floor_cpu = ansible_inventory(config_dirs[small_size], trivial)
        print(
            f"ansible-inventory --list on {small_size} hosts: {cpu:.3f} CPU-s, {wall:.3f} s wall; "
            f"ansible-core alone (a trivial script, {small_size} hosts with one var each): "
            f"{floor_cpu:.3f} CPU-s, {floor_wall:.3f} s wall"
        )
    print(f"end: {load_note()}")

    results = []
    worst_small = max(first[small_size], steady[small_size])
    results.append(
        (
            worst_small <= LIMIT_1041,
            f"{small_size} hosts generated in <= {LIMIT_1041} CPU-s: {worst_small:.3f} CPU-s",
        )
    )
    for label, figures in (("first run", first), ("state kept", steady)):
        ratio = figures[large_size] / figures[small_size]
        results.append(
            (
                ratio <= LIMIT_RATIO,
                f"{large_size}/{small_size} hosts ({label}) <= {LIMIT_RATIO}x: {ratio:.2f}x",
            )
        )
    results.append(
        (
            cpu <= LIMIT_ANSIBLE,
            f"ansible-inventory --list on {small_size} hosts <= {LIMIT_ANSIBLE} s: "
            f"{cpu:.3f} CPU-s ({wall:.3f} s wall)",
        )
    )
    return report(results)


if __name__ == "__main__":
    sys.exit(main())

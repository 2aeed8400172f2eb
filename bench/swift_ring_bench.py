#!/usr/bin/env python3
"""Benchmark the swift_ring module against swift's RingBuilder called directly.

450 devices (45 hosts x 10 drives, 5 zones), 3 replicas, at part powers 14, 16 and 18:

- direct: RingBuilder in this process doing what `swift-ring-builder create/add/rebalance`
  does: add the devices, rebalance, validate, save the builder, write the ring.
- module: the module's converge() in this process, from nothing to a written ring. Same seed,
  so the same ring comes out (the md5s are compared).
  Each is built --repeat times, alternating which goes first; the best time counts, because
  other work on the machine only ever adds time. Wall and CPU seconds are both shown: the CPU
  time of this (single-threaded) process is the steadier figure on a busy machine, the wall
  time includes the module's fsyncs.
- rerun: the module again with the same devices, in this process (the state-file fast path),
  and as a fresh Python process running the module file the way Ansible's module debugging
  entry point does (interpreter start, ansible and module imports included), once with the
  state file and once without it (full check: load the builder, plan, render the ring).

Run from the repository root: .venv/bin/python bench/swift_ring_bench.py [--part-powers 14 16]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODULE_UTILS = os.path.join(ROOT, "module_utils")
MODULE_FILE = os.path.join(ROOT, "library", "swift_ring.py")
sys.path.insert(0, MODULE_UTILS)

import strata_swift_ring as sr  # noqa: E402
from swift.common.ring import RingBuilder  # noqa: E402

HOSTS = 45
DRIVES = 10
ZONES = 5
REPLICAS = 3
MIN_PART_HOURS = 1

# Runs the module file's main() in a fresh interpreter, as `python swift_ring.py args.json`
# would if ansible.module_utils could find our module_utils directory.
RUN_MODULE = """
import runpy, sys
import ansible.module_utils
ansible.module_utils.__path__.append(sys.argv[1])
sys.argv = [sys.argv[2], sys.argv[3]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def wanted_devices():
    return [
        {
            "region": 1,
            "zone": host % ZONES + 1,
            "ip": f"10.20.{host % ZONES + 1}.{host + 10}",
            "port": 6200,
            "replication_ip": f"10.30.{host % ZONES + 1}.{host + 10}",
            "replication_port": 6200,
            "device": f"sd{chr(ord('b') + drive)}",
            "weight": 4000.0,
            "meta": "",
        }
        for host in range(HOSTS)
        for drive in range(DRIVES)
    ]


def build_directly(directory, part_power, seed):
    builder = RingBuilder(part_power, REPLICAS, MIN_PART_HOURS)
    for dev in wanted_devices():
        builder.add_dev(dev)
    parts_moved, balance, _removed = builder.rebalance(seed=seed)
    builder.validate()
    builder.save(os.path.join(directory, "object.builder"))
    builder.get_ring().save(os.path.join(directory, "object.ring.gz"))
    return parts_moved, balance


def timed(function, *args, **kwargs):
    """(wall seconds, CPU seconds of this process, value)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    return time.perf_counter() - wall, time.process_time() - cpu, value


def run_module_process(params):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": params}, handle)
    try:
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-c", RUN_MODULE, MODULE_UTILS, MODULE_FILE, handle.name],
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
    finally:
        os.unlink(handle.name)
    return elapsed, json.loads(run.stdout)


def bench(part_power, seed, workdir, repeat):
    """Best of `repeat` builds each way (alternating which goes first), then the reruns."""
    params = {
        "ring": "object",
        "part_power": part_power,
        "replicas": REPLICAS,
        "min_part_hours": MIN_PART_HOURS,
        "devices": wanted_devices(),
        "seed": seed,
    }
    times = {"direct": [], "module": []}
    for attempt in range(repeat):
        direct_dir = os.path.join(workdir, f"direct-{part_power}-{attempt}")
        module_dir = os.path.join(workdir, f"module-{part_power}-{attempt}")
        os.makedirs(direct_dir)
        params["builder_dir"] = module_dir
        runs = [
            ("direct", build_directly, (direct_dir, part_power, seed)),
            ("module", sr.converge, (params,)),
        ]
        results = {}
        for name, function, args in runs if attempt % 2 == 0 else reversed(runs):
            wall, cpu, results[name] = timed(function, *args)
            times[name].append((wall, cpu))
        built = results["module"]
        direct_md5 = sr.file_digest(os.path.join(direct_dir, "object.ring.gz"), "md5")
        if built["ring_md5"] != direct_md5 or built["parts_moved"] != results["direct"][0]:
            raise SystemExit(f"part power {part_power}: the module built another ring than swift")
        if attempt < repeat - 1:
            shutil.rmtree(direct_dir)
            shutil.rmtree(module_dir)

    rerun_s, _cpu, rerun = timed(sr.converge, params)
    process_s, process = run_module_process(params)
    os.unlink(os.path.join(params["builder_dir"], "object.builder.strata.json"))
    full_s, full = run_module_process(params)
    for name, result in (("rerun", rerun), ("process rerun", process), ("full rerun", full)):
        if result["changed"] or result["parts_moved"] != 0:
            raise SystemExit(f"part power {part_power}: the {name} changed something: {result}")
    direct_s = min(wall for wall, _ in times["direct"])
    module_s = min(wall for wall, _ in times["module"])
    direct_cpu = min(cpu for _, cpu in times["direct"])
    module_cpu = min(cpu for _, cpu in times["module"])
    return {
        "part_power": part_power,
        "direct_s": direct_s,
        "module_s": module_s,
        "ratio": module_s / direct_s,
        "direct_cpu": direct_cpu,
        "module_cpu": module_cpu,
        "cpu_ratio": module_cpu / direct_cpu,
        "rerun_s": rerun_s,
        "process_s": process_s,
        "full_s": full_s,
        "parts_moved": built["parts_moved"],
        "balance": built["balance"],
        "dispersion": built["dispersion"],
        "builder_mb": os.path.getsize(built["builder_file"]) / 1e6,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part-powers", type=int, nargs="+", default=[14, 16, 18])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="builds each way; the best counts")
    options = parser.parse_args()

    print(
        f"{HOSTS * DRIVES} devices ({HOSTS} hosts x {DRIVES} drives, {ZONES} zones), "
        f"{REPLICAS} replicas, seed {options.seed}, best of {options.repeat} builds, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'part power':>10} {'direct s':>9} {'module s':>9} {'ratio':>6} "
        f"{'direct cpu':>10} {'module cpu':>10} {'ratio':>6} "
        f"{'rerun s':>8} {'rerun proc s':>13} {'no-state proc s':>16} "
        f"{'moved':>8} {'balance':>8} {'disp':>5} {'builder MB':>10}"
    )
    print(header)
    workdir = tempfile.mkdtemp(prefix="swift_ring_bench-")
    try:
        for part_power in options.part_powers:
            row = bench(part_power, options.seed, workdir, options.repeat)
            print(
                f"{row['part_power']:>10} {row['direct_s']:>9.2f} {row['module_s']:>9.2f} "
                f"{row['ratio']:>6.3f} {row['direct_cpu']:>10.2f} {row['module_cpu']:>10.2f} "
                f"{row['cpu_ratio']:>6.3f} {row['rerun_s']:>8.3f} {row['process_s']:>13.3f} "
                f"{row['full_s']:>16.3f} {row['parts_moved']:>8} {row['balance']:>8.3f} "
                f"{row['dispersion']:>5.1f} {row['builder_mb']:>10.2f}",
                flush=True,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        "direct/module: build from nothing to a written ring (same seed, same ring md5), "
        "the best of the builds, alternating which goes first, wall and CPU seconds; "
        "rerun: same devices in this process; rerun proc: a fresh interpreter running the module "
        "file; no-state proc: the same without the state file. Every rerun moved 0 partitions."
    )


if __name__ == "__main__":
    main()

"""What the benchmarks under bench/ print alike: the machine's load beside their figures, and
their targets' verdicts. Not a benchmark itself (`make bench` runs bench/*_bench.py only)."""

import os


def load_note():
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    busy = ": busy, wall times are inflated" if load >= cores else ""
    return f"load average {load:.2f} on {cores} cores{busy}"


def report(results):
    """Print each (met, text) target as PASS or MISS and a count; the exit status: 1 on a miss."""
    for ok, text in results:
        print(f"{'PASS' if ok else 'MISS'}: {text}")
    missed = sum(1 for ok, _ in results if not ok)
    print(
        f"{len(results) - missed} of {len(results)} targets met"
        + (f", {missed} MISSED" if missed else "")
    )
    return 1 if missed else 0

"""What the benchmarks under bench/ print alike: the machine's load beside their figures, and
a target's verdict. Not a benchmark itself (`make bench` runs bench/*_bench.py only)."""

import os


def load_note():
    cores = os.cpu_count()
    load = os.getloadavg()[0]
    busy = ": busy, wall times are inflated" if load >= cores else ""
    return f"load average {load:.2f} on {cores} cores{busy}"


def verdict(ok):
    return "PASS" if ok else "MISS"

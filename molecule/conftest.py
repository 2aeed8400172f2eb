"""Shared setup for every scenario's testinfra tests: makes tests/infra importable, and skips
the drills unless STRATA_DRILLS=1.

A drill (`pytestmark = pytest.mark.drill`) breaks or grows a converged scenario on purpose: a
host powered off, a cluster member killed, a host added, a setting rolled out across the
cluster. Each one costs one or more whole playbook runs or long recoveries (swift's took 44
of its scenario's 86 minutes on CI's 2 cores), and with them the suite ran past CI's limit.
`make test` (CI) runs every scenario's converge, idempotence, check mode and service checks;
`make test-full` runs the drills too (docs/testing.md)."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def pytest_collection_modifyitems(config, items):
    if os.environ.get("STRATA_DRILLS") == "1":
        return
    skip = pytest.mark.skip(reason="a drill: `make test-full` (STRATA_DRILLS=1) runs it")
    for item in items:
        if item.get_closest_marker("drill"):
            item.add_marker(skip)

"""Shared setup for every scenario's testinfra tests: makes tests/infra importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

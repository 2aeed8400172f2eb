"""Makes tests/infra importable as the scenarios' tests import it (molecule/conftest.py does
the same for molecule/); the directory has no __init__.py so that `from nv import` works."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

"""Strata: deploy OpenStack storage and its control plane onto bare-metal Debian 12 hosts."""

from pathlib import Path

__version__ = "0.1.0"

# The repository root: playbooks/, roles/, ansible.cfg live here.
ROOT = Path(__file__).resolve().parent.parent

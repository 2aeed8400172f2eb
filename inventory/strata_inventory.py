#!/usr/bin/env python3
"""Ansible dynamic inventory for Strata (called by Ansible's script plugin).

--list prints every group and host var; --host NAME prints one host's vars. The config directory
is $STRATA_CONFIG_DIR, else /etc/strata. All the work is in strata.inventory.

Warnings are not printed: Ansible shows any stderr of an inventory script as an error. See them
with `strata inventory validate`, or set STRATA_INVENTORY_WARNINGS=1.
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"


def _import_strata():
    """Import strata; from a Python without its dependencies, re-run under the project venv."""
    sys.path.insert(0, str(ROOT))
    try:
        from strata import errors, inventory
    except ImportError:
        venv_python = VENV / "bin" / "python"
        if venv_python.exists() and not os.environ.get("STRATA_INVENTORY_REEXEC"):
            os.environ["STRATA_INVENTORY_REEXEC"] = "1"
            os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])
        raise
    return errors, inventory


def main(argv):
    if argv[:1] not in (["--list"], ["--host"]) or (argv[0] == "--host" and len(argv) != 2):
        print("usage: strata_inventory.py --list | --host NAME", file=sys.stderr)
        return 2
    errors, inventory = _import_strata()
    try:
        _, inv, warnings = inventory.generate()
        if argv[0] == "--list":
            text = inventory.to_json(inv)
        else:
            hostvars = inv["_meta"]["hostvars"].get(argv[1], {})
            text = json.dumps(hostvars, sort_keys=True, default=str)
    except errors.ValidationError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    except errors.StrataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 (Ansible shows a traceback as noise: one line)
        from strata.cli import unexpected

        print(f"error: {unexpected(exc)}", file=sys.stderr)
        return 1
    if os.environ.get("STRATA_INVENTORY_WARNINGS"):
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

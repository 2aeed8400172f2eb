"""The `strata` command: one subcommand per area, each registered by its own module."""

import argparse
import importlib
import sys

from strata import __version__
from strata.errors import StrataError, ValidationError

# subcommand -> module with a register(subparsers) function that sets `func` on its parser.
COMMANDS = {
    "lab": "strata.lab.cli",
    "inventory": "strata.inventory_cli",
    "secrets": "strata.secrets_cli",
}


def build_parser():
    parser = argparse.ArgumentParser(prog="strata", description=__doc__)
    parser.add_argument("--version", action="version", version=f"strata {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not module_name.startswith(str(exc.name)):
                raise
            continue  # that area is not part of this checkout yet
        module.register(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except ValidationError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except StrataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 (no command may end in a traceback)
        print(f"error: {unexpected(exc)}", file=sys.stderr)
        return 1


def unexpected(exc):
    """One line for an exception nobody expected: its type and message, and where to report."""
    text = str(exc).strip().splitlines()
    detail = f": {text[0][:300]}" if text else ""
    return (
        f"unexpected {type(exc).__name__}{detail} (a bug in Strata: please report it with the "
        "command and the input that caused it)"
    )


if __name__ == "__main__":
    sys.exit(main())

"""No input makes a `strata` command or the inventory script end in a Python traceback: each
entry point runs on broken inputs and prints `error:` lines and exits non-zero (issue 10)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_config_validation import BASE

from strata import cli, inventory, secrets

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "inventory" / "strata_inventory.py"

# name -> (config text, state file bytes or None, user_secrets.yml: text, "dir" or None)
BROKEN = {
    "int-key": (BASE.replace("global_overrides:\n", "global_overrides:\n  1: x\n"), None, None),
    "deep": (
        BASE.replace(
            "global_overrides:\n", "global_overrides:\n  d: " + "[" * 100_000 + "]" * 100_000 + "\n"
        ),
        None,
        None,
    ),
    "state-not-utf8": (BASE, b'{"version": 1, "hosts": {"a": "\xff"}}', None),
    "state-record-list": (BASE, b'{"version": 1, "hosts": {"swift1": ["x"]}}', None),
    "secrets-dir": (BASE, None, "dir"),
    "secrets-not-utf8": (BASE, None, b"a: '\xff'\n"),
    "not-yaml": ("cidr_networks: [\n", None, None),
}

# show, hosts and groups run the same code as validate (inventory_cli._generate).
COMMANDS = (
    ["inventory", "validate"],
    ["inventory", "remove-host", "gone"],
    ["secrets", "check"],
    ["secrets", "generate"],
)


def make(tmp_path, name):
    text, state, user_secrets = BROKEN[name]
    directory = tmp_path / name
    directory.mkdir()
    (directory / "strata_user_config.yml").write_text(text)
    if state is not None:
        (directory / inventory.STATE_FILE).write_bytes(state)
    if user_secrets == "dir":
        (directory / secrets.SECRETS_FILE_NAME).mkdir()
    elif user_secrets is not None:
        (directory / secrets.SECRETS_FILE_NAME).write_bytes(user_secrets)
    return directory


def run(argv, directory):
    env = {**os.environ, "STRATA_CONFIG_DIR": str(directory)}
    env.pop("STRATA_INVENTORY_REEXEC", None)
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=ROOT)


def assert_clean_failure(result, what):
    output = result.stdout + result.stderr
    assert "Traceback" not in output, f"{what}:\n{output}"
    assert result.returncode not in (0, -11, 139), f"{what}: exit {result.returncode}"
    assert result.stderr.startswith("error: "), f"{what}:\n{output}"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_inventory_script_fails_with_one_error_line(tmp_path, name):
    directory = make(tmp_path, name)
    if name.startswith("secrets"):
        pytest.skip("the inventory script does not read user_secrets.yml")
    args = ["--host", "swift1"] if name == "int-key" else ["--list"]
    assert_clean_failure(run([sys.executable, str(SCRIPT), *args], directory), (name, args))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_strata_commands_fail_with_error_lines(tmp_path, name, capsys):
    # In-process through strata.cli.main (the console script's entry point): a traceback would
    # escape main() and fail the test.
    directory = make(tmp_path, name)
    secrets_case = name.startswith("secrets")
    for command in COMMANDS:
        if secrets_case != (command[0] == "secrets"):
            continue  # each broken input is read by its own commands
        status = cli.main([*command, "--config-dir", str(directory)])
        captured = capsys.readouterr()
        assert status not in (0, None), (name, command)
        assert captured.err.startswith("error: "), (name, command, captured.err)
        assert "Traceback" not in captured.out + captured.err


def test_the_strata_console_script_on_a_crashing_input(tmp_path):
    # The 100,000-deep list used to crash libyaml's composer (a segfault, no message at all).
    directory = make(tmp_path, "deep")
    result = run([sys.executable, "-m", "strata.cli", "inventory", "validate"], directory)
    assert_clean_failure(result, "deep")


def test_an_unexpected_exception_is_one_error_line(capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("something nobody foresaw\nsecond line")

    parser = cli.build_parser()
    args = parser.parse_args(["inventory", "validate"])
    monkeypatch.setattr(cli, "build_parser", lambda: _Fixed(args, boom))
    assert cli.main(["inventory", "validate"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: unexpected RuntimeError: something nobody foresaw (a bug in Strata: please "
        "report it with the command and the input that caused it)\n"
    )


class _Fixed:
    def __init__(self, args, func):
        self.args = args
        self.args.func = func

    def parse_args(self, argv):
        return self.args

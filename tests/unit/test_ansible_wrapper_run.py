"""strata-ansible for real: small playbooks against localhost (ansible_connection=local).

The runs start together in one fixture (each is an ansible-playbook of a few seconds) and the
tests then look at their output, exit codes and log dirs. The lab test at the end runs the
wrapper with the real Strata inventory against lab hosts.
"""

import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from strata import ROOT, secrets

FIXTURES = ROOT / "tests" / "fixtures" / "wrapper"
STRATA_ANSIBLE = str(Path(sys.executable).parent / "strata-ansible")
HOSTS = str(FIXTURES / "hosts.yml")
UNREACHABLE = str(FIXTURES / "unreachable.yml")
VAULT_PASSWORD = "wrapper test vault"
OLD_RUNS = 25


@dataclass
class Run:
    config_dir: Path
    returncode: int
    out: str
    err: str = ""

    @property
    def log_dir(self):
        return self.config_dir / "logs"

    def run_dirs(self):
        return sorted(path for path in self.log_dir.iterdir() if path.is_dir())

    def secret(self, name):
        return yaml.safe_load((self.config_dir / "user_secrets.yml").read_text())[name]


def config_dir(base, name, generate=True):
    path = base / name
    path.mkdir()
    if generate:
        secrets.generate(path / "user_secrets.yml")
    (path / "user_variables.yml").write_text("strata_test_greeting: hello from user_variables\n")
    return path


OPERATOR_ENV_SECRET = "from-the-operators-openrc"


def environment(config):
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["STRATA_CONFIG_DIR"] = str(config)
    env["OS_PASSWORD"] = OPERATOR_ENV_SECRET  # as a sourced openrc leaves it
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("wrapper-runs")
    configs = {
        "ok": config_dir(base, "ok"),
        "fail": config_dir(base, "fail"),
        "plain": config_dir(base, "plain"),
        "refuse": config_dir(base, "refuse", generate=False),
        "terminal": config_dir(base, "terminal"),
    }
    # Old runs in the ok config's log dir, to be rotated away.
    for day in range(1, OLD_RUNS + 1):
        (configs["ok"] / "logs" / f"202001{day:02}-000000-old").mkdir(parents=True)
    (configs["refuse"] / "user_secrets.yml").write_text(
        "haproxy_stats_password: ''\nkeepalived_vrrp_password: '12345678'\n"
    )
    # The terminal run reads vault-encrypted secrets, its password asked with -J.
    terminal_secrets = configs["terminal"] / "user_secrets.yml"
    vault = VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))])
    terminal_secrets.write_bytes(vault.encrypt(terminal_secrets.read_text()))

    commands = {
        # needs_secrets.yml applies (stub) roles that need secrets, then imports ok.yml.
        "ok": ["-i", HOSTS, "--limit", "local1", str(FIXTURES / "needs_secrets.yml")],
        "fail": ["-i", HOSTS, "-i", UNREACHABLE, str(FIXTURES / "fail.yml")],
        "plain": ["--plain", "-i", HOSTS, str(FIXTURES / "fail.yml")],
        "refuse": ["-i", HOSTS, str(FIXTURES / "needs_secrets.yml")],
    }
    terminal = pexpect.spawn(
        STRATA_ANSIBLE,
        ["-J", "-i", HOSTS, str(FIXTURES / "fail.yml")],
        cwd=str(base),
        env=environment(configs["terminal"]),
        encoding="utf-8",
        dimensions=(24, 160),
    )
    terminal.expect("Vault password: ", timeout=30)
    terminal.sendline(VAULT_PASSWORD)
    processes = {
        name: subprocess.Popen(
            [STRATA_ANSIBLE, *args],
            cwd=base,
            env=environment(configs[name]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in commands.items()
    }
    results = {}
    for name, process in processes.items():
        out, err = process.communicate(timeout=180)
        results[name] = Run(configs[name], process.returncode, out, err)
    terminal.expect(pexpect.EOF, timeout=180)
    terminal.close()
    results["terminal"] = Run(configs["terminal"], terminal.exitstatus, terminal.before)
    return results


def all_log_text(run):
    return "\n".join(
        path.read_text(errors="replace") for path in run.log_dir.rglob("*") if path.is_file()
    )


def test_a_good_run_shows_progress_lines_and_a_recap(runs):
    run = runs["ok"]
    assert run.returncode == 0, run.out + run.err
    lines = run.out.splitlines()
    assert lines[0].startswith(f"strata-ansible: {FIXTURES}/needs_secrets.yml; log: {run.log_dir}/")
    assert any(line.endswith("PLAY Wrapper test play with roles") for line in lines)
    assert any(line.endswith("TASK Make a change") for line in lines)
    assert any(line.endswith("changed: local1") for line in lines)
    recap = run.out.split("\n\n")[-2].splitlines()
    assert recap[0] == "host    ok  changed  unreachable  failed  skipped  rescued  ignored"
    assert recap[1].split() == ["local1", "5", "1", "0", "0", "0", "0", "0"]
    assert len(recap) == 2  # --limit passed through
    assert lines[-1].startswith("ok (exit code 0) in 0:")
    assert "\x1b[" not in run.out


def test_a_play_with_roles_runs_when_its_secrets_are_set(runs):
    run = runs["ok"]
    assert "TASK haproxy_server : Stand in for the real haproxy_server role" in run.out
    assert "TASK rabbitmq_server : Stand in for the real rabbitmq_server role" in run.out
    summary = (run.run_dirs()[-1] / "strata-run.json").read_text()
    assert '"haproxy_server",\n    "rabbitmq_server"' in summary


def test_the_wrapper_passes_the_config_dir_and_every_user_file(runs):
    run = runs["ok"]
    # ansible's YAML output folds long lines: compare words.
    stdout_log = " ".join((run.run_dirs()[-1] / "stdout").read_text().split())
    assert f"config dir {run.config_dir}, greeting hello from user_variables" in stdout_log
    command = (run.run_dirs()[-1] / "command").read_text()
    assert f"@{run.config_dir}/user_secrets.yml" in command
    assert f"@{run.config_dir}/user_variables.yml" in command


def test_each_run_keeps_its_events_and_log_and_only_the_last_20_stay(runs):
    run = runs["ok"]
    run_dirs = run.run_dirs()
    assert len(run_dirs) == 20
    newest = run_dirs[-1]
    assert newest.name.endswith("-needs_secrets")
    assert run_dirs[0].name == f"202001{OLD_RUNS - 18:02}-000000-old"
    for name in ("stdout", "rc", "status", "command", "strata-run.json"):
        assert (newest / name).is_file(), name
    assert len(list((newest / "job_events").glob("*.json"))) > 5
    assert (newest / "rc").read_text() == "0"
    assert run.log_dir.stat().st_mode & 0o077 == 0


def test_failed_and_unreachable_hosts_get_a_masked_summary(runs):
    run = runs["fail"]
    # ansible-playbook's code: 4 when a host was unreachable, even if another one failed.
    assert run.returncode == 4, run.out + run.err
    summary = run.out.split("2 host(s) failed:\n", 1)[1]
    assert summary.startswith(
        "  gone1 (unreachable)\n"
        "    play:  Wrapper test play that fails on one host\n"
        "    task:  Reach the host\n"
        "    error: Task failed: "
    )
    # The words around ssh's own error depend on the strategy (Mitogen's "EOF on stream",
    # linear's "Data could not be sent"); ssh's reason is in both.
    unreachable = summary.split("  local2\n", 1)[0]
    assert "ssh: connect to host 127.0.0.1 port 1: Connection refused" in unreachable
    assert (
        "  local2\n"
        "    play:  Wrapper test play that fails on one host\n"
        "    task:  Fail on local2, showing a secret\n"
        "    error: cannot log in with ********\n"
    ) in summary
    assert "UNREACHABLE: gone1: Task failed" in run.out
    assert "FAILED: local2: cannot log in with ********" in run.out
    assert run.out.splitlines()[-1].startswith("failed (exit code 4)")


def test_a_failed_host_gives_exit_code_2(runs):
    for name in ("plain", "terminal"):
        assert runs[name].returncode == 2, runs[name].out


def test_secrets_never_reach_the_screen_or_the_log(runs):
    for name in ("fail", "plain", "terminal"):
        run = runs[name]
        secret = run.secret("galera_sst_password") if name != "terminal" else None
        if secret is None:
            vault = VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))])
            plain = vault.decrypt((run.config_dir / "user_secrets.yml").read_text())
            secret = yaml.safe_load(plain)["galera_sst_password"]
        assert "cannot log in with ********" in run.out, name
        assert secret not in run.out, name
        assert secret not in all_log_text(run), name


def test_the_operators_environment_is_not_kept_in_the_log(runs):
    # ansible-runner's `command` artifact copies the whole environment; the wrapper keeps only
    # the command line and its directory.
    for name in ("fail", "plain", "terminal"):
        run = runs[name]
        assert OPERATOR_ENV_SECRET not in all_log_text(run), name
        for command in run.log_dir.glob("*/command"):
            assert set(json.loads(command.read_text())) == {"command", "cwd"}, name


def test_plain_shows_ansibles_own_output(runs):
    run = runs["plain"]
    assert run.returncode == 2
    assert "PLAY [Wrapper test play that fails on one host]" in run.out
    assert "fatal: [local2]: FAILED!" in run.out
    assert "PLAY RECAP" in run.out
    assert "1 host(s) failed" not in run.out


def test_missing_secrets_stop_the_run_before_it_starts(runs):
    run = runs["refuse"]
    assert run.returncode == 1
    assert run.out == ""
    errors = run.err.splitlines()
    assert errors[0].startswith("strata-ansible: error: refusing to run needs_secrets.yml")
    named = " ".join(errors[1:])
    for name in ("haproxy_stats_password", "rabbitmq_erlang_cookie"):
        assert name in named
    assert "keepalived_vrrp_password" not in named
    assert not run.log_dir.exists()


def test_on_a_terminal_one_line_is_redrawn_and_the_vault_password_is_asked(runs):
    run = runs["terminal"]
    assert run.returncode == 2, run.out
    assert "\r[0:0" in run.out and "\x1b[K" in run.out
    assert "| task 2: Fail on local2, showing a secret" in run.out
    assert "| hosts 2/2 | ok 2 changed 0 failed 1" in run.out
    assert "\x1b[K[0:01] FAILED: local2: Fail on local2, showing a secret:" in run.out or (
        "FAILED: local2: Fail on local2, showing a secret: cannot log in with ********" in run.out
    )
    assert "1 host(s) failed:" in run.out
    assert run.out.rstrip().splitlines()[-1].startswith("failed (exit code 2)")


def test_a_second_run_on_the_same_config_dir_is_refused_while_one_runs(tmp_path):
    config = config_dir(tmp_path, "busy")
    log_dir = config / "logs"
    log_dir.mkdir(mode=0o700)
    command = [STRATA_ANSIBLE, "-i", HOSTS, str(FIXTURES / "fail.yml")]
    with open(log_dir / "run.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("pid 4242, started 2026-12-01 10:00:00\n")
        lock.flush()
        busy = subprocess.run(
            command, env=environment(config), capture_output=True, text=True, check=False
        )
        started_runs = [p for p in log_dir.iterdir() if p.is_dir()]
        listing = subprocess.run(
            [*command, "--list-hosts"], env=environment(config), capture_output=True, text=True,
            check=False,
        )  # fmt: skip
    assert busy.returncode == 1, busy.stdout + busy.stderr
    assert "another strata-ansible run uses this config dir (pid 4242" in busy.stderr
    assert not started_runs, "a refused run must not start"
    assert listing.returncode == 0, listing.stdout + listing.stderr
    # Released: the next run goes ahead (fail.yml fails on purpose on one host: exit 2).
    again = subprocess.run(
        command, env=environment(config), capture_output=True, text=True, check=False
    )
    assert again.returncode == 2, again.stdout + again.stderr


@pytest.mark.lab
def test_against_lab_hosts_with_the_strata_inventory():
    """Needs the lab and its config dir: STRATA_LAB_CONFIG_DIR=... pytest -m lab."""
    lab_config = os.environ.get("STRATA_LAB_CONFIG_DIR")
    if not lab_config:
        pytest.skip("set STRATA_LAB_CONFIG_DIR to a config dir that describes the running lab")
    result = subprocess.run(
        [STRATA_ANSIBLE, "--config-dir", lab_config, str(FIXTURES / "ping.yml")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    header = next(
        n for n, line in enumerate(lines) if line.startswith("host ") and "changed" in line
    )
    rows = lines[header + 1 : lines.index("", header)]
    assert rows, result.stdout
    for row in rows:
        _host, _ok, _changed, unreachable, failed, *_ = row.split()
        assert (unreachable, failed) == ("0", "0"), row

"""strata.ansible_wrapper: the deciding parts (command line, roles, secrets, logs, progress).

The wrapper running ansible-playbook for real is in test_ansible_wrapper_run.py.
"""

import datetime
import io
import json
from pathlib import Path

import pytest

from strata import ROOT, secrets
from strata import ansible_wrapper as wrapper
from strata.errors import StrataError, ValidationError

FIXTURES = ROOT / "tests" / "fixtures" / "wrapper"


# --- the command line ----------------------------------------------------------------------


def test_the_issue_example():
    arguments = wrapper.split_arguments(
        ["setup-everything.yml", "--limit", "infra1", "-t", "config"]
    )
    assert arguments.playbooks == ["setup-everything.yml"]
    assert arguments.ansible_args == ["--limit", "infra1", "-t", "config"]
    assert arguments.values("-l") == ["infra1"]
    assert arguments.values("-t") == ["config"]


def test_wrapper_options_are_taken_out_and_ansible_options_pass_in_order():
    arguments = wrapper.split_arguments(
        [
            "--config-dir=/srv/strata",
            "-vvv",
            "-CD",
            "-tconfig",
            "--plain",
            "a.yml",
            "--extra-vars",
            "x=1",
            "-e",
            "@vars.yml",
            "--inventory=hosts",
            "b.yml",
        ]
    )
    assert arguments.config_dir == "/srv/strata"
    assert arguments.plain
    assert arguments.playbooks == ["a.yml", "b.yml"]
    assert arguments.ansible_args == [
        "-v",
        "-v",
        "-v",
        "-C",
        "-D",
        "-t",
        "config",
        "--extra-vars",
        "x=1",
        "-e",
        "@vars.yml",
        "--inventory",
        "hosts",
    ]
    assert arguments.values("-e") == ["x=1", "@vars.yml"]
    assert arguments.given("-i") and arguments.given("-C") and not arguments.given("-J")


def test_a_double_dash_ends_the_options():
    assert wrapper.split_arguments(["-C", "--", "-odd-name.yml"]).playbooks == ["-odd-name.yml"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus", "a.yml"], "unknown option --bogus"),
        (["-Z"], "unknown option -Z"),
        (["a.yml", "--limit"], "option --limit needs a value"),
        (["--check=yes", "a.yml"], "option --check takes no value"),
    ],
)
def test_bad_command_lines(argv, message):
    with pytest.raises(wrapper.UsageError, match=message):
        wrapper.split_arguments(argv)


def test_relative_paths_in_options_are_made_absolute(tmp_path):
    for name in ("inv", "vars.yml", "pw", "key", "lib"):
        (tmp_path / name).write_text("")
    args = [
        "-i",
        "inv",
        "-i",
        "host1,host2,",
        "-e",
        "@vars.yml",
        "-e",
        "a=b",
        "--vault-id",
        "prod@pw",
        "--private-key",
        "key",
        "-M",
        "lib:/abs",
        "-l",
        "inv",
    ]
    assert wrapper.absolute_path_values(args, tmp_path) == [
        "-i",
        f"{tmp_path}/inv",
        "-i",
        "host1,host2,",
        "-e",
        f"@{tmp_path}/vars.yml",
        "-e",
        "a=b",
        "--vault-id",
        f"prod@{tmp_path}/pw",
        "--private-key",
        f"{tmp_path}/key",
        "-M",
        f"{tmp_path}/lib:/abs",
        "-l",
        "inv",
    ]


def test_find_playbook(tmp_path):
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "setup-everything.yml").write_text("[]\n")
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    (elsewhere / "mine.yml").write_text("[]\n")
    found = wrapper.find_playbook("setup-everything.yml", elsewhere, playbooks)
    assert found == playbooks / "setup-everything.yml"
    assert wrapper.find_playbook("setup-everything", elsewhere, playbooks) == found
    assert wrapper.find_playbook("mine.yml", elsewhere, playbooks) == elsewhere / "mine.yml"
    assert wrapper.find_playbook(str(found), "/", playbooks) == found
    with pytest.raises(StrataError) as error:
        wrapper.find_playbook("setup-everythin.yml", elsewhere, playbooks)
    assert "playbook setup-everythin.yml not found" in str(error.value)
    assert "setup-everything.yml" in str(error.value).split("playbooks in")[1]


def test_the_default_inventory_and_user_files_come_first(tmp_path):
    arguments = wrapper.split_arguments(["-e", "x=1", "a.yml"])
    files = [tmp_path / "user_secrets.yml", tmp_path / "user_variables.yml"]
    assert wrapper.build_cmdline(arguments, files, tmp_path) == [
        "-i",
        f"{ROOT}/inventory/",
        "-e",
        f"@{tmp_path}/user_secrets.yml",
        "-e",
        f"@{tmp_path}/user_variables.yml",
        "-e",
        "x=1",
    ]
    given = wrapper.split_arguments(["-i", "/tmp/hosts", "a.yml"])
    assert wrapper.build_cmdline(given, [], tmp_path) == ["-i", "/tmp/hosts"]


def test_user_files_are_every_user_yml_in_name_order(tmp_path):
    for name in ("user_variables.yml", "user_secrets.yml", "strata_user_config.yml", "user_x.yaml"):
        (tmp_path / name).write_text("")
    names = [path.name for path in wrapper.user_files(tmp_path)]
    assert names == ["user_secrets.yml", "user_variables.yml"]


# --- roles and the secrets they need -------------------------------------------------------


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_playbook_roles_follows_imports_includes_and_dependencies(tmp_path):
    roles = tmp_path / "roles"
    write(roles / "keystone" / "meta" / "main.yml", "dependencies:\n  - role: memcached_server\n")
    write(
        roles / "keystone" / "tasks" / "main.yml",
        "- name: Database\n  ansible.builtin.include_role:\n    name: galera_client\n",
    )
    write(roles / "memcached_server" / "tasks" / "main.yml", "[]\n")
    write(
        tmp_path / "playbooks" / "infra.yml",
        """
- hosts: all
  roles:
    - keystone
    - role: "{{ templated }}"
  tasks:
    - block:
        - ansible.builtin.import_role:
            name: haproxy_server
      rescue:
        - include_role:
            name: ceph_mon
- ansible.builtin.import_playbook: storage.yml
- import_playbook: "{{ skipped }}.yml"
""",
    )
    write(
        tmp_path / "playbooks" / "storage.yml",
        "- hosts: all\n  roles: [{role: swift_storage}]\n- import_playbook: infra.yml\n",
    )
    found = wrapper.playbook_roles(tmp_path / "playbooks" / "infra.yml", [roles])
    assert found == {
        "keystone",
        "memcached_server",
        "galera_client",
        "haproxy_server",
        "ceph_mon",
        "swift_storage",
    }


def test_the_fixture_playbook_needs_haproxy_and_rabbitmq_secrets():
    roles = wrapper.playbook_roles(FIXTURES / "needs_secrets.yml", [])
    assert roles == {"haproxy_server", "rabbitmq_server"}
    needed = {secret.name for secret in secrets.secrets_for_roles(roles)}
    # galera_monitor_password is galera_server's alone: galera publishes its own health check.
    assert needed == {
        "haproxy_stats_password",
        "keepalived_vrrp_password",
        "rabbitmq_erlang_cookie",
    }


def test_broken_playbooks_are_left_for_ansible_to_report(tmp_path):
    assert wrapper.playbook_roles(write(tmp_path / "bad.yml", "hosts: all\n"), []) == set()
    assert wrapper.playbook_roles(write(tmp_path / "worse.yml", "- [\n"), []) == set()
    assert wrapper.playbook_roles(tmp_path / "missing.yml", []) == set()


def prepared_config(tmp_path, secrets_text):
    write(tmp_path / "user_secrets.yml", secrets_text)
    return ["--config-dir", str(tmp_path), "-i", str(FIXTURES / "hosts.yml")]


def test_prepare_refuses_when_a_needed_secret_is_empty_and_names_it(tmp_path):
    args = prepared_config(
        tmp_path,
        "haproxy_stats_password: ''\nkeepalived_vrrp_password: toolongforvrrp\n"
        "galera_monitor_password: fine-long-enough-1\n"
        "rabbitmq_erlang_cookie: ABCDEFGHIJKLMNOPQRSTUVWXYZ\n",
    )
    arguments = wrapper.split_arguments([*args, str(FIXTURES / "needs_secrets.yml")])
    with pytest.raises(ValidationError) as error:
        wrapper.prepare(arguments, tmp_path)
    problems = error.value.problems
    assert problems[0].startswith("refusing to run needs_secrets.yml")
    assert f"strata secrets generate --config-dir {tmp_path}" in problems[0]
    assert problems[1] == (
        f"{tmp_path}/user_secrets.yml: haproxy_stats_password is empty "
        "(expected at least 16 characters; used by haproxy_server)"
    )
    assert problems[2].startswith(f"{tmp_path}/user_secrets.yml: keepalived_vrrp_password has 14")
    assert len(problems) == 3


def test_prepare_accepts_complete_secrets_and_collects_values_to_mask(tmp_path):
    args = prepared_config(tmp_path, "")
    secrets.generate(tmp_path / "user_secrets.yml")
    write(tmp_path / "user_variables.yml", "ceph_fsid_override: 1\nplain_setting: visible\n")
    arguments = wrapper.split_arguments([*args, str(FIXTURES / "needs_secrets.yml")])
    prepared = wrapper.prepare(arguments, tmp_path)
    assert prepared.roles == {"haproxy_server", "rabbitmq_server"}
    assert [path.name for path in prepared.user_files] == ["user_secrets.yml", "user_variables.yml"]
    values = secrets.read_secrets_file(tmp_path / "user_secrets.yml").values
    assert set(values.values()) <= set(prepared.masked_values)
    assert "visible" not in prepared.masked_values


def test_listing_options_skip_the_secret_check(tmp_path):
    args = prepared_config(tmp_path, "")
    arguments = wrapper.split_arguments(
        [*args, "--list-tasks", str(FIXTURES / "needs_secrets.yml")]
    )
    assert wrapper.prepare(arguments, tmp_path).roles == {"haproxy_server", "rabbitmq_server"}


def test_prepare_needs_a_playbook_and_a_config_dir(tmp_path):
    with pytest.raises(wrapper.UsageError, match="no playbook given"):
        wrapper.prepare(wrapper.split_arguments(["-C"]), tmp_path)
    missing = wrapper.split_arguments(["--config-dir", str(tmp_path / "nope"), "a.yml"])
    with pytest.raises(StrataError, match=f"config dir {tmp_path}/nope does not exist"):
        wrapper.prepare(missing, tmp_path)
    with pytest.raises(wrapper.UsageError, match="--step"):
        wrapper.prepare(wrapper.split_arguments(["--step", "a.yml"]), tmp_path)


def test_prompted_passwords_are_asked_once_each():
    asked = []
    arguments = wrapper.split_arguments(["-K", "-J", "a.yml"])
    passwords = wrapper.read_passwords(arguments, ask=lambda prompt: asked.append(prompt) or "pw")
    assert passwords == {"-K": "pw", "-J": "pw"}
    assert sorted(asked) == ["BECOME password: ", "Vault password: "]


# --- masking -------------------------------------------------------------------------------


def test_secret_values_come_from_secrets_files_and_declared_names(tmp_path):
    loaded = {
        tmp_path / "user_secrets.yml": {"a": "longsecret", "b": "abc", "c": 12345, "d": "long"},
        tmp_path / "user_variables.yml": {"nova_service_password": "fromvars", "e": "public"},
    }
    assert wrapper.secret_values(loaded) == ["longsecret", "fromvars", "12345", "long"]


def test_the_encoded_forms_of_a_secret_are_masked_too():
    values = wrapper.values_to_mask(["p@ss w'rd\"x", "ab", True, None])
    text = (
        "url mysql+pymysql://u:p%40ss%20w%27rd%22x@vip/db, form p%40ss+w%27rd%22x, "
        "json \"p@ss w'rd\\\"x\", yaml 'p@ss w''rd\"x', plain p@ss w'rd\"x, short ab"
    )
    assert wrapper.mask(text, values) == (
        "url mysql+pymysql://u:********@vip/db, form ********, "
        "json \"********\", yaml '********', plain ********, short ab"
    )


def test_prompted_passwords_are_masked(tmp_path):
    args = prepared_config(tmp_path, "")
    secrets.generate(tmp_path / "user_secrets.yml")
    arguments = wrapper.split_arguments([*args, "-K", str(FIXTURES / "needs_secrets.yml")])
    prepared = wrapper.prepare(arguments, tmp_path, ask=lambda prompt: "become-secret")
    assert "become-secret" in prepared.masked_values


def test_the_command_artifact_keeps_no_environment(tmp_path):
    command = tmp_path / "command"
    recorded = {"command": ["ansible-playbook", "x.yml"], "cwd": "/w", "env": {"OS_PASSWORD": "p"}}
    command.write_text(json.dumps(recorded))
    wrapper.scrub_command_file(command)
    assert json.loads(command.read_text()) == {
        "command": ["ansible-playbook", "x.yml"],
        "cwd": "/w",
    }
    command.write_text("not json OS_PASSWORD=p")
    wrapper.scrub_command_file(command)
    assert not command.exists()
    wrapper.scrub_command_file(command)  # absent: nothing to do


def test_mask_replaces_longer_values_first():
    values = ["s3cretsecret", "s3cret"]
    assert wrapper.mask("a s3cretsecret and s3cret", values) == "a ******** and ********"
    data = {"msg": ["x s3cret"], "rc": 1, "nested": {"k": "s3cretsecret"}}
    assert wrapper.mask_data(data, values) == {
        "msg": ["x ********"],
        "rc": 1,
        "nested": {"k": "********"},
    }


# --- logs ----------------------------------------------------------------------------------


def test_run_names_sort_by_time_and_never_collide():
    now = datetime.datetime(2025, 3, 4, 5, 6, 7)
    assert wrapper.run_name([Path("/x/setup-everything.yml")], now, set()) == (
        "20250304-050607-setup-everything"
    )
    existing = {"20250304-050607-a", "20250304-050607-a-2"}
    assert wrapper.run_name(["a.yml"], now, existing) == "20250304-050607-a-3"


def test_runs_to_remove_keeps_the_newest_and_ignores_other_names():
    names = [f"202501{day:02}-000000-x" for day in range(1, 26)] + ["notes", "keep-me"]
    removed = wrapper.runs_to_remove(names, keep=20)
    assert removed == [f"202501{day:02}-000000-x" for day in range(1, 6)]
    assert wrapper.runs_to_remove(names[:3], keep=20) == []


def test_log_dir_falls_back_to_home_when_the_config_dir_cannot_hold_it(tmp_path):
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    assert wrapper.choose_log_dir(config_dir, home=tmp_path) == config_dir / "logs"
    assert (config_dir / "logs").stat().st_mode & 0o777 == 0o700
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "logs").write_text("a file where the log dir would be")
    assert wrapper.choose_log_dir(blocked, home=tmp_path) == tmp_path / ".strata" / "logs"


# --- progress from events ------------------------------------------------------------------


def event(kind, **data):
    return {"event": kind, "event_data": data, "stdout": data.pop("stdout", "")}


def result(kind, host, task="t", **res):
    extra = {"ignore_errors": res.pop("ignore_errors", None)}
    return event(kind, host=host, task=task, res=res, **extra)


def test_progress_counts_hosts_and_results():
    progress = wrapper.RunProgress()
    progress.update(event("playbook_on_play_start", name="Install galera"))
    notes = progress.update(event("playbook_on_task_start", task="Configure", role="galera_server"))
    assert notes == [("task", "galera_server : Configure")]
    for host in ("db1", "db2", "db3"):
        progress.update(event("runner_on_start", host=host))
    assert progress.hosts_done_total() == (0, 3)
    assert progress.update(result("runner_on_ok", "db1", changed=True)) == [("changed", "db1")]
    progress.update(result("runner_on_skipped", "db2"))
    notes = progress.update(result("runner_on_failed", "db3", msg="boom"))
    assert notes[0][0] == "failed" and notes[0][1].message == "boom"
    assert progress.hosts_done_total() == (3, 3)
    assert progress.counts == {"ok": 1, "changed": 1, "skipped": 1, "failed": 1}
    # The next task runs on the two hosts left; the total counts them before they start.
    progress.update(event("playbook_on_task_start", task="Start"))
    assert progress.hosts_done_total() == (0, 2)
    progress.update(result("runner_on_unreachable", "db2", msg="no route"))
    assert progress.counts["unreachable"] == 1
    assert [f.host for f in progress.failures] == ["db3", "db2"]
    assert progress.failures[1].unreachable and progress.failures[1].task == "t"


def test_ignored_and_rescued_failures_are_not_reported_at_the_end():
    progress = wrapper.RunProgress()
    progress.update(event("playbook_on_play_start", name="p"))
    assert progress.update(result("runner_on_failed", "h1", msg="x", ignore_errors=True)) == []
    assert progress.counts["ignored"] == 1
    progress.update(result("runner_on_failed", "h2", msg="rescued later"))
    progress.update(result("runner_on_failed", "h3", msg="rescued first"))
    progress.update(result("runner_on_failed", "h3", msg="for real"))
    stats = {"failures": {"h3": 1}, "rescued": {"h2": 1, "h3": 1}, "ok": {"h1": 1}}
    progress.update(event("playbook_on_stats", **stats))
    assert [(f.host, f.message) for f in progress.final_failures()] == [("h3", "for real")]


def test_warnings_and_ansible_output_are_kept():
    progress = wrapper.RunProgress()
    notes = progress.update(
        event("verbose", stdout="\x1b[1;35m[WARNING]: Skipping plugin\x1b[0m\r\nplain line")
    )
    assert notes == [("warning", "[WARNING]: Skipping plugin")]
    assert list(progress.output) == ["[WARNING]: Skipping plugin", "plain line"]
    progress.update(event("playbook_on_play_start", name="p"))
    notes = progress.update(result("runner_on_ok", "h1", warnings=["old module"]))
    assert notes == [("warning", "[WARNING]: h1: old module")]


def test_failure_message_shows_what_matters():
    assert wrapper.failure_message({"msg": "boom"}) == "boom"
    command = {"msg": "non-zero return code", "rc": 3, "stderr": "line1\nline2", "stdout": "out"}
    assert wrapper.failure_message(command) == ("non-zero return code\nrc: 3\nstderr: line1\nline2")
    assert wrapper.failure_message({"rc": 1, "stdout": "only stdout"}) == (
        "rc: 1\nstdout: only stdout"
    )
    loop = {
        "msg": "One or more items failed",
        "results": [
            {"item": "a", "failed": False},
            {"_ansible_item_label": "b", "failed": True, "msg": "bad b"},
        ],
    }
    assert wrapper.failure_message(loop) == "One or more items failed\nitem b: bad b"
    long = "\n".join(f"l{n}" for n in range(20))
    assert wrapper.failure_message({"module_stderr": long}).startswith("module_stderr: ...\nl10")
    assert wrapper.failure_message({"weird": 1, "_ansible_no_log": False}) == '{"weird": 1}'


# --- what is shown -------------------------------------------------------------------------


def busy_progress():
    progress = wrapper.RunProgress()
    progress.update(event("playbook_on_play_start", name="Install the Galera cluster on db hosts"))
    progress.update(event("playbook_on_task_start", task="Write my.cnf from the template"))
    progress.update(event("runner_on_start", host="db1"))
    progress.update(event("runner_on_start", host="db2"))
    progress.update(result("runner_on_ok", "db1"))
    return progress


def test_status_line_shows_play_task_hosts_and_time():
    line = wrapper.status_line(busy_progress(), 83, 200)
    assert line == (
        "[1:23] play 1: Install the Galera cluster on db hosts | task 1: Write my.cnf from the "
        "template | hosts 1/2 | ok 1 changed 0"
    )
    assert wrapper.format_elapsed(3725) == "1:02:05"


def test_status_line_fits_the_width_giving_up_the_play_name_first():
    progress = busy_progress()
    progress.update(result("runner_on_failed", "db2", msg="x"))
    line = wrapper.status_line(progress, 5, 100)
    assert len(line) <= 100
    assert line.startswith("[0:05] play 1: Install the G... | task 1: Write my.cnf from...")
    assert line.endswith("| hosts 2/2 | ok 1 changed 0 failed 1")
    assert len(wrapper.status_line(progress, 5, 30)) == 30
    assert "starting" in wrapper.status_line(wrapper.RunProgress(), 0, 100)


def test_recap_table():
    stats = {
        "ok": {"host10": 5, "host2": 7},
        "changed": {"host2": 1},
        "dark": {"host10": 1},
        "failures": {},
        "processed": {"host10": 1, "host2": 1},
    }
    assert wrapper.format_recap(stats) == (
        "host    ok  changed  unreachable  failed  skipped  rescued  ignored\n"
        "host2    7        1            0       0        0        0        0\n"
        "host10   5        0            1       0        0        0        0"
    )
    assert wrapper.format_recap({}) == "no hosts were run against"


def test_failure_summary():
    failures = [
        wrapper.Failure("db1", "Install", "galera_server : Start", "first\nsecond"),
        wrapper.Failure("db2", "Install", "Gathering Facts", "no route", unreachable=True),
    ]
    assert wrapper.format_failures(failures) == (
        "2 host(s) failed:\n"
        "  db1\n"
        "    play:  Install\n"
        "    task:  galera_server : Start\n"
        "    error: first\n"
        "           second\n"
        "  db2 (unreachable)\n"
        "    play:  Install\n"
        "    task:  Gathering Facts\n"
        "    error: no route"
    )


def test_line_display_writes_one_line_per_notable_event():
    stream = io.StringIO()
    times = iter([0.0, 2.0, 3.0, 4.0, 5.0])
    display = wrapper.LineDisplay(stream, wrapper.RunProgress(), clock=lambda: next(times))
    failure = wrapper.Failure("h1", "p", "t", "it broke\nmore")
    display.show({}, [("play", "P"), ("task", "T"), ("changed", "h2"), ("failed", failure)])
    assert stream.getvalue() == (
        "[0:02] PLAY P\n[0:03] TASK T\n[0:04]   changed: h2\n[0:05]   FAILED: h1: it broke\n"
    )


def test_exit_codes_follow_ansible_playbook():
    assert wrapper.exit_code("successful", 0) == 0
    assert wrapper.exit_code("failed", 2) == 2
    assert wrapper.exit_code("failed", 4) == 4
    assert wrapper.exit_code("canceled", 254) == 99
    assert wrapper.exit_code("failed", None) == 250


def test_environment_for_ansible(tmp_path):
    cfg = write(tmp_path / "ansible.cfg", "[defaults]\nhost_key_checking = False\n")
    env = wrapper.ansible_environment(tmp_path, False, {"PATH": "/usr/bin", "ANSIBLE_CONFIG": cfg})
    assert env["STRATA_CONFIG_DIR"] == str(tmp_path)
    assert env["ANSIBLE_CONFIG"] == str(cfg)
    assert env["PATH"].split(":")[1:] == ["/usr/bin"]
    assert (Path(env["PATH"].split(":")[0]) / "ansible-playbook").exists()
    assert env["ANSIBLE_HOST_KEY_CHECKING"] == "False"
    assert env["ANSIBLE_NOCOLOR"] == "True"
    colored = wrapper.ansible_environment(tmp_path, True, {"PATH": "/usr/bin"})
    assert "ANSIBLE_NOCOLOR" not in colored
    assert colored["ANSIBLE_CONFIG"] == str(ROOT / "ansible.cfg")


def test_host_key_checking_is_what_ansible_playbook_would_use():
    assert wrapper.host_key_checking({}, "") == "True"
    assert wrapper.host_key_checking({}, "[defaults]\nhost_key_checking = false\n") == "false"
    assert wrapper.host_key_checking({"ANSIBLE_HOST_KEY_CHECKING": "0"}, "") == "0"


def test_help_and_version(capsys):
    out = io.StringIO()
    assert wrapper.main(["--help"], stdout=out) == 0
    assert out.getvalue().startswith("usage: strata-ansible")
    out = io.StringIO()
    assert wrapper.main(["--version"], stdout=out) == 0
    assert "ansible-core 2.19" in out.getvalue()
    assert wrapper.main(["--bogus"], stdout=io.StringIO()) == 2
    assert "unknown option --bogus" in capsys.readouterr().err

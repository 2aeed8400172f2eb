"""`strata-ansible`: run a Strata playbook like ansible-playbook, with Strata's config.

    strata-ansible setup-everything.yml --limit infra1 -t config

It accepts ansible-playbook's options, finds a bare playbook name in the repository's
`playbooks/`, passes the Strata inventory and every `user_*.yml` of the config dir, refuses to
start when a secret the play needs is empty, and runs ansible-playbook through ansible-runner:
a live progress line (plain lines without a terminal), a recap per host, a summary of every
failed host with secrets masked, and the run's events and log kept in a log dir.
"""

import configparser
import contextlib
import dataclasses
import datetime
import fcntl
import getpass
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from strata import ROOT, __version__
from strata import secrets as strata_secrets
from strata.errors import StrataError, ValidationError

PLAYBOOKS_DIR = ROOT / "playbooks"
ROLES_DIR = ROOT / "roles"
INVENTORY_DIR = ROOT / "inventory"
ANSIBLE_CFG = ROOT / "ansible.cfg"
KEEP_RUNS = 20

# ansible-playbook's exit codes (ansible.executor.task_queue_manager and ansible.cli).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_HOST_FAILED = 2
EXIT_USAGE = 2  # argparse's code for a bad command line, as ansible-playbook uses it
EXIT_UNREACHABLE = 4
EXIT_INTERRUPTED = 99
EXIT_UNEXPECTED = 250

USAGE = """\
usage: strata-ansible [--config-dir DIR] [--plain] [ansible-playbook options] playbook [...]

Runs ansible-playbook through ansible-runner with Strata's inventory and config.
A bare playbook name is looked up in {playbooks}; every ansible-playbook option is accepted.

strata options:
  --config-dir DIR  config dir (default: $STRATA_CONFIG_DIR or /etc/strata)
  --plain           show ansible-playbook's own output instead of the progress display
  -h, --help        show this help and exit
"""


class UsageError(StrataError):
    """A bad command line."""


# ---------------------------------------------------------------------------------------------
# The command line: ansible-playbook's options pass through; ours are taken out.
# ---------------------------------------------------------------------------------------------

# ansible-playbook 2.19's options: name -> (canonical name, takes a value).
ANSIBLE_PLAYBOOK_OPTIONS = {}
for _names, _takes_value in (
    (("--private-key", "--key-file"), True),
    (("-u", "--user"), True),
    (("-c", "--connection"), True),
    (("-T", "--timeout"), True),
    (("--ssh-common-args",), True),
    (("--sftp-extra-args",), True),
    (("--scp-extra-args",), True),
    (("--ssh-extra-args",), True),
    (("-k", "--ask-pass"), False),
    (("--connection-password-file", "--conn-pass-file"), True),
    (("--force-handlers",), False),
    (("-b", "--become"), False),
    (("--become-method",), True),
    (("--become-user",), True),
    (("-K", "--ask-become-pass"), False),
    (("--become-password-file", "--become-pass-file"), True),
    (("-t", "--tags"), True),
    (("--skip-tags",), True),
    (("-C", "--check"), False),
    (("-D", "--diff"), False),
    (("-i", "--inventory", "--inventory-file"), True),
    (("--list-hosts",), False),
    (("-l", "--limit"), True),
    (("--flush-cache",), False),
    (("-e", "--extra-vars"), True),
    (("--vault-id",), True),
    (("-J", "--ask-vault-password", "--ask-vault-pass"), False),
    (("--vault-password-file", "--vault-pass-file"), True),
    (("-f", "--forks"), True),
    (("-M", "--module-path"), True),
    (("--syntax-check",), False),
    (("--list-tasks",), False),
    (("--list-tags",), False),
    (("--step",), False),
    (("--start-at-task",), True),
    (("-v", "--verbose"), False),
    (("--version",), False),
):
    for _name in _names:
        ANSIBLE_PLAYBOOK_OPTIONS[_name] = (_names[0], _takes_value)

WRAPPER_OPTIONS = {"--config-dir": True, "--plain": False, "-h": False, "--help": False}
LISTING_OPTIONS = {"--list-hosts", "--list-tasks", "--list-tags", "--syntax-check"}
# Options whose value is a path (or holds one) that ansible-playbook resolves from its cwd.
PATH_OPTIONS = {
    "-i",
    "-e",
    "--vault-id",
    "--vault-password-file",
    "--private-key",
    "--connection-password-file",
    "--become-password-file",
    "-M",
}


@dataclass
class Arguments:
    playbooks: list = field(default_factory=list)
    ansible_args: list = field(default_factory=list)  # [option, value?] in the given order
    config_dir: str = None
    plain: bool = False
    help: bool = False
    options: dict = field(default_factory=dict)  # canonical name -> [values] (flags: [True])

    def given(self, name):
        return name in self.options

    def values(self, name):
        return self.options.get(name, [])


def split_arguments(argv):
    """Split a strata-ansible command line into ours, ansible-playbook's, and the playbooks."""
    result = Arguments()
    tokens = list(argv)
    position = 0

    def take_value(option):
        nonlocal position
        if position + 1 >= len(tokens):
            raise UsageError(f"option {option} needs a value")
        position += 1
        return tokens[position]

    def record(option, value):
        if option in WRAPPER_OPTIONS:
            if option == "--config-dir":
                result.config_dir = value
            elif option == "--plain":
                result.plain = True
            else:
                result.help = True
            return
        canonical, takes_value = ANSIBLE_PLAYBOOK_OPTIONS[option]
        result.options.setdefault(canonical, []).append(value if takes_value else True)
        result.ansible_args.extend([option, value] if takes_value else [option])

    def takes_value(option):
        if option in WRAPPER_OPTIONS:
            return WRAPPER_OPTIONS[option]
        if option in ANSIBLE_PLAYBOOK_OPTIONS:
            return ANSIBLE_PLAYBOOK_OPTIONS[option][1]
        raise UsageError(f"unknown option {option} (see strata-ansible --help)")

    while position < len(tokens):
        token = tokens[position]
        if token == "--":
            result.playbooks.extend(tokens[position + 1 :])
            break
        if token.startswith("--"):
            name, has_value, value = token.partition("=")
            if takes_value(name):
                record(name, value if has_value else take_value(name))
            elif has_value:
                raise UsageError(f"option {name} takes no value (given {token})")
            else:
                record(name, None)
        elif token.startswith("-") and len(token) > 1:
            # A cluster of short options: -vvv, -CD, -tconfig, -l infra1.
            for index in range(1, len(token)):
                option = "-" + token[index]
                if takes_value(option):
                    attached = token[index + 1 :]
                    record(option, attached or take_value(option))
                    break
                record(option, None)
        else:
            result.playbooks.append(token)
        position += 1
    return result


def absolute_path_values(ansible_args, cwd):
    """`ansible_args` with relative paths in path-valued options made absolute from `cwd`.

    ansible-playbook runs from the repository root (so that ansible.cfg and its relative
    paths apply), while the operator's paths are relative to where they typed the command.
    """
    cwd = Path(cwd)

    def absolute(path):
        candidate = cwd / path
        return str(candidate) if not os.path.isabs(path) and candidate.exists() else path

    converted = []
    option = None
    for token in ansible_args:
        if option is None:
            converted.append(token)
            known = ANSIBLE_PLAYBOOK_OPTIONS.get(token)
            option = known[0] if known and known[1] else None
            continue
        if option == "-e":
            if token.startswith("@"):
                token = "@" + absolute(token[1:])
        elif option == "--vault-id":
            label, at, source = token.rpartition("@")
            token = f"{label}{at}{absolute(source)}"
        elif option == "-M":
            token = ":".join(absolute(part) for part in token.split(":"))
        elif option in PATH_OPTIONS:
            token = absolute(token)
        converted.append(token)
        option = None
    return converted


def find_playbook(name, cwd, playbooks_dir=PLAYBOOKS_DIR):
    """The playbook file for `name`: a bare name is looked up in playbooks/ first."""
    candidates = []
    if "/" not in name:
        candidates.append(Path(playbooks_dir) / name)
        if not name.endswith((".yml", ".yaml")):
            candidates.append(Path(playbooks_dir) / f"{name}.yml")
    candidates.append(Path(cwd) / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    available = sorted(path.name for path in Path(playbooks_dir).glob("*.yml"))
    raise StrataError(
        f"playbook {name} not found (looked at {', '.join(str(c) for c in candidates)}); "
        f"playbooks in {playbooks_dir}: {', '.join(available) or 'none'}"
    )


# ---------------------------------------------------------------------------------------------
# Which roles a playbook applies, and so which secrets it needs.
# ---------------------------------------------------------------------------------------------

INCLUDE_ROLE_ACTIONS = {
    f"{prefix}{action}"
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for action in ("include_role", "import_role")
}
IMPORT_PLAYBOOK_ACTIONS = {"import_playbook", "ansible.builtin.import_playbook"}
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
BLOCK_LISTS = ("block", "rescue", "always")


class _TolerantLoader(yaml.SafeLoader):
    """Reads playbooks and roles; values with Ansible's own tags (!vault, !unsafe) read as null."""


_TolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def read_yaml(path):
    """The content of a playbook or role file; None when it cannot be read.

    A broken file is left for ansible-playbook to report: its message points at the place,
    and its exit code (4, parser error) is the one operators know.
    """
    try:
        with open(path, encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_TolerantLoader)  # a SafeLoader subclass
    except (OSError, yaml.YAMLError):
        return None


def is_static(name):
    return isinstance(name, str) and "{{" not in name and "{%" not in name


def role_name(entry):
    """The role's name from a `roles:` entry or include_role args (None when templated)."""
    if isinstance(entry, dict):
        entry = entry.get("role", entry.get("name"))
    if not is_static(entry):
        return None
    # A role given by path or collection name: our roles are plain names.
    return entry.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[-1]


def task_roles(tasks):
    """Role names that include_role/import_role tasks (in blocks too) name statically."""
    found = []
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for action in INCLUDE_ROLE_ACTIONS & set(task):
            name = role_name(task[action])
            if name:
                found.append(name)
        for key in BLOCK_LISTS:
            found.extend(task_roles(task.get(key)))
    return found


def role_dependencies(name, roles_dirs):
    """Roles that role `name` pulls in: meta dependencies and its include_role tasks."""
    for roles_dir in roles_dirs:
        role_dir = Path(roles_dir) / name
        if not role_dir.is_dir():
            continue
        found = []
        meta = role_dir / "meta" / "main.yml"
        data = read_yaml(meta) if meta.is_file() else None
        dependencies = data.get("dependencies") if isinstance(data, dict) else None
        for dependency in dependencies or []:
            dependency_name = role_name(dependency)
            if dependency_name:
                found.append(dependency_name)
        for tasks_file in sorted((role_dir / "tasks").glob("*.yml")):
            found.extend(task_roles(read_yaml(tasks_file)))
        return found
    return []


def playbook_roles(path, roles_dirs=(ROLES_DIR,), seen_playbooks=None):
    """Every role the playbook at `path` applies, following import_playbook and dependencies."""
    path = Path(path).resolve()
    seen_playbooks = set() if seen_playbooks is None else seen_playbooks
    if path in seen_playbooks:
        return set()
    seen_playbooks.add(path)
    roles_dirs = [path.parent / "roles", *roles_dirs]
    plays = read_yaml(path)
    direct = []
    for play in plays if isinstance(plays, list) else []:
        if not isinstance(play, dict):
            continue
        imported = next((play[key] for key in IMPORT_PLAYBOOK_ACTIONS if key in play), None)
        if imported is not None:
            if is_static(imported):
                found = playbook_roles(path.parent / imported, roles_dirs[1:], seen_playbooks)
                direct.extend(found)
            continue
        for entry in play.get("roles") or []:
            name = role_name(entry)
            if name:
                direct.append(name)
        for key in TASK_LISTS:
            direct.extend(task_roles(play.get(key)))
    roles = set()
    pending = list(direct)
    while pending:
        name = pending.pop()
        if name not in roles:
            roles.add(name)
            pending.extend(role_dependencies(name, roles_dirs))
    return roles


# ---------------------------------------------------------------------------------------------
# The config dir: user_*.yml files, the secrets in them, masking.
# ---------------------------------------------------------------------------------------------

MASK = "********"
# Shorter values are not masked: replacing every "ab" in every message helps no one.
MIN_MASKED_LENGTH = 4


def user_files(config_dir):
    """Every user_*.yml in the config dir, in the order they are passed (later ones win)."""
    return sorted(Path(config_dir).glob("user_*.yml"))


def is_secrets_file(path):
    return Path(path).name.startswith("user_secrets")


def load_user_files(paths, vault_secrets):
    """{path: top-level mapping} for each user file (vault-encrypted ones decrypted)."""
    loaded = {}
    for path in paths:
        loaded[path] = strata_secrets.read_secrets_file(path, vault_secrets).values
    return loaded


def merged_values(loaded):
    merged = {}
    for values in loaded.values():
        merged.update(values)
    return merged


def masked_forms(value):
    """`value` and the forms it takes in output: URL-encoded (connection URLs, e.g.
    keystone-secrets.conf), JSON-escaped (task results) and YAML single-quoted (the YAML
    callback)."""
    return {
        value,
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value, safe=""),
        json.dumps(value)[1:-1],
        value.replace("'", "''"),
    }


def values_to_mask(values):
    """Every form of each value long enough to mask, longest first (so that a secret that
    contains another is masked whole)."""
    found = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            continue
        text = str(value).strip()
        if len(text) >= MIN_MASKED_LENGTH:
            found |= masked_forms(text)
    return sorted(found, key=len, reverse=True)


def secret_values(loaded):
    """Every value to mask: all of user_secrets*.yml (numbers too), and declared secrets
    wherever they are."""
    return values_to_mask(
        value
        for path, values in loaded.items()
        for key, value in values.items()
        if is_secrets_file(path) or key in strata_secrets.SECRETS_BY_NAME
    )


def mask(text, values):
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def mask_data(data, values):
    """`data` (JSON-like) with every string masked."""
    if isinstance(data, str):
        return mask(data, values)
    if isinstance(data, dict):
        return {key: mask_data(value, values) for key, value in data.items()}
    if isinstance(data, list):
        return [mask_data(value, values) for value in data]
    return data


def needed_secret_problems(roles, values):
    """[(secret, problem)] for the declared secrets the roles use that are empty or malformed."""
    return strata_secrets.check(values, strata_secrets.secrets_for_roles(roles))


# ---------------------------------------------------------------------------------------------
# The log dir: one directory per run, the last KEEP_RUNS kept.
# ---------------------------------------------------------------------------------------------

RUN_NAME = re.compile(r"^\d{8}-\d{6}-")


def choose_log_dir(config_dir, home=None):
    """<config dir>/logs when it can be written, else ~/.strata/logs. Created mode 0700."""
    home = Path(home or Path.home())
    for candidate in (Path(config_dir) / "logs", home / ".strata" / "logs"):
        try:
            candidate.mkdir(mode=0o700, parents=candidate.parent != Path(config_dir), exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK | os.X_OK):
            if candidate.stat().st_mode & 0o077 and candidate.stat().st_uid == os.getuid():
                candidate.chmod(0o700)  # runs hold command lines and task results
            return candidate
    raise StrataError(
        f"no log dir can be written: tried {Path(config_dir) / 'logs'} and {home}/.strata/logs"
    )


@contextlib.contextmanager
def exclusive_run(log_dir):
    """Hold the config dir's run lock (a flock on <log dir>/run.lock) for a whole run: two runs
    against one cloud at once could restart two galera nodes together or race the ring host."""
    path = Path(log_dir) / "run.lock"
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise StrataError(
                f"another strata-ansible run uses this config dir ({holder}, lock {path}): "
                "wait for it to end (expected one run at a time per cloud)"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, started {datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n")
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)


def run_name(playbooks, now, existing):
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(playbooks[0]).stem) if playbooks else "run"
    base = f"{now:%Y%m%d-%H%M%S}-{stem}"
    name, number = base, 1
    while name in existing:
        number += 1
        name = f"{base}-{number}"
    return name


def runs_to_remove(names, keep=KEEP_RUNS):
    """The oldest run directories beyond the last `keep` (names start with their time)."""
    runs = sorted(name for name in names if RUN_NAME.match(name))
    return runs[: max(len(runs) - keep, 0)]


def rotate_logs(log_dir, keep=KEEP_RUNS):
    for name in runs_to_remove([p.name for p in Path(log_dir).iterdir() if p.is_dir()], keep):
        shutil.rmtree(Path(log_dir) / name, ignore_errors=True)


def scrub_command_file(path):
    """ansible-runner's `command` artifact without the environment it copies whole (an
    operator's OS_PASSWORD, cloud or vault tokens): the command line and its directory stay."""
    path = Path(path)
    if not path.is_file():
        return
    try:
        recorded = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except ValueError:
        recorded = None
    if isinstance(recorded, dict):
        kept = {key: recorded[key] for key in ("command", "cwd") if key in recorded}
        path.write_text(json.dumps(kept, indent=2) + "\n", encoding="utf-8")
    else:
        path.unlink()  # not the format we know: nothing of it is kept rather than all


def mask_file(path, values):
    path = Path(path)
    if values and path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        masked = mask(text, values)
        if masked != text:
            path.write_text(masked, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Following the run: progress from ansible-runner's events.
# ---------------------------------------------------------------------------------------------

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
RESULT_EVENTS = {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}
WARNING_PREFIXES = ("[WARNING]", "[DEPRECATION WARNING]")
OUTPUT_LINES_KEPT = 30


def plain_text(text):
    return ANSI_ESCAPE.sub("", text or "").replace("\r", "")


def tail(text, lines=10):
    kept = str(text).strip().splitlines()
    cut = len(kept) > lines
    return "\n".join((["..."] if cut else []) + kept[-lines:])


def failure_message(result):
    """A short account of a failed (or unreachable) task result."""
    parts = []
    if result.get("msg"):
        parts.append(str(result["msg"]).strip())
    for item in result.get("results") or []:
        if isinstance(item, dict) and (item.get("failed") or item.get("unreachable")):
            label = str(item.get("_ansible_item_label", item.get("item", "")))[:80]
            parts.append(f"item {label}: {failure_message(item)}")
    if result.get("rc") not in (None, 0):
        parts.append(f"rc: {result['rc']}")
    for key in ("stderr", "module_stderr"):
        if result.get(key):
            parts.append(f"{key}: {tail(result[key])}")
    if len(parts) <= 1 and result.get("stdout"):
        parts.append(f"stdout: {tail(result['stdout'])}")
    if not parts:
        visible = {k: v for k, v in result.items() if not k.startswith("_ansible")}
        parts.append(json.dumps(visible, default=str)[:500])
    return "\n".join(parts)


@dataclass
class Failure:
    host: str
    play: str
    task: str
    message: str
    unreachable: bool = False


def task_label(event_data):
    task = (event_data.get("task") or event_data.get("name") or "").strip()
    role = event_data.get("role")
    return f"{role} : {task}" if role and not task.startswith(f"{role} :") else task


class RunProgress:
    """What the run has done so far, from ansible-runner's events.

    `update` returns notes for the display: (kind, content) where kind is play, task, changed
    or warning (content: the text) or failed, unreachable (content: a Failure).
    """

    def __init__(self):
        self.play = ""
        self.play_number = 0
        self.task = ""
        self.task_number = 0
        self.play_hosts = set()  # hosts seen in this play (or serial batch)
        self.lost_hosts = set()  # hosts this play has dropped (failed, unreachable)
        self.task_started = set()
        self.task_done = set()
        self.counts = Counter()
        self.failures = []
        self.stats = None
        # The last lines ansible printed outside task results (errors, warnings).
        self.output = deque(maxlen=OUTPUT_LINES_KEPT)

    def hosts_done_total(self):
        alive = len(self.play_hosts - self.lost_hosts)
        return len(self.task_done), max(alive, len(self.task_started), len(self.task_done))

    def update(self, event):
        kind = event.get("event")
        data = event.get("event_data") or {}
        host = data.get("host")
        notes = []
        if kind == "playbook_on_play_start":
            self.play = data.get("name") or data.get("play") or data.get("pattern") or ""
            self.play_number += 1
            self.task, self.task_number = "", 0
            self.play_hosts, self.lost_hosts = set(), set()
            self.task_started, self.task_done = set(), set()
            notes.append(("play", self.play))
        elif kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            self.task = task_label(data)
            self.task_number += 1
            self.task_started, self.task_done = set(), set()
            notes.append(("task", self.task))
        elif kind == "runner_on_start" and host:
            self.task_started.add(host)
            self.play_hosts.add(host)
        elif kind in RESULT_EVENTS and host:
            notes.extend(self._result(kind, host, data))
        elif kind == "playbook_on_stats":
            self.stats = data
        elif kind in ("verbose", "error") and event.get("stdout"):
            for line in plain_text(event["stdout"]).splitlines():
                if line.strip():
                    self.output.append(line)
                    if line.lstrip().startswith(WARNING_PREFIXES):
                        notes.append(("warning", line.strip()))
        return notes

    def _result(self, kind, host, data):
        result = data.get("res") or {}
        self.play_hosts.add(host)
        self.task_done.add(host)
        notes = [("warning", f"[WARNING]: {host}: {w}") for w in result.get("warnings") or []]
        if kind == "runner_on_failed" and data.get("ignore_errors"):
            self.counts["ignored"] += 1
        elif kind in ("runner_on_failed", "runner_on_unreachable"):
            unreachable = kind == "runner_on_unreachable"
            self.counts["unreachable" if unreachable else "failed"] += 1
            self.lost_hosts.add(host)
            failure = Failure(
                host, self.play, task_label(data) or self.task, failure_message(result), unreachable
            )
            self.failures.append(failure)
            notes.append(("unreachable" if unreachable else "failed", failure))
        elif kind == "runner_on_skipped":
            self.counts["skipped"] += 1
        else:
            self.counts["ok"] += 1  # as in ansible's recap, changed results are ok too
            if result.get("changed"):
                self.counts["changed"] += 1
                notes.append(("changed", host))
        return notes

    def final_failures(self):
        """The failure that stopped each host that ended failed or unreachable.

        That is the host's last failure: an earlier one was rescued (ansible goes on with a
        host only when a failure is rescued or ignored).
        """
        last = {failure.host: failure for failure in self.failures}
        if self.stats:
            ended = set(self.stats.get("failures") or {}) | set(self.stats.get("dark") or {})
            last = {host: failure for host, failure in last.items() if host in ended}
        return sorted(last.values(), key=self.failures.index)


def format_elapsed(seconds):
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def shorten(text, room):
    return text if len(text) <= room else text[: max(room - 3, 0)] + "..."


def status_line(progress, elapsed, width):
    """The one-line progress display, cut to `width` characters.

    When the line is too long the play name gives way first, then the task name.
    """
    done, total = progress.hosts_done_total()
    counts = progress.counts
    prefix = f"[{format_elapsed(elapsed)}] "
    suffix = f" | hosts {done}/{total} | ok {counts['ok']} changed {counts['changed']}"
    for name in ("failed", "unreachable"):
        if counts[name]:
            suffix += f" {name} {counts[name]}"
    room = width - len(prefix) - len(suffix)
    if not progress.play_number:
        middle = shorten("starting ansible-playbook", room)
    else:
        play = f"play {progress.play_number}: {progress.play}"
        task = f" | task {progress.task_number}: {progress.task}" if progress.task_number else ""
        play = shorten(play, max(room - len(task), 24))
        middle = play + shorten(task, room - len(play))
    return (prefix + middle + suffix)[:width]


RECAP_COLUMNS = (
    ("ok", "ok"),
    ("changed", "changed"),
    ("unreachable", "dark"),
    ("failed", "failures"),
    ("skipped", "skipped"),
    ("rescued", "rescued"),
    ("ignored", "ignored"),
)


def natural_key(text):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def format_recap(stats):
    """A table: one row per host, ansible's recap counters as columns."""
    hosts = set(stats.get("processed") or {})
    for _title, key in RECAP_COLUMNS:
        hosts.update(stats.get(key) or {})
    if not hosts:
        return "no hosts were run against"
    host_width = max(len("host"), *(len(host) for host in hosts))
    rows = ["host".ljust(host_width) + "".join(f"  {title}" for title, _key in RECAP_COLUMNS)]
    for host in sorted(hosts, key=natural_key):
        counts = "".join(
            f"  {(stats.get(key) or {}).get(host, 0):>{len(title)}}" for title, key in RECAP_COLUMNS
        )
        rows.append(host.ljust(host_width) + counts)
    return "\n".join(rows)


def format_failures(failures):
    lines = [f"{len(failures)} host(s) failed:"]
    for failure in failures:
        lines.append(f"  {failure.host}{' (unreachable)' if failure.unreachable else ''}")
        lines.append(f"    play:  {failure.play}")
        lines.append(f"    task:  {failure.task}")
        message = failure.message.splitlines() or [""]
        lines.append(f"    error: {message[0]}")
        lines.extend(f"           {line}" for line in message[1:])
    return "\n".join(lines)


class LineDisplay:
    """Plain lines, one per notable event: for logs and CI (no terminal)."""

    def __init__(self, stream, progress, clock=time.monotonic):
        self.stream = stream
        self.progress = progress
        self.clock = clock
        self.started_at = clock()
        self.lock = threading.Lock()

    def elapsed(self):
        return self.clock() - self.started_at

    def line(self, text):
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def stamp(self):
        return f"[{format_elapsed(self.elapsed())}]"

    def show(self, event, notes):
        for kind, content in notes:
            if kind == "play":
                self.line(f"{self.stamp()} PLAY {content}")
            elif kind == "task":
                self.line(f"{self.stamp()} TASK {content}")
            elif kind == "changed":
                self.line(f"{self.stamp()}   changed: {content}")
            elif kind in ("failed", "unreachable"):
                first = content.message.splitlines()[0] if content.message else ""
                self.line(f"{self.stamp()}   {kind.upper()}: {content.host}: {first}")
            elif kind == "warning":
                self.line(content)

    def start(self):
        pass

    def stop(self):
        pass


class LiveDisplay(LineDisplay):
    """One status line, redrawn in place every second; failures and warnings print above it."""

    def __init__(self, stream, progress, clock=time.monotonic):
        super().__init__(stream, progress, clock)
        self.stopped = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    def width(self):
        return max(shutil.get_terminal_size((100, 24)).columns - 1, 20)

    def redraw(self):
        with self.lock:
            text = status_line(self.progress, self.elapsed(), self.width())
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()

    def line(self, text):
        with self.lock:
            self.stream.write("\r\x1b[K" + text + "\n")
            self.stream.flush()

    def show(self, event, notes):
        for kind, content in notes:
            if kind in ("failed", "unreachable"):
                first = content.message.splitlines()[0] if content.message else ""
                label = f"{kind.upper()}: {content.host}: {content.task}"
                self.line(f"{self.stamp()} {label}: {first}")
            elif kind == "warning":
                self.line(content)
        self.redraw()

    def _tick(self):
        while not self.stopped.wait(1.0):
            self.redraw()

    def start(self):
        self.redraw()
        self.ticker.start()

    def stop(self):
        self.stopped.set()
        if self.ticker.is_alive():
            self.ticker.join()
        with self.lock:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class PlainDisplay(LineDisplay):
    """ansible-playbook's own output (masked), as it comes."""

    def show(self, event, notes):
        if event.get("stdout"):
            self.line(event["stdout"].replace("\r\n", "\n"))


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

PROMPTS = {
    # option -> (what to ask, ansible-playbook's prompt as a regular expression)
    "-k": ("SSH password: ", r"^SSH password:\s*$"),
    "-K": ("BECOME password: ", r"^BECOME password[^\n]*:\s*$"),
    "-J": ("Vault password: ", r"^Vault password[^\n]*:\s*$"),
}


def host_key_checking(environ, cfg_text):
    """The ANSIBLE_HOST_KEY_CHECKING value ansible-playbook would use on its own.

    ansible-runner turns host key checking off unless the environment says otherwise; the
    wrapper hands over what the environment or ansible.cfg says, else Ansible's default (on).
    """
    if "ANSIBLE_HOST_KEY_CHECKING" in environ:
        return environ["ANSIBLE_HOST_KEY_CHECKING"]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(cfg_text)
    return parser.get("defaults", "host_key_checking", fallback="True")


def ansible_environment(config_dir, plain_on_terminal, environ=None):
    """Environment variables for ansible-playbook."""
    environ = os.environ if environ is None else environ
    cfg_path = Path(environ.get("ANSIBLE_CONFIG") or ANSIBLE_CFG)
    cfg_text = cfg_path.read_text(encoding="utf-8") if cfg_path.is_file() else ""
    venv_bin = os.path.dirname(sys.executable)
    env = {
        "STRATA_CONFIG_DIR": str(config_dir),
        "ANSIBLE_CONFIG": str(cfg_path),
        # ansible-runner runs `ansible-playbook` from PATH: the one next to this Python.
        "PATH": os.pathsep.join([venv_bin, environ.get("PATH", os.defpath)]),
        "ANSIBLE_HOST_KEY_CHECKING": host_key_checking(environ, cfg_text),
    }
    if not plain_on_terminal and "ANSIBLE_FORCE_COLOR" not in environ:
        env["ANSIBLE_NOCOLOR"] = "True"  # the log and plain lines stay free of escape codes
    return env


def build_cmdline(arguments, config_dir_files, cwd):
    """ansible-playbook's arguments, without the last playbook (ansible-runner adds it)."""
    args = []
    if not arguments.given("-i"):
        args.extend(["-i", str(INVENTORY_DIR) + "/"])
    for path in config_dir_files:
        args.extend(["-e", f"@{path}"])
    args.extend(absolute_path_values(arguments.ansible_args, cwd))
    return args


def read_passwords(arguments, ask=getpass.getpass):
    """{option: password} for -k, -K, -J: asked here, since ansible-playbook runs in a pty."""
    return {option: ask(PROMPTS[option][0]) for option in PROMPTS if arguments.given(option)}


@dataclass
class Prepared:
    """Everything decided before ansible-playbook starts."""

    arguments: Arguments
    config_dir: Path
    playbooks: list
    user_files: list
    masked_values: list
    passwords: dict
    roles: set


def prepare(arguments, cwd, ask=getpass.getpass):
    if not arguments.playbooks:
        raise UsageError("no playbook given (see strata-ansible --help)")
    if arguments.given("--step"):
        raise UsageError("--step asks on the terminal for each task: use ansible-playbook for it")
    config_dir = strata_secrets.config_dir(arguments.config_dir)
    if not config_dir.is_dir():
        raise StrataError(
            f"config dir {config_dir} does not exist: create it or point STRATA_CONFIG_DIR / "
            "--config-dir at yours"
        )
    playbooks = [find_playbook(name, cwd) for name in arguments.playbooks]
    passwords = read_passwords(arguments, ask)
    vault_secrets = strata_secrets.vault_secrets_from_environment(
        absolute_values(arguments, "--vault-password-file", cwd),
        absolute_values(arguments, "--vault-id", cwd),
        passwords.get("-J"),
    )
    files = user_files(config_dir)
    loaded = load_user_files(files, vault_secrets)
    roles = set()
    for playbook in playbooks:
        roles |= playbook_roles(playbook)
    listing_only = any(arguments.given(option) for option in LISTING_OPTIONS)
    if not listing_only:
        problems = needed_secret_problems(roles, merged_values(loaded))
        if problems:
            where = config_dir / strata_secrets.SECRETS_FILE_NAME
            names = ", ".join(path.name for path in playbooks)
            raise ValidationError(
                [
                    f"refusing to run {names}: secrets its roles need are not set right "
                    f"(fix them, or run `strata secrets generate --config-dir {config_dir}`):",
                    *strata_secrets.describe_problems(where, problems),
                ]
            )
    # The prompted passwords (-k, -K, -J) too: ansible may echo them in a failed task.
    masked = values_to_mask([*secret_values(loaded), *passwords.values()])
    return Prepared(arguments, config_dir, playbooks, files, masked, passwords, roles)


def absolute_values(arguments, option, cwd):
    """The values of a path option, relative ones made absolute from `cwd`."""
    converted = absolute_path_values(
        [token for value in arguments.values(option) for token in (option, value)], cwd
    )
    return converted[1::2]


def run(prepared, stdout, cwd, now=None, clock=time.monotonic):
    """Run ansible-playbook; print progress, recap and failures; return the exit code."""
    arguments = prepared.arguments
    listing_only = any(arguments.given(option) for option in LISTING_OPTIONS)
    plain = arguments.plain or listing_only
    log_dir = choose_log_dir(prepared.config_dir)
    # Listing options change nothing and may run beside a converge.
    lock = contextlib.nullcontext() if listing_only else exclusive_run(log_dir)
    with lock:
        return _run_locked(prepared, stdout, cwd, now, clock, log_dir, plain)


def _run_locked(prepared, stdout, cwd, now, clock, log_dir, plain):
    arguments = prepared.arguments
    on_terminal = stdout.isatty()
    name = run_name(
        prepared.playbooks,
        now or datetime.datetime.now(),
        {p.name for p in log_dir.iterdir()},
    )
    run_dir = log_dir / name
    import ansible_runner

    masked = prepared.masked_values
    progress = RunProgress()
    if plain:
        display = PlainDisplay(stdout, progress, clock)
    elif on_terminal:
        display = LiveDisplay(stdout, progress, clock)
    else:
        display = LineDisplay(stdout, progress, clock)

    scrubbed = []

    def on_event(event):
        if not scrubbed:  # runner wrote `command` before the first event: drop its env now
            scrubbed.append(scrub_command_file(run_dir / "command"))
        # Mask in place: ansible-runner writes the event to the log after this returns.
        event["stdout"] = mask(event.get("stdout") or "", masked)
        if "event_data" in event:
            event["event_data"] = mask_data(event["event_data"], masked)
        display.show(event, progress.update(event))
        return True

    cmdline = build_cmdline(arguments, prepared.user_files, cwd)
    playbooks = [str(path) for path in prepared.playbooks]
    cmdline.extend(playbooks[:-1])
    passwords = {PROMPTS[option][1]: value for option, value in prepared.passwords.items()}
    started = datetime.datetime.now(datetime.UTC)
    display.line(f"strata-ansible: {' '.join(playbooks)}; log: {run_dir}")
    display.start()
    with tempfile.TemporaryDirectory(prefix="strata-ansible-") as private_data_dir:
        try:
            runner = ansible_runner.run(
                private_data_dir=private_data_dir,
                project_dir=str(ROOT),
                artifact_dir=str(log_dir),
                ident=name,
                playbook=playbooks[-1],
                cmdline=shlex.join(cmdline),
                envvars=ansible_environment(prepared.config_dir, plain and on_terminal),
                passwords=passwords,
                event_handler=on_event,
                quiet=True,
                suppress_env_files=True,
                # Anything but "jsonfile" keeps ansible-runner from moving the fact cache into
                # this run's artifacts: ansible.cfg's cache stays warm across runs.
                fact_cache_type="ansible.cfg",
            )
        finally:
            display.stop()
    scrub_command_file(run_dir / "command")
    for artifact in ("stdout", "stderr", "command"):
        mask_file(run_dir / artifact, masked)
    code = exit_code(runner.status, runner.rc)
    failures = progress.final_failures()
    write_summary(run_dir, prepared, code, runner.status, started, progress, failures)
    rotate_logs(log_dir)
    report(stdout, progress, failures, code, run_dir, display.elapsed(), plain)
    return code


def exit_code(status, rc):
    if status == "canceled":
        return EXIT_INTERRUPTED
    if rc is None:
        return EXIT_UNEXPECTED
    return rc


def write_summary(run_dir, prepared, code, status, started, progress, failures):
    summary = {
        "strata_version": __version__,
        "argv": sys.argv,
        "config_dir": str(prepared.config_dir),
        "playbooks": [str(path) for path in prepared.playbooks],
        "roles": sorted(prepared.roles),
        "started": started.isoformat(),
        "finished": datetime.datetime.now(datetime.UTC).isoformat(),
        "status": status,
        "exit_code": code,
        "stats": progress.stats,
        "failures": [dataclasses.asdict(failure) for failure in failures],
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "strata-run.json"
    path.write_text(
        mask(json.dumps(summary, indent=2, default=str), prepared.masked_values), encoding="utf-8"
    )
    path.chmod(0o600)


def report(stream, progress, failures, code, run_dir, elapsed, plain):
    lines = []
    if not plain:
        if progress.stats:
            lines += ["", format_recap(progress.stats)]
        if failures:
            lines += ["", format_failures(failures)]
        elif code not in (EXIT_OK, EXIT_INTERRUPTED) and progress.output:
            lines += ["", "ansible-playbook said:", *progress.output]
    outcome = {EXIT_OK: "ok", EXIT_INTERRUPTED: "interrupted"}.get(code, "failed")
    lines += ["", f"{outcome} (exit code {code}) in {format_elapsed(elapsed)}; log: {run_dir}"]
    stream.write("\n".join(lines) + "\n")
    stream.flush()


def main(argv=None, stdout=None, cwd=None):
    argv = sys.argv[1:] if argv is None else argv
    stdout = stdout or sys.stdout
    cwd = Path(cwd or os.getcwd())
    try:
        arguments = split_arguments(argv)
        if arguments.help:
            stdout.write(USAGE.format(playbooks=PLAYBOOKS_DIR))
            return EXIT_OK
        if arguments.given("--version") and not arguments.playbooks:
            import ansible

            stdout.write(f"strata-ansible {__version__} (ansible-core {ansible.__version__})\n")
            return EXIT_OK
        prepared = prepare(arguments, cwd)
        return run(prepared, stdout, cwd)
    except UsageError as exc:
        print(f"strata-ansible: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        for problem in exc.problems:
            print(f"strata-ansible: error: {problem}", file=sys.stderr)
        return EXIT_ERROR
    except StrataError as exc:
        print(f"strata-ansible: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

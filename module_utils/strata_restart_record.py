"""What a service was last (re)started with: the logic behind the restart_record module.

A service role writes its config files, then asks whether the service runs with them
(state=compared: changed when a file differs from the record, or there is no record yet) and
notifies its restart from that answer; the restart handler then writes the record
(state=recorded). The record lives on the host, so a run that failed or was killed between
writing a file and restarting the service still restarts it on the next run: the file no
longer changes then, but it still differs from the record (review Medium 10).

- read_files() gathers the sha256 of each file (None when absent).
- parse_record() / render_record() read and write the record's text: a line per file,
  "<sha256 or absent>  <path>", in the order given.
- plan_record() is pure: the files that differ from the record, and the record's new text.
- run() is the whole call: gather, plan, write the record when asked (never in check mode).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile

RECORD_DIR = "/var/lib/strata/restart"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
ABSENT = "absent"

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "files": {"type": "list", "elements": "path", "required": True},
    "state": {"type": "str", "choices": ["compared", "recorded"], "default": "compared"},
    "record_dir": {"type": "path", "default": RECORD_DIR},
}


class RecordError(Exception):
    """Bad parameters or an unreadable record: the module fails with this message."""


def check_params(params: dict) -> list[str]:
    """Every problem with the parameters, before anything is read."""
    problems = []
    if not NAME_PATTERN.match(params["name"] or ""):
        problems.append(
            f"name {params['name']!r}: expected letters, digits and _ . @ - "
            "(it names the record file)"
        )
    if not params["files"]:
        problems.append("files: expected at least one file the service reads")
    for path in params["files"] or []:
        if not os.path.isabs(path):
            problems.append(f"files: {path!r} is not an absolute path")
    if len(set(params["files"] or [])) != len(params["files"] or []):
        problems.append("files: a file is listed twice")
    return problems


def file_checksum(path: str) -> str | None:
    """The sha256 of a file's content, or None when there is no such file."""
    try:
        with open(path, "rb") as handle:
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(65536), b""):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def read_files(paths: list[str]) -> dict[str, str | None]:
    return {path: file_checksum(path) for path in paths}


def parse_record(text: str | None) -> dict[str, str | None] | None:
    """The record's checksums by path; None for no record (a service never restarted by Strata)."""
    if text is None:
        return None
    record = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        checksum, sep, path = line.partition("  ")
        if not sep or not path:
            # A damaged record means "unknown": the service restarts and the record is rewritten.
            return None
        record[path] = None if checksum == ABSENT else checksum
    return record


def render_record(checksums: dict[str, str | None]) -> str:
    return "".join(f"{checksum or ABSENT}  {path}\n" for path, checksum in checksums.items())


def plan_record(current: dict[str, str | None], record: dict[str, str | None] | None) -> dict:
    """What differs between the files now and the record of the last (re)start.

    A file differs when its checksum is not the recorded one, including a file the record does
    not list (the service reads a new file); without a record every file differs. Files the
    record lists but the call no longer names are ignored for the comparison and dropped from
    the new record.
    """
    if record is None:
        differ = list(current)
    else:
        differ = [path for path, checksum in current.items() if record.get(path, "") != checksum]
    return {"differ": differ, "record": render_record(current)}


def read_record(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot read the restart record: {exc}") from exc


def write_record(path: str, text: str) -> None:
    """Write the record atomically (a killed run leaves the old record or the new, never half)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".record-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def run(params: dict, check_mode: bool) -> dict:
    problems = check_params(params)
    if problems:
        raise RecordError("; ".join(problems))
    record_path = os.path.join(params["record_dir"], params["name"])
    current = read_files(params["files"])
    recorded_text = read_record(record_path)
    plan = plan_record(current, parse_record(recorded_text))
    result = {"name": params["name"], "record_path": record_path, "differ": plan["differ"]}
    if params["state"] == "compared":
        # Changed = the service does not run with these files: the caller notifies its restart.
        result["changed"] = bool(plan["differ"])
        return result
    changed = recorded_text != plan["record"]
    if changed and not check_mode:
        write_record(record_path, plan["record"])
    result["changed"] = changed
    return result

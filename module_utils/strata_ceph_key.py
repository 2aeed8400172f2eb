"""Declarative cephx keys: the logic behind the ceph_key module.

- check_params() validates the module's parameters (every error at once, before any command).
- plan_key() compares the entity from `ceph auth get NAME --format json` with the wanted one and
  returns the steps (ceph commands) that close the gap, with the diff; it is pure.
- converge() is the whole run: gather, plan, apply (unless check mode), gather again.

A secret never goes on a command line (where `ps` and logs would show it) nor into a result:
it reaches ceph in a keyring file, mode 0600 in a private temporary directory, that
`ceph auth import` reads and the module deletes at once. `ceph auth import` replaces both the key
and every cap of an entity; `ceph auth caps` replaces every cap and keeps the key. ceph refuses
an entity without caps in both (checked on ceph 16), so a key here always has at least one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shutil
import struct
import tempfile

from ansible.module_utils.strata_ceph import (
    CONNECTION_SPEC,
    KEYRING_PLACEHOLDER,
    CephCli,
    CephError,
    Step,
    apply_steps,
    check_connection,
    cluster_not_ready,
    not_ready_warning,
)

CAP_SERVICES = ("mon", "mgr", "osd", "mds")
ENTITY_RE = re.compile(r"^(client|mgr|mds|osd)\.[A-Za-z0-9][A-Za-z0-9._-]*$")
# A cap goes into a keyring file between double quotes: no quote, backslash or line break.
CAP_BAD_CHARS = re.compile(r'["\\\r\n]')
# A cephx key is base64 of ceph's CryptoKey: le16 type (1 = AES), le32 + le32 creation time,
# le16 length (16), then the 16-byte secret.
KEY_HEADER = struct.Struct("<HIIH")
KEY_TYPE_AES = 1
KEY_SECRET_LENGTH = 16
HIDDEN = "(secret, not shown)"

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    caps=dict(type="dict"),
    secret=dict(type="str", no_log=True),
    force_secret=dict(type="bool", default=False),
    **CONNECTION_SPEC,
)


def key_problem(value):
    """Why `value` is not a cephx key (None when it is one)."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "is not base64"
    if len(raw) != KEY_HEADER.size + KEY_SECRET_LENGTH:
        return f"decodes to {len(raw)} bytes, a cephx key has {KEY_HEADER.size + KEY_SECRET_LENGTH}"
    key_type, _secs, _nsecs, length = KEY_HEADER.unpack_from(raw)
    if key_type != KEY_TYPE_AES or length != KEY_SECRET_LENGTH:
        return f"has type {key_type} and length {length}, a cephx key has type 1 and length 16"
    return None


def same_secret(left, right):
    """Whether two cephx keys hold the same secret (the creation time inside does not count)."""
    try:
        raw_left, raw_right = base64.b64decode(left), base64.b64decode(right)
    except (binascii.Error, ValueError, TypeError):
        return left == right
    return raw_left[KEY_HEADER.size :] == raw_right[KEY_HEADER.size :] and len(raw_left) == len(
        raw_right
    )


def check_params(params):
    """Every problem with the parameters, as messages naming the option, value and expectation.

    The secret's value is never quoted.
    """
    errors = []
    name = params.get("name")
    if not isinstance(name, str) or not ENTITY_RE.match(name):
        errors.append(
            f"name is {name!r} (expected an entity TYPE.ID with TYPE client, mgr, mds or osd, "
            "e.g. client.glance)"
        )
    caps = params.get("caps")
    if params.get("state") == "present":
        if not isinstance(caps, dict) or not caps:
            errors.append(
                f"caps is {caps!r} (expected a dict of caps by service, at least one of "
                f"{', '.join(CAP_SERVICES)}: ceph refuses a key without caps)"
            )
    elif caps is not None or params.get("secret") is not None:
        errors.append("caps and secret go with state present (state is absent)")
    for service, cap in (caps or {}).items() if isinstance(caps, dict) else ():
        if service not in CAP_SERVICES:
            errors.append(
                f"caps.{service} is not a ceph service (expected {', '.join(CAP_SERVICES)})"
            )
        elif not isinstance(cap, str) or not cap.strip():
            errors.append(
                f"caps.{service} is {cap!r} (expected a cap string, e.g. 'profile rbd pool=images')"
            )
        elif CAP_BAD_CHARS.search(cap):
            errors.append(
                f"caps.{service} is {cap!r} (expected no double quote, backslash or line break)"
            )
    secret = params.get("secret")
    if secret is not None:
        problem = key_problem(secret) if isinstance(secret, str) else "is not a string"
        if problem:
            errors.append(
                f"secret {problem} (expected a cephx key, as `ceph-authtool --gen-print-key` "
                "prints it; the value is not shown)"
            )
    elif params.get("force_secret"):
        errors.append("force_secret is true but no secret is given")
    check_connection(params, errors)
    return errors


def entity_state(auth_get):
    """The entity from `ceph auth get NAME --format json` (a list of one), or None."""
    if not auth_get:
        return None
    entry = auth_get[0]
    return {"key": entry.get("key"), "caps": dict(entry.get("caps") or {})}


def caps_args(caps):
    """`mon 'allow r' osd '...'`, as ceph auth add/caps take them, in a fixed order."""
    args = []
    for service in CAP_SERVICES:
        if service in caps:
            args += [service, caps[service]]
    return tuple(args)


def _caps_changes(before, after):
    changes = []
    for service in CAP_SERVICES:
        old, new = before.get(service), after.get(service)
        if old != new:
            changes.append(f"caps {service}: {old!r} -> {new!r}")
    return changes


def plan_key(params, current):
    """The steps that make the entity as `params` say, from its `current` state (entity_state()).

    Returns (steps, before, after) where before and after are what the diff shows: caps, and a
    `key` line only when the secret changes, which says so without showing either secret.
    Raises CephError for a change the module refuses.
    """
    name = params["name"]
    if params["state"] == "absent":
        if current is None:
            return [], {}, {}
        return (
            [Step(f"delete {name}", ("auth", "del", name))],
            {"caps": current["caps"]},
            {},
        )

    caps = dict(params["caps"])
    secret = params.get("secret")
    keyring = {"entity": name, "key": secret, "caps": caps}
    if current is None:
        if secret is None:
            # ceph makes the secret; the next run finds the entity and keeps it.
            step = Step(
                f"create {name} (ceph generates its key)", ("auth", "add", name) + caps_args(caps)
            )
        else:
            step = Step(f"create {name}", ("auth", "import", "-i", KEYRING_PLACEHOLDER), keyring)
        return [step], {}, {"caps": caps}

    before = {"caps": current["caps"]}
    after = {"caps": caps}
    if secret is not None and not same_secret(secret, current["key"]):
        if not params.get("force_secret"):
            raise CephError(
                f"{name} exists in the cluster with another secret than the one given; the "
                "module does not replace it, because every client that holds the old key "
                "(ceph.client.*.keyring, libvirt secrets, cinder and nova configs) stops "
                "working. Give the cluster's key as secret, or set force_secret: true to "
                "replace it, then update every client"
            )
        changes = _caps_changes(current["caps"], caps) + ["key: changed"]
        before["key"], after["key"] = HIDDEN, "changed"
        step = Step("; ".join(changes), ("auth", "import", "-i", KEYRING_PLACEHOLDER), keyring)
        return [step], before, after
    if current["caps"] != caps:
        changes = _caps_changes(current["caps"], caps)
        return [Step("; ".join(changes), ("auth", "caps", name) + caps_args(caps))], before, after
    return [], before, after


def keyring_text(entity):
    lines = [f"[{entity['entity']}]", f"\tkey = {entity['key']}"]
    for service in CAP_SERVICES:
        if service in entity["caps"]:
            lines.append(f'\tcaps {service} = "{entity["caps"][service]}"')
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def keyring_file(entity):
    """A keyring file holding `entity`, readable by this user only, removed on exit."""
    directory = tempfile.mkdtemp(prefix="ceph_key.")  # mode 0700
    path = os.path.join(directory, "keyring")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(keyring_text(entity))
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def apply_step(cli, step):
    if step.keyring is None:
        cli.run(step.args)
        return
    with keyring_file(step.keyring) as path:
        args = [path if arg == KEYRING_PLACEHOLDER else arg for arg in step.args]
        cli.run(args, shown=step.command())


def gather(cli, name):
    return entity_state(cli.json(["auth", "get", name], missing_ok=True))


def converge(params, run_command, check_mode=False, binary="ceph"):
    """The module's run. Returns the result dict (with `diff` and `warnings`)."""
    errors = check_params(params)
    if errors:
        raise CephError("; ".join(errors))
    if check_mode:
        reason = cluster_not_ready(params, binary)
        if reason:
            out = result(params, *plan_key(params, None))
            out["warnings"].append(not_ready_warning(reason, params["name"]))
            return out
    cli = CephCli(run_command, params, binary)
    name = params["name"]
    current = gather(cli, name)
    steps, before, after = plan_key(params, current)
    if steps and not check_mode:
        apply_steps(steps, lambda step: apply_step(cli, step))
        state = gather(cli, name)
        # What ceph now holds; the key line of the diff stays as planned.
        after = dict(after, caps=state["caps"]) if state else {}
    return result(params, steps, before, after)


def result(params, steps, before, after):
    """The module's result (RETURN documents every key but diff and warnings)."""
    return {
        "changed": bool(steps),
        "name": params["name"],
        "caps": after.get("caps"),
        "secret_changed": after.get("key") == "changed",
        "changes": [step.change for step in steps],
        "commands": [step.command() for step in steps],
        "diff": {"before": before, "after": after},
        "warnings": [],
    }

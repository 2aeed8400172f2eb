"""The ceph command line, as the ceph_pool and ceph_key modules use it.

Both modules gather the cluster's state with `ceph ... --format json`, plan in pure functions
(strata_ceph_pool, strata_ceph_key) and apply the plan with more `ceph` commands. This file holds
what they share: the connection options, running one command, and turning a failed command into
an error that names the command (never a secret: secrets go through files, see strata_ceph_key)
and carries ceph's own message.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex

# `ceph` prints "Error ENOENT: ..." and exits with errno 2 when the pool or entity is not there.
ENOENT = 2

# The options every ceph_* module takes to reach the cluster (merged into its ARGUMENT_SPEC).
CONNECTION_SPEC = dict(
    cluster=dict(type="str", default="ceph"),
    conf=dict(type="path"),
    keyring=dict(type="path"),
    connect_timeout=dict(type="int", default=30),
)


class CephError(Exception):
    """An error the operator can fix: bad input, a refused change, a failed ceph command."""

    def __init__(self, msg, command=None, rc=None, stderr=None):
        super().__init__(msg)
        self.msg = msg
        self.command = command
        self.rc = rc
        self.stderr = stderr
        # Commands of the plan that had run before this one failed (see apply_steps).
        self.done = []

    def result(self):
        """The keys for fail_json: msg, and the command, rc and stderr when a command failed.

        `changed` says whether earlier steps had changed the cluster before the failure.
        """
        out = {"msg": self.msg, "changed": bool(self.done)}
        if self.command is not None:
            out.update(cmd=self.command, rc=self.rc, stderr=self.stderr, commands_done=self.done)
        return out


def apply_steps(steps, run_step):
    """Run the plan's steps in order with run_step(step); a failure names what had run."""
    done = []
    for step in steps:
        try:
            run_step(step)
        except CephError as exc:
            exc.done = done
            raise
        done.append(step.command())


def quote_args(args):
    return " ".join(shlex.quote(str(a)) for a in args)


@dataclasses.dataclass(frozen=True)
class Step:
    """One change and the ceph arguments that make it.

    `keyring` is an entity to write to a temporary keyring file (mode 0600) whose path replaces
    KEYRING_PLACEHOLDER in `args`: that is how a secret reaches ceph without a command line.
    """

    change: str
    args: tuple
    keyring: dict | None = None

    def command(self):
        """The command as shown in results and errors (never contains a secret)."""
        return quote_args(("ceph",) + self.args)


KEYRING_PLACEHOLDER = "<temporary keyring file>"


def check_connection(params, errors):
    if not isinstance(params.get("cluster"), str) or not params["cluster"].strip():
        errors.append(f"cluster is {params.get('cluster')!r} (expected a cluster name, e.g. ceph)")
    timeout = params.get("connect_timeout")
    if not isinstance(timeout, int) or timeout < 1:
        errors.append(f"connect_timeout is {timeout!r} (expected a number of seconds, 1 or more)")


def cluster_not_ready(params, binary):
    """Why this host cannot talk to a cluster yet (no ceph command, no config file), or None.

    Only check mode on a fresh host gets here without them: the packages and ceph.conf that the
    same run would install are not there yet. The modules then plan as for an empty cluster.
    """
    if not binary:
        return "the ceph command is not installed"
    conf = params.get("conf") or f"/etc/ceph/{params['cluster']}.conf"
    if not os.path.exists(conf):
        return f"{conf} does not exist"
    return None


def not_ready_warning(reason, what):
    return f"check mode: {reason} (the cluster is not set up yet), so {what} is reported as new"


class CephCli:
    """Runs `ceph` with the module's connection options through AnsibleModule.run_command."""

    def __init__(self, run_command, params, binary="ceph"):
        self._run_command = run_command
        self.base = [binary, "--cluster", params["cluster"]]
        if params.get("conf"):
            self.base += ["--conf", params["conf"]]
        if params.get("keyring"):
            self.base += ["--keyring", params["keyring"]]
        # Without it, `ceph` waits for a monitor forever.
        self.base += ["--connect-timeout", str(params["connect_timeout"])]

    def run(self, args, shown=None, allow_rc=()):
        """Run one command; returns (rc, stdout, stderr). A non-zero rc not in allow_rc raises.

        `shown` is the command as errors name it (default: `ceph` and the arguments).
        """
        rc, out, err = self._run_command(self.base + list(args), environ_update={"LC_ALL": "C"})
        if rc != 0 and rc not in allow_rc:
            command = shown or quote_args(["ceph"] + list(args))
            # stderr only: stdout of some commands (auth get) holds a secret.
            message = (err or "").strip() or "(no message on stderr)"
            raise CephError(f"{command} failed (rc={rc}): {message}", command, rc, err)
        return rc, out, err

    def json(self, args, missing_ok=False):
        """Run a command with --format json and parse its output; None when the thing is missing
        (ENOENT) and missing_ok."""
        args = list(args) + ["--format", "json"]
        rc, out, _err = self.run(args, allow_rc=(ENOENT,) if missing_ok else ())
        if rc == ENOENT:
            return None
        try:
            return json.loads(out) if out.strip() else None
        except ValueError as exc:
            command = quote_args(["ceph"] + args)
            raise CephError(f"{command} printed something that is not JSON: {exc}") from exc

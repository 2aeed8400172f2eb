"""A keystone setting changed through the operator's command, and the run killed (SIGKILL, as a
crash or a lost deploy host would) after keystone.conf is written but before the restart: the
old keystone keeps running. The next run of the same command writes nothing new, yet restarts
keystone, because the restart is decided from the record of what keystone last restarted with
(module restart_record), not from what changed in the same run (review Medium 10). The
setting is then put back the same way. Runs before test_aio_rerun, which finds nothing to do.
"""

import json
import os
import subprocess

import pytest

from tests.aio.test_aio_rerun import STRATA_ANSIBLE
from tests.infra.playbook import killed_at

pytestmark = pytest.mark.lab

HOST = "aio1"
CONF = "/etc/keystone/keystone.conf"
DEFAULT, CHANGED = 3600, 3601  # keystone_token_expiration
CHANGE = ["-e", json.dumps({"keystone_token_expiration": CHANGED})]
# The first task after keystone.conf is written that decides the restart.
KILL_AT = r"TASK \[common : Compare the files with what it last restarted with - keystone\]"
PLAYBOOK_ARGS = ["setup-infrastructure.yml", "-t", "keystone"]


def strata_ansible_env():
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env["STRATA_CONFIG_DIR"] = os.environ["STRATA_LAB_CONFIG_DIR"]
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def started(aio):
    return aio.check(
        HOST, "systemctl show -p ActiveEnterTimestampMonotonic --value keystone"
    ).strip()


def written(aio):
    return aio.check(HOST, f"grep '^expiration' {CONF}").strip()


def keystone_converge(*args):
    proc = subprocess.run(
        [STRATA_ANSIBLE, "--plain", *PLAYBOOK_ARGS, *args],
        capture_output=True,
        text=True,
        env=strata_ansible_env(),
        check=False,
        timeout=1800,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope="module")
def runs(aio):
    assert written(aio) == f"expiration = {DEFAULT}"
    before = started(aio)
    output = killed_at(
        KILL_AT, [STRATA_ANSIBLE, "--plain", *PLAYBOOK_ARGS, *CHANGE], strata_ansible_env()
    )
    state = {"killed_output": output, "written": written(aio), "after_kill": started(aio)}
    try:
        state["rerun_output"] = keystone_converge(*CHANGE)
        state["after_rerun"] = started(aio)
        address = aio.hostvars[HOST]["management_address"]  # keystone listens there only
        state["answers"] = aio.run(
            HOST, f"curl -fsS http://{address}:5000/v3 >/dev/null"
        ).returncode
    finally:
        keystone_converge()  # the all-in-one's own value again
    state["restored"] = written(aio)
    state["after_restore"] = started(aio)
    return state | {"before": before}


def test_the_killed_run_wrote_the_file_and_restarted_nothing(runs):
    assert runs["written"] == f"expiration = {CHANGED}"
    assert runs["after_kill"] == runs["before"]


def test_the_next_run_restarts_keystone_with_the_file_it_did_not_rewrite(runs):
    assert runs["after_rerun"] != runs["before"]
    assert "Restart the units on aio1" in runs["rerun_output"]
    assert runs["answers"] == 0


def test_the_setting_is_put_back_and_restarted_again(runs):
    assert runs["restored"] == f"expiration = {DEFAULT}"
    assert runs["after_restore"] != runs["after_rerun"]

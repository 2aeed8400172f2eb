"""A Galera setting changed, and the run killed once the new file is written on every node but
before the rolling restart (a crash, a lost deploy host): the nodes keep running the old value.
The next run restarts every node, one at a time, and they run the new value: the restart is
decided from the record of what each node was started with (module restart_record), not
from what changed in the same run. The setting is put back the same way afterwards."""

import json

import pytest
from cp import GALERA, PROJECT, ansible_playbook, check, galera_healthy, recap, sql, wait_for

from tests.infra.playbook import ansible_playbook_killed_at

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

PLAYBOOK = str(PROJECT / "playbooks" / "setup-infrastructure.yml")
DEFAULT, CHANGED = 200, 201  # galera_server_max_connections
CHANGE = json.dumps({"galera_server_max_connections": CHANGED})
RESTART_TASK = r"TASK \[galera_server : Restart them one at a time"
CONFIG = "/etc/mysql/mariadb.conf.d/99-strata-galera.cnf"


def started():
    return {
        n: check(n, "systemctl show -p ActiveEnterTimestampMonotonic --value mariadb").strip()
        for n in GALERA
    }


def running_value():
    return {n: int(sql(n, "SELECT @@max_connections")[0][0]) for n in GALERA}


def converge(*args):
    result = ansible_playbook("-t", "galera", *args, PLAYBOOK)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return recap(result.stdout)


@pytest.fixture(scope="module")
def runs():
    assert running_value() == dict.fromkeys(GALERA, DEFAULT)
    before = started()
    killed = ansible_playbook_killed_at(RESTART_TASK, "-t", "galera", "-e", CHANGE, PLAYBOOK)
    state = {
        "killed": killed,
        "written": {n: check(n, f"grep '^max_connections' {CONFIG}").strip() for n in GALERA},
        "after_kill": started(),
        "value_after_kill": running_value(),
    }
    try:
        converge("-e", CHANGE)
        state["after_rerun"] = started()
        state["value_after_rerun"] = running_value()
        state["healthy_after_rerun"] = galera_healthy()
    finally:
        converge()  # the scenario's own value again (a rolling restart of its own)
        wait_for(galera_healthy, 300, "the cluster synced after the setting was put back")
    state["value_restored"] = running_value()
    return state | {"before": before}


def test_the_killed_run_wrote_the_file_and_restarted_nothing(runs):
    assert runs["written"] == dict.fromkeys(GALERA, f"max_connections = {CHANGED}")
    assert runs["after_kill"] == runs["before"]
    assert runs["value_after_kill"] == dict.fromkeys(GALERA, DEFAULT)


def test_the_next_run_restarts_every_node_with_the_new_value(runs):
    assert all(runs["after_rerun"][n] != runs["before"][n] for n in GALERA), runs["after_rerun"]
    assert runs["value_after_rerun"] == dict.fromkeys(GALERA, CHANGED)
    assert runs["healthy_after_rerun"]


def test_the_setting_is_put_back(runs):
    assert runs["value_restored"] == dict.fromkeys(GALERA, DEFAULT)

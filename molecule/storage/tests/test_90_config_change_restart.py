"""A monitor setting changed in the config: a run killed after ceph.conf is written but before
the restarts (a crash, a lost deploy host) restarts nothing; the next run restarts every monitor,
one at a time with the quorum held, and nothing else (managers and OSDs read nothing that
changed); a rerun changes nothing. Runs after test_80 (the cluster has its 4th OSD host)."""

import json
import re
import threading

import pytest
from st import (
    ADMIN,
    CEPH4_INVENTORY,
    MONS,
    PROJECT,
    ceph_playbook,
    check,
    daemon_start_times,
    recap,
)

from tests.infra.playbook import ansible_playbook_killed_at

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

HOSTS = sorted(set(MONS) | {"st-ceph1", "st-ceph2", "st-ceph3", "st-ceph4"})
CHANGE = json.dumps({"ceph_client_conf_overrides": {"mon": {"mon_osd_down_out_interval": 900}}})
ARGS = ("-i", str(CEPH4_INVENTORY), "-e", CHANGE)
RESTART_TASK = r"TASK \[ceph_mon : Restart the monitors and managers whose configuration changed"


def quorum_size():
    out = check(ADMIN, "ceph --connect-timeout 20 quorum_status --format json")
    return len(json.loads(out)["quorum_names"])


def mon_units(times):
    return {
        h: {u: t for u, t in units.items() if u.startswith("ceph-mon@")}
        for h, units in times.items()
    }


def others(times):
    return {
        h: {u: t for u, t in units.items() if not u.startswith("ceph-mon@")}
        for h, units in times.items()
    }


@pytest.fixture(scope="module")
def runs():
    before = daemon_start_times(HOSTS)
    killed = ansible_playbook_killed_at(
        RESTART_TASK, *ARGS, str(PROJECT / "playbooks" / "setup-ceph.yml")
    )
    after_kill = daemon_start_times(HOSTS)
    written = {h: check(h, "cat /etc/ceph/ceph.conf") for h in MONS}

    # The quorum, sampled from beside the run: never below a majority while monitors restart.
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append(quorum_size())
            except (AssertionError, ValueError, KeyError):
                samples.append(0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        rc, out, err = ceph_playbook(*ARGS)
    finally:
        stop.set()
        sampler.join(timeout=120)
    assert rc == 0, out[-3000:] + err[-3000:]
    after = daemon_start_times(HOSTS)
    return {
        "before": before,
        "killed": killed,
        "after_kill": after_kill,
        "written": written,
        "samples": samples,
        "after": after,
        "out": out,
    }


def test_the_killed_run_wrote_the_setting_and_restarted_nothing(runs):
    setting = re.compile(r"^mon[ _]osd[ _]down[ _]out[ _]interval = 900$", re.M)
    assert all(setting.search(text) for text in runs["written"].values()), runs["killed"][-3000:]
    assert runs["after_kill"] == runs["before"]


def test_the_next_run_restarted_every_monitor(runs):
    before, after = mon_units(runs["before"]), mon_units(runs["after"])
    assert {h: u for h, u in before.items() if u}, before
    for host, units in before.items():
        for unit, started in units.items():
            assert after[host][unit] != started, f"{host}: {unit} was not restarted"


def test_the_quorum_held_a_majority_throughout(runs):
    majority = len(MONS) // 2 + 1
    assert runs["samples"], "no quorum sample was taken"
    assert min(runs["samples"]) >= majority, runs["samples"]


def test_nothing_else_restarted(runs):
    assert others(runs["after"]) == others(runs["before"])


def test_a_rerun_changes_nothing(runs):
    rc, out, err = ceph_playbook(*ARGS, "--check", "--diff")
    summary = recap(out)
    assert rc == 0 and summary, out[-3000:] + err[-3000:]
    changed = {n: c for n, c in summary.items() if c["changed"] or c["failed"]}
    assert not changed, f"{changed}\n{out[-4000:]}"

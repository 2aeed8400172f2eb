"""ceph_pool and ceph_key through Ansible against a real ceph cluster in the lab.

Needs a lab host with a running cluster and an admin key (a monitor host):

    STRATA_CEPH_LAB_INVENTORY=/path/inventory.yml STRATA_CEPH_LAB_HOST=cm-ceph1 \
        .venv/bin/pytest -m lab tests/unit/test_ceph_modules_lab.py

Every pool and key it makes has a random strata-test- name and is removed at the end. The
cluster must have at least one OSD; pools here get size 2, so on a one-host cluster the CRUSH
failure domain must be osd (the lab's one-host recipe) for them to be clean, which the test does
not need.
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

from strata.secrets import cephx_key

pytestmark = pytest.mark.lab

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")
INVENTORY = os.environ.get("STRATA_CEPH_LAB_INVENTORY")
HOST = os.environ.get("STRATA_CEPH_LAB_HOST")


@pytest.fixture(scope="module", autouse=True)
def lab():
    if not (INVENTORY and HOST):
        pytest.skip("set STRATA_CEPH_LAB_INVENTORY and STRATA_CEPH_LAB_HOST to a ceph lab host")


def ansible(module, args, check=False, diff=False):
    """One ad-hoc task on the lab host; its result as a dict, and the whole output."""
    command = [ANSIBLE, "-i", INVENTORY, HOST, "-m", module, "-a", json.dumps(args)]
    command += ["--check"] * check + ["--diff"] * diff
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    run = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    output = json.loads(run.stdout)
    return output["plays"][0]["tasks"][0]["hosts"][HOST], run.stdout + run.stderr


def ceph(*args):
    """`ceph ARGS --format json` on the lab host, parsed (None when it prints nothing)."""
    result, out = ansible("ansible.builtin.command", {"argv": ["ceph", *args, "--format", "json"]})
    assert result["rc"] == 0, out
    return json.loads(result["stdout"]) if result["stdout"].strip() else None


def pool_detail(name):
    return next(p for p in ceph("osd", "pool", "ls", "detail") if p["pool_name"] == name)


def test_pool_lifecycle():
    name = f"strata-test-{uuid.uuid4().hex[:8]}"
    wanted = {"name": name, "size": 2, "min_size": 1, "pg_num": 8, "pg_autoscale_mode": "off"}
    try:
        result, out = ansible("ceph_pool", dict(wanted, application="rbd"), diff=True)
        assert result["changed"] is True, out
        assert result["commands"][0] == f"ceph osd pool create {name} 8 8 replicated"
        assert result["diff"]["before"] == {}
        pool = pool_detail(name)
        assert (pool["size"], pool["min_size"], pool["pg_num"]) == (2, 1, 8)
        assert (pool["pg_autoscale_mode"], list(pool["application_metadata"])) == ("off", ["rbd"])

        result, out = ansible("ceph_pool", dict(wanted, application="rbd"))
        assert (result["changed"], result["commands"]) == (False, []), out

        # Check mode: reported, not done.
        bigger = dict(wanted, size=3, min_size=2, pg_num=16)
        result, out = ansible("ceph_pool", bigger, check=True, diff=True)
        assert result["changed"] is True, out
        assert result["diff"]["before"]["size"] == 2 and result["diff"]["after"]["size"] == 3
        assert pool_detail(name)["size"] == 2

        # ceph resets min_size when size changes: the module sets it again.
        result, out = ansible("ceph_pool", bigger)
        assert result["changed"] is True, out
        pool = pool_detail(name)
        assert (pool["size"], pool["min_size"], pool["pg_num_target"]) == (3, 2, 16)
        assert ansible("ceph_pool", bigger)[0]["changed"] is False

        result, out = ansible("ceph_pool", dict(wanted, application="cephfs"))
        assert result["failed"] is True and "does not add a second application" in result["msg"]

        result, out = ansible("ceph_pool", {"name": name, "state": "absent"})
        assert result["failed"] is True and "allow_delete" in result["msg"], out
    finally:
        ceph("config", "set", "mon", "mon_allow_pool_delete", "true")
        try:
            result, out = ansible(
                "ceph_pool", {"name": name, "state": "absent", "allow_delete": True}
            )
        finally:
            ceph("config", "rm", "mon", "mon_allow_pool_delete")
    assert result["changed"] is True, out
    assert name not in [p["pool_name"] for p in ceph("osd", "pool", "ls", "detail")]
    assert ansible("ceph_pool", {"name": name, "state": "absent"})[0]["changed"] is False


def test_pool_delete_refused_by_the_monitors_is_a_clean_failure():
    name = f"strata-test-{uuid.uuid4().hex[:8]}"
    ansible("ceph_pool", {"name": name, "pg_num": 8, "application": "rbd"})
    try:
        result, out = ansible("ceph_pool", {"name": name, "state": "absent", "allow_delete": True})
        assert result["failed"] is True, out
        assert result["cmd"] == f"ceph osd pool rm {name} {name} --yes-i-really-really-mean-it"
        assert "mon_allow_pool_delete" in result["stderr"]
        assert "Traceback" not in out
    finally:
        ceph("config", "set", "mon", "mon_allow_pool_delete", "true")
        try:
            ansible("ceph_pool", {"name": name, "state": "absent", "allow_delete": True})
        finally:
            ceph("config", "rm", "mon", "mon_allow_pool_delete")


def test_key_lifecycle_never_shows_the_secret():
    name = f"client.strata-test-{uuid.uuid4().hex[:8]}"
    secret = cephx_key()
    caps = {"mon": "profile rbd", "osd": "profile rbd pool=images"}
    try:
        result, out = ansible("ceph_key", {"name": name, "caps": caps, "secret": secret}, diff=True)
        assert result["changed"] is True, out
        assert result["commands"] == ["ceph auth import -i '<temporary keyring file>'"]
        (entity,) = ceph("auth", "get", name)
        assert (entity["key"], entity["caps"]) == (secret, caps)

        result, out = ansible("ceph_key", {"name": name, "caps": caps, "secret": secret})
        assert result["changed"] is False, out

        wider = dict(caps, osd="profile rbd pool=images, profile rbd pool=vms")
        args = {"name": name, "caps": wider, "secret": secret}
        result, out = ansible("ceph_key", args, check=True, diff=True)
        assert result["changed"] is True, out
        assert result["diff"]["after"]["caps"] == wider
        assert ceph("auth", "get", name)[0]["caps"] == caps

        result, out = ansible("ceph_key", args, diff=True)
        assert result["commands"][0].startswith(f"ceph auth caps {name} "), out
        (entity,) = ceph("auth", "get", name)
        assert (entity["key"], entity["caps"]) == (secret, wider)

        other = cephx_key()
        result, out = ansible("ceph_key", dict(args, secret=other), diff=True)
        assert result["failed"] is True and "another secret" in result["msg"], out
        assert secret not in out and other not in out

        result, out = ansible("ceph_key", dict(args, secret=other, force_secret=True), diff=True)
        assert result["changed"] is True and result["secret_changed"] is True, out
        assert result["diff"]["after"]["key"] == "changed"
        assert secret not in out and other not in out
        assert ceph("auth", "get", name)[0]["key"] == other
    finally:
        result, out = ansible("ceph_key", {"name": name, "state": "absent"})
    assert result["changed"] is True, out
    assert ansible("ceph_key", {"name": name, "state": "absent"})[0]["changed"] is False


def test_an_unreachable_cluster_is_a_clean_failure():
    result, out = ansible("ceph_pool", {"name": "images", "conf": "/nonexistent/ceph.conf"})
    assert result["failed"] is True, out
    assert result["cmd"] == "ceph osd crush rule dump --format json"
    assert result["stderr"]
    assert "Traceback" not in out

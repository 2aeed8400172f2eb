"""A new host whose name sorts first (cp0) joins RabbitMQ and keystone: nothing is lost.

Before: the first host by name was the node every other RabbitMQ node reset itself to join
(wiping every queue), and the host that made keystone's fernet and credential keys (invalidating
every token, and every stored credential for good). Runs last: it changes the cluster.
"""

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cp import KEYSTONE, RABBITMQ, address, check, put_client

from tests.infra import inventory
from tests.infra.playbook import ROOT, recap

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

CP0 = "cp0"
CP0_INVENTORY = Path(__file__).resolve().parent / "cp0.yml"
COUNT = 20


def amqp(node, *args):
    path = put_client(node, "amqp_client.py")
    password = inventory.hostvars(RABBITMQ[0])["probe_a_rabbitmq_password"]
    return check(
        node, f"python3 {path} {address(node)} probe_a '{password}' /probe_a " + " ".join(args)
    )


def queue_depth(node, queue):
    out = check(node, "rabbitmqctl list_queues -p /probe_a name messages --formatter json")
    return {q["name"]: q["messages"] for q in json.loads(out)}.get(queue)


def key_sums(node, kind):
    return check(node, f"cd /etc/keystone/{kind} && sha256sum * | sort")


def token(node):
    return check(node, ". /root/openrc && openstack token issue -f value -c id").strip()


def converge_with_cp0():
    """converge.yml with tests/cp0.yml first, so cp0 is the first host of its groups (the
    inventory generator sorts by name)."""
    directory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    binary = Path(sys.executable).with_name("ansible-playbook")
    return subprocess.run(
        [
            str(binary),
            "-i",
            str(CP0_INVENTORY),
            "-i",
            directory,
            str(Path(__file__).parents[1] / "converge.yml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def added():
    queue = f"strata-durable-{uuid.uuid4().hex[:8]}"
    node = RABBITMQ[0]
    amqp(node, "durable", queue)
    for n in range(COUNT):
        amqp(node, "publish", queue, f"message-{n}")
    assert queue_depth(node, queue) == COUNT
    before = {
        "token": token(KEYSTONE[0]),
        "fernet": key_sums(KEYSTONE[0], "fernet-keys"),
        "credential": key_sums(KEYSTONE[0], "credential-keys"),
    }
    proc = converge_with_cp0()
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert all(c["failed"] == 0 for c in recap(proc.stdout).values()), proc.stdout[-3000:]
    return {"queue": queue, **before}


def test_cp0_sorts_first():
    # What the test is about: cp0 would be groups['rabbitmq_all'][0] in the inventory.
    assert sorted([CP0, *RABBITMQ])[0] == CP0


def test_the_durable_messages_survive(added):
    for node in RABBITMQ:
        assert queue_depth(node, added["queue"]) == COUNT, node
    assert amqp(CP0, "get", added["queue"]).strip() == "message-0"
    check(RABBITMQ[0], f"rabbitmqctl delete_queue -p /probe_a {added['queue']}")


@pytest.mark.parametrize("node", [CP0, *RABBITMQ])
def test_cp0_joined_the_running_cluster(added, node):
    status = json.loads(check(node, "rabbitmqctl cluster_status --formatter json"))
    expected = sorted(f"rabbit@{n}" for n in [CP0, *RABBITMQ])
    assert sorted(status["running_nodes"]) == expected


def test_keystone_keys_unchanged_and_on_cp0(added):
    for node in [CP0, *KEYSTONE]:
        assert key_sums(node, "credential-keys") == added["credential"], node
        assert key_sums(node, "fernet-keys") == added["fernet"], node


@pytest.mark.parametrize("node", [CP0, *KEYSTONE])
def test_a_token_issued_before_still_validates(added, node):
    status = check(
        node,
        f". /root/openrc && curl -s -o /dev/null -w '%{{http_code}}' "
        f'-H "X-Auth-Token: $(openstack token issue -f value -c id)" '
        f"-H 'X-Subject-Token: {added['token']}' http://{address(node)}:5000/v3/auth/tokens",
    )
    assert status == "200", f"{node}: token issued before cp0 joined is rejected ({status})"


def test_the_keys_are_backed_up_on_the_deploy_host(added):
    # molecule/_shared/group_vars/all.yml puts keystone_key_backup_dir there.
    backup = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "keystone-keys"
    for kind in ("fernet-keys", "credential-keys"):
        files = sorted((backup / kind).iterdir())
        assert files, kind
        assert all(f.stat().st_mode & 0o777 == 0o600 for f in files), kind
        remote = key_sums(KEYSTONE[0], kind)
        local = sorted(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}" for f in files)
        assert local == remote.splitlines(), kind

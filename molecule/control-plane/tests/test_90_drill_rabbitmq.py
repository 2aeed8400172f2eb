"""Drill 3: one RabbitMQ node stops. Publishing and consuming go on on the others, and a
notification published (mirrored) before the stop is still consumed."""

import json
import uuid

import pytest
from cp import RABBITMQ, address, check, put_client, run, wait_for

from tests.infra import inventory

# A drill: `make test-full` runs it, `make test` skips it (molecule/conftest.py).
pytestmark = pytest.mark.drill

SERVICE = "probe_a"


def amqp(node, *args):
    password = inventory.hostvars(RABBITMQ[0])[f"{SERVICE}_rabbitmq_password"]
    path = put_client(node, "amqp_client.py")
    return run(
        node, f"python3 {path} {address(node)} {SERVICE} '{password}' /{SERVICE} " + " ".join(args)
    )


def running_nodes(node):
    result = run(node, "rabbitmqctl cluster_status --formatter json")
    return sorted(json.loads(result.stdout)["running_nodes"]) if result.rc == 0 else []


def mirrors_synced(node, queue):
    out = check(
        node,
        f"rabbitmqctl list_queues -p /{SERVICE} name synchronised_slave_pids --formatter json",
    )
    found = [q for q in json.loads(out) if q["name"] == queue]
    return bool(found) and len(found[0]["synchronised_slave_pids"] or []) == len(RABBITMQ) - 1


def test_one_node_stopped_messages_flow_and_mirrored_notification_survives():
    stopped, survivor = RABBITMQ[0], RABBITMQ[1]
    everyone = sorted(f"rabbit@{n}" for n in RABBITMQ)
    assert running_nodes(survivor) == everyone
    notification = f"before-stop-{uuid.uuid4().hex[:8]}"
    queue = "notifications.info"

    # Declared and published on the node that will stop: it holds the queue's master.
    assert amqp(stopped, "declare", queue).rc == 0
    assert amqp(stopped, "publish", queue, notification).rc == 0
    wait_for(lambda: mirrors_synced(stopped, queue), 60, "the notification queue's mirrors")

    check(stopped, "systemctl stop rabbitmq-server")
    try:
        others = sorted(f"rabbit@{n}" for n in RABBITMQ if n != stopped)
        wait_for(lambda: running_nodes(survivor) == others, 60, "the cluster without the node")

        # RPC-style traffic goes on on the remaining nodes.
        rpc = f"drill-rpc-{uuid.uuid4().hex[:8]}"
        for node in RABBITMQ[1:]:
            assert amqp(node, "declare", rpc).rc == 0
            assert amqp(node, "publish", rpc, f"via-{node}").rc == 0
        got = {amqp(RABBITMQ[1], "get", rpc).stdout.strip() for _ in RABBITMQ[1:]}
        assert got == {f"via-{node}" for node in RABBITMQ[1:]}

        # The mirrored notification is still there.
        consumed = amqp(survivor, "get", queue)
        assert consumed.rc == 0, f"notification lost: rc={consumed.rc} {consumed.stderr}"
        assert consumed.stdout.strip() == notification
        check(survivor, f"rabbitmqctl delete_queue -p /{SERVICE} {rpc}")
    finally:
        check(stopped, "systemctl start rabbitmq-server")
    wait_for(lambda: running_nodes(survivor) == everyone, 120, "the node back in the cluster")

"""RabbitMQ: three running nodes, pause_minority, per-service vhosts, notifications mirrored."""

import json
import uuid

import pytest
from cp import RABBITMQ, address, check, put_client, run

from tests.infra import inventory

# The probe services converge.yml makes with rabbitmq_server's `vhost` entry point.
SERVICES = ("probe_a", "probe_b")


def password(service):
    return inventory.hostvars(RABBITMQ[0])[f"{service}_rabbitmq_password"]


def amqp(node, service, *args, vhost=None):
    path = put_client(node, "amqp_client.py")
    target = vhost or f"/{service}"
    return run(
        node,
        f"python3 {path} {address(node)} {service} '{password(service)}' {target} "
        + " ".join(args),
    )


@pytest.mark.parametrize("node", RABBITMQ)
def test_cluster_has_three_running_nodes(node):
    status = json.loads(check(node, "rabbitmqctl cluster_status --formatter json"))
    assert sorted(status["running_nodes"]) == sorted(f"rabbit@{n}" for n in RABBITMQ)


@pytest.mark.parametrize("node", RABBITMQ)
def test_partition_handling_is_pause_minority(node):
    out = check(node, "rabbitmqctl eval 'application:get_env(rabbit, cluster_partition_handling).'")
    assert out.strip() == "{ok,pause_minority}"


def test_guest_is_gone():
    users = json.loads(check(RABBITMQ[0], "rabbitmqctl list_users --formatter json"))
    names = {u["user"] for u in users}
    assert "guest" not in names
    assert set(SERVICES) <= names


@pytest.mark.parametrize("node", RABBITMQ)
def test_listens_on_the_management_address_only(node):
    listening = set(check(node, "ss -Htlnp | grep -E 'beam|epmd' | awk '{print $4}'").split())
    mine = address(node)
    assert listening == {f"{mine}:5672", f"{mine}:25672", f"{mine}:4369", "127.0.0.1:4369"}


@pytest.mark.parametrize("service", SERVICES)
def test_service_user_publishes_and_consumes_on_its_vhost(service):
    queue = f"strata-test-{uuid.uuid4().hex[:8]}"
    body = f"hello {service}"
    node = RABBITMQ[1]
    assert amqp(node, service, "declare", queue).rc == 0
    assert amqp(node, service, "publish", queue, f"'{body}'").rc == 0
    got = amqp(node, service, "get", queue)
    assert got.rc == 0, got.stderr
    assert got.stdout.strip() == body
    check(node, f"rabbitmqctl delete_queue -p /{service} {queue}")


def test_service_user_cannot_use_another_vhost():
    result = amqp(RABBITMQ[0], "probe_a", "declare", "intruder", vhost="/probe_b")
    assert result.rc != 0
    assert "ACCESS_REFUSED" in result.stderr or "access" in result.stderr.lower()


def test_notification_policy_applies_to_notification_queues_only():
    node = RABBITMQ[0]
    notifications = ["notifications.info", "versioned_notifications.error"]
    others = ["cinder-scheduler", "cinder-volume.cp1", "reply_0123456789abcdef", "info"]
    assert amqp(node, "probe_b", "declare", *notifications, *others).rc == 0
    out = check(node, "rabbitmqctl list_queues -p /probe_b name policy --formatter json")
    policy = {q["name"]: q["policy"] for q in json.loads(out)}
    for queue in notifications:
        assert policy[queue] == "notifications-mirrored", queue
    for queue in others:
        assert policy[queue] in ("", None), queue
    for queue in notifications + others:
        check(node, f"rabbitmqctl delete_queue -p /probe_b {queue}")

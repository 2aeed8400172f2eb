"""RabbitMQ service passwords never appear on a command line (ps, /proc/*/cmdline) while the
role converges, even when it has to create or update the users."""

import pytest
from cp import RABBITMQ, check, quote, run

from tests.infra import inventory
from tests.infra.playbook import ansible_playbook

# The probes converge.yml makes with rabbitmq_server's `vhost` entry point: one definitions
# file per user, on the first node (the cluster shares users).
SERVICES = ("probe_a", "probe_b")
DEFINITIONS = "/etc/rabbitmq/strata-definitions.d"
# Where earlier versions kept every service's user: removed by the role.
OLD_DEFINITIONS = "/etc/rabbitmq/strata-definitions.json"
WATCH = "/tmp/strata-argv-watch"


def passwords():
    hv = inventory.hostvars(RABBITMQ[0])
    return [hv[f"{s}_rabbitmq_password"] for s in SERVICES]


def start_watch(node):
    # The patterns are read from a file, so the watcher's own command line holds none of them.
    # Every 0.2 s: a rabbitmqctl call lives for a second or more (it boots an Erlang VM).
    check(node, f"rm -rf {WATCH} && mkdir -p {WATCH}")
    check(node, f"printf '%s\\n' {' '.join(quote(p) for p in passwords())} > {WATCH}/patterns")
    loop = (
        f"while [ ! -e {WATCH}/stop ]; do "
        f"grep -l -a -F -f {WATCH}/patterns /proc/[0-9]*/cmdline >> {WATCH}/hits 2>/dev/null; "
        f"echo . >> {WATCH}/rounds; sleep 0.2; done"
    )
    check(node, f"setsid nohup sh -c {quote(loop)} > /dev/null 2>&1 < /dev/null &")


def stop_watch(node):
    check(node, f"touch {WATCH}/stop && sleep 0.5")
    hits = run(node, f"sort -u {WATCH}/hits 2>/dev/null").stdout.split()
    rounds = len(run(node, f"cat {WATCH}/rounds").stdout.split())
    return hits, rounds


@pytest.fixture(scope="module")
def watched():
    # Without its definitions file the entry point must import the users again: the path that
    # used to run `rabbitmqctl add_user/change_password USER PASSWORD`.
    check(RABBITMQ[0], f"rm -rf {DEFINITIONS}")
    for node in RABBITMQ:
        start_watch(node)
    try:
        result = ansible_playbook("molecule/control-plane/tests/rabbitmq.yml")
    finally:
        seen = {node: stop_watch(node) for node in RABBITMQ}
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout, seen


def test_no_password_on_any_command_line(watched):
    _, seen = watched
    for node, (hits, rounds) in seen.items():
        assert rounds > 20, f"{node}: the watcher ran only {rounds} rounds"
        assert hits == [], f"{node}: a password was on the command line of {hits}"


def test_the_users_were_imported_again(watched):
    out, _ = watched
    tasks = {chunk.split("]", 1)[0]: chunk for chunk in out.split("TASK [")}
    for service in SERVICES:
        name = (
            "rabbitmq_server : Create or update the service user, all rights on its vhost only"
            f" - {service}"
        )
        assert name in tasks, out[-3000:]
        assert "changed: [" in tasks[name], tasks[name]
    users = check(RABBITMQ[0], "rabbitmqctl list_users --formatter json")
    assert all(f'"{s}"' in users for s in SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_the_definitions_file_holds_a_hash_only(watched, service):
    path = f"{DEFINITIONS}/{service}.json"
    assert check(RABBITMQ[0], f"stat -c '%a %U %G' {path}").strip() == "640 root rabbitmq"
    content = check(RABBITMQ[0], f"cat {path}")
    assert "rabbit_password_hashing_sha256" in content
    assert not any(p in content for p in passwords())


@pytest.mark.parametrize("node", RABBITMQ)
def test_no_single_definitions_file_is_left(watched, node):
    assert run(node, f"test -e {OLD_DEFINITIONS}").rc != 0

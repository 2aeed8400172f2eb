"""The Erlang node each rabbitmqctl call starts listens on the management address only (it
listened on every interface, port 35672, before rabbitmq-env.conf set CTL_ERL_ARGS)."""

import pytest
from cp import RABBITMQ, address, check, quote


@pytest.mark.parametrize("node", RABBITMQ)
def test_rabbitmqctl_listens_on_the_management_address_only(node):
    # A 10 s rabbitmqctl call, its node's listeners sampled every 0.5 s meanwhile.
    sample = (
        "rabbitmqctl -q eval 'timer:sleep(10000).' > /dev/null 2>&1 & "
        "for i in $(seq 1 30); do sleep 0.5; ss -Htlnp | grep beam.smp; done | "
        'grep -v "pid=$(systemctl show -p MainPID --value rabbitmq-server)\\b" | '
        "awk '{print $4}' | sort -u; wait"
    )
    listeners = set(check(node, f"bash -c {quote(sample)}").split())
    server = address(node)
    assert listeners, "no rabbitmqctl node was seen listening"
    assert all(entry.startswith(f"{server}:") for entry in listeners), listeners

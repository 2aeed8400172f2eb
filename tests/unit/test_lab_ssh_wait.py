"""`strata lab up` waits for ssh: a host whose container stopped while booting is started once
more; a host that still does not answer is reported with its container's state."""

import pytest

from strata.errors import StrataError
from strata.lab import lab, machine


class Host:
    def __init__(self, name, address):
        self.name, self.addresses = name, {"management": address}


class Spec:
    hosts = [Host("a", "10.9.0.2"), Host("b", "10.9.0.3")]


@pytest.fixture
def lab_machine(monkeypatch):
    world = {"states": {"a": "RUNNING", "b": "STOPPED"}, "answers": {"10.9.0.2"}, "starts": []}

    def start(name):
        world["starts"].append(name)
        world["states"][name] = "RUNNING"
        if world.get("boots_after_restart"):
            world["answers"].add({"a": "10.9.0.2", "b": "10.9.0.3"}[name])

    monkeypatch.setattr(machine, "container_state", lambda n: world["states"][n])
    monkeypatch.setattr(machine, "start_container", start)
    monkeypatch.setattr(
        lab, "ssh_ready", lambda address, timeout: None if address in world["answers"] else "no"
    )
    monkeypatch.setattr(lab, "log", lambda message: None)
    return world


def test_a_stopped_container_is_started_once_more_and_then_answers(lab_machine):
    lab_machine["boots_after_restart"] = True
    lab.wait_for_ssh(Spec, timeout=1)
    assert lab_machine["starts"] == ["b"]


def test_a_host_that_still_does_not_answer_is_reported_with_its_state(lab_machine):
    with pytest.raises(StrataError) as caught:
        lab.wait_for_ssh(Spec, timeout=1)
    assert lab_machine["starts"] == ["b"]
    assert str(caught.value) == (
        "hosts do not answer ssh after 1s: b (10.9.0.3, container RUNNING): no"
    )


def test_a_running_host_that_does_not_answer_is_not_restarted(lab_machine):
    lab_machine["states"]["b"] = "RUNNING"
    with pytest.raises(StrataError):
        lab.wait_for_ssh(Spec, timeout=1)
    assert lab_machine["starts"] == []

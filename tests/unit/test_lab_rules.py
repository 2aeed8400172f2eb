"""The lab's isolation rules (review Low 35): IPv4 and IPv6, and only the rules the lab itself
inserted are recorded and deleted. iptables is simulated by a table of rules per tool."""

import subprocess

import pytest

from strata.lab import lab, machine


class FakeTables:
    """iptables/ip6tables -C/-I/-D on a list of rules per tool."""

    def __init__(self, existing=()):
        self.rules = {"iptables": list(existing), "ip6tables": []}

    def __call__(self, tool, op, chain, *spec, check=True, **_):
        rule = [chain, *spec]
        table = self.rules[tool]
        found = rule in table
        if op == "-I":
            table.insert(0, rule)
        elif op == "-D" and found:
            table.remove(rule)
        code = 0 if op != "-C" or found else 1
        return subprocess.CompletedProcess([tool], code, "", "")


@pytest.fixture
def tables(monkeypatch):
    someone_elses = ["FORWARD", "-i", "br-mgmt", "!", "-o", "br-mgmt", "-j", "DROP"]
    fake = FakeTables([someone_elses])
    monkeypatch.setattr(machine, "run", fake)
    return fake


def test_rules_cover_ipv4_and_ipv6():
    tools = [rule[0] for rule in machine.isolation_rules("br-mgmt")]
    assert tools == ["iptables", "iptables", "ip6tables", "ip6tables"]


def test_a_rule_that_was_there_before_is_neither_recorded_nor_deleted(tables):
    state = {"rules": []}
    for rule in machine.isolation_rules("br-mgmt"):
        if machine.ensure_rule(rule) and rule not in state["rules"]:
            state["rules"].append(rule)
    # Three inserted; the IPv4 "-i" rule was someone else's.
    assert [r[0] for r in state["rules"]] == ["iptables", "ip6tables", "ip6tables"]
    assert len(tables.rules["iptables"]) == 2 and len(tables.rules["ip6tables"]) == 2
    for rule in state["rules"]:
        machine.delete_rule(rule)
    assert tables.rules == {
        "iptables": [["FORWARD", "-i", "br-mgmt", "!", "-o", "br-mgmt", "-j", "DROP"]],
        "ip6tables": [],
    }


def test_a_state_from_before_ipv6_rules_still_deletes_its_ipv4_rules(tables):
    old_style = ["FORWARD", "-o", "br-mgmt", "!", "-i", "br-mgmt", "-j", "DROP"]
    machine.ensure_rule(["iptables", *old_style])
    machine.delete_rule(old_style)
    assert old_style not in tables.rules["iptables"]


def test_ensure_networks_records_only_inserted_rules(tables, monkeypatch):
    monkeypatch.setattr(machine, "ensure_bridge", lambda bridge, gateway: False)
    monkeypatch.setattr(lab, "save_state", lambda state: None)

    class Net:
        name, bridge, gateway, cidr = "management", "br-mgmt", "10.9.0.1/24", "10.9.0.0/24"

    class Spec:
        networks = [Net]

    state = {"networks": {}, "bridges": [], "rules": []}
    lab.ensure_networks(Spec, state)
    assert len(state["rules"]) == 3
    lab.ensure_networks(Spec, state)  # a second `lab up`: nothing new
    assert len(state["rules"]) == 3

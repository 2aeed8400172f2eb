"""Reaching a scenario's hosts from its tests: the one copy the scenarios' helpers import."""

import os
from functools import cache

import testinfra

from tests.infra import inventory


@cache
def host(name):
    directory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={directory}")


def hostvars(name):
    return inventory.hostvars(name)


def run(name, command):
    return host(name).run(command)


def check(name, command):
    result = run(name, command)
    assert result.rc == 0, f"{name}: {command}: rc={result.rc} {result.stderr or result.stdout}"
    return result.stdout

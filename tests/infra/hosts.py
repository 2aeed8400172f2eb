"""Reaching a scenario's hosts from its tests: the one copy the scenarios' helpers import."""

import json
import os
import shlex
import time
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


def openstack(name, *args, ok=True):
    """The openstack client (with /root/openrc) on host `name`: parsed JSON (ok) or the
    command's result. A backend that is restarting can refuse a connection: tried 3 times."""
    command = ". /root/openrc && openstack " + " ".join(shlex.quote(str(a)) for a in args)
    if not ok:
        return run(name, command)
    for _ in range(3):
        result = run(name, command + " -f json")
        if result.rc == 0 or "Unable to establish connection" not in result.stderr:
            break
        time.sleep(3)
    assert result.rc == 0, f"{name}: {command}: rc={result.rc} {result.stderr or result.stdout}"
    return json.loads(result.stdout) if result.stdout.strip() else None

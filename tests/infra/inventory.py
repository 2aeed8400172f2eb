"""The scenario's inventory as testinfra tests see it (molecule's assembled inventory dir)."""

import os
from functools import cache

import testinfra.utils.ansible_runner


@cache
def runner():
    # molecule points MOLECULE_INVENTORY_FILE at its generated file; the directory around it also
    # holds the scenario's linked hosts and group_vars, so read the whole directory.
    return testinfra.utils.ansible_runner.AnsibleRunner(
        os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    )


def hosts(pattern="all"):
    return sorted(runner().get_hosts(pattern))


def hostvars(name):
    return runner().get_variables(name)

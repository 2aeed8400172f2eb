"""Shared pytest setup for the unit tests."""

import os

import ansible.module_utils

# Ansible ships the repository's module_utils/ inside the ansible.module_utils package when it
# runs a module; make the same import path work in tests
# (from ansible.module_utils.strata_swift_ring import ...).
MODULE_UTILS = os.path.join(os.path.dirname(__file__), "..", "..", "module_utils")
MODULE_UTILS = os.path.normpath(MODULE_UTILS)
if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)

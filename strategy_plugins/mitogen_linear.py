"""Mitogen's linear strategy, from the pinned `mitogen` package in the project's venv.

ansible.cfg names this directory in `strategy_plugins`; `strategy = mitogen_linear` there
selects it, and `ANSIBLE_STRATEGY=linear` runs any command with Ansible's own strategy instead
(docs/operations/speed.md).
"""

from ansible_mitogen.plugins.strategy.mitogen_linear import StrategyModule

__all__ = ["StrategyModule"]

"""Errors that Strata's commands report to the operator without a traceback."""


class StrataError(Exception):
    """A problem the operator can fix; its message says what and where."""


class ValidationError(StrataError):
    """One or more input problems; ``problems`` holds every message, in order."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class DeployBlocker(str):
    """A warning of `strata inventory validate` that stops every deploy run: a config other
    tools load (OpenStack-Ansible's own examples) but that cannot be deployed as it stands. The
    inventory script refuses it, so an ansible run stops before any host changes."""

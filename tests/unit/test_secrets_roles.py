"""strata/secrets.py declares which roles use each secret; strata-ansible refuses to start when
a secret of a role it will run is empty. The declaration must be what the roles really read:
a role that reads a secret it is not declared for runs with an empty one, and a role declared
for a secret it never reads blocks the run for nothing."""

import re
from pathlib import Path

import pytest

from strata import ROOT, secrets

ROLES_DIR = ROOT / "roles"
# Where a role reads variables: not meta/ (argument_specs name secrets in descriptions).
READING_DIRS = ("defaults", "vars", "tasks", "templates", "handlers")


def role_names(roles_dir: Path = ROLES_DIR):
    return sorted(p.name for p in roles_dir.iterdir() if (p / "tasks" / "main.yml").is_file())


def readers(name: str, roles_dir: Path = ROLES_DIR):
    """The roles whose files name the variable `name` outside comments."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    found = set()
    for role in role_names(roles_dir):
        for sub in READING_DIRS:
            for path in sorted((roles_dir / role / sub).rglob("*")):
                if not path.is_file():
                    continue
                lines = path.read_text(errors="replace").splitlines()
                if any(pattern.search(line) for line in lines if not line.lstrip().startswith("#")):
                    found.add(role)
    return found


def mismatch(secret, roles_dir: Path = ROLES_DIR):
    """What is wrong with `secret`'s declared roles, or None."""
    existing = set(role_names(roles_dir))
    declared = set(secret.roles)
    unknown = declared - existing - set(secrets.PLANNED_ROLES)
    actual = readers(secret.name, roles_dir)
    problems = []
    if unknown:
        problems.append(f"declared for {sorted(unknown)}, which are no roles")
    if declared & existing - actual:
        problems.append(f"declared for {sorted(declared & existing - actual)}, which never read it")
    if actual - declared:
        problems.append(f"read by {sorted(actual - declared)}, not declared")
    return f"{secret.name}: " + "; ".join(problems) if problems else None


@pytest.mark.parametrize("secret", secrets.SECRETS, ids=lambda s: s.name)
def test_declared_roles_are_the_roles_that_read_the_secret(secret):
    assert mismatch(secret) is None


def test_planned_roles_do_not_exist_yet():
    # Once a planned role is written, its name leaves PLANNED_ROLES and the check above covers it.
    assert set(secrets.PLANNED_ROLES).isdisjoint(role_names())


def test_the_check_sees_both_directions(tmp_path):
    for role, text in (
        ("demo_server", "demo_server_password: '{{ demo_secret }}'\n"),
        ("demo_client", "# demo_secret is read by demo_server only\n"),
        ("demo_other", "demo_other_password: '{{ demo_secret }}'\n"),
    ):
        (tmp_path / role / "tasks").mkdir(parents=True)
        (tmp_path / role / "tasks" / "main.yml").write_text("---\n")
        (tmp_path / role / "defaults").mkdir()
        (tmp_path / role / "defaults" / "main.yml").write_text(text)
    secret = secrets.Secret("demo_secret", "password", ("demo_server", "demo_client"), "demo")
    problem = mismatch(secret, tmp_path)
    assert "['demo_client'], which never read it" in problem
    assert "read by ['demo_other'], not declared" in problem
    typo = secrets.Secret("demo_secret", "password", ("demo_srv", "demo_server", "demo_other"), "")
    assert "['demo_srv'], which are no roles" in mismatch(typo, tmp_path)

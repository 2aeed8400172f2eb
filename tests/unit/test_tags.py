"""Tags: every phase of every role and every play carries the tags docs/tags.md lists, so
`strata-ansible setup-everything.yml -t config` (or `-t keystone`) runs what it says."""

from pathlib import Path

import pytest
import yaml

from strata import ROOT

ROLES = sorted(p.parent.parent for p in (ROOT / "roles").glob("*/tasks/main.yml"))
PLAYBOOKS = sorted((ROOT / "playbooks").glob("*.yml"))
# Task files whose phase writes the service's configuration: the cross-role `config` tag.
CONFIG_PHASES = {"configure.yml"}
# Phases that check the settings before any host changes: they run whatever the tags.
VALIDATION_PHASES = {"validate.yml"}


def tasks_of(role: Path):
    return yaml.safe_load((role / "tasks" / "main.yml").read_text()) or []


def imported_file(task):
    for key in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks"):
        if key in task:
            value = task[key]
            return value if isinstance(value, str) else value.get("file")
    return None


def tag_problems(role: Path):
    """What is wrong with the tags of the role's tasks/main.yml, one line per task."""
    name = role.name
    problems = []
    for task in tasks_of(role):
        title = task.get("name", "<unnamed>")
        tags = task.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        phase_tags = [t for t in tags if t.startswith(f"{name}-")]
        if name not in tags or len(phase_tags) != 1:
            problems.append(f"{title!r}: tags {tags}, expected {name} and one {name}-<phase>")
        target = imported_file(task)
        if target in CONFIG_PHASES and "config" not in tags:
            problems.append(f"{title!r} imports {target}: expected the tag config")
        if target in VALIDATION_PHASES and "always" not in tags:
            problems.append(f"{title!r} imports {target}: expected the tag always")
        if "ansible.builtin.assert" in task and "always" not in tags:
            problems.append(f"{title!r} validates settings: expected the tag always")
    return problems


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_task_of_main_yml_has_its_role_and_phase_tags(role):
    assert tag_problems(role) == [], f"roles/{role.name}/tasks/main.yml"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_the_configuration_phase_is_tagged_config(role):
    imports = [imported_file(t) for t in tasks_of(role)]
    templated = [t for t in tasks_of(role) if "ansible.builtin.template" in t]
    has_config = "configure.yml" in imports or templated
    tagged = [t for t in tasks_of(role) if "config" in (t.get("tags") or [])]
    if has_config:
        assert tagged, f"roles/{role.name}: a configuration phase but no task tagged config"


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.name)
def test_every_play_and_imported_playbook_is_tagged(playbook):
    entries = yaml.safe_load(playbook.read_text())
    untagged = [e.get("name", "<unnamed>") for e in entries if not e.get("tags")]
    assert untagged == [], f"playbooks/{playbook.name}: untagged {untagged}"


def test_the_checks_catch_an_untagged_phase(tmp_path):
    role = tmp_path / "demo_server"
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text(
        yaml.safe_dump(
            [
                {"name": "Install", "ansible.builtin.import_tasks": "install.yml"},
                {
                    "name": "Configure",
                    "ansible.builtin.import_tasks": "configure.yml",
                    "tags": ["demo_server", "demo_server-config"],
                },
                {"name": "Check", "ansible.builtin.assert": {"that": []}, "tags": ["demo_server"]},
            ]
        )
    )
    problems = tag_problems(role)
    assert len(problems) == 4, problems
    assert "'Install'" in problems[0]
    assert "expected the tag config" in problems[1]
    assert "'Check'" in problems[2] and "demo_server-<phase>" in problems[2]
    assert "expected the tag always" in problems[3]


def test_docs_list_every_phase_tag():
    listed = (ROOT / "docs" / "tags.md").read_text()
    for role in ROLES:
        for task in tasks_of(role):
            for tag in task.get("tags") or []:
                assert f"`{tag}`" in listed, f"docs/tags.md does not list {tag}"

"""`-t config` on the converged hosts (docs/tags.md): only the configuration phases run, and
they find nothing to change."""

import re

from cp import SCENARIO, ansible_playbook, recap

CONVERGE = str(SCENARIO / "converge.yml")
TASK_LINE = re.compile(r"^\s{6}(?P<name>.+?)\tTAGS: \[(?P<tags>[^\]]*)\]$", re.M)
# Tasks of phases other than config, one per role (and the probes' play): none may run.
NOT_CONFIG = (
    "haproxy_server : Install HAProxy",
    "galera_server : Install MariaDB, Galera",
    "rabbitmq_server : Install RabbitMQ",
    "galera_server : Publish the cluster through the load balancers",
    "rabbitmq_server : Remove the guest user",
    "memcached_server : Install memcached",
    "memcached_server : Run memcached",
    "keystone : Install keystone and the OpenStack client",
    "keystone : Create keystone's database and user",
    "keystone : Publish keystone through the load balancers",
    "Make the probes' databases",
    "Register the probe with keystone",
)
# Configuration tasks that must run, one per role.
CONFIG = (
    "common : List every host's management address in /etc/hosts",
    "haproxy_server : Write the main configuration",
    "galera_server : Find the nodes that run with an old configuration",
    "rabbitmq_server : Find the nodes that run with an old configuration",
    "memcached_server : Configure memcached",
    "keystone : Write keystone's configuration",
)


def test_only_config_tasks_are_selected():
    listed = ansible_playbook(CONVERGE, "-t", "config", "--list-tasks")
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-3000:]
    tasks = {m["name"].strip(): m["tags"].split(", ") for m in TASK_LINE.finditer(listed.stdout)}
    assert tasks, listed.stdout[-3000:]
    others = {name: tags for name, tags in tasks.items() if not {"config", "always"} & set(tags)}
    assert others == {}, "selected by -t config without the config tag"


def test_config_tag_runs_only_config_tasks_and_changes_nothing():
    result = ansible_playbook(CONVERGE, "-t", "config")
    out = result.stdout
    summary = recap(out)
    assert result.returncode == 0, out[-5000:] + result.stderr[-3000:]
    assert summary, out[-3000:]
    for name, counts in summary.items():
        assert counts["changed"] == 0, f"{name}: {counts}\n{out[-5000:]}"
        assert counts["failed"] == 0 and counts["unreachable"] == 0, f"{name}: {counts}"
    ran = re.findall(r"^TASK \[(.+?)\]", out, re.M)
    for task in NOT_CONFIG:
        assert not [t for t in ran if t.startswith(task)], f"{task} ran under -t config"
    for task in CONFIG:
        assert [t for t in ran if t.startswith(task)], f"{task} did not run under -t config"

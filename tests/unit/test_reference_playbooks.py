"""Every playbook lists its hosts against the reference config (etc/strata/reference-1000).

One `ansible-playbook --list-hosts` of all of playbooks/ through Strata's inventory: every play
parses (imports and roles resolved), targets the groups the reference fills, and the host
preparation covers every host. Its speed (`ansible-inventory --list` under 1 s on a larger
variant of the same layout) is bench/inventory_bench.py's.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from strata import config as strata_config
from strata import inventory

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "etc" / "strata" / "reference-1000"
VENV_BIN = Path(sys.executable).parent

# Plays the reference gives no host, and why. A play that gets hosts, or a new empty one, fails
# the test: keep this list true.
EMPTY_IN_REFERENCE = {
    "swift_all": "the reference deploys no swift",
    "ceph_mds": "no CephFS metadata servers: glance, cinder and nova use RBD",
}
# Groups that only env.d defines: absent from an inventory without such an env.d, so Ansible
# warns that the pattern matches nothing (harmless: the other groups of the pattern still match).
ENV_D_ONLY_GROUPS = {"ceph_mds", "cinder_backup"}

PLAYBOOK = re.compile(r"^playbook: (\S+)$")
PLAY = re.compile(r"^  play #\d+ \((.*)\): (.*?)\tTAGS: ")
HOSTS = re.compile(r"^    hosts \((\d+)\):$")
UNMATCHED = re.compile(r"Could not match supplied host pattern, ignoring: (\S+)")


def listed_plays(stdout):
    """[(playbook, pattern, play name, host count)] from `--list-hosts` output."""
    plays = []
    playbook = pattern = name = None
    for line in stdout.splitlines():
        if match := PLAYBOOK.match(line):
            playbook = Path(match.group(1)).name
        elif match := PLAY.match(line):
            pattern, name = match.groups()
        elif match := HOSTS.match(line):
            plays.append((playbook, pattern, name, int(match.group(1))))
    return plays


def test_every_playbook_lists_its_hosts_against_the_reference(tmp_path):
    config_dir = tmp_path / "reference-1000"
    ignore = shutil.ignore_patterns(f"{inventory.STATE_FILE}*", ".*")
    shutil.copytree(REFERENCE, config_dir, ignore=ignore)
    hosts_in_config = len(strata_config.load(config_dir)[0].hosts)
    playbooks = sorted((ROOT / "playbooks").glob("*.yml"))
    env = {
        **os.environ,
        "STRATA_CONFIG_DIR": str(config_dir),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "--list-hosts", *map(str, playbooks)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    plays = listed_plays(result.stdout)

    assert {p[0] for p in plays} == {p.name for p in playbooks}, result.stdout
    for playbook in ("setup-hosts.yml", "setup-everything.yml"):
        first = next(p for p in plays if p[0] == playbook)
        assert first[1:] == ("all", "Prepare the hosts", hosts_in_config), first
    empty = {pattern for _, pattern, _, count in plays if count == 0}
    assert empty == set(EMPTY_IN_REFERENCE), [p for p in plays if p[3] == 0]
    # Clustered services, each on its own nodes (the seed's placement table).
    counts = {pattern: count for _, pattern, _, count in plays}
    assert counts["galera_all"] == 3 and counts["rabbitmq_all"] == 3, counts
    assert counts["ceph_mon"] == 3 and counts["keystone_all"] == 5, counts
    unmatched = set(UNMATCHED.findall(result.stderr))
    assert unmatched <= ENV_D_ONLY_GROUPS, result.stderr
    other_warnings = [
        line for line in result.stderr.splitlines() if line.strip() and not UNMATCHED.search(line)
    ]
    assert not other_warnings, result.stderr

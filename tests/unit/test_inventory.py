"""strata.inventory: groups, host vars, address assignment, the state file, determinism and
stability, and the dynamic inventory script as Ansible runs it."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from strata import ROOT, config, inventory
from strata.errors import StrataError, ValidationError

EXAMPLES = Path(ROOT) / "etc" / "strata"
SCRIPT = Path(ROOT) / "inventory" / "strata_inventory.py"
VENV_BIN = Path(sys.executable).parent

HEADER = textwrap.dedent(
    """\
    cidr_networks:
      management: 10.0.0.0/24
      storage: 10.0.1.0/24
    used_ips:
      - 10.0.1.1
    global_overrides:
      internal_lb_vip_address: 10.0.0.9
      external_lb_vip_address: 10.0.0.10
    """
)


def computes(*numbers):
    lines = ["compute_hosts:"]
    lines += [f"  c{n}:\n    ip: 10.0.0.{100 + n}" for n in numbers]
    return "\n".join(lines) + "\n"


def write_config(directory, text):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / config.CONFIG_FILE).write_text(text)
    return directory


def copy_example(name, tmp_path):
    dest = tmp_path / name
    # Without state a run in place may have left next to the example.
    ignore = shutil.ignore_patterns(f"{inventory.STATE_FILE}*", ".*")
    shutil.copytree(EXAMPLES / name, dest, ignore=ignore)
    return dest


def storage_addresses(inv):
    hostvars = inv["_meta"]["hostvars"]
    return {name: hostvars[name].get("storage_address") for name in hostvars}


# --- the inventory's shape ---------------------------------------------------------------------


def test_aio_host_vars_follow_the_contract(tmp_path):
    _, inv, _ = inventory.generate(copy_example("aio", tmp_path))
    assert inv["_meta"]["hostvars"]["aio1"] == {
        "ansible_host": "172.29.236.100",
        "management_address": "172.29.236.100",
        "storage_address": "172.29.244.2",
        "replication_address": "172.29.248.2",
        "lab_loop_devices": 3,
        "ceph_osd_method": "raw",
        "ceph_osd_devices": "{{ (ansible_facts.ansible_local.strata_lab.loop_devices"
        " | default([]))[:2] }}",
        "swift_vars": {
            "drives": [
                {"name": "swift1", "zone": 1},
                {"name": "swift2", "zone": 2},
                {"name": "swift3", "zone": 3},
            ]
        },
        "cinder_backends": {
            "rbd": {
                "volume_driver": "cinder.volume.drivers.rbd.RBDDriver",
                "volume_backend_name": "rbd",
                "rbd_pool": "volumes",
                "rbd_user": "cinder",
                "rbd_ceph_conf": "/etc/ceph/ceph.conf",
                "rbd_secret_uuid": "{{ cinder_ceph_client_uuid }}",
            }
        },
    }


def test_all_group_vars_hold_networks_vips_and_global_overrides(tmp_path):
    cfg, inv, _ = inventory.generate(copy_example("small", tmp_path))
    all_vars = inv["all"]["vars"]
    assert all_vars["management_cidr"] == "172.29.236.0/22"
    assert all_vars["storage_cidr"] == "172.29.244.0/22"
    assert all_vars["replication_cidr"] == "172.29.248.0/22"
    assert all_vars["tunnel_cidr"] == "172.29.240.0/22"
    assert all_vars["internal_lb_vip_address"] == "172.29.236.9"
    assert all_vars["external_lb_vip_address"] == "203.0.113.10"
    assert all_vars["management_bridge"] == "br-mgmt"
    # The global_overrides as they are, but provider_networks: roles get network_bridges.
    assert all_vars["swift"] == cfg.global_overrides["swift"]
    assert "provider_networks" in cfg.global_overrides
    assert "provider_networks" not in all_vars
    assert all_vars["network_bridges"] == {
        "management": "br-mgmt",
        "storage": "br-storage",
        "replication": "br-repl",
    }
    assert "container_cidr" not in all_vars


PROVIDER_NETWORKS = """\
  management_bridge: br-host
  provider_networks:
    - network:
        container_bridge: br-vlan
        type: vlan
        group_binds: [neutron_linuxbridge_agent]
    - network:
        container_bridge: br-host
        ip_from_q: container
        group_binds: [hosts]
    - network:
        container_bridge: br-ceph
        ip_from_q: storage
        group_binds: [ceph-osd]
    - network:
        container_bridge: br-ceph-2
        ip_from_q: storage
        group_binds: [nova_compute]
"""


def test_network_bridges_come_from_provider_networks_by_ip_from_q(tmp_path):
    text = HEADER + PROVIDER_NETWORKS + computes(1)
    _, inv, _ = inventory.generate(write_config(tmp_path / "c", text))
    # OSA's `container` is management; the first provider network of a network names its bridge;
    # no replication network, no replication bridge.
    assert inv["all"]["vars"]["network_bridges"] == {"management": "br-host", "storage": "br-ceph"}


def test_network_bridges_default_to_management_bridge_and_the_default_bridges(tmp_path):
    text = HEADER.replace(
        "storage: 10.0.1.0/24", "storage: 10.0.1.0/24\n  replication: 10.0.2.0/24"
    )
    text += "  management_bridge: br-host\n" + computes(1)
    _, inv, _ = inventory.generate(write_config(tmp_path / "c", text))
    assert inv["all"]["vars"]["network_bridges"] == {
        "management": "br-host",
        "storage": "br-storage",
        "replication": "br-repl",
    }


def test_every_component_group_exists_even_empty(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1))
    _, inv, _ = inventory.generate(directory)
    for group in config.COMPONENT_GROUPS:
        assert "hosts" in inv[group], group
    assert inv["nova_compute"] == {"hosts": ["c1"]}
    assert inv["galera_all"] == {"hosts": []}
    assert inv["swift_all"] == {"children": ["swift_proxy", "swift_storage"]}
    assert inv["cinder_all"] == {"children": ["cinder_api", "cinder_scheduler", "cinder_volume"]}
    children = inv["all"]["children"]
    assert "nova_all" in children and "nova_compute" not in children
    assert "galera_all" in children


def test_small_example_groups_and_addresses(tmp_path):
    cfg, inv, _ = inventory.generate(copy_example("small", tmp_path))
    hostvars = inv["_meta"]["hostvars"]
    assert inv["swift_storage"]["hosts"] == ["swift1", "swift2", "swift3"]
    assert inv["ceph_osd"]["hosts"] == ["ceph-osd1", "ceph-osd2", "ceph-osd3"]
    assert inv["haproxy_all"]["hosts"] == ["infra1", "infra2", "infra3"]
    # used_ips reserves .1-.50: the first assigned address is .51, hosts in name order.
    assert hostvars["ceph-mon1"]["storage_address"] == "172.29.244.51"
    assert hostvars["ceph-osd1"]["replication_address"] == "172.29.248.51"
    assert "replication_address" not in hostvars["compute1"]
    assert hostvars["swift-proxy1"]["storage_address"] == "172.29.244.64"
    assert hostvars["infra1"]["storage_address"] == "172.29.244.61"  # glance uses storage
    # limit_container_types stripped, the backend kept on cinder-volume hosts only.
    assert hostvars["cinder1"]["cinder_backends"]["lvm"]["volume_group"] == "cinder-volumes"
    assert "limit_container_types" not in hostvars["cinder1"]["cinder_backends"]
    assert "cinder_backends" not in hostvars["infra1"]
    assert len({v["storage_address"] for v in hostvars.values()}) == len(cfg.hosts)


def test_replication_falls_back_to_storage_without_a_replication_network(tmp_path):
    text = HEADER + textwrap.dedent(
        """\
          swift:
            part_power: 8
            replicas: 1
            drives: [{name: sdb}]
        swift_hosts:
          sw1:
            ip: 10.0.0.31
        """
    )
    _, inv, _ = inventory.generate(write_config(tmp_path / "c", text))
    sw1 = inv["_meta"]["hostvars"]["sw1"]
    assert sw1["replication_address"] == sw1["storage_address"] == "10.0.1.2"
    assert "replication_cidr" not in inv["all"]["vars"]


# --- determinism and stability -----------------------------------------------------------------


def test_same_config_gives_byte_identical_output(tmp_path):
    first = copy_example("small", tmp_path / "a")
    second = copy_example("small", tmp_path / "b")
    out_first = inventory.to_json(inventory.generate(first)[1])
    out_second = inventory.to_json(inventory.generate(second)[1])
    assert out_first == out_second
    # Again with the state file in place.
    assert inventory.to_json(inventory.generate(first)[1]) == out_first
    assert (first / inventory.STATE_FILE).read_bytes() == (
        second / inventory.STATE_FILE
    ).read_bytes()


def test_adding_hosts_never_moves_another_hosts_address(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(2, 4, 6))
    before = storage_addresses(inventory.generate(directory)[1])
    assert before == {"c2": "10.0.1.2", "c4": "10.0.1.3", "c6": "10.0.1.4"}
    # c1 sorts first and c5 in the middle: they take the next free addresses.
    write_config(directory, HEADER + computes(1, 2, 4, 5, 6))
    after = storage_addresses(inventory.generate(directory)[1])
    assert after == {**before, "c1": "10.0.1.5", "c5": "10.0.1.6"}


def test_removing_a_host_keeps_its_address_until_remove_host(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1, 2, 3))
    before = storage_addresses(inventory.generate(directory)[1])
    write_config(directory, HEADER + computes(1, 3, 4))
    _, inv, warnings = inventory.generate(directory)
    after = storage_addresses(inv)
    assert after["c1"] == before["c1"] and after["c3"] == before["c3"]
    # c2's address stays reserved: c4 does not get it.
    assert after["c4"] == "10.0.1.5"
    assert warnings[-1] == (
        f"{directory / inventory.STATE_FILE}: hosts no longer in the config keep their addresses "
        "reserved until `strata inventory remove-host NAME`: c2"
    )
    record = inventory.remove_host(directory, "c2")
    assert record == {"management": "10.0.0.102", "storage": "10.0.1.3"}
    write_config(directory, HEADER + computes(1, 3, 4, 5))
    final = storage_addresses(inventory.generate(directory)[1])
    assert final == {**after, "c5": "10.0.1.3"}


def test_remove_host_refuses_a_host_still_in_the_config(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1))
    inventory.generate(directory)
    with pytest.raises(StrataError) as caught:
        inventory.remove_host(directory, "c1")
    assert str(caught.value) == (
        "c1: still in the config (compute_hosts); expected it removed from "
        "strata_user_config.yml and conf.d first"
    )
    with pytest.raises(StrataError) as caught:
        inventory.remove_host(directory, "c9")
    assert str(caught.value) == (
        f"{directory / inventory.STATE_FILE}: c9: no such host record; expected one of the "
        "removed hosts: none"
    )


def test_state_address_now_in_used_ips_moves_with_a_warning(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1, 2))
    inventory.generate(directory)
    write_config(directory, HEADER.replace("- 10.0.1.1", '- "10.0.1.1,10.0.1.2"') + computes(1, 2))
    _, inv, warnings = inventory.generate(directory)
    assert storage_addresses(inv) == {"c1": "10.0.1.4", "c2": "10.0.1.3"}
    # (and strata.nova_config's: these computes keep their disks locally, on no shared mount)
    assert [w for w in warnings if "global_overrides.nova" not in w] == [
        "c1: storage address 10.0.1.2 is now in used_ips or a VIP; assigning a new one"
    ]


def test_pool_exhausted_counts_addresses_held_in_the_state(tmp_path):
    small_net = HEADER.replace("storage: 10.0.1.0/24", "storage: 10.0.1.0/29")
    directory = write_config(tmp_path / "c", small_net + computes(1, 2, 3, 4, 5))
    inventory.generate(directory)  # .2-.6: the /29 is full
    write_config(directory, small_net + computes(1, 2, 3, 4, 6))
    with pytest.raises(ValidationError) as caught:
        inventory.generate(directory)
    assert caught.value.problems == [
        f"{directory / config.CONFIG_FILE}:3: cidr_networks.storage: pool exhausted: 1 hosts need "
        "a new storage address but 10.0.1.0/29 has 0 free (after used_ips, VIPs and the 5 "
        "addresses held in the state file); expected a larger network, fewer used_ips, or "
        "`strata inventory remove-host` for hosts that are gone"
    ]
    inventory.remove_host(directory, "c5")
    assert storage_addresses(inventory.generate(directory)[1])["c6"] == "10.0.1.6"


# --- the state file ----------------------------------------------------------------------------


def test_state_file_content(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1))
    inventory.generate(directory)
    assert json.loads((directory / inventory.STATE_FILE).read_text()) == {
        "version": 1,
        "hosts": {"c1": {"management": "10.0.0.101", "storage": "10.0.1.2"}},
    }


def test_state_is_written_only_when_it_changes_and_keeps_five_backups(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1))
    state = directory / inventory.STATE_FILE
    inventory.generate(directory)
    inode = state.stat().st_ino
    inventory.generate(directory)
    assert state.stat().st_ino == inode  # unchanged: not rewritten
    versions = [state.read_text()]
    for count in range(2, 9):
        write_config(directory, HEADER + computes(*range(1, count + 1)))
        inventory.generate(directory)
        versions.append(state.read_text())
    backups = sorted(p.name for p in directory.glob(f"{inventory.STATE_FILE}.*"))
    assert backups == [f"{inventory.STATE_FILE}.{n}" for n in range(1, 6)]
    for number in range(1, 6):
        backup = directory / f"{inventory.STATE_FILE}.{number}"
        assert backup.read_text() == versions[-1 - number]
    assert not list(directory.glob(f".{inventory.STATE_FILE}.*.tmp"))


def test_generate_without_write_leaves_no_state(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1))
    inventory.generate(directory, write=False)
    assert not (directory / inventory.STATE_FILE).exists()


def test_corrupt_state_is_reported_with_the_backup_to_restore(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + computes(1))
    (directory / inventory.STATE_FILE).write_text('{"version": 1, "hosts": {')
    with pytest.raises(StrataError) as caught:
        inventory.generate(directory)
    assert str(caught.value) == (
        f"{directory / inventory.STATE_FILE}:1: not valid JSON (Expecting property name enclosed "
        "in double quotes); expected Strata's inventory state. Restore it from "
        f"{inventory.STATE_FILE}.1 (the newest backup)"
    )


def test_unwritable_state_is_an_error_not_a_silent_loss(tmp_path):
    path = tmp_path / "missing" / inventory.STATE_FILE
    with pytest.raises(StrataError) as caught:
        inventory.write_state(path, {})
    assert str(caught.value) == (
        f"{path}: cannot write the inventory state: No such file or directory; expected a "
        "writable config directory (addresses must be kept to stay stable)"
    )


def test_write_state_failure_leaves_the_old_state(tmp_path, monkeypatch):
    path = tmp_path / inventory.STATE_FILE
    inventory.write_state(path, {"a": {"storage": "10.0.1.2"}})

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(inventory.os, "replace", failing_replace)
    with pytest.raises(StrataError, match="No space left on device"):
        inventory.write_state(path, {"b": {}})
    monkeypatch.undo()
    assert inventory.read_state(path) == {"a": {"storage": "10.0.1.2"}}
    assert not list(tmp_path.glob(".*.tmp"))


# --- as Ansible runs it ------------------------------------------------------------------------


def run_script(args, config_dir, python=None):
    env = {
        **os.environ,
        "STRATA_CONFIG_DIR": str(config_dir),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("STRATA_INVENTORY_REEXEC", None)
    argv = [python, str(SCRIPT), *args] if python else [str(SCRIPT), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


def test_script_list_and_host(tmp_path):
    directory = copy_example("aio", tmp_path)
    listed = run_script(["--list"], directory)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""  # Ansible shows any stderr as an error
    expected = inventory.generate(directory)[1]
    assert listed.stdout == inventory.to_json(expected) + "\n"
    host = run_script(["--host", "aio1"], directory)
    assert json.loads(host.stdout) == expected["_meta"]["hostvars"]["aio1"]


def test_script_reports_problems_and_fails(tmp_path):
    directory = write_config(tmp_path / "c", HEADER + "swfit_hosts:\n  s1:\n    ip: 10.0.0.5\n")
    result = run_script(["--list"], directory)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {directory / config.CONFIG_FILE}:9: swfit_hosts: unknown group; did you mean "
        "swift_hosts?\n"
    )


@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no system python3 here")
def test_script_runs_from_a_python_without_netaddr(tmp_path):
    # Ansible may start it with a Python outside the venv: it re-runs itself with the venv's.
    directory = copy_example("aio", tmp_path)
    result = run_script(["--list"], directory, python="/usr/bin/python3")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["_meta"]["hostvars"]["aio1"]["storage_address"]


def test_ansible_inventory_lists_the_aio(tmp_path):
    directory = copy_example("aio", tmp_path)
    env = {
        **os.environ,
        "STRATA_CONFIG_DIR": str(directory),
        "ANSIBLE_CONFIG": str(Path(ROOT) / "ansible.cfg"),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        [str(VENV_BIN / "ansible-inventory"), "--list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "ERROR" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    listed = json.loads(result.stdout)
    aio1 = listed["_meta"]["hostvars"]["aio1"]
    assert aio1["management_address"] == "172.29.236.100"
    assert aio1["storage_cidr"] == "172.29.244.0/22"
    assert aio1["internal_lb_vip_address"] == "172.29.236.9"
    assert listed["swift_storage"]["hosts"] == ["aio1"]

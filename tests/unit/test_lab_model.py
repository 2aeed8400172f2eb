"""The lab refuses bad input with an exact message before it changes anything."""

import re

import pytest

from strata import ROOT
from strata.lab import model, render

SRC = "lab.yml"


def inventory(hosts, cidrs=None):
    cidrs = cidrs or {
        "management_cidr": "172.29.236.0/22",
        "storage_cidr": "172.29.244.0/22",
        "replication_cidr": "172.29.248.0/22",
    }
    return {
        "_meta": {"hostvars": {name: {**cidrs, **hv} for name, hv in hosts.items()}},
        "all": {"children": ["ungrouped"]},
        "ungrouped": {"hosts": sorted(hosts)},
    }


def problems_of(hosts, cidrs=None, loop_budget=model.LOOP_MAX):
    spec, problems = model.spec_from_inventory(SRC, inventory(hosts, cidrs))
    return problems + model.validate(spec, loop_budget=loop_budget)


def test_sound_lab_has_no_problems():
    assert (
        problems_of(
            {
                "a1": {"management_address": "172.29.236.10", "storage_address": "172.29.244.10"},
                "a2": {"management_address": "172.29.236.11", "lab_loop_devices": 2},
            }
        )
        == []
    )


def test_duplicate_host_name_ignoring_case():
    # Ansible keeps both; as host names (and in /etc/hosts) they are the same name.
    spec, _ = model.spec_from_inventory(
        SRC, inventory({"a1": {"management_address": "172.29.236.10"}})
    )
    spec.hosts.append(model.Host("A1", {"management": "172.29.236.11"}))
    problems = model.validate(spec)
    assert f"{SRC}: host 'A1': not a valid host name" in problems[0]
    assert problems[1] == (
        f"{SRC}: host A1: duplicate host name (already used by a1; expected each host once)"
    )


def test_invalid_host_name():
    assert problems_of({"bad_name": {"management_address": "172.29.236.10"}}) == [
        f"{SRC}: host 'bad_name': not a valid host name (expected lowercase letters, digits and "
        "'-', at most 63 characters, used as container and host name)"
    ]


def test_duplicate_address():
    assert problems_of(
        {
            "a1": {"management_address": "172.29.236.10"},
            "a2": {"management_address": "172.29.236.10"},
        }
    ) == [
        f"{SRC}: host a2: management_address 172.29.236.10 is already used by host a1 "
        "(expected a unique address)"
    ]


def test_address_of_the_machine_itself():
    assert problems_of({"a1": {"management_address": "172.29.236.1"}}) == [
        f"{SRC}: host a1: management_address 172.29.236.1 is already used by the lab's own "
        "br-mgmt address (expected a unique address)"
    ]


def test_address_outside_its_network():
    assert problems_of(
        {"a1": {"management_address": "172.29.236.10", "storage_address": "10.0.0.5"}}
    ) == [
        f"{SRC}: host a1: storage_address 10.0.0.5 is outside storage_cidr 172.29.244.0/22 "
        "(expected a host address inside it)"
    ]


def test_network_and_broadcast_addresses_are_outside():
    problems = problems_of({"a1": {"management_address": "172.29.239.255"}})
    assert problems == [
        f"{SRC}: host a1: management_address 172.29.239.255 is outside management_cidr "
        "172.29.236.0/22 (expected a host address inside it)"
    ]


def test_overlapping_cidrs():
    cidrs = {
        "management_cidr": "172.29.236.0/22",
        "storage_cidr": "172.29.238.0/24",
    }
    assert problems_of({"a1": {"management_address": "172.29.236.10"}}, cidrs) == [
        f"{SRC}: management_cidr 172.29.236.0/22 overlaps storage_cidr 172.29.238.0/24 "
        "(expected separate networks, one per bridge)"
    ]


def test_bad_cidr():
    cidrs = {"management_cidr": "172.29.236.0/33"}
    problems = problems_of({"a1": {"management_address": "172.29.236.10"}}, cidrs)
    assert problems == [
        f"{SRC}: management_cidr is '172.29.236.0/33' (expected a network such as 172.29.236.0/22)"
    ]


def test_missing_management_address():
    assert problems_of({"a1": {"storage_address": "172.29.244.10"}}) == [
        f"{SRC}: host a1: management_address is not set (expected the host's address on the "
        "management network)"
    ]


def test_address_without_its_network():
    cidrs = {"management_cidr": "172.29.236.0/22"}
    hosts = {"a1": {"management_address": "172.29.236.10", "storage_address": "172.29.244.9"}}
    assert problems_of(hosts, cidrs) == [
        f"{SRC}: host a1: storage_address is 172.29.244.9 but storage_cidr is not set "
        "(expected the storage network's CIDR in group vars)"
    ]


def test_too_many_loop_devices():
    hosts = {
        "a1": {"management_address": "172.29.236.10", "lab_loop_devices": 30},
        "a2": {"management_address": "172.29.236.11", "lab_loop_devices": 20},
    }
    assert problems_of(hosts) == [
        f"{SRC}: 50 loop devices asked for (a1=30, a2=20) but the lab can hand out 48 "
        "(expected at most 48 in total, counting hosts already up)"
    ]


def test_loop_budget_counts_hosts_already_up():
    hosts = {"a1": {"management_address": "172.29.236.10", "lab_loop_devices": 3}}
    assert "but the lab can hand out 2" in problems_of(hosts, loop_budget=2)[0]


@pytest.mark.parametrize("value", [-1, "two", True])
def test_bad_loop_device_count(value):
    problems = problems_of(
        {"a1": {"management_address": "172.29.236.10", "lab_loop_devices": value}}
    )
    assert problems == [
        f"{SRC}: host a1: lab_loop_devices is {value!r} (expected a whole number of loop "
        "devices, 0 or more)"
    ]


def test_bad_loop_size():
    hosts = {"a1": {"management_address": "172.29.236.10", "lab_loop_size": "lots"}}
    assert problems_of(hosts) == [
        f"{SRC}: host a1: lab_loop_size is 'lots' (expected a size such as 512M or 20G)"
    ]


def test_every_problem_reported_at_once():
    hosts = {
        "a1": {"management_address": "172.29.236.10", "storage_address": "10.0.0.5"},
        "a2": {"management_address": "172.29.236.10"},
        "bad_name": {"management_address": "172.29.236.12"},
    }
    assert len(problems_of(hosts)) == 3


def test_hosts_that_would_exhaust_inotify_instances_are_refused():
    assert model.inotify_problems(new_hosts=3, in_use=100, limit=128) == []
    assert model.inotify_problems(new_hosts=0, in_use=200, limit=128) == []
    (problem,) = model.inotify_problems(new_hosts=4, in_use=100, limit=128)
    assert problem.startswith(
        "fs.inotify.max_user_instances is 128 and root holds 100 inotify instances: 4 more lab "
        "hosts need about 8 each (expected a limit of at least 132;"
    )
    assert "sysctl -w fs.inotify.max_user_instances=1024" in problem


def test_missing_programs_and_files_name_their_package():
    commands = {name for kind, name, _ in model.MACHINE_REQUIREMENTS if kind == "command"}
    files = {name for kind, name, _ in model.MACHINE_REQUIREMENTS if kind == "file"}
    problems = model.missing_requirements(
        lambda cmd: cmd if cmd in commands - {"debootstrap"} else None,
        lambda path: path in files - {"/usr/share/lxc/config/debian.common.conf"},
    )
    assert problems == [
        "/usr/share/lxc/config/debian.common.conf is missing: install the Debian package "
        "lxc-templates (apt-get install lxc-templates, or run scripts/bootstrap)",
        "debootstrap not found: install the Debian package debootstrap "
        "(apt-get install debootstrap, or run scripts/bootstrap)",
    ]
    assert model.missing_requirements(lambda cmd: cmd, lambda path: True) == []


def bootstrap_packages():
    text = (ROOT / "scripts" / "bootstrap").read_text()
    match = re.search(r"^DEB_PACKAGES=\(([^)]*)\)", text, re.M)
    return set(match[1].split())


def test_the_bootstrap_installs_every_package_the_lab_needs():
    needed = {package for _, _, package in model.MACHINE_REQUIREMENTS}
    # coreutils and mount are essential in Debian: always there, never installed by name.
    assert needed - {"coreutils", "mount"} <= bootstrap_packages()


def test_container_config_has_a_veth_per_network_and_the_loop_devices():
    spec, _ = model.spec_from_inventory(
        SRC,
        inventory(
            {"a1": {"management_address": "172.29.236.10", "replication_address": "172.29.248.10"}}
        ),
    )
    text = render.container_config(spec.hosts[0], spec.networks, "/base", "/var/lib/lxc", [100])
    assert "lxc.net.0.link = br-mgmt\n" in text and "lxc.net.0.name = eth0\n" in text
    assert "lxc.net.1.link = br-repl\n" in text and "lxc.net.1.name = eth2\n" in text
    assert "br-storage" not in text
    assert "lxc.mount.entry = /dev/loop100 dev/loop100 none bind,create=file 0 0\n" in text
    assert "lxc.cgroup.devices.allow = b 7:100 rwm\n" in text
    assert "lxc.rootfs.path = overlay:/base:/var/lib/lxc/a1/delta0\n" in text


def test_container_files_configure_plain_interfaces_and_the_proxy():
    spec, _ = model.spec_from_inventory(
        SRC,
        inventory(
            {
                "a1": {"management_address": "172.29.236.10", "storage_address": "172.29.244.10"},
                "a2": {"management_address": "172.29.236.11"},
            }
        ),
    )
    files = render.container_files(
        spec.hosts[0], spec, "172.29.236.1", "ssh-ed25519 AAAA k", [], "0123abcd" * 4
    )
    assert "Address=172.29.236.10/22" in files["etc/systemd/network/10-lab-eth0.network"][0]
    assert "Address=172.29.244.10/22" in files["etc/systemd/network/10-lab-eth1.network"][0]
    assert files["etc/apt/apt.conf.d/01strata-proxy"][0] == (
        'Acquire::http::Proxy "http://172.29.236.1:3142";\n'
    )
    assert "172.29.236.11\ta2" in files["etc/hosts"][0]
    assert files["root/.ssh/authorized_keys"] == ("ssh-ed25519 AAAA k\n", 0o600)
    assert files["etc/machine-id"] == ("0123abcd" * 4 + "\n", 0o444)


def test_mac_addresses_are_stable_and_distinct():
    assert render.mac_address("a1", "management") == render.mac_address("a1", "management")
    assert render.mac_address("a1", "management") != render.mac_address("a1", "storage")


def test_up_refuses_bad_input_before_any_change(tmp_path, monkeypatch):
    from strata.errors import ValidationError
    from strata.lab import lab

    bad = tmp_path / "lab.yml"
    bad.write_text(
        "all:\n"
        "  vars: {management_cidr: 172.29.236.0/22}\n"
        "  hosts:\n"
        "    a1: {management_address: 172.29.236.10}\n"
        "    a2: {management_address: 172.29.236.10}\n"
    )
    state_dir = tmp_path / "state"
    monkeypatch.setattr(lab, "STATE_DIR", state_dir)
    monkeypatch.setattr(lab, "CACHE_DIR", tmp_path / "cache")
    with pytest.raises(ValidationError) as error:
        lab.up(bad)
    assert f"{bad}: host a2: management_address 172.29.236.10 is already used by host a1" in str(
        error.value
    )
    assert not (state_dir / "state.json").exists()
    assert not (tmp_path / "cache").exists()


def test_a_bridge_or_container_the_lab_did_not_make_is_refused():
    spec, _ = model.spec_from_inventory(
        SRC, inventory({"a1": {"management_address": "172.29.236.10"}, "a2": {}})
    )
    state = {"bridges": [], "hosts": {"a2": {}}}
    problems = model.foreign_resources(
        spec, state, lambda bridge: bridge == "br-mgmt", lambda name: True
    )
    assert len(problems) == 2
    assert problems[0].startswith(f"{SRC}: bridge br-mgmt (management network) already exists")
    assert "the lab never uses or removes a bridge it did not make" in problems[0]
    assert problems[1].startswith(
        f"{SRC}: host a1: an LXC container of that name already exists and is not a lab host"
    )
    # The lab's own bridge and hosts, recorded in its state, are not foreign.
    state = {"bridges": ["br-mgmt", "br-storage", "br-repl"], "hosts": {"a1": {}, "a2": {}}}
    assert model.foreign_resources(spec, state, lambda b: True, lambda n: True) == []

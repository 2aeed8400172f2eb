"""bench/scale_bench.py's pure parts: its lab inventory, the recap it reads, its growth figures."""

import importlib.util
from pathlib import Path

import netaddr
import pytest
import yaml

from strata.lab import model

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale_bench.py"
spec = importlib.util.spec_from_file_location("scale_bench", BENCH)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def as_listed(text):
    """The inventory as `ansible-inventory --list` shows it (what the lab reads)."""
    data = yaml.safe_load(text)["all"]
    hostvars = {name: {**data["vars"], **hv} for name, hv in data["hosts"].items()}
    return {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["ungrouped"]},
        "ungrouped": {"hosts": sorted(hostvars)},
    }


def test_the_inventory_is_a_sound_lab_on_the_benchmarks_own_addresses():
    listed = as_listed(bench.inventory_text(bench.MAX_HOSTS))
    lab_spec, problems = model.spec_from_inventory("scale.yml", listed)
    assert problems + model.validate(lab_spec) == []
    hostvars = listed["_meta"]["hostvars"]
    assert sorted(hostvars) == [f"scale-{n:02d}" for n in range(1, 41)]
    # Only 172.29.238.1-40, 172.29.246.1-40 and 172.29.250.1-40: nobody else's.
    ranges = {
        "management_address": netaddr.IPRange("172.29.238.1", "172.29.238.40"),
        "storage_address": netaddr.IPRange("172.29.246.1", "172.29.246.40"),
        "replication_address": netaddr.IPRange("172.29.250.1", "172.29.250.40"),
    }
    for name, host in hostvars.items():
        for key, allowed in ranges.items():
            assert netaddr.IPAddress(host[key]) in allowed, (name, key, host[key])
        assert host["ansible_host"] == host["management_address"]
    assert hostvars["scale-01"]["ansible_ssh_private_key_file"].startswith("/var/lib/strata/lab")


RECAP = """\
TASK [host_networking : Set machine-wide kernel sysctls] ***********************
ok: [scale-01] => (item=vm.swappiness=10)

PLAY RECAP *********************************************************************
scale-01                   : ok=14   changed=0    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0
scale-02                   : ok=13   changed=1    unreachable=0    failed=1    skipped=2    rescued=0    ignored=0

"""  # noqa: E501 (ansible-playbook's own lines)


def test_the_recap_gives_each_hosts_counts_and_the_host_tasks():
    recap = bench.parse_recap(RECAP)
    assert recap["scale-01"] == {
        "ok": 14,
        "changed": 0,
        "unreachable": 0,
        "failed": 0,
        "skipped": 2,
        "rescued": 0,
        "ignored": 0,
    }
    assert recap["scale-02"]["changed"] == 1
    # ok counts the changed results already; skipped and failed ones are tasks run too.
    assert bench.host_tasks(recap) == (14 + 2) + (13 + 1 + 2)
    assert bench.parse_recap("PLAY [x]\nfatal: no recap\n") == {}


def row(hosts, host_tasks, cpu, wall):
    return {"hosts": hosts, "host_tasks": host_tasks, "cpu": cpu, "wall": wall}


def test_growth_is_per_host_task_and_a_fixed_part():
    rows = {10: row(10, 160, 4.0 + 0.16 * 10, 30.0), 40: row(40, 640, 4.0 + 0.64 * 10, 75.0)}
    figures = bench.growth(rows, 10, 40)
    # 10 ms per host-task on top of 4 s: linear, so the cost per host-task even falls.
    assert figures["marginal"] == pytest.approx(0.010)
    assert figures["fixed"] == pytest.approx(4.0)
    assert figures["per_host_task_ratio"] == pytest.approx((10.4 / 640) / (5.6 / 160))
    assert figures["wall_ratio"] == pytest.approx(2.5)


def test_the_best_of_samples_keeps_the_worst_counts():
    first = {**row(10, 160, 6.0, 30.0), "hosts_cpu": 20.0, "changed": 0, "failed": 0, "load": 1.0}
    second = {**row(10, 160, 5.5, 33.0), "hosts_cpu": None, "changed": 1, "failed": 0, "load": 3.0}
    best = bench.best([first, second])
    assert (best["cpu"], best["wall"], best["hosts_cpu"]) == (5.5, 30.0, 20.0)
    assert (best["changed"], best["load"]) == (1, 3.0)


def test_with_fewer_containers_each_host_is_another_name_of_one():
    hosts = yaml.safe_load(bench.inventory_text(40, 5))["all"]["hosts"]
    assert len(hosts) == 40
    # scale-06 runs on scale-01's container, scale-40 on scale-05's: same addresses.
    assert hosts["scale-06"] == hosts["scale-01"]
    assert hosts["scale-40"]["management_address"] == "172.29.238.5"
    # The lab itself only sees the containers, each on its own address.
    listed = as_listed(bench.inventory_text(5))
    lab_spec, problems = model.spec_from_inventory("lab.yml", listed)
    assert problems + model.validate(lab_spec) == []
    assert sorted(listed["_meta"]["hostvars"]) == [f"scale-0{n}" for n in range(1, 6)]

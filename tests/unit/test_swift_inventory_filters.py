"""The swift roles' filters: rings and ring devices from the inventory's swift shapes."""

import importlib.util
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "roles/swift_common/filter_plugins/strata_swift.py"
spec = importlib.util.spec_from_file_location("strata_swift_filters", PLUGIN)
f = importlib.util.module_from_spec(spec)
spec.loader.exec_module(f)

PORTS = {
    "account": {"port": 6202, "replication_port": 6212},
    "container": {"port": 6201, "replication_port": 6211},
    "object": {"port": 6200, "replication_port": 6210},
}
SWIFT = {
    "part_power": 8,
    "replicas": 3,
    "min_part_hours": 1,
    "drives": [{"name": "sdc"}, {"name": "sdd"}],
    "storage_policies": [
        {"policy": {"name": "default", "index": 0, "default": True}},
        {"policy": {"name": "gold", "index": 1, "replicas": 2}},
    ],
}


def host(n, zone=None, **extra):
    hv = {
        "management_address": f"172.29.236.{n}",
        "storage_address": f"172.29.244.{n}",
        "replication_address": f"172.29.248.{n}",
    }
    if zone is not None:
        hv["swift_vars"] = {"zone": zone}
    hv.update(extra)
    return hv


def test_rings_one_object_ring_per_policy_with_overrides():
    rings = f.swift_rings(SWIFT)
    assert [r["name"] for r in rings] == ["account", "container", "object", "object-1"]
    assert {r["name"]: r["replicas"] for r in rings} == {
        "account": 3,
        "container": 3,
        "object": 3,
        "object-1": 2,
    }
    assert all(r["part_power"] == 8 and r["min_part_hours"] == 1 for r in rings)
    assert rings[3]["policy"] == 1 and rings[0]["policy"] is None


def test_rings_defaults_and_repl_number_and_per_ring_settings():
    rings = f.swift_rings({"part_power": 10, "repl_number": 2, "account": {"replicas": 3}})
    assert [(r["name"], r["replicas"], r["min_part_hours"]) for r in rings] == [
        ("account", 3, 1),
        ("container", 2, 1),
        ("object", 2, 1),
    ]


def test_host_drives_resolve_drive_then_host_then_global():
    swift = {"drives": [{"name": "sdc"}], "region": 2, "weight": 50}
    swift_vars = {
        "zone": 3,
        "drives": [{"name": "sdb", "zone": 4, "weight": 200, "format": True}, {"name": "sdc"}],
    }
    drives = f.swift_host_drives(swift, swift_vars)
    assert drives == [
        {"name": "sdb", "region": 2, "zone": 4, "weight": 200.0, "format": True, "groups": None},
        {"name": "sdc", "region": 2, "zone": 3, "weight": 50.0, "format": False, "groups": None},
    ]
    # Without its own drives a host uses the global ones.
    assert [d["name"] for d in f.swift_host_drives(swift, {"zone": 1})] == ["sdc"]


def test_ring_devices_storage_ip_replication_ip_and_ports():
    hostvars = {"s1": host(11, 1), "s2": host(12, 2)}
    ring = f.swift_rings(SWIFT)[2]  # object
    devices = f.swift_ring_devices(ring, SWIFT, ["s1", "s2"], hostvars, PORTS)
    assert len(devices) == 4
    assert devices[0] == {
        "region": 1,
        "zone": 1,
        "ip": "172.29.244.11",
        "port": 6200,
        "replication_ip": "172.29.248.11",
        "replication_port": 6210,
        "device": "sdc",
        "weight": 100.0,
        "meta": "s1",
    }
    account = f.swift_ring_devices(f.swift_rings(SWIFT)[0], SWIFT, ["s1"], hostvars, PORTS)
    assert {(d["port"], d["replication_port"]) for d in account} == {(6202, 6212)}


def test_ring_devices_fall_back_to_storage_then_management_address():
    hostvars = {"s1": {"management_address": "10.0.0.1", "swift_vars": {"zone": 1}}}
    ring = f.swift_rings(SWIFT)[0]
    devices = f.swift_ring_devices(ring, SWIFT, ["s1"], hostvars, PORTS)
    assert {(d["ip"], d["replication_ip"]) for d in devices} == {("10.0.0.1", "10.0.0.1")}


def test_drive_groups_choose_rings():
    swift_vars = {
        "zone": 1,
        "drives": [
            {"name": "ssd0", "groups": ["account", "container"]},
            {"name": "sdc", "groups": ["default"]},
            {"name": "sdd", "groups": ["gold"]},
        ],
    }
    hostvars = {"s1": host(11, swift_vars=swift_vars)}
    by_ring = {
        ring["name"]: [
            d["device"] for d in f.swift_ring_devices(ring, SWIFT, ["s1"], hostvars, PORTS)
        ]
        for ring in f.swift_rings(SWIFT)
    }
    assert by_ring == {
        "account": ["ssd0"],
        "container": ["ssd0"],
        "object": ["sdc"],
        "object-1": ["sdd"],
    }


def test_problems_name_the_host_and_what_is_expected():
    hostvars = {
        "s1": host(11, 1),
        "s2": host(12),  # no zone: zone 0 (strata.swift_config's rule, as strata.config's)
        "s3": host(13, 3, swift_vars={"zone": 3, "drives": [{"name": "/dev/sdb"}]}),
        "s4": host(14, swift_vars={"zone": "one", "drives": [{"name": "..", "weight": -5}]}),
    }
    problems = f.swift_problems({**SWIFT}, ["s1", "s2", "s3", "s4"], hostvars)
    assert problems == [
        "s3: swift_vars.drives[0].name: '/dev/sdb' is not a drive name; expected letters, "
        "digits, '_' and '-' (the device's name under /dev and the mount point's, e.g. sdc, not "
        "/dev/sdc)",
        "s4: swift_vars.zone: 'one' is not valid; expected an integer >= 0",
        "s4: swift_vars.drives[0].name: '..' is not a drive name; expected letters, digits, '_' "
        "and '-' (the device's name under /dev and the mount point's, e.g. sdc, not /dev/sdc)",
        "s4: swift_vars.drives[0].weight: -5 is not valid; expected a number > 0",
    ]
    assert [d["zone"] for d in f.swift_host_drives(SWIFT, hostvars["s2"].get("swift_vars"))] == [
        0,
        0,
    ]
    assert f.swift_problems({"part_power": 8}, ["s1"], {"s1": host(11, 1)}) == [
        "s1: no drives; expected swift.drives or swift_vars.drives (e.g. [{name: sdc}])"
    ]
    assert f.swift_problems({}, [], {})[0].startswith("swift.part_power is not set")


@pytest.mark.parametrize("swift", [SWIFT])
def test_zero_problems_for_a_sound_inventory(swift):
    hostvars = {f"s{z}": host(10 + z, z) for z in (1, 2, 3)}
    assert f.swift_problems(swift, sorted(hostvars), hostvars) == []


def _stats(**sums):
    return [
        {
            "item": {"name": name},
            "stat": {"exists": s is not None, "checksum": s} if s else {"exists": False},
        }
        for name, s in sums.items()
    ]


def test_replaced_builders_are_the_backups_that_differ():
    backup = _stats(account="a1", container="c1", object=None)
    ring_host = _stats(account="a1", container="c2", object="o1")
    # object: no backup yet; account: unchanged; container: the backup is about to be replaced.
    assert f.swift_replaced_builders(backup, ring_host) == ["container"]
    # A ring host without the builder never counts (the run refuses before that).
    assert f.swift_replaced_builders(_stats(object="o1"), _stats(object=None)) == []

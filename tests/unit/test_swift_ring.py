"""swift_ring logic against swift's real RingBuilder (no mocks: small part powers keep it fast)."""

import builtins
import copy
import json
import os
import subprocess
import sys

import pytest
from ansible.module_utils import strata_swift_ring as sr
from swift.common.ring import RingBuilder, RingData

PART_POWER = 8  # 256 partitions: a rebalance takes milliseconds


def devices(hosts, drives=2, zones=None, first=1, weight=100.0, port=6200):
    """hosts x drives devices; host h is 10.0.0.h in zone ((h - 1) % zones) + 1."""
    zones = zones or hosts
    return [
        {
            "region": 1,
            "zone": (h - 1) % zones + 1,
            "ip": f"10.0.0.{h}",
            "port": port,
            "device": f"sd{chr(ord('b') + d)}",
            "weight": weight,
        }
        for h in range(first, first + hosts)
        for d in range(drives)
    ]


def params(tmp_path, devs, **extra):
    base = {
        "ring": "object",
        "builder_dir": str(tmp_path),
        "part_power": PART_POWER,
        "replicas": 3,
        "min_part_hours": 0,
        "devices": devs,
    }
    base.update(extra)
    return base


def ring_assignments(path):
    """replica -> partition -> device id of a ring file, as swift's own readers see it."""
    return [list(row) for row in RingData.load(path)._replica2part2dev_id]


def assignments_changed(before, after):
    return sum(
        1
        for old_row, new_row in zip(before, after, strict=True)
        for old, new in zip(old_row, new_row, strict=True)
        if old != new
    )


def errors_of(p):
    with pytest.raises(sr.RingError) as caught:
        sr.check_inputs(p)
    return caught.value.errors


def snapshot(directory):
    """Every file under directory with its bytes and mtime."""
    found = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                found[path] = (handle.read(), os.stat(path).st_mtime_ns)
    return found


def without_state(files):
    """A snapshot without the module's state file (a cache the module may rewrite)."""
    return {path: data for path, data in files.items() if not path.endswith(".strata.json")}


@pytest.fixture
def block_swift(monkeypatch):
    """Call the returned function to make `import swift...` fail, as on a host without swift."""
    real_import = builtins.__import__

    def blocked(name, *args, **kwargs):
        if name == "swift" or name.startswith("swift."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    return lambda: monkeypatch.setattr(builtins, "__import__", blocked)


# --- input validation -------------------------------------------------------------------------


def test_inputs_are_normalized_with_defaults(tmp_path):
    devs = [
        {"zone": "2", "ip": "fd00::0001", "port": "6200", "device": "sdb", "weight": "4000"},
        {"zone": 1, "ip": "10.0.0.2", "port": 6200, "device": "sdb", "weight": 4000},
        {"zone": 3, "ip": "10.0.0.3", "port": 6200, "device": "sdb", "weight": 1, "meta": "r3"},
    ]
    devs[1].update(replication_ip="10.1.0.2", replication_port=6300, region=2)
    settings, wanted = sr.check_inputs(params(tmp_path, devs, replicas=2.5))
    assert settings.replicas == 2.5
    assert settings.builder_path == str(tmp_path / "object.builder")
    assert wanted[0] == {
        "region": 1,
        "zone": 2,
        "ip": "fd00::1",
        "port": 6200,
        "replication_ip": "fd00::1",
        "replication_port": 6200,
        "device": "sdb",
        "weight": 4000.0,
        "meta": "",
    }
    assert wanted[1]["replication_ip"] == "10.1.0.2"
    assert wanted[1]["replication_port"] == 6300
    assert wanted[1]["region"] == 2
    assert wanted[2]["meta"] == "r3"


def test_duplicate_device_names_both_entries(tmp_path):
    devs = devices(3)
    devs.append(dict(devs[1], weight=50))
    errors = errors_of(params(tmp_path, devs))
    assert errors == [
        "swift_ring: devices[6] and devices[1] are both 10.0.0.1:6200/sdc; "
        "each (ip, port, device) may appear once"
    ]


def test_duplicate_device_spelled_differently_is_still_a_duplicate(tmp_path):
    devs = devices(3)
    devs[0]["ip"] = "fd00::1"
    devs.append(dict(devs[0], ip="fd00:0:0::0001"))
    assert "are both [fd00::1]:6200/sdb" in errors_of(params(tmp_path, devs))[0]


def test_zero_total_weight(tmp_path):
    errors = errors_of(params(tmp_path, devices(3, weight=0)))
    assert "swift_ring: devices: the total weight is 0; at least one device needs a weight > 0" in (
        errors
    )


@pytest.mark.parametrize("part_power", [0, 33, "sixteen", None, True])
def test_part_power_out_of_range(tmp_path, part_power):
    errors = errors_of(params(tmp_path, devices(3), part_power=part_power))
    assert errors == [
        f"swift_ring: part_power: {part_power!r} is out of range; expected an integer 1-32 "
        "(2**part_power partitions)"
    ]


def test_fewer_devices_than_replicas(tmp_path):
    devs = devices(2, drives=1) + [dict(devices(1, first=3, drives=1)[0], weight=0)]
    errors = errors_of(params(tmp_path, devs))
    assert errors == [
        "swift_ring: devices: 2 device(s) with a weight > 0 cannot hold 3 replicas; "
        "expected at least 3"
    ]


@pytest.mark.parametrize("ring", ["objects", "object-0", "object-", "Object", "", None, "proxy"])
def test_unknown_ring_name(tmp_path, ring):
    errors = errors_of(params(tmp_path, devices(3), ring=ring))
    assert errors == [
        f"swift_ring: ring: {ring!r} is not a swift ring name; expected account, container, "
        "object or object-N (N >= 1, the storage policy index)"
    ]


@pytest.mark.parametrize("ring", ["account", "container", "object", "object-1", "object-12"])
def test_known_ring_names(tmp_path, ring):
    settings, _ = sr.check_inputs(params(tmp_path, devices(3), ring=ring))
    assert settings.ring_path == str(tmp_path / f"{ring}.ring.gz")


def test_every_error_at_once_with_key_paths(tmp_path):
    devs = devices(3)
    devs[0]["port"] = "http"
    devs[1]["wieght"] = 3
    devs[2]["device"] = "/dev/sdb"
    del devs[3]["zone"]
    devs[4] = "10.0.0.3:6200/sdb"
    devs[5].update(replication_port=70000, replication_ip="10.1.0.3 10.1.0.4")
    errors = errors_of(params(tmp_path, devs, min_part_hours=-1, replicas=0.5))
    assert errors == [
        "swift_ring: replicas: 0.5 is not a number >= 1",
        "swift_ring: min_part_hours: -1 is out of range; expected an integer 0-255",
        "swift_ring: devices[0].port: 'http' is not a TCP port (an integer 1-65535)",
        "swift_ring: devices[1]: unknown key(s) wieght; known: region, zone, ip, port, "
        "replication_ip, replication_port, device, weight, meta",
        "swift_ring: devices[2].device: '/dev/sdb' is not a device name (like sdb, without /dev/)",
        "swift_ring: devices[3].zone: missing; every device needs zone, ip, port, device, weight",
        "swift_ring: devices[4]: '10.0.0.3:6200/sdb' is not a mapping; expected a device with "
        "zone, ip, port, device and weight",
        "swift_ring: devices[5].replication_port: 70000 is not a TCP port (an integer 1-65535)",
        "swift_ring: devices[5].replication_ip: '10.1.0.3 10.1.0.4' is not an IP address or host "
        "name",
    ]


def test_builder_dir_that_is_a_file(tmp_path):
    (tmp_path / "swift").write_text("")
    assert errors_of(params(tmp_path / "swift", devices(3))) == [
        f"swift_ring: builder_dir: '{tmp_path}/swift' exists and is not a directory"
    ]


def test_empty_device_list(tmp_path):
    assert errors_of(params(tmp_path, [])) == [
        "swift_ring: devices: the list is empty; a ring needs devices"
    ]


# --- plan (pure) --------------------------------------------------------------------------------


def test_plan_lists_each_kind_of_change():
    current = [
        dict(dev, id=i, replication_ip=dev["ip"], replication_port=6200, meta="")
        for i, dev in enumerate(devices(3, drives=1))
    ]
    current.insert(1, None)  # a hole left by a removed device
    for i, dev in enumerate(current):
        if dev:
            dev["id"] = i
    _, wanted = sr.check_inputs(params("/x", devices(3, drives=1)))
    wanted[0]["weight"] = 50.0
    wanted[1]["zone"] = 9
    wanted[2]["meta"] = "rack 3"
    del wanted[1:2]  # 10.0.0.2 goes away...
    wanted.append(dict(wanted[0], ip="10.0.0.9"))  # ...and 10.0.0.9 comes
    wanted[1]["replication_ip"] = "10.1.0.3"

    plan = sr.plan_devices(current, wanted)

    assert [d["ip"] for d in plan.added] == ["10.0.0.9"]
    assert plan.removed == [
        {"id": 2, "name": "10.0.0.2:6200/sdb", "region": 1, "zone": 2, "weight": 100.0}
    ]
    assert plan.reweighted == [{"id": 0, "name": "10.0.0.1:6200/sdb", "old": 100.0, "new": 50.0}]
    assert plan.rezoned == []
    assert plan.meta_changed == [
        {
            "id": 3,
            "name": "10.0.0.3:6200/sdb",
            "changes": {"replication_ip": ["10.0.0.3", "10.1.0.3"], "meta": ["", "rack 3"]},
        }
    ]
    assert plan.moves_partitions


def test_plan_of_identical_devices_is_empty():
    current = [dict(dev, id=i) for i, dev in enumerate(devices(3))]  # builder from an old swift
    _, wanted = sr.check_inputs(params("/x", devices(3)))
    plan = sr.plan_devices(current, list(reversed(wanted)))
    assert plan.empty


def test_plan_zone_change_is_a_placement_change():
    current = [dict(dev, id=i) for i, dev in enumerate(devices(3))]
    _, wanted = sr.check_inputs(params("/x", devices(3)))
    wanted[0]["zone"] = 7
    plan = sr.plan_devices(current, wanted)
    assert plan.rezoned == [{"id": 0, "name": "10.0.0.1:6200/sdb", "old": [1, 1], "new": [1, 7]}]
    assert plan.moves_partitions


# --- against the real RingBuilder -------------------------------------------------------------


def test_new_ring_is_built_written_and_readable_by_swift(tmp_path):
    result = sr.converge(params(tmp_path, devices(3)))

    assert result["changed"] and result["created"] and result["rebalanced"]
    assert result["parts_moved"] == 3 * 2**PART_POWER  # every replica of every partition placed
    assert result["balance"] == 0 and result["dispersion"] == 0
    assert result["ring_md5"] == sr.file_digest(str(tmp_path / "object.ring.gz"), "md5")
    assert result["backup"] == {"builder": None, "ring": None}
    assert len(result["plan"]["added"]) == 6
    builder = RingBuilder.load(str(tmp_path / "object.builder"))
    assert (builder.part_power, builder.replicas, builder.min_part_hours) == (PART_POWER, 3, 0)
    ring = RingData.load(str(tmp_path / "object.ring.gz"))
    assert sorted((d["ip"], d["device"]) for d in ring.devs) == sorted(
        (d["ip"], d["device"]) for d in devices(3)
    )
    # Only the builder, the ring and the state file: no temporary files left behind.
    assert sorted(os.listdir(tmp_path)) == [
        "object.builder",
        "object.builder.strata.json",
        "object.ring.gz",
    ]
    assert oct(os.stat(tmp_path / "object.ring.gz").st_mode & 0o777) == "0o644"
    assert oct(os.stat(tmp_path / "object.builder").st_mode & 0o777) == "0o644"


def test_rerun_without_change_reports_nothing_and_needs_no_swift(tmp_path, block_swift):
    p = params(tmp_path, devices(3))
    first = sr.converge(p)
    before = snapshot(tmp_path)
    block_swift()
    again = sr.converge(dict(p, devices=list(reversed(p["devices"]))))  # order does not matter

    assert not again["changed"]
    assert again["parts_moved"] == 0
    assert again["ring_md5"] == first["ring_md5"]
    assert again["balance"] == first["balance"]
    assert snapshot(tmp_path) == before


def test_slow_path_without_state_file_changes_nothing(tmp_path):
    p = params(tmp_path, devices(3))
    first = sr.converge(p)
    os.unlink(tmp_path / "object.builder.strata.json")
    before = snapshot(tmp_path)
    again = sr.converge(p)
    assert not again["changed"] and not again["rebalanced"]
    assert again["ring_md5"] == first["ring_md5"]
    assert without_state(snapshot(tmp_path)) == before


def test_check_mode_prediction_is_exactly_what_apply_does(tmp_path):
    p = params(tmp_path, devices(3, drives=3))
    sr.converge(p)
    ring_path = str(tmp_path / "object.ring.gz")
    old = ring_assignments(ring_path)
    grown = dict(p, devices=p["devices"] + devices(1, drives=3, first=4))  # a 4th storage host
    before = snapshot(tmp_path)

    predicted = sr.converge(grown, check_mode=True)

    assert snapshot(tmp_path) == before  # check mode wrote nothing
    assert predicted["changed"] and predicted["rebalanced"]
    assert [d["ip"] for d in predicted["plan"]["added"]] == ["10.0.0.4"] * 3
    assert predicted["parts_moved"] > 0

    applied = sr.converge(grown)

    assert applied["parts_moved"] == predicted["parts_moved"]
    assert applied["ring_md5"] == predicted["ring_md5"]
    assert applied["plan"] == predicted["plan"]
    assert applied["balance"] == predicted["balance"]
    # The ring on disk moved exactly the partition replicas the check reported.
    assert assignments_changed(old, ring_assignments(ring_path)) == predicted["parts_moved"]


def test_check_mode_on_a_deep_copy_equals_apply_on_the_builder(tmp_path):
    """reconcile() is deterministic for a seed: a deep copy predicts the original exactly."""
    p = params(tmp_path, devices(4, drives=2))
    sr.converge(p)
    settings, wanted = sr.check_inputs(dict(p, devices=p["devices"] + devices(1, first=5)))
    builder = RingBuilder.load(settings.builder_path)
    prediction = sr.reconcile(copy.deepcopy(builder), wanted, settings, seed=42)
    outcome = sr.reconcile(builder, wanted, settings, seed=42)
    assert prediction.parts_moved == outcome.parts_moved > 0
    assert (
        prediction.builder.to_dict()["_replica2part2dev"] == builder.to_dict()["_replica2part2dev"]
    )


def test_prediction_holds_across_processes_with_different_hash_seeds(tmp_path):
    """Check mode and apply run in different processes: set/dict order must not matter."""
    p = params(tmp_path, devices(3, drives=2))
    sr.converge(p)
    grown = dict(p, devices=p["devices"] + devices(2, drives=2, first=4, zones=5))
    script = (
        "import json, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import strata_swift_ring as sr\n"
        "r = sr.converge(json.loads(sys.argv[2]), check_mode=sys.argv[3] == 'check')\n"
        "print(json.dumps([r['parts_moved'], r['ring_md5']]))\n"
    )
    module_utils = os.path.dirname(sr.__file__)
    outputs = []
    for hash_seed, mode in (("1", "check"), ("2", "check"), ("3", "apply")):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        run = subprocess.run(
            [sys.executable, "-c", script, module_utils, json.dumps(grown), mode],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(json.loads(run.stdout))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][0] > 0


def test_min_part_hours_defers_placement_but_applies_info_changes(tmp_path):
    p = params(tmp_path, devices(3), min_part_hours=1)
    sr.converge(p)
    builder_path = str(tmp_path / "object.builder")
    devs = p["devices"] + devices(1, first=4)
    devs[0] = dict(devs[0], meta="moved to rack 2")
    changed = dict(p, devices=devs)

    deferred = sr.converge(changed)

    assert deferred["deferred"] and not deferred["rebalanced"]
    assert deferred["parts_moved"] == 0
    assert deferred["deferred_reason"].startswith(
        "min_part_hours (1 h) has not passed since the last rebalance ("
    )
    assert deferred["deferred_reason"].endswith(
        "left); devices changed: the first run after that applies and rebalances"
    )
    builder = RingBuilder.load(builder_path)
    assert builder.devs[0]["meta"] == "moved to rack 2"  # applied at once
    assert len([d for d in builder.devs if d]) == 6  # the new host waits
    assert RingData.load(str(tmp_path / "object.ring.gz")).devs[0]["meta"] == "moved to rack 2"
    # Still deferred on the next run, and nothing more is written.
    before = snapshot(tmp_path)
    again = sr.converge(changed)
    assert again["deferred"] and not again["changed"]
    assert without_state(snapshot(tmp_path)) == without_state(before)

    # The window passes (swift's own way to say so), the next run applies and rebalances.
    builder.pretend_min_part_hours_passed()
    builder.save(builder_path)
    done = sr.converge(changed)
    assert done["rebalanced"] and not done["deferred"] and done["parts_moved"] > 0
    assert len([d for d in RingBuilder.load(builder_path).devs if d]) == 8


def test_rebalance_within_min_part_hours_drains_a_removed_device(tmp_path):
    p = params(tmp_path, devices(4), min_part_hours=24)
    sr.converge(p)
    gone = p["devices"][0]
    result = sr.converge(dict(p, devices=p["devices"][1:], rebalance_within_min_part_hours=True))
    assert result["rebalanced"] and result["parts_moved"] > 0
    assert [d["name"] for d in result["plan"]["removed"]] == ["10.0.0.1:6200/sdb"]
    ring = RingData.load(str(tmp_path / "object.ring.gz"))
    assert not any(d and (d["ip"], d["device"]) == (gone["ip"], gone["device"]) for d in ring.devs)


def test_balance_alone_triggers_a_rebalance_that_must_improve(tmp_path):
    p = params(tmp_path, devices(3), min_part_hours=1)
    sr.converge(p)
    builder_path = str(tmp_path / "object.builder")
    # Add a host while every partition has just moved: swift can move none of them yet.
    grown = dict(
        p, devices=p["devices"] + devices(1, first=4), rebalance_within_min_part_hours=True
    )
    stuck = sr.converge(grown)
    assert stuck["rebalanced"] and stuck["parts_moved"] == 0 and stuck["balance"] > 1

    builder = RingBuilder.load(builder_path)
    builder.pretend_min_part_hours_passed()
    builder.save(builder_path)
    improved = sr.converge(grown)  # same inputs: only the balance asks for a rebalance
    assert improved["plan"]["added"] == []
    assert improved["rebalanced"] and improved["parts_moved"] > 0
    assert improved["balance"] < 1

    assert not sr.converge(grown)["changed"]


def test_unbalanceable_ring_settles_instead_of_rebalancing_forever(tmp_path):
    # 3 replicas over 3 zones of very different weight: one replica per zone is the best swift
    # can do, so balance stays far above the threshold.
    devs = devices(3, drives=1)
    devs[2]["weight"] = 1000.0
    p = params(tmp_path, devs)
    first = sr.converge(p)
    assert first["balance"] > 100
    state = json.loads((tmp_path / "object.builder.strata.json").read_text())
    assert state["settled"] is False

    trial = sr.converge(p)  # tries once, the rebalance would not improve: nothing is kept
    assert not trial["changed"] and not trial["rebalanced"]
    assert json.loads((tmp_path / "object.builder.strata.json").read_text())["settled"] is True
    assert not sr.converge(p)["changed"]


def test_part_power_change_is_refused_unless_rebuild_is_allowed(tmp_path):
    p = params(tmp_path, devices(3))
    sr.converge(p)
    with pytest.raises(sr.RingError) as caught:
        sr.converge(dict(p, part_power=PART_POWER + 1))
    assert caught.value.errors[0].startswith(
        f"swift_ring: part_power: the builder {tmp_path}/object.builder has part_power "
        f"{PART_POWER}, {PART_POWER + 1} wanted; part_power cannot change in place."
    )
    old_builder = (tmp_path / "object.builder").read_bytes()

    rebuilt = sr.converge(dict(p, part_power=PART_POWER + 1, allow_part_power_rebuild=True))

    assert rebuilt["created"] and rebuilt["rebalanced"]
    assert rebuilt["plan"]["settings"] == {"part_power": [PART_POWER, PART_POWER + 1]}
    assert len(rebuilt["plan"]["removed"]) == len(rebuilt["plan"]["added"]) == 6
    assert RingBuilder.load(str(tmp_path / "object.builder")).part_power == PART_POWER + 1
    with open(rebuilt["backup"]["builder"], "rb") as handle:
        assert handle.read() == old_builder


def test_replicas_change_is_refused_unless_allowed(tmp_path):
    p = params(tmp_path, devices(4))
    sr.converge(p)
    with pytest.raises(sr.RingError) as caught:
        sr.converge(dict(p, replicas=2))
    assert caught.value.errors == [
        f"swift_ring: replicas: the builder {tmp_path}/object.builder has 3 replicas, 2 wanted; "
        "set allow_replicas_change: true to change it (swift moves partitions gradually)"
    ]
    changed = sr.converge(dict(p, replicas=2, allow_replicas_change=True))
    assert changed["rebalanced"] and changed["plan"]["settings"] == {"replicas": [3, 2]}
    assert RingBuilder.load(str(tmp_path / "object.builder")).replicas == 2


def test_min_part_hours_change_is_applied_without_rebalance(tmp_path):
    p = params(tmp_path, devices(3))
    first = sr.converge(p)
    result = sr.converge(dict(p, min_part_hours=12))
    assert result["changed"] and not result["rebalanced"]
    assert result["plan"]["settings"] == {"min_part_hours": [0, 12]}
    assert result["ring_md5"] == first["ring_md5"]  # the ring file does not carry it
    assert RingBuilder.load(str(tmp_path / "object.builder")).min_part_hours == 12


def test_ring_file_without_builder_is_refused(tmp_path):
    p = params(tmp_path, devices(3))
    sr.converge(p)
    os.unlink(tmp_path / "object.builder")
    with pytest.raises(sr.RingError) as caught:
        sr.converge(p)
    assert caught.value.errors[0].startswith(
        f"swift_ring: {tmp_path}/object.ring.gz exists but its builder "
        f"{tmp_path}/object.builder does not; restore the builder from {tmp_path}/backups"
    )


def test_partition_power_increase_in_progress_is_refused(tmp_path):
    p = params(tmp_path, devices(3))
    sr.converge(p)
    builder = RingBuilder.load(str(tmp_path / "object.builder"))
    assert builder.prepare_increase_partition_power()
    builder.save(str(tmp_path / "object.builder"))
    with pytest.raises(sr.RingError, match="a partition power increase is in progress"):
        sr.converge(p)


def test_out_of_band_builder_change_is_noticed_and_reverted(tmp_path):
    p = params(tmp_path, devices(3))
    first = sr.converge(p)
    builder_path = str(tmp_path / "object.builder")
    original = (tmp_path / "object.builder").read_bytes()
    builder = RingBuilder.load(builder_path)
    builder.set_dev_weight(0, 10.0)  # as `swift-ring-builder object.builder set_weight` does
    builder.rebalance(seed=1)
    builder.save(builder_path)

    result = sr.converge(p)

    assert result["changed"] and result["rebalanced"]
    assert result["plan"]["reweighted"] == [
        {"id": 0, "name": "10.0.0.1:6200/sdb", "old": 10.0, "new": 100.0}
    ]
    assert result["ring_md5"] != first["ring_md5"]
    # The edited builder was backed up before it was replaced.
    backup_path = result["backup"]["builder"]
    assert os.path.dirname(backup_path) == str(tmp_path / "backups")
    assert os.path.basename(backup_path).endswith("Z.object.builder")
    with open(backup_path, "rb") as handle:
        assert handle.read() != original  # the out-of-band version


@pytest.mark.parametrize("still_wanted", [True, False])
def test_device_removed_out_of_band_but_not_rebalanced(tmp_path, still_wanted):
    p = params(tmp_path, devices(4))
    sr.converge(p)
    builder_path = str(tmp_path / "object.builder")
    builder = RingBuilder.load(builder_path)
    builder.remove_dev(0)  # `swift-ring-builder object.builder remove d0`, no rebalance
    builder.save(builder_path)
    wanted = p["devices"] if still_wanted else p["devices"][1:]

    result = sr.converge(dict(p, devices=wanted))

    assert result["rebalanced"] and result["plan"]["removed"] == []
    assert [d["name"] for d in result["plan"]["added"]] == (
        ["10.0.0.1:6200/sdb"] if still_wanted else []
    )
    names = {sr.device_name(d) for d in RingBuilder.load(builder_path).devs if d}
    assert ("10.0.0.1:6200/sdb" in names) is still_wanted
    assert len(names) == len(wanted)


def test_deleted_ring_file_is_written_again(tmp_path):
    p = params(tmp_path, devices(3))
    first = sr.converge(p)
    os.unlink(tmp_path / "object.ring.gz")
    result = sr.converge(p)
    assert result["changed"] and not result["rebalanced"]
    assert result["ring_md5"] == first["ring_md5"]
    assert sr.file_digest(str(tmp_path / "object.ring.gz"), "md5") == first["ring_md5"]


def test_changed_ring_backs_up_the_previous_builder_and_ring(tmp_path):
    p = params(tmp_path, devices(3))
    sr.converge(p)
    old_builder = (tmp_path / "object.builder").read_bytes()
    old_ring = (tmp_path / "object.ring.gz").read_bytes()
    result = sr.converge(dict(p, devices=p["devices"] + devices(1, first=4)))
    with open(result["backup"]["builder"], "rb") as handle:
        assert handle.read() == old_builder
    with open(result["backup"]["ring"], "rb") as handle:
        assert handle.read() == old_ring
    stamp = os.path.basename(result["backup"]["builder"]).split(".object")[0]
    assert os.path.basename(result["backup"]["ring"]) == f"{stamp}.object.ring.gz"


def test_without_swift_the_full_path_fails_clearly(tmp_path, block_swift):
    block_swift()
    with pytest.raises(sr.RingError) as caught:
        sr.converge(params(tmp_path, devices(3)))
    assert caught.value.errors[0].startswith(
        "swift_ring: swift is not installed on this host (python3-swift)"
    )


def test_fewer_zones_than_replicas_warns(tmp_path):
    result = sr.converge(params(tmp_path, devices(4, zones=2)))
    assert result["warnings"][0] == (
        "ring object: 3 replicas but only 2 (region, zone) pair(s) with weight; swift puts more "
        "than one replica of some partitions in the same zone"
    )


def test_balance_goal_is_one_partition_of_the_smallest_device():
    settings, wanted = sr.check_inputs(params("/x", devices(5, drives=1), part_power=4))
    # 16 partitions x 3 replicas over 5 equal devices: 9.6 each, one partition is 10.4%.
    assert sr.balance_goal(settings, wanted) == pytest.approx(100 / 9.6)
    settings, wanted = sr.check_inputs(params("/x", devices(5, drives=1), part_power=16))
    assert sr.balance_goal(settings, wanted) == 1.0  # balance_threshold is the larger


def test_coarse_ring_within_one_partition_is_settled_not_deferred(tmp_path):
    result = sr.converge(params(tmp_path, devices(5, drives=1), part_power=4, min_part_hours=1))
    assert 1 < result["balance"] < 100 / 9.6
    assert not result["deferred"]
    assert json.loads((tmp_path / "object.builder.strata.json").read_text())["settled"] is True

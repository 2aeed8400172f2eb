"""Declarative swift rings: the logic behind the swift_ring module.

The module states the devices a ring should hold; this code reconciles a swift builder file with
that list through swift's own RingBuilder (placement is never reimplemented here):

- check_inputs() validates and normalizes the module's parameters (every error at once).
- plan_devices() compares the builder's devices with the wanted ones (pure, no swift needed).
- reconcile() applies a plan to a RingBuilder and decides whether to rebalance, honouring
  min_part_hours; check mode runs it on a copy, so its prediction is what apply does.
- converge() is the whole run: fast no-change path from a small state file, load or create the
  builder, reconcile, atomic writes of builder and ring, timestamped backups.

swift is imported only when a builder must be loaded, so ansible-doc and the fast path work on a
host without swift.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import ipaddress
import json
import math
import os
import re
import shutil
import tempfile

RING_NAME_RE = re.compile(r"^(account|container|object(-[1-9][0-9]*)?)$")
# swift's RingBuilder accepts 0..32; a ring of one partition is never meant.
PART_POWER_MIN = 1
PART_POWER_MAX = 32
# swift keeps "hours since a partition moved" in one byte, so a larger value would never pass.
MIN_PART_HOURS_MAX = 255
# swift-ring-builder keeps a balance-only rebalance only if balance or dispersion move this much.
IMPROVEMENT_MIN = 1.0
DEVICE_KEYS = (
    "region",
    "zone",
    "ip",
    "port",
    "replication_ip",
    "replication_port",
    "device",
    "weight",
    "meta",
)
# Device fields that change no placement: the ring is rewritten, not rebalanced.
INFO_KEYS = ("replication_ip", "replication_port", "meta")
# Bump when the meaning of the state file changes, so old state files are ignored.
STATE_FORMAT = 1
MODULE = "swift_ring"


class RingError(Exception):
    """An error the user can fix: bad input, or a ring state the module refuses to change."""

    def __init__(self, errors):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


@dataclasses.dataclass(frozen=True)
class Settings:
    ring: str
    builder_dir: str
    part_power: int
    replicas: float
    min_part_hours: int
    balance_threshold: float = 1.0
    seed: int | None = None
    allow_replicas_change: bool = False
    allow_part_power_rebuild: bool = False
    rebalance_within_min_part_hours: bool = False

    @property
    def builder_path(self):
        return os.path.join(self.builder_dir, f"{self.ring}.builder")

    @property
    def ring_path(self):
        return os.path.join(self.builder_dir, f"{self.ring}.ring.gz")

    @property
    def state_path(self):
        return os.path.join(self.builder_dir, f"{self.ring}.builder.strata.json")

    @property
    def backup_dir(self):
        # The directory swift-ring-builder itself uses for its backups.
        return os.path.join(self.builder_dir, "backups")


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


def _as_int(value):
    """int from an int or a string of digits (templated values can arrive as strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return None


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def normalize_ip(value):
    """Compressed form of an IP literal (swift compares addresses as strings); else unchanged."""
    text = value.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return text


def device_name(dev):
    """The identity of a device as swift prints it: ip:port/device."""
    ip = dev["ip"]
    host = f"[{ip}]" if ":" in ip else ip
    return f"{host}:{dev['port']}/{dev['device']}"


def device_key(dev):
    """A device is identified by (ip, port, device), as swift-ring-builder does."""
    return (normalize_ip(str(dev["ip"])), int(dev["port"]), str(dev["device"]))


def _check_device(index, entry, errors):
    """One wanted device, normalized; appends messages to errors and returns None when bad."""
    where = f"{MODULE}: devices[{index}]"
    if not isinstance(entry, dict):
        errors.append(
            f"{where}: {entry!r} is not a mapping; expected a device with zone, ip, port, "
            "device and weight"
        )
        return None
    ok = True
    unknown = sorted(set(entry) - set(DEVICE_KEYS))
    if unknown:
        errors.append(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(DEVICE_KEYS)}"
        )
        ok = False
    for key in ("zone", "ip", "port", "device", "weight"):
        if entry.get(key) is None or entry.get(key) == "":
            errors.append(
                f"{where}.{key}: missing; every device needs zone, ip, port, device, weight"
            )
            ok = False
    if not ok:
        return None

    dev = {}
    for key in ("region", "zone"):
        raw = entry.get(key)
        raw = 1 if raw is None and key == "region" else raw
        value = _as_int(raw)
        if value is None or value < 0:
            errors.append(f"{where}.{key}: {raw!r} is not an integer >= 0")
            ok = False
        dev[key] = value
    for key in ("port", "replication_port"):
        raw = entry.get(key)
        if key == "replication_port" and (raw is None or raw == ""):
            dev[key] = dev["port"]  # defaults to port; an error there is reported once
            continue
        value = _as_int(raw)
        if value is None or not 1 <= value <= 65535:
            errors.append(f"{where}.{key}: {raw!r} is not a TCP port (an integer 1-65535)")
            ok = False
        dev[key] = value
    for key in ("ip", "replication_ip"):
        raw = entry.get(key)
        if key == "replication_ip" and (raw is None or raw == ""):
            dev[key] = dev["ip"]
            continue
        if not isinstance(raw, str) or not raw.strip() or any(c.isspace() for c in raw.strip()):
            errors.append(f"{where}.{key}: {raw!r} is not an IP address or host name")
            ok = False
            dev[key] = raw
        else:
            dev[key] = normalize_ip(raw)
    raw = entry["device"]
    if not isinstance(raw, str) or "/" in raw or not raw.strip() or raw != raw.strip():
        errors.append(f"{where}.device: {raw!r} is not a device name (like sdb, without /dev/)")
        ok = False
    dev["device"] = raw
    raw = entry["weight"]
    weight = _as_number(raw)
    if weight is None or weight < 0:
        errors.append(f"{where}.weight: {raw!r} is not a number >= 0")
        ok = False
    dev["weight"] = weight
    raw = entry.get("meta")
    raw = "" if raw is None else raw
    if not isinstance(raw, str):
        errors.append(f"{where}.meta: {raw!r} is not a string")
        ok = False
    dev["meta"] = raw
    return dev if ok else None


def check_inputs(params):
    """(Settings, wanted devices) from the module's parameters; RingError lists every problem."""
    errors = []
    ring = params.get("ring")
    if not isinstance(ring, str) or not RING_NAME_RE.match(ring):
        errors.append(
            f"{MODULE}: ring: {ring!r} is not a swift ring name; expected account, container, "
            "object or object-N (N >= 1, the storage policy index)"
        )
    part_power = _as_int(params.get("part_power"))
    if part_power is None or not PART_POWER_MIN <= part_power <= PART_POWER_MAX:
        errors.append(
            f"{MODULE}: part_power: {params.get('part_power')!r} is out of range; expected an "
            f"integer {PART_POWER_MIN}-{PART_POWER_MAX} (2**part_power partitions)"
        )
    replicas = _as_number(params.get("replicas", 3))
    if replicas is None or replicas < 1:
        errors.append(f"{MODULE}: replicas: {params.get('replicas')!r} is not a number >= 1")
    min_part_hours = _as_int(params.get("min_part_hours", 1))
    if min_part_hours is None or not 0 <= min_part_hours <= MIN_PART_HOURS_MAX:
        errors.append(
            f"{MODULE}: min_part_hours: {params.get('min_part_hours')!r} is out of range; "
            f"expected an integer 0-{MIN_PART_HOURS_MAX}"
        )
    threshold = _as_number(params.get("balance_threshold", 1.0))
    if threshold is None or threshold < 0:
        errors.append(
            f"{MODULE}: balance_threshold: {params.get('balance_threshold')!r} is not a number >= 0"
        )
    seed = params.get("seed")
    if seed is not None and _as_int(seed) is None:
        errors.append(f"{MODULE}: seed: {seed!r} is not an integer")
    builder_dir = params.get("builder_dir") or "/etc/swift"
    if not isinstance(builder_dir, str) or not os.path.isabs(builder_dir):
        errors.append(f"{MODULE}: builder_dir: {builder_dir!r} is not an absolute path")
    elif os.path.exists(builder_dir) and not os.path.isdir(builder_dir):
        errors.append(f"{MODULE}: builder_dir: {builder_dir!r} exists and is not a directory")

    raw_devices = params.get("devices")
    wanted = []
    if not isinstance(raw_devices, list):
        errors.append(f"{MODULE}: devices: {raw_devices!r} is not a list of devices")
        raw_devices = []
    seen = {}
    for index, entry in enumerate(raw_devices):
        dev = _check_device(index, entry, errors)
        if dev is None:
            continue
        key = device_key(dev)
        if key in seen:
            errors.append(
                f"{MODULE}: devices[{index}] and devices[{seen[key]}] are both "
                f"{device_name(dev)}; each (ip, port, device) may appear once"
            )
            continue
        seen[key] = index
        wanted.append(dev)

    if raw_devices and len(wanted) == len(raw_devices):
        # Only meaningful once every device is valid.
        if sum(dev["weight"] for dev in wanted) <= 0:
            errors.append(
                f"{MODULE}: devices: the total weight is 0; at least one device needs a weight > 0"
            )
        weighted = sum(1 for dev in wanted if dev["weight"] > 0)
        if replicas is not None and weighted < replicas:
            errors.append(
                f"{MODULE}: devices: {weighted} device(s) with a weight > 0 cannot hold "
                f"{replicas:g} replicas; expected at least {math.ceil(replicas)}"
            )
    elif not raw_devices and isinstance(params.get("devices"), list):
        errors.append(f"{MODULE}: devices: the list is empty; a ring needs devices")

    if errors:
        raise RingError(errors)
    settings = Settings(
        ring=ring,
        builder_dir=os.path.normpath(builder_dir),
        part_power=part_power,
        replicas=replicas,
        min_part_hours=min_part_hours,
        balance_threshold=threshold,
        seed=None if seed is None else _as_int(seed),
        allow_replicas_change=bool(params.get("allow_replicas_change")),
        allow_part_power_rebuild=bool(params.get("allow_part_power_rebuild")),
        rebalance_within_min_part_hours=bool(params.get("rebalance_within_min_part_hours")),
    )
    return settings, wanted


def balance_goal(settings, wanted):
    """The balance (percent) the ring counts as balanced.

    balance_threshold, or one partition of the smallest device if that is larger: swift places
    whole partitions, so a device meant to hold 27.3 partitions is off by 2.5% at best.
    """
    weights = [dev["weight"] for dev in wanted if dev["weight"] > 0]
    parts_of_smallest = 2**settings.part_power * settings.replicas * min(weights) / sum(weights)
    return max(settings.balance_threshold, 100.0 / parts_of_smallest)


def distinct_zone_count(devices):
    return len({(dev["region"], dev["zone"]) for dev in devices if dev["weight"] > 0})


# ---------------------------------------------------------------------------------------------
# Plan: wanted devices against the builder's devices (pure)
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Plan:
    added: list = dataclasses.field(default_factory=list)  # wanted device dicts
    removed: list = dataclasses.field(default_factory=list)  # {id, name, region, zone, weight}
    reweighted: list = dataclasses.field(default_factory=list)  # {id, name, old, new}
    rezoned: list = dataclasses.field(default_factory=list)  # {id, name, old, new}: [r, z]
    meta_changed: list = dataclasses.field(default_factory=list)  # {id, name, changes}
    settings: dict = dataclasses.field(default_factory=dict)  # name -> [old, new]

    @property
    def moves_partitions(self):
        """True when the plan changes placement, so it needs a rebalance."""
        return bool(
            self.added
            or self.removed
            or self.reweighted
            or self.rezoned
            or "replicas" in self.settings
            or "part_power" in self.settings
        )

    @property
    def empty(self):
        return not (self.moves_partitions or self.meta_changed or self.settings)

    def as_result(self):
        return {
            "added": [
                {"name": device_name(dev), **{k: dev[k] for k in DEVICE_KEYS}} for dev in self.added
            ],
            "removed": list(self.removed),
            "reweighted": list(self.reweighted),
            "rezoned": list(self.rezoned),
            "meta_changed": list(self.meta_changed),
            "settings": dict(self.settings),
        }


def plan_devices(current, wanted):
    """Plan that turns the current devices (builder dicts, None holes allowed) into wanted."""
    plan = Plan()
    by_key = {}
    for dev in current:
        if dev is not None:
            by_key[device_key(dev)] = dev
    wanted_keys = set()
    for want in wanted:
        key = device_key(want)
        wanted_keys.add(key)
        have = by_key.get(key)
        if have is None:
            plan.added.append(want)
            continue
        name = device_name(want)
        if float(have["weight"]) != want["weight"]:
            plan.reweighted.append(
                {
                    "id": have["id"],
                    "name": name,
                    "old": float(have["weight"]),
                    "new": want["weight"],
                }
            )
        old_place = [have.get("region", 1), have["zone"]]
        new_place = [want["region"], want["zone"]]
        if old_place != new_place:
            plan.rezoned.append(
                {"id": have["id"], "name": name, "old": old_place, "new": new_place}
            )
        changes = {}
        for field in INFO_KEYS:
            old = have.get(field)
            if field == "replication_ip":
                old = normalize_ip(str(old or have["ip"]))
            elif field == "replication_port":
                old = int(old or have["port"])
            elif field == "meta":
                old = old or ""
            if old != want[field]:
                changes[field] = [old, want[field]]
        if changes:
            plan.meta_changed.append({"id": have["id"], "name": name, "changes": changes})
    for key, have in sorted(by_key.items(), key=lambda item: item[1]["id"]):
        if key not in wanted_keys:
            plan.removed.append(
                {
                    "id": have["id"],
                    "name": device_name(have),
                    "region": have.get("region", 1),
                    "zone": have["zone"],
                    "weight": float(have["weight"]),
                }
            )
    return plan


def apply_info_changes(builder, plan):
    """Changes that move no partition: replication address/port and meta (as set_info does)."""
    for change in plan.meta_changed:
        dev = builder.devs[change["id"]]
        for field, (_old, new) in change["changes"].items():
            dev[field] = new
    if "min_part_hours" in plan.settings:
        builder.change_min_part_hours(plan.settings["min_part_hours"][1])


def apply_placement_changes(builder, plan):
    """Changes that need a rebalance, through RingBuilder's own methods."""
    for gone in plan.removed:
        builder.remove_dev(gone["id"])
    for change in plan.reweighted:
        builder.set_dev_weight(change["id"], change["new"])
    for change in plan.rezoned:
        region, zone = change["new"]
        builder.set_dev_region(change["id"], region)
        builder.set_dev_zone(change["id"], zone)
    for dev in plan.added:
        builder.add_dev({k: dev[k] for k in DEVICE_KEYS})
    if "replicas" in plan.settings:
        builder.set_replicas(plan.settings["replicas"][1])


# ---------------------------------------------------------------------------------------------
# Reconcile: apply a plan to a RingBuilder and decide about the rebalance
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    builder: object  # the RingBuilder to save (a rebalanced copy after an accepted trial)
    plan: Plan
    builder_changed: bool = False
    rebalanced: bool = False
    deferred: bool = False
    deferred_reason: str = ""
    parts_moved: int = 0
    balance: float | None = None
    dispersion: float | None = None
    settled: bool = False  # nothing left to do until the inputs or the files change


def _window_text(seconds):
    return str(datetime.timedelta(seconds=int(seconds)))


def _balance(builder):
    return float(builder.get_balance()) if builder.ever_rebalanced else None


def _dispersion(builder):
    value = getattr(builder, "dispersion", None)
    return None if value is None else float(value)


def rebalance(builder, seed):
    """RingBuilder.rebalance with a fixed seed, then validate (as swift-ring-builder does)."""
    parts_moved, balance, _removed = builder.rebalance(seed=seed)
    builder.validate()
    return int(parts_moved), float(balance)


def _improved(old_balance, old_dispersion, new_balance, new_dispersion):
    if old_balance is not None and new_balance <= old_balance - IMPROVEMENT_MIN:
        return True
    return (
        old_dispersion is not None
        and new_dispersion is not None
        and new_dispersion <= old_dispersion - IMPROVEMENT_MIN
    )


def reconcile(builder, wanted, settings, seed):
    """Bring builder (mutated in place) to the wanted devices and settings.

    Deterministic for a given builder, inputs and seed: check mode calls it on a copy and
    predicts exactly what apply does, as long as the min_part_hours window is in the same
    state at both times (once it has passed, every partition may move and time plays no part).
    """
    # Devices removed with swift-ring-builder but not rebalanced yet are on their way out: treat
    # them as gone (listed again, they come back as new devices).
    leaving = {dev["id"] for dev in getattr(builder, "_remove_devs", [])}
    plan = plan_devices([d for d in builder.devs if d and d["id"] not in leaving], wanted)
    if builder.replicas != settings.replicas:
        if not settings.allow_replicas_change:
            raise RingError(
                f"{MODULE}: replicas: the builder {settings.builder_path} has "
                f"{builder.replicas:g} replicas, {settings.replicas:g} wanted; set "
                "allow_replicas_change: true to change it (swift moves partitions gradually)"
            )
        plan.settings["replicas"] = [builder.replicas, settings.replicas]
    if builder.min_part_hours != settings.min_part_hours:
        plan.settings["min_part_hours"] = [builder.min_part_hours, settings.min_part_hours]
    outcome = Outcome(builder=builder, plan=plan)
    pending_in_builder = bool(builder.devs_changed)
    apply_info_changes(builder, plan)
    outcome.builder_changed = bool(plan.meta_changed or "min_part_hours" in plan.settings)

    reasons = []
    if not builder.ever_rebalanced:
        reasons.append("new ring")
    if plan.moves_partitions:
        reasons.append("devices changed")
    if pending_in_builder:
        reasons.append("the builder holds device changes that were never rebalanced")
    seconds_left = builder.min_part_seconds_left
    may_move = seconds_left <= 0 or settings.rebalance_within_min_part_hours
    goal = balance_goal(settings, wanted)
    goal_text = (
        f"{goal:.2f} (balance_threshold {settings.balance_threshold:g} or one partition of the "
        "smallest device, the larger)"
    )
    window = (
        f"min_part_hours ({builder.min_part_hours} h) has not passed since the last rebalance "
        f"({_window_text(seconds_left)} left)"
    )

    if reasons and not may_move:
        outcome.deferred = True
        outcome.deferred_reason = (
            f"{window}; {', '.join(reasons)}: the first run after that applies and rebalances"
        )
    elif reasons:
        apply_placement_changes(builder, plan)
        outcome.parts_moved, _ = rebalance(builder, seed)
        outcome.rebalanced = True
        outcome.builder_changed = True
    elif _balance(builder) > goal:
        balance_before = _balance(builder)
        if not may_move:
            outcome.deferred = True
            outcome.deferred_reason = f"balance {balance_before:.2f} is above {goal_text}; {window}"
        else:
            # Balance alone: try on a copy and keep it only if it really helps, as
            # swift-ring-builder refuses to save a rebalance that changes less than 1%.
            trial = copy.deepcopy(builder)
            moved, balance = rebalance(trial, seed)
            if moved and _improved(
                balance_before, _dispersion(builder), balance, _dispersion(trial)
            ):
                outcome.builder = builder = trial
                outcome.parts_moved = moved
                outcome.rebalanced = True
                outcome.builder_changed = True
            else:
                outcome.settled = True

    outcome.balance = _balance(builder)
    outcome.dispersion = _dispersion(builder)
    if outcome.rebalanced and outcome.balance > goal:
        seconds_left = builder.min_part_seconds_left
        if seconds_left > 0 and not settings.rebalance_within_min_part_hours:
            outcome.deferred = True
            outcome.deferred_reason = (
                f"balance {outcome.balance:.2f} is still above {goal_text}; the first run after "
                f"min_part_hours ({_window_text(seconds_left)} left) rebalances again"
            )
    if not outcome.deferred and not outcome.settled:
        outcome.settled = outcome.balance <= goal
    return outcome


def result_warnings(settings, wanted, dispersion):
    """Warnings about the ring's failure domains, for every run (fast path included)."""
    warnings = []
    zones = distinct_zone_count(wanted)
    if zones < settings.replicas:
        warnings.append(
            f"ring {settings.ring}: {settings.replicas:g} replicas but only {zones} "
            "(region, zone) pair(s) with weight; swift puts more than one replica of some "
            "partitions in the same zone"
        )
    if dispersion:
        warnings.append(
            f"ring {settings.ring}: dispersion {dispersion:.2f}: some partition replicas share a "
            "failure domain that the weights do not let swift avoid"
        )
    return warnings


# ---------------------------------------------------------------------------------------------
# Files: hashes, atomic writes, backups, the state file
# ---------------------------------------------------------------------------------------------


def file_digest(path, algorithm):
    """Hex digest of a file, or None when it does not exist."""
    digest = hashlib.new(algorithm)
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def _fsync_path(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(source, target):
    """Move a finished file into place: readers see the old file or the new one, never half."""
    os.chmod(source, 0o644)
    _fsync_path(source)
    os.replace(source, target)
    _fsync_path(os.path.dirname(target), directory=True)


def save_builder(builder, path):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    os.close(fd)
    try:
        builder.save(tmp)
        replace_atomically(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_ring(builder, ring, directory):
    """Write the ring of builder to directory/<ring>.ring.gz; returns the path.

    The name matters: gzip records the file name, and swift writes a fixed gzip mtime, so the
    same ring data gives the same bytes (and md5) only under the same name.
    """
    path = os.path.join(directory, f"{ring}.ring.gz")
    builder.get_ring().save(path)
    return path


def backup(path, backup_dir, stamp):
    """Copy path into backup_dir as <stamp>.<name>; returns the copy's path (None if no file)."""
    if not os.path.exists(path):
        return None
    os.makedirs(backup_dir, mode=0o755, exist_ok=True)
    target = os.path.join(backup_dir, f"{stamp}.{os.path.basename(path)}")
    shutil.copy2(path, target)
    return target


def backup_stamp(now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y%m%dT%H%M%S.%fZ")


def inputs_digest(settings, wanted):
    """What the wanted state is: devices (order does not matter) and ring settings."""
    document = {
        "format": STATE_FORMAT,
        "ring": settings.ring,
        "part_power": settings.part_power,
        "replicas": settings.replicas,
        "min_part_hours": settings.min_part_hours,
        "balance_threshold": settings.balance_threshold,
        "devices": sorted(
            ([dev[k] for k in DEVICE_KEYS] for dev in wanted), key=lambda d: json.dumps(d)
        ),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_state(path):
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else None


def write_state(path, state):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
            handle.write("\n")
        replace_atomically(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---------------------------------------------------------------------------------------------
# The whole run
# ---------------------------------------------------------------------------------------------


def load_ring_builder_class():
    try:
        from swift.common.ring import RingBuilder
    except ImportError as exc:
        raise RingError(
            f"{MODULE}: swift is not installed on this host (python3-swift); the module builds "
            f"rings with swift's own RingBuilder and must run where swift is installed ({exc})"
        ) from exc
    return RingBuilder


def describe_builder(builder):
    """A text listing of a builder for --diff: settings, then one line per device."""
    if builder is None:
        return ""
    lines = [
        f"part_power {builder.part_power}, replicas {builder.replicas:g}, "
        f"min_part_hours {builder.min_part_hours}"
    ]
    devices = sorted((d for d in builder.devs if d is not None), key=device_key)
    for dev in devices:
        lines.append(
            f"r{dev.get('region', 1)}z{dev['zone']}-{device_name(dev)} "
            f"weight {float(dev['weight']):g} "
            f"replication {dev.get('replication_ip') or dev['ip']}:"
            f"{dev.get('replication_port') or dev['port']} meta {dev.get('meta', '')!r}"
        )
    return "\n".join(lines) + "\n"


def _result(settings, **values):
    result = {
        "changed": False,
        "plan": Plan().as_result(),
        "rebalanced": False,
        "deferred": False,
        "deferred_reason": "",
        "parts_moved": 0,
        "balance": None,
        "dispersion": None,
        "ring_md5": None,
        "builder_file": settings.builder_path,
        "ring_file": settings.ring_path,
        "backup": {"builder": None, "ring": None},
        "created": False,
        "warnings": [],
    }
    result.update(values)
    for key in ("balance", "dispersion"):
        if result[key] is not None:
            result[key] = round(result[key], 4)
    return result


def fast_path(settings, wanted):
    """The stored result when nothing changed since a run that left the ring settled.

    The state file records the inputs, the builder's sha256 and the ring's md5 as this module
    left them; any change to one of them (including out-of-band edits with swift-ring-builder)
    sends the run down the full path. Needs no swift and no builder load.
    """
    state = read_state(settings.state_path)
    if not state or not state.get("settled"):
        return None
    if state.get("inputs") != inputs_digest(settings, wanted):
        return None
    ring_md5 = file_digest(settings.ring_path, "md5")
    if ring_md5 is None or state.get("ring_md5") != ring_md5:
        return None
    if state.get("builder_sha256") != file_digest(settings.builder_path, "sha256"):
        return None
    return _result(
        settings,
        balance=state.get("balance"),
        dispersion=state.get("dispersion"),
        ring_md5=ring_md5,
        warnings=result_warnings(settings, wanted, state.get("dispersion")),
    )


def _load_or_create(settings, ring_builder_class):
    """(builder, before, created, rebuilt_from_part_power) for this run."""
    if not os.path.exists(settings.builder_path):
        if os.path.exists(settings.ring_path):
            raise RingError(
                f"{MODULE}: {settings.ring_path} exists but its builder {settings.builder_path} "
                f"does not; restore the builder from {settings.backup_dir} or recover it with "
                f"'swift-ring-builder {settings.builder_path} write_builder' before running again "
                "(a new builder would move every partition)"
            )
        builder = ring_builder_class(
            settings.part_power, settings.replicas, settings.min_part_hours
        )
        return builder, None, True, None
    try:
        builder = ring_builder_class.load(settings.builder_path)
    except Exception as exc:  # swift raises its own exception types for unreadable builders
        raise RingError(f"{MODULE}: cannot load {settings.builder_path}: {exc}") from exc
    if getattr(builder, "next_part_power", None):
        raise RingError(
            f"{MODULE}: {settings.builder_path}: a partition power increase is in progress "
            f"(next_part_power {builder.next_part_power}); finish it with swift-ring-builder "
            "and swift-object-relinker first"
        )
    if builder.part_power != settings.part_power:
        if not settings.allow_part_power_rebuild:
            raise RingError(
                f"{MODULE}: part_power: the builder {settings.builder_path} has part_power "
                f"{builder.part_power}, {settings.part_power} wanted; part_power cannot change in "
                "place. Increase it with swift's partition power increase procedure, or set "
                "allow_part_power_rebuild: true to build a new ring from scratch (only for a "
                "cluster that holds no data: every partition moves)"
            )
        new = ring_builder_class(settings.part_power, settings.replicas, settings.min_part_hours)
        return new, builder, True, builder.part_power
    return builder, builder, False, None


def converge(params, check_mode=False, now=None):
    """One run of the module: returns the result dict (RingError for user errors)."""
    settings, wanted = check_inputs(params)
    digest = inputs_digest(settings, wanted)
    fast = fast_path(settings, wanted)
    if fast is not None:
        return fast

    ring_builder_class = load_ring_builder_class()
    builder, before, created, old_part_power = _load_or_create(settings, ring_builder_class)
    before_text = describe_builder(before)
    if check_mode and before is builder:
        # Work on a copy: nothing this run computes may touch what was loaded.
        builder = copy.deepcopy(builder)
    seed = settings.seed if settings.seed is not None else int(digest[:8], 16)
    outcome = reconcile(builder, wanted, settings, seed)
    if old_part_power is not None:
        outcome.plan.settings["part_power"] = [old_part_power, settings.part_power]
        outcome.plan.removed = plan_devices(before.devs, []).removed
    builder = outcome.builder

    old_ring_md5 = file_digest(settings.ring_path, "md5")
    if not check_mode:
        os.makedirs(settings.builder_dir, mode=0o755, exist_ok=True)
    scratch = tempfile.mkdtemp(
        prefix=".swift_ring-", dir=None if check_mode else settings.builder_dir
    )
    try:
        new_ring_md5 = None
        if builder.ever_rebalanced:
            rendered = render_ring(builder, settings.ring, scratch)
            new_ring_md5 = file_digest(rendered, "md5")
        builder_changed = created or outcome.builder_changed
        ring_changed = new_ring_md5 is not None and new_ring_md5 != old_ring_md5
        backups = {"builder": None, "ring": None}
        if not check_mode:
            stamp = backup_stamp(now)
            if builder_changed:
                backups["builder"] = backup(settings.builder_path, settings.backup_dir, stamp)
                save_builder(builder, settings.builder_path)
            if ring_changed:
                backups["ring"] = backup(settings.ring_path, settings.backup_dir, stamp)
                replace_atomically(rendered, settings.ring_path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    result = _result(
        settings,
        changed=builder_changed or ring_changed,
        plan=outcome.plan.as_result(),
        rebalanced=outcome.rebalanced,
        deferred=outcome.deferred,
        deferred_reason=outcome.deferred_reason,
        parts_moved=outcome.parts_moved,
        balance=outcome.balance,
        dispersion=outcome.dispersion,
        ring_md5=new_ring_md5 if new_ring_md5 is not None else old_ring_md5,
        backup=backups,
        created=created,
        warnings=result_warnings(settings, wanted, outcome.dispersion),
    )
    result["diff"] = {
        "before_header": settings.builder_path,
        "after_header": settings.builder_path,
        "before": before_text,
        "after": describe_builder(builder)
        + (
            f"rebalance: {outcome.parts_moved} partition replica(s) move\n"
            if outcome.rebalanced
            else ""
        )
        + (f"deferred: {outcome.deferred_reason}\n" if outcome.deferred else ""),
    }
    if not check_mode:
        write_state(
            settings.state_path,
            {
                "format": STATE_FORMAT,
                "inputs": digest,
                "builder_sha256": file_digest(settings.builder_path, "sha256"),
                "ring_md5": file_digest(settings.ring_path, "md5"),
                "balance": result["balance"],
                "dispersion": result["dispersion"],
                "settled": outcome.settled and not outcome.deferred,
            },
        )
    return result

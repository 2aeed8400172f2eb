"""Swift inventory shapes -> rings and ring devices (pure functions, unit-tested).

The inventory generator passes `swift` (global_overrides.swift) to every host and `swift_vars`
(container_vars) per host. These filters turn them into the rings to build and the devices each
ring holds, so that every role reads the inventory the same way. The rules (defaults, what is
valid) are strata.swift_config's, the same that `strata inventory validate` applies.
"""

import sys
from pathlib import Path

try:
    from strata import swift_config
except ImportError:  # Ansible run from a Python where the strata package is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from strata import swift_config

RING_TYPES = ("account", "container", "object")


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def swift_rings(swift):
    """The rings of `swift`: account, container, and one object ring per storage policy.

    Each ring: {name, type, part_power, replicas, min_part_hours, policy} where policy is the
    storage policy index (None for account and container). `replicas`/`repl_number` and
    `part_power` may be set globally, per ring (swift.account, swift.container) or per policy.
    """
    swift = swift or {}
    base_replicas = _first(swift.get("replicas"), swift.get("repl_number"), 3)
    base = {
        "part_power": swift.get("part_power"),
        "replicas": base_replicas,
        "min_part_hours": _first(swift.get("min_part_hours"), 1),
    }
    rings = []
    for ring_type in ("account", "container"):
        own = swift.get(ring_type) or {}
        rings.append(
            {
                "name": ring_type,
                "type": ring_type,
                "part_power": _first(own.get("part_power"), base["part_power"]),
                "replicas": _first(own.get("replicas"), own.get("repl_number"), base_replicas),
                "min_part_hours": _first(own.get("min_part_hours"), base["min_part_hours"]),
                "policy": None,
            }
        )
    policies = swift.get("storage_policies") or [{"policy": {"name": "default", "index": 0}}]
    for item in policies:
        policy = item["policy"]
        index = int(policy["index"])
        rings.append(
            {
                "name": "object" if index == 0 else f"object-{index}",
                "type": "object",
                "part_power": _first(policy.get("part_power"), base["part_power"]),
                "replicas": _first(
                    policy.get("replicas"), policy.get("repl_number"), base_replicas
                ),
                "min_part_hours": _first(policy.get("min_part_hours"), base["min_part_hours"]),
                "policy": index,
                "policy_name": policy["name"],
            }
        )
    return rings


def swift_host_drives(swift, swift_vars=None):
    """One host's drives: its own swift_vars.drives, else swift.drives, with every setting
    resolved (drive, then host, then global, then the defaults of strata.swift_config):
    name, region, zone, weight, format, groups.

    `groups` lists the rings (account, container) and storage policy names the drive serves;
    None means every ring. Run swift_problems first: values here are converted as they are.
    """
    out = []
    for drive in swift_config.host_drives(swift, swift_vars):
        out.append(
            {
                **drive,
                "region": int(drive["region"]),
                "zone": int(drive["zone"]),
                "weight": float(drive["weight"]),
            }
        )
    return out


def _serves(drive, ring):
    groups = drive["groups"]
    if groups is None:
        return True
    if ring["policy"] is None:
        return ring["type"] in groups
    return ring["policy_name"] in groups or ring["name"] in groups


def swift_problems(swift, storage_hosts, hostvars):
    """Every problem that stops the rings being built from the inventory, as messages (the
    checks of strata.swift_config, as `strata inventory validate` runs them)."""
    problems = []
    if not isinstance((swift or {}).get("part_power"), int):
        problems.append(
            "swift.part_power is not set; expected an integer (2**part_power partitions)"
        )
    found, _ = swift_config.settings_problems(swift or {})
    problems.extend(f"swift.{swift_config.dotted(keys)}: {text}" for keys, text in found)
    if not storage_hosts:
        problems.append("the swift storage group has no hosts; expected at least one")
    drives_by_host = {}
    for name in storage_hosts:
        hv = hostvars[name]
        found, _ = swift_config.host_problems(hv.get("swift_vars"))
        problems.extend(
            f"{name}: {swift_config.dotted(('swift_vars', *keys))}: {text}" for keys, text in found
        )
        drives = swift_config.host_drives(swift, hv.get("swift_vars"))
        drives_by_host[name] = drives
        if not drives:
            problems.append(
                f"{name}: no drives; expected swift.drives or swift_vars.drives "
                "(e.g. [{name: sdc}])"
            )
        if not hv.get("storage_address") and not hv.get("management_address"):
            problems.append(f"{name}: no storage_address (nor management_address)")
    if problems:
        return problems  # capacity means little while drives or replica counts are wrong
    found, _ = swift_config.capacity_problems(swift, drives_by_host)
    problems.extend(f"swift.{swift_config.dotted(keys)}: {text}" for keys, text in found)
    return problems


def swift_ring_devices(ring, swift, storage_hosts, hostvars, ports):
    """The devices of `ring` (an item of swift_rings) for the swift_ring module.

    ports: {account|container|object: {port, replication_port}}. Each host's devices listen on
    its storage_address (else management_address); replication goes to its
    replication_address (else the storage address).
    """
    devices = []
    port = ports[ring["type"]]
    for name in storage_hosts:
        hv = hostvars[name]
        ip = hv.get("storage_address") or hv.get("management_address")
        replication_ip = hv.get("replication_address") or ip
        for drive in swift_host_drives(swift, hv.get("swift_vars")):
            if not _serves(drive, ring):
                continue
            devices.append(
                {
                    "region": drive["region"],
                    "zone": int(drive["zone"]),
                    "ip": str(ip),
                    "port": int(port["port"]),
                    "replication_ip": str(replication_ip),
                    "replication_port": int(port["replication_port"]),
                    "device": drive["name"],
                    "weight": drive["weight"],
                    "meta": name,
                }
            )
    return devices


def swift_replaced_builders(backup_stats, ring_host_stats):
    """Ring names whose deploy-host backup exists and differs from the ring host's builder:
    the backups the next copy would overwrite (the role keeps them in history/ first).
    Both arguments are the `results` of a stat looped over the rings (item.name)."""
    now = {
        r["item"]["name"]: r["stat"].get("checksum")
        for r in ring_host_stats
        if r.get("stat", {}).get("exists")
    }
    return [
        r["item"]["name"]
        for r in backup_stats
        if r.get("stat", {}).get("exists")
        and r["item"]["name"] in now
        and r["stat"].get("checksum") != now[r["item"]["name"]]
    ]


class FilterModule:
    def filters(self):
        return {
            "swift_rings": swift_rings,
            "swift_host_drives": swift_host_drives,
            "swift_problems": swift_problems,
            "swift_ring_devices": swift_ring_devices,
            "swift_replaced_builders": swift_replaced_builders,
        }

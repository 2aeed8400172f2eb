"""The swift settings model: one set of rules for `global_overrides.swift` and a host's
`swift_vars`, used by `strata.config` (before any host is touched) and by the swift roles' filter
plugin (roles/swift_common/filter_plugins/strata_swift.py), so that a config that validates never
fails mid-run on these.

Pure Python with no dependencies: the filter plugin imports it inside Ansible.

Problems are ``(keys, message)``: ``keys`` is the path below the checked mapping as a tuple of
keys and list indexes, ``message`` says what the value is and what was expected. Callers add the
file:line (strata.config) or the host name (the filter).

The zone rule (decided once, here): a drive's zone is its own ``zone``, else its host's
``swift_vars.zone``, else ``swift.zone``, else 0 (as in OpenStack-Ansible); the region likewise,
else 1; the weight likewise, else 100.
"""

import difflib
import re

DEFAULT_REGION = 1
DEFAULT_ZONE = 0
DEFAULT_WEIGHT = 100
DEFAULT_REPLICAS = 3
# swift's RingBuilder allows up to 32, but it holds 2^part_power entries per replica (and more
# while rebalancing): 2^24 is already ~100 MB per ring with 3 replicas; 2^32 is tens of GiB.
PART_POWER_RANGE = (1, 24)
REPLICAS_RANGE = (1, 100)

DRIVE_NAME = re.compile(r"[A-Za-z0-9_-]+")
POLICY_NAME = re.compile(r"[A-Za-z0-9-]+")

# Keys of global_overrides.swift: what Strata's roles read, and what OpenStack-Ansible documents
# (accepted, and reported as not used by Strata).
SWIFT_KEYS = (
    "part_power",
    "replicas",
    "repl_number",
    "min_part_hours",
    "region",
    "zone",
    "weight",
    "storage_network",
    "replication_network",
    "repl_network",
    "mount_point",
    "drives",
    "account",
    "container",
    "storage_policies",
)
SWIFT_KEYS_OSA_ONLY = (
    "statsd_host",
    "statsd_port",
    "statsd_metric_prefix",
    "statsd_default_sample_rate",
    "statsd_sample_rate_factor",
)
RING_KEYS = ("part_power", "replicas", "repl_number", "min_part_hours")
HOST_KEYS = ("region", "zone", "weight", "drives", "groups")
HOST_KEYS_OSA_ONLY = ("read_affinity", "write_affinity", "write_affinity_node_count", "storage_ip")
HOST_KEYS_OSA_ONLY += ("repl_ip",)
DRIVE_KEYS = ("name", "region", "zone", "weight", "format", "groups")
POLICY_KEYS = (
    "name",
    "index",
    "default",
    "deprecated",
    "policy_type",
    "part_power",
    "replicas",
    "repl_number",
    "min_part_hours",
    "aliases",
    "ec_type",
    "ec_num_data_fragments",
    "ec_num_parity_fragments",
    "ec_object_segment_size",
)


def _show(value):
    return repr(value) if isinstance(value, str) else str(value)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def _unknown_keys(mapping, known, osa_only, keys, what):
    problems, notes = [], []
    for key in mapping:
        if key in known:
            continue
        if key in osa_only:
            notes.append(((*keys, key), "an OpenStack-Ansible setting Strata does not use"))
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(
            ((*keys, key), f"unknown key; expected one of {', '.join(known)} ({what}){hint}")
        )
    return problems, notes


def _check_placement(mapping, keys, problems, name_key=None):
    """region (int >= 1), zone (int >= 0), weight (number > 0) where given."""
    region, zone, weight = mapping.get("region"), mapping.get("zone"), mapping.get("weight")
    if region is not None and not (_is_int(region) and region >= 1):
        problems.append(
            ((*keys, "region"), f"{_show(region)} is not valid; expected an integer >= 1")
        )
    if zone is not None and not (_is_int(zone) and zone >= 0):
        problems.append(((*keys, "zone"), f"{_show(zone)} is not valid; expected an integer >= 0"))
    if weight is not None and not (_is_number(weight) and weight > 0):
        problems.append(((*keys, "weight"), f"{_show(weight)} is not valid; expected a number > 0"))


def drives_problems(drives, keys):
    """Problems of a drives list (global or a host's)."""
    problems = []
    if not isinstance(drives, list):
        return [(keys, f"{_show(drives)} is not a list of drives; expected e.g. [{{name: sdc}}]")]
    seen = {}
    for index, drive in enumerate(drives):
        here = (*keys, index)
        if not isinstance(drive, dict):
            problems.append((here, f"{_show(drive)} is not a drive; expected e.g. {{name: sdc}}"))
            continue
        unknown, _ = _unknown_keys(drive, DRIVE_KEYS, (), here, "drive settings")
        problems.extend(unknown)
        name = drive.get("name")
        if not isinstance(name, str) or not DRIVE_NAME.fullmatch(name):
            problems.append(
                (
                    (*here, "name"),
                    f"{_show(name)} is not a drive name; expected letters, digits, '_' and '-' "
                    "(the device's name under /dev and the mount point's, e.g. sdc, not /dev/sdc)",
                )
            )
        elif name in seen:
            problems.append(
                ((*here, "name"), f"{name!r} is also drive {seen[name]}; expected unique names")
            )
        else:
            seen[name] = index
        _check_placement(drive, here, problems)
        groups = drive.get("groups")
        if groups is not None and not (
            isinstance(groups, list) and all(isinstance(g, str) for g in groups)
        ):
            problems.append(
                ((*here, "groups"), f"{_show(groups)} is not a list of ring or policy names")
            )
    return problems


def settings_problems(swift):
    """(problems, notes) of global_overrides.swift (not of any host)."""
    if not isinstance(swift, dict):
        return [((), f"{_show(swift)} is not a mapping; expected swift settings")], []
    problems, notes = _unknown_keys(swift, SWIFT_KEYS, SWIFT_KEYS_OSA_ONLY, (), "swift settings")
    low, high = PART_POWER_RANGE
    part_power = swift.get("part_power")
    if part_power is not None and not (_is_int(part_power) and low <= part_power <= high):
        problems.append(
            (
                ("part_power",),
                f"{_show(part_power)} is not valid; expected an integer from {low} to {high} "
                "(2^part_power partitions)",
            )
        )
    _check_ring_settings(swift, (), problems)
    _check_placement(swift, (), problems)
    if "drives" in swift:
        problems.extend(drives_problems(swift["drives"], ("drives",)))
    for ring in ("account", "container"):
        value = swift.get(ring)
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(((ring,), f"{_show(value)} is not a mapping; expected ring settings"))
            continue
        unknown, _ = _unknown_keys(value, RING_KEYS, (), (ring,), f"{ring} ring settings")
        problems.extend(unknown)
        _check_ring_settings(value, (ring,), problems)
    if swift.get("storage_policies") is not None:
        problems.extend(policies_problems(swift["storage_policies"]))
    return problems, notes


def _check_ring_settings(mapping, keys, problems):
    low, high = REPLICAS_RANGE
    for key in ("replicas", "repl_number"):
        value = mapping.get(key)
        if value is not None and not (_is_int(value) and low <= value <= high):
            problems.append(
                ((*keys, key), f"{_show(value)} is not valid; expected an integer from 1 to {high}")
            )
    hours = mapping.get("min_part_hours")
    if hours is not None and not (_is_int(hours) and 0 <= hours <= 10**6):
        problems.append(
            ((*keys, "min_part_hours"), f"{_show(hours)} is not valid; expected an integer >= 0")
        )
    part_power = mapping.get("part_power")
    low, high = PART_POWER_RANGE
    if keys and part_power is not None and not (_is_int(part_power) and low <= part_power <= high):
        problems.append(
            (
                (*keys, "part_power"),
                f"{_show(part_power)} is not valid; expected an integer from {low} to {high}",
            )
        )


def policies_problems(policies):
    keys = ("storage_policies",)
    if not isinstance(policies, list):
        return [
            (keys, f"{_show(policies)} is not a list; expected '- policy: {{name, index}}' items")
        ]
    problems = []
    indexes, names, defaults = {}, {}, []
    for index, item in enumerate(policies):
        here = (*keys, index)
        policy = item.get("policy") if isinstance(item, dict) else None
        if not isinstance(policy, dict):
            problems.append(
                (here, f"{_show(item)} is not a '- policy: {{...}}' item; expected name and index")
            )
            continue
        here = (*here, "policy")
        unknown, _ = _unknown_keys(policy, POLICY_KEYS, (), here, "policy settings")
        problems.extend(unknown)
        name = policy.get("name")
        if not isinstance(name, str) or not POLICY_NAME.fullmatch(name):
            problems.append(
                (
                    (*here, "name"),
                    f"{_show(name)} is not a policy name; expected letters, digits and '-'",
                )
            )
        elif name.lower() in names:
            problems.append(
                (
                    (*here, "name"),
                    f"{name!r} is also the name of storage_policies[{names[name.lower()]}] "
                    "(swift compares them without case); expected unique names",
                )
            )
        else:
            names[name.lower()] = index
        policy_index = policy.get("index")
        if not (_is_int(policy_index) and 0 <= policy_index <= 2**31):
            problems.append(
                (
                    (*here, "index"),
                    f"{_show(policy_index)} is not a policy index; expected an integer >= 0",
                )
            )
        elif policy_index in indexes:
            problems.append(
                (
                    (*here, "index"),
                    f"{policy_index} is also the index of storage_policies[{indexes[policy_index]}]"
                    "; expected unique indexes",
                )
            )
        else:
            indexes[policy_index] = index
        if policy.get("default") is True:
            defaults.append(index)
        _check_ring_settings(policy, here, problems)
    if 0 not in indexes or len(defaults) != 1:
        problems.append(
            (
                keys,
                f"{len(defaults)} default policies and "
                f"{'an' if 0 in indexes else 'no'} index 0; expected exactly one policy with "
                "default: true and one with index: 0",
            )
        )
    return problems


def host_problems(swift_vars):
    """(problems, notes) of one host's swift_vars (keys below swift_vars)."""
    if swift_vars is None:
        return [], []
    if not isinstance(swift_vars, dict):
        return [((), f"{_show(swift_vars)} is not a mapping; expected swift_vars settings")], []
    problems, notes = _unknown_keys(
        swift_vars, HOST_KEYS, HOST_KEYS_OSA_ONLY, (), "a swift host's settings"
    )
    _check_placement(swift_vars, (), problems)
    if "drives" in swift_vars:
        problems.extend(drives_problems(swift_vars["drives"], ("drives",)))
    return problems, notes


def host_drives(swift, swift_vars=None):
    """One host's drives: its own swift_vars.drives, else swift.drives, each with every setting
    resolved (drive, then host, then global, then the defaults): name, region, zone, weight,
    format, groups. Values are as given (checked by the functions above, not converted here)."""
    swift = swift if isinstance(swift, dict) else {}
    swift_vars = swift_vars if isinstance(swift_vars, dict) else {}
    drives = swift_vars.get("drives") or swift.get("drives") or []
    out = []
    for drive in drives if isinstance(drives, list) else []:
        if not isinstance(drive, dict):
            continue
        out.append(
            {
                "name": drive.get("name"),
                "region": _first(
                    drive.get("region"),
                    swift_vars.get("region"),
                    swift.get("region"),
                    DEFAULT_REGION,
                ),
                "zone": _first(
                    drive.get("zone"), swift_vars.get("zone"), swift.get("zone"), DEFAULT_ZONE
                ),
                "weight": _first(
                    drive.get("weight"),
                    swift_vars.get("weight"),
                    swift.get("weight"),
                    DEFAULT_WEIGHT,
                ),
                "format": bool(drive.get("format", False)),
                "groups": drive.get("groups", swift_vars.get("groups")),
            }
        )
    return out


def replica_settings(swift):
    """[(keys, replicas)] of every ring: global (default 3), account, container, each
    replication policy."""
    swift = swift if isinstance(swift, dict) else {}
    out = []
    found = [(k,) for k in ("replicas", "repl_number") if k in swift]
    out.extend((keys, swift[keys[0]]) for keys in found)
    if not found:
        out.append((("replicas",), DEFAULT_REPLICAS))
    for ring in ("account", "container"):
        value = swift.get(ring)
        if isinstance(value, dict):
            out.extend(((ring, k), value[k]) for k in ("replicas", "repl_number") if k in value)
    policies = swift.get("storage_policies")
    for index, item in enumerate(policies if isinstance(policies, list) else []):
        policy = item.get("policy") if isinstance(item, dict) else None
        if isinstance(policy, dict) and policy.get("policy_type", "replication") == "replication":
            for k in ("replicas", "repl_number"):
                if k in policy:
                    out.append((("storage_policies", index, "policy", k), policy[k]))
    return out


def capacity_problems(swift, drives_by_host):
    """(problems, warnings) of the replica counts against the drives of all storage hosts.

    drives_by_host: {host: host_drives(...)}. More replicas than devices cannot be placed
    (an error); more replicas than zones is legal (swift places them as uniquely as it can, two
    copies may share a zone): a warning.
    """
    devices = sum(len(drives) for drives in drives_by_host.values())
    zones = sorted(
        {(str(d["region"]), str(d["zone"])) for ds in drives_by_host.values() for d in ds}
    )
    zone_names = ", ".join(f"r{r}z{z}" for r, z in zones) or "none"
    problems, warnings = [], []
    for keys, value in replica_settings(swift):
        if not (_is_int(value) and REPLICAS_RANGE[0] <= value <= REPLICAS_RANGE[1]):
            continue  # reported by settings_problems
        if value > devices:
            problems.append(
                (
                    keys,
                    f"{value} replicas is more than the {devices} swift drives of all swift "
                    "hosts; expected at most that many (each replica needs its own drive)",
                )
            )
        elif value > len(zones):
            warnings.append(
                (
                    keys,
                    f"{value} replicas in {len(zones)} swift zone{'s' if len(zones) != 1 else ''} "
                    f"({zone_names}): some copies will share a zone and a zone's loss can lose "
                    "them; more zones (swift_vars.zone per host, or zone per drive) are safer",
                )
            )
    return problems, warnings


def dotted(keys):
    """'a.b[0].c' for ('a', 'b', 0, 'c')."""
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out

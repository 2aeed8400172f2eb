"""Load, merge and validate an operator's Strata config directory.

The format is OpenStack-Ansible's ``openstack_user_config.yml``: ``cidr_networks``, ``used_ips``,
``global_overrides`` and host groups ``NAME_hosts: {host: {ip, container_vars}}``. Files:
``strata_user_config.yml`` and ``conf.d/*.yml`` (merged, in name order), ``user_variables*.yml``
(checked for YAML errors here; passed to Ansible as extra vars by ``strata-ansible``).

``load(config_dir)`` checks everything in one pass and either raises
``strata.errors.ValidationError`` listing every problem, or returns ``(Config, warnings)``.
Every message names the file (and line when known), the key path, the value and what was expected.
"""

import contextlib
import difflib
import gc
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import netaddr
import yaml

from strata import glance_config
from strata.errors import ValidationError

DEFAULT_CONFIG_DIR = "/etc/strata"
CONFIG_FILE = "strata_user_config.yml"
CONF_D = "conf.d"

# Config host group -> the Strata component groups its hosts join (OSA's names; '-' and '_' are
# interchangeable in group names, as OSA accepts both spellings).
HOST_GROUPS = {
    "shared-infra_hosts": ("galera_all", "rabbitmq_all", "memcached_all"),
    "database_hosts": ("galera_all",),
    "mq_hosts": ("rabbitmq_all",),
    "memcaching_hosts": ("memcached_all",),
    "identity_hosts": ("keystone_all",),
    "haproxy_hosts": ("haproxy_all",),
    "load_balancer_hosts": ("haproxy_all",),
    "storage-infra_hosts": ("cinder_api", "cinder_scheduler"),
    "storage_hosts": ("cinder_volume",),
    "image_hosts": ("glance_api",),
    # OSA puts glance, nova api, heat and horizon here; Strata deploys glance of those.
    "os-infra_hosts": ("glance_api",),
    "compute_hosts": ("nova_compute",),
    "swift-proxy_hosts": ("swift_proxy",),
    "swift_hosts": ("swift_storage",),
    "ceph-mon_hosts": ("ceph_mon", "ceph_mgr"),
    "ceph-mgr_hosts": ("ceph_mgr",),
    "ceph-osd_hosts": ("ceph_osd",),
}

# OSA groups Strata accepts but does not deploy: one warning lists those present.
NOT_DEPLOYED_GROUPS = (
    "repo-infra_hosts",
    "utility_hosts",
    "log_hosts",
    "network_hosts",
    "network-infra_hosts",
    "network-agent_hosts",
    "network-gateway_hosts",
    "network-northd_hosts",
    "compute-infra_hosts",
    "placement-infra_hosts",
    "dashboard_hosts",
    "orchestration_hosts",
    "metering-infra_hosts",
    "metering-alarm_hosts",
    "metering-compute_hosts",
    "metrics_hosts",
    "key-manager_hosts",
    "dnsaas_hosts",
    "octavia-infra_hosts",
    "coordination_hosts",
    "zookeeper_hosts",
    "etcd_hosts",
    "unbound_hosts",
    "ironic-infra_hosts",
    "ironic-compute_hosts",
    "ironic-server_hosts",
    "ironic-inspector_hosts",
    "magnum-infra_hosts",
    "manila-infra_hosts",
    "manila-data_hosts",
    "trove-infra_hosts",
    "sahara-infra_hosts",
    "mistral-infra_hosts",
    "masakari-infra_hosts",
    "masakari-monitor_hosts",
    "blazar-infra_hosts",
    "cloudkitty-infra_hosts",
    "zun-infra_hosts",
    "zun-compute_hosts",
    "skyline_dashboard_hosts",
    "ceph-rgw_hosts",
    "ceph-mds_hosts",
    "ceph-nfs_hosts",
    "swift-remote_hosts",
    "kvm-compute_hosts",
)

# Parent groups of the inventory: parent -> children.
PARENT_GROUPS = {
    "cinder_all": ("cinder_api", "cinder_scheduler", "cinder_volume"),
    "glance_all": ("glance_api",),
    "nova_all": ("nova_compute",),
    "swift_all": ("swift_proxy", "swift_storage"),
    "ceph_all": ("ceph_mon", "ceph_mgr", "ceph_osd"),
}

COMPONENT_GROUPS = tuple(sorted({c for comps in HOST_GROUPS.values() for c in comps}))

# Which component groups need an address on which assigned network. The management address is the
# host's own `ip`; storage and replication addresses are assigned from the cidr_networks pools.
# A provider network may add groups (its group_binds), e.g. ceph_osd on the replication network to
# use it as Ceph's cluster network; it never removes one.
NETWORKS_USED_BY = {
    "swift_proxy": ("storage",),
    "swift_storage": ("storage", "replication"),
    "ceph_mon": ("storage",),
    "ceph_osd": ("storage",),
    "cinder_volume": ("storage",),
    "nova_compute": ("storage",),
    "glance_api": ("storage",),
}
ASSIGNED_NETWORKS = ("storage", "replication")

# cidr_networks names Strata knows; OSA's `container` is the management network.
NETWORK_NAMES = ("management", "storage", "replication", "tunnel")
NETWORK_ALIASES = {"container": "management"}

# Clustered services: odd member counts avoid split brain, 3+ survive the loss of one.
CLUSTERED_GROUPS = ("galera_all", "rabbitmq_all", "ceph_mon")
ODD_SIZED_GROUPS = ("galera_all", "ceph_mon")

# Host vars Strata sets itself; container_vars may not set them.
RESERVED_HOST_VARS = (
    "ansible_host",
    "management_address",
    "storage_address",
    "replication_address",
)

# Names in provider_networks group_binds that mean a Strata component group (OSA spellings).
GROUP_BIND_ALIASES = {
    "ceph-mon": ("ceph_mon",),
    "ceph-osd": ("ceph_osd",),
    "mons": ("ceph_mon",),
    "osds": ("ceph_osd",),
    "swift_acc": ("swift_storage",),
    "swift_cont": ("swift_storage",),
    "swift_obj": ("swift_storage",),
    "galera": ("galera_all",),
    "rabbitmq": ("rabbitmq_all",),
    "keystone": ("keystone_all",),
    "haproxy": ("haproxy_all",),
    "memcached": ("memcached_all",),
}

TOP_LEVEL_KEYS = ("cidr_networks", "used_ips", "global_overrides")
HOST_KEYS = ("ip", "container_vars")
# OSA host keys that only matter for containers: accepted and ignored.
IGNORED_HOST_KEYS = ("affinity", "no_containers")

SWIFT_DEFAULT_REPLICAS = 3
PART_POWER_RANGE = (1, 32)

_HOSTNAME_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _normal(group):
    return group.replace("-", "_")


_KNOWN_GROUPS = {_normal(g): g for g in (*HOST_GROUPS, *NOT_DEPLOYED_GROUPS)}


# --- YAML with positions -----------------------------------------------------------------------


class YamlMap(dict):
    """A mapping from YAML that remembers where each key was written: ``where[key]`` is
    ``(file, line)``."""

    __slots__ = ("where", "origin")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.where = {}
        self.origin = None  # (file, line) of the mapping itself


class YamlList(list):
    """A sequence from YAML that remembers where each item was written: ``where[i]``."""

    __slots__ = ("where", "origin")

    def __init__(self, *args):
        super().__init__(*args)
        self.where = []
        self.origin = None


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):
    """PyYAML's safe loader (libyaml when present) that records positions and duplicate keys."""

    def __init__(self, stream, file):
        super().__init__(stream)
        self.file = file
        self.duplicates = []  # [(key, line)]


def _construct_map(loader, node):
    data = YamlMap()
    data.origin = (loader.file, node.start_mark.line + 1)
    yield data
    explicit = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    first_explicit = len(node.value) - explicit
    seen = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=False)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark
            ) from None
        line = key_node.start_mark.line + 1
        if index >= first_explicit:
            if key in seen:
                loader.duplicates.append((key, line))
            seen.add(key)
        data[key] = loader.construct_object(value_node, deep=False)
        data.where[key] = (loader.file, line)


def _construct_seq(loader, node):
    data = YamlList()
    data.origin = (loader.file, node.start_mark.line + 1)
    yield data
    for item_node in node.value:
        data.append(loader.construct_object(item_node, deep=False))
        data.where.append((loader.file, item_node.start_mark.line + 1))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
# Ansible's tags may appear in user_variables*.yml: read them as the plain text they hold.
for _tag in ("!vault", "!unsafe"):
    _Loader.add_constructor(_tag, lambda loader, node: loader.construct_scalar(node))


def read_yaml(path, problems):
    """Parse one YAML file; on error append a message to ``problems`` and return None."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{file}: cannot read: {exc.strerror}; expected a readable YAML file")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason}); expected a UTF-8 YAML file")
        return None
    loader = _Loader(text, file)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        if mark is not None:
            problems.append(
                f"{file}:{mark.line + 1}: bad YAML: {what} (line {mark.line + 1}, "
                f"column {mark.column + 1}); expected valid YAML"
            )
        else:
            problems.append(f"{file}: bad YAML: {what}; expected valid YAML")
        return None
    finally:
        loader.dispose()
    for key, line in loader.duplicates:
        problems.append(
            f"{file}:{line}: {key}: key given twice in the same mapping; expected each key once"
        )
    return data


# --- messages ----------------------------------------------------------------------------------


def at(where):
    """``file:line`` (or ``file``) for a (file, line) pair."""
    file, line = where
    return f"{file}:{line}" if line else file


def problem(where, path, message):
    return f"{at(where)}: {path}: {message}"


def _show(value):
    """A value as the operator wrote it, quoted when it is a string."""
    return repr(value) if isinstance(value, str) else str(value)


def suggest(name, choices):
    """' ; did you mean X?' for a near miss, else ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


# --- the result --------------------------------------------------------------------------------


@dataclass
class Network:
    """A cidr_networks entry with the integer range of its usable addresses."""

    name: str
    cidr: str
    first: int  # first usable address
    last: int  # last usable address
    version: int
    where: tuple

    @property
    def size(self):
        return self.last - self.first + 1


@dataclass
class Host:
    name: str
    ip: str  # management address, normalized
    ip_int: int
    config_groups: list  # config group names as written, in file order
    components: tuple  # Strata component groups, sorted
    networks: tuple  # assigned networks this host needs ('storage', 'replication')
    host_vars: dict  # from container_vars, limit_container_types honoured
    where: tuple  # (file, line) of its first entry
    ip_where: tuple  # (file, line) of its first ip
    deployed: bool  # False when it is only in groups Strata does not deploy


@dataclass
class Config:
    config_dir: Path
    files: list  # config files read, in merge order
    user_variable_files: list
    networks: dict  # name -> Network (canonical names)
    reserved: list  # merged [(first, last)] ranges: used_ips and VIPs that are IP addresses
    global_overrides: dict
    hosts: dict  # name -> Host, sorted by name, deployed hosts only
    ignored_hosts: list = field(default_factory=list)  # hosts only in not-deployed groups

    def group_members(self):
        """Component group -> sorted host names."""
        members = {group: [] for group in COMPONENT_GROUPS}
        for host in self.hosts.values():
            for group in host.components:
                members[group].append(host.name)
        return members


def config_dir_from(arg=None):
    """The config directory: the argument, else $STRATA_CONFIG_DIR, else /etc/strata."""
    return Path(arg or os.environ.get("STRATA_CONFIG_DIR") or DEFAULT_CONFIG_DIR)


# --- loading and merging -----------------------------------------------------------------------


def _files(config_dir, problems):
    main = config_dir / CONFIG_FILE
    if not main.is_file():
        problems.append(
            f"{main}: not found; expected the config file {CONFIG_FILE} in {config_dir} "
            "(set STRATA_CONFIG_DIR or --config-dir)"
        )
        return []
    return [main, *sorted((config_dir / CONF_D).glob("*.yml"))]


class _Merged:
    """The config files merged: what validation works on."""

    def __init__(self):
        self.cidr_networks = {}  # name as written -> (value, where)
        self.used_ips = []  # (value, where, path)
        self.global_overrides = YamlMap()
        self.global_where = None
        self.groups = {}  # group as written -> [(host, entry, where, path)]
        self.group_where = {}  # group -> where first seen


def _merge_overrides(dst, src, path, problems):
    """Deep-merge mapping ``src`` into ``dst``; a value given differently twice is a problem."""
    for key, value in src.items():
        where = src.where.get(key, src.origin)
        if key not in dst:
            dst[key] = value
            dst.where[key] = where
            continue
        if isinstance(dst[key], YamlMap) and isinstance(value, YamlMap):
            _merge_overrides(dst[key], value, f"{path}.{key}", problems)
        elif dst[key] != value:
            problems.append(
                problem(
                    where,
                    f"{path}.{key}",
                    f"{_show(value)} differs from {_show(dst[key])} given at "
                    f"{at(dst.where[key])}; expected one value",
                )
            )


def _merge(docs, problems):
    merged = _Merged()
    for path, doc in docs:
        if doc is None:
            continue  # an empty file
        if not isinstance(doc, YamlMap):
            problems.append(
                f"{path}: top level is a {type(doc).__name__}; expected a mapping of "
                "cidr_networks, used_ips, global_overrides and NAME_hosts groups"
            )
            continue
        for key, value in doc.items():
            where = doc.where[key]
            if key == "cidr_networks":
                _merge_cidrs(merged, value, where, problems)
            elif key == "used_ips":
                _merge_used_ips(merged, value, where, problems)
            elif key == "global_overrides":
                if value is None:
                    continue
                if not isinstance(value, YamlMap):
                    problems.append(
                        problem(where, key, f"{_show(value)} is not a mapping; expected a mapping")
                    )
                    continue
                merged.global_where = merged.global_where or where
                _merge_overrides(merged.global_overrides, value, key, problems)
            elif isinstance(key, str) and key.endswith("_hosts"):
                _merge_group(merged, key, value, where, problems)
            else:
                problems.append(
                    problem(
                        where,
                        key,
                        "unknown key; expected cidr_networks, used_ips, global_overrides or a "
                        f"NAME_hosts group{suggest(key, TOP_LEVEL_KEYS)}",
                    )
                )
    return merged


def _merge_cidrs(merged, value, where, problems):
    if value is None:
        return
    if not isinstance(value, YamlMap):
        problems.append(
            problem(
                where,
                "cidr_networks",
                f"{_show(value)} is not a mapping; expected NAME: CIDR pairs, "
                "e.g. management: 172.29.236.0/22",
            )
        )
        return
    for name, cidr in value.items():
        item_where = value.where[name]
        if name in merged.cidr_networks and merged.cidr_networks[name][0] != cidr:
            old_value, old_where = merged.cidr_networks[name]
            problems.append(
                problem(
                    item_where,
                    f"cidr_networks.{name}",
                    f"{_show(cidr)} differs from {_show(old_value)} given at {at(old_where)}; "
                    "expected one value",
                )
            )
            continue
        merged.cidr_networks.setdefault(name, (cidr, item_where))


def _merge_used_ips(merged, value, where, problems):
    if value is None:
        return
    if not isinstance(value, YamlList):
        problems.append(
            problem(
                where,
                "used_ips",
                f"{_show(value)} is not a list; expected a list of addresses and "
                "'first,last' ranges",
            )
        )
        return
    for index, item in enumerate(value):
        merged.used_ips.append((item, value.where[index], f"used_ips[{index}]"))


def _merge_group(merged, group, value, where, problems):
    merged.group_where.setdefault(group, where)
    entries = merged.groups.setdefault(group, [])
    if value is None:
        return  # an empty group
    if not isinstance(value, YamlMap):
        problems.append(
            problem(
                where,
                group,
                f"{_show(value)} is not a mapping; expected HOSTNAME: {{ip: ADDRESS}} entries",
            )
        )
        return
    for host, entry in value.items():
        entries.append((host, entry, value.where[host], f"{group}.{host}"))


# --- validation --------------------------------------------------------------------------------


def _parse_ip(value):
    """netaddr.IPAddress for a string holding exactly one address, else None."""
    if not isinstance(value, str):
        return None
    try:
        return netaddr.IPAddress(value.strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _networks(merged, problems):
    """Validate cidr_networks; return (networks by canonical name, warnings)."""
    networks = {}
    warnings = []
    for name, (value, where) in merged.cidr_networks.items():
        path = f"cidr_networks.{name}"
        canonical = NETWORK_ALIASES.get(name, name)
        if canonical not in NETWORK_NAMES:
            warnings.append(
                problem(
                    where,
                    path,
                    "not a network Strata uses (management or container, storage, replication, "
                    f"tunnel); only checked for overlaps{suggest(name, NETWORK_NAMES)}",
                )
            )
        try:
            if not isinstance(value, str):
                raise ValueError
            net = netaddr.IPNetwork(value.strip())
        except (netaddr.AddrFormatError, ValueError, TypeError):
            problems.append(
                problem(
                    where, path, f"{_show(value)} is not a CIDR network; expected e.g. 10.0.0.0/22"
                )
            )
            continue
        if net.ip != net.network:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} has host bits set; expected the network address {net.cidr}",
                )
            )
            continue
        first, last = int(net.first), int(net.last)
        # Leave out the network and broadcast addresses where they exist.
        if net.size > 2 and (net.version == 4 or net.prefixlen < 127):
            first += 1
            if net.version == 4:
                last -= 1
        if canonical in networks and canonical in NETWORK_NAMES:
            other = networks[canonical]
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)}: {name} and {other.name} name the same network "
                    "(container is OSA's name for management); expected only one of them",
                )
            )
            continue
        key = canonical if canonical in NETWORK_NAMES else name
        networks[key] = Network(name, str(net.cidr), first, last, net.version, where)

    # Overlaps: sort by start, compare neighbours (n log n, no pairwise scan).
    spans = sorted(
        (int(netaddr.IPNetwork(n.cidr).first), int(netaddr.IPNetwork(n.cidr).last), n)
        for n in networks.values()
    )
    widest = None
    for start, end, net in spans:
        if widest is not None and start <= widest[1] and widest[2].version == net.version:
            other = widest[2]
            problems.append(
                problem(
                    net.where,
                    f"cidr_networks.{net.name}",
                    f"{_show(net.cidr)} overlaps cidr_networks.{other.name} ({other.cidr}); "
                    "expected networks that do not overlap",
                )
            )
        if widest is None or end > widest[1]:
            widest = (start, end, net)
    return networks, warnings


def _network_of(networks, value):
    for net in networks.values():
        if net.first <= value <= net.last:
            return net
    return None


def _describe_networks(networks):
    return ", ".join(f"{n.name} ({n.cidr})" for n in networks.values()) or "none defined"


def _used_ips(merged, networks, problems):
    """used_ips as sorted, merged integer ranges."""
    ranges = []
    for value, where, path in merged.used_ips:
        text = str(value).strip() if isinstance(value, str) else None
        parts = [p.strip() for p in text.split(",")] if text is not None else []
        addresses = [_parse_ip(p) for p in parts]
        if not 1 <= len(parts) <= 2 or any(a is None for a in addresses):
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is not an address or range; expected an address or "
                    "'first,last', e.g. '172.29.236.1,172.29.236.50'",
                )
            )
            continue
        first, last = int(addresses[0]), int(addresses[-1])
        if first > last:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is reversed; expected 'first,last' with first <= last",
                )
            )
            continue
        net = _network_of(networks, first)
        net_last = _network_of(networks, last)
        if net is None or net_last is None:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is outside every cidr_network; expected addresses inside "
                    f"one of {_describe_networks(networks)}",
                )
            )
            continue
        if net is not net_last:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} spans cidr_networks.{net.name} and {net_last.name}; "
                    "expected a range inside one cidr_network",
                )
            )
            continue
        ranges.append((first, last))
    return ranges


def merge_ranges(ranges):
    """Sorted, non-overlapping (first, last) integer ranges covering ``ranges``."""
    out = []
    for first, last in sorted(ranges):
        if out and first <= out[-1][1] + 1:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def _valid_hostname(name):
    if not isinstance(name, str) or not 0 < len(name) <= 253:
        return False
    return all(_HOSTNAME_LABEL.match(label) for label in name.split("."))


def _apply_limit(value, components):
    """OSA's limit_container_types: a var whose mapping holds it applies only to components
    whose name contains it. Returns (applies, value without the key)."""
    if not isinstance(value, dict) or "limit_container_types" not in value:
        return True, value
    limit = _normal(str(value["limit_container_types"]))
    stripped = YamlMap({k: v for k, v in value.items() if k != "limit_container_types"})
    if isinstance(value, YamlMap):
        stripped.where = value.where
        stripped.origin = value.origin
    applies = any(limit in component for component in components)
    return applies, stripped


def _merge_vars(dst, src, path, problems):
    """Merge host vars (YamlMaps) from another group entry; a value given differently is a
    problem that names where both were given."""
    for key, value in src.items():
        where = src.where.get(key, src.origin)
        if key not in dst:
            dst[key] = value
            dst.where[key] = where
        elif isinstance(dst[key], YamlMap) and isinstance(value, YamlMap):
            # Copy before writing: the mapping may be shared with other hosts (YAML anchors).
            copy = YamlMap(dst[key])
            copy.where = dict(dst[key].where)
            copy.origin = dst[key].origin
            dst[key] = copy
            _merge_vars(copy, value, f"{path}.{key}", problems)
        elif dst[key] != value:
            problems.append(
                problem(
                    where,
                    f"{path}.{key}",
                    f"{_show(value)} differs from {_show(dst[key])} given for the same host at "
                    f"{at(dst.where[key])}; expected one value per host",
                )
            )


def _hosts(merged, networks, problems, warnings):
    """Validate host groups and entries; return hosts by name (all, deployed or not)."""
    hosts = {}
    ignored_groups = []
    management = networks.get("management")
    by_address = {}  # ip int -> (host, where, path)
    for group, entries in merged.groups.items():
        where = merged.group_where[group]
        canonical = _KNOWN_GROUPS.get(_normal(group))
        if canonical is None:
            problems.append(
                problem(where, group, f"unknown group{suggest(group, _suggestion_names())}")
            )
            continue
        components = HOST_GROUPS.get(canonical, ())
        if not components:
            ignored_groups.append(group)
        for name, entry, entry_where, path in entries:
            name_text = str(name)
            if not _valid_hostname(name):
                problems.append(
                    problem(
                        entry_where,
                        path,
                        f"{_show(name)} is not a valid hostname; expected letters, digits and "
                        "'-' (RFC 1123), labels of 1-63 characters that do not start or end with "
                        "'-', separated by dots",
                    )
                )
            if not isinstance(entry, YamlMap):
                problems.append(
                    problem(
                        entry_where,
                        path,
                        f"{_show(entry)} is not a mapping; expected {{ip: ADDRESS}} with optional "
                        "container_vars",
                    )
                )
                continue
            for key in entry:
                if key not in HOST_KEYS and key not in IGNORED_HOST_KEYS:
                    problems.append(
                        problem(
                            entry.where[key],
                            f"{path}.{key}",
                            f"unknown key; expected ip or container_vars{suggest(key, HOST_KEYS)}",
                        )
                    )
            ip_value = entry.get("ip")
            ip_where = entry.where.get("ip", entry_where)
            address = _parse_ip(ip_value)
            if "ip" not in entry:
                problems.append(
                    problem(
                        entry_where, f"{path}.ip", "missing; expected the host's management address"
                    )
                )
            elif address is None:
                problems.append(
                    problem(
                        ip_where,
                        f"{path}.ip",
                        f"{_show(ip_value)} is not an IP address; expected the host's management "
                        "address, e.g. 172.29.236.11",
                    )
                )
            elif management is not None and not management.first <= int(address) <= management.last:
                inside = _network_of(networks, int(address))
                where_now = (
                    f"in cidr_networks.{inside.name} ({inside.cidr})"
                    if inside
                    else "outside every cidr_network"
                )
                problems.append(
                    problem(
                        ip_where,
                        f"{path}.ip",
                        f"{_show(ip_value)} is {where_now}; expected a usable address in "
                        f"cidr_networks.{management.name} ({management.cidr})",
                    )
                )
            container_vars = entry.get("container_vars")
            if container_vars is not None and not isinstance(container_vars, YamlMap):
                problems.append(
                    problem(
                        entry.where["container_vars"],
                        f"{path}.container_vars",
                        f"{_show(container_vars)} is not a mapping; expected VAR: VALUE pairs",
                    )
                )
                container_vars = None

            host = hosts.get(name_text)
            if host is None:
                host = Host(
                    name=name_text,
                    ip=str(address) if address is not None else None,
                    ip_int=int(address) if address is not None else None,
                    config_groups=[],
                    components=(),
                    networks=(),
                    host_vars=YamlMap(),
                    where=entry_where,
                    ip_where=ip_where,
                    deployed=False,
                )
                hosts[name_text] = host
                if address is not None:
                    other = by_address.get(int(address))
                    if other is not None:
                        problems.append(
                            problem(
                                ip_where,
                                f"{path}.ip",
                                f"{_show(ip_value)} is already the address of host {other[0]} "
                                f"({other[2]}.ip at {at(other[1])}); expected a unique address",
                            )
                        )
                    else:
                        by_address[int(address)] = (name_text, ip_where, path)
            elif address is not None and host.ip is not None and int(address) != host.ip_int:
                first_path = f"{host.config_groups[0]}.{name_text}.ip" if host.config_groups else ""
                problems.append(
                    problem(
                        ip_where,
                        f"{path}.ip",
                        f"{_show(ip_value)} differs from {_show(host.ip)} given for the same host "
                        f"({first_path} at {at(host.ip_where)}); expected one address per host",
                    )
                )
            host.config_groups.append(group)
            host.components = tuple(sorted({*host.components, *components}))
            host.deployed = host.deployed or bool(components)
            for var, value in (container_vars or {}).items():
                var_where = container_vars.where[var]
                if var in RESERVED_HOST_VARS:
                    problems.append(
                        problem(
                            var_where,
                            f"{path}.container_vars.{var}",
                            "Strata sets this host var itself; expected another variable name",
                        )
                    )
                    continue
                applies, value = _apply_limit(value, components)
                if applies:
                    one = YamlMap({var: value})
                    one.where[var] = var_where
                    _merge_vars(host.host_vars, one, f"{path}.container_vars", problems)
    if ignored_groups:
        only_there = sorted(h.name for h in hosts.values() if not h.deployed and h.config_groups)
        note = (
            f"; hosts only in them are left out of the inventory: {', '.join(only_there)}"
            if (only_there)
            else ""
        )
        warnings.append(
            f"{at(merged.group_where[ignored_groups[0]])}: groups Strata does not deploy are "
            f"ignored: {', '.join(ignored_groups)}{note}"
        )
    return hosts


def _suggestion_names():
    return [*HOST_GROUPS, *NOT_DEPLOYED_GROUPS]


def _bind_groups(name):
    """Component groups named by a provider network group_binds entry (None: all hosts)."""
    if name == "hosts":
        return None
    if name in GROUP_BIND_ALIASES:
        return GROUP_BIND_ALIASES[name]
    if name in COMPONENT_GROUPS:
        return (name,)
    if name in PARENT_GROUPS:
        return PARENT_GROUPS[name]
    canonical = _KNOWN_GROUPS.get(_normal(name))
    if canonical:
        return HOST_GROUPS.get(canonical, ())
    return ()  # OSA groups of services Strata does not deploy (neutron agents, ...)


def _provider_networks(overrides, networks, management_bridge, problems):
    """Validate global_overrides.provider_networks; return {network: extra component groups}."""
    extra = {name: set() for name in ASSIGNED_NETWORKS}
    all_hosts = set()
    value = overrides.get("provider_networks")
    if value is None:
        return extra, all_hosts, []
    base_where = overrides.where.get("provider_networks")
    if not isinstance(value, YamlList):
        problems.append(
            problem(
                base_where,
                "global_overrides.provider_networks",
                f"{_show(value)} is not a list; expected a list of '- network: {{...}}' items",
            )
        )
        return extra, all_hosts, []
    bridges = []
    for index, item in enumerate(value):
        path = f"global_overrides.provider_networks[{index}]"
        where = value.where[index]
        net = item.get("network") if isinstance(item, YamlMap) else None
        if not isinstance(net, YamlMap):
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(item)} is not a '- network: {{...}}' item; expected a mapping with "
                    "container_bridge, ip_from_q and group_binds",
                )
            )
            continue
        path += ".network"
        bridge = net.get("container_bridge")
        if not isinstance(bridge, str) or not bridge:
            problems.append(
                problem(
                    net.where.get("container_bridge", net.origin),
                    f"{path}.container_bridge",
                    f"{'missing' if bridge is None else _show(bridge) + ' is not a bridge name'}; "
                    "expected the name of the bridge on the hosts, e.g. br-storage",
                )
            )
        else:
            bridges.append(bridge)
        queue = net.get("ip_from_q")
        canonical = None
        if queue is not None:
            canonical = NETWORK_ALIASES.get(queue, queue)
            if canonical not in networks:
                defined = ", ".join(n.name for n in networks.values()) or "none"
                problems.append(
                    problem(
                        net.where["ip_from_q"],
                        f"{path}.ip_from_q",
                        f"{_show(queue)} is not in cidr_networks; expected one of: {defined}"
                        f"{suggest(queue, [n.name for n in networks.values()])}",
                    )
                )
                canonical = None
        is_management = (
            any(
                net.get(flag) is True
                for flag in ("is_management_address", "is_container_address", "is_ssh_address")
            )
            or canonical == "management"
        )
        if is_management and isinstance(bridge, str) and bridge != management_bridge:
            problems.append(
                problem(
                    net.where["container_bridge"],
                    f"{path}.container_bridge",
                    f"{_show(bridge)} is the management network's bridge but "
                    f"global_overrides.management_bridge is {_show(management_bridge)}; expected "
                    "the same bridge",
                )
            )
        binds = net.get("group_binds", [])
        if not isinstance(binds, list) or not all(isinstance(b, str) for b in binds):
            problems.append(
                problem(
                    net.where.get("group_binds", net.origin),
                    f"{path}.group_binds",
                    f"{_show(binds)} is not a list of group names; expected e.g. "
                    "[glance_api, cinder_volume, nova_compute]",
                )
            )
            continue
        if canonical in extra:
            for bind in binds:
                groups = _bind_groups(bind)
                if groups is None:
                    all_hosts.add(canonical)
                else:
                    extra[canonical].update(groups)
    return extra, all_hosts, bridges


def _host_networks(host, extra, all_hosts):
    needs = set(all_hosts)
    for component in host.components:
        needs.update(NETWORKS_USED_BY.get(component, ()))
        needs.update(net for net, groups in extra.items() if component in groups)
    return tuple(n for n in ASSIGNED_NETWORKS if n in needs)


def _vips(overrides, networks, hosts_by_ip, where_overrides, problems):
    """Validate the load balancer VIPs; return their integers (for the reserved set)."""
    reserved = []
    management = networks.get("management")
    for key, what in (
        ("internal_lb_vip_address", "the internal load balancer VIP"),
        ("external_lb_vip_address", "the external load balancer VIP"),
    ):
        path = f"global_overrides.{key}"
        value = overrides.get(key)
        if value is None:
            problems.append(
                problem(
                    where_overrides,
                    path,
                    f"missing; expected {what}: an IP address"
                    + (" in cidr_networks.management" if key.startswith("internal") else "")
                    + " or a DNS name",
                )
            )
            continue
        where = overrides.where[key]
        address = _parse_ip(value)
        if address is None:
            if not _valid_hostname(value) or re.fullmatch(r"[0-9.]+", str(value)):
                problems.append(
                    problem(
                        where,
                        path,
                        f"{_show(value)} is neither an IP address nor a DNS name; expected {what}",
                    )
                )
            continue
        reserved.append(int(address))
        inside = management is not None and management.first <= int(address) <= management.last
        if key.startswith("internal") and management is not None and not inside:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is outside cidr_networks.{management.name} "
                    f"({management.cidr}); expected a usable address in it (haproxy and "
                    "keepalived hold it on the management bridge)",
                )
            )
        owner = hosts_by_ip.get(int(address))
        if owner is not None:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is already the address of host {owner.name} "
                    f"({owner.config_groups[0]}.{owner.name}.ip at {at(owner.ip_where)}); "
                    "expected an address no host uses",
                )
            )
    return reserved


def _int_between(value, low, high):
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _swift(overrides, hosts, problems):
    """Validate global_overrides.swift against the swift hosts."""
    swift = overrides.get("swift")
    swift_hosts = [h for h in hosts.values() if "swift_storage" in h.components]
    base = "global_overrides.swift"
    if swift is None:
        if swift_hosts:
            problems.append(
                problem(
                    overrides.origin or (swift_hosts[0].where[0], None),
                    base,
                    "missing; expected swift settings (part_power, replicas, drives, "
                    "storage_policies) because swift_hosts has hosts",
                )
            )
        return
    if not isinstance(swift, YamlMap):
        problems.append(
            problem(
                overrides.where["swift"],
                base,
                f"{_show(swift)} is not a mapping; expected swift settings",
            )
        )
        return
    where = swift.where

    part_power = swift.get("part_power")
    low, high = PART_POWER_RANGE
    if part_power is None:
        if swift_hosts:
            problems.append(
                problem(
                    overrides.where["swift"],
                    f"{base}.part_power",
                    f"missing; expected an integer from {low} to {high} (2^part_power partitions)",
                )
            )
    elif not _int_between(part_power, low, high):
        problems.append(
            problem(
                where["part_power"],
                f"{base}.part_power",
                f"{_show(part_power)} is not valid; expected an integer from {low} to {high} "
                "(2^part_power partitions)",
            )
        )

    min_part_hours = swift.get("min_part_hours")
    if min_part_hours is not None and not _int_between(min_part_hours, 0, 10**6):
        problems.append(
            problem(
                where["min_part_hours"],
                f"{base}.min_part_hours",
                f"{_show(min_part_hours)} is not valid; expected an integer of hours >= 0",
            )
        )

    # Replica counts: global, per ring (account, container) and per storage policy.
    replica_settings = []  # (where, path, value)

    def collect(mapping, path):
        for key in ("replicas", "repl_number"):
            if key in mapping:
                replica_settings.append((mapping.where[key], f"{path}.{key}", mapping[key]))

    collect(swift, base)
    if not any(key in swift for key in ("replicas", "repl_number")):
        replica_settings.append((None, f"{base}.replicas", SWIFT_DEFAULT_REPLICAS))
    for ring in ("account", "container"):
        if isinstance(swift.get(ring), YamlMap):
            collect(swift[ring], f"{base}.{ring}")
    policies = swift.get("storage_policies")
    if policies is not None:
        _swift_policies(policies, swift, base, collect, problems)

    global_drives = swift.get("drives", [])
    if not isinstance(global_drives, list) or not all(
        isinstance(d, dict) and isinstance(d.get("name"), str) for d in global_drives
    ):
        problems.append(
            problem(
                where.get("drives", swift.origin),
                f"{base}.drives",
                f"{_show(global_drives)} is not a list of drives; expected e.g. "
                "[{name: sdc}, {name: sdd}]",
            )
        )
        global_drives = []

    zones = set()
    hosts_without_drives = []
    default_zone = (swift.get("region", 1), swift.get("zone", 0))
    for host in swift_hosts:
        swift_vars = host.host_vars.get("swift_vars") or {}
        if not isinstance(swift_vars, dict):
            swift_vars = {}
        host_zone = (
            swift_vars.get("region", default_zone[0]),
            swift_vars.get("zone", default_zone[1]),
        )
        drives = swift_vars.get("drives") or global_drives
        if not drives:
            hosts_without_drives.append(host.name)
        for drive in drives if isinstance(drives, list) else []:
            if isinstance(drive, dict):
                region = drive.get("region", host_zone[0])
                zone = drive.get("zone", host_zone[1])
                zones.add((str(region), str(zone)))  # str: a stray list must not crash this
    if hosts_without_drives:
        problems.append(
            problem(
                where.get("drives", swift.origin),
                f"{base}.drives",
                f"no drives for swift hosts {', '.join(hosts_without_drives)}; expected "
                "global_overrides.swift.drives or container_vars.swift_vars.drives",
            )
        )
    if not swift_hosts:
        return
    zone_names = ", ".join(f"r{r}z{z}" for r, z in sorted(zones))
    for setting_where, path, value in replica_settings:
        shown_where = setting_where or where.get("part_power", swift.origin)
        if not _int_between(value, 1, 100):
            problems.append(
                problem(shown_where, path, f"{_show(value)} is not valid; expected an integer >= 1")
            )
        elif value > len(zones):
            problems.append(
                problem(
                    shown_where,
                    path,
                    f"{value} replicas is more than the {len(zones)} swift zones available "
                    f"({zone_names}); expected at most {len(zones)}, or more zones "
                    "(container_vars.swift_vars.zone per host, or zone per drive)",
                )
            )


def _swift_policies(policies, swift, base, collect, problems):
    path = f"{base}.storage_policies"
    if not isinstance(policies, YamlList):
        problems.append(
            problem(
                swift.where["storage_policies"],
                path,
                f"{_show(policies)} is not a list; expected '- policy: {{name, index}}' items",
            )
        )
        return
    indexes = {}
    defaults = []
    for index, item in enumerate(policies):
        item_path = f"{path}[{index}].policy"
        policy = item.get("policy") if isinstance(item, YamlMap) else None
        if not isinstance(policy, YamlMap):
            problems.append(
                problem(
                    policies.where[index],
                    f"{path}[{index}]",
                    f"{_show(item)} is not a '- policy: {{...}}' item; expected name and index",
                )
            )
            continue
        if not isinstance(policy.get("name"), str):
            problems.append(
                problem(
                    policy.where.get("name", policy.origin),
                    f"{item_path}.name",
                    f"{_show(policy.get('name'))} is not a policy name; expected a string",
                )
            )
        policy_index = policy.get("index")
        if not _int_between(policy_index, 0, 2**31):
            problems.append(
                problem(
                    policy.where.get("index", policy.origin),
                    f"{item_path}.index",
                    f"{_show(policy_index)} is not a policy index; expected an integer >= 0",
                )
            )
        elif policy_index in indexes:
            problems.append(
                problem(
                    policy.where["index"],
                    f"{item_path}.index",
                    f"{policy_index} is also the index of storage_policies[{indexes[policy_index]}]"
                    "; expected unique indexes",
                )
            )
        else:
            indexes[policy_index] = index
        if policy.get("default") is True:
            defaults.append(index)
        if policy.get("policy_type", "replication") == "replication":
            collect(policy, item_path)
    if 0 not in indexes or len(defaults) != 1:
        problems.append(
            problem(
                swift.where["storage_policies"],
                path,
                f"{len(defaults)} default policies and "
                f"{'an' if 0 in indexes else 'no'} index 0; expected exactly one policy with "
                "default: true and one with index: 0",
            )
        )


def _cluster_sizes(hosts, merged, warnings):
    members = {group: [] for group in CLUSTERED_GROUPS}
    feeding = {group: [] for group in CLUSTERED_GROUPS}
    for host in hosts.values():
        for group in host.components:
            if group in members:
                members[group].append(host.name)
    for config_group in merged.groups:
        canonical = _KNOWN_GROUPS.get(_normal(config_group))
        for component in HOST_GROUPS.get(canonical, ()):
            if component in feeding:
                feeding[component].append(config_group)
    for group in CLUSTERED_GROUPS:
        names = members[group]
        if not names:
            continue
        where = merged.group_where[feeding[group][0]]
        path = " + ".join(feeding[group])
        listed = ", ".join(names)
        if len(names) < 3:
            warnings.append(
                problem(
                    where,
                    path,
                    f"{group} has {len(names)} host{'s' if len(names) > 1 else ''} ({listed}); "
                    "expected 3 or more so that the cluster survives the loss of one",
                )
            )
        if group in ODD_SIZED_GROUPS and len(names) % 2 == 0:
            warnings.append(
                problem(
                    where,
                    path,
                    f"{group} has an even number of hosts ({len(names)}: {listed}); expected an "
                    "odd number so that a majority survives a network split",
                )
            )


def _required_networks(hosts, networks, main_file, merged, problems):
    """Every assigned network some host needs must be defined (replication falls back to
    storage)."""
    needed = {}
    for host in hosts.values():
        for net in host.networks:
            needed.setdefault(net, set()).update(host.config_groups)
    where = next(iter(merged.cidr_networks.values()), (None, (str(main_file), None)))[1]
    if "storage" in needed and "storage" not in networks:
        problems.append(
            problem(
                where,
                "cidr_networks.storage",
                "missing; expected a CIDR because hosts in "
                f"{', '.join(sorted(needed['storage']))} need storage addresses",
            )
        )


def pool_shortfalls(networks, reserved, hosts):
    """(network, needed, free) for each assigned network whose pool is too small."""
    short = []
    for name in ASSIGNED_NETWORKS:
        net = networks.get(name)
        if net is None:
            continue
        needed = sum(1 for h in hosts.values() if name in h.networks)
        free = net.size - reserved_count(reserved, net.first, net.last)
        if needed > free:
            short.append((net, needed, free))
    return short


def reserved_count(ranges, first, last):
    """How many integers of [first, last] the merged ``ranges`` cover."""
    total = 0
    for start, end in ranges:
        lo, hi = max(start, first), min(end, last)
        if lo <= hi:
            total += hi - lo + 1
    return total


def _user_variable_files(config_dir, problems):
    files = sorted(config_dir.glob("user_variables*.yml"))
    for path in files:
        data = read_yaml(path, problems)
        if data is not None and not isinstance(data, dict):
            problems.append(
                f"{path}: top level is a {type(data).__name__}; expected a mapping of variables"
            )
    return files


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: loading builds many small objects and no cycles, and
    its passes over the growing heap would make loading time grow faster than the host count."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(config_dir=None):
    """Load and validate the config directory: ``(Config, warnings)`` or ValidationError."""
    with _gc_paused():
        return _load(config_dir_from(config_dir))


def _load(config_dir):
    problems = []
    warnings = []
    files = _files(config_dir, problems)
    docs = [(path, read_yaml(path, problems)) for path in files]
    user_files = _user_variable_files(config_dir, problems) if files else []
    if problems:
        # A file that does not parse leaves the rest without meaning: report what we have.
        raise ValidationError(problems)
    merged = _merge(docs, problems)
    main_file = files[0] if files else config_dir / CONFIG_FILE

    networks, net_warnings = _networks(merged, problems)
    warnings.extend(net_warnings)
    if "management" not in networks and not any(
        NETWORK_ALIASES.get(n, n) == "management" for n in merged.cidr_networks
    ):
        problems.append(
            problem(
                (str(main_file), None),
                "cidr_networks.management",
                "missing; expected the management network, e.g. management: 172.29.236.0/22 "
                "(OSA's name 'container' is accepted)",
            )
        )
    used = _used_ips(merged, networks, problems)

    overrides = merged.global_overrides
    overrides_where = merged.global_where or (str(main_file), None)
    overrides.origin = overrides.origin or overrides_where
    management_bridge = overrides.get("management_bridge", "br-mgmt")
    if not isinstance(management_bridge, str) or not management_bridge:
        problems.append(
            problem(
                overrides.where["management_bridge"],
                "global_overrides.management_bridge",
                f"{_show(management_bridge)} is not a bridge name; expected e.g. br-mgmt",
            )
        )

    all_hosts = _hosts(merged, networks, problems, warnings)
    extra, everyone, bridges = _provider_networks(overrides, networks, management_bridge, problems)
    for host in all_hosts.values():
        if host.deployed:
            host.networks = _host_networks(host, extra, everyone)
    hosts = {name: all_hosts[name] for name in sorted(all_hosts) if all_hosts[name].deployed}

    swift = overrides.get("swift")
    if bridges and isinstance(swift, YamlMap):
        for key in ("storage_network", "replication_network", "repl_network"):
            value = swift.get(key)
            if value is not None and value not in bridges:
                problems.append(
                    problem(
                        swift.where[key],
                        f"global_overrides.swift.{key}",
                        f"{_show(value)} is not the container_bridge of any provider network; "
                        f"expected one of {', '.join(sorted(set(bridges)))}",
                    )
                )

    hosts_by_ip = {h.ip_int: h for h in all_hosts.values() if h.ip_int is not None}
    vip_ints = _vips(overrides, networks, hosts_by_ip, overrides_where, problems)
    reserved = merge_ranges(used + [(v, v) for v in vip_ints])

    _required_networks(hosts, networks, main_file, merged, problems)
    _swift(overrides, hosts, problems)
    glance_config.check(overrides, hosts, problems)
    _cluster_sizes(hosts, merged, warnings)
    for net, needed, free in pool_shortfalls(networks, reserved, hosts):
        problems.append(
            problem(
                net.where,
                f"cidr_networks.{net.name}",
                f"pool exhausted: {needed} hosts need a {net.name} address but {net.cidr} has "
                f"{free} free (after used_ips and VIPs); expected a larger network or fewer "
                "used_ips",
            )
        )

    if problems:
        raise ValidationError(problems)
    config = Config(
        config_dir=config_dir,
        files=files,
        user_variable_files=user_files,
        networks=networks,
        reserved=reserved,
        global_overrides=overrides,
        hosts=hosts,
        ignored_hosts=sorted(h for h in all_hosts if not all_hosts[h].deployed),
    )
    return config, warnings

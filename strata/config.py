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

from strata import ceph_config, glance_config, swift_config
from strata.errors import DeployBlocker, ValidationError

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
    # OSA puts glance, nova's control plane, heat and horizon here; Strata deploys glance and nova.
    "os-infra_hosts": ("glance_api", "nova_api_os_compute", "nova_conductor", "nova_scheduler"),
    # nova's control plane and placement under OSA's group names (OSA's env.d nova.yml and
    # placement.yml); neutron-server alone (no agents: Strata deploys no tenant networking).
    "compute-infra_hosts": ("nova_api_os_compute", "nova_conductor", "nova_scheduler"),
    "placement-infra_hosts": ("placement_api",),
    "network-infra_hosts": ("neutron_server",),
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
    "network-agent_hosts",
    "network-gateway_hosts",
    "network-northd_hosts",
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
    "nova_all": ("nova_api_os_compute", "nova_conductor", "nova_scheduler", "nova_compute"),
    "placement_all": ("placement_api",),
    "neutron_all": ("neutron_server",),
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
# Host entry keys: `ip` (the address Ansible connects to, and the management address unless
# `management_ip` is given, as in OSA), `container_vars` and `host_vars` (host variables).
HOST_KEYS = ("ip", "management_ip", "container_vars", "host_vars")
# OSA host keys that only matter for containers: accepted and ignored.
IGNORED_HOST_KEYS = ("affinity", "no_containers", "properties")

SWIFT_DEFAULT_REPLICAS = swift_config.DEFAULT_REPLICAS
PART_POWER_RANGE = swift_config.PART_POWER_RANGE

# Host names: lower case (names are case-insensitive in DNS and /etc/hosts, so `Infra1` and
# `infra1` would be one host), digits and '-'; '_' is accepted with a warning (OSA and Ansible
# accept it, /etc/hosts resolves it, but it is not a valid DNS name).
_HOSTNAME_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Linux interface names: at most 15 characters (IFNAMSIZ - 1), no '/', ':' or whitespace.
_BRIDGE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")
# Network names OSA's provider networks give with address_prefix / the management flags.
ADDRESS_PREFIX_ROLES = {"management": "management", "container": "management"}
ADDRESS_PREFIX_ROLES.update({n: n for n in ("storage", "replication", "tunnel")})
ENV_D = "env.d"


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


# Limits on what a config file may hold, checked before the document is built: libyaml's composer
# recurses in C (a list nested 100,000 deep crashes the interpreter), and aliases can make a 1 KB
# file expand to gigabytes ("billion laughs"). Real configs are far below each limit: the
# 1000-host reference layout nests 8 deep and expands to about 20,000 values.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_VALUES = 2_000_000


def yaml_limits_problem(text):
    """What makes ``text`` too big or too deep to build (a message), or None.

    Walks libyaml's parser events (a state machine, no recursion): the nesting depth, and the
    number of values once every alias is expanded (each anchor's expanded size is counted once)."""
    if len(text) > MAX_FILE_BYTES:
        return f"{len(text)} bytes; expected at most {MAX_FILE_BYTES}"
    stack = [0]  # expanded values of each open collection
    anchored = {}  # anchor -> expanded values of the node it names
    anchors = [None]  # anchor of each open collection
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append(0)
                anchors.append(event.anchor)
                if len(stack) - 1 > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    return (
                        f"line {line}: nested more than {MAX_DEPTH} deep; expected a flatter config"
                    )
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                size = stack.pop() + 1
                anchor = anchors.pop()
                if anchor is not None:
                    anchored[anchor] = size
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor is not None:
                    anchored[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                size = anchored.get(event.anchor, 1)
            else:
                continue
            stack[-1] += size
            if stack[-1] > MAX_EXPANDED_VALUES or stack[0] > MAX_EXPANDED_VALUES:
                line = event.start_mark.line + 1
                return (
                    f"line {line}: aliases expand the document to more than "
                    f"{MAX_EXPANDED_VALUES} values; expected a config without alias bombs"
                )
    except yaml.YAMLError:
        return None  # the loader reports it, with its position
    return None


def read_yaml(path, problems, string_keys=True):
    """Parse one YAML file; on error append a message to ``problems`` and return None.

    With ``string_keys``, every mapping key must be a string (YAML reads `1:`, `~:`, `yes:` and
    `2024-01-01:` as other types, which the inventory cannot hold)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{file}: cannot read: {exc.strerror}; expected a readable YAML file")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason}); expected a UTF-8 YAML file")
        return None
    too_much = yaml_limits_problem(text)
    if too_much is not None:
        problems.append(f"{file}: {too_much}")
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
    if string_keys:
        _string_keys(data, "", problems)
    return data


def _string_keys(node, path, problems):
    """Report every mapping key that is not a string, with its key path. Each node once (aliases
    share nodes), iteratively (depth is bounded, but keep the stack small)."""
    seen = set()
    todo = [(node, path)]
    while todo:
        node, path = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, YamlMap):
            for key, value in node.items():
                shown = key if isinstance(key, str) else repr(key)
                here = f"{path}.{shown}" if path else shown
                if not isinstance(key, str):
                    where = node.where.get(key, node.origin)
                    problems.append(
                        problem(
                            where,
                            here,
                            f"the key {key!r} is a YAML {type(key).__name__}, not a string; "
                            f"expected a name (quote it: '{key}')",
                        )
                    )
                if isinstance(value, (YamlMap, YamlList)):
                    todo.append((value, here))
        elif isinstance(node, YamlList):
            for index, value in enumerate(node):
                if isinstance(value, (YamlMap, YamlList)):
                    todo.append((value, f"{path}[{index}]"))


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
    role: str = None  # management, storage, replication, tunnel, or None (not used by Strata)
    net_first: int = None  # network address (reserved ranges may start here)
    net_last: int = None  # broadcast address (reserved ranges may end here)

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
    ssh_ip: str = None  # `ip` when `management_ip` gives another management address
    # {role: Network} of the host's management network and of each assigned network it needs.
    pools: dict = field(default_factory=dict)
    extra_groups: tuple = ()  # groups env.d defines that the host is in (az1_all, ...)


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
    # {role: [Network, ...]}: the networks each role's addresses come from (OSA's L3 pods and
    # availability zones have one per pod or zone, chosen by the provider network's
    # reference_group).
    pools: dict = field(default_factory=dict)

    def extra_groups(self):
        """Groups env.d defines -> sorted host names (deployed hosts only)."""
        members = {}
        for host in self.hosts.values():
            for group in host.extra_groups:
                members.setdefault(group, []).append(host.name)
        return dict(sorted(members.items()))

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
        self.memberships = {}  # group -> (components, extra groups, deployed), see _hosts


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
            if isinstance(key, str) and key.startswith("_"):
                continue  # a YAML anchor holder (OSA's `_infrastructure_hosts: &infra`)
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


def _provider_items(overrides):
    """The well-formed `- network: {...}` mappings of provider_networks (checked elsewhere)."""
    value = overrides.get("provider_networks") if isinstance(overrides, dict) else None
    out = []
    for item in value if isinstance(value, list) else []:
        net = item.get("network") if isinstance(item, dict) else None
        if isinstance(net, dict):
            out.append(net)
    return out


def _prefix_role(name):
    """The role an OSA address_prefix or network name gives: `storage`, or `storage_az1` (one
    of several storage networks, as in OSA's availability-zone example)."""
    if not isinstance(name, str):
        return None
    return ADDRESS_PREFIX_ROLES.get(name) or ADDRESS_PREFIX_ROLES.get(name.split("_")[0])


def _queue_roles(overrides):
    """{cidr_networks name: role} that provider networks give a network with another name:
    `address_prefix` (OSA's name of the address variable) or the management flags."""
    roles = {}
    for net in _provider_items(overrides):
        queue = net.get("ip_from_q")
        if not isinstance(queue, str):
            continue
        role = _prefix_role(net.get("address_prefix")) or _prefix_role(queue)
        if role is None and any(
            net.get(flag) is True for flag in ("is_management_address", "is_container_address")
        ):
            role = "management"
        if role is not None:
            roles.setdefault(queue, role)
    return roles


def _networks(merged, problems):
    """Validate cidr_networks; return (networks by canonical name, warnings)."""
    networks = {}
    warnings = []
    queue_roles = _queue_roles(merged.global_overrides)
    for name, (value, where) in merged.cidr_networks.items():
        path = f"cidr_networks.{name}"
        canonical = NETWORK_ALIASES.get(name, name)
        role = canonical if canonical in NETWORK_NAMES else queue_roles.get(name)
        if role is None:
            warnings.append(
                problem(
                    where,
                    path,
                    "not a network Strata uses (management or container, storage, replication, "
                    "tunnel, or one a provider network gives that address_prefix); only checked "
                    f"for overlaps{suggest(name, NETWORK_NAMES)}",
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
        if role == "management" and net.version != 4:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is an IPv6 network; expected an IPv4 management network "
                    "(the roles write IPv4-only Erlang, Galera and keepalived settings)",
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
        networks[key] = Network(
            name,
            str(net.cidr),
            first,
            last,
            net.version,
            where,
            role,
            int(net.first),
            int(net.last),
        )

    # Overlaps: sort by start, compare neighbours (n log n, no pairwise scan).
    spans = sorted((n.net_first, n.net_last, n.name, n) for n in networks.values())
    widest = None
    for start, end, _, net in spans:
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


def _role_networks(networks, role):
    return [n for n in networks.values() if n.role == role]


def _network_of(networks, value):
    for net in networks.values():
        if net.first <= value <= net.last:
            return net
    return None


def _describe_networks(networks):
    return ", ".join(f"{n.name} ({n.cidr})" for n in networks.values()) or "none defined"


def _used_ips(merged, networks, problems, warnings):
    """used_ips as integer ranges. Ranges (or parts of them) outside every cidr_network reserve
    nothing and are harmless (OSA ignores them): one warning lists them. A range may start at a
    network's own address or end at its broadcast address."""
    ranges = []
    outside = []
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
        if addresses[0].version != addresses[-1].version:
            problems.append(
                problem(where, path, f"{_show(value)} mixes IPv4 and IPv6; expected one IP version")
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
        version = addresses[0].version
        touches = [
            n
            for n in networks.values()
            if n.version == version
            and n.net_first is not None
            and first <= n.net_last
            and last >= n.net_first
        ]
        if not touches:
            outside.append(f"{text} ({path} at {at(where)})")
            continue
        ranges.append((first, last))
    if outside:
        warnings.append(
            f"used_ips outside every cidr_network reserve nothing and are ignored: "
            f"{'; '.join(outside)}"
        )
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


def _hostname_problem(name):
    """(what is wrong with a host name or None, whether it holds '_')."""
    expected = (
        "expected letters, digits and '-' (RFC 1123), labels of 1-63 characters that do not "
        "start or end with '-', separated by dots"
    )
    if not isinstance(name, str):
        return f"{_show(name)} is a YAML {type(name).__name__}, not a host name; {expected}", False
    if not 0 < len(name) <= 253:
        return f"{_show(name)} has {len(name)} characters; {expected} (253 at most)", False
    if name.isascii() and name != name.lower():
        return (
            f"{_show(name)} has upper-case letters; expected lower case, {name.lower()!r} (names "
            "are case-insensitive in DNS and /etc/hosts)"
        ), False
    labels = name.split(".")
    if not all(_HOSTNAME_LABEL.fullmatch(label) for label in labels):
        return f"{_show(name)} is not a valid hostname; {expected}", False
    if labels[-1].isdigit():
        return (
            f"{_show(name)} looks like an address, not a hostname; {expected}, the last label "
            "not all digits"
        ), False
    return None, "_" in name


def _valid_hostname(name):
    """A DNS name (for VIPs): RFC 1123 labels, any case, not all-numeric."""
    if not isinstance(name, str) or not 0 < len(name) <= 253:
        return False
    labels = name.split(".")
    return all(_DNS_LABEL.fullmatch(part) for part in labels) and not labels[-1].isdigit()


# --- env.d: OSA's group skeletons ---------------------------------------------------------------

# OSA's generic parents: every host and container is in them; they carry no meaning here.
_GENERIC_GROUPS = {"hosts", "all", "all_containers"}


@dataclass
class EnvD:
    """What env.d/*.yml define: group -> parent groups (belongs_to of component_skel and
    physical_skel entries), and container group -> the components its containers hold."""

    parents: dict = field(default_factory=dict)
    contains: dict = field(default_factory=dict)
    files: list = field(default_factory=list)

    def defines(self, group):
        normal = _normal(group)
        containers = normal[: -len("_hosts")] + "_containers" if normal.endswith("_hosts") else None
        return normal in self.parents or (containers is not None and containers in self.contains)

    def groups_of(self, group):
        """Every group (components included) a host of config group ``group`` is in."""
        normal = _normal(group)
        todo = [normal]
        if normal.endswith("_hosts"):
            todo.extend(self.contains.get(normal[: -len("_hosts")] + "_containers", ()))
        out = set()
        while todo:
            name = todo.pop()
            if name in out:
                continue
            out.add(name)
            todo.extend(self.parents.get(name, ()))
        return out


def _env_d(config_dir, problems):
    """Read env.d/*.yml (OSA's format: component_skel, container_skel, physical_skel)."""
    env = EnvD()
    for path in sorted((config_dir / ENV_D).glob("*.yml")):
        env.files.append(path)
        doc = read_yaml(path, problems)
        if doc is None:
            continue
        if not isinstance(doc, YamlMap):
            problems.append(
                f"{path}: top level is a {type(doc).__name__}; expected a mapping of "
                "component_skel, container_skel and physical_skel"
            )
            continue
        for section, entries in doc.items():
            if section not in ("component_skel", "container_skel", "physical_skel"):
                continue  # e.g. `version`: nothing Strata needs
            if entries is None:
                continue
            if not isinstance(entries, YamlMap):
                problems.append(
                    problem(doc.where[section], section, f"{_show(entries)} is not a mapping")
                )
                continue
            for name, entry in entries.items():
                here = f"{section}.{name}"
                entry = entry if entry is not None else YamlMap()
                if not isinstance(entry, YamlMap):
                    problems.append(
                        problem(entries.where[name], here, f"{_show(entry)} is not a mapping")
                    )
                    continue
                lists = {}
                for key in ("belongs_to", "contains"):
                    value = entry.get(key, [])
                    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                        problems.append(
                            problem(
                                entry.where.get(key, entry.origin),
                                f"{here}.{key}",
                                f"{_show(value)} is not a list of group names",
                            )
                        )
                        value = []
                    lists[key] = [_normal(v) for v in value]
                normal = _normal(name)
                if section == "container_skel":
                    for container_group in lists["belongs_to"]:
                        env.contains.setdefault(container_group, []).extend(lists["contains"])
                else:
                    env.parents.setdefault(normal, []).extend(lists["belongs_to"])
    return env


def _strata_components(names):
    """Strata component groups for OSA group and component names (an env.d closure)."""
    out = set()
    for name in names:
        canonical = _KNOWN_GROUPS.get(_normal(name) + "_hosts")
        if canonical is not None:
            out.update(HOST_GROUPS.get(canonical, ()))
        elif name in COMPONENT_GROUPS:
            out.add(name)
        elif name in GROUP_BIND_ALIASES:
            out.update(GROUP_BIND_ALIASES[name])
    return out


def _edit_distance(a, b):
    """Edits between two short strings: insert, delete, replace, or swap two neighbours."""
    rows = [list(range(len(b) + 1))]
    for i, char_a in enumerate(a, start=1):
        row = [i]
        for j, char_b in enumerate(b, start=1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def likely_typo(group, known):
    """The known group ``group`` is probably a misspelling of, or None.

    One edit apart (a letter left out, added, replaced, or two swapped): `swfit_hosts`,
    `shared_infr_hosts`. Names that add a word to a known one (`az1_storage_hosts`,
    `pinned_compute_hosts`) are the operator's own groups (OSA warns about those and goes on),
    not typos: difflib's ratio rates both kinds alike (0.87-0.91), so the edit distance decides."""
    normal = _normal(group)
    for name in known:
        other = _normal(name)
        if abs(len(other) - len(normal)) <= 1 and _edit_distance(normal, other) == 1:
            return name
    return None


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


def _group_memberships(merged, env, problems, warnings):
    """{config group: (components, extra groups, deployed)} for every group that is accepted."""
    out = {}
    unknown = []
    for group in merged.groups:
        where = merged.group_where[group]
        canonical = _KNOWN_GROUPS.get(_normal(group))
        if canonical is not None:
            components = set(HOST_GROUPS.get(canonical, ()))
            extra = set()
            if env.defines(group):
                closure = env.groups_of(group)
                components |= _strata_components(closure)
                extra = _extra_groups(closure)
            out[group] = (tuple(sorted(components)), tuple(sorted(extra)), bool(components))
            continue
        if env.defines(group):
            closure = env.groups_of(group)
            components = _strata_components(closure)
            extra = _extra_groups(closure)
            out[group] = (tuple(sorted(components)), tuple(sorted(extra)), bool(components))
            continue
        typo = likely_typo(group, _suggestion_names())
        if typo is not None:
            problems.append(problem(where, group, f"unknown group; did you mean {typo}?"))
            continue
        unknown.append(group)
        out[group] = ((), (), False)
    if unknown:
        warnings.append(
            f"{at(merged.group_where[unknown[0]])}: groups that neither Strata nor env.d/ define "
            f"are ignored (YAML anchor holders, or groups of other tools): {', '.join(unknown)}"
        )
    return out


def _extra_groups(closure):
    """The env.d groups worth keeping in the inventory: not Strata's own, not OSA's generic
    parents, not container groups (Strata runs no containers)."""
    own = set(COMPONENT_GROUPS) | set(PARENT_GROUPS)
    return {
        name
        for name in closure
        if name not in own
        and name not in _GENERIC_GROUPS
        and not name.endswith("_containers")
        and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
    }


def _hosts(merged, networks, env, problems, warnings):
    """Validate host groups and entries; return hosts by name (all, deployed or not)."""
    hosts = {}
    ignored_groups = []
    management_nets = _role_networks(networks, "management")
    by_address = {}  # ip int -> (host, where, path)
    by_folded = {}  # host name case-folded -> first spelling
    underscored = []
    memberships = _group_memberships(merged, env, problems, warnings)
    merged.memberships = memberships
    for group, entries in merged.groups.items():
        if group not in memberships:
            continue
        components, extra_groups, deploys = memberships[group]
        canonical = _KNOWN_GROUPS.get(_normal(group))
        if not deploys and canonical is not None:
            ignored_groups.append(group)
        for name, entry, entry_where, path in entries:
            name_text = str(name)
            name_problem, has_underscore = _hostname_problem(name)
            if name_problem is not None:
                problems.append(problem(entry_where, path, name_problem))
            elif has_underscore and name_text not in underscored:
                underscored.append(name_text)
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
                            "unknown key; expected ip, management_ip, container_vars or host_vars "
                            "(OSA's affinity, no_containers and properties are ignored)"
                            f"{suggest(key, HOST_KEYS)}",
                        )
                    )
            ip_value = entry.get("ip")
            ip_where = entry.where.get("ip", entry_where)
            ssh_address = _parse_ip(ip_value)
            management_key = "management_ip" if "management_ip" in entry else "ip"
            mgmt_value = entry.get(management_key)
            mgmt_where = entry.where.get(management_key, entry_where)
            address = _parse_ip(mgmt_value)
            if "ip" not in entry:
                problems.append(
                    problem(
                        entry_where, f"{path}.ip", "missing; expected the host's management address"
                    )
                )
                address = None
            elif ssh_address is None:
                problems.append(
                    problem(
                        ip_where,
                        f"{path}.ip",
                        f"{_show(ip_value)} is not an IP address; expected the host's management "
                        "address, e.g. 172.29.236.11",
                    )
                )
                address = None
            elif address is None:
                problems.append(
                    problem(
                        mgmt_where,
                        f"{path}.{management_key}",
                        f"{_show(mgmt_value)} is not an IP address; expected the host's "
                        "management address, e.g. 172.29.236.11",
                    )
                )
            management = None
            known = hosts.get(name_text)
            if known is not None and known.ip_int is not None and address is not None:
                if int(address) == known.ip_int:
                    management = known.pools.get("management")
                    address_checked = True
                else:
                    address_checked = False
            else:
                address_checked = False
            if address is not None and management_nets and not address_checked:
                management = next(
                    (n for n in management_nets if n.first <= int(address) <= n.last), None
                )
                if management is None:
                    inside = _network_of(networks, int(address))
                    where_now = (
                        f"in cidr_networks.{inside.name} ({inside.cidr})"
                        if inside
                        else "outside every cidr_network"
                    )
                    wanted = " or ".join(
                        f"cidr_networks.{n.name} ({n.cidr})" for n in management_nets
                    )
                    problems.append(
                        problem(
                            mgmt_where,
                            f"{path}.{management_key}",
                            f"{_show(mgmt_value)} is {where_now}; expected a usable address in "
                            f"{wanted}",
                        )
                    )
            container_vars = YamlMap()
            for vars_key in ("container_vars", "host_vars"):
                value = entry.get(vars_key)
                if value is None:
                    continue
                if not isinstance(value, YamlMap):
                    problems.append(
                        problem(
                            entry.where[vars_key],
                            f"{path}.{vars_key}",
                            f"{_show(value)} is not a mapping; expected VAR: VALUE pairs",
                        )
                    )
                    continue
                # OSA: `limit_container_types` at the top of container_vars limits all of them
                # to the components whose name contains it.
                applies, value = _apply_limit(value, components)
                if not applies:
                    continue
                for var, var_value in value.items():
                    container_vars[var] = var_value
                    container_vars.where[var] = (value.where[var], vars_key)

            folded = name_text.casefold()
            if by_folded.setdefault(folded, name_text) != name_text:
                problems.append(
                    problem(
                        entry_where,
                        path,
                        f"{_show(name)} and {_show(by_folded[folded])} differ only in case; "
                        "expected one spelling (host names are case-insensitive)",
                    )
                )
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
                    ip_where=mgmt_where,
                    deployed=False,
                    ssh_ip=str(ssh_address) if ssh_address is not None else None,
                )
                if management is not None:
                    host.pools["management"] = management
                hosts[name_text] = host
                if address is not None:
                    other = by_address.get(int(address))
                    if other is not None:
                        problems.append(
                            problem(
                                mgmt_where,
                                f"{path}.{management_key}",
                                f"{_show(mgmt_value)} is already the address of host {other[0]} "
                                f"({other[2]} at {at(other[1])}); expected a unique address",
                            )
                        )
                    else:
                        by_address[int(address)] = (
                            name_text,
                            mgmt_where,
                            f"{path}.{management_key}",
                        )
            elif address is not None and host.ip is not None and int(address) != host.ip_int:
                first_path = f"{host.config_groups[0]}.{name_text}.ip" if host.config_groups else ""
                problems.append(
                    problem(
                        mgmt_where,
                        f"{path}.{management_key}",
                        f"{_show(mgmt_value)} differs from {_show(host.ip)} given for the same "
                        f"host ({first_path} at {at(host.ip_where)}); expected one address per "
                        "host",
                    )
                )
            host.config_groups.append(group)
            host.components = tuple(sorted({*host.components, *components}))
            host.extra_groups = tuple(sorted({*host.extra_groups, *extra_groups}))
            host.deployed = host.deployed or bool(components)
            for var, value in container_vars.items():
                var_where, vars_key = container_vars.where[var]
                if var in RESERVED_HOST_VARS:
                    problems.append(
                        problem(
                            var_where,
                            f"{path}.{vars_key}.{var}",
                            "Strata sets this host var itself; expected another variable name",
                        )
                    )
                    continue
                applies, value = _apply_limit(value, components)
                if applies:
                    one = YamlMap({var: value})
                    one.where[var] = var_where
                    _merge_vars(host.host_vars, one, f"{path}.{vars_key}", problems)
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
    if underscored:
        warnings.append(
            f"host names with '_' are not valid DNS names (RFC 1123): accepted, as OSA does, "
            f"because /etc/hosts resolves them, but DNS and TLS certificates will not: "
            f"{', '.join(underscored)}"
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
    """Validate global_overrides.provider_networks; return ({role: extra component groups},
    roles every host needs, bridges, [(network, reference_group)] for networks Strata assigns)."""
    extra = {name: set() for name in ASSIGNED_NETWORKS}
    all_hosts = set()
    refs = []
    value = overrides.get("provider_networks")
    if value is None:
        return extra, all_hosts, [], refs
    base_where = overrides.where.get("provider_networks")
    if not isinstance(value, YamlList):
        problems.append(
            problem(
                base_where,
                "global_overrides.provider_networks",
                f"{_show(value)} is not a list; expected a list of '- network: {{...}}' items",
            )
        )
        return extra, all_hosts, [], refs
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
        role = networks[canonical].role if canonical is not None else None
        is_management = (
            any(
                net.get(flag) is True
                for flag in ("is_management_address", "is_container_address", "is_ssh_address")
            )
            or role == "management"
        )
        if (
            (is_management or role in ASSIGNED_NETWORKS)
            and isinstance(bridge, str)
            and not _BRIDGE_NAME.fullmatch(bridge)
        ):
            problems.append(
                problem(
                    net.where["container_bridge"],
                    f"{path}.container_bridge",
                    f"{_show(bridge)} is not a Linux interface name; expected at most 15 "
                    "letters, digits, '_', '.' or '-' (Strata creates this bridge)",
                )
            )
        reference = net.get("reference_group")
        if reference is not None and not isinstance(reference, str):
            problems.append(
                problem(
                    net.where["reference_group"],
                    f"{path}.reference_group",
                    f"{_show(reference)} is not a group name; expected e.g. az1_all",
                )
            )
            reference = None
        if role in (*ASSIGNED_NETWORKS, "management") and canonical is not None:
            refs.append((networks[canonical], reference))
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
        if role in extra:
            for bind in binds:
                groups = _bind_groups(bind)
                if groups is None:
                    all_hosts.add(role)
                else:
                    extra[role].update(groups)
    return extra, all_hosts, bridges, refs


def _host_networks(host, extra, all_hosts):
    needs = set(all_hosts)
    for component in host.components:
        needs.update(NETWORKS_USED_BY.get(component, ()))
        needs.update(net for net, groups in extra.items() if component in groups)
    return tuple(n for n in ASSIGNED_NETWORKS if n in needs)


def _pools(networks, refs):
    """{role: [(Network, reference_group or None)]}: where each role's addresses come from. A
    network with its canonical name (storage, ...) serves every host; one that a provider
    network names with a reference_group serves that group's hosts."""
    pools = {}
    for key, net in networks.items():
        if key in NETWORK_NAMES and net.role is not None:
            pools.setdefault(net.role, []).append((net, None))
    for net, reference in refs:
        entry = (net, reference)
        if entry not in pools.get(net.role, []) and not (
            reference is None and (net, None) in pools.get(net.role, [])
        ):
            pools.setdefault(net.role, []).append(entry)
    return pools


def _host_group_names(host):
    names = {_normal(g) for g in host.config_groups}
    names.update(host.extra_groups)
    names.update(host.components)
    names.update(p for p, children in PARENT_GROUPS.items() if set(children) & set(host.components))
    return names


def _choose_pools(hosts, pools, problems):
    """Each deployed host's network for every assigned role it needs: the pool whose
    reference_group holds it, else one without a reference_group."""
    for host in hosts.values():
        names = None
        for role in host.networks:
            candidates = pools.get(role, [])
            if not candidates:
                continue  # reported by _required_networks (or replication falls back to storage)
            names = names if names is not None else _host_group_names(host)
            chosen = next(
                (n for n, ref in candidates if ref is not None and _normal(ref) in names), None
            )
            if chosen is None:
                chosen = next((n for n, ref in candidates if ref is None), None)
            if chosen is None:
                offered = ", ".join(f"{n.name} (reference_group {ref})" for n, ref in candidates)
                problems.append(
                    problem(
                        host.where,
                        f"{host.config_groups[0]}.{host.name}",
                        f"needs a {role} address but no {role} network serves it: {offered}; "
                        "expected the host in one of those groups, or a provider network without "
                        "reference_group",
                    )
                )
                continue
            host.pools[role] = chosen


def _external_bind_address(user_vars):
    """The IPv4 address the haproxy hosts hold for a DNS-named external VIP, from
    user_variables: haproxy_server_external_vip_address, or OSA's
    haproxy_keepalived_external_vip_cidr (ADDRESS/PREFIX). None when neither gives one."""
    address = _parse_ip(user_vars.get("haproxy_server_external_vip_address"))
    if address is not None:
        return address if address.version == 4 else None
    cidr = user_vars.get("haproxy_keepalived_external_vip_cidr")
    if not isinstance(cidr, str):
        return None
    try:
        network = netaddr.IPNetwork(cidr.strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    return network.ip if network.version == 4 else None


def _vips(
    overrides, networks, hosts_by_ip, where_overrides, problems, warnings, lb_hosts, user_vars
):
    """Validate the load balancer VIPs; return their integers (for the reserved set), and write
    the normalized addresses back (no stray whitespace reaches endpoint URLs).

    The internal VIP must be an IPv4 address in a management network when Strata deploys the
    load balancer (keepalived holds it; `haproxy_server_internal_vip_address` in
    user_variables may give that address instead); without haproxy hosts it may be a DNS name
    (an external load balancer). The external VIP may be an IPv4 address, a DNS name, or a Jinja
    expression Ansible resolves at run time (OSA's aio)."""
    reserved = []
    management_nets = _role_networks(networks, "management")
    lb_override = user_vars.get("haproxy_server_internal_vip_address")
    for key, what in (
        ("internal_lb_vip_address", "the internal load balancer VIP"),
        ("external_lb_vip_address", "the external load balancer VIP"),
    ):
        internal = key.startswith("internal")
        path = f"global_overrides.{key}"
        value = overrides.get(key)
        if value is None:
            problems.append(
                problem(
                    where_overrides,
                    path,
                    f"missing; expected {what}: an IP address"
                    + (" in cidr_networks.management" if internal else "")
                    + " or a DNS name",
                )
            )
            continue
        where = overrides.where[key]
        address = _parse_ip(value)
        if address is None:
            text = value.strip() if isinstance(value, str) else value
            if not internal and isinstance(text, str) and "{{" in text and "}}" in text:
                warnings.append(
                    problem(
                        where,
                        path,
                        f"{_show(value)} is a Jinja expression: not checked here; Ansible "
                        "resolves it at run time",
                    )
                )
                continue
            if not _valid_hostname(text):
                problems.append(
                    problem(
                        where,
                        path,
                        f"{_show(value)} is neither an IP address nor a DNS name; expected {what}",
                    )
                )
                continue
            if internal and lb_hosts and _parse_ip(lb_override) is None:
                problems.append(
                    problem(
                        where,
                        path,
                        f"{_show(value)} is a DNS name, but keepalived on the haproxy hosts "
                        f"({', '.join(h.name for h in lb_hosts)}) must hold an address; expected "
                        "an IPv4 address in the management network (or set "
                        "haproxy_server_internal_vip_address in user_variables.yml)",
                    )
                )
                continue
            if internal and not lb_hosts:
                warnings.append(
                    problem(
                        where,
                        path,
                        f"{_show(value)} is a DNS name and Strata deploys no load balancer (no "
                        "haproxy hosts): the services' internal endpoints use it as given",
                    )
                )
            if not internal and lb_hosts and _external_bind_address(user_vars) is None:
                # OSA's own examples name the external VIP by DNS and leave the address to
                # user_variables: they load, but no deploy run starts until it is given.
                warnings.append(
                    DeployBlocker(
                        problem(
                            where,
                            path,
                            f"{_show(value)} is a DNS name: the endpoints and the certificate "
                            "use it, but keepalived and HAProxy on the haproxy hosts ("
                            f"{', '.join(h.name for h in lb_hosts)}) need the address it "
                            "resolves to; expected haproxy_server_external_vip_address (or "
                            "OpenStack-Ansible's haproxy_keepalived_external_vip_cidr) set to "
                            "an IPv4 address in user_variables.yml. Every deploy run refuses "
                            "this config until then",
                        )
                    )
                )
            overrides[key] = text
            continue
        if address.version != 4:
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is an IPv6 address; expected an IPv4 address (keepalived "
                    "and the roles' settings are IPv4-only)"
                    + ("" if internal else ", or a DNS name"),
                )
            )
            continue
        overrides[key] = str(address)
        reserved.append(int(address))
        inside = any(n.first <= int(address) <= n.last for n in management_nets)
        if internal and management_nets and not inside:
            wanted = " or ".join(f"cidr_networks.{n.name} ({n.cidr})" for n in management_nets)
            problems.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is outside {wanted}; expected a usable address in it "
                    "(haproxy and keepalived hold it on the management bridge)",
                )
            )
        owner = hosts_by_ip.get(int(address))
        if owner is None:
            continue
        if internal and [h.name for h in lb_hosts] == [owner.name]:
            warnings.append(
                problem(
                    where,
                    path,
                    f"{_show(value)} is the address of {owner.name}, the only haproxy host: "
                    "accepted (no keepalived, no failover); add haproxy hosts and a VIP of its "
                    "own for high availability",
                )
            )
            continue
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


def _swift_where(swift, keys, fallback):
    """(file, line) of the value at ``keys`` below ``swift`` (the nearest known position)."""
    where = fallback
    node = swift
    for key in keys:
        if isinstance(node, YamlMap) and key in node:
            where = node.where.get(key, where)
            node = node[key]
        elif isinstance(node, YamlList) and isinstance(key, int) and key < len(node):
            where = node.where[key]
            node = node[key]
        else:
            break
    return where


def _swift(overrides, hosts, problems, warnings):
    """Validate global_overrides.swift and every swift host's swift_vars (strata.swift_config:
    the same rules the swift roles apply)."""
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
    swift_where = overrides.where["swift"]
    if not isinstance(swift, YamlMap):
        problems.append(
            problem(swift_where, base, f"{_show(swift)} is not a mapping; expected swift settings")
        )
        return
    before = len(problems)

    def report(found, root, root_where, prefix, into):
        for keys, text in found:
            where = _swift_where(root, keys, root_where)
            into.append(problem(where, swift_config.dotted((prefix, *keys)), text))

    found, notes = swift_config.settings_problems(swift)
    report(found, swift, swift_where, base, problems)
    report(notes, swift, swift_where, base, warnings)
    low, high = swift_config.PART_POWER_RANGE
    if swift_hosts and "part_power" not in swift:
        problems.append(
            problem(
                swift_where,
                f"{base}.part_power",
                f"missing; expected an integer from {low} to {high} (2^part_power partitions)",
            )
        )

    drives_by_host = {}
    hosts_without_drives = []
    for host in swift_hosts:
        swift_vars = host.host_vars.get("swift_vars")
        vars_where = host.host_vars.where.get("swift_vars", host.where)
        prefix = f"{host.config_groups[0]}.{host.name}.container_vars.swift_vars"
        found, notes = swift_config.host_problems(swift_vars)
        report(found, swift_vars, vars_where, prefix, problems)
        report(notes, swift_vars, vars_where, prefix, warnings)
        drives = swift_config.host_drives(swift, swift_vars)
        drives_by_host[host.name] = drives
        if not drives:
            hosts_without_drives.append(host.name)
    if hosts_without_drives:
        problems.append(
            problem(
                swift.where.get("drives", swift.origin),
                f"{base}.drives",
                f"no drives for swift hosts {', '.join(hosts_without_drives)}; expected "
                "global_overrides.swift.drives or container_vars.swift_vars.drives",
            )
        )
    if not swift_hosts or len(problems) > before:
        return  # capacity means little while drives or replica counts are wrong
    found, risky = swift_config.capacity_problems(swift, drives_by_host)
    shown = swift.where.get("part_power", swift.origin)
    for keys, text in found:
        problems.append(
            problem(_swift_where(swift, keys, shown), swift_config.dotted((base, *keys)), text)
        )
    for keys, text in risky:
        warnings.append(
            problem(_swift_where(swift, keys, shown), swift_config.dotted((base, *keys)), text)
        )


def _cluster_sizes(hosts, merged, warnings):
    members = {group: [] for group in CLUSTERED_GROUPS}
    feeding = {group: [] for group in CLUSTERED_GROUPS}
    for host in hosts.values():
        for group in host.components:
            if group in members:
                members[group].append(host.name)
    for config_group in merged.groups:
        components = merged.memberships.get(config_group, ((),))[0]
        for component in components:
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
    if "storage" in needed and not _role_networks(networks, "storage"):
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
    for net in networks.values():
        if net.role not in ASSIGNED_NETWORKS:
            continue
        needed = sum(1 for h in hosts.values() if h.pools.get(net.role) is net)
        if not needed:
            continue
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
        data = read_yaml(path, problems, string_keys=False)
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


@dataclass
class Loading:
    """What the checks of CHECKS see: the merged files and what earlier steps found. A check
    appends messages to ``problems`` (errors) and ``warnings``."""

    config_dir: Path
    main_file: Path
    merged: _Merged
    networks: dict
    overrides: YamlMap
    all_hosts: dict  # every host, deployed or not
    hosts: dict  # deployed hosts, sorted by name
    env: EnvD
    user_vars: dict
    problems: list
    warnings: list


def _check_required_networks(state):
    _required_networks(state.hosts, state.networks, state.main_file, state.merged, state.problems)


def _check_swift(state):
    _swift(state.overrides, state.hosts, state.problems, state.warnings)


def _check_cluster_sizes(state):
    _cluster_sizes(state.hosts, state.merged, state.warnings)


def _check_ceph(state):
    ceph_config.check(state.overrides, state.hosts, state.networks, state.problems, state.warnings)


def _check_cinder(state):
    from strata import cinder_config  # imported here: it imports this module

    cinder_config.check(state.overrides, state.hosts, state.problems, state.warnings)


def _check_glance(state):
    glance_config.check(state.overrides, state.hosts, state.problems, state.warnings)


def _check_nova(state):
    from strata import nova_config  # imported here: it imports glance_config's helpers

    nova_config.check(state.overrides, state.hosts, state.problems, state.warnings)


def _check_some_hosts(state):
    if not state.hosts:
        state.warnings.append(
            f"{state.main_file}: no hosts that Strata deploys; the inventory is empty (expected "
            "NAME_hosts groups such as shared-infra_hosts with hosts)"
        )


# The checks that run once hosts, networks and addresses are known, in order: each takes the
# Loading state and appends to its problems and warnings. A new area adds its function here
# (e.g. Ceph's settings: a module that imports strata.config is added from the end of this file,
# after everything it needs is defined, to keep the import order simple).
CHECKS = [
    _check_required_networks,
    _check_swift,
    _check_ceph,
    _check_cinder,
    _check_glance,
    _check_nova,
    _check_cluster_sizes,
    _check_some_hosts,
]


def _user_values(files):
    """The top-level values of user_variables*.yml (later files win), for the few settings the
    config check needs."""
    values = {}
    for path in files:
        data = read_yaml(path, [], string_keys=False)
        if isinstance(data, dict):
            values.update(data)
    return values


def _load(config_dir):
    problems = []
    warnings = []
    files = _files(config_dir, problems)
    docs = [(path, read_yaml(path, problems)) for path in files]
    user_files = _user_variable_files(config_dir, problems) if files else []
    env = _env_d(config_dir, problems) if files else EnvD()
    if problems:
        # A file that does not parse leaves the rest without meaning: report what we have.
        raise ValidationError(problems)
    merged = _merge(docs, problems)
    main_file = files[0] if files else config_dir / CONFIG_FILE

    networks, net_warnings = _networks(merged, problems)
    warnings.extend(net_warnings)
    if not _role_networks(networks, "management") and not any(
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
    used = _used_ips(merged, networks, problems, warnings)

    overrides = merged.global_overrides
    overrides_where = merged.global_where or (str(main_file), None)
    overrides.origin = overrides.origin or overrides_where
    management_bridge = overrides.get("management_bridge", "br-mgmt")
    if not isinstance(management_bridge, str) or not _BRIDGE_NAME.fullmatch(management_bridge):
        problems.append(
            problem(
                overrides.where["management_bridge"],
                "global_overrides.management_bridge",
                f"{_show(management_bridge)} is not a bridge name; expected e.g. br-mgmt: at most "
                "15 letters, digits, '_', '.' or '-' (a Linux interface name)",
            )
        )

    all_hosts = _hosts(merged, networks, env, problems, warnings)
    extra, everyone, bridges, refs = _provider_networks(
        overrides, networks, management_bridge, problems
    )
    for host in all_hosts.values():
        if host.deployed:
            host.networks = _host_networks(host, extra, everyone)
    hosts = {name: all_hosts[name] for name in sorted(all_hosts) if all_hosts[name].deployed}
    pools = _pools(networks, refs)
    _choose_pools(hosts, pools, problems)

    swift = overrides.get("swift")
    if isinstance(swift, YamlMap):
        for key in ("storage_network", "replication_network", "repl_network"):
            value = swift.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or not _BRIDGE_NAME.fullmatch(value):
                problems.append(
                    problem(
                        swift.where[key],
                        f"global_overrides.swift.{key}",
                        f"{_show(value)} is not a bridge name; expected at most 15 letters, "
                        "digits, '_', '.' or '-'",
                    )
                )
            elif bridges and value not in bridges:
                problems.append(
                    problem(
                        swift.where[key],
                        f"global_overrides.swift.{key}",
                        f"{_show(value)} is not the container_bridge of any provider network; "
                        f"expected one of {', '.join(sorted(set(bridges)))}",
                    )
                )

    hosts_by_ip = {h.ip_int: h for h in all_hosts.values() if h.ip_int is not None}
    lb_hosts = [h for h in hosts.values() if "haproxy_all" in h.components]
    user_vars = _user_values(user_files)
    vip_ints = _vips(
        overrides, networks, hosts_by_ip, overrides_where, problems, warnings, lb_hosts, user_vars
    )
    reserved = merge_ranges(used + [(v, v) for v in vip_ints])

    state = Loading(
        config_dir=config_dir,
        main_file=main_file,
        merged=merged,
        networks=networks,
        overrides=overrides,
        all_hosts=all_hosts,
        hosts=hosts,
        env=env,
        user_vars=user_vars,
        problems=problems,
        warnings=warnings,
    )
    for check in CHECKS:
        check(state)
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
        pools={role: [n for n, _ in entries] for role, entries in pools.items()},
    )
    return config, warnings

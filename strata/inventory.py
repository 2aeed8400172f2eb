"""Turn a validated config into an Ansible inventory, with every address assigned and kept.

Management addresses are the hosts' own ``ip``. Storage and replication addresses come from the
``cidr_networks`` pools minus ``used_ips`` and the VIPs, lowest free address first, hosts in name
order. Assigned addresses are kept in a state file next to the config, so adding or removing a host
never moves another host's address; a removed host's record (and so its addresses) stays until
``strata inventory remove-host NAME``.

Pure functions (``assign``, ``build``) do the deciding; ``generate`` adds the state file I/O.
"""

import contextlib
import fcntl
import json
import os
import tempfile
from pathlib import Path

import netaddr

from strata import config as strata_config
from strata.errors import StrataError, ValidationError

STATE_FILE = "strata_inventory_state.json"
STATE_VERSION = 1
STATE_BACKUPS = 5


# --- the state file ----------------------------------------------------------------------------


def state_path(config_dir):
    return Path(config_dir) / STATE_FILE


def read_state(path):
    """The state's host records: {host: {network: address}}; {} when there is no file."""
    path = Path(path)
    restore = f"Restore it from {path.name}.1 (the newest backup)"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StrataError(f"{path}: cannot read the inventory state: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StrataError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected Strata's "
            f"inventory state (JSON). {restore}"
        ) from None
    except RecursionError:
        raise StrataError(
            f"{path}: nested too deep to read; expected Strata's inventory state. {restore}"
        ) from None
    except ValueError as exc:
        raise StrataError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); expected Strata's inventory state. "
            f"{restore}"
        ) from None
    version = data.get("version") if isinstance(data, dict) else None
    hosts = data.get("hosts") if isinstance(data, dict) else None
    if version != STATE_VERSION or not isinstance(hosts, dict):
        raise StrataError(
            f"{path}: version {version!r} with hosts of type {type(hosts).__name__}; expected "
            f"version {STATE_VERSION} and a hosts mapping (Strata's inventory state)"
        )
    for name, record in hosts.items():
        bad = not isinstance(record, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in record.items()
        )
        if bad:
            raise StrataError(
                f"{path}: hosts.{name}: {json.dumps(record)[:80]} is not a host record; expected "
                f'{{"NETWORK": "ADDRESS", ...}} (Strata\'s inventory state). {restore}'
            )
    return hosts


def state_text(hosts):
    """The state file's content: stable key order, one line per address for readable diffs."""
    return json.dumps({"version": STATE_VERSION, "hosts": hosts}, indent=2, sort_keys=True) + "\n"


def write_state(path, hosts, backups=STATE_BACKUPS):
    """Write the state atomically (temp file + rename), keeping the last ``backups`` versions as
    ``NAME.1`` (newest) .. ``NAME.N``."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, 0o644)  # not secret; mkstemp's 0600 would hide it from other users
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(state_text(hosts))
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            for number in range(backups - 1, 0, -1):
                older = path.with_name(f"{path.name}.{number}")
                if older.exists():
                    os.replace(older, path.with_name(f"{path.name}.{number + 1}"))
            newest = path.with_name(f"{path.name}.1")
            with contextlib.suppress(FileNotFoundError):
                newest.unlink()
            os.link(path, newest)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise StrataError(
            f"{path}: cannot write the inventory state: {exc.strerror}; expected a writable "
            "config directory (addresses must be kept to stay stable)"
        ) from None


@contextlib.contextmanager
def _locked(config_dir):
    """An exclusive lock on the config directory while the state is read, decided and written,
    so that two inventory runs do not interleave. flock on the directory itself: no lock file."""
    fd = os.open(config_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


# --- address assignment (pure) -----------------------------------------------------------------


def _to_text(value, version):
    return str(netaddr.IPAddress(value, version))


def _to_int(text):
    try:
        return int(netaddr.IPAddress(text))
    except (netaddr.AddrFormatError, ValueError, TypeError, AttributeError):
        return None


def _free_addresses(net, reserved, taken, count):
    """The lowest ``count`` addresses of ``net`` not in ``reserved`` (merged ranges) nor ``taken``.
    Walks the range once, jumping over reserved ranges: linear in hosts + ranges."""
    out = []
    ranges = [(lo, hi) for lo, hi in reserved if hi >= net.first and lo <= net.last]
    index = 0
    candidate = net.first
    while len(out) < count and candidate <= net.last:
        while index < len(ranges) and ranges[index][1] < candidate:
            index += 1
        if index < len(ranges) and ranges[index][0] <= candidate:
            candidate = ranges[index][1] + 1
            continue
        if candidate not in taken:
            out.append(candidate)
        candidate += 1
    return out


def _in_reserved(reserved, value):
    # reserved is short (used_ips entries + VIPs): a plain scan is cheaper than bisect here.
    return any(lo <= value <= hi for lo, hi in reserved)


def _assign_pool(config, net, network_name, state_hosts, new_state, addresses, warnings, problems):
    """Addresses of one pool: kept ones from the state, then the lowest free ones."""
    needing = [name for name, host in config.hosts.items() if host.pools.get(network_name) is net]
    taken = {}
    # Kept addresses: removed hosts first (they cannot move), then current hosts.
    order = [n for n in new_state if n not in config.hosts] + needing
    for name in order:
        record = state_hosts.get(name)
        text = record.get(network_name) if isinstance(record, dict) else None
        if text is None:
            continue
        value = _to_int(text)
        removed = name not in config.hosts
        if removed and (value is None or not net.first <= value <= net.last):
            continue  # another pool's address (or stale: forgotten after the last pool)
        reason = None
        if value is None or not net.first <= value <= net.last:
            reason = f"is outside cidr_networks.{net.name} ({net.cidr})"
        elif _in_reserved(config.reserved, value):
            reason = "is now in used_ips or a VIP"
        elif value in taken:
            reason = f"is also held by {taken[value]} in the state file"
        if reason is None:
            taken[value] = name
            new_state[name][network_name] = _to_text(value, net.version)
            if name in addresses:
                addresses[name][network_name] = new_state[name][network_name]
        elif not removed:
            warnings.append(f"{name}: {network_name} address {text} {reason}; assigning a new one")
        else:
            new_state[name].pop(network_name, None)  # a removed host's stale address
    missing = [name for name in needing if network_name not in addresses[name]]
    if not missing:
        return
    free = _free_addresses(net, config.reserved, taken, len(missing))
    if len(free) < len(missing):
        problems.append(
            strata_config.problem(
                net.where,
                f"cidr_networks.{net.name}",
                f"pool exhausted: {len(missing)} hosts need a new {network_name} address but "
                f"{net.cidr} has {len(free)} free (after used_ips, VIPs and the {len(taken)} "
                "addresses held in the state file); expected a larger network, fewer "
                "used_ips, or `strata inventory remove-host` for hosts that are gone",
            )
        )
        return
    for name, value in zip(missing, free, strict=True):
        text = _to_text(value, net.version)
        addresses[name][network_name] = text
        new_state[name][network_name] = text


def assign(config, state_hosts):
    """Decide every host's addresses.

    Returns ``(addresses, new_state, warnings)``: ``addresses[host][network]`` as text for hosts in
    the config; ``new_state`` the records to keep (hosts in the config, and removed hosts until
    remove-host). Raises ValidationError when a pool runs out.
    """
    warnings = []
    problems = []
    addresses = {name: {} for name in config.hosts}
    new_state = {}
    # Records of hosts no longer in the config stay, and keep their addresses reserved.
    for name, record in state_hosts.items():
        if name not in config.hosts and name not in config.ignored_hosts:
            new_state[name] = dict(record) if isinstance(record, dict) else {}
    for name, host in config.hosts.items():
        new_state[name] = {"management": host.ip}

    for network_name in strata_config.ASSIGNED_NETWORKS:
        pools = config.pools.get(network_name) or []
        for net in pools:
            _assign_pool(
                config, net, network_name, state_hosts, new_state, addresses, warnings, problems
            )
        # A removed host's address in none of the pools is stale: forget it.
        for name in new_state:
            if name in config.hosts:
                continue
            value = _to_int(new_state[name].get(network_name))
            if pools and value is not None and not any(n.first <= value <= n.last for n in pools):
                new_state[name].pop(network_name, None)

    # Without a replication network, swift replicates over the storage network (as in OSA).
    if not config.pools.get("replication"):
        for name, host in config.hosts.items():
            if "replication" in host.networks and "storage" in addresses[name]:
                addresses[name]["replication"] = addresses[name]["storage"]
    if problems:
        raise ValidationError(problems)
    return addresses, dict(sorted(new_state.items())), warnings


# --- the inventory (pure) ----------------------------------------------------------------------


# The bridge of each network a host may have an address on, when no provider network names one.
DEFAULT_BRIDGES = {"management": "br-mgmt", "storage": "br-storage", "replication": "br-repl"}


def network_bridges(config):
    """{network: bridge} for the bridged networks defined: the container_bridge of the first
    provider network that draws from a network of that role (ip_from_q), else
    management_bridge for management and the default bridge for the others."""
    overrides = config.global_overrides
    roles = {net.name: net.role for net in config.networks.values()}
    bridges = {}
    for entry in overrides.get("provider_networks") or []:
        net = entry["network"]
        queue = net.get("ip_from_q")
        role = roles.get(queue, strata_config.NETWORK_ALIASES.get(queue, queue))
        if role in DEFAULT_BRIDGES:
            bridges.setdefault(role, net["container_bridge"])
    defaults = {**DEFAULT_BRIDGES, "management": overrides.get("management_bridge", "br-mgmt")}
    present = {net.role for net in config.networks.values()}
    return {name: bridges.get(name, defaults[name]) for name in DEFAULT_BRIDGES if name in present}


def all_vars(config):
    """Group vars of `all`: the global_overrides as they are except provider_networks, plus the
    networks' CIDRs and bridges.

    provider_networks is the inventory's input; roles get what they need of it, network_bridges.
    Group vars of `all` are copied into every host's vars (`ansible-inventory --list`, hostvars):
    the whole list cost ~0.25 s of `ansible-inventory --list` on 1000 hosts.
    """
    out = {k: v for k, v in config.global_overrides.items() if k != "provider_networks"}
    out["management_bridge"] = config.global_overrides.get("management_bridge", "br-mgmt")
    out["network_bridges"] = network_bridges(config)
    for name, net in config.networks.items():
        if name in strata_config.NETWORK_NAMES:
            out[f"{name}_cidr"] = net.cidr
    return out


def build(config, addresses):
    """The inventory as Ansible's script plugin expects it (`--list` output)."""
    hostvars = {}
    # A host whose network is not the one of the group var (L3 pods, availability zones) gets
    # its own NETWORK_cidr.
    shared = {name: net for name, net in config.networks.items() if name in DEFAULT_BRIDGES}
    for name, host in config.hosts.items():
        host_vars = dict(host.host_vars)
        host_vars["ansible_host"] = host.ssh_ip or host.ip
        host_vars["management_address"] = host.ip
        for network_name, text in addresses[name].items():
            host_vars[f"{network_name}_address"] = text
        for role, net in host.pools.items():
            if shared.get(role) is not net:
                host_vars[f"{role}_cidr"] = net.cidr
        hostvars[name] = host_vars
    inventory = {"_meta": {"hostvars": hostvars}}
    for group, members in config.group_members().items():
        inventory[group] = {"hosts": members}
    for parent, children in strata_config.PARENT_GROUPS.items():
        inventory[parent] = {"children": list(children)}
    extra = config.extra_groups()
    for group, members in extra.items():
        inventory.setdefault(group, {"hosts": members})
    top = sorted(
        set(strata_config.COMPONENT_GROUPS)
        - {c for cs in strata_config.PARENT_GROUPS.values() for c in cs}
        | set(strata_config.PARENT_GROUPS)
        | set(extra)
    )
    inventory["all"] = {"children": ["ungrouped", *top], "vars": all_vars(config)}
    inventory["ungrouped"] = {"hosts": []}
    return inventory


def to_json(inventory):
    """Byte-stable JSON (sorted keys; C encoder, so no indent)."""
    return json.dumps(inventory, sort_keys=True, default=str)


# --- with the state file -----------------------------------------------------------------------


def generate(config_dir=None, write=True):
    """Load the config, assign addresses (kept in the state file), and return
    ``(config, inventory, warnings)``. With ``write=False`` the state file is left untouched."""
    config, warnings = strata_config.load(config_dir)
    path = state_path(config.config_dir)
    with _locked(config.config_dir) if write else contextlib.nullcontext():
        old_state = read_state(path)
        addresses, new_state, assign_warnings = assign(config, old_state)
        if write and new_state != old_state:
            write_state(path, new_state)
    warnings.extend(assign_warnings)
    gone = sorted(name for name in new_state if name not in config.hosts)
    if gone:
        warnings.append(
            f"{path}: hosts no longer in the config keep their addresses reserved until "
            f"`strata inventory remove-host NAME`: {', '.join(gone)}"
        )
    return config, build(config, addresses), warnings


def remove_host(config_dir, name):
    """Drop a host's record from the state file; refuse while the config still lists it."""
    config, _ = strata_config.load(config_dir)
    if name in config.hosts or name in config.ignored_hosts:
        host = config.hosts.get(name)
        groups = ", ".join(host.config_groups) if host else "a group Strata does not deploy"
        raise StrataError(
            f"{name}: still in the config ({groups}); expected it removed from "
            f"{strata_config.CONFIG_FILE} and conf.d first"
        )
    path = state_path(config.config_dir)
    with _locked(config.config_dir):
        state = read_state(path)
        if name not in state:
            known = ", ".join(sorted(n for n in state if n not in config.hosts)) or "none"
            raise StrataError(
                f"{path}: {name}: no such host record; expected one of the removed hosts: {known}"
            )
        record = state.pop(name)
        write_state(path, state)
    return record

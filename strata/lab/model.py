"""What a lab is made of, read from an Ansible inventory, and its validation (pure functions)."""

import re
from dataclasses import dataclass, field

import netaddr

# The lab's networks: inventory variable holding the CIDR, host variable holding the address,
# the bridge on this machine, and the interface name inside each container.
NETWORKS = (
    ("management", "management_cidr", "management_address", "br-mgmt", "eth0"),
    ("storage", "storage_cidr", "storage_address", "br-storage", "eth1"),
    ("replication", "replication_cidr", "replication_address", "br-repl", "eth2"),
)
# Loop devices the lab hands out: its own numbers, far above the machine's loop0-7.
LOOP_FIRST = 100
LOOP_MAX = 48
LOOP_SIZE_DEFAULT = "20G"
HOSTNAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SIZE_RE = re.compile(r"^[1-9][0-9]*[MG]$")


@dataclass(frozen=True)
class Network:
    name: str
    cidr: str
    bridge: str
    interface: str

    @property
    def gateway(self):
        """The first address of the network: the machine's address on the bridge."""
        net = netaddr.IPNetwork(self.cidr)
        return f"{netaddr.IPAddress(net.first + 1)}/{net.prefixlen}"


@dataclass
class Host:
    name: str
    addresses: dict  # network name -> address (no prefix)
    loop_devices: int = 0
    loop_size: str = LOOP_SIZE_DEFAULT
    groups: list = field(default_factory=list)


@dataclass
class LabSpec:
    source: str  # where it was read from, for messages
    networks: list  # of Network, only those the inventory defines
    hosts: list  # of Host


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def spec_from_inventory(source, inventory):
    """Build a LabSpec from `ansible-inventory --list` output. Returns (spec, problems)."""
    problems = []
    hostvars = inventory.get("_meta", {}).get("hostvars", {})
    groups_of = {}
    for group, body in inventory.items():
        if group == "_meta" or not isinstance(body, dict):
            continue
        for name in body.get("hosts", []):
            groups_of.setdefault(name, []).append(group)

    networks = {}
    hosts = []
    for name in sorted(hostvars):
        hv = hostvars[name]
        addresses = {}
        for net_name, cidr_var, addr_var, bridge, iface in NETWORKS:
            cidr = hv.get(cidr_var)
            if cidr:
                seen = networks.setdefault(net_name, Network(net_name, str(cidr), bridge, iface))
                if seen.cidr != str(cidr):
                    problems.append(
                        f"{source}: host {name}: {cidr_var} is {cidr} but other hosts have "
                        f"{seen.cidr} (expected one {net_name} network for the whole lab)"
                    )
            address = hv.get(addr_var)
            if address in (None, ""):
                continue
            if not cidr:
                problems.append(
                    f"{source}: host {name}: {addr_var} is {address} but {cidr_var} is not set "
                    f"(expected the {net_name} network's CIDR in group vars)"
                )
                continue
            addresses[net_name] = str(address)
        loops = hv.get("lab_loop_devices", 0)
        count = _as_int(loops)
        if count is None or count < 0:
            problems.append(
                f"{source}: host {name}: lab_loop_devices is {loops!r} "
                "(expected a whole number of loop devices, 0 or more)"
            )
            count = 0
        size = str(hv.get("lab_loop_size", LOOP_SIZE_DEFAULT))
        if not SIZE_RE.match(size):
            problems.append(
                f"{source}: host {name}: lab_loop_size is {size!r} "
                "(expected a size such as 512M or 20G)"
            )
        hosts.append(Host(name, addresses, count, size, sorted(groups_of.get(name, []))))
    ordered = [networks[n[0]] for n in NETWORKS if n[0] in networks]
    return LabSpec(source, ordered, hosts), problems


def validate(spec, loop_budget=LOOP_MAX):
    """Every problem with the lab described by `spec`, as messages; empty when it is sound."""
    problems = []
    src = spec.source
    if not spec.hosts:
        problems.append(f"{src}: no hosts (expected at least one host with a management_address)")

    parsed = {}
    for net in spec.networks:
        try:
            parsed[net.name] = netaddr.IPNetwork(net.cidr)
        except (netaddr.AddrFormatError, ValueError):
            problems.append(
                f"{src}: {net.name}_cidr is {net.cidr!r} "
                "(expected a network such as 172.29.236.0/22)"
            )
            continue
        if parsed[net.name].prefixlen > 29 or parsed[net.name].version != 4:
            problems.append(
                f"{src}: {net.name}_cidr is {net.cidr} (expected an IPv4 network of /29 or larger)"
            )
    names = sorted(parsed)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if parsed[a].first <= parsed[b].last and parsed[b].first <= parsed[a].last:
                problems.append(
                    f"{src}: {a}_cidr {parsed[a]} overlaps {b}_cidr {parsed[b]} "
                    "(expected separate networks, one per bridge)"
                )

    seen_names = {}
    seen_addresses = {}
    for net in spec.networks:
        if net.name in parsed:
            gw = str(netaddr.IPAddress(parsed[net.name].first + 1))
            seen_addresses[gw] = f"the lab's own {net.bridge} address"
    for host in spec.hosts:
        if not HOSTNAME_RE.match(host.name):
            problems.append(
                f"{src}: host {host.name!r}: not a valid host name (expected lowercase letters, "
                "digits and '-', at most 63 characters, used as container and host name)"
            )
        key = host.name.lower()
        if key in seen_names:
            problems.append(
                f"{src}: host {host.name}: duplicate host name (already used by "
                f"{seen_names[key]}; expected each host once)"
            )
        seen_names[key] = host.name
        if "management" not in host.addresses:
            problems.append(
                f"{src}: host {host.name}: management_address is not set "
                "(expected the host's address on the management network)"
            )
        for net_name, address in sorted(host.addresses.items()):
            try:
                ip = netaddr.IPAddress(address)
            except (netaddr.AddrFormatError, ValueError):
                problems.append(
                    f"{src}: host {host.name}: {net_name}_address is {address!r} "
                    "(expected an IPv4 address)"
                )
                continue
            net = parsed.get(net_name)
            if net is not None and not (net.first < int(ip) < net.last):
                problems.append(
                    f"{src}: host {host.name}: {net_name}_address {address} is outside "
                    f"{net_name}_cidr {net} (expected a host address inside it)"
                )
            owner = seen_addresses.get(str(ip))
            if owner is not None:
                problems.append(
                    f"{src}: host {host.name}: {net_name}_address {address} is already used by "
                    f"{owner} (expected a unique address)"
                )
            else:
                seen_addresses[str(ip)] = f"host {host.name}"

    wanted = sum(h.loop_devices for h in spec.hosts)
    if wanted > loop_budget:
        detail = ", ".join(f"{h.name}={h.loop_devices}" for h in spec.hosts if h.loop_devices)
        problems.append(
            f"{src}: {wanted} loop devices asked for ({detail}) but the lab can hand out "
            f"{loop_budget} (expected at most {loop_budget} in total, counting hosts already up)"
        )
    return problems


def foreign_resources(spec, state, bridge_exists, container_exists):
    """Problems for bridges and containers of `spec` that exist on the machine but that the lab
    did not make (not in its state): `lab up` would take them over and `lab down` delete them.
    `bridge_exists(name)` and `container_exists(name)` look at the machine."""
    problems = []
    for net in spec.networks:
        if net.bridge not in state["bridges"] and bridge_exists(net.bridge):
            problems.append(
                f"{spec.source}: bridge {net.bridge} ({net.name} network) already exists on this "
                "machine and the lab did not create it (expected no such bridge: the lab never "
                "uses or removes a bridge it did not make; if it is a leftover of an old lab, "
                f"remove it with `ip link del {net.bridge}`)"
            )
    for host in spec.hosts:
        if host.name not in state["hosts"] and container_exists(host.name):
            problems.append(
                f"{spec.source}: host {host.name}: an LXC container of that name already exists "
                "and is not a lab host (expected no such container: the lab never adopts or "
                f"destroys a container it did not make; remove it with `lxc-destroy -n {host.name}`"
                " if it is yours to remove)"
            )
    return problems


# What the lab uses on this machine, and the Debian package that brings each: scripts/bootstrap
# installs these packages (a unit test keeps the two lists in step, and tests/lab proves on a
# clean Debian 12 rootfs that the bootstrap's packages provide every one of these).
MACHINE_REQUIREMENTS = (
    ("command", "lxc-start", "lxc"),
    ("command", "lxc-attach", "lxc"),
    ("command", "lxc-info", "lxc"),
    ("command", "lxc-wait", "lxc"),
    ("command", "lxc-stop", "lxc"),
    ("command", "lxc-destroy", "lxc"),
    ("file", "/usr/share/lxc/config/debian.common.conf", "lxc-templates"),
    ("command", "debootstrap", "debootstrap"),
    ("file", "/usr/share/debootstrap/scripts/bookworm", "debootstrap"),
    ("command", "apt-cacher-ng", "apt-cacher-ng"),
    ("file", "/etc/apt-cacher-ng/acng.conf", "apt-cacher-ng"),
    ("command", "iptables", "iptables"),
    ("command", "ip6tables", "iptables"),
    ("command", "ip", "iproute2"),
    ("command", "ssh", "openssh-client"),
    ("command", "ssh-keygen", "openssh-client"),
    ("command", "rsync", "rsync"),
    ("command", "losetup", "mount"),
    ("command", "truncate", "coreutils"),
    ("command", "chroot", "coreutils"),
)


# inotify instances a lab container holds against root's fs.inotify.max_user_instances (its
# systemd, logind, getty, udev on the OSD hosts: 5-7 measured, one more of margin). Debian's
# default limit of 128 runs out at about 15 containers, and then every container's systemd
# stops at once.
INOTIFY_PER_HOST = 8


def inotify_problems(new_hosts, in_use, limit):
    """Problems when `new_hosts` more containers would exhaust root's inotify instances
    (`in_use` held now, out of `limit`)."""
    needed = in_use + INOTIFY_PER_HOST * new_hosts
    if new_hosts == 0 or needed <= limit:
        return []
    return [
        f"fs.inotify.max_user_instances is {limit} and root holds {in_use} inotify instances: "
        f"{new_hosts} more lab hosts need about {INOTIFY_PER_HOST} each (expected a limit of at "
        f"least {needed}; raise it with `sysctl -w fs.inotify.max_user_instances=1024`, or bring "
        "fewer hosts up at once)"
    ]


def missing_requirements(which, exists):
    """Problems for each program or file the lab needs that is not on this machine, each naming
    the Debian package that brings it. `which` is shutil.which, `exists` os.path.exists."""
    problems = []
    for kind, name, package in MACHINE_REQUIREMENTS:
        if kind == "command":
            if which(name) is not None or which(f"/usr/sbin/{name}") is not None:
                continue
            what = f"{name} not found"
        elif exists(name):
            continue
        else:
            what = f"{name} is missing"
        problems.append(
            f"{what}: install the Debian package {package} "
            f"(apt-get install {package}, or run scripts/bootstrap)"
        )
    return problems

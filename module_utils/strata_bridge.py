"""Pure logic of the linux_bridge module: state model, planner, persistent config.

Nothing here talks to the kernel or touches a file: the module gathers the state
(netlink through pyroute2, config files as text), calls these functions, and applies
the ordered steps they return. pytest imports this file directly.

Safety ordering when a port carries the address Ansible is connected over:
  1. the bridge exists and is up, with STP off (a port joining an STP bridge stops
     forwarding for 2 x forward_delay),
  2. the port joins the bridge (frames for the port's MAC go up through the bridge,
     the address on the port still answers: Linux accepts any local address),
  3. the address is added to the bridge (now on both),
  4. routes through the port are replaced onto the bridge, one atomic replace each,
  5. only then the address leaves the port,
  6. STP and forward delay take their wanted values.
Undoing the steps in reverse order is the same ordering backwards, so rollback is
as safe as the change.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import asdict, dataclass, field, replace

try:
    import netaddr
except ImportError:  # the module reports the missing library itself
    netaddr = None

MAIN_TABLE = 254
LOCAL_TABLE = 255
RTPROT_KERNEL = 2
RTPROT_RA = 9
RTN_UNICAST = 1
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
SCOPE_NAMES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}

# The kernel's default and limits for a bridge's forward delay (seconds).
KERNEL_FORWARD_DELAY = 15
FORWARD_DELAY_MAX = 30
FORWARD_DELAY_MIN_WITH_STP = 2

NETWORKD_DIR = "/etc/systemd/network"
# networkd reads these, a file name in an earlier directory masks the same name later.
NETWORKD_DIRS = (
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
)
IFUPDOWN_MAIN = "/etc/network/interfaces"
HEADER_PREFIX = "# Strata linux_bridge:"
DISABLED_SUFFIX = ".disabled-by-strata"
IFUPDOWN_MARK = "#strata-linux-bridge# "


class PlanError(Exception):
    """A problem found before anything changed: every entry says what, where, expected."""

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Address:
    cidr: str  # normalized, e.g. 172.29.236.10/22
    dynamic: bool = False  # finite lifetime: DHCP or SLAAC

    @property
    def ip(self):
        return self.cidr.split("/")[0]


@dataclass(frozen=True)
class Route:
    """A route through one link (the link that holds it in Link.routes)."""

    family: int  # 4 or 6
    dst: str  # "default" or a CIDR
    gateway: str | None = None
    metric: int | None = None
    table: int = MAIN_TABLE
    protocol: int = 4  # static
    scope: int = RT_SCOPE_UNIVERSE
    type: int = RTN_UNICAST
    tos: int = 0
    prefsrc: str | None = None
    onlink: bool = False
    multipath: bool = False

    def describe(self):
        text = self.dst
        if self.gateway:
            text += " via " + self.gateway
        if self.table != MAIN_TABLE:
            text += f" table {self.table}"
        if self.metric is not None:
            text += f" metric {self.metric}"
        if self.multipath:
            text += " (multipath)"
        return text


@dataclass(frozen=True)
class Link:
    name: str
    kind: str  # rtnetlink kind: bridge, veth, vlan, bond, vxlan, ... ; "" for a plain NIC
    mtu: int
    up: bool
    master: str | None = None
    addresses: tuple = ()  # Address, without IPv6 link-local (the kernel's own)
    routes: tuple = ()  # Route, without kernel-made and local-table routes
    stp: bool | None = None  # bridges only
    forward_delay: int | None = None  # seconds, bridges only
    mac: str | None = None


@dataclass(frozen=True)
class Desired:
    name: str
    state: str = "present"
    ports: tuple = ()
    addresses: tuple = ()  # normalized CIDRs
    mtu: int | None = None
    stp: bool = False
    forward_delay: int | None = None
    keep: tuple = ()  # IPs another service manages (keepalived's VIPs): never added or removed


@dataclass(frozen=True)
class Step:
    """One change. `previous` holds what undoing it needs."""

    action: str
    link: str
    value: object = None
    target: str | None = None
    previous: object = None

    def describe(self):
        value = self.value
        if self.action == "create_bridge":
            return "create bridge {} ({})".format(
                self.link,
                ", ".join("{}={}".format(*kv) for kv in sorted(value.items())),
            )
        if self.action == "delete_bridge":
            return f"delete bridge {self.link}"
        if self.action in ("set_up", "set_down"):
            return f"set {self.link} {self.action[4:]}"
        if self.action == "set_mtu":
            return f"set {self.link} mtu {value} (was {self.previous})"
        if self.action == "set_stp":
            return "set {} stp {}".format(self.link, "on" if value else "off")
        if self.action == "set_forward_delay":
            return f"set {self.link} forward_delay {value}s (was {self.previous}s)"
        if self.action == "set_master":
            return f"add port {self.link} to {value}"
        if self.action == "release":
            return f"remove port {self.link} from {self.previous}"
        if self.action == "add_address":
            return f"add address {value} to {self.link}"
        if self.action == "del_address":
            return f"remove address {value} from {self.link}"
        if self.action == "move_route":
            return f"move route {value.describe()} from {self.link} to {self.target}"
        if self.action == "add_route":
            return f"add route {value.describe()} on {self.link}"
        if self.action == "del_route":
            return f"remove route {value.describe()} from {self.link}"
        raise ValueError("unknown action " + self.action)

    def inverse(self):
        """The step that undoes this one."""
        a = self.action
        if a == "create_bridge":
            return Step("delete_bridge", self.link, previous=self.value)
        if a == "delete_bridge":
            return Step("create_bridge", self.link, value=self.previous)
        if a == "set_up":
            return Step("set_down", self.link)
        if a == "set_down":
            return Step("set_up", self.link)
        if a in ("set_mtu", "set_stp", "set_forward_delay"):
            return Step(a, self.link, value=self.previous, previous=self.value)
        if a == "set_master":
            return Step("release", self.link, previous=self.value)
        if a == "release":
            return Step("set_master", self.link, value=self.previous)
        if a == "add_address":
            return Step("del_address", self.link, value=self.value)
        if a == "del_address":
            return Step("add_address", self.link, value=self.value, previous="nodad")
        if a == "move_route":
            return Step("move_route", self.target, value=self.value, target=self.link)
        if a == "add_route":
            return Step("del_route", self.link, value=self.value)
        if a == "del_route":
            return Step("add_route", self.link, value=self.value)
        raise ValueError("unknown action " + a)

    def to_dict(self):
        return {"action": self.action, "link": self.link, "description": self.describe()}


# ---------------------------------------------------------------------- validation

_IFNAME_BAD = re.compile(r"[\s/:]")


def ifname_problem(value, where):
    """None when value is a valid Linux interface name, else the problem."""
    if not isinstance(value, str) or not value:
        return f"{where}: {value!r} is not an interface name"
    if len(value) > 15 or _IFNAME_BAD.search(value) or value in (".", ".."):
        return (
            f"{where}: {value!r} is not a valid interface name "
            "(at most 15 characters, no '/', ':' or spaces)"
        )
    return None


def normalize_cidr(value, where):
    """'172.29.236.10/22' -> same, canonical; raise PlanError naming `where` if not an address."""
    if netaddr is None:
        raise PlanError("the netaddr Python library is missing (Debian: python3-netaddr)")
    expected = "an address with its prefix length, like 172.29.236.10/22 or fd00::10/64"
    if not isinstance(value, str) or value.count("/") != 1:
        raise PlanError(f"{where}: {value!r} is not {expected}")
    text, _, plen = value.strip().partition("/")
    try:
        ip = netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise PlanError(f"{where}: {value!r} is not {expected}") from None
    maxlen = 32 if ip.version == 4 else 128
    if not plen.isdigit() or int(plen) > maxlen:
        raise PlanError(f"{where}: {value!r} has a bad prefix length (expected 0-{maxlen})")
    network = netaddr.IPNetwork(f"{ip}/{plen}")
    if ip.version == 4 and network.prefixlen < 31 and ip in (network.network, network.broadcast):
        raise PlanError(
            f"{where}: {value!r} is the network or broadcast address of {network.cidr}, "
            "not a host address"
        )
    return f"{ip}/{int(plen)}"


def desired_from_params(params):
    """Module parameters -> Desired; raise PlanError listing every bad value."""
    problems = []
    name = params["name"]
    problem = ifname_problem(name, "name")
    if problem:
        problems.append(problem)
    elif name == "lo":
        problems.append("name: 'lo' is the loopback interface, not a bridge name")
    ports = list(params.get("ports") or [])
    for i, port in enumerate(ports):
        problem = ifname_problem(port, f"ports[{i}]")
        if problem:
            problems.append(problem)
        elif port == name:
            problems.append(f"ports[{i}]: {port!r} is the bridge itself")
        elif port == "lo":
            problems.append(f"ports[{i}]: 'lo' (loopback) cannot be a bridge port")
        elif ports.index(port) != i:
            problems.append(f"ports[{i}]: {port!r} is listed twice")
    addresses = []
    seen_ips = {}
    for i, value in enumerate(params.get("addresses") or []):
        try:
            cidr = normalize_cidr(value, f"addresses[{i}]")
        except PlanError as exc:
            problems.extend(exc.problems)
            continue
        ip = cidr.split("/")[0]
        if ip in seen_ips:
            problems.append(
                f"addresses[{i}]: {value!r} repeats the address of addresses[{seen_ips[ip]}]"
            )
            continue
        seen_ips[ip] = i
        addresses.append(cidr)
    keep = []
    for i, value in enumerate(params.get("keep_addresses") or []):
        try:
            value = str(value)
            host = value if "/" in value else f"{value}/{128 if ':' in value else 32}"
            keep.append(normalize_cidr(host, f"keep_addresses[{i}]").split("/")[0])
        except PlanError as exc:
            problems.extend(exc.problems)
    for i, cidr in enumerate(addresses):
        if cidr.split("/")[0] in keep:
            problems.append(
                f"addresses[{i}]: {cidr} is also in keep_addresses (expected an address in one "
                "of the two: the bridge's own, or one another service manages)"
            )
    mtu = params.get("mtu")
    if mtu is not None and not 68 <= mtu <= 65535:
        problems.append(f"mtu: {mtu!r} is out of range (expected 68-65535)")
    stp = bool(params.get("stp"))
    delay = params.get("forward_delay")
    if delay is not None:
        low = FORWARD_DELAY_MIN_WITH_STP if stp else 0
        if not low <= delay <= FORWARD_DELAY_MAX:
            problems.append(
                f"forward_delay: {delay!r} is out of range (expected {low}-{FORWARD_DELAY_MAX} "
                f"seconds{' when stp is on' if stp else ''})"
            )
    if problems:
        raise PlanError(problems)
    return Desired(
        name=name,
        state=params.get("state") or "present",
        ports=tuple(ports),
        addresses=tuple(addresses),
        mtu=mtu,
        stp=stp,
        forward_delay=delay,
        keep=tuple(keep),
    )


def is_movable_route(route):
    """Routes that belong to whoever configured the link (not the kernel's own)."""
    return (
        route.table != LOCAL_TABLE
        and route.protocol not in (RTPROT_KERNEL, RTPROT_RA)
        and route.type == RTN_UNICAST
        and not (route.family == 6 and route.dst.lower().startswith("fe80:"))
    )


def _owner_of_ip(links, ip):
    for link in links.values():
        for address in link.addresses:
            if address.ip == ip:
                yield link.name


# ------------------------------------------------------------------------ planning


def plan_runtime(links, desired, controller_ip=None):
    """Current links (name -> Link) + Desired -> ordered [Step]; PlanError before any change.

    controller_ip: the local address the Ansible connection came in on (SSH_CONNECTION),
    when known: an address that must never be removed.
    """
    if desired.state == "absent":
        return _plan_absent(links, desired, controller_ip)
    return _plan_present(links, desired, controller_ip)


def _plan_absent(links, desired, controller_ip):
    bridge = links.get(desired.name)
    if bridge is None:
        return []
    if bridge.kind != "bridge":
        raise PlanError(
            "name: {} exists but is a {}, not a bridge; refusing to delete it".format(
                bridge.name, bridge.kind or "network interface"
            )
        )
    if controller_ip and any(a.ip == controller_ip for a in bridge.addresses):
        raise PlanError(
            f"{bridge.name} carries {controller_ip}, the address this Ansible connection uses; "
            "deleting the bridge would cut it. Move the address elsewhere first."
        )
    steps = [Step("del_route", bridge.name, value=r) for r in bridge.routes if is_movable_route(r)]
    steps += [Step("del_address", bridge.name, value=a.cidr) for a in bridge.addresses]
    for port in sorted(name for name, link in links.items() if link.master == bridge.name):
        steps.append(Step("release", port, previous=bridge.name))
    steps.append(Step("delete_bridge", bridge.name, previous=_bridge_settings(bridge)))
    return steps


def _bridge_settings(link):
    return {
        "mac": link.mac,
        "mtu": link.mtu,
        "stp": bool(link.stp),
        "forward_delay": link.forward_delay,
        "up": link.up,
    }


def _check_present(links, desired, controller_ip):
    problems = []
    bridge = links.get(desired.name)
    if bridge is not None and bridge.kind != "bridge":
        problems.append(
            "name: {} exists and is a {}, not a bridge".format(
                desired.name, bridge.kind or "network interface (no link kind)"
            )
        )
    wanted = set(desired.addresses)
    for i, port_name in enumerate(desired.ports):
        port = links.get(port_name)
        where = f"ports[{i}]"
        if port is None:
            problems.append(
                f"{where}: interface {port_name} does not exist (VLAN and bond ports must be "
                "created before the bridge)"
            )
            continue
        if port.kind == "bridge":
            problems.append(
                f"{where}: {port_name} is a bridge; a bridge cannot be a port of another"
            )
        if port.master and port.master != desired.name:
            master = links.get(port.master)
            problems.append(
                "{}: {} is already a port of {} (a {}); remove it there first".format(
                    where, port_name, port.master, master.kind if master else "master device"
                )
            )
        if desired.mtu is not None and port.mtu < desired.mtu:
            problems.append(
                f"mtu: {desired.mtu} is larger than the MTU {port.mtu} of port {port_name}; "
                "raise the port's MTU first or lower mtu"
            )
        for address in port.addresses:
            if address.dynamic:
                problems.append(
                    f"{where}: {port_name} has {address.cidr} from DHCP or SLAAC (it has a "
                    "lifetime); a bridge port must carry no addresses and the bridge takes "
                    "static ones only"
                )
            elif address.cidr not in wanted and address.ip not in desired.keep:
                problems.append(
                    "{}: {} has address {}, which is not in addresses ({}); it would be stranded "
                    "on a bridge port. Add it to addresses to move it onto {}".format(
                        where,
                        port_name,
                        address.cidr,
                        ", ".join(desired.addresses) or "empty",
                        desired.name,
                    )
                )
        for route in port.routes:
            if route.multipath and is_movable_route(route):
                problems.append(
                    f"{where}: route {route.describe()} uses {port_name} as one of several "
                    "next hops; multipath routes are not moved by this module, move it by hand "
                    "first"
                )
    involved = {desired.name, *desired.ports}
    for i, cidr in enumerate(desired.addresses):
        ip = cidr.split("/")[0]
        others = sorted(set(_owner_of_ip(links, ip)) - involved)
        if others:
            problems.append(
                f"addresses[{i}]: {ip} is in use on {', '.join(others)}; an address can be "
                "on one interface only"
            )
    if bridge is not None and controller_ip:
        for address in bridge.addresses:
            if address.ip == controller_ip and address.cidr not in wanted:
                problems.append(
                    f"addresses: {address.cidr} on {desired.name} is the address this Ansible "
                    "connection uses; it is missing from addresses and would be removed"
                )
    if problems:
        raise PlanError(problems)


def _plan_present(links, desired, controller_ip):
    _check_present(links, desired, controller_ip)
    name = desired.name
    bridge = links.get(name)
    steps = []
    new_ports = [p for p in desired.ports if links[p].master != name]
    # A kept address on a port (a VIP keepalived put there) is dropped, not moved: its service
    # puts it back where its own configuration says.
    moving = [a for p in desired.ports for a in links[p].addresses if a.ip not in desired.keep]
    new_ports_carry_addresses = any(links[p].addresses for p in new_ports)
    if bridge is None:
        # The bridge keeps the MAC of the port whose address it takes over (else of the
        # first port): neighbours' ARP entries stay right while the address moves, and
        # after a rollback too. Left to itself the kernel picks the lowest port MAC, which
        # changes as ports join.
        carrier = [p for p in desired.ports if links[p].addresses] + list(desired.ports)
        mac = links[carrier[0]].mac if carrier else None
        settings = {"mac": mac, "mtu": desired.mtu, "stp": False, "forward_delay": None, "up": True}
        steps.append(Step("create_bridge", name, value=settings))
        stp_now, delay_now = False, KERNEL_FORWARD_DELAY
    else:
        stp_now, delay_now = bool(bridge.stp), bridge.forward_delay
        if not bridge.up:
            steps.append(Step("set_up", name))
        if stp_now and new_ports_carry_addresses:
            # A new port on an STP bridge blocks for 2 x forward_delay: keep STP off
            # until the addresses have moved, or the connection over the port stalls.
            steps.append(Step("set_stp", name, value=False, previous=True))
            stp_now = False
    for port_name in new_ports:
        if not links[port_name].up:
            steps.append(Step("set_up", port_name))
        steps.append(Step("set_master", port_name, value=name))
    for port_name in desired.ports:
        if port_name not in new_ports and not links[port_name].up:
            steps.append(Step("set_up", port_name))
    on_bridge = {a.cidr for a in bridge.addresses} if bridge else set()
    moved = {a.cidr for a in moving}
    for cidr in desired.addresses:
        if cidr not in on_bridge:
            steps.append(
                Step("add_address", name, value=cidr, previous="nodad" if cidr in moved else None)
            )
    for port_name in desired.ports:
        for route in links[port_name].routes:
            if is_movable_route(route):
                steps.append(Step("move_route", port_name, value=route, target=name))
    for port_name in desired.ports:
        for address in links[port_name].addresses:
            steps.append(Step("del_address", port_name, value=address.cidr))
    if bridge is not None:
        for address in bridge.addresses:
            if address.cidr not in desired.addresses and address.ip not in desired.keep:
                steps.append(Step("del_address", name, value=address.cidr))
        for port_name in sorted(n for n, link in links.items() if link.master == name):
            if port_name not in desired.ports:
                steps.append(Step("release", port_name, previous=name))
        if desired.mtu is not None and bridge.mtu != desired.mtu:
            steps.append(Step("set_mtu", name, value=desired.mtu, previous=bridge.mtu))
    # Forward delay has to fit the STP state at every moment: set it while STP is off.
    want_delay = desired.forward_delay if desired.forward_delay is not None else delay_now
    if desired.stp:
        if want_delay != delay_now and want_delay is not None:
            steps.append(Step("set_forward_delay", name, value=want_delay, previous=delay_now))
        if not stp_now:
            steps.append(Step("set_stp", name, value=True, previous=False))
    else:
        if stp_now:
            steps.append(Step("set_stp", name, value=False, previous=True))
        if want_delay != delay_now and want_delay is not None:
            steps.append(Step("set_forward_delay", name, value=want_delay, previous=delay_now))
    return steps


def simulate(links, steps):
    """The links after `steps`, as the planner models them (check mode's 'after')."""
    links = dict(links)

    def update(name, **changes):
        links[name] = replace(links[name], **changes)

    for step in steps:
        a, name = step.action, step.link
        if a == "create_bridge":
            s = step.value
            links[name] = Link(
                name=name,
                kind="bridge",
                mtu=s.get("mtu") or 1500,
                mac=s.get("mac"),
                up=bool(s.get("up", True)),
                stp=bool(s.get("stp")),
                forward_delay=s["forward_delay"]
                if s.get("forward_delay") is not None
                else KERNEL_FORWARD_DELAY,
            )
        elif a == "delete_bridge":
            del links[name]
            for other, link in list(links.items()):
                if link.master == name:
                    update(other, master=None)
        elif a in ("set_up", "set_down"):
            update(name, up=a == "set_up")
        elif a == "set_mtu":
            update(name, mtu=step.value)
        elif a == "set_stp":
            update(name, stp=step.value)
        elif a == "set_forward_delay":
            update(name, forward_delay=step.value)
        elif a == "set_master":
            update(name, master=step.value)
        elif a == "release":
            update(name, master=None)
        elif a == "add_address":
            update(name, addresses=links[name].addresses + (Address(step.value),))
        elif a == "del_address":
            update(name, addresses=tuple(x for x in links[name].addresses if x.cidr != step.value))
        elif a in ("move_route", "del_route"):
            update(name, routes=tuple(r for r in links[name].routes if r != step.value))
            if a == "move_route":
                update(step.target, routes=links[step.target].routes + (step.value,))
        elif a == "add_route":
            update(name, routes=links[name].routes + (step.value,))
        else:
            raise ValueError("unknown action " + a)
    return links


def verify_runtime(links, desired, steps):
    """Problems in the state read back after applying `steps` (empty list: all good)."""
    name = desired.name
    bridge = links.get(name)
    if desired.state == "absent":
        return [f"{name} still exists"] if bridge is not None else []
    if bridge is None or bridge.kind != "bridge":
        return [f"{name} is not a bridge after the change"]
    problems = []
    if not bridge.up:
        problems.append(f"{name} is down")
    if desired.mtu is not None and bridge.mtu != desired.mtu:
        problems.append(f"{name} has mtu {bridge.mtu}, expected {desired.mtu}")
    if bool(bridge.stp) != desired.stp:
        problems.append(f"{name} has stp {bridge.stp}, expected {desired.stp}")
    if desired.forward_delay is not None and bridge.forward_delay != desired.forward_delay:
        problems.append(
            f"{name} has forward_delay {bridge.forward_delay}, expected {desired.forward_delay}"
        )
    ports = sorted(n for n, link in links.items() if link.master == name)
    if ports != sorted(desired.ports):
        problems.append(f"{name} has ports {ports}, expected {sorted(desired.ports)}")
    for port in desired.ports:
        link = links.get(port)
        if link is None:
            problems.append(f"port {port} disappeared")
            continue
        if not link.up:
            problems.append(f"port {port} is down")
        if link.addresses:
            problems.append(
                "port {} still has {}".format(port, ", ".join(a.cidr for a in link.addresses))
            )
    have = sorted(a.cidr for a in bridge.addresses if a.ip not in desired.keep)
    if have != sorted(desired.addresses):
        problems.append(f"{name} has addresses {have}, expected {sorted(desired.addresses)}")
    for step in steps:
        if step.action == "move_route":
            if step.value not in bridge.routes:
                problems.append(f"route {step.value.describe()} is not on {name}")
            port = links.get(step.link)
            if port is not None and step.value in port.routes:
                problems.append(f"route {step.value.describe()} is still on {step.link}")
    return problems


def check_controller_route(out_link, controller, desired):
    """The route back to the Ansible controller must not leave through a bridge port."""
    if out_link in desired.ports:
        return (
            f"the route to the Ansible controller {controller} leaves through {out_link}, "
            f"a port of {desired.name}"
        )
    return None


def controller_addresses(ssh_connection):
    """SSH_CONNECTION ('client_ip client_port server_ip server_port') -> (client, server)."""
    parts = (ssh_connection or "").split()
    if len(parts) != 4:
        return None, None
    return parts[0], parts[2]


def links_report(links, names):
    """JSON-friendly view of the links that matter (for before/after)."""
    report = {}
    for name in names:
        link = links.get(name)
        if link is None:
            continue
        data = {
            "kind": link.kind,
            "mtu": link.mtu,
            "up": link.up,
            "master": link.master,
            "addresses": [a.cidr for a in link.addresses],
            "routes": [r.describe() for r in link.routes if is_movable_route(r)],
        }
        if link.kind == "bridge":
            data["stp"] = link.stp
            data["forward_delay"] = link.forward_delay
        report[name] = data
    return report


def links_text(report):
    """Stable text of links_report() output, for the diff."""
    lines = []
    for name in sorted(report):
        data = report[name]
        lines.append(f"{name}:")
        for key in sorted(data):
            lines.append(f"  {key}: {data[key]}")
    return "\n".join(lines) + "\n" if lines else ""


# ------------------------------------------------------------ persistent: networkd


@dataclass(frozen=True)
class ConfigFile:
    path: str  # path on the host, e.g. /etc/systemd/network/10-lab-eth0.network
    text: str | None  # None: masked (a symlink to /dev/null or an empty file)


def parse_unit(text):
    """systemd unit-style text -> [(section, key, value, line_number)]."""
    entries = []
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if sep:
            entries.append((section, key.strip(), value.strip(), number))
    return entries


# networkd's [Match] Type= names for rtnetlink kinds we can tell apart.
_MATCH_TYPES = {"": "ether", "veth": "ether", "bridge": "bridge", "vlan": "vlan", "bond": "bond"}


def match_link(entries, name, kind):
    """Does a .network file match link `name`? 'yes', 'no' or 'maybe' (keys we cannot judge)."""
    names = None
    verdict = "yes"
    for section, key, value, _ in entries:
        if section != "Match":
            continue
        if key == "Name":
            names = [] if not value else (names or []) + [value]
        elif key == "Type" and kind in _MATCH_TYPES:
            invert = value.startswith("!")
            hit = any(fnmatch.fnmatchcase(_MATCH_TYPES[kind], p) for p in value.lstrip("!").split())
            if hit == invert:
                return "no"
        elif key in ("WLANInterfaceType", "SSID", "BSSID"):
            return "no"  # wireless links only; a wireless station cannot be a bridge port
        elif key == "Kind" and value:
            invert = value.startswith("!")
            hit = any(fnmatch.fnmatchcase(kind, p) for p in value.lstrip("!").split())
            if hit == invert:
                return "no"
        else:
            verdict = "maybe"
    for value in names or []:
        invert = value.startswith("!")
        hit = any(fnmatch.fnmatchcase(name, p) for p in value.lstrip("!").split())
        if hit == invert:
            return "no"
    return verdict


def only_matches(entries, name):
    """True when the file's [Match] names exactly this one link and nothing else."""
    names = [v for s, k, v, _ in entries if s == "Match" and k == "Name"]
    return names == [name]


def effective_files(files):
    """networkd's view: one file per name (earlier directory wins), sorted by name."""
    rank = {d: i for i, d in enumerate(NETWORKD_DIRS)}
    chosen = {}
    for f in files:
        base = f.path.rsplit("/", 1)[-1]
        directory = f.path.rsplit("/", 1)[0]
        old = chosen.get(base)
        if old is None or rank.get(directory, 99) < rank.get(old.path.rsplit("/", 1)[0], 99):
            chosen[base] = f
    return [chosen[b] for b in sorted(chosen) if chosen[b].text]


def bridge_netdev_path(bridge):
    return f"{NETWORKD_DIR}/05-strata-bridge-{bridge}.netdev"


def bridge_network_path(bridge):
    return f"{NETWORKD_DIR}/05-strata-bridge-{bridge}.network"


def port_network_path(port):
    return f"{NETWORKD_DIR}/05-strata-port-{port}.network"


def header(bridge, role, link):
    return (
        f"{HEADER_PREFIX} bridge={bridge} role={role} link={link}\n"
        "# Written by Strata; local changes are overwritten.\n"
    )


def file_owner(text):
    """(bridge, role, link) from our header line, or None for someone else's file."""
    first = (text or "").split("\n", 1)[0]
    if not first.startswith(HEADER_PREFIX):
        return None
    fields = dict(part.split("=", 1) for part in first[len(HEADER_PREFIX) :].split() if "=" in part)
    return fields.get("bridge"), fields.get("role"), fields.get("link")


def _scope_line(route):
    default = RT_SCOPE_UNIVERSE if route.gateway else RT_SCOPE_LINK
    if route.scope == default:
        return None
    return f"Scope={SCOPE_NAMES.get(route.scope, route.scope)}"


def render_route(route):
    lines = ["[Route]"]
    if route.dst != "default":
        lines.append(f"Destination={route.dst}")
    elif not route.gateway:
        lines.append("Destination=%s" % ("0.0.0.0/0" if route.family == 4 else "::/0"))
    if route.gateway:
        lines.append(f"Gateway={route.gateway}")
    if route.onlink:
        lines.append("GatewayOnLink=yes")
    if route.metric is not None and not (route.family == 6 and route.metric == 1024):
        lines.append(f"Metric={route.metric}")
    if route.table != MAIN_TABLE:
        lines.append(f"Table={route.table}")
    if route.prefsrc:
        lines.append(f"PreferredSource={route.prefsrc}")
    scope = _scope_line(route)
    if scope:
        lines.append(scope)
    return "\n".join(lines) + "\n"


def render_netdev(desired):
    text = header(desired.name, "netdev", desired.name)
    text += f"[NetDev]\nName={desired.name}\nKind=bridge\n"
    if desired.mtu is not None:
        text += f"MTUBytes={desired.mtu}\n"
    text += "\n[Bridge]\nSTP={}\n".format("yes" if desired.stp else "no")
    if desired.forward_delay is not None:
        text += f"ForwardDelaySec={desired.forward_delay}\n"
    return text


def render_bridge_network(desired, routes, carried):
    text = header(desired.name, "bridge", desired.name)
    text += f"[Match]\nName={desired.name}\n\n[Network]\n"
    # Addresses come up even while no port has carrier, and stay when carrier is lost.
    text += "ConfigureWithoutCarrier=yes\nIPv6AcceptRA=no\n"
    for line in carried:
        text += line + "\n"
    for cidr in desired.addresses:
        text += f"Address={cidr}\n"
    for route in routes:
        text += "\n" + render_route(route)
    return text


def render_port_network(desired, port, carried_network, carried_link):
    text = header(desired.name, "port", port)
    text += f"[Match]\nName={port}\n\n[Network]\nBridge={desired.name}\n"
    # A port carries no addresses of its own, not even IPv6 link-local or SLAAC ones.
    text += "LinkLocalAddressing=no\nIPv6AcceptRA=no\n"
    for line in carried_network:
        text += line + "\n"
    if carried_link:
        text += "\n[Link]\n" + "".join(line + "\n" for line in carried_link)
    return text


# What a superseded networkd file may hold. Dropped keys are replaced by what the module
# moves or sets; carried keys are copied into our file; anything else stops the run.
_DROP_NETWORK_KEYS = {
    "Address",
    "Gateway",
    "Description",
    "LinkLocalAddressing",
    "IPv6AcceptRA",
    "ConfigureWithoutCarrier",
    "IgnoreCarrierLoss",
    "Bridge",
}
_PORT_STACK_KEYS = {"VLAN", "MACVLAN", "VXLAN", "IPVLAN", "Tunnel", "MACsec"}
_BRIDGE_CARRY_KEYS = {"DNS", "Domains", "NTP"}


@dataclass
class Carry:
    """Settings copied into our files: bridge [Network], per port [Network] and [Link]."""

    bridge: list = field(default_factory=list)
    port_network: dict = field(default_factory=dict)
    port_link: dict = field(default_factory=dict)

    def add(self, bucket, key, line):
        target = self.bridge if bucket == "bridge" else getattr(self, bucket).setdefault(key, [])
        if line not in target:
            target.append(line)


def _sift_networkd(f, entries, role, link, desired, carry, problems):
    """Check a superseded .network file's settings; collect what must be carried."""
    for section, key, value, number in entries:
        where = f"{f.path} line {number}: [{section}] {key}={value}"
        if section in ("Match", "Address", "Route"):
            continue
        if section == "Network" and (
            key in _DROP_NETWORK_KEYS or (key == "DHCP" and value in ("no", "false"))
        ):
            continue
        if section == "Network" and key in _BRIDGE_CARRY_KEYS:
            carry.add("bridge", None, f"{key}={value}")
            continue
        if role == "port" and section == "Network" and key in _PORT_STACK_KEYS:
            carry.add("port_network", link, f"{key}={value}")
            continue
        if role == "port" and section == "Link":
            carry.add("port_link", link, f"{key}={value}")
            continue
        if role == "bridge" and section == "Link" and key == "MTUBytes":
            continue  # the module's mtu option decides
        problems.append(
            f"{where} applies to {link} and will be superseded by Strata's file, but this "
            "setting cannot be carried over: move it into a file of its own (or remove it) and "
            "run again"
        )


# ------------------------------------------------------------- persistent: ifupdown


@dataclass(frozen=True)
class Stanza:
    path: str
    name: str
    family: str
    method: str
    first: int  # line number of the iface line
    last: int  # line number of the last option line
    options: tuple  # (option, value, line_number)


_IFUPDOWN_KEYWORDS = (
    "iface",
    "mapping",
    "auto",
    "source",
    "source-directory",
    "rename",
    "no-auto-down",
    "no-scripts",
)


def _is_keyword(word):
    return word in _IFUPDOWN_KEYWORDS or word.startswith("allow-")


def parse_interfaces(path, text):
    """ifupdown interfaces(5) text -> (stanzas, [(directive, argument)] for source lines)."""
    stanzas, sources = [], []
    current = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        if _is_keyword(words[0]):
            if current:
                stanzas.append(current)
                current = None
            if words[0] == "iface" and len(words) >= 4:
                current = Stanza(path, words[1], words[2], words[3], number, number, ())
            elif words[0] in ("source", "source-directory") and len(words) > 1:
                sources.append((words[0], words[1]))
        elif current:
            option = (words[0], " ".join(words[1:]), number)
            current = replace(current, last=number, options=current.options + (option,))
    if current:
        stanzas.append(current)
    return stanzas, sources


def resolve_source(directive, argument):
    """Absolute path (glob for `source`, directory for `source-directory`) of a source line."""
    if not argument.startswith("/"):
        argument = "/etc/network/" + argument
    return directive, argument


_ADDRESS_OPTIONS = {"address", "netmask", "broadcast", "network", "gateway"}
_BRIDGE_OPTIONS = {
    "bridge_ports",
    "bridge_stp",
    "bridge_fd",
    "bridge_waitport",
    "bridge_maxwait",
}


def _sift_stanza(stanza, role, desired, carry, problems):
    """'takeover', 'leave' (ifupdown only raises the link) or None after a problem."""
    where = (
        f"{stanza.path} line {stanza.first} (iface {stanza.name} {stanza.family} {stanza.method})"
    )
    names = {o.replace("-", "_") for o, _, _ in stanza.options}
    if stanza.method == "manual" and role == "port" and not names & _ADDRESS_OPTIONS:
        return "leave"
    if stanza.method not in ("static", "manual"):
        problems.append(
            f"{where}: ifupdown configures {stanza.name} with method {stanza.method}; a bridge "
            "takes static addresses only. Give it a static address (or none) and run again"
        )
        return None
    found = False
    for option, value, number in stanza.options:
        key = option.replace("-", "_")
        if key in _ADDRESS_OPTIONS or (
            role == "bridge" and (key in _BRIDGE_OPTIONS or key == "mtu")
        ):
            continue
        if key == "dns_nameservers":
            for server in value.split():
                carry.add("bridge", None, f"DNS={server}")
            continue
        if key in ("dns_search", "dns_domain"):
            carry.add("bridge", None, f"Domains={value}")
            continue
        if key == "mtu" and role == "port":
            carry.add("port_link", stanza.name, f"MTUBytes={value}")
            continue
        found = True
        problems.append(
            f"{stanza.path} line {number}: option '{option} {value}' of {stanza.name} cannot be "
            "carried over to systemd-networkd. Strata takes over a stanza that only sets "
            "addresses, gateway, mtu and dns-*; for anything else (bonds, VLANs, up/down "
            "commands) make the stanza 'inet manual' without addresses so ifupdown keeps "
            "creating the device, and run again"
        )
    return None if found else "takeover"


def disable_in_interfaces(text, name):
    """Comment out every ifupdown line that configures `name`; other lines stay untouched."""
    out = []
    stanza_open = False
    for raw in text.splitlines():
        line = raw.strip()
        words = line.split()
        if not line or line.startswith("#"):
            out.append(raw)
            continue
        if _is_keyword(words[0]):
            stanza_open = False
            if words[0] == "iface" and len(words) > 1 and words[1] == name:
                stanza_open = True
                out.append(IFUPDOWN_MARK + raw)
                continue
            if (
                words[0] in ("auto", "no-auto-down", "no-scripts") or words[0].startswith("allow-")
            ) and name in words[1:]:
                rest = [w for w in words[1:] if w != name]
                out.append(IFUPDOWN_MARK + raw)
                if rest:
                    out.append(" ".join([words[0]] + rest))
                continue
            out.append(raw)
        elif stanza_open:
            out.append(IFUPDOWN_MARK + raw)
        else:
            out.append(raw)
    return "\n".join(out) + ("\n" if text.endswith("\n") or not text else "")


# ------------------------------------------------------------ persistent: the plan


@dataclass(frozen=True)
class NetworkdService:
    control: bool  # True when the module may run systemctl/networkctl (config_root is /)
    installed: bool = True
    enabled: bool = True
    active: bool = True


@dataclass(frozen=True)
class FileStep:
    action: str  # write, delete, rename, networkd
    path: str
    text: str | None = None  # write: new text
    previous: str | None = None  # write/delete: old text (None: the file did not exist)
    target: str | None = None  # rename: new path; networkd: "enable", "start" or "reload"

    def describe(self):
        if self.action == "write":
            return ("create %s" if self.previous is None else "update %s") % self.path
        if self.action == "delete":
            return f"delete {self.path}"
        if self.action == "rename":
            return f"rename {self.path} to {self.target}"
        return {
            "enable": "enable and start systemd-networkd",
            "start": "start systemd-networkd",
            "reload": "networkctl reload",
        }[self.target]

    def to_dict(self):
        return {"action": self.action, "path": self.path, "description": self.describe()}


@dataclass
class PersistPlan:
    steps: list
    superseded: list  # [{path, link, action}] : what happened to configs of the bridge/ports

    def files_before(self):
        out = {}
        for s in self.steps:
            if s.action in ("write", "delete"):
                out[s.path] = s.previous
            elif s.action == "rename":
                out[s.path] = s.previous
                out[s.target] = None
        return out

    def files_after(self):
        out = {}
        for s in self.steps:
            if s.action == "write":
                out[s.path] = s.text
            elif s.action == "delete":
                out[s.path] = None
            elif s.action == "rename":
                out[s.path] = None
                out[s.target] = s.previous
        return out


def _carried_from_own(files, desired, carry):
    for f in files:
        owner = file_owner(f.text)
        if not owner or owner[0] != desired.name:
            continue
        entries = parse_unit(f.text)
        if owner[1] == "bridge":
            for section, key, value, _ in entries:
                if section == "Network" and key in _BRIDGE_CARRY_KEYS:
                    carry.add("bridge", None, f"{key}={value}")
        elif owner[1] == "port" and owner[2] in desired.ports:
            for section, key, value, _ in entries:
                if section == "Network" and key in _PORT_STACK_KEYS:
                    carry.add("port_network", owner[2], f"{key}={value}")
                elif section == "Link":
                    carry.add("port_link", owner[2], f"{key}={value}")


def plan_persistent(desired, links_after, networkd_files, ifupdown_files, service):
    """Desired + links after the runtime change + config files -> PersistPlan; PlanError first.

    networkd_files: every *.network/*.netdev in NETWORKD_DIRS (ConfigFile, text None if masked).
    ifupdown_files: /etc/network/interfaces and the files it sources.
    """
    problems = []
    superseded = []
    steps = []
    carry = Carry()
    by_path = {f.path: f for f in networkd_files}
    effective = effective_files(networkd_files)
    ours = {f.path: f for f in effective if (file_owner(f.text) or (None,))[0] == desired.name}

    if desired.state == "absent":
        for f in effective:
            entries = parse_unit(f.text)
            if (
                f.path not in ours
                and f.path.endswith(".netdev")
                and ("NetDev", "Name", desired.name) in [e[:3] for e in entries]
            ):
                problems.append(
                    f"{f.path} creates {desired.name} at boot; remove it too or the bridge "
                    "comes back"
                )
        for f in ifupdown_files:
            for stanza in parse_interfaces(f.path, f.text)[0]:
                if stanza.name == desired.name:
                    problems.append(
                        f"{f.path} line {stanza.first} configures {desired.name} (ifupdown); "
                        "remove that stanza too or the bridge comes back at boot"
                    )
        if problems:
            raise PlanError(problems)
        steps = [
            FileStep("delete", p, previous=f.text)
            for p, f in sorted(ours.items())
            if p.startswith(NETWORKD_DIR + "/")
        ]
        return PersistPlan(_with_service(steps, service, problems), superseded)

    _carried_from_own(effective, desired, carry)
    wanted = {bridge_netdev_path(desired.name), bridge_network_path(desired.name)}
    wanted |= {port_network_path(p) for p in desired.ports}
    links = [(desired.name, "bridge")] + [(p, "port") for p in desired.ports]

    # networkd: files that configure the bridge or a port today.
    for name, role in links:
        kind = links_after[name].kind if name in links_after else "bridge"
        our_path = bridge_network_path(name) if role == "bridge" else port_network_path(name)
        our_base = our_path.rsplit("/", 1)[-1]
        for f in effective:
            if f.path in wanted or not f.path.endswith(".network"):
                continue
            entries = parse_unit(f.text)
            verdict = match_link(entries, name, kind)
            if verdict == "no":
                continue
            base = f.path.rsplit("/", 1)[-1]
            if base < our_base:
                problems.append(
                    "{} {} {} and sorts before {}, so networkd would keep using it: rename it to "
                    "sort after {} or narrow its [Match]".format(
                        f.path,
                        "matches" if verdict == "yes" else "may match",
                        name,
                        our_base,
                        our_base,
                    )
                )
                break
            _sift_networkd(f, entries, role, name, desired, carry, problems)
            if f.path.startswith(NETWORKD_DIR + "/") and only_matches(entries, name):
                steps.append(
                    FileStep("rename", f.path, previous=f.text, target=f.path + DISABLED_SUFFIX)
                )
                action = "disabled: renamed to %s (networkd reads *.network only)" % (
                    f.path + DISABLED_SUFFIX
                )
            else:
                action = (
                    f"left in place: it also applies to other links; {our_base} sorts first "
                    f"and wins for {name}"
                )
            superseded.append({"path": f.path, "link": name, "action": action})
            break  # networkd uses only the first matching file

    for f in effective:
        if f.path in wanted or not f.path.endswith(".netdev"):
            continue
        entries = parse_unit(f.text)
        if ("NetDev", "Name", desired.name) not in [e[:3] for e in entries]:
            continue
        if not f.path.startswith(NETWORKD_DIR + "/"):
            problems.append(
                f"{f.path} also defines {desired.name}; it is outside {NETWORKD_DIR}, so mask "
                "it with a symlink to /dev/null there"
            )
            continue
        for section, key, value, number in entries:
            if (section, key) in (
                ("NetDev", "Name"),
                ("NetDev", "Description"),
                ("NetDev", "MTUBytes"),
            ):
                continue
            if (section, key, value) == ("NetDev", "Kind", "bridge") or section == "Match":
                continue
            if section == "Bridge" and key in ("STP", "ForwardDelaySec"):
                continue
            problems.append(
                f"{f.path} line {number}: [{section}] {key}={value} of {desired.name} is not "
                "something linux_bridge sets; move it into a .link/.network file or drop it, "
                "then run again"
            )
        steps.append(FileStep("rename", f.path, previous=f.text, target=f.path + DISABLED_SUFFIX))
        superseded.append(
            {
                "path": f.path,
                "link": desired.name,
                "action": "disabled: renamed to %s" % (f.path + DISABLED_SUFFIX),
            }
        )

    # ifupdown: stanzas for the bridge or a port.
    edits = {}
    for f in ifupdown_files:
        for stanza in parse_interfaces(f.path, f.text)[0]:
            role = dict(links).get(stanza.name)
            if role is None:
                continue
            verdict = _sift_stanza(stanza, role, desired, carry, problems)
            if verdict == "leave":
                superseded.append(
                    {
                        "path": f.path,
                        "link": stanza.name,
                        "action": f"left in place: ifupdown only brings {stanza.name} up "
                        f"(inet manual, no addresses); networkd adds it to {desired.name}",
                    }
                )
            elif verdict == "takeover":
                edits.setdefault(f.path, [f, []])[1].append(stanza.name)
                superseded.append(
                    {
                        "path": f.path,
                        "link": stanza.name,
                        "action": f"commented out lines {stanza.first}-{stanza.last} "
                        f"(iface {stanza.name} {stanza.family}) and its auto/allow lines, marked "
                        f"{IFUPDOWN_MARK.strip()!r}; systemd-networkd configures it now",
                    }
                )
    if problems:
        raise PlanError(problems)

    bridge = links_after.get(desired.name)
    routes = [r for r in (bridge.routes if bridge else ()) if is_movable_route(r)]
    texts = {
        bridge_netdev_path(desired.name): render_netdev(desired),
        bridge_network_path(desired.name): render_bridge_network(desired, routes, carry.bridge),
    }
    for port in desired.ports:
        texts[port_network_path(port)] = render_port_network(
            desired, port, carry.port_network.get(port, []), carry.port_link.get(port, [])
        )
    writes = []
    for path, text in texts.items():
        old = by_path.get(path)
        old_text = old.text if old else None
        if old_text != text:
            writes.append(FileStep("write", path, text=text, previous=old_text))
    for path, f in sorted(ours.items()):
        if path not in wanted and path.startswith(NETWORKD_DIR + "/"):
            writes.append(FileStep("delete", path, previous=f.text))
    for path, (f, names) in sorted(edits.items()):
        text = f.text
        for name in names:
            text = disable_in_interfaces(text, name)
        writes.append(FileStep("write", path, text=text, previous=f.text))
    # Our files first, then the old ones go: at no moment is a link left without config.
    steps = writes + steps
    steps = _with_service(steps, service, problems)
    if problems:
        raise PlanError(problems)
    return PersistPlan(steps, superseded)


def _with_service(steps, service, problems):
    """Append what makes networkd read the new files now (if it runs here)."""
    if not steps or not service.control:
        return steps
    if not service.installed:
        problems.append(
            "systemd-networkd is not installed on this host (it ships with the systemd package); "
            "the persistent bridge config needs it"
        )
        return steps
    if not service.enabled:
        return steps + [FileStep("networkd", "systemd-networkd.service", target="enable")]
    if not service.active:
        return steps + [FileStep("networkd", "systemd-networkd.service", target="start")]
    return steps + [FileStep("networkd", "systemd-networkd.service", target="reload")]


def networkd_link_state(text):
    """/run/systemd/netif/links/<index> text -> {key: value}."""
    state = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            state[key.strip()] = value.strip()
    return state


def check_networkd_link(name, state, expected_file):
    """'pending', None (configured by our file) or the problem."""
    admin = state.get("ADMIN_STATE", "")
    if admin in ("", "pending", "initialized", "configuring"):
        return "pending"
    if admin != "configured":
        return f"systemd-networkd reports {name} as {admin}"
    if state.get("NETWORK_FILE") != expected_file:
        return "systemd-networkd configures {} from {}, expected {}".format(
            name,
            state.get("NETWORK_FILE"),
            expected_file,
        )
    return None


def as_dict(obj):
    return asdict(obj)

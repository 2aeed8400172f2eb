#!/usr/bin/python
"""Strata's linux_bridge module: a Linux bridge, its ports and addresses, now and after reboot."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import socket
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.strata_bridge import (
    IFUPDOWN_MAIN,
    NETWORKD_DIRS,
    Address,
    ConfigFile,
    Link,
    NetworkdService,
    PlanError,
    Route,
    bridge_network_path,
    check_controller_route,
    check_networkd_link,
    controller_addresses,
    desired_from_params,
    is_movable_route,
    links_report,
    links_text,
    netaddr,
    networkd_link_state,
    parse_interfaces,
    plan_persistent,
    plan_runtime,
    port_network_path,
    resolve_source,
    simulate,
    verify_runtime,
)

try:
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
except ImportError:
    IPRoute = None
    NetlinkError = OSError

DOCUMENTATION = r"""
---
module: linux_bridge
short_description: Create a Linux bridge, move a port's address onto it safely, make it persistent
description:
  - Creates (or removes) a Linux bridge through netlink (pyroute2), enslaves the given ports,
    puts the given addresses on the bridge, and writes systemd-networkd C(.netdev)/C(.network)
    files so the bridge, its ports and its addresses come back after a reboot.
  - When a port carries an address (and routes) that should live on the bridge, for example
    C(eth0) with the address the Ansible connection uses, the address moves without cutting
    the connection. The order is - bridge up with STP off (a new bridge takes that port's MAC);
    port joins the bridge; address added to the bridge; each route through the port replaced
    onto the bridge (one atomic replace); address removed from the port; STP and forward delay
    set. Afterwards the module reads the
    state back and checks it (and that the route to the Ansible controller does not leave
    through a port). If any step or check fails, every step done is undone in reverse order
    (the same safe ordering backwards), the files are restored, and the task fails with the reason.
  - Everything that can be checked is checked before anything changes, and each problem is
    reported with the option, the value and what was expected - a port that does not exist, an
    address that is in use on another interface, an MTU larger than a port's, an address on a
    port that is not in O(addresses), a DHCP/SLAAC address on a port, a port that belongs to
    another bridge or bond, a config file that would keep configuring a port.
  - Persistent config is written for systemd-networkd, named C(05-strata-bridge-NAME.netdev),
    C(05-strata-bridge-NAME.network) and C(05-strata-port-PORT.network) in
    C(/etc/systemd/network), so they sort before the usual C(10-*) files (networkd applies the
    first matching C(.network) file per link, by file name across C(/etc), C(/run) and C(/usr/lib)).
    The file that configured a port before is renamed to C(*.disabled-by-strata) when it
    configured only that port, or left in place (now shadowed) when it also matches other links;
    the result's RV(superseded) says which. A port configured by ifupdown in
    C(/etc/network/interfaces) (Debian netinst) is taken over - its stanza and auto/allow lines are
    commented out with the marker C(#strata-linux-bridge#) - when the stanza sets only addresses,
    gateway, mtu and dns-*; a stanza that also builds a bond or VLAN or runs commands stops the
    task with instructions instead. See C(docs/modules/linux_bridge.md).
  - After writing files the module enables/starts systemd-networkd if needed, or runs
    C(networkctl reload) and checks the running state again (a failure rolls back). It then
    waits up to 10 s for networkd to report the bridge and ports configured from Strata's
    files; networkd can be slow to confirm links it did not create, so a late confirmation is
    a warning, not a rollback (the files are what the next boot uses).
  - VLAN and bond ports (like C(bond0.20), C(bond0)) must exist already; the module only
    enslaves them.
version_added: "0.1.0"
author: Strata
requirements:
  - pyroute2 (Debian package python3-pyroute2, 0.7 or later)
  - netaddr (Debian package python3-netaddr)
  - systemd-networkd on the host for persistence
options:
  name:
    description: Name of the bridge, at most 15 characters.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the bridge.
      - V(absent) deletes it and Strata's files for it; ports are released, their addresses are
        not moved back. Fails if the bridge carries the address the Ansible connection uses.
    type: str
    choices: [present, absent]
    default: present
  ports:
    description:
      - The exact list of interfaces enslaved to the bridge (a NIC, a bond, a VLAN such as
        C(bond0.20)). Ports enslaved now but not listed are released.
      - Every address a listed port carries must be in O(addresses); it moves onto the bridge
        together with the routes through the port.
    type: list
    elements: str
    default: []
  addresses:
    description:
      - The exact list of addresses of the bridge, each with its prefix length
        (C(172.29.236.10/22), C(fd00::10/64)). Addresses on the bridge but not listed are removed,
        except those in O(keep_addresses).
    type: list
    elements: str
    default: []
  keep_addresses:
    description:
      - Addresses another service manages on this host, such as keepalived's VIPs (C(172.29.236.9)
        or C(172.29.236.9/32); only the address counts). The module never adds, removes or
        persists them on the bridge; on a port they are dropped rather than moved (their service
        puts them back where its own configuration says).
    type: list
    elements: str
    default: []
  mtu:
    description:
      - MTU of the bridge. Must not be larger than any port's MTU (ports are not changed).
        Unset leaves the kernel's choice (the smallest port MTU).
    type: int
  stp:
    description: Spanning tree protocol on the bridge.
    type: bool
    default: false
  forward_delay:
    description:
      - Forward delay in seconds (0-30; 2-30 with O(stp)). Unset leaves the current value.
    type: int
  persist:
    description:
      - Write the systemd-networkd files (and take over ifupdown config of the ports) so the
        bridge comes back after a reboot. V(false) changes the running system only.
    type: bool
    default: true
  config_root:
    description:
      - Directory used as C(/) for every config file read or written. Only tests and image
        builds change it; with anything but C(/) the module does not run systemctl or networkctl.
        Netlink changes always apply to the network namespace the module runs in.
    type: path
    default: /
notes:
  - Supports check mode and diff mode. Idempotent.
  - The address of the Ansible connection is taken from E(SSH_CONNECTION) when the module sees
    it (connecting as root, or sudo keeping that variable).
"""

EXAMPLES = r"""
- name: Management bridge on eth0, taking over eth0's address over the live connection
  linux_bridge:
    name: br-mgmt
    ports: [eth0]
    addresses: [172.29.236.11/22]

- name: Storage bridge on a VLAN of a bond, jumbo frames (bond0.20 must exist, MTU >= 9000)
  linux_bridge:
    name: br-storage
    ports: [bond0.20]
    addresses: [172.29.244.11/22]
    mtu: 9000

- name: Replication bridge with STP
  linux_bridge:
    name: br-repl
    ports: [bond1]
    addresses: [172.29.248.11/22]
    stp: true
    forward_delay: 4

- name: A bridge for this boot only (no files written)
  linux_bridge:
    name: br-test
    persist: false

- name: Remove a bridge and its Strata files
  linux_bridge:
    name: br-old
    state: absent
"""

RETURN = r"""
changed:
  description: Whether anything changed (or would, in check mode).
  type: bool
  returned: always
steps:
  description: The changes, in the order done (planned, in check mode).
  type: list
  elements: dict
  returned: always
  sample:
    - {action: create_bridge, link: br-mgmt, description: "create bridge br-mgmt (...)"}
    - {action: set_master, link: eth0, description: "add port eth0 to br-mgmt"}
    - {action: add_address, link: br-mgmt, description: "add address 172.29.236.11/22 to br-mgmt"}
    - {action: write, path: /etc/systemd/network/05-strata-bridge-br-mgmt.network,
       description: "create /etc/systemd/network/05-strata-bridge-br-mgmt.network"}
before:
  description: The bridge and its ports (and files about to change) before the run.
  type: dict
  returned: always
  contains:
    links:
      description: Per link - kind, mtu, up, master, addresses, routes (and stp, forward_delay).
      type: dict
    files:
      description: Path -> content (null - did not exist) of every file the run changes.
      type: dict
after:
  description: Same as RV(before), read back after the change (simulated in check mode).
  type: dict
  returned: always
superseded:
  description: What happened to config that configured the bridge or a port before.
  type: list
  elements: dict
  returned: always
  sample:
    - path: /etc/systemd/network/10-lab-eth0.network
      link: eth0
      action: "disabled: renamed to /etc/systemd/network/10-lab-eth0.network.disabled-by-strata ..."
diff:
  description: Before/after text of the links and of every changed file (with --diff).
  type: list
  returned: when diff mode is on
"""

IFF_UP = 0x1
IFA_F_NODAD = 0x02
IFA_F_PERMANENT = 0x80
RTNH_F_ONLINK = 0x4
NUD_STALE = 0x04
NUD_USABLE = 0x02 | 0x04 | 0x08 | 0x10  # reachable, stale, delay, probe
NETWORKD_WAIT_SECONDS = 10


class StepFailed(Exception):
    pass


# ------------------------------------------------------------------- gather state


def gather_links(ipr):
    """Every link in this network namespace as strata_bridge.Link, by name."""
    messages = list(ipr.get_links())
    names = {m["index"]: m.get_attr("IFLA_IFNAME") for m in messages}
    addresses = {index: [] for index in names}
    for msg in ipr.get_addr():
        ip = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
        if msg["family"] == socket.AF_INET6 and ip.lower().startswith("fe80:"):
            continue  # the kernel's own link-local address
        flags = msg.get_attr("IFA_FLAGS") or msg["flags"]
        address = Address(f"{ip}/{msg['prefixlen']}", dynamic=not flags & IFA_F_PERMANENT)
        addresses.setdefault(msg["index"], []).append(address)
    routes = {index: [] for index in names}
    for family in (socket.AF_INET, socket.AF_INET6):
        for msg in ipr.route("dump", family=family):
            for index, route in _routes_of(msg, family):
                if index in routes and is_movable_route(route):
                    routes[index].append(route)
    links = {}
    for msg in messages:
        index = msg["index"]
        info = msg.get_attr("IFLA_LINKINFO")
        kind = (info.get_attr("IFLA_INFO_KIND") if info else None) or ""
        stp = delay = None
        if kind == "bridge":
            data = info.get_attr("IFLA_INFO_DATA")
            stp = bool(data.get_attr("IFLA_BR_STP_STATE"))
            delay = data.get_attr("IFLA_BR_FORWARD_DELAY") // 100  # clock ticks (1/100 s)
        links[names[index]] = Link(
            name=names[index],
            kind=kind,
            mtu=msg.get_attr("IFLA_MTU"),
            up=bool(msg["flags"] & IFF_UP),
            master=names.get(msg.get_attr("IFLA_MASTER")),
            addresses=tuple(addresses.get(index, ())),
            routes=tuple(routes.get(index, ())),
            stp=stp,
            forward_delay=delay,
            mac=msg.get_attr("IFLA_ADDRESS"),
        )
    return links


def _routes_of(msg, family):
    dst = msg.get_attr("RTA_DST")
    common = dict(
        family=4 if family == socket.AF_INET else 6,
        dst=f"{dst}/{msg['dst_len']}" if msg["dst_len"] or dst else "default",
        metric=msg.get_attr("RTA_PRIORITY"),
        table=msg.get_attr("RTA_TABLE") or msg["table"],
        protocol=msg["proto"],
        scope=msg["scope"],
        type=msg["type"],
        tos=msg["tos"],
        prefsrc=msg.get_attr("RTA_PREFSRC"),
    )
    hops = msg.get_attr("RTA_MULTIPATH")
    if hops:
        for hop in hops:
            yield hop["oif"], Route(multipath=True, **common)
        return
    oif = msg.get_attr("RTA_OIF")
    if oif:
        gateway = msg.get_attr("RTA_GATEWAY")
        yield oif, Route(gateway=gateway, onlink=bool(msg["flags"] & RTNH_F_ONLINK), **common)


def route_out_link(ipr, links_by_index, destination):
    try:
        msg = ipr.route("get", dst=destination)[0]
    except (NetlinkError, OSError, IndexError):
        return None
    return links_by_index.get(msg.get_attr("RTA_OIF"))


def read_networkd_files(root):
    files = []
    for directory in NETWORKD_DIRS:
        full = os.path.join(root, directory.lstrip("/"))
        if not os.path.isdir(full):
            continue
        for entry in sorted(os.listdir(full)):
            if not entry.endswith((".network", ".netdev")):
                continue
            path = os.path.join(full, entry)
            if os.path.islink(path) and os.path.realpath(path) == "/dev/null":
                files.append(ConfigFile(directory + "/" + entry, None))
            elif os.path.isfile(path):
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
                files.append(ConfigFile(directory + "/" + entry, text if text.strip() else None))
    return files


def read_ifupdown_files(root):
    """/etc/network/interfaces and every file it sources, depth first like ifupdown."""
    files, seen = [], set()

    def read(host_path):
        if host_path in seen:
            return
        seen.add(host_path)
        full = os.path.join(root, host_path.lstrip("/"))
        if not os.path.isfile(full):
            return
        with open(full, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        files.append(ConfigFile(host_path, text))
        for directive, argument in parse_interfaces(host_path, text)[1]:
            directive, pattern = resolve_source(directive, argument)
            if directive == "source":
                matches = sorted(glob.glob(os.path.join(root, pattern.lstrip("/"))))
            else:
                base = os.path.join(root, pattern.lstrip("/"))
                entries = sorted(os.listdir(base)) if os.path.isdir(base) else []
                matches = [
                    os.path.join(base, e) for e in entries if re.match(r"^[a-zA-Z0-9_-]+$", e)
                ]
            for match in matches:
                read("/" + os.path.relpath(match, root))

    read(IFUPDOWN_MAIN)
    return files


def networkd_service(module, root):
    if root != "/" or not os.path.isdir("/run/systemd/system"):
        return NetworkdService(control=False)
    unit = "systemd-networkd.service"
    _, load, _ = module.run_command(["systemctl", "show", "-p", "LoadState", "--value", unit])
    _, enabled, _ = module.run_command(["systemctl", "is-enabled", unit])
    _, active, _ = module.run_command(["systemctl", "is-active", unit])
    return NetworkdService(
        control=True,
        installed=load.strip() == "loaded",
        enabled=enabled.strip() in ("enabled", "enabled-runtime", "static", "alias"),
        active=active.strip() == "active",
    )


# ---------------------------------------------------------------------- apply


def _route_args(route, oif):
    args = dict(
        family=socket.AF_INET if route.family == 4 else socket.AF_INET6,
        oif=oif,
        table=route.table,
        proto=route.protocol,
        scope=route.scope,
        type=route.type,
        tos=route.tos,
    )
    if route.dst == "default":
        args["dst_len"] = 0
    else:
        network, length = route.dst.split("/")
        args.update(dst=network, dst_len=int(length))
    if route.gateway:
        args["gateway"] = route.gateway
    if route.metric is not None:
        args["priority"] = route.metric
    if route.prefsrc:
        args["prefsrc"] = route.prefsrc
    if route.onlink:
        args["flags"] = RTNH_F_ONLINK
    return args


def copy_neighbours(ipr, source, target):
    """Give `target` the neighbour (ARP/NDP) entries `source` has, as stale.

    Traffic that switches links needs the neighbour's MAC on the new link. While a port is
    still in the bridge, the answer to an ARP request sent from the port is delivered to the
    bridge, not the port, and the kernel asks again only a second later: a one-second stall
    when a rollback moves traffic back to the port. A stale entry is used at once and
    re-checked after a few seconds, when the port is on its own again.
    """
    for entry in ipr.neigh("dump", ifindex=source):
        ip, mac = entry.get_attr("NDA_DST"), entry.get_attr("NDA_LLADDR")
        if entry["ifindex"] != source or not ip or not mac or not entry["state"] & NUD_USABLE:
            continue
        with contextlib.suppress(NetlinkError):  # the target knows this neighbour already
            ipr.neigh("add", ifindex=target, dst=ip, lladdr=mac, state=NUD_STALE)


def apply_netlink(ipr, step):
    """Carry out one strata_bridge.Step."""

    def index(name):
        found = ipr.link_lookup(ifname=name)
        if not found:
            raise StepFailed(f"interface {name} is gone")
        return found[0]

    def other_holder(ip, length, link_index):
        for msg in ipr.get_addr():
            local = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
            if local == ip and msg["prefixlen"] == length and msg["index"] != link_index:
                return msg["index"]
        return None

    action, name, value = step.action, step.link, step.value
    if action == "create_bridge":
        args = {"ifname": name, "kind": "bridge"}
        if value.get("mac"):
            args["address"] = value["mac"]
        ipr.link("add", **args)
        if value.get("mtu"):
            # Set after creation: only then does the kernel keep it when ports join (an MTU
            # given at creation is replaced by the smallest port MTU).
            ipr.link("set", index=index(name), mtu=value["mtu"])
        if value.get("forward_delay") is not None:
            ipr.link(
                "set",
                index=index(name),
                kind="bridge",
                br_forward_delay=value["forward_delay"] * 100,
            )
        if value.get("stp"):
            ipr.link("set", index=index(name), kind="bridge", br_stp_state=1)
        if value.get("up", True):
            ipr.link("set", index=index(name), state="up")
    elif action == "delete_bridge":
        ipr.link("del", index=index(name))
    elif action in ("set_up", "set_down"):
        ipr.link("set", index=index(name), state=action[4:])
    elif action == "set_mtu":
        ipr.link("set", index=index(name), mtu=value)
    elif action == "set_stp":
        ipr.link("set", index=index(name), kind="bridge", br_stp_state=int(bool(value)))
    elif action == "set_forward_delay":
        ipr.link("set", index=index(name), kind="bridge", br_forward_delay=value * 100)
    elif action == "set_master":
        ipr.link("set", index=index(name), master=index(value))
    elif action == "release":
        ipr.link("set", index=index(name), master=0)
    elif action in ("add_address", "del_address"):
        ip, length = value.split("/")
        args = dict(index=index(name), address=ip, prefixlen=int(length))
        if action == "del_address":
            # Traffic for this subnet switches to the other link holding the address.
            holder = other_holder(ip, int(length), args["index"])
            if holder:
                copy_neighbours(ipr, args["index"], holder)
        if action == "add_address" and ":" in ip and step.previous == "nodad":
            args["flags"] = IFA_F_NODAD  # the address is ours already: no duplicate detection wait
        ipr.addr(action[:3], **args)
    elif action == "move_route":
        # One atomic replace: the route is never absent, and never on both links.
        copy_neighbours(ipr, index(name), index(step.target))
        ipr.route("replace", **_route_args(value, index(step.target)))
    elif action == "add_route":
        ipr.route("add", **_route_args(value, index(name)))
    elif action == "del_route":
        ipr.route("del", **_route_args(value, index(name)))
    else:
        raise StepFailed("unknown step " + action)


def _host_path(root, path):
    return os.path.join(root, path.lstrip("/"))


def _write_file(full, text):
    directory = os.path.dirname(full)
    os.makedirs(directory, exist_ok=True)
    mode = os.stat(full).st_mode & 0o7777 if os.path.isfile(full) else 0o644
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".strata-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, mode)
        os.replace(temp, full)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def apply_file(module, root, step):
    """Carry out one strata_bridge.FileStep (or its undo, via `undo=True` callers)."""
    full = _host_path(root, step.path)
    if step.action == "write":
        _write_file(full, step.text)
    elif step.action == "delete":
        os.unlink(full)
    elif step.action == "rename":
        os.rename(full, _host_path(root, step.target))
    elif step.action == "networkd":
        commands = {
            "enable": ["systemctl", "enable", "--now", "systemd-networkd.service"],
            "start": ["systemctl", "start", "systemd-networkd.service"],
            "reload": ["networkctl", "reload"],
            "disable": ["systemctl", "disable", "--now", "systemd-networkd.service"],
            "stop": ["systemctl", "stop", "systemd-networkd.service"],
        }
        rc, out, err = module.run_command(commands[step.target])
        if rc != 0:
            command = " ".join(commands[step.target])
            raise StepFailed(f"{command} failed (rc {rc}): {(err or out).strip()}")


def undo_file(module, root, step):
    full = _host_path(root, step.path)
    if step.action in ("write", "delete"):
        if step.previous is None:
            if os.path.exists(full):
                os.unlink(full)
        else:
            _write_file(full, step.previous)
    elif step.action == "rename":
        os.rename(_host_path(root, step.target), full)
    elif step.action == "networkd":
        undo = {"enable": "disable", "start": "stop", "reload": "reload"}[step.target]
        apply_file(module, root, type(step)("networkd", step.path, target=undo))


def rollback(module, ipr, root, done_netlink, done_files):
    """Undo in reverse order; networkd re-reads the restored files last. Returns problems."""
    problems = []
    for step in reversed(done_files):
        if step.action == "networkd":
            continue
        try:
            undo_file(module, root, step)
        except Exception as exc:  # keep undoing the rest whatever went wrong
            problems.append(f"undo '{step.describe()}': {exc}")
    for step in reversed(done_netlink):
        undo = step.inverse()
        try:
            apply_netlink(ipr, undo)
        except Exception as exc:  # keep undoing the rest
            problems.append(f"undo '{step.describe()}' ({undo.describe()}): {exc}")
    for step in done_files:
        if step.action == "networkd":
            try:
                undo_file(module, root, step)
            except Exception as exc:  # keep undoing the rest
                problems.append(f"undo '{step.describe()}': {exc}")
    return problems


def wait_for_networkd(module, ipr, desired):
    """Problems after networkd settled on the bridge and ports (empty: all from our files).

    A link networkd still reports from an older file (or as unmanaged) may only not have been
    re-read yet: only a mismatch that outlasts the wait is reported.
    """
    expected = {desired.name: bridge_network_path(desired.name)}
    expected.update({p: port_network_path(p) for p in desired.ports})
    deadline = time.monotonic() + NETWORKD_WAIT_SECONDS
    while True:
        problems, pending = [], []
        for name, path in expected.items():
            found = ipr.link_lookup(ifname=name)
            text = ""
            if found:
                try:
                    with open(f"/run/systemd/netif/links/{found[0]}", encoding="utf-8") as handle:
                        text = handle.read()
                except OSError:
                    pass
            result = check_networkd_link(name, networkd_link_state(text), path)
            if result == "pending":
                pending.append(name)
            elif result:
                problems.append(result)
        if not problems and not pending:
            return []
        if time.monotonic() > deadline:
            if problems:
                return problems
            return [
                f"systemd-networkd did not finish configuring {', '.join(pending)} "
                f"within {NETWORKD_WAIT_SECONDS} s"
            ]
        time.sleep(0.5)


# ----------------------------------------------------------------------- main


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            ports=dict(type="list", elements="str", default=[]),
            addresses=dict(type="list", elements="str", default=[]),
            keep_addresses=dict(type="list", elements="str", default=[], no_log=False),
            mtu=dict(type="int"),
            stp=dict(type="bool", default=False),
            forward_delay=dict(type="int"),
            persist=dict(type="bool", default=True),
            config_root=dict(type="path", default="/"),
        ),
        supports_check_mode=True,
    )
    if IPRoute is None:
        module.fail_json(msg=missing_required_lib("pyroute2 (Debian: python3-pyroute2)"))
    if netaddr is None:
        module.fail_json(msg=missing_required_lib("netaddr (Debian: python3-netaddr)"))
    params = module.params
    root = params["config_root"]
    try:
        desired = desired_from_params(params)
    except PlanError as exc:
        module.fail_json(msg="linux_bridge: " + str(exc), problems=exc.problems)

    client_ip, server_ip = controller_addresses(os.environ.get("SSH_CONNECTION"))
    ipr = IPRoute()
    try:
        run(module, ipr, root, desired, client_ip, server_ip)
    finally:
        ipr.close()


def run(module, ipr, root, desired, client_ip, server_ip):
    before_links = gather_links(ipr)
    missing = [p for p in desired.ports if p not in before_links]
    if module.check_mode and missing and desired.state == "present":
        # An earlier task (a VLAN or bond) may create the port; check mode ran no such task.
        module.warn(
            f"ports {', '.join(missing)} do not exist now; a real run fails unless an earlier "
            "task creates them"
        )
        module.exit_json(changed=True, steps=[], superseded=[], before={}, after={})
    try:
        steps = plan_runtime(before_links, desired, server_ip)
        after_links = simulate(before_links, steps)
        persist_plan = None
        if module.params["persist"]:
            persist_plan = plan_persistent(
                desired,
                after_links,
                read_networkd_files(root),
                read_ifupdown_files(root),
                networkd_service(module, root),
            )
    except PlanError as exc:
        module.fail_json(msg=f"linux_bridge {desired.name}: {exc}", problems=exc.problems)

    file_steps = persist_plan.steps if persist_plan else []
    if file_steps and root == "/" and not any(s.action == "networkd" for s in file_steps):
        module.warn(
            "systemd is not running on this host: the networkd files are written, but "
            "systemd-networkd was neither enabled nor reloaded"
        )
    names = [desired.name] + sorted(
        set(desired.ports) | {n for n, link in before_links.items() if link.master == desired.name}
    )
    before = {
        "links": links_report(before_links, names),
        "files": persist_plan.files_before() if persist_plan else {},
    }
    result = dict(
        changed=bool(steps or file_steps),
        steps=[s.to_dict() for s in steps] + [s.to_dict() for s in file_steps],
        superseded=persist_plan.superseded if persist_plan else [],
        before=before,
    )

    def finish(after_state):
        after = {
            "links": links_report(after_state, names),
            "files": persist_plan.files_after() if persist_plan else {},
        }
        result["after"] = after
        if module._diff:
            result["diff"] = [
                {
                    "before_header": "links",
                    "after_header": "links",
                    "before": links_text(before["links"]),
                    "after": links_text(after["links"]),
                }
            ] + [
                {
                    "before_header": path,
                    "after_header": path,
                    "before": before["files"].get(path) or "",
                    "after": after["files"].get(path) or "",
                }
                for path in sorted(set(before["files"]) | set(after["files"]))
            ]
        module.exit_json(**result)

    if module.check_mode or not result["changed"]:
        finish(after_links)

    by_index = {}
    for msg in ipr.get_links():
        by_index[msg["index"]] = msg.get_attr("IFLA_IFNAME")
    route_checked = bool(client_ip) and route_out_link(ipr, by_index, client_ip) is not None
    done_netlink, done_files = [], []

    def fail(reason):
        problems = rollback(module, ipr, root, done_netlink, done_files)
        restored = f"; rolled back {len(done_netlink) + len(done_files)} step(s)"
        if problems:
            restored += ", but the rollback had problems: " + "; ".join(problems)
        else:
            restored += ", the previous state is restored"
        result.update(changed=bool(problems), planned_steps=result.pop("steps"))
        result["steps"] = [s.to_dict() for s in done_netlink] + [s.to_dict() for s in done_files]
        module.fail_json(msg=f"linux_bridge {desired.name}: {reason}{restored}", **result)

    def verify():
        try:
            return _verify()
        except Exception as exc:  # a failed read-back is a failed check: undo
            fail(f"reading the state back failed: {exc}")

    def _verify():
        links_now = gather_links(ipr)
        problems = verify_runtime(links_now, desired, steps)
        if route_checked:
            index_names = {msg["index"]: msg.get_attr("IFLA_IFNAME") for msg in ipr.get_links()}
            problem = check_controller_route(
                route_out_link(ipr, index_names, client_ip), client_ip, desired
            )
            if problem:
                problems.append(problem)
        return links_now, problems

    for step in steps:
        try:
            apply_netlink(ipr, step)
        except Exception as exc:  # anything: undo what was done
            fail(f"step '{step.describe()}' failed: {exc}")
        done_netlink.append(step)
    links_now, problems = verify()
    if problems:
        fail("the check after the change found: " + "; ".join(problems))

    for step in file_steps:
        try:
            apply_file(module, root, step)
        except Exception as exc:  # anything: undo what was done
            fail(f"step '{step.describe()}' failed: {exc}")
        done_files.append(step)
    if any(s.action == "networkd" for s in file_steps) and desired.state == "present":
        # networkd re-reading the files must not undo the running state: check that first.
        links_now, problems = verify()
        if problems:
            fail("after systemd-networkd read the new files: " + "; ".join(problems))
        # networkd's own bookkeeping can lag (its requests for links it did not create may
        # wait on a timeout here): the running state is right and the files are in place, so
        # a slow confirmation is reported, not rolled back.
        try:
            lagging = wait_for_networkd(module, ipr, desired)
        except Exception as exc:
            lagging = [f"reading systemd-networkd's state failed: {exc}"]
        for problem in lagging:
            module.warn(f"linux_bridge {desired.name}: {problem} (running state verified)")
    finish(links_now)


if __name__ == "__main__":
    main()

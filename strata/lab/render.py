"""Text the lab writes: container configs and the files put into a container before it boots.

Pure functions, so what a container gets can be read and tested without creating one.
"""

import hashlib
import json

APT_PROXY_PORT = 3142
SUITES = ("bookworm", "bookworm-updates")
BASE_PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "python3",
    "python3-apt",
    "openssh-server",
    "iproute2",
    "iputils-ping",
    "ca-certificates",
)


def mac_address(host_name, network_name):
    """A stable locally administered MAC (LXC's 00:16:3e prefix) per host and network."""
    digest = hashlib.sha256(f"{host_name}/{network_name}".encode()).hexdigest()
    return "00:16:3e:" + ":".join(digest[i : i + 2] for i in (0, 2, 4))


def container_config(host, networks, rootfs, lxc_dir, loop_numbers):
    """The LXC config of one lab host (LAB.md's measured settings)."""
    lines = [
        "# Written by `strata lab up`; removed by `strata lab down`.",
        "lxc.include = /usr/share/lxc/config/debian.common.conf",
        "lxc.arch = amd64",
        f"lxc.rootfs.path = overlay:{rootfs}:{lxc_dir}/{host.name}/delta0",
        f"lxc.uts.name = {host.name}",
        "lxc.apparmor.profile = unconfined",
        # The open-files limit cannot be raised above 20000 on this machine.
        "lxc.prlimit.nofile = 20000",
    ]
    for index, net in enumerate(n for n in networks if n.name in host.addresses):
        lines += [
            f"lxc.net.{index}.type = veth",
            f"lxc.net.{index}.link = {net.bridge}",
            f"lxc.net.{index}.flags = up",
            f"lxc.net.{index}.name = {net.interface}",
            f"lxc.net.{index}.hwaddr = {mac_address(host.name, net.name)}",
        ]
    lines += [
        "lxc.cgroup.devices.allow = c 10:229 rwm",  # fuse
        "lxc.cgroup.devices.allow = c 10:200 rwm",  # tun
        "lxc.cgroup.devices.allow = c 10:237 rwm",  # loop-control
        "lxc.mount.entry = /dev/fuse dev/fuse none bind,create=file,optional 0 0",
        "lxc.mount.entry = /dev/net/tun dev/net/tun none bind,create=file,optional 0 0",
        "lxc.mount.entry = /dev/loop-control dev/loop-control none bind,create=file 0 0",
    ]
    for number in loop_numbers:
        lines += [
            f"lxc.cgroup.devices.allow = b 7:{number} rwm",
            f"lxc.mount.entry = /dev/loop{number} dev/loop{number} none bind,create=file 0 0",
        ]
    return "\n".join(lines) + "\n"


def network_unit(interface, address_with_prefix):
    """systemd-networkd config of one plain interface, as a freshly installed host would have."""
    return (
        "# The lab host's plain interface (a bare-metal host's NIC config).\n"
        f"[Match]\nName={interface}\n\n"
        f"[Network]\nAddress={address_with_prefix}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n"
    )


def hosts_file(spec):
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    for host in spec.hosts:
        if "management" in host.addresses:
            lines.append(f"{host.addresses['management']}\t{host.name}")
    return "\n".join(lines) + "\n"


def container_files(host, spec, proxy_address, authorized_key, loop_numbers, machine_id):
    """Files (path relative to the rootfs -> (content, mode)) a host gets before its first boot.

    Every host needs its own machine-id: systemd would otherwise derive the same one for all
    containers of the machine (from its DMI UUID), and with it the same generated MAC addresses.

    The ssh host key is added separately (it is generated, not rendered).
    """
    prefixes = {net.name: net.cidr.split("/")[1] for net in spec.networks}
    interfaces = {net.name: net.interface for net in spec.networks}
    files = {
        "etc/hostname": (host.name + "\n", 0o644),
        "etc/machine-id": (machine_id + "\n", 0o444),
        "etc/hosts": (hosts_file(spec), 0o644),
        "etc/apt/apt.conf.d/01strata-proxy": (
            f'Acquire::http::Proxy "http://{proxy_address}:{APT_PROXY_PORT}";\n',
            0o644,
        ),
        "root/.ssh/authorized_keys": (authorized_key.strip() + "\n", 0o600),
        "etc/ansible/facts.d/strata_lab.fact": (
            json.dumps(
                {"lab": True, "loop_devices": [f"/dev/loop{n}" for n in loop_numbers]},
                sort_keys=True,
            )
            + "\n",
            0o644,
        ),
    }
    for net_name, address in host.addresses.items():
        iface = interfaces[net_name]
        files[f"etc/systemd/network/10-lab-{iface}.network"] = (
            network_unit(iface, f"{address}/{prefixes[net_name]}"),
            0o644,
        )
    return files


def sources_list():
    lines = [f"deb http://deb.debian.org/debian {suite} main" for suite in SUITES]
    lines.append("deb http://deb.debian.org/debian-security bookworm-security main")
    return "\n".join(lines) + "\n"


def rootfs_digest():
    """Identity of the base rootfs recipe: a change to it means a rebuild."""
    recipe = json.dumps({"packages": BASE_PACKAGES, "sources": sources_list(), "v": 2})
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def known_hosts_lines(entries):
    """entries: (host name, [addresses], public key text) -> known_hosts lines, sorted."""
    lines = []
    for name, addresses, pubkey in sorted(entries):
        key_type, key_data = pubkey.split()[:2]
        lines.append(f"{','.join([name, *addresses])} {key_type} {key_data}")
    return "\n".join(lines) + ("\n" if lines else "")

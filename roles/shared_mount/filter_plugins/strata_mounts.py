"""Filters of the shared_mount role (pure functions, unit-tested in tests/unit).

- shared_mount_unit: the systemd unit name of a mount point (systemd-escape --path --suffix=mount).
- shared_mount_host_mounts: the mounts one host needs (the union over its groups), normalized.
- shared_mount_bindings: which services each mount binds (they stop when it goes).
- shared_mount_id_problems: pinned users and groups that exist with another id on the host.
- shared_mount_cephfs_shares: the CephFS directories and path-scoped users ceph-fuse mounts need.
"""

import posixpath
import string

# Types systemd mounts through the network on its own (default dependencies order them after
# the network and before remote-fs.target). FUSE types are not among them: see the template.
NETWORK_TYPES = ("nfs", "nfs4", "ceph", "cifs", "smb3", "glusterfs")
# Debian packages that provide each type's mount helper.
TYPE_PACKAGES = {
    "nfs": ["nfs-common"],
    "nfs4": ["nfs-common"],
    "ceph": ["ceph-common"],
    "fuse.ceph": ["ceph-fuse"],
    "cifs": ["cifs-utils"],
    "smb3": ["cifs-utils"],
    "glusterfs": ["glusterfs-client"],
}
_SAFE = set(string.ascii_letters + string.digits + ":_.")


def shared_mount_unit(path):
    """The mount unit of `path`, as `systemd-escape --path --suffix=mount` names it."""
    path = posixpath.normpath(str(path))
    if path in ("/", "//"):
        return "-.mount"
    parts = [p for p in path.split("/") if p]
    out = []
    for index, char in enumerate("/".join(parts)):
        if char == "/":
            out.append("-")
        elif char in _SAFE and not (index == 0 and char == "."):
            out.append(char)
        else:
            # Only a leading dot is escaped, as systemd does (not one after each slash).
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return "".join(out) + ".mount"


def _options(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [o.strip() for o in value.split(",") if o.strip()]
    return [str(o).strip() for o in value if str(o).strip()]


def shared_mount_host_mounts(config, group_names, services=None):
    """The mounts a host needs: for each of its groups in `config` ({group: [mount]}), each
    mount as {what, where, type, options (a string), unit, network, fuse, packages, owner,
    group, mode, services}. A mount point declared by two of the host's groups appears once,
    with the services of both; declared differently, it is an error."""
    services = services or {}
    found = {}
    for group in group_names:
        for mount in (config or {}).get(group) or []:
            where = posixpath.normpath(str(mount["where"]))
            mtype = str(mount["type"])
            options = _options(mount.get("options"))
            # _netdev: mount(8) and systemd treat it as a network mount whatever its type.
            if "_netdev" not in options:
                options.append("_netdev")
            entry = {
                "what": str(mount["what"]),
                "where": where,
                "type": mtype,
                "options": ",".join(options),
                "unit": shared_mount_unit(where),
                "fuse": mtype.startswith("fuse."),
                "network": mtype in NETWORK_TYPES,
                "packages": TYPE_PACKAGES.get(mtype, []),
                "owner": mount.get("owner", ""),
                "group": mount.get("group", ""),
                "mode": str(mount.get("mode", "")),
                "services": list(services.get(group, [])),
            }
            if where in found:
                known = found[where]
                same = {k: v for k, v in known.items() if k != "services"}
                if same != {k: v for k, v in entry.items() if k != "services"}:
                    raise ValueError(
                        f"shared mount {where} is declared differently by two groups of this "
                        f"host ({', '.join(group_names)}); expected one definition"
                    )
                known["services"] += [s for s in entry["services"] if s not in known["services"]]
            else:
                found[where] = entry
    return [found[where] for where in sorted(found)]


def shared_mount_bindings(mounts):
    """{service: [mount entries]}: the drop-in each bound service gets."""
    bound = {}
    for mount in mounts:
        for service in mount["services"]:
            bound.setdefault(service, []).append(mount)
    return [{"service": s, "mounts": bound[s]} for s in sorted(bound)]


def shared_mount_id_problems(users, passwd, group):
    """Messages for pinned users/groups that exist with other ids.

    `users`: [{name, uid, group, gid}]; `passwd`/`group`: getent results
    (name -> [password, uid, gid, ...] / name -> [password, gid, members]).
    """
    problems = []
    for user in users:
        gname, gid = user["group"], int(user["gid"])
        if gname in group and int(group[gname][1]) != gid:
            problems.append(
                f"group {gname} has gid {group[gname][1]} here, expected {gid}: files on the "
                "shared mounts would change owner between hosts; renumber it (groupmod -g, then "
                "chgrp its files) or set shared_mount_users to the id every host uses"
            )
        else:
            taken = [n for n, e in group.items() if int(e[1]) == gid and n != gname]
            if taken:
                problems.append(f"gid {gid} (for group {gname}) is already group {taken[0]} here")
        name, uid = user["name"], int(user["uid"])
        if name in passwd and int(passwd[name][1]) != uid:
            problems.append(
                f"user {name} has uid {passwd[name][1]} here, expected {uid}: files on the "
                "shared mounts would change owner between hosts; renumber it (usermod -u, then "
                "chown its files) or set shared_mount_users to the id every host uses"
            )
        elif name not in passwd:
            taken = [n for n, e in passwd.items() if int(e[1]) == uid]
            if taken:
                problems.append(f"uid {uid} (for user {name}) is already user {taken[0]} here")
    return problems


def _ceph_option(options, name):
    for option in options.split(","):
        key, _, value = option.partition("=")
        if key.strip() == f"ceph.{name}":
            return value.strip()
    return ""


def shared_mount_cephfs_shares(config, default_fs="cephfs"):
    """The CephFS paths the ceph-fuse mounts of every group use, each with its Ceph user:
    [{user, path, fs}] (a user and path once). Only mounts that name both ceph.id and
    ceph.client_mountpoint: their directory and path-scoped key are made for them."""
    shares = []
    for group in sorted(config or {}):
        for mount in config[group] or []:
            if mount.get("type") != "fuse.ceph":
                continue
            options = ",".join(_options(mount.get("options")))
            user = _ceph_option(options, "id")
            path = _ceph_option(options, "client_mountpoint")
            fs = _ceph_option(options, "client_fs") or default_fs
            if not user or not path:
                continue
            share = {"user": user, "path": posixpath.normpath(path), "fs": fs}
            if share not in shares:
                shares.append(share)
    return shares


class FilterModule:
    def filters(self):
        return {
            "shared_mount_unit": shared_mount_unit,
            "shared_mount_host_mounts": shared_mount_host_mounts,
            "shared_mount_bindings": shared_mount_bindings,
            "shared_mount_id_problems": shared_mount_id_problems,
            "shared_mount_cephfs_shares": shared_mount_cephfs_shares,
        }

"""Ceph filters shared by the ceph_* roles (pure functions, unit-tested).

- ceph_conf: the ceph.conf sections a host gets, from the roles' variables.
- ceph_conf_digest: a digest of what one daemon type reads from ceph.conf, so that a change
  restarts only the daemons that read it (a monitor list change restarts nothing).
- ceph_mon_addrs: a monitor's msgr2 + msgr1 address vector.
- ceph_osd_plan: what to do with each device declared for an OSD host, from what
  ceph-volume, blkid and lsblk report: keep an existing OSD of this cluster, create one, or refuse.
"""

import hashlib
import json

MSGR2_PORT = 3300
MSGR1_PORT = 6789
# Options that every daemon reads only at start, or learns from the cluster: their change never
# needs a restart (daemons follow the monmap; mon initial members matters only at creation).
NO_RESTART_OPTIONS = ("mon host", "mon initial members")
FAILURE_DOMAIN_TYPES = {"osd": 0, "host": 1, "rack": 3}


def ceph_mon_addrs(address):
    """The address vector of a monitor: msgr2 first, then msgr1 for old clients."""
    return f"[v2:{address}:{MSGR2_PORT},v1:{address}:{MSGR1_PORT}]"


def ceph_conf(settings, overrides=None):
    """ceph.conf as {section: {option: value}} from the roles' settings and the overrides.

    `settings`: fsid, mons [(name, address)], public_network, cluster_network, pool_size,
    pool_min_size, failure_domain, mon_data_avail_warn, mon_data_avail_crit,
    osd_memory_target, crush_location (a string, '' for none).
    `overrides`: {section: {option: value}} merged last (an option's spaces and underscores are
    the same to Ceph: the override replaces the option whatever its spelling).
    """
    size = int(settings["pool_size"])
    conf = {
        "global": {
            "fsid": settings["fsid"],
            "mon initial members": ", ".join(name for name, _ in settings["mons"]),
            "mon host": ",".join(ceph_mon_addrs(addr) for _, addr in settings["mons"]),
            "public network": settings["public_network"],
            "auth cluster required": "cephx",
            "auth service required": "cephx",
            "auth client required": "cephx",
            "ms bind msgr2": "true",
            "auth allow insecure global id reclaim": "false",
            "osd pool default size": size,
            "osd pool default min size": int(settings["pool_min_size"]),
            "osd crush chooseleaf type": FAILURE_DOMAIN_TYPES[settings["failure_domain"]],
            "mon data avail warn": int(settings["mon_data_avail_warn"]),
            "mon data avail crit": int(settings["mon_data_avail_crit"]),
        },
        "osd": {"osd memory target": int(settings["osd_memory_target"])},
    }
    if settings.get("cluster_network"):
        conf["global"]["cluster network"] = settings["cluster_network"]
    if size == 1:
        # A one-host cluster (the all-in-one) keeps one copy of each object, on purpose.
        conf["global"]["mon allow pool size one"] = "true"
        conf["global"]["mon warn on pool no redundancy"] = "false"
    if settings.get("crush_location"):
        conf["osd"]["crush location"] = settings["crush_location"]
    for section, options in (overrides or {}).items():
        target = conf.setdefault(section, {})
        for option, value in (options or {}).items():
            key = _option(option)
            for existing in [k for k in target if _option(k) == key]:
                del target[existing]
            target[option] = value
    return conf


def _option(name):
    return " ".join(str(name).replace("_", " ").split()).lower()


def ceph_conf_digest(conf, daemon):
    """sha256 of the options a daemon type (mon, mgr, osd, mds) reads: [global], [<daemon>]
    and [<daemon>.<id>] sections, without the options that never need a restart."""
    relevant = {}
    for section, options in sorted(conf.items()):
        if section == "global" or section == daemon or section.startswith(daemon + "."):
            relevant[section] = {
                _option(k): str(v)
                for k, v in options.items()
                if _option(k) not in NO_RESTART_OPTIONS
            }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def ceph_host_keyrings(group_names, keyring_groups, users):
    """The users whose keyring a host holds: the union over its groups, each with its file
    settings from `users` (name -> {secret_var, path, owner, group, mode})."""
    wanted = []
    for group in group_names:
        for name in keyring_groups.get(group, ()):
            if name not in wanted:
                wanted.append(name)
    missing = [name for name in wanted if name not in users]
    if missing:
        raise ValueError(
            f"ceph_client_keyring_groups names {', '.join(missing)}, which ceph_client_users "
            "does not define (expected a user with secret_var and group)"
        )
    result = []
    for name in sorted(wanted):
        user = users[name]
        result.append(
            {
                "name": name,
                "secret_var": user["secret_var"],
                "path": user.get("path") or f"/etc/ceph/ceph.{name}.keyring",
                "owner": user.get("owner", "root"),
                "group": user.get("group", "root"),
                "mode": user.get("mode", "0640"),
            }
        )
    return result


def _blkid_export(text):
    """`blkid -p -o export` output -> {KEY: value}."""
    values = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def _partitions(text):
    """Partition names from `lsblk --noheadings --list --output NAME,TYPE DEVICE`."""
    names = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == "part":
            names.append(fields[0])
    return names


def _volume_osds(raw_list, lvm_list):
    """device path -> {osd_id, fsid, method} of the OSDs ceph-volume reports."""
    found = {}
    for osd in (raw_list or {}).values():
        found[osd["device"]] = {
            "osd_id": int(osd["osd_id"]),
            "fsid": osd.get("ceph_fsid"),
            "method": "raw",
        }
    for osd_id, volumes in (lvm_list or {}).items():
        for volume in volumes:
            if volume.get("type") != "block":
                continue
            tags = volume.get("tags", {})
            for device in volume.get("devices", []):
                found[device] = {
                    "osd_id": int(osd_id),
                    "fsid": tags.get("ceph.cluster_fsid"),
                    "method": "lvm",
                }
    return found


def ceph_osd_plan(devices, probes, raw_list, lvm_list, fsid, host="this host"):
    """What to do with each declared device: [{path, method, action, osd_id, wipe, db, wal,
    problem}] with action keep (an OSD of this cluster), create, or refuse (problem says why).

    `devices`: [{path, method (raw|lvm), wipe, db, wal}]; `probes`: path -> {exists, block,
    blkid (`blkid -p -o export` output), lsblk (`lsblk --noheadings --list
    --output NAME,TYPE` output)};
    `raw_list`/`lvm_list`: `ceph-volume raw|lvm list --format json` (parsed).
    """
    osds = _volume_osds(raw_list, lvm_list)
    plan = []
    for device in devices:
        path = device["path"]
        method = device.get("method", "lvm")
        wipe = bool(device.get("wipe", False))
        entry = {
            "path": path,
            "method": method,
            "action": "create",
            "osd_id": None,
            "wipe": False,
            "db": device.get("db") or "",
            "wal": device.get("wal") or "",
            "problem": "",
        }
        probe = probes.get(path, {})
        osd = osds.get(path)
        signature = _blkid_export(probe.get("blkid"))
        if method not in ("raw", "lvm"):
            entry.update(action="refuse", problem=f"method is {method!r}; expected raw or lvm")
        elif not probe.get("exists"):
            entry.update(action="refuse", problem="does not exist")
        elif not probe.get("block"):
            entry.update(action="refuse", problem="is not a block device")
        elif osd and osd["fsid"] == fsid:
            entry.update(action="keep", osd_id=osd["osd_id"], method=osd["method"])
        elif osd:
            held = f"an OSD (osd.{osd['osd_id']}) of another cluster (fsid {osd['fsid']})"
            entry.update(_refuse_or_wipe(held, wipe))
        elif _partitions(probe.get("lsblk")):
            held = f"partitions ({', '.join(_partitions(probe['lsblk']))})"
            entry.update(_refuse_or_wipe(held, wipe))
        elif signature.get("TYPE") or signature.get("PTTYPE"):
            kind = signature.get("TYPE") or f"a {signature['PTTYPE']} partition table"
            entry.update(_refuse_or_wipe(f"data ({kind})", wipe))
        if entry["problem"]:
            entry["problem"] = f"{host}: ceph_osd_devices: {path} {entry['problem']}"
        plan.append(entry)
    return plan


def ceph_osd_devices(devices, method="lvm"):
    """The declared devices as mappings {path, method, db, wal, wipe}: a plain string is a
    path, a device without a method takes the host's."""
    result = []
    for device in devices or []:
        entry = {"path": device} if isinstance(device, str) else dict(device)
        entry.setdefault("method", method)
        entry.setdefault("wipe", False)
        entry.setdefault("db", "")
        entry.setdefault("wal", "")
        result.append(entry)
    return result


def ceph_osd_ids(devices, raw_list, lvm_list, fsid):
    """Ids of this cluster's OSDs on the declared devices, sorted."""
    osds = _volume_osds(raw_list, lvm_list)
    paths = {device["path"] for device in devices}
    return sorted(
        osd["osd_id"] for path, osd in osds.items() if path in paths and osd["fsid"] == fsid
    )


def _refuse_or_wipe(held, wipe):
    if wipe:
        return {"action": "create", "wipe": True}
    return {
        "action": "refuse",
        "problem": f"holds {held}; expected an empty device, or wipe: true on the device "
        "to erase it",
    }


class FilterModule:
    def filters(self):
        return {
            "ceph_conf": ceph_conf,
            "ceph_conf_digest": ceph_conf_digest,
            "ceph_mon_addrs": ceph_mon_addrs,
            "ceph_host_keyrings": ceph_host_keyrings,
            "ceph_osd_plan": ceph_osd_plan,
            "ceph_osd_devices": ceph_osd_devices,
            "ceph_osd_ids": ceph_osd_ids,
        }

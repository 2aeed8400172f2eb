"""Checks of the config's glance and shared-mount settings (called by strata.config).

``global_overrides.shared_mounts`` declares, per inventory group, the shared file systems its
hosts mount (role shared_mount)::

    shared_mounts:
      glance_api:
        - what: 172.29.244.10:/srv/glance     # or none for fuse.ceph
          where: /var/lib/glance/images
          type: nfs4
          options: vers=4.2,hard

``global_overrides.glance`` chooses the stores (role glance_api)::

    glance:
      stores: [file, rbd]
      default_store: rbd

``check(overrides, hosts, problems, warnings)`` appends one message per problem (file:line, key
path, value, what was expected) to ``problems`` (``warnings`` for a risky default); it never
raises.
"""

import posixpath

GLANCE_STORES = ("file", "rbd")
GLANCE_DEFAULT_FILE_DIR = "/var/lib/glance/images"
GLANCE_KEYS = ("stores", "default_store", "file_store_dir")
MOUNT_KEYS = ("what", "where", "type", "options", "owner", "group", "mode")
# Groups whose services are bound to their mounts (role shared_mount's default).
MOUNT_GROUPS = ("glance_api", "nova_compute", "cinder_volume")
CEPH_TYPES = ("ceph", "fuse.ceph")


def _at(mapping, key):
    """``file:line`` of ``mapping[key]`` (or of the mapping) as strata.config writes it."""
    where = getattr(mapping, "where", {}).get(key) or getattr(mapping, "origin", None)
    if not where:
        return "config"
    file, line = where
    return f"{file}:{line}" if line else file


def _show(value):
    return repr(value) if isinstance(value, str) else str(value)


def _members(hosts, group):
    return sorted(name for name, host in hosts.items() if group in host.components)


def _section(overrides, name, keys, problems):
    """global_overrides.NAME as a mapping (empty when absent) and `loc(key)`, the file:line of
    a key (a key not written: where the section, or global_overrides, is); unknown keys are
    problems. (None, None) when the section is not a mapping."""
    base = f"global_overrides.{name}"
    section = overrides.get(name)
    if section is None:
        section = {}
    elif not isinstance(section, dict):
        problems.append(
            f"{_at(overrides, name)}: {base}: {_show(section)} is not a mapping; expected "
            f"{{{', '.join(keys)}}}"
        )
        return None, None

    def loc(key):
        return _at(section, key) if key in section else _at(overrides, name)

    for key in section:
        if key not in keys:
            problems.append(
                f"{_at(section, key)}: {base}.{key}: unknown key; expected one of {', '.join(keys)}"
            )
    return section, loc


def check(overrides, hosts, problems, warnings):
    """Check global_overrides.shared_mounts and global_overrides.glance."""
    mounts = _shared_mounts(overrides, hosts, problems)
    config = overrides.get("shared_mounts")
    # Groups whose mounts had problems: already reported, not checked further.
    skipped = {g for g in (config if isinstance(config, dict) else {}) if g not in mounts}
    _glance(overrides, hosts, mounts, skipped, problems, warnings)


def _shared_mounts(overrides, hosts, problems):
    """The valid mount points per group: {group: [where]}."""
    base = "global_overrides.shared_mounts"
    config = overrides.get("shared_mounts")
    if config is None:
        return {}
    if not isinstance(config, dict):
        problems.append(
            f"{_at(overrides, 'shared_mounts')}: {base}: {_show(config)} is not a mapping; "
            "expected {group: [{what, where, type, options}]}"
        )
        return {}
    has_ceph = bool(_members(hosts, "ceph_mon"))
    # A group with a bad mount is left out, so that its mounts raise no further problems.
    found = {}
    for group, entries in config.items():
        path = f"{base}.{group}"
        if group not in MOUNT_GROUPS:
            problems.append(
                f"{_at(config, group)}: {path}: unknown group {_show(group)}; expected one of "
                f"{', '.join(MOUNT_GROUPS)}"
            )
            continue
        if not isinstance(entries, list):
            problems.append(
                f"{_at(config, group)}: {path}: {_show(entries)} is not a list; expected "
                "a list of mounts ({what, where, type, options})"
            )
            continue
        wheres = []
        bad = False
        for index, entry in enumerate(entries):
            where = _mount(entry, entries, index, f"{path}[{index}]", has_ceph, problems)
            if where is None:
                bad = True
                continue
            if where in wheres:
                problems.append(
                    f"{_at(entry, 'where')}: {path}[{index}].where: {_show(where)} is mounted "
                    "twice in this group; expected one mount per mount point"
                )
            wheres.append(where)
        if not bad:
            found[group] = wheres
    return found


def _mount(entry, entries, index, path, has_ceph, problems):
    """Check one mount; its normalized mount point, or None when it is not usable."""
    where_list = getattr(entries, "where", [])
    place = where_list[index] if index < len(where_list) else None
    if not isinstance(entry, dict):
        at = f"{place[0]}:{place[1]}" if place else "config"
        problems.append(
            f"{at}: {path}: {_show(entry)} is not a mapping; expected {{what, where, type, "
            "options}"
        )
        return None
    ok = True
    for key in entry:
        if key not in MOUNT_KEYS:
            problems.append(
                f"{_at(entry, key)}: {path}.{key}: unknown key; expected one of "
                f"{', '.join(MOUNT_KEYS)}"
            )
            ok = False
    what = entry.get("what")
    if not isinstance(what, str) or not what.strip():
        problems.append(
            f"{_at(entry, 'what')}: {path}.what: "
            + ("missing" if what is None else f"{_show(what)} is not a source")
            + "; expected the source, e.g. 'nfs1:/srv/glance' (NFS), "
            "'mon1,mon2:/glance' (kernel CephFS) or 'none' (fuse.ceph)"
        )
        ok = False
    where = entry.get("where")
    if not isinstance(where, str) or not where.startswith("/"):
        problems.append(
            f"{_at(entry, 'where')}: {path}.where: "
            + ("missing" if where is None else f"{_show(where)} is not an absolute path")
            + "; expected the mount point, an absolute path such as /var/lib/glance/images"
        )
        ok = False
    elif posixpath.normpath(where) == "/":
        problems.append(
            f"{_at(entry, 'where')}: {path}.where: '/' cannot be a shared mount; expected "
            "a directory such as /var/lib/glance/images"
        )
        ok = False
    mtype = entry.get("type")
    if not isinstance(mtype, str) or not mtype.strip():
        problems.append(
            f"{_at(entry, 'type')}: {path}.type: "
            + ("missing" if mtype is None else f"{_show(mtype)} is not a file system type")
            + "; expected e.g. nfs4, ceph or fuse.ceph"
        )
        ok = False
    options = entry.get("options", "")
    if isinstance(options, list) and all(isinstance(o, str) for o in options):
        options = ",".join(options)
    if not isinstance(options, str):
        problems.append(
            f"{_at(entry, 'options')}: {path}.options: {_show(options)} is not a list of "
            "options; expected a comma-separated string or a list of strings"
        )
        ok = False
    elif mtype == "fuse.ceph" and not any(
        o.startswith(("ceph.id=", "ceph.name=")) for o in options.split(",")
    ):
        problems.append(
            f"{_at(entry, 'options')}: {path}.options: {_show(options)} names no Ceph user; "
            "expected ceph.id=USER (and ceph.client_mountpoint=/PATH for a path-scoped key)"
        )
        ok = False
    if mtype in CEPH_TYPES and not has_ceph:
        problems.append(
            f"{_at(entry, 'type')}: {path}.type: {mtype} but the config has no Ceph "
            "(no ceph-mon_hosts); expected ceph-mon_hosts, or another file system type"
        )
        ok = False
    return posixpath.normpath(where) if ok else None


def _glance(overrides, hosts, mounts, skipped, problems, warnings):
    base = "global_overrides.glance"
    glance, loc = _section(overrides, "glance", GLANCE_KEYS, problems)
    if glance is None:
        return
    stores = glance.get("stores", ["file"])
    if not isinstance(stores, list) or not stores:
        problems.append(
            f"{loc('stores')}: {base}.stores: {_show(stores)} is not a list of "
            f"stores; expected a non-empty list of {', '.join(GLANCE_STORES)}"
        )
        return
    known = []
    for store in stores:
        if store not in GLANCE_STORES:
            problems.append(
                f"{loc('stores')}: {base}.stores: unknown store {_show(store)}; "
                f"expected {' or '.join(GLANCE_STORES)}"
            )
        elif store in known:
            problems.append(
                f"{loc('stores')}: {base}.stores: {store} is listed twice; expected each store once"
            )
        else:
            known.append(store)
    default = glance.get("default_store", stores[0])
    if default not in stores:
        problems.append(
            f"{loc('default_store')}: {base}.default_store: {_show(default)} is not "
            f"an enabled store; expected one of stores ({', '.join(map(str, stores))})"
        )
    glance_hosts = _members(hosts, "glance_api")
    if "rbd" in known and glance_hosts and not _members(hosts, "ceph_mon"):
        problems.append(
            f"{loc('stores')}: {base}.stores: rbd but the config has no Ceph (no "
            "ceph-mon_hosts); expected ceph-mon_hosts, or the file store only"
        )
    file_dir = glance.get("file_store_dir", GLANCE_DEFAULT_FILE_DIR)
    if not isinstance(file_dir, str) or not file_dir.startswith("/"):
        problems.append(
            f"{loc('file_store_dir')}: {base}.file_store_dir: {_show(file_dir)} is not "
            "an absolute path; expected e.g. /var/lib/glance/images"
        )
        return
    if "file" in known and len(glance_hosts) > 1 and "glance_api" not in skipped:
        file_dir = posixpath.normpath(file_dir)
        shared = any(
            file_dir == where or file_dir.startswith(where + "/")
            for where in mounts.get("glance_api", [])
        )
        if not shared:
            message = (
                f"{loc('stores')}: {base}.stores: the file store in {file_dir} is on "
                f"no shared mount, but there are {len(glance_hosts)} glance hosts "
                f"({', '.join(glance_hosts)}): each would keep its own images; expected a "
                f"global_overrides.shared_mounts.glance_api mount at {file_dir}, or the rbd "
                "store only"
            )
            # Written by the operator: an error. Only defaulted (OpenStack-Ansible's configs
            # name no store, and must load unchanged): a warning.
            if "stores" in glance:
                problems.append(message)
            else:
                warnings.append(message + " (glance.stores is not set; file is the default)")

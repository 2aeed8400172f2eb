"""Checks of the config's nova-compute settings (called by strata.config).

``global_overrides.nova`` chooses where instances' root and ephemeral disks live (role
nova_compute)::

    nova:
      ephemeral: rbd            # Ceph RBD, pool vms (the default when the config has Ceph)
      # ephemeral: instances_path  (files under instances_path, a shared mount for live migration)
      instances_path: /var/lib/nova/instances
      rbd_pool: vms

With Ceph in the config every compute holds one libvirt secret: client.cinder's key under the
UUID ``cinder_ceph_client_uuid`` (user_secrets.yml). nova's rbd disks use it, and so do cinder's
RBD volumes when they are attached (cinder's connection info names the backend's rbd_user and
rbd_secret_uuid), so an RBD backend must name that same user and UUID.

``check(overrides, hosts, problems, warnings)`` appends one message per problem (file:line, key
path, value, what was expected); it never raises. A compute without a storage address is the
required-networks check of strata.config (nova_compute needs the storage network).
"""

import posixpath
import re

from strata.glance_config import _at, _members, _section, _show

NOVA_KEYS = ("ephemeral", "instances_path", "rbd_pool")
EPHEMERAL_MODES = ("rbd", "instances_path")
DEFAULT_INSTANCES_PATH = "/var/lib/nova/instances"
DEFAULT_RBD_POOL = "vms"
DEFAULT_POOLS = ("images", "volumes", "vms", "backups")
RBD_DRIVER = "cinder.volume.drivers.rbd.RBDDriver"
# The UUID source the computes use (role nova_compute's default), and the user.
SECRET_UUID_REFERENCE = "{{ cinder_ceph_client_uuid }}"
RBD_USER = "cinder"


def _squeeze(value):
    return re.sub(r"\s+", "", str(value))


def check(overrides, hosts, problems, warnings):
    """Check global_overrides.nova and the libvirt secret cinder's RBD backends name."""
    computes = _members(hosts, "nova_compute")
    has_ceph = bool(_members(hosts, "ceph_mon"))
    base = "global_overrides.nova"
    nova, loc = _section(overrides, "nova", NOVA_KEYS, problems)
    if nova is None:
        return
    mode = nova.get("ephemeral", "rbd" if has_ceph else "instances_path")
    if mode not in EPHEMERAL_MODES:
        problems.append(
            f"{loc('ephemeral')}: {base}.ephemeral: {_show(mode)} is not an ephemeral mode; "
            "expected rbd (Ceph RBD, pool vms) or instances_path (files, on a shared mount)"
        )
        return
    if not computes:
        return
    if mode == "rbd" and not has_ceph:
        problems.append(
            f"{loc('ephemeral')}: {base}.ephemeral: rbd but the config has no Ceph (no "
            "ceph-mon_hosts); expected ceph-mon_hosts, or ephemeral: instances_path"
        )
    if mode == "rbd" and has_ceph:
        _rbd_pool(overrides, nova, loc, problems)
    if mode == "instances_path":
        _instances_path(overrides, nova, loc, computes, problems, warnings)
    if has_ceph:
        _secret_uuid(overrides, hosts, problems, warnings)


def _rbd_pool(overrides, nova, loc, problems):
    pool = nova.get("rbd_pool", DEFAULT_RBD_POOL)
    if not isinstance(pool, str) or not pool:
        problems.append(
            f"{loc('rbd_pool')}: global_overrides.nova.rbd_pool: {_show(pool)} is not a pool "
            "name; expected e.g. vms"
        )
        return
    pools = overrides.get("ceph_mon_pools")
    names = (
        [p.get("name") for p in pools if isinstance(p, dict)]
        if isinstance(pools, list)
        else list(DEFAULT_POOLS)
    )
    if isinstance(pools, list) and pool not in names:
        problems.append(
            f"{loc('rbd_pool')}: global_overrides.nova.rbd_pool: pool {pool} is not in "
            f"global_overrides.ceph_mon_pools ({', '.join(map(str, names))}); expected a pool "
            f"{pool} there (application rbd), which client.cinder's caps name"
        )


def _instances_path(overrides, nova, loc, computes, problems, warnings):
    path = nova.get("instances_path", DEFAULT_INSTANCES_PATH)
    if not isinstance(path, str) or not path.startswith("/") or posixpath.normpath(path) == "/":
        problems.append(
            f"{loc('instances_path')}: global_overrides.nova.instances_path: {_show(path)} is "
            "not an absolute path; expected e.g. /var/lib/nova/instances"
        )
        return
    path = posixpath.normpath(path)
    mounts = overrides.get("shared_mounts")
    entries = mounts.get("nova_compute") if isinstance(mounts, dict) else None
    wheres = [
        posixpath.normpath(e["where"])
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, dict) and isinstance(e.get("where"), str)
    ]
    if not any(path == w or path.startswith(w.rstrip("/") + "/") for w in wheres):
        warnings.append(
            f"{loc('ephemeral')}: global_overrides.nova: instances_path {path} is on no shared "
            f"mount of the computes ({', '.join(computes)}): each keeps its own disks, so live "
            "migration needs block migration and an evacuated instance is rebuilt from its "
            "image; expected a global_overrides.shared_mounts.nova_compute mount at "
            f"{path}, or ephemeral: rbd"
        )


def _secret_uuid(overrides, hosts, problems, warnings):
    """Every RBD backend cinder attaches volumes from must name the computes' secret."""
    expected = overrides.get("nova_compute_rbd_secret_uuid", SECRET_UUID_REFERENCE)
    user = overrides.get("nova_compute_rbd_user", RBD_USER)
    sources = [("global_overrides.cinder_backends", overrides.get("cinder_backends"))]
    for host in hosts.values():
        if "cinder_volume" in host.components:
            path = f"{host.name}.container_vars.cinder_backends"
            sources.append((path, host.host_vars.get("cinder_backends")))
    for path, backends in sources:
        if not isinstance(backends, dict):
            continue  # absent, or cinder_config's problem
        for name, options in backends.items():
            if not isinstance(options, dict) or options.get("volume_driver") != RBD_DRIVER:
                continue
            where = (
                _at(options, "rbd_secret_uuid")
                if "rbd_secret_uuid" in options
                else _at(backends, name)
            )
            if options.get("rbd_user") not in (None, user):
                warnings.append(
                    f"{_at(options, 'rbd_user')}: {path}.{name}.rbd_user: "
                    f"{_show(options.get('rbd_user'))}, but the computes hold the libvirt secret "
                    f"of client.{user} only: nova cannot attach this backend's volumes; expected "
                    f"rbd_user: {user}"
                )
                continue
            uuid = options.get("rbd_secret_uuid")
            if uuid is not None and _squeeze(uuid) != _squeeze(expected):
                problems.append(
                    f"{where}: {path}.{name}.rbd_secret_uuid: {_show(uuid)} is not the UUID of "
                    f"the computes' libvirt secret; expected {_show(expected)} (nova would "
                    "look for a secret no compute holds, and the attach would fail)"
                )

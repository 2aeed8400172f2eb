"""Cinder filters of role cinder (pure functions, unit-tested).

The rules are strata.cinder_config's, the same that `strata inventory validate` applies, so a
backend is read and checked one way whether it comes from the config or from an inventory.

- cinder_backend_problems: {host: cinder_backends} -> the problems, before any host changes.
- cinder_backend_sections: a host's cinder_backends -> its cinder.conf backend sections.
- cinder_nfs_shares: a host's NFS backends -> [{backend, path, lines}] (the shares files).
- cinder_lvm_backends: a host's LVM backends -> [{backend, volume_group, devices, target_helper}].
- cinder_volume_types: {host: cinder_backends} -> {type name: volume_backend_name}.
- cinder_volume_type_plan: those types + `openstack volume type list --long -f json` ->
  {create: {type: backend}, correct: {type: backend}}.
"""

import sys
from pathlib import Path

try:
    from strata import cinder_config
except ImportError:  # Ansible run from a Python where the strata package is not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from strata import cinder_config


def _backends(backends):
    return {
        name: options
        for name, options in (backends or {}).items()
        if name != "limit_container_types"
    }


def cinder_backend_problems(backends_by_host, source="inventory"):
    return cinder_config.host_problems(dict(backends_by_host or {}), source)


def cinder_backend_sections(backends, storage_address, shares_dir="/etc/cinder"):
    return cinder_config.backend_sections(_backends(backends), storage_address, shares_dir)


def cinder_nfs_shares(backends, shares_dir="/etc/cinder"):
    sections = cinder_config.backend_sections(_backends(backends), "", shares_dir)
    return [
        {
            "backend": name,
            "path": sections[name]["nfs_shares_config"],
            "lines": cinder_config.share_lines(options),
        }
        for name, options in sorted(_backends(backends).items())
        if options.get("volume_driver") == cinder_config.NFS
    ]


def cinder_lvm_backends(backends):
    return [
        {
            "backend": name,
            "volume_group": options["volume_group"],
            "devices": list(options.get("devices") or []),
            "target_helper": options.get("target_helper", "tgtadm"),
        }
        for name, options in sorted(_backends(backends).items())
        if options.get("volume_driver") == cinder_config.LVM
    ]


def cinder_volume_types(backends_by_host):
    return cinder_config.volume_types(
        {host: _backends(backends) for host, backends in (backends_by_host or {}).items()}
    )


def _properties(value):
    """A type's properties as the client prints them: a mapping, or "k='v', k2='v2'" text."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    found = {}
    for part in str(value or "").split(", "):
        key, sep, text = part.partition("=")
        if sep:
            found[key.strip()] = text.strip().strip("'")
    return found


def cinder_volume_type_plan(wanted, listing):
    existing = {
        row.get("Name"): _properties(row.get("Properties")).get("volume_backend_name")
        for row in listing or []
    }
    return {
        "create": {t: b for t, b in wanted.items() if t not in existing},
        "correct": {t: b for t, b in wanted.items() if t in existing and existing[t] != b},
    }


class FilterModule:
    def filters(self):
        return {
            "cinder_backend_problems": cinder_backend_problems,
            "cinder_backend_sections": cinder_backend_sections,
            "cinder_nfs_shares": cinder_nfs_shares,
            "cinder_lvm_backends": cinder_lvm_backends,
            "cinder_volume_types": cinder_volume_types,
            "cinder_volume_type_plan": cinder_volume_type_plan,
        }

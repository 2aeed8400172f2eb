"""Validate the cinder backends of a Strata config (OSA's ``cinder_backends`` format).

``cinder_backends`` maps a backend name (its cinder.conf section, and the name of the volume type
Strata creates for it) to that section's options. It is set in ``global_overrides`` (every storage
host) or in a storage host's ``container_vars`` (that host; it replaces the global one, as OSA's
host vars do). Keys Strata reads itself and does not copy into cinder.conf: ``devices`` (LVM: the
block devices the volume group is built from) and ``shares`` (NFS: the shares file's lines).

``check(overrides, hosts, problems)`` appends one message per problem, each naming the file and
line, the key, the value and what was expected, so nothing reaches a host with a backend cinder
would refuse at start or, worse, accept and misuse (the NexentaStor traps below).
"""

import ipaddress
import re
import uuid

from strata.config import YamlMap, _show, problem, suggest

LVM = "cinder.volume.drivers.lvm.LVMVolumeDriver"
RBD = "cinder.volume.drivers.rbd.RBDDriver"
NFS = "cinder.volume.drivers.nfs.NfsDriver"
NEXENTA4 = "cinder.volume.drivers.nexenta.iscsi.NexentaISCSIDriver"
NEXENTA5 = "cinder.volume.drivers.nexenta.ns5.iscsi.NexentaISCSIDriver"

# Driver -> options it cannot work without (cinder 21's defaults are unusable for these).
REQUIRED = {
    # devices is optional: without it the volume group must already exist on the host (OSA's
    # examples name only the group).
    LVM: ("volume_group",),
    RBD: ("rbd_pool", "rbd_user"),
    NFS: ("shares",),
    # NS4 uses nexenta_rest_port as written: its default 0 gives http://host:0/rest/nms.
    NEXENTA4: (
        "nexenta_host",
        "nexenta_rest_port",
        "nexenta_volume",
        "nexenta_user",
        "nexenta_password",
    ),  # fmt: skip
    NEXENTA5: ("nexenta_host", "nexenta_volume", "nexenta_user", "nexenta_password"),
}
DRIVERS = tuple(REQUIRED)
# Drivers whose volumes cinder exports over iSCSI from target_ip_address.
ISCSI_DRIVERS = (LVM,)
# Drivers whose class sets SUPPORTS_ACTIVE_ACTIVE (cinder 21): only these may share a cluster.
ACTIVE_ACTIVE_DRIVERS = (RBD,)

# Options Strata writes itself, or that cinder 21 silently ignores: key -> why.
REFUSED = {
    "target_ip_address": "Strata writes the host's storage address there",
    "backend_host": "it makes hosts impersonate each other; RBD backends use cinder's cluster",
}
# Options OSA's examples still set that cinder 21 ignores: accepted with a warning.
IGNORED = {
    "iscsi_ip_address": "cinder 21 has no such option; Strata writes target_ip_address (the "
    "host's storage address) in the backend's section",
}
# Option names the NexentaStor drivers never read, with the one they do read.
NEXENTA_IGNORED = {
    "san_login": "nexenta_user",
    "san_password": "nexenta_password",
    "nexenta_rest_user": "nexenta_user",
    "nexenta_rest_password": "nexenta_password",
    "san_ip": "nexenta_host",
}
TARGET_HELPERS = ("tgtadm", "lioadm")
SECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
RESERVED_SECTIONS = ("DEFAULT", "backend_defaults")
JINJA = re.compile(r"^\{\{.*\}\}$", re.S)
SHARE = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(/\S*)$")


def _where(mapping, key, fallback):
    where = getattr(mapping, "where", {})
    return where.get(key) or getattr(mapping, "origin", None) or fallback


def _port(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def _ip(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _backend(name, options, path, fallback, problems, warnings, rendered=False):
    """Check one backend's options; return its driver (None when unusable). ``rendered``: the
    options come from Ansible, secrets already substituted (the role's own check)."""

    def bad(key, message):
        problems.append(problem(_where(options, key, fallback), f"{path}.{key}", message))

    def missing(key, message):  # at the backend's name: the key has no line of its own
        problems.append(problem(fallback, f"{path}.{key}", f"missing; {message}"))

    driver = options.get("volume_driver")
    if driver is None:
        missing("volume_driver", f"expected one of {', '.join(DRIVERS)}")
        return None
    if driver not in DRIVERS:
        bad(
            "volume_driver",
            f"{_show(driver)} is not a driver Strata deploys; expected one of "
            f"{', '.join(DRIVERS)}{suggest(driver, DRIVERS)}",
        )
        return None
    for key in REQUIRED[driver]:
        if options.get(key) in (None, ""):
            missing(key, f"{driver} needs {key}")
    for key, why in REFUSED.items():
        if key in options:
            bad(key, f"{_show(options[key])} must not be set: {why}")
    for key, why in IGNORED.items():
        if key in options:
            warnings.append(
                problem(_where(options, key, fallback), f"{path}.{key}", f"ignored: {why}")
            )

    if driver in ISCSI_DRIVERS:
        helper = options.get("target_helper", "tgtadm")
        if helper not in TARGET_HELPERS:
            bad("target_helper", f"{_show(helper)} is not valid; expected one of tgtadm, lioadm")
    if driver == LVM:
        devices = options.get("devices")
        if devices is not None and (
            not isinstance(devices, list)
            or not devices
            or not all(isinstance(d, str) and d.startswith("/dev/") for d in devices)
        ):
            bad("devices", f"{_show(devices)} is not valid; expected a list like [/dev/sdb]")
    if driver == RBD:
        secret = options.get("rbd_secret_uuid")
        if secret is not None and not JINJA.match(str(secret)):
            try:
                uuid.UUID(str(secret))
            except ValueError:
                bad("rbd_secret_uuid", f"{_show(secret)} is not a UUID")
    if driver == NFS:
        _shares(options, path, fallback, problems)
    if driver in (NEXENTA4, NEXENTA5):
        _nexenta(driver, options, bad, rendered)
    return driver


def _shares(options, path, fallback, problems):
    shares = options.get("shares")
    if shares is None:
        return
    if not isinstance(shares, list) or not shares:
        problems.append(
            problem(
                _where(options, "shares", fallback),
                f"{path}.shares",
                f"{_show(shares)} is not valid; expected a list of shares like "
                "['nfs1.example.org:/srv/cinder']",
            )
        )
        return
    for index, share in enumerate(shares):
        # OSA's form {ip: ..., share: ...} is accepted too.
        text = f"{share.get('ip')}:{share.get('share')}" if isinstance(share, dict) else share
        if not isinstance(text, str) or not SHARE.match(text):
            where = shares.where[index] if getattr(shares, "where", None) else fallback
            problems.append(
                problem(
                    where,
                    f"{path}.shares[{index}]",
                    f"{_show(share)} is not an NFS share; expected host:/path",
                )
            )


def _nexenta(driver, options, bad, rendered=False):
    for wrong, right in NEXENTA_IGNORED.items():
        if wrong in options:
            bad(wrong, f"is not read by {driver}; set {right} instead")
    password = options.get("nexenta_password")
    if not rendered and password not in (None, "") and not JINJA.match(str(password)):
        bad(
            "nexenta_password",
            "is written in the config; expected a reference to a secret kept in "
            "user_secrets.yml, e.g. '{{ cinder_nexenta_password }}'",
        )
    host = options.get("nexenta_host")
    if driver == NEXENTA4:
        port = options.get("nexenta_rest_port")
        if port is not None and not _port(port):
            bad(
                "nexenta_rest_port",
                f"{_show(port)} is not valid; expected the appliance's NMS port "
                "(1-65535, usually 8457): NexentaStor 4's driver uses it as written",
            )
        protocol = options.get("nexenta_rest_protocol", "auto")
        if protocol not in ("http", "https", "auto"):
            bad(
                "nexenta_rest_protocol",
                f"{_show(protocol)} is not valid; expected http, https or auto",
            )
        blocksize = options.get("nexenta_blocksize", 4096)
        if not (isinstance(blocksize, int) and 512 <= blocksize <= 131072) or blocksize & (
            blocksize - 1
        ):
            bad(
                "nexenta_blocksize",
                f"{_show(blocksize)} is not valid; expected a power of 2 from 512 to 131072",
            )
    if driver == NEXENTA5 and host not in (None, "") and not _ip(host):
        # The driver keeps a portal only if the appliance lists it in GET /network/addresses.
        bad(
            "nexenta_host",
            f"{_show(host)} is not an IP address; expected one of the appliance's addresses "
            "(NexentaStor 5's driver drops a portal the appliance does not list as its own, "
            "and then exports volumes with no portal)",
        )
    if driver == NEXENTA5:
        portals = options.get("nexenta_iscsi_target_portals", "")
        for portal in filter(None, str(portals).split(",")):
            address, _, port = portal.strip().partition(":")
            if not _ip(address) or (port and not port.isdigit()):
                bad(
                    "nexenta_iscsi_target_portals",
                    f"{_show(portal)} is not valid; expected IP or IP:port of one of the "
                    "appliance's own addresses",
                )
    if "nexenta_sparse" in options and not isinstance(options["nexenta_sparse"], bool):
        bad(
            "nexenta_sparse",
            f"{_show(options['nexenta_sparse'])} is not valid; expected true or false",
        )


def check(overrides, hosts, problems, warnings=None):
    """Validate every cinder backend of the config; append messages to ``problems`` (and the
    accepted-but-ignored options to ``warnings``)."""
    warnings = [] if warnings is None else warnings
    fallback = getattr(overrides, "origin", None) or ("strata_user_config.yml", None)
    global_backends = overrides.get("cinder_backends")
    volume_hosts = [h for h in hosts.values() if "cinder_volume" in h.components]
    seen = {}  # volume_backend_name -> (driver, path)

    sources = []  # (backends, path, where) to check
    if global_backends is not None:
        sources.append((global_backends, "global_overrides.cinder_backends", fallback))
    for host in hosts.values():
        backends = host.host_vars.get("cinder_backends")
        if backends is None:
            continue
        path = f"{host.name}.container_vars.cinder_backends"
        if host not in volume_hosts:
            problems.append(
                problem(
                    host.where,
                    path,
                    f"host {host.name} has cinder backends but is not in storage_hosts; "
                    "expected it under storage_hosts (where cinder-volume runs) or no "
                    "cinder_backends",
                )
            )
            continue
        sources.append((backends, path, host.where))

    for backends, path, where in sources:
        if not isinstance(backends, dict):
            problems.append(
                problem(where, path, f"{_show(backends)} is not a mapping; expected name: {{...}}")
            )
            continue
        for name, options in backends.items():
            if name == "limit_container_types":  # OSA's scoping key, not a backend
                continue
            item = f"{path}.{name}"
            name_where = _where(backends, name, where)
            if not isinstance(name, str) or not SECTION.match(name) or name in RESERVED_SECTIONS:
                problems.append(
                    problem(
                        name_where,
                        item,
                        f"{_show(name)} is not a usable backend name; expected letters, digits, "
                        "'.', '_' or '-', and not DEFAULT or backend_defaults",
                    )
                )
                continue
            if not isinstance(options, YamlMap | dict):
                problems.append(
                    problem(name_where, item, f"{_show(options)} is not a mapping of options")
                )
                continue
            driver = _backend(name, options, item, name_where, problems, warnings)
            backend_name = options.get("volume_backend_name", name)
            if driver is None:
                continue
            earlier = seen.setdefault(backend_name, (driver, item))
            if earlier[0] != driver:
                problems.append(
                    problem(
                        _where(options, "volume_backend_name", name_where)
                        if "volume_backend_name" in options
                        else name_where,
                        f"{item}.volume_backend_name",
                        f"{_show(backend_name)} is also the volume_backend_name of {earlier[1]}, "
                        f"which uses {earlier[0]}, not {driver}; expected one driver per "
                        "volume_backend_name (the scheduler mixes their volumes otherwise)",
                    )
                )

    default = overrides.get("cinder_default_volume_type")
    if default is not None and default not in _type_names(sources):
        problems.append(
            problem(
                _where(overrides, "cinder_default_volume_type", fallback),
                "global_overrides.cinder_default_volume_type",
                f"{_show(default)} is not a backend; expected one of "
                f"{', '.join(sorted(_type_names(sources))) or '(no backends)'}",
            )
        )


def _type_names(sources):
    names = {n for backends, _, _ in sources if isinstance(backends, dict) for n in backends}
    return names - {"limit_container_types"}


# --- what the roles write: cinder.conf backend sections -----------------------------------------

STRATA_KEYS = ("devices", "shares", "limit_container_types")


def _ini_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def share_lines(options):
    """The NFS shares file's lines (host:/path) of a backend."""
    return [
        f"{s['ip']}:{s['share']}" if isinstance(s, dict) else str(s)
        for s in options.get("shares") or []
    ]


def backend_sections(backends, storage_address, shares_dir="/etc/cinder"):
    """cinder.conf sections {backend: {option: text}} for a validated ``cinder_backends``.

    Every iSCSI backend gets ``target_ip_address`` = the host's storage address in its own
    section: with ``enabled_backends`` cinder reads backend options from the backend's section
    and ``[backend_defaults]`` only, never ``[DEFAULT]``, so a value there would leave the target
    on ``$my_ip`` (the management address).
    """
    sections = {}
    for name in sorted(set(backends) - {"limit_container_types"}):
        options = backends[name]
        section = {k: _ini_value(v) for k, v in options.items() if k not in STRATA_KEYS}
        section.setdefault("volume_backend_name", name)
        driver = options["volume_driver"]
        if driver in ISCSI_DRIVERS:
            section.setdefault("target_helper", "tgtadm")
            section["target_protocol"] = "iscsi"
            section["target_ip_address"] = storage_address
        if driver == NFS:
            # The shares file is written from `shares`, where the operator's nfs_shares_config
            # (OSA's examples set one) says, else one file per backend.
            section["nfs_shares_config"] = str(
                options.get("nfs_shares_config") or f"{shares_dir}/nfs_shares_{name}"
            )
        sections[name] = section
    return sections


# --- the role's own check (roles/cinder/filter_plugins/strata_cinder.py) ------------------------


def host_problems(backends_by_host, source="inventory"):
    """The same checks on what Ansible holds: {host: cinder_backends} (secrets substituted).

    The role runs this before it changes anything, so a backend that reached the inventory
    without `strata inventory validate` (a hand-written inventory, extra vars) is refused with
    the same messages. Returns the problems, one line each.
    """
    problems, warnings, seen = [], [], {}
    for host in sorted(backends_by_host):
        backends = backends_by_host[host]
        path = f"{host}: cinder_backends"
        if backends in (None, {}):
            continue
        if not isinstance(backends, dict):
            problems.append(f"{source}: {path}: {_show(backends)} is not a mapping")
            continue
        for name in sorted(set(backends) - {"limit_container_types"}):
            options = backends[name]
            item = f"{path}.{name}"
            if not SECTION.match(str(name)) or name in RESERVED_SECTIONS:
                problems.append(f"{source}: {item}: {_show(name)} is not a usable backend name")
                continue
            if not isinstance(options, dict):
                problems.append(f"{source}: {item}: {_show(options)} is not a mapping of options")
                continue
            driver = _backend(name, options, item, (source, None), problems, warnings, True)
            if driver is None:
                continue
            backend_name = options.get("volume_backend_name", name)
            earlier = seen.setdefault(backend_name, (driver, item))
            if earlier[0] != driver:
                problems.append(
                    f"{source}: {item}.volume_backend_name: {_show(backend_name)} is also the "
                    f"volume_backend_name of {earlier[1]}, which uses {earlier[0]}, not {driver}; "
                    "expected one driver per volume_backend_name"
                )
    return problems


def volume_types(backends_by_host):
    """{type name: volume_backend_name}: one volume type per backend name over all hosts."""
    types = {}
    for backends in backends_by_host.values():
        for name, options in (backends or {}).items():
            if name != "limit_container_types":
                types[name] = str(options.get("volume_backend_name", name))
    return dict(sorted(types.items()))

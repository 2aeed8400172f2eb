"""Ceph settings in the config, checked before any host is touched.

Reads the ceph role variables an operator sets in global_overrides (the same names the roles
use: ceph_client_public_network, ceph_client_pool_default_size, ceph_client_pool_default_min_size,
ceph_client_failure_domain, ceph_mon_pools) against the Ceph hosts. Checks that need the host
itself (a device that does not exist, is not a block device, holds data) run on the host, in the
ceph_osd role's preflight, before any host changes.

(An even number of monitors is already a warning of strata.config, for every clustered group.)
"""

import netaddr

FAILURE_DOMAINS = ("osd", "host", "rack")
DEFAULT_POOLS = ("images", "volumes", "vms", "backups")
DEFAULT_SIZE = 3
DEFAULT_MIN_SIZE = 2


def _problem(where, path, message):
    from strata.config import problem

    return problem(where, path, message)


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check(overrides, hosts, networks, problems, warnings):
    """Append (file:line: key: message) problems for the Ceph settings in `overrides`
    (global_overrides) given the deployed `hosts` and the `networks` (name -> Network)."""
    del warnings  # nothing Ceph-specific only warns yet
    ceph_hosts = [h for h in hosts.values() if any(c.startswith("ceph_") for c in h.components)]
    if not ceph_hosts and not any(str(k).startswith("ceph_") for k in overrides):
        return
    where = getattr(overrides, "where", {})
    origin = getattr(overrides, "origin", None)

    def at(key):
        return where.get(key, origin)

    _public_network(overrides, networks, at, problems)
    size = overrides.get("ceph_client_pool_default_size", DEFAULT_SIZE)
    min_size = overrides.get("ceph_client_pool_default_min_size", DEFAULT_MIN_SIZE)
    domain = overrides.get("ceph_client_failure_domain", "host")
    if domain not in FAILURE_DOMAINS:
        problems.append(
            _problem(
                at("ceph_client_failure_domain"),
                "global_overrides.ceph_client_failure_domain",
                f"{domain!r} is not a failure domain; expected one of {', '.join(FAILURE_DOMAINS)}",
            )
        )
    pools = overrides.get("ceph_mon_pools")
    if pools is None:
        pools = [{"name": name} for name in DEFAULT_POOLS]
        pools_where = None
    elif not isinstance(pools, list):
        problems.append(
            _problem(
                at("ceph_mon_pools"),
                "global_overrides.ceph_mon_pools",
                "is not a list; expected a list of pools ({name, size, min_size, application})",
            )
        )
        return
    else:
        pools_where = at("ceph_mon_pools")
    osd_hosts = sorted(h.name for h in ceph_hosts if "ceph_osd" in h.components)
    for index, pool in enumerate(pools):
        if not isinstance(pool, dict) or not isinstance(pool.get("name"), str):
            problems.append(
                _problem(
                    pools_where,
                    f"global_overrides.ceph_mon_pools[{index}]",
                    f"{pool!r} is not a pool; expected a mapping with a name",
                )
            )
            continue
        name = pool["name"]
        explicit = pools_where is not None
        pool_size = pool.get("size", size)
        pool_min = pool.get("min_size", min_size)
        path = (
            f"global_overrides.ceph_mon_pools[{index}] ({name})"
            if explicit and ("size" in pool or "min_size" in pool)
            else "global_overrides.ceph_client_pool_default_size"
        )
        pool_where = pools_where if explicit else at("ceph_client_pool_default_size")
        if not (_whole(pool_size) and _whole(pool_min) and pool_size >= 1 and pool_min >= 1):
            problems.append(
                _problem(
                    pool_where,
                    path,
                    f"pool {name}: size {pool_size!r}, min_size {pool_min!r}; expected whole "
                    "numbers of 1 or more",
                )
            )
            continue
        if pool_size < pool_min:
            problems.append(
                _problem(
                    pool_where,
                    path,
                    f"pool {name}: size {pool_size} is below min_size {pool_min}; expected "
                    "size >= min_size (the pool would refuse every write)",
                )
            )
        if domain == "host" and osd_hosts and len(osd_hosts) < pool_size:
            problems.append(
                _problem(
                    pool_where,
                    path,
                    f"pool {name}: size {pool_size} with failure domain host, but "
                    f"{len(osd_hosts)} OSD host{'s' if len(osd_hosts) != 1 else ''} "
                    f"({', '.join(osd_hosts)}); expected at least {pool_size} OSD hosts, a "
                    "smaller size, or ceph_client_failure_domain: osd (one-host labs)",
                )
            )


def _public_network(overrides, networks, at, problems):
    value = overrides.get("ceph_client_public_network")
    if value is None:
        return
    key = "global_overrides.ceph_client_public_network"
    try:
        public = netaddr.IPNetwork(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        problems.append(_problem(at("ceph_client_public_network"), key, f"{value!r} is not a CIDR"))
        return
    # The monitors and OSDs listen on their storage address (management without a storage
    # network): Ceph's public network must hold them.
    name = "storage" if "storage" in networks else "management"
    network = networks.get(name)
    if network is None:
        return
    hosts_net = netaddr.IPNetwork(network.cidr)
    if hosts_net not in public:
        problems.append(
            _problem(
                at("ceph_client_public_network"),
                key,
                f"{value} does not hold the Ceph hosts' addresses, which come from the "
                f"{name} network {network.cidr}; expected that network (or one containing it)",
            )
        )

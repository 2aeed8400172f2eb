"""host_bridges: which bridges a host needs, with its address on each (a pure function)."""

import ipaddress

# Strata's networks: the host variable with the host's address and the group variable with the
# network's CIDR, and the bridge used when network_bridges names none.
NETWORKS = (
    ("management", "management_address", "management_cidr", "br-mgmt"),
    ("storage", "storage_address", "storage_cidr", "br-storage"),
    ("replication", "replication_address", "replication_cidr", "br-repl"),
)


def host_bridges(host, network_bridges=None, ports=None, mtus=None):
    """Bridges for one host: [{name, network, addresses, ports, mtu}], in network order.

    host: the host's variables (addresses and CIDRs, as the inventory gives them).
    network_bridges: {network: bridge}, the inventory's group var of `all` (from the config's
    provider_networks); a network it does not name gets br-mgmt, br-storage or br-repl.
    ports: {bridge: [interface, ...]} the host's NICs, bonds or VLANs to enslave.
    mtus: {bridge: mtu}.
    """
    bridges = []
    for name, address_var, cidr_var, default_bridge in NETWORKS:
        address = host.get(address_var)
        cidr = host.get(cidr_var)
        if not address or not cidr:
            continue
        prefix = ipaddress.ip_network(cidr, strict=False).prefixlen
        bridge = (network_bridges or {}).get(name, default_bridge)
        bridges.append(
            {
                "name": bridge,
                "network": name,
                "addresses": [f"{address}/{prefix}"],
                "ports": list((ports or {}).get(bridge, [])),
                "mtu": (mtus or {}).get(bridge),
            }
        )
    return bridges


class FilterModule:
    def filters(self):
        return {"strata_host_bridges": host_bridges}

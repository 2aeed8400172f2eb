"""host_bridges: which bridges a host needs, with its address on each (a pure function)."""

import ipaddress

# Strata's networks: the host variable with the host's address and the group variable with the
# network's CIDR, and the bridge used when no provider network names one.
NETWORKS = (
    ("management", "management_address", "management_cidr", "br-mgmt"),
    ("storage", "storage_address", "storage_cidr", "br-storage"),
    ("replication", "replication_address", "replication_cidr", "br-repl"),
)


def host_bridges(host, provider_networks=None, ports=None, mtus=None):
    """Bridges for one host: [{name, addresses, ports, mtu}], in network order.

    host: the host's variables (addresses and CIDRs, as the inventory gives them).
    provider_networks: OSA-style list of {network: {container_bridge, ip_from_q, ...}}; a network
    named by ip_from_q gets that bridge (default br-mgmt, br-storage, br-repl).
    ports: {bridge: [interface, ...]} the host's NICs, bonds or VLANs to enslave.
    mtus: {bridge: mtu}.
    """
    bridge_of = {}
    for entry in provider_networks or []:
        net = entry.get("network", entry)
        if net.get("ip_from_q") and net.get("container_bridge"):
            bridge_of.setdefault(net["ip_from_q"], net["container_bridge"])
    bridges = []
    for name, address_var, cidr_var, default_bridge in NETWORKS:
        address = host.get(address_var)
        cidr = host.get(cidr_var)
        if not address or not cidr:
            continue
        prefix = ipaddress.ip_network(cidr, strict=False).prefixlen
        bridge = bridge_of.get(
            name, bridge_of.get("container" if name == "management" else name, default_bridge)
        )
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

"""Addresses a person would have given: gateways facing host subnets, /30s between routers.

A router interface with no address gets, in this order:

1. the gateway address that the hosts of its segment were told to use (a segment is
   the set of interfaces one broadcast reaches: a link, or links joined by switches);
2. otherwise the lowest free address of the subnet the segment's hosts are on;
3. on a segment with no addressed host (router to router), the next block from the
   pool — default ``10.255.0.0/16`` — just large enough: a /30 for two routers.
"""

from __future__ import annotations

import ipaddress

from netsim.errors import AddressError
from netsim.wire.addr import int_to_ip, prefix_mask


def l2_segments(network) -> list[list]:
    """Broadcast domains as lists of IP interfaces, in the order the network was built."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) is not x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra is not rb:
            parent[rb] = ra

    for link in network.links.values():
        union(link.a, link.b)
    for node in network.nodes.values():
        if node.kind == "switch":
            ports = list(node.interfaces.values())
            for port in ports[1:]:
                union(ports[0], port)
    groups: dict = {}
    for node in network.nodes.values():
        if node.kind == "switch":
            continue
        for iface in node.interfaces.values():
            if iface.link is not None or iface.ip is not None:
                groups.setdefault(find(iface), []).append(iface)
    return list(groups.values())


def assign_addresses(network, pool: str = "10.255.0.0/16") -> None:
    """Number every unnumbered router interface (see the module docstring)."""
    pool_net = ipaddress.IPv4Network(pool)
    used = {ip for node in network.nodes.values() for ip in getattr(node, "local_ips", {})}
    next_block = int(pool_net.network_address)
    pool_end = int(pool_net.broadcast_address)

    for segment in l2_segments(network):
        routers = [i for i in segment if i.ip is None and getattr(i.node, "forwarding", False)]
        if not routers:
            continue
        numbered = [i for i in segment if i.ip is not None]
        if numbered:
            base = numbered[0]
            net, plen = base.ip & prefix_mask(base.prefix_len), base.prefix_len
            wanted = [g for g in _gateways(segment) if g & prefix_mask(plen) == net and g not in used]
            free = (a for a in range(net + 1, net + (1 << (32 - plen)) - 1) if a not in used)
            for iface in routers:
                ip = wanted.pop(0) if wanted else next(free, None)
                if ip is None:
                    raise AddressError(f"no free address left in {int_to_ip(net)}/{plen} for "
                                       f"{iface.node.name}:{iface.name}")
                used.add(ip)
                iface.node.set_address(iface, int_to_ip(ip), plen)
        else:
            need = len(routers) + 2                     # network and broadcast addresses
            plen = 32 - max(2, (need - 1).bit_length())
            size = 1 << (32 - plen)
            next_block = (next_block + size - 1) // size * size
            if next_block + size - 1 > pool_end:
                raise AddressError(f"the address pool {pool} is exhausted")
            for k, iface in enumerate(routers, start=1):
                iface.node.set_address(iface, int_to_ip(next_block + k), plen)
                used.add(next_block + k)
            next_block += size


def _gateways(segment) -> list[int]:
    """Gateway addresses the hosts of a segment were configured with, first seen first."""
    seen: list[int] = []
    for iface in segment:
        gateway = getattr(iface.node, "gateway", None)
        if gateway is not None:
            ip = int(ipaddress.IPv4Address(gateway))
            if ip not in seen:
                seen.append(ip)
    return seen

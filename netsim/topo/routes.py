"""Static routes computed from the topology: shortest paths over routers and segments.

The graph has a vertex per router and per broadcast segment, an edge where a router
has an interface on a segment. For every router and every segment it is not on, the
first router along a shortest path (fewest hops; ties broken by build order, so
the result is deterministic) is the next hop. Hosts without a gateway get a default
route through the first router on their segment. Routes given by hand (origin
``static``) always win over computed ones, whichever is added first.
"""

from __future__ import annotations

from array import array

from netsim.proto.routing import ComputedRoutes, Subnets
from netsim.topo.addressing import l2_segments
from netsim.wire.addr import int_to_ip, prefix_mask


def compute_routes(network) -> None:
    segments = [s for s in l2_segments(network) if any(i.ip is not None for i in s)]
    # The graph networkx held here before: segment k, and each router with an interface
    # on a segment; neighbours kept in the order the edges were added, and a router's
    # second interface on one segment taking the first one's place (as Graph.add_edge).
    subnets: list[tuple[int, int]] = []
    seg_routers: list[dict[int, object]] = []       # segment → {router: its interface}
    router_segs: list[dict[int, object]] = []       # router → {segment: its interface}
    routers: dict[str, int] = {}
    for k, segment in enumerate(segments):
        numbered = [i for i in segment if i.ip is not None]
        subnets.append((numbered[0].ip & prefix_mask(numbered[0].prefix_len), numbered[0].prefix_len))
        members: dict[int, object] = {}
        for iface in numbered:
            if iface.node.forwarding:
                v = routers.setdefault(iface.node.name, len(routers))
                if v == len(router_segs):
                    router_segs.append({})
                members[v] = iface
                router_segs[v][k] = iface
        seg_routers.append(members)

    shared = Subnets(subnets)
    # The same graph as tuples of numbers, for the searches' inner loops.
    members = [tuple(m) for m in seg_routers]
    neighbours = [tuple(m) for m in router_segs]
    for name, node in network.nodes.items():
        source = routers.get(name) if getattr(node, "forwarding", False) else None
        if source is not None:
            node.routes.add_computed(_from(source, shared, members, neighbours, seg_routers,
                                           router_segs))

    for segment in segments:
        gateways = [i for i in segment if i.ip is not None and i.node.forwarding]
        for iface in segment:
            host = iface.node
            if host.forwarding or iface.ip is None:
                continue
            gateway = getattr(host, "gateway", None)
            if gateway is not None:
                host.add_route("default", gateway, origin="static")
            elif gateways and host.routes.lookup(0) is None:
                host.add_route("default", int_to_ip(gateways[0].ip), iface, origin="computed")


def _from(source: int, subnets: Subnets, members, neighbours, seg_routers,
          router_segs) -> ComputedRoutes:
    """One breadth-first search from ``source``: each subnet's first hop and hop count.

    Level by level, each level's vertices in the order they were found and their
    neighbours in graph order: the paths ``networkx.single_source_shortest_path`` takes,
    so ties between equal-cost paths go the same way (build order). A router's segments
    and each segment's routers are visited in one nested loop, which finds them in the
    order a level of segments and then a level of routers would.
    """
    hop = [0] * len(members)
    metric = [0] * len(members)
    seg_seen = bytearray(len(members))
    router_seen = bytearray(len(neighbours))
    router_hop = [0] * len(neighbours)
    router_seen[source] = 1
    own = router_segs[source]
    hops: list[tuple[object, int]] = []
    level = []
    for k in neighbours[source]:                # directly connected: no route
        seg_seen[k] = 1
    for k in neighbours[source]:
        for u in members[k]:
            if not router_seen[u]:
                router_seen[u] = 1
                hops.append((own[k], seg_routers[k][u].ip))
                router_hop[u] = len(hops)
                level.append(u)
    m = 2
    while level:
        found = []
        for u in level:
            h = router_hop[u]
            for k in neighbours[u]:
                if not seg_seen[k]:
                    seg_seen[k] = 1
                    hop[k] = h
                    metric[k] = m
                    for w in members[k]:
                        if not router_seen[w]:
                            router_seen[w] = 1
                            router_hop[w] = h
                            found.append(w)
        level = found
        m += 1
    return ComputedRoutes(subnets, hops, array("H", hop), array("I", metric))

"""Static routes computed from the topology: shortest paths over routers and segments.

The graph has a vertex per router and per broadcast segment, an edge where a router
has an interface on a segment. For every router and every segment it is not on, the
first router along a shortest path (fewest hops; ties broken by build order, so
the result is deterministic) is the next hop. Hosts without a gateway get a default
route through the first router on their segment. Routes given by hand (origin
``static``) always win over computed ones, whichever is added first.
"""

from __future__ import annotations

import networkx as nx

from netsim.topo.addressing import l2_segments
from netsim.wire.addr import int_to_ip, prefix_mask


def compute_routes(network) -> None:
    segments = [s for s in l2_segments(network) if any(i.ip is not None for i in s)]
    graph = nx.Graph()
    subnet: dict[int, tuple[int, int]] = {}
    for k, segment in enumerate(segments):
        numbered = [i for i in segment if i.ip is not None]
        subnet[k] = (numbered[0].ip & prefix_mask(numbered[0].prefix_len), numbered[0].prefix_len)
        graph.add_node(("segment", k))
        for iface in numbered:
            if iface.node.forwarding:
                graph.add_edge(("router", iface.node.name), ("segment", k), iface=iface)

    for name, node in network.nodes.items():
        if not getattr(node, "forwarding", False) or ("router", name) not in graph:
            continue
        paths = nx.single_source_shortest_path(graph, ("router", name))
        for k, (net, plen) in subnet.items():
            path = paths.get(("segment", k))
            if path is None or len(path) <= 2:
                continue                       # unreachable, or directly connected
            first_segment, next_router = path[1], path[2]
            via = graph.edges[next_router, first_segment]["iface"]
            out = graph.edges[("router", name), first_segment]["iface"]
            node.add_route(f"{int_to_ip(net)}/{plen}", int_to_ip(via.ip), out, origin="computed",
                           metric=len(path) // 2)

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

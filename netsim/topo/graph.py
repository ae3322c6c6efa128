"""Networks to and from networkx graphs."""

from __future__ import annotations

import networkx as nx

from netsim.topo.helpers import finalize
from netsim.topo.links import LINK_KEYS, link_params


def to_graph(network) -> nx.MultiGraph:
    """Nodes with ``kind`` and ``addresses``; one edge per link with its parameters."""
    graph = nx.MultiGraph(name=network.name)
    for name, node in network.nodes.items():
        graph.add_node(name, kind=node.kind,
                       addresses={i.name: i.address for i in node.interfaces.values() if i.address})
    for link in network.links.values():
        graph.add_edge(link.a.node.name, link.b.node.name, key=link.name, name=link.name,
                       ifaces=(link.a.name, link.b.name), rate=link.rate, delay=link.delay,
                       loss=link.loss, jitter=link.jitter)
    return graph


def from_graph(graph: nx.Graph, *, seed: int = 0, trace: bool = True, **link_defaults):
    """Build a network from a graph whose nodes may carry ``kind`` (host/router/switch),
    ``ip`` and ``gateway``, and whose edges may carry link parameters (``rate``,
    ``delay``… as numbers or strings like ``'10ms'``). Addresses and routes that are
    not given are assigned and computed (:func:`netsim.topo.finalize`)."""
    from netsim.sim import Network

    net = Network(seed, name=graph.graph.get("name", "network"), trace=trace)
    for name, attrs in graph.nodes(data=True):
        kind = attrs.get("kind", "router" if graph.degree(name) > 1 else "host")
        node = {"host": net.add_host, "router": net.add_router, "switch": net.add_switch}[kind](str(name))
        if kind == "host":
            node.gateway = attrs.get("gateway")
            if attrs.get("ip"):
                node.set_address(node.add_interface(), attrs["ip"])
    for a, b, attrs in graph.edges(data=True):
        params = dict(link_defaults, **{k: v for k, v in attrs.items() if k in LINK_KEYS})
        net.connect(net.node(str(a)), net.node(str(b)), **link_params(params))
    finalize(net)
    return net

"""Computed routes against the algorithm they replaced: networkx's shortest paths per
router, each route added with a sort of the whole table (what the tables held, in the
order they listed them, for random topologies with shared segments and routes by hand)."""

import random

import networkx as nx
import pytest

from netsim.proto.routing import Route
from netsim.sim import Network
from netsim.topo import finalize
from netsim.topo.addressing import l2_segments
from netsim.wire.addr import int_to_ip, ip_to_int, prefix_mask

RANK = {"connected": 0, "static": 1, "computed": 2}


class ReferenceTable:
    """The table before: a list re-sorted on every route added."""

    def __init__(self, routes):
        self.routes = []
        for r in routes:
            self.add(r)

    def add(self, route):
        for i, old in enumerate(self.routes):
            if old.network == route.network and old.prefix_len == route.prefix_len:
                if RANK.get(route.origin, 3) <= RANK.get(old.origin, 3):
                    self.routes[i] = route
                return
        self.routes.append(route)
        self.routes.sort(key=lambda r: (-r.prefix_len, r.metric))

    def lookup(self, dst):
        return next((r for r in self.routes if dst & prefix_mask(r.prefix_len) == r.network), None)


def reference_routes(network, before):
    """Each router's routes as networkx and the old table gave them, from ``before``
    (the routes each router held before the computation)."""
    segments = [s for s in l2_segments(network) if any(i.ip is not None for i in s)]
    graph = nx.Graph()
    subnet = {}
    for k, segment in enumerate(segments):
        numbered = [i for i in segment if i.ip is not None]
        subnet[k] = (numbered[0].ip & prefix_mask(numbered[0].prefix_len), numbered[0].prefix_len)
        graph.add_node(("segment", k))
        for iface in numbered:
            if iface.node.forwarding:
                graph.add_edge(("router", iface.node.name), ("segment", k), iface=iface)
    tables = {}
    for name, node in network.nodes.items():
        if not getattr(node, "forwarding", False):
            continue
        table = ReferenceTable(before[name])
        if ("router", name) in graph:
            paths = nx.single_source_shortest_path(graph, ("router", name))
            for k, (net, plen) in subnet.items():
                path = paths.get(("segment", k))
                if path is None or len(path) <= 2:
                    continue
                via = graph.edges[path[2], path[1]]["iface"]
                out = graph.edges[("router", name), path[1]]["iface"]
                table.add(Route(net, plen, out, via.ip, "computed", len(path) // 2))
        tables[name] = table
    return tables


def random_network(seed):
    """Routers in a random connected graph, some links through a switch shared by a
    third router, a LAN on most routers (two with the same subnet now and then), and a
    few routes by hand."""
    rng = random.Random(seed)
    n = rng.randint(2, 14)
    graph = nx.connected_watts_strogatz_graph(n, min(4, n - 1) if n > 2 else 1, 0.3, seed=seed) \
        if n > 3 else nx.path_graph(n)
    net = Network(seed)
    routers = [net.add_router(f"r{i}") for i in range(n)]
    for a, b in graph.edges:
        if rng.random() < 0.2 and n > 2:
            switch = net.add_switch(f"s{a}-{b}")
            third = routers[rng.choice([c for c in range(n) if c not in (a, b)])]
            for r in (routers[a], routers[b], third):
                net.connect(r, switch)
        else:
            net.connect(routers[a], routers[b])
    for i, router in enumerate(routers):
        if rng.random() < 0.8:
            lan = router.add_interface("lan")
            third = i if rng.random() < 0.9 else 0           # now and then a repeated subnet
            router.set_address(lan, f"10.{third}.{rng.randint(0, 3)}.1/24")
            host = net.add_host(f"h{i}")
            net.connect(host, lan)
    return net, routers, rng


def listing(routes):
    return [(r.network, r.prefix_len, r.iface, r.gateway, r.origin, r.metric) for r in routes]


@pytest.mark.parametrize("seed", range(60))
def test_routes_are_those_networkx_and_the_old_table_gave(seed):
    net, routers, rng = random_network(seed)
    from netsim.topo.addressing import assign_addresses
    assign_addresses(net)
    for router in rng.sample(routers, k=min(2, len(routers))):   # routes by hand first
        iface = next(iter(router.interfaces.values()))
        if iface.ip is not None:
            router.add_route(f"10.{rng.randint(0, 13)}.{rng.randint(0, 3)}.0/24",
                             iface=iface, origin=rng.choice(["static", "computed"]))
    before = {name: list(node.routes) for name, node in net.nodes.items() if getattr(node, "forwarding", False)}
    finalize(net)
    expected = reference_routes(net, before)
    destinations = [ip_to_int(f"10.{a}.{b}.9") for a in range(15) for b in range(4)] + \
        [ip_to_int(f"10.255.0.{c}") for c in range(0, 80, 3)]
    for name, table in expected.items():
        routes = net.nodes[name].routes
        # Lookups are answered before the table is listed (its routes still unmade) …
        for dst in destinations:
            assert routes.lookup(dst) == table.lookup(dst), (name, int_to_ip(dst))
        assert len(routes) == len(table.routes)
        # … and listing makes them, in the order the old table kept.
        assert listing(routes) == listing(table.routes), name
        for dst in destinations:
            assert routes.lookup(dst) == table.lookup(dst), (name, int_to_ip(dst))


def test_a_route_added_after_the_computation_takes_its_place_as_before():
    net, routers, _ = random_network(5)
    finalize(net)
    router = routers[0]
    listed = list(router.routes)
    computed = next(r for r in listed if r.origin == "computed")
    target = f"{int_to_ip(computed.network)}/{computed.prefix_len}"
    router.add_route(target, iface=computed.iface, origin="static")
    reference = ReferenceTable(listed)
    reference.add(Route(computed.network, computed.prefix_len, computed.iface, None, "static", 0))
    assert listing(router.routes) == listing(reference.routes)
    assert router.routes.lookup(computed.network).origin == "static"

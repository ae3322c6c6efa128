import networkx as nx

from netsim import Ping, from_graph, load_scenario, to_graph
from tests.conftest import SCENARIOS


def addresses(net, name):
    return {i.name: i.address for i in net.nodes[name].interfaces.values()}


def test_design_example_router_takes_the_hosts_gateways():
    net = load_scenario(SCENARIOS / "design-example.yaml").build()
    assert addresses(net, "r1") == {"eth0": "10.0.1.1/24", "eth1": "10.0.2.1/24"}


def test_router_to_router_links_get_slash_30s_from_the_pool():
    net = load_scenario(SCENARIOS / "router-chain.yaml").build()
    assert addresses(net, "r1")["eth1"] == "10.255.0.1/30"
    assert addresses(net, "r2") == {"eth0": "10.255.0.2/30", "eth1": "10.255.0.5/30"}
    assert addresses(net, "r3")["eth0"] == "10.255.0.6/30"
    routes = {str(r.network) + "/" + str(r.prefix_len): r for r in net.nodes["r1"].routes}
    from netsim.wire.addr import int_to_ip, ip_to_int
    to_files = net.nodes["r1"].routes.lookup(ip_to_int("10.0.2.20"))
    assert int_to_ip(to_files.gateway) == "10.255.0.2" and to_files.origin == "computed"
    assert routes


def test_explicit_routes_override_computed_ones():
    from netsim import parse_scenario
    text = (SCENARIOS / "router-chain.yaml").read_text().replace(
        "r1:    {kind: router}",
        "r1:    {kind: router, interfaces: {eth1: 10.9.0.1/30}, routes: [{to: 10.0.2.0/24, via: 10.9.0.2}]}")
    text = text.replace("r2:    {kind: router}", "r2:    {kind: router, interfaces: {eth0: 10.9.0.2/30}}")
    net = parse_scenario(text).build()
    from netsim.wire.addr import int_to_ip, ip_to_int
    route = net.nodes["r1"].routes.lookup(ip_to_int("10.0.2.20"))
    assert route.origin == "static" and int_to_ip(route.gateway) == "10.9.0.2"


def test_from_graph_builds_addresses_and_routes():
    g = nx.Graph(name="triangle")
    g.add_node("a", kind="host", ip="10.1.0.10/24", gateway="10.1.0.1")
    g.add_node("b", kind="host", ip="10.2.0.10/24", gateway="10.2.0.1")
    for r in ("r1", "r2", "r3"):
        g.add_node(r, kind="router")
    g.add_edges_from([("a", "r1"), ("r1", "r2"), ("r2", "r3"), ("r1", "r3"), ("r3", "b")],
                     delay="1ms")
    net = from_graph(g, seed=3)
    ping = Ping(net.nodes["a"], target="b", count=2)
    net.run(10)
    assert ping.result()["received"] == 2
    # Shortest path a-r1-r3-b: TTL 64 - 2 routers = 62.
    assert "ttl=62" in ping.lines[1]
    assert set(to_graph(net).nodes) == {"a", "b", "r1", "r2", "r3"}

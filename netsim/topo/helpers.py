"""Topologies in one call, returning the network and the nodes the caller needs."""

from __future__ import annotations

from netsim.topo.addressing import assign_addresses
from netsim.topo.links import link_params
from netsim.topo.routes import compute_routes


def finalize(network, *, pool: str = "10.255.0.0/16") -> None:
    """Number unnumbered router interfaces and compute the missing static routes."""
    assign_addresses(network, pool)
    compute_routes(network)


def line(names: list[str], *, seed: int = 0, trace=True, **link):
    """Hosts at both ends, routers between, one /24 per link (10.0.1.0/24, 10.0.2.0/24, …).

    ``link`` takes :class:`~netsim.sim.link.Link` parameters, with units as strings
    if you like: ``line(["a", "r1", "b"], rate="10Mbps", delay="5ms", loss="1%")``.
    """
    from netsim.sim import Network

    if len(names) < 2:
        raise ValueError("a line needs at least two nodes")
    net = Network(seed, name="-".join(names), trace=trace)
    nodes = [net.add_host(n) if k in (0, len(names) - 1) else net.add_router(n)
             for k, n in enumerate(names)]
    params = link_params(link)
    for k, (a, b) in enumerate(zip(nodes, nodes[1:]), start=1):
        ia, ib = a.add_interface(), b.add_interface()
        a.set_address(ia, f"10.0.{k}.1/24")
        b.set_address(ib, f"10.0.{k}.2/24")
        net.connect(ia, ib, **params)
    finalize(net)
    return net, nodes


def lan(hosts: int | list[str], *, seed: int = 0, trace: bool = True, subnet: str = "10.0.0.0/24",
        **link):
    """Hosts on one switch, numbered from the subnet's first address."""
    import ipaddress

    from netsim.sim import Network

    names = [f"h{k}" for k in range(1, hosts + 1)] if isinstance(hosts, int) else list(hosts)
    network = ipaddress.IPv4Network(subnet)
    net = Network(seed, name="lan", trace=trace)
    switch = net.add_switch("sw")
    params = link_params(link)
    nodes = []
    for name, address in zip(names, network.hosts()):
        host = net.add_host(name)
        host.set_address(host.add_interface(), f"{address}/{network.prefixlen}")
        net.connect(host, switch.add_interface(), **params)
        nodes.append(host)
    return net, switch, nodes

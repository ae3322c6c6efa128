"""A large topology: about 1,000 nodes, routes computed, 10 s of pings from every host.

50 routers joined as a Watts–Strogatz small world (networkx, each router wired to 4
neighbours, 20 % rewired), each with a switch and a LAN of 18 hosts (10.R.0.0/24), and
a server on router 0's LAN; router-to-router /30s and routes to every subnet come from
``netsim.topo.finalize``. Every host pings the server once a second for 10 s, starting
at a random instant of the first second. Tracing on, as a user runs netsim.

    python benchmarks/scale.py [--routers 50] [--hosts 18] [--seconds 10] [--build-only]

Prints ``build_s=`` (of it ``routes_s=``, addressing and route computation:
``finalize``), ``run_s=`` and ``peak_rss_mb=``; the targets are a build under 10 s,
routes for 1,000 routers under 2 s and a run under 60 s. Routing tables hold one route
per subnet, so the largest one is printed too: it does not grow with the number of
hosts. ``--build-only`` skips the run, to show how the build grows with ``--routers``.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx  # noqa: E402

from netsim import Ping  # noqa: E402
from netsim.sim import Network  # noqa: E402
from netsim.topo import finalize  # noqa: E402
from netsim.wire import scapy_layers  # noqa: E402


def build(routers: int, hosts: int, seconds: int, seed: int = 1):
    graph = nx.connected_watts_strogatz_graph(routers, 4, 0.2, seed=seed)
    net = Network(seed, name="scale")
    rs = [net.add_router(f"r{i}") for i in range(routers)]
    for a, b in graph.edges:
        net.connect(rs[a], rs[b], rate=1e9, delay=0.001)
    every = []
    for i, router in enumerate(rs):
        switch = net.add_switch(f"s{i}")
        lan = router.add_interface("lan")
        router.set_address(lan, f"10.{i // 250}.{i % 250}.1/24")
        net.connect(lan, switch, rate=1e9, delay=1e-5)
        members = [f"h{i}-{j}" for j in range(hosts)] + (["server"] if i == 0 else [])
        for j, name in enumerate(members):
            host = net.add_host(name)
            host.set_address(host.add_interface(), f"10.{i // 250}.{i % 250}.{10 + j}/24")
            host.gateway = f"10.{i // 250}.{i % 250}.1"
            net.connect(host, switch, rate=1e8, delay=1e-5)
            if name != "server":
                every.append(host)
    started = time.perf_counter()
    finalize(net)
    net.routes_s = time.perf_counter() - started
    rng = random.Random(seed)
    pings = [Ping(h, target="server", count=seconds, interval=1.0, at=rng.random()) for h in every]
    return net, pings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=18, help="hosts on each router's LAN")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--build-only", action="store_true", help="build the network, do not run it")
    args = parser.parse_args()
    scapy_layers.load()                       # a one-time start-up cost, not the build's
    started = time.perf_counter()
    net, pings = build(args.routers, args.hosts, args.seconds)
    built = time.perf_counter()
    largest = max(len(n.routes) for n in net.nodes.values() if n.kind == "router")
    if args.build_only:
        print(f"routers={args.routers} nodes={len(net.nodes)} largest_routing_table={largest}")
        print(f"build_s={built - started:.2f} routes_s={net.routes_s:.2f}")
        return
    net.run(until=args.seconds + 2)
    ran = time.perf_counter()
    sent = sum(p.result()["sent"] for p in pings)
    received = sum(p.result()["received"] for p in pings)
    print(f"nodes={len(net.nodes)} links={len(net.links)} hosts_pinging={len(pings)} "
          f"largest_routing_table={largest}")
    print(f"pings_sent={sent} received={received} trace_records={len(net.trace)} "
          f"frames={net.trace.frame_count}")
    print(f"build_s={built - started:.2f} routes_s={net.routes_s:.2f}")
    print(f"run_s={ran - built:.2f}")
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    main()

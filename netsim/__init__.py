"""netsim — a packet-level network simulator and visualizer.

Real frames (bytes that Scapy dissects) cross simulated links between hosts,
switches and routers; everything that happens lands in a trace, from which come
per-link pcaps, summaries and diagrams.

In Python::

    from netsim import line
    net, (alice, r1, bob) = line(["alice", "r1", "bob"], rate="100Mbps", delay="2ms")
    Ping(alice, target="bob", count=3)
    net.run(until=10)

From a scenario file::

    result = run_scenario(load_scenario("scenarios/router-chain.yaml"), "out/chain")
    print(result.text())
"""

import importlib

__version__ = "0.1.0"

# Where each public name lives. Loaded on first use (PEP 562), so that the CLI —
# which imports this package — starts without SimPy, networkx or Scapy.
_EXPORTS = {
    "netsim.apps": ["APPS", "Ping", "RarpBoot", "RarpServer", "TcpSink", "TcpSource", "Traceroute",
                    "UdpEcho", "UdpEchoServer", "UdpSend", "UdpSink"],
    "netsim.errors": ["AddressError", "FrameError", "NetsimError", "ScenarioError", "TopologyError"],
    "netsim.scenario": ["RunResult", "Scenario", "load_scenario", "parse_scenario", "run_scenario"],
    "netsim.sim": ["Host", "Link", "Network", "Router", "Switch"],
    "netsim.sweeps": ["sweep"],
    "netsim.topo": ["finalize", "from_graph", "lan", "line", "to_graph"],
    "netsim.trace": ["Trace"],
    "netsim.wire": ["Frame"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'netsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Many TCP flows at once: what each new connection costs to set up.

A client opens ``--flows`` connections at the same instant to one server over a
1 Gbps / 1 ms link, each carrying ``--size`` bytes, tracing on. Prints the CPU time
the run spent making the flows' frame templates (``template_ms_per_flow``: each
direction of each connection has one, at both ends), the run's CPU time per flow,
and the same run's time for one flow, so that what a flow adds can be read off.

    python benchmarks/tcp_flows.py [--flows 100] [--size 1KiB]

Issue target: per-flow set-up under 0.5 ms at 100 flows (it was about 5 ms, when
Scapy built each flow's headers).
"""

from __future__ import annotations

import argparse
import time

import netsim.sim.ipnode as ipnode
from netsim import TcpSink, TcpSource
from netsim.topo import line
from netsim.units import parse_size
from netsim.wire import scapy_layers


def run(flows: int, size: int) -> tuple[float, float, int]:
    """(run CPU s, template CPU s, templates made) for ``flows`` connections."""
    spent = [0.0, 0]
    real = ipnode.TcpTemplate

    def timed(*args, **kwargs):
        start = time.process_time()
        template = real(*args, **kwargs)
        spent[0] += time.process_time() - start
        spent[1] += 1
        return template

    net, (client, server) = line(["client", "server"], rate="1Gbps", delay="1ms", seed=1)
    TcpSink(server, port=5001)
    sources = [TcpSource(client, target="server", port=5001, size=size, at=0.001)
               for _ in range(flows)]
    ipnode.TcpTemplate = timed
    try:
        start = time.process_time()
        net.run()
        elapsed = time.process_time() - start
    finally:
        ipnode.TcpTemplate = real
    assert all(s.result()["intact"] for s in sources)
    return elapsed, spent[0], spent[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=100)
    parser.add_argument("--size", default="1KiB")
    args = parser.parse_args()
    size = parse_size(args.size)
    scapy_layers.load()                       # a one-time start-up cost, not a flow's
    run(1, size)                              # and the first template shapes built
    one, _, _ = run(1, size)
    elapsed, templates, made = run(args.flows, size)
    print(f"flows={args.flows} size={size} templates={made} run_cpu_s={elapsed:.3f} one_flow_cpu_s={one:.4f}")
    print(f"run_ms_per_flow={1000 * elapsed / args.flows:.3f}")
    print(f"template_ms_per_flow={1000 * templates / args.flows:.4f}")


if __name__ == "__main__":
    main()

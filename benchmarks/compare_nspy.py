"""netsim against ns.py (a SimPy packet simulator, ``pip install ns.py``) on the same
two-hop UDP line, in one process: datagrams delivered per wall second, and the ratio.

netsim: host → router → host over two 10 Gbps / 10 µs links (``forward.py``'s line),
real Ethernet/IPv4/UDP frames, ARP, checksums, every frame traced. ns.py: a generator,
an output port (10 Gbps) and a wire (10 µs), a second port and wire (the router's), a
sink — Python objects standing for packets, nothing recorded. Both send one 100-byte
datagram every 2 µs of simulated time. ns.py is not a dependency of netsim.

    python benchmarks/compare_nspy.py [--frames N] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forward import build  # noqa: E402
from netsim.wire import scapy_layers  # noqa: E402

INTERVAL, SIZE = 2e-6, 100


def run_netsim(frames: int) -> float:
    net, sink = build(frames, SIZE, True)
    start = time.perf_counter()
    net.run()
    wall = time.perf_counter() - start
    assert sink.received == frames, sink.received
    return frames / wall


def run_nspy(frames: int) -> float:
    import simpy
    from ns.packet.dist_generator import DistPacketGenerator
    from ns.packet.sink import PacketSink
    from ns.port.port import Port
    from ns.port.wire import Wire

    env = simpy.Environment()
    gen = DistPacketGenerator(env, "src", lambda: INTERVAL, lambda: SIZE + 42,
                              finish=frames * INTERVAL - INTERVAL / 2, flow_id=0)
    port1, port2 = Port(env, rate=10e9, qlimit=1000), Port(env, rate=10e9, qlimit=1000)
    wire1, wire2 = Wire(env, lambda: 10e-6), Wire(env, lambda: 10e-6)
    sink = PacketSink(env, rec_arrivals=False, rec_waits=False, rec_flow_ids=True)
    gen.out, port1.out, wire1.out, port2.out, wire2.out = port1, wire1, port2, wire2, sink
    start = time.perf_counter()
    env.run(until=frames * INTERVAL + 1e-3)
    wall = time.perf_counter() - start
    got = sink.packets_received[0]
    assert got == frames, got
    return frames / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        import ns.packet.dist_generator  # noqa: F401
    except ImportError:
        sys.exit("ns.py is not installed: pip install ns.py (not a netsim dependency)")
    scapy_layers.load()
    ours, theirs = [], []
    for _ in range(args.rounds):                 # interleaved: A B A B …
        ours.append(run_netsim(args.frames))
        theirs.append(run_nspy(args.frames))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"netsim_frames_per_s={a:.0f} nspy_frames_per_s={b:.0f} ratio={a / b:.2f}")


if __name__ == "__main__":
    main()

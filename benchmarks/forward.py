"""Forwarding speed: UDP frames from one host through a router to another.

Two 10 Gbps links with 10 µs delay and no loss, so queues never overflow; the
``udp-send`` and ``udp-sink`` applications; tracing on, as a user runs netsim.
Prints the frames delivered per second of wall time and, since the trace keeps
every frame, how many bytes it holds per delivered frame beyond the frames' own.

    python benchmarks/forward.py [--frames N] [--size BYTES] [--no-trace] [--profile]
"""

from __future__ import annotations

import argparse

from netsim import UdpSend, UdpSink
from netsim.topo import line
from timing import timed_run          # beside this script


def build(frames: int, size: int, trace: bool):
    net, (src, _router, dst) = line(["src", "r1", "dst"], rate="10Gbps", delay="10us",
                                    seed=1, trace=trace, queue_packets=1000)
    sink = UdpSink(dst, port=9000)
    # 500,000 datagrams a second of simulated time: the 10 Gbps links stay idle enough.
    UdpSend(src, target="dst", port=9000, size=size, count=frames, interval=2e-6, at=0.001)
    return net, sink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300_000)
    parser.add_argument("--size", type=int, default=64, help="UDP payload bytes")
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    args = parser.parse_args()
    net, sink = build(args.frames, args.size, not args.no_trace)
    wall = timed_run(net, args.profile)
    delivered = sink.received
    assert delivered == args.frames, f"only {delivered} of {args.frames} frames arrived"
    trace = net.trace
    print(f"frames={delivered} payload={args.size}B wall_s={wall:.3f} "
          f"trace_records={len(trace)} trace_frames={trace.frame_count}")
    if trace.enabled:
        # ARP frames are counted too; per delivered frame is what the target is about.
        print(f"trace_bytes_per_frame={trace.memory_bytes() / delivered:.1f}")
    print(f"frames_per_s={delivered / wall:.0f}")


if __name__ == "__main__":
    main()

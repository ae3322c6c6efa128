"""Forwarding speed: UDP frames from one host through a router to another.

Two 10 Gbps links with 10 µs delay and no loss, so queues never overflow; tracing on,
as a user runs netsim. Prints the frames delivered per second of wall time, and with
``--frames`` large, how many bytes the trace keeps per frame beyond the frames' own.

    python benchmarks/forward.py [--frames N] [--size BYTES] [--no-trace] [--profile]
"""

from __future__ import annotations

import argparse
import time

from netsim.topo import line


def build(frames: int, size: int, trace: bool):
    net, (src, router, dst) = line(["src", "r1", "dst"], rate="10Gbps", delay="10us",
                                   seed=1, trace=trace, queue_packets=1000)
    sink = dst.udp_open(9000)
    received = [0]

    def count(_payload, _addr, _now):
        received[0] += 1
    sink.on_receive = count
    sock = src.udp_open()
    payload = bytes(size)
    interval = 2e-6                       # 500,000 frames/s of simulated time
    dst_ip = dst.ip

    def sender():
        # Prime ARP on both hops, then send at a steady pace.
        sock.sendto(payload, (dst_ip, 9000))
        yield net.env.timeout(0.01)
        sendto = sock.sendto
        timeout = net.env.timeout
        for _ in range(frames - 1):
            sendto(payload, (dst_ip, 9000))
            yield timeout(interval)
    net.env.process(sender())
    return net, received


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=64, help="UDP payload bytes")
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    net, received = build(args.frames, args.size, not args.no_trace)
    start = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats
        cProfile.runctx("net.run()", globals(), locals(), "/tmp/forward.prof")
        pstats.Stats("/tmp/forward.prof").sort_stats("tottime").print_stats(15)
    else:
        net.run()
    wall = time.perf_counter() - start
    assert received[0] == args.frames, f"only {received[0]} of {args.frames} frames arrived"
    trace = net.trace
    print(f"frames={received[0]} wall_s={wall:.3f} trace_records={len(trace)} "
          f"trace_frames={trace.frame_count}")
    if trace.enabled:
        extra = trace.memory_bytes()
        print(f"trace_bytes_per_frame={extra / received[0]:.1f}")
    print(f"frames_per_s={received[0] / wall:.0f}")


if __name__ == "__main__":
    main()

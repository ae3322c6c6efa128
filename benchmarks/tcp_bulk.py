"""TCP bulk transfer speed: 20 MB over a 1 Gbps, 1 ms path, no loss, tracing on.

Prints the TCP segments (data and ACKs) the simulation carried per second of wall
time; the last line is ``segments_per_s=<number>``. The applications make up their
bytes and hash them at both ends (to say the transfer was intact); that work is timed
apart on the same bytes and the simulation's own rate (``sim_*``) is printed too.

    python benchmarks/tcp_bulk.py [--size 20MB] [--stack linux|textbook] [--no-trace] [--profile]

``--stack`` chooses the hosts' TCP (default: Linux's, with SACK and timestamps; the
textbook's has neither, and an ACK per segment).
"""

from __future__ import annotations

import argparse

from netsim import TcpSink, TcpSource
from netsim.topo import line
from netsim.trace import TX
from netsim.units import parse_size
from timing import timed_run          # beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="20MB")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--stack", choices=["linux", "textbook"], default="linux")
    parser.add_argument("--no-trace", action="store_true")
    args = parser.parse_args()
    size = parse_size(args.size)

    net, (src, dst) = line(["src", "dst"], rate="1Gbps", delay="1ms", seed=1, queue_packets=1000,
                           trace=not args.no_trace)
    for node in (src, dst):
        node.use_stack(args.stack)
    sink = TcpSink(dst, port=5001)
    source = TcpSource(src, target="dst", port=5001, size=size, at=0.001)
    wall = timed_run(net, args.profile)
    result = source.result()
    assert result["intact"], result
    segments = data = 0
    if net.trace.enabled:
        for _t, kind, _p, frame, _r in net.trace.raw():
            raw = net.trace.frame_bytes(frame)
            if kind == TX and raw[23] == 6:
                segments += 1
                # IP total length beyond the headers: a payload (the frame may be padded).
                data += int.from_bytes(raw[16:18], "big") > 20 + (raw[46] >> 4) * 4
    else:
        # No trace to read: the link's counters (all frames, less the two ARP frames);
        # data segments are the ones the sender's side carried, less SYN and final ACK.
        link = next(iter(net.links.values()))
        segments = link.forward.sent + link.backward.sent - 2
        data = link.forward.sent - 3
    apps_s = _application_work(size)
    print(f"bytes={sink.bytes} simulated_s={result['duration_s']:.3f} "
          f"goodput={result['goodput_bps'] / 1e6:.0f}Mbit/s segments={segments} wall_s={wall:.3f} "
          f"apps_s={apps_s:.3f} stack={args.stack} trace={'off' if args.no_trace else 'on'}")
    print(f"sim_data_segments_per_s={data / (wall - apps_s):.0f}")
    # Delayed ACKs (Linux's stack) carry the same data in fewer segments: the data
    # segments per wall second compare the stacks; the last line is all segments.
    print(f"data_segments_per_s={data / wall:.0f}")
    print(f"segments_per_s={segments / wall:.0f}")


def _application_work(size: int) -> float:
    """What tcp-source and tcp-sink do besides TCP: draw ``size`` random bytes and
    SHA-256 them at both ends — timed alone, best of three."""
    import hashlib
    import random
    import time
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        data = random.Random(1).randbytes(size)
        hashlib.sha256(data).hexdigest()
        hashlib.sha256(data).hexdigest()
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()

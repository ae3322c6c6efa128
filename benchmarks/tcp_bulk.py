"""TCP bulk transfer speed: 20 MB over a 1 Gbps, 1 ms path, no loss, tracing on.

Prints the TCP segments (data and ACKs) the simulation carried per second of wall
time; the last line is ``segments_per_s=<number>``.

    python benchmarks/tcp_bulk.py [--size 20MB] [--stack linux|textbook] [--profile]

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
    args = parser.parse_args()
    size = parse_size(args.size)

    net, (src, dst) = line(["src", "dst"], rate="1Gbps", delay="1ms", seed=1, queue_packets=1000)
    for node in (src, dst):
        node.use_stack(args.stack)
    sink = TcpSink(dst, port=5001)
    source = TcpSource(src, target="dst", port=5001, size=size, at=0.001)
    wall = timed_run(net, args.profile)
    result = source.result()
    assert result["intact"], result
    segments = data = 0
    for _t, kind, _p, frame, _r in net.trace.raw():
        raw = net.trace.frame_bytes(frame)
        if kind == TX and raw[23] == 6:
            segments += 1
            # IP total length beyond the headers: a payload (the frame may be padded).
            data += int.from_bytes(raw[16:18], "big") > 20 + (raw[46] >> 4) * 4
    print(f"bytes={sink.bytes} simulated_s={result['duration_s']:.3f} "
          f"goodput={result['goodput_bps'] / 1e6:.0f}Mbit/s segments={segments} wall_s={wall:.3f} "
          f"stack={args.stack}")
    # Delayed ACKs (Linux's stack) carry the same data in fewer segments: the data
    # segments per wall second compare the stacks; the last line is all segments.
    print(f"data_segments_per_s={data / wall:.0f}")
    print(f"segments_per_s={segments / wall:.0f}")


if __name__ == "__main__":
    main()

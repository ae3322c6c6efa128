"""Forwarding speed: UDP frames from one host through a router to another.

Two 10 Gbps links with 10 µs delay and no loss, so queues never overflow; the
``udp-send`` and ``udp-sink`` applications; tracing on, as a user runs netsim.
Prints the frames delivered per second of wall time and, since the trace keeps
every frame, how many bytes it holds per delivered frame beyond the frames' own.
``--stream`` writes the captures (and with ``--jsonl`` the trace) to a folder as the
run goes instead of keeping them; the peak resident memory of the process is printed
either way.

    python benchmarks/forward.py [--frames N] [--size BYTES] [--no-trace] [--profile]
                                 [--stream [--jsonl] [--out DIR]]
"""

from __future__ import annotations

import argparse
import resource
from pathlib import Path

from netsim import UdpSend, UdpSink
from netsim.topo import line
from timing import timed_run          # beside this script


def build(frames: int, size: int, trace):
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
    parser.add_argument("--stream", action="store_true", help="write the captures as the run goes")
    parser.add_argument("--jsonl", action="store_true", help="with --stream: trace.jsonl too")
    parser.add_argument("--out", default=None, help="with --stream: the folder (default: a temporary one)")
    args = parser.parse_args()
    trace = not args.no_trace
    folder = None
    if args.stream:
        import tempfile
        from netsim.trace.stream import StreamingTrace
        folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="netsim-forward-"))
        trace = StreamingTrace(folder, ["pcap"] + (["jsonl"] if args.jsonl else []))
    net, sink = build(args.frames, args.size, trace)
    wall = timed_run(net, args.profile)
    if args.stream:
        net.trace.close(list(net.links))
    delivered = sink.received
    assert delivered == args.frames, f"only {delivered} of {args.frames} frames arrived"
    trace = net.trace
    print(f"frames={delivered} payload={args.size}B wall_s={wall:.3f} "
          f"trace_records={len(trace)} trace_frames={trace.frame_count}")
    if trace.enabled and not args.stream:
        # ARP frames are counted too; per delivered frame is what the target is about.
        print(f"trace_bytes_per_frame={trace.memory_bytes() / delivered:.1f}")
    if folder is not None:
        written = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"streamed_to={folder} streamed_mb={written / 1e6:.0f}")
        if not args.out:
            import shutil
            shutil.rmtree(folder)
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    print(f"frames_per_s={delivered / wall:.0f}")


if __name__ == "__main__":
    main()

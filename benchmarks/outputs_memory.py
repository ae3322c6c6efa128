"""Peak memory of a long run and its outputs: a UDP stream of N datagrams through a
router, then the captures and trace.jsonl written (or only the summary).

    python benchmarks/outputs_memory.py [--datagrams 1000000] [--outputs pcap,jsonl,summary]

Each case runs in a process of its own; prints its peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

CHILD = r"""
import resource, sys, time
from pathlib import Path
from netsim import UdpSend, UdpSink
from netsim.topo import line
from netsim.scenario.runner import write_outputs, RunResult
from netsim.trace.summary import frame_counts
count, outputs, folder = int(sys.argv[1]), sys.argv[2].split(","), Path(sys.argv[3])
net, (src, _r, dst) = line(["src", "r1", "dst"], rate="10Gbps", delay="10us", seed=1,
                           queue_packets=1000)
UdpSink(dst, port=9000)
UdpSend(src, target="dst", port=9000, size=64, count=count, interval=2e-6, at=0.001)
start = time.perf_counter()
net.run(until=count * 2e-6 + 1)
ran = time.perf_counter() - start
class Scenario:
    outputs = outputs
    data = {}
result = RunResult(Scenario(), net, {"frames": frame_counts(net.trace)})
start = time.perf_counter()
files = write_outputs(result, folder, outputs)
wrote = time.perf_counter() - start
size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
print(f"run_s={ran:.1f} write_s={wrote:.1f} files_MB={size / 1e6:.0f} "
      f"peak_MB={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datagrams", type=int, default=1_000_000)
    parser.add_argument("--outputs", action="append",
                        help="a comma-separated case (repeatable); default: summary, then pcap,jsonl,summary")
    args = parser.parse_args()
    for outputs in args.outputs or ["summary", "pcap,jsonl,summary"]:
        with tempfile.TemporaryDirectory() as folder:
            out = subprocess.run([sys.executable, "-c", CHILD, str(args.datagrams), outputs, folder],
                                 capture_output=True, text=True, check=True).stdout.strip()
        print(f"datagrams={args.datagrams} outputs={outputs} {out}")


if __name__ == "__main__":
    main()

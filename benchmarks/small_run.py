"""A small run end to end, as a user types it: ``netsim run router-chain`` with every
default output (pcaps, trace, summary, sequence diagram in four formats, timeline,
topology), from the process starting to it exiting. Issue target: under 1.5 s.

    python benchmarks/small_run.py [--scenario router-chain] [--runs 7]

Prints each run's wall time, then the median last. One uncounted run comes first,
and runs may write bytecode (even where PYTHONDONTWRITEBYTECODE is set, as on this
project's machines): a user's second run finds netsim compiled, as Python leaves it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="router-chain")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    netsim = shutil.which("netsim")
    if netsim is None:
        raise SystemExit("netsim is not on PATH: pip install -e . first")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for k in range(-1, args.runs):
            start = time.perf_counter()
            subprocess.run([netsim, "run", args.scenario, "-o", str(Path(folder) / str(k)), "-q"],
                           check=True, env=env)
            if k >= 0:
                times.append(time.perf_counter() - start)
        files = sum(1 for _ in (Path(folder) / "0").rglob("*") if _.is_file())
    print(f"scenario={args.scenario} files={files} runs=" + ",".join(f"{t:.2f}" for t in times))
    print(f"median_s={statistics.median(times):.3f}")


if __name__ == "__main__":
    main()

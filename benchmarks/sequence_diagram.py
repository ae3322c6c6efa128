"""Drawing a sequence diagram: ``router-chain``'s 60 messages (the default limit)
written as SVG, PNG, Mermaid and PlantUML, as ``netsim run`` writes them.

    python benchmarks/sequence_diagram.py [--scenario router-chain] [--runs 7]

Prints the first drawing's CPU time (``first_s``: Pillow, numpy and the fonts loaded
then) and the median of the others (``median_s``), the last line. Issue target: a
60-message diagram under 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from netsim import load_scenario, run_scenario
from netsim.scenario.runner import write_sequence

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="router-chain")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIOS / f"{args.scenario}.yaml")
    trace = run_scenario(scenario).trace
    spec = scenario.data.get("sequence", {})
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs + 1):
            start = time.process_time()
            files = write_sequence(trace, Path(folder), spec)
            times.append(time.process_time() - start)
    from netsim.scenario.runner import sequence_options
    from netsim.viz import sequence_diagram
    messages = len(sequence_diagram(trace, **sequence_options(spec)))
    print(f"scenario={args.scenario} messages={messages} files={len(files)} first_s={times[0]:.3f}")
    print(f"median_s={statistics.median(times[1:]):.3f}")


if __name__ == "__main__":
    main()

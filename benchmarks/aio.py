"""The bundled asyncio-smtp exchange, timed: aiosmtplib sending through aiosmtpd on
simulated hosts (netsim.aio), across the scenario's lossy path, run in this process
without writing outputs.

    python benchmarks/aio.py [--messages 30] [--size 20000] [--runs 3]

Prints each run's figures, then ``smtp_messages_per_s=`` (the median run's messages
per second of wall time) last.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "asyncio-smtp.yaml"


def one_run(messages: int, size: int) -> tuple[float, float, int]:
    from netsim import load_scenario, run_scenario

    scenario = load_scenario(SCENARIO)
    for app in scenario.data["apps"]:
        if app.get("function") == "client":
            app["args"] = {**app.get("args", {}), "messages": messages, "size": size}
    start = time.perf_counter()
    result = run_scenario(scenario)
    wall = time.perf_counter() - start
    client = result.app("python", node="alice")
    if client.status != "finished":
        raise SystemExit(f"the client did not finish: {client.lines[-3:]}")
    return wall, result.network.now, client.result()["returned"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rates = []
    for k in range(args.runs):
        wall, simulated, sent = one_run(args.messages, args.size)
        rates.append(sent / wall)
        print(f"run={k} messages={sent} size={args.size} wall_s={wall:.3f} "
              f"simulated_s={simulated:g}")
    print(f"smtp_messages_per_s={statistics.median(rates):.1f}")


if __name__ == "__main__":
    main()

"""Every figure of the README's performance table, measured in one sitting.

Runs each benchmark of this folder in turn — never two at once — and, where the table
gives a ratio, the other simulator's run of the same work between netsim's rounds
(A B A B …), so that the machine's drift between hours falls on both sides alike.
Prints each step's ``key=value`` figures as they come and a summary of medians last.

    python benchmarks/sitting.py [--ns3-python .venv-ns3/bin/python] [--quick]

``--ns3-python``: the interpreter of a virtual environment with the ``ns3`` wheel
(``benchmarks/ns3/README.md``); without it the ns-3 rounds are left out. ns.py is
run in this interpreter by ``compare_nspy.py`` (``pip install ns.py``). ``--quick``
leaves out the runs of ten million frames (about eight minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
FIGURE = re.compile(r"\b([A-Za-z_][\w.]*)=([-+]?\d[\d.]*(?:e[-+]?\d+)?)\b")


def run(argv: list[str], label: str, echo: bool = True) -> dict[str, float]:
    """One command's figures: every ``key=number`` it printed, and its wall time;
    ``echo``: print what it printed, for the log."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=HERE.parent)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{label}: exit status {done.returncode}\n{done.stderr[-2000:]}")
    figures = {"process_wall_s": wall}
    text = done.stdout
    if text.lstrip().startswith("{"):                   # the ns-3 scripts print JSON
        figures.update({k: v for k, v in json.loads(text.splitlines()[0]).items()
                        if isinstance(v, (int, float))})
    for key, value in FIGURE.findall(text):
        figures[key] = float(value)
    print(f"  {label} ({wall:.2f} s):", flush=True)
    for line in text.strip().splitlines() if echo else ():
        print(f"    {line}", flush=True)
    return figures


def rounds(steps: list[tuple[str, list[str]]], n: int, echo: bool = True) -> dict[str, list[dict]]:
    """``n`` rounds of the steps, interleaved: A B A B …"""
    seen: dict[str, list[dict]] = {label: [] for label, _ in steps}
    for _ in range(n):
        for label, argv in steps:
            seen[label].append(run(argv, label, echo))
    return seen


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ns3-python", help="python of a virtual environment with the ns3 wheel")
    parser.add_argument("--quick", action="store_true", help="leave out the 10-million-frame runs")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set: hol-blocking and the sweep recompile netsim "
              "each run (small_run.py writes bytecode anyway)")
    ns3 = args.ns3_python
    b = str(HERE)
    summary: dict[str, object] = {}

    print("forwarding, UDP through one router (100-byte datagrams), against ns-3", flush=True)
    steps = [("netsim", [PY, f"{b}/forward.py", "--size", "100"])]
    if ns3:
        steps.append(("ns-3", [ns3, f"{b}/ns3/ns3_line.py", "300000"]))
    got = rounds(steps, args.rounds)
    summary["forward_frames_per_s"] = median(got["netsim"], "frames_per_s")
    if ns3:
        summary["ns3_line_pkts_per_s"] = median(got["ns-3"], "pkts_per_s")
        summary["forward_vs_ns3"] = summary["forward_frames_per_s"] / summary["ns3_line_pkts_per_s"]
    got = rounds([("netsim --no-trace", [PY, f"{b}/forward.py", "--size", "100", "--no-trace"])], 3)
    summary["forward_no_trace_frames_per_s"] = median(got["netsim --no-trace"], "frames_per_s")

    print("the same line against ns.py, one process, interleaved", flush=True)
    got = rounds([("compare_nspy", [PY, f"{b}/compare_nspy.py", "--rounds", str(args.rounds)])], 1)
    summary["nspy"] = {k: got["compare_nspy"][0][k]
                       for k in ("netsim_frames_per_s", "nspy_frames_per_s", "ratio")}

    print("TCP bulk transfer, 20 MB over 1 Gbps / 1 ms, against ns-3", flush=True)
    steps = [("netsim linux", [PY, f"{b}/tcp_bulk.py"])]
    if ns3:
        steps.append(("ns-3", [ns3, f"{b}/ns3/ns3_tcp_bulk.py", "20000000", "--nodes", "2"]))
    got = rounds(steps, args.rounds)
    summary["tcp_bulk_data_segments_per_s"] = median(got["netsim linux"], "data_segments_per_s")
    if ns3:
        summary["ns3_tcp_segments_per_s"] = median(got["ns-3"], "segments_per_s")
        summary["tcp_bulk_vs_ns3"] = (summary["tcp_bulk_data_segments_per_s"]
                                      / summary["ns3_tcp_segments_per_s"])
    got = rounds([("netsim textbook", [PY, f"{b}/tcp_bulk.py", "--stack", "textbook"])], 3)
    summary["tcp_bulk_textbook_data_segments_per_s"] = median(got["netsim textbook"],
                                                              "data_segments_per_s")

    print("end to end, process start to exit, every default output", flush=True)
    for scenario in ("router-chain", "mail-relay"):
        got = rounds([(scenario, [PY, f"{b}/small_run.py", "--scenario", scenario, "--runs", "11"])], 1)
        summary[f"{scenario}_median_s"] = got[scenario][0]["median_s"]
    netsim = shutil.which("netsim") or str(Path(PY).parent / "netsim")
    got = rounds([("netsim --help", [netsim, "--help"])], 7, echo=False)
    summary["help_s"] = median(got["netsim --help"], "process_wall_s")
    got = rounds([("sequence diagram", [PY, f"{b}/sequence_diagram.py"])], 1)
    summary["sequence_60_median_s"] = got["sequence diagram"][0]["median_s"]
    with tempfile.TemporaryDirectory() as out:
        for label, argv in (("hol-blocking", [netsim, "run", "hol-blocking", "-o", out, "-q"]),
                            ("sweep tcp-goodput-vs-loss",
                             [netsim, "sweep", "tcp-goodput-vs-loss", "-o", out + "/sweep", "-q"])):
            summary[label + "_s"] = rounds([(label, argv)], 1)[label][0]["process_wall_s"]

    print("route computation and a large network", flush=True)
    routes = {}
    for routers in (250, 500, 1000, 2000):
        label = f"{routers} routers"
        got = rounds([(label, [PY, f"{b}/scale.py", "--routers", str(routers), "--hosts", "1",
                               "--build-only"])], 1)
        routes[routers] = {k: got[label][0][k] for k in ("build_s", "routes_s")}
    summary["routes"] = routes
    got = rounds([("1000 routers, 18 hosts each", [PY, f"{b}/scale.py", "--routers", "1000",
                                                  "--build-only"])], 1)
    summary["routes_1000_routers_20001_nodes"] = {
        k: got["1000 routers, 18 hosts each"][0][k] for k in ("build_s", "routes_s")}
    got = rounds([("scale", [PY, f"{b}/scale.py"])], 1)["scale"][0]
    summary["scale"] = {k: got[k] for k in ("build_s", "run_s", "peak_rss_mb", "received")}
    got = rounds([("tcp_flows", [PY, f"{b}/tcp_flows.py"])], 3)
    summary["tcp_flow_setup_ms"] = median(got["tcp_flows"], "run_ms_per_flow")

    print("memory", flush=True)
    got = rounds([("1M kept", [PY, f"{b}/forward.py", "--frames", "1000000"])], 1)["1M kept"][0]
    summary["trace_bytes_per_frame"] = got["trace_bytes_per_frame"]
    summary["1M_kept_rss_mb"] = got["peak_rss_mb"]
    got = rounds([("1M streamed", [PY, f"{b}/forward.py", "--frames", "1000000", "--stream"])],
                 1)["1M streamed"][0]
    summary["1M_streamed"] = {k: got[k] for k in ("peak_rss_mb", "streamed_mb", "frames_per_s")}
    if not args.quick:
        for how, extra in (("kept", []), ("streamed", ["--stream"])):
            label = f"10M {how}"
            got = rounds([(label, [PY, f"{b}/forward.py", "--frames", "10000000", *extra])], 1)[label][0]
            summary[f"10M_{how}"] = {k: got[k] for k in ("peak_rss_mb", "frames_per_s")
                                     if k in got}
    got = rounds([("outputs_memory", [PY, f"{b}/outputs_memory.py"])], 1)["outputs_memory"][0]
    summary["outputs_memory"] = got

    print("protocols, whole stack", flush=True)
    for name, key in (("dns_lookups", "lookups_per_s"), ("http_requests", "requests_per_s"),
                      ("http_versions", "requests_per_s"), ("tls", "handshakes_per_s"),
                      ("aio", "smtp_messages_per_s")):
        got = rounds([(name, [PY, f"{b}/{name}.py"])], 1)[name][0]
        summary[name] = {k: v for k, v in got.items() if k != "process_wall_s"}
    got = rounds([("loss_response", [PY, f"{b}/loss_response.py"])], 1)["loss_response"][0]
    summary["loss_response_wall_s"] = got["process_wall_s"]

    print("\nsummary (medians):")
    print(json.dumps(summary, indent=1, sort_keys=False))


if __name__ == "__main__":
    main()

"""A run's ``summary.json`` as one flat row of numbers."""

from __future__ import annotations

from netsim.trace.summary import app_names


def flatten_summary(summary: dict) -> dict:
    """Every number in ``summary`` under a dotted name: ``frames.dropped``,
    ``drops.queue-full``, ``links.r1-r2.lost``, ``tcp-source@client.goodput_bps``,
    ``ping@alice.rtt_avg_ms``; lists by index, ``browser@alice.visits[0].load_time_s``,
    ``traceroute@alice.hops[2].rtt_ms``; booleans as 0/1. Text (hashes, output lines)
    stays in the run's own folder."""
    row: dict = {"end_time": summary.get("end_time"),
                 "stopped": summary.get("stopped") or ""}
    _numbers(row, "frames", summary.get("frames", {}))
    _numbers(row, "drops", summary.get("drops", {}))
    _numbers(row, "links", summary.get("links", {}))
    failed = 0
    apps = summary.get("apps", [])
    for name, app in zip(app_names((a["app"], a["node"]) for a in apps), apps):
        failed += app.get("status") == "failed"
        _numbers(row, name, app.get("result") or {})
    row["apps_failed"] = failed
    return row


def _numbers(row: dict, prefix: str, value) -> None:
    if isinstance(value, bool):
        row[prefix] = int(value)
    elif isinstance(value, (int, float)):
        row[prefix] = value
    elif isinstance(value, dict):
        for key, inner in value.items():
            _numbers(row, f"{prefix}.{key}", inner)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _numbers(row, f"{prefix}[{index}]", inner)

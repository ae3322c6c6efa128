"""The waterfall chart of page loads, as a browser's developer tools draw it: one row per
request, its phases on the time axis — queued (waiting for a connection), DNS lookup,
TCP connect, waiting for the first byte (the request sent, the server thinking, the
answer on its way) and receiving the rest — with answers from the cache marked.

It reads the ``http-fetch`` and ``http-visit`` notes a browser leaves in the trace, one
panel per visit; panels share the time axis (milliseconds after the visit began), so two
visits — or HTTP/1.0 beside HTTP/1.1 — compare at a glance.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

from netsim.viz.render import show

PHASES = (("queued", "#c7c7c7"), ("DNS", "#17a589"), ("connect", "#e67e22"),
          ("waiting (TTFB)", "#27ae60"), ("receiving", "#2e86c1"))
CACHE_COLOR = "#8e44ad"
ROW_HEIGHT = 0.28          # inches
MAX_ROWS = 120


def waterfall_data(trace) -> list[dict]:
    """The page loads in the trace: ``[{node, visit, at, version, load_time, rows: […]}]``."""
    visits: dict[tuple[str, int], dict] = {}
    rows = defaultdict(list)
    for note in trace.notes:
        if note.what == "http-fetch":
            rows[(note.node, note.detail["visit"])].append(note.detail)
        elif note.what == "http-visit":
            visits[(note.node, note.detail["visit"])] = dict(note.detail, node=note.node)
    out = []
    for key in sorted(rows, key=lambda k: (min(r["queued_at"] for r in rows[k]), k)):
        visit = visits.get(key, {"node": key[0], "visit": key[1], "version": "?",
                                 "at": min(r["queued_at"] for r in rows[key]), "load_time": None})
        visit["rows"] = sorted(rows[key], key=lambda r: (r["queued_at"], r.get("sent_at") or 0))
        out.append(visit)
    return out


def _phases(row: dict) -> list[tuple[str, float, float]]:
    """(phase, start, end) in seconds for one request."""
    out = []
    first = [t for t in (row["dns"] and row["dns"][0], row["connect"] and row["connect"][0],
                         row["sent_at"]) if t is not None]
    if first and first[0] > row["queued_at"]:
        out.append(("queued", row["queued_at"], min(first)))
    if row["dns"]:
        out.append(("DNS", *row["dns"]))
    if row["connect"]:
        start = row["connect"][0]
        if row["dns"] and start < row["dns"][1]:
            start = row["dns"][1]
        out.append(("connect", start, row["connect"][1]))
        if row["sent_at"] is not None and row["sent_at"] > row["connect"][1]:
            out.append(("queued", row["connect"][1], row["sent_at"]))
    if row["sent_at"] is not None and row["first_byte_at"] is not None:
        out.append(("waiting (TTFB)", row["sent_at"], row["first_byte_at"]))
    if row["first_byte_at"] is not None and row["done_at"] is not None:
        out.append(("receiving", row["first_byte_at"], row["done_at"]))
    return out


def _label(row: dict) -> str:
    path = urlsplit(row["url"]).path or "/"
    if len(path) > 28:
        path = "…" + path[-27:]
    status = row["status"] if row["status"] is not None else "failed"
    return f"{row['method']} {path}  {status}"


def waterfall(trace, *, title: str | None = None, nodes=None):
    """The figure; None when the trace holds no page load. ``nodes``: only the page
    loads of these nodes' browsers."""
    loads = waterfall_data(trace)
    if nodes is not None:
        loads = [v for v in loads if v["node"] in set(nodes)]
    if not loads:
        return None
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    rows_per = [min(len(v["rows"]), MAX_ROWS) for v in loads]
    heights = [max(n, 2) * ROW_HEIGHT + 0.75 for n in rows_per]
    width = 11.0
    total = sum(heights) + 1.1
    fig = Figure(figsize=(width, total))
    axes = fig.subplots(len(loads), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": heights})[:, 0]
    fig.subplots_adjust(left=2.6 / width, right=1 - 1.9 / width, bottom=0.6 / total,
                        top=1 - 0.45 / total, hspace=0.75 / (sum(heights) / len(heights)))
    colors = dict(PHASES)
    longest = max(((r["done_at"] or r["queued_at"]) - load["at"]) * 1000
                  for load in loads for r in load["rows"][:MAX_ROWS])
    right = max(longest * 1.12, 1.0)
    for ax, load in zip(axes, loads):
        start = load["at"]
        shown = load["rows"][:MAX_ROWS]
        for y, row in enumerate(shown):
            if row["source"] == "cache":
                ax.plot([(row["queued_at"] - start) * 1000], [y], marker="D", color=CACHE_COLOR,
                        markersize=6, linestyle="none")
                ax.annotate("from cache", ((row["queued_at"] - start) * 1000, y), xytext=(8, 0),
                            textcoords="offset points", va="center", fontsize=8, color=CACHE_COLOR)
                continue
            end = row["done_at"] if row["done_at"] is not None else row["queued_at"]
            for phase, a, b in _phases(row):
                ax.barh(y, max((b - a) * 1000, 0.05), left=(a - start) * 1000, height=0.6,
                        color=colors[phase], linewidth=0)
            note = {"304": "304 (cached copy)", "network": ""}.get(row["source"], "")
            if row.get("conditional") and row["source"] == "network":
                note = "changed"
            if row.get("error"):
                note = "failed: " + row["error"].split(" (")[0][:48]
            if note:
                # Beside the bar's end, or before its start where the end is near the edge.
                late = (end - start) * 1000 > 0.6 * right
                ax.annotate(note, ((row["queued_at"] - start) * 1000 if late else (end - start) * 1000, y),
                            xytext=(-5 if late else 5, 0), ha="right" if late else "left",
                            textcoords="offset points", va="center", fontsize=8,
                            color="#c0392b" if row.get("error") else "#555555")
        ax.set_yticks(range(len(shown)))
        ax.set_yticklabels([_label(r) for r in shown], fontsize=8)
        ax.set_ylim(len(shown) - 0.5 if shown else 0.5, -0.5)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        left_out = len(load["rows"]) - len(shown)
        ax.set_title(_title(load) + (f" (first {len(shown)} of {len(load['rows'])} requests)"
                                     if left_out else ""), fontsize=9, loc="left")
    axes[-1].set_xlim(-0.012 * right, right)          # room for a cache mark at 0
    axes[-1].set_xlabel("milliseconds after the visit began (simulated time)")
    handles = [Patch(color=c, label=p) for p, c in PHASES]
    handles.append(Patch(color=CACHE_COLOR, label="from cache (no request)"))
    axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                   frameon=False)
    if title:
        fig.suptitle(title)
    return show(fig)


def _title(load: dict) -> str:
    parts = [f"{load['node']}, visit {load['visit']} at {load['at']:g} s",
             f"HTTP/{load['version']}" + (" pipelined" if load.get("pipeline") else "")]
    if load.get("load_time") is not None:
        parts.append(f"loaded in {load['load_time'] * 1000:.1f} ms, "
                     f"{load.get('requests', 0)} requests on the wire")
    if load.get("error"):
        parts.append("FAILED")
    return " · ".join(parts)

"""The trace as JSON Lines: one object per record or note, in time order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from netsim.trace.recorder import Trace
from netsim.wire.describe import describe


def trace_rows(trace: Trace) -> Iterator[dict]:
    """Records (with each frame decoded once) and notes, merged by time."""
    decoded: dict[int, tuple] = {}
    rows = []
    for order, rec in enumerate(trace.records()):
        d = decoded.get(rec.frame)
        if d is None:
            data = trace.frame_bytes(rec.frame)
            d = decoded[rec.frame] = (len(data), describe(data))
        row = {"t": rec.time, "kind": rec.kind, "node": rec.node, "iface": rec.iface,
               "link": rec.link, "frame": rec.frame, "len": d[0], "protocol": d[1].protocol,
               "src": d[1].src, "dst": d[1].dst, "label": d[1].label}
        if rec.reason:
            row["reason"] = rec.reason
        rows.append((rec.time, 0, order, row))
    for order, note in enumerate(trace.notes):
        rows.append((note.time, 1, order, {"t": note.time, "kind": "note", "node": note.node,
                                           "what": note.what, **note.detail}))
    rows.sort(key=lambda r: r[:3])
    for row in rows:
        yield row[3]


def write_jsonl(trace: Trace, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for row in trace_rows(trace):
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path

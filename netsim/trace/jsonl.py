"""The trace as JSON Lines, complete enough to load back (``netsim diagram`` redraws).

Line one is ``{"kind": "meta", …}`` with the topology and the port table; then one
object per record or note, in time order. A record carries its frame's bytes (hex)
the first time that frame appears, with its cause (``"cause"``: the id of the frame
whose arrival made a node send it, ``"why"``: a trigger such as ``"timeout"``), and
always the decoded label, so the file reads well on its own and loads back into a
:class:`~netsim.trace.Trace`.
"""

from __future__ import annotations

import heapq
import json
from pathlib import Path
from typing import Iterator

from netsim.trace.outfiles import open_new
from netsim.trace.recorder import KIND_NAMES, Cause, Note, Port, Trace


def trace_rows(trace: Trace) -> Iterator[dict]:
    """Records and notes, merged by time, one at a time: the file is written as a
    stream, so a run of millions of frames needs no memory for its rows."""
    return heapq.merge(_record_rows(trace), _note_rows(trace), key=lambda row: row[0])


def _note_rows(trace: Trace):
    # Notes are appended as the run goes, so already in time order; a record comes
    # before a note of the same instant, as before.
    for note in sorted(trace.notes, key=lambda n: n.time):
        yield (note.time, 1), note_row(note)


def _record_rows(trace: Trace):
    seen = bytearray(trace.frame_count)       # a byte a frame: has its hex been written?
    for t, kind, port, frame, reason in trace.ordered():
        first = not seen[frame]
        seen[frame] = 1
        yield (t, 0), record_row(trace, t, kind, port, frame, reason, first)


def record_row(trace: Trace, t: float, kind: int, port: int, frame: int, reason: int,
               first: bool) -> dict:
    """One record's row; the ``first`` of a frame carries its bytes and cause."""
    data = trace.frame_bytes(frame)
    d = trace.describe(frame)
    where = trace.ports[port]
    row = {"t": t, "kind": KIND_NAMES[kind], "node": where.node, "iface": where.iface,
           "link": where.link, "frame": frame, "len": len(data), "protocol": d.protocol,
           "src": d.src, "dst": d.dst, "label": d.label}
    if reason:
        row["reason"] = trace.reason_name(reason)
    if first:
        row["bytes"] = data.hex()
        cause = trace.cause_of(frame)
        if cause.frame >= 0:
            row["cause"] = cause.frame
        if cause.why:
            row["why"] = cause.why
    return row


def note_row(note: Note) -> dict:
    return {"t": note.time, "kind": "note", "node": note.node, "what": note.what, **note.detail}


def meta_row(trace: Trace) -> dict:
    return {"kind": "meta", **trace.meta, "ports": [list(p) for p in trace.ports]}


def write_jsonl(trace: Trace, path: Path) -> Path:
    """The trace as JSON Lines at ``path``, never written through a link planted there
    (:func:`netsim.trace.outfiles.open_new`)."""
    with open_new(Path(path), "w") as out:
        out.write(json.dumps(meta_row(trace), ensure_ascii=False, separators=(",", ":")) + "\n")
        for _key, row in trace_rows(trace):
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def load_jsonl(path: Path) -> Trace:
    """A :class:`Trace` read back from :func:`write_jsonl`'s file."""
    trace = Trace()
    port_of: dict[tuple[str, str], int] = {}
    frames: dict[int, bytes] = {}
    causes: dict[int, Cause] = {}
    times, metas = [], []
    kinds = {name: code for code, name in enumerate(KIND_NAMES)}
    with Path(path).open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                _load_row(trace, json.loads(line), port_of, frames, causes, times, metas, kinds)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                what = "not JSON" if isinstance(exc, json.JSONDecodeError) else \
                    f"not a trace row ({type(exc).__name__}: {exc})"
                raise ValueError(f"{path}:{number}: {what}; was the file cut short or "
                                 "edited?") from None
    count = max(frames, default=-1) + 1
    if any(not 0 <= Trace.unpack_frame(m) < count for m in metas):
        raise ValueError(f"{path}: a record names a frame whose bytes are not in the file")
    trace.load_records(times, metas, [frames.get(i, b"") for i in range(count)],
                       [causes.get(i, Cause(-1, "")) for i in range(count)])
    return trace


def _load_row(trace, row, port_of, frames, causes, times, metas, kinds) -> None:
    if not isinstance(row, dict):
        raise TypeError("a row is a JSON object")
    kind = row.get("kind")
    if kind == "meta":
        trace.meta = {k: v for k, v in row.items() if k not in ("kind", "ports")}
        for node, iface, link in row.get("ports", []):
            port_of[(node, iface)] = len(trace.ports)
            trace.ports.append(Port(node, iface, link))
    elif kind == "note":
        detail = {k: v for k, v in row.items() if k not in ("t", "kind", "node", "what")}
        trace.notes.append(Note(float(row["t"]), row["node"], row["what"], detail))
    elif kind in kinds:
        frame = int(row["frame"])
        if "bytes" in row:
            frames[frame] = bytes.fromhex(row["bytes"])
            causes[frame] = Cause(int(row.get("cause", -1)), str(row.get("why", "")))
        port = port_of.get((row["node"], row["iface"]))
        if port is None:
            port = port_of[(row["node"], row["iface"])] = trace.add_port(
                row["node"], row["iface"], row.get("link", ""))
        times.append(float(row["t"]))
        metas.append(Trace.pack(kinds[kind], port, frame, trace.reason(row.get("reason", ""))))
    else:
        raise ValueError(f"unknown record kind {kind!r}")

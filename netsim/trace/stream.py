"""A trace that writes as the run goes: memory stays flat however long the run.

Records wait in a small buffer only until the simulated clock has passed them (a
record is never stamped before the instant it is made, though a queued frame's ``tx``
may be stamped later than records appended after it), then go, in time order, to
the outputs asked for: a pcap per link, ``trace.jsonl`` (the same rows as
:mod:`netsim.trace.jsonl` writes, notes merged in) and the counts of the summary.
A frame's bytes are kept while a buffered record names it, and forgotten after —
if the frame is recorded again later, its :class:`~netsim.wire.Frame` brings them back.

What cannot be had from a stream is the whole run at once: diagrams and plots read
``trace.jsonl`` afterwards (``netsim diagram OUTDIR``), or a run without streaming.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from pathlib import Path

from netsim.trace.jsonl import meta_row, note_row, record_row
from netsim.trace.outfiles import open_new
from netsim.trace.pcap import _RECORD, file_name, pcap_bytes
from netsim.trace.layout import (DROP, FRAME_SHIFT, PORT_MASK, PORT_SHIFT, REASON_MASK,
                                 REASON_SHIFT, RX, TX)
from netsim.trace.recorder import Trace

#: Records buffered before the ones the clock has passed are written out.
FLUSH_EVERY = 20_000


class StreamingTrace(Trace):
    """A :class:`Trace` whose records go to ``directory`` as the run goes.

    ``outputs``: any of ``pcap``, ``jsonl`` (the summary's counts are always kept).
    ``clock()`` is the simulated time (the network sets it); records stamped before it
    are final."""

    streaming = True

    def __init__(self, directory: Path, outputs=("pcap", "jsonl")) -> None:
        super().__init__(enabled=True)
        self.directory = Path(directory)
        self.outputs = set(outputs)
        self._pcap_on, self._jsonl_on = "pcap" in self.outputs, "jsonl" in self.outputs
        self.clock = lambda: float("inf")
        self._live: dict[int, bytes] = {}          # frame id → bytes, while buffered
        self._live_cause: dict[int, int] = {}      # frame id → cause word, until first written
        self._refs: dict[int, int] = {}            # frame id → buffered records naming it
        self._next_frame = 0
        self._written = 0                          # records written out
        self._seen = bytearray()                   # a byte a frame: written yet?
        self._order = 0                            # tie-break: event order
        self._pending_notes: list = []
        self.counts = _Counts()
        self._pcaps: dict[str, object] = {}
        self._jsonl = None
        self._flush_at = FLUSH_EVERY
        self.record = self._record_streaming

    # -- writing -------------------------------------------------------------------

    def _record_streaming(self, time: float, kind: int, port: int, frame, reason: int = 0) -> None:
        fid = frame.id
        if fid < 0:
            fid = frame.id = self._next_frame
            self._next_frame += 1
            self._live_cause[fid] = self.cause
        self._live[fid] = frame.data
        refs = self._refs
        refs[fid] = refs.get(fid, 0) + 1
        self._times.append(time)
        self._meta.append(fid << FRAME_SHIFT | reason << REASON_SHIFT | port << PORT_SHIFT | kind)
        if len(self._times) >= self._flush_at:
            self.flush(self.clock())
            # Records stamped ahead of the clock (frames queued on a slow link) stay;
            # wait for as many new ones again before sorting them all once more.
            self._flush_at = max(FLUSH_EVERY, 2 * len(self._times))

    def note(self, time: float, node: str, what: str, **detail) -> None:
        super().note(time, node, what, **detail)
        self._pending_notes.extend(self.notes)       # written in time order at the next flush
        self.notes.clear()

    def flush(self, before: float) -> None:
        """Write every buffered record and note stamped before ``before``, in time order."""
        times, metas = self._times, self._meta
        order = sorted(range(len(times)), key=times.__getitem__)
        keep_t, keep_m = array("d"), array("Q")
        ready = []
        for i in order:
            if times[i] < before:
                ready.append(i)
            else:
                keep_t.append(times[i])
                keep_m.append(metas[i])
        notes = [n for n in self._pending_notes if n.time < before]
        self._pending_notes = [n for n in self._pending_notes if n.time >= before]
        k = 0
        for i in ready:
            t = times[i]
            while k < len(notes) and notes[k].time < t:
                self._write_note(notes[k])
                k += 1
            self._write_record(t, metas[i])
        for note in notes[k:]:
            self._write_note(note)
        self._times, self._meta = keep_t, keep_m

    def close(self, links: list[str]) -> None:
        """Write what is left; every link gets its capture, silent ones an empty one."""
        self.flush(float("inf"))
        if "pcap" in self.outputs:
            for link in links:
                self._pcap(link)
            for out in self._pcaps.values():
                out.close()
        if self._jsonl is not None or "jsonl" in self.outputs:
            self._open_jsonl().close()

    def _write_record(self, t: float, m: int) -> None:
        kind, port = m & 0xF, (m >> PORT_SHIFT) & PORT_MASK
        fid, reason = m >> FRAME_SHIFT, (m >> REASON_SHIFT) & REASON_MASK
        data = self._live[fid]
        link = self.ports[port].link
        counts = self.counts
        counts.kinds[kind] += 1
        if kind == DROP:
            counts.drop(link, self._reasons[reason])
        elif link and kind != RX:
            c = counts.links.get(link) or counts.new_link(link)
            if kind == TX:
                c[0] += 1
                c[1] += len(data)
                if self._pcap_on:
                    ns = round(t * 1e9)
                    out = self._pcaps.get(link) or self._pcap(link)
                    out.write(_RECORD.pack(ns // 1_000_000_000, ns % 1_000_000_000, len(data), len(data)))
                    out.write(data)
            else:
                c[2] += 1                                   # enqueued
        if self._jsonl_on:
            if fid >= len(self._seen):
                self._seen.extend(bytes(max(fid + 1 - len(self._seen), 1 << 16)))
            first = not self._seen[fid]
            self._seen[fid] = 1
            row = record_row(self, t, kind, port, fid, reason, first)
            self._open_jsonl().write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._written += 1
        refs = self._refs[fid] - 1
        if refs:
            self._refs[fid] = refs
        else:
            del self._refs[fid], self._live[fid]
            self._live_cause.pop(fid, None)

    def _write_note(self, note) -> None:
        if "jsonl" in self.outputs:
            self._open_jsonl().write(json.dumps(note_row(note), ensure_ascii=False,
                                                separators=(",", ":")) + "\n")

    def _pcap(self, link: str):
        out = self._pcaps.get(link)
        if out is None:
            # Never through a link planted at pcap/ or at the file (netsim.trace.outfiles).
            out = self._pcaps[link] = open_new(self.directory / "pcap" / file_name(link), "wb",
                                               root=self.directory)
            out.write(pcap_bytes([]))
        return out

    def _open_jsonl(self):
        if self._jsonl is None:
            self._jsonl = open_new(self.directory / "trace.jsonl", "w")
            self._jsonl.write(json.dumps(meta_row(self), ensure_ascii=False,
                                         separators=(",", ":")) + "\n")
        return self._jsonl

    # -- reading what a stream still has ---------------------------------------------

    def __len__(self) -> int:
        return self._written + len(self._times)

    @property
    def frame_count(self) -> int:
        return self._next_frame

    def frame_bytes(self, frame_id: int) -> bytes:
        return self._live[frame_id]

    def cause_of(self, frame_id: int):
        from netsim.trace.recorder import Cause
        word = self._live_cause.get(frame_id, 0)
        return Cause((word >> 8) - 1, self._whys[word & 0xFF])

    def describe(self, frame_id: int):
        from netsim.wire.describe import describe
        return describe(self._live[frame_id])

    def raw(self):
        raise RuntimeError("a streaming run keeps no records in memory: read its trace.jsonl "
                           "(netsim.trace.jsonl.load_jsonl, or netsim diagram OUTDIR)")

    ordered = raw

    def memory_bytes(self) -> int:
        import sys
        return (sys.getsizeof(self._live) + sys.getsizeof(self._refs)
                + sys.getsizeof(self._seen) + 16 * len(self._times)
                + sum(sys.getsizeof(b) for b in self._live.values()))


class _Counts:
    """What :func:`netsim.trace.summary.frame_counts` counts, counted as records pass."""

    def __init__(self) -> None:
        self.kinds = [0, 0, 0, 0]                   # by record kind
        self.drops: Counter = Counter()
        #: link → [frames, bytes, queued, lost, queue full]
        self.links: dict[str, list] = {}

    def new_link(self, link: str) -> list:
        c = self.links[link] = [0, 0, 0, 0, 0]
        return c

    def drop(self, link: str, reason: str) -> None:
        self.drops[reason] += 1
        if link and reason in ("loss", "queue-full"):
            c = self.links.get(link) or self.new_link(link)
            c[3 if reason == "loss" else 4] += 1

    def summary(self, distinct: int) -> dict:
        links = {name: {"frames": c[0], "bytes": c[1], "queued": c[2], "lost": c[3],
                        "queue_full": c[4]} for name, c in sorted(self.links.items())}
        return {"frames": {"sent": self.kinds[TX] + self.drops.get("loss", 0),
                           "transmitted": self.kinds[TX], "received": self.kinds[RX],
                           "dropped": self.kinds[DROP], "distinct": distinct},
                "drops": dict(sorted(self.drops.items())), "links": links}

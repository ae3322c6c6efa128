"""Compact trace records: frame bytes kept once, 16 bytes per record.

A record is (time, kind, port, frame id, reason). Times go into an ``array('d')``
and the rest is packed into one 64-bit word of an ``array('Q')``, so a million
frames forwarded over two links cost a few tens of megabytes, not gigabytes of
Python objects. A *port* is one interface of one node (or the node itself, for
records that belong to no interface) and knows the link it is wired to.

Each frame also carries its *cause*: the frame whose arrival made a node send it (a
router's forwarded copy points at the frame it received, an echo reply at its
request, a frame released from the ARP queue at the ARP reply that released it)
and a *why* naming a trigger that is not a frame's arrival alone ("timeout",
"fast-retransmit", "arp-resolved"). Models set :attr:`Trace.cause` while they
handle an event — the channel does it around every delivery — so every frame sent
in that handling inherits it, as a Lamport happened-before edge. It costs one
integer per frame, not per record.

Records are appended in event order. A frame that waits in a queue is recorded
``enqueue`` when it arrives and ``tx`` stamped with the time its first bit leaves,
which may be later than records appended after it: readers that need time order
use :meth:`Trace.records` (sorted, stable) rather than the raw arrays.
"""

from __future__ import annotations

from array import array
from typing import Iterator, NamedTuple

# The kinds and word layout are re-exported: models import FRAME_SHIFT from here.
from netsim.trace.layout import (DROP, ENQUEUE, FRAME_SHIFT, KIND_NAMES, PORT_MASK, PORT_SHIFT,  # noqa: F401
                                 REASON_MASK, REASON_SHIFT, RX, TX)
from netsim.wire.describe import describe

_DESCRIBED_KEPT = 4096


class Port(NamedTuple):
    node: str
    iface: str        # "" for the node itself
    link: str         # "" while not wired


class Record(NamedTuple):
    time: float
    kind: str         # "tx", "rx", "drop", "enqueue"
    node: str
    iface: str
    link: str
    frame: int        # frame id: Trace.frame_bytes(frame)
    reason: str       # why a frame was dropped; "" otherwise
    protocol: str = ""   # the frame decoded: "TCP", "ARP", …
    label: str = ""      # "ICMP echo request id=1 seq=1"

    def __repr__(self) -> str:
        where = f"{self.node}:{self.iface}" if self.iface else self.node
        why = f" ({self.reason})" if self.reason else ""
        return f"<Record {self.time:.6f} s {self.kind}{why} {where} #{self.frame} {self.label}>"


class Cause(NamedTuple):
    """Why a frame was sent: the frame that caused it (-1: none, e.g. a timer or an
    application starting) and a trigger name ("" when the arrival says it all)."""
    frame: int
    why: str


class Note(NamedTuple):
    """A state change or event of a model: ARP entry learned, address assigned, …"""
    time: float
    node: str
    what: str
    detail: dict


class Trace:
    """The record store that every model writes to and every output reads."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._times = array("d")
        self._meta = array("Q")
        self._frames: list[bytes] = []
        self.ports: list[Port] = []
        self._reasons: list[str] = [""]
        self._reason_codes: dict[str, int] = {"": 0}
        self.notes: list[Note] = []
        #: What the network looked like (nodes, interfaces, links): written by the
        #: simulator so that readers — diagrams, topology drawings — need nothing else.
        self.meta: dict = {}
        self._described: dict[int, object] = {}
        #: Per frame: (cause frame id + 1) << 8 | why code (see :meth:`cause_of`).
        self._causes = array("q")
        self._whys: list[str] = [""]
        self._why_codes: dict[str, int] = {"": 0}
        #: The most transmissions a run may make (see :class:`FrameBudgetExceeded`); links
        #: draw it in shares, and :attr:`budget_drawn` is what they have drawn so far.
        self.budget = 1 << 62
        self.budget_drawn = 0
        #: The cause word given to frames first recorded now: set by whoever is
        #: handling an event (:meth:`caused_by`), 0 between events.
        self.cause = 0
        if not enabled:
            self.record = self._record_nothing

    # -- writing (called by the models) -------------------------------------------

    def add_port(self, node: str, iface: str = "", link: str = "") -> int:
        self.ports.append(Port(node, iface, link))
        if len(self.ports) > PORT_MASK:
            raise OverflowError("more than a million ports in one trace")
        return len(self.ports) - 1

    def set_link(self, port: int, link: str) -> None:
        self.ports[port] = self.ports[port]._replace(link=link)

    def reason(self, text: str) -> int:
        """The code of a drop reason, interned on first use."""
        code = self._reason_codes.get(text)
        if code is None:
            code = self._reason_codes[text] = len(self._reasons)
            self._reasons.append(text)
            if code > REASON_MASK:
                raise OverflowError("more than 255 distinct drop reasons")
        return code

    def why(self, text: str) -> int:
        """The code of a trigger name, interned on first use (at most 255)."""
        code = self._why_codes.get(text)
        if code is None:
            code = self._why_codes[text] = len(self._whys)
            self._whys.append(text)
            if code > 0xFF:
                raise OverflowError("more than 255 distinct cause names")
        return code

    def caused_by(self, frame_id: int, why: str = "") -> int:
        """Make frames sent from now on caused by ``frame_id`` (-1: no frame) and ``why``;
        returns the previous cause word, to put back with ``trace.cause = old``."""
        old = self.cause
        self.cause = (frame_id + 1) << 8 | (self.why(why) if why else 0)
        return old

    def record(self, time: float, kind: int, port: int, frame, reason: int = 0) -> None:
        """Append one record; ``frame`` is a :class:`~netsim.wire.Frame`."""
        fid = frame.id
        if fid < 0:
            fid = self.new_frame(frame)
        self._times.append(time)
        self._meta.append(fid << FRAME_SHIFT | reason << REASON_SHIFT | port << PORT_SHIFT | kind)

    def new_frame(self, frame) -> int:
        """Give ``frame`` its id, keeping its bytes and its cause."""
        fid = frame.id = len(self._frames)
        self._frames.append(frame.data)
        self._causes.append(self.cause)
        return fid

    def appender(self, kind: int, port: int):
        """For the hottest call sites — a channel's transmissions, a node's receptions —
        ``(times.append, metas.append, word)``, so that a record costs two appends and no
        call: ``fid = frame.id if frame.id >= 0 else trace.new_frame(frame);
        times_append(t); metas_append(fid << FRAME_SHIFT | word)``. None when this trace
        wants :meth:`record` called (tracing off, or a subclass that streams)."""
        if type(self) is not Trace or not self.enabled:
            return None
        return self._times.append, self._meta.append, port << PORT_SHIFT | kind

    def _record_nothing(self, time: float, kind: int, port: int, frame, reason: int = 0) -> None:
        pass

    def note(self, time: float, node: str, what: str, **detail) -> None:
        if "kind" in detail or "t" in detail:
            raise ValueError(f"a {what!r} note's detail may not use the trace row's keys")
        if self.enabled:
            self.notes.append(Note(time, node, what, detail))

    def __getstate__(self) -> dict:
        """What a copy in another process needs (the pictures drawn beside the run):
        the records, not the cache of decoded frames nor the no-op bound to a trace off."""
        state = dict(self.__dict__)
        state["_described"] = {}
        state.pop("record", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if not self.enabled:
            self.record = self._record_nothing

    # -- reading (called by outputs) ----------------------------------------------

    def __len__(self) -> int:
        return len(self._times)

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    def frame_bytes(self, frame_id: int) -> bytes:
        return self._frames[frame_id]

    def cause_of(self, frame_id: int) -> Cause:
        """What made a node send this frame (see the module docstring)."""
        word = self._causes[frame_id] if frame_id < len(self._causes) else 0
        return Cause((word >> 8) - 1, self._whys[word & 0xFF])

    def describe(self, frame_id: int):
        """The frame decoded (:class:`netsim.wire.describe.Description`). Recent ones are
        kept (a frame's records sit close together in time); the cache is bounded, so
        reading a trace of millions of frames takes no memory in proportion."""
        found = self._described.get(frame_id)
        if found is None:
            if len(self._described) >= _DESCRIBED_KEPT:
                self._described.clear()
            found = self._described[frame_id] = describe(self._frames[frame_id])
        return found

    def raw(self) -> Iterator[tuple[float, int, int, int, int]]:
        """``(time, kind, port, frame, reason)`` codes in append order, no objects built."""
        for t, m in zip(self._times, self._meta):
            yield (t, m & 0xF, (m >> PORT_SHIFT) & PORT_MASK,
                   m >> FRAME_SHIFT, (m >> REASON_SHIFT) & REASON_MASK)

    def order(self):
        """Record indices in time order (stable: equal times keep event order), as a
        compact array (8 bytes a record, where a list of ints would take 36)."""
        import numpy
        return numpy.argsort(numpy.frombuffer(self._times, dtype=numpy.float64), kind="stable")

    def ordered(self) -> Iterator[tuple[float, int, int, int, int]]:
        """Like :meth:`raw`, in time order, one at a time (nothing built in proportion)."""
        times, meta = self._times, self._meta
        for i in map(int, self.order()):
            m = meta[i]
            yield (times[i], m & 0xF, (m >> PORT_SHIFT) & PORT_MASK, m >> FRAME_SHIFT,
                   (m >> REASON_SHIFT) & REASON_MASK)

    def records(self) -> Iterator[Record]:
        """Every record as a :class:`Record`, in time order."""
        ports, reasons = self.ports, self._reasons
        for t, kind, port_id, frame, reason in self.ordered():
            port = ports[port_id]
            d = self.describe(frame)
            yield Record(t, KIND_NAMES[kind], port.node, port.iface, port.link, frame,
                         reasons[reason], d.protocol, d.label)

    def reason_name(self, code: int) -> str:
        return self._reasons[code]

    def load_records(self, times, metas, frames: list[bytes],
                     causes: list[Cause] | None = None) -> None:
        """Fill an empty trace from saved columns (see :mod:`netsim.trace.jsonl`)."""
        self._times.extend(times)
        self._meta.extend(metas)
        self._frames.extend(frames)
        for cause in causes or [Cause(-1, "")] * len(frames):
            self._causes.append((cause.frame + 1) << 8 | (self.why(cause.why) if cause.why else 0))

    @staticmethod
    def unpack_frame(meta: int) -> int:
        return meta >> FRAME_SHIFT

    @staticmethod
    def pack(kind: int, port: int, frame: int, reason: int) -> int:
        return frame << FRAME_SHIFT | reason << REASON_SHIFT | port << PORT_SHIFT | kind

    def to_dataframe(self):
        """One row per record with the decoded frame (needs pandas)."""
        from netsim.trace.table import to_dataframe
        return to_dataframe(self)

    def notes_dataframe(self, what: str | None = None):
        """Model events as a DataFrame, e.g. ``notes_dataframe("tcp-metrics")``."""
        from netsim.trace.table import notes_dataframe
        return notes_dataframe(self, what)

    def _repr_html_(self) -> str:
        from html import escape
        from netsim.trace.summary import frame_counts
        counts = frame_counts(self)
        f = counts["frames"]
        drops = ", ".join(f"{escape(r)}: {n}" for r, n in counts["drops"].items()) or "none"
        return (f"<b>Trace</b> of {escape(str(self.meta.get('name', 'a run')))}: "
                f"{len(self)} records, {self.frame_count} distinct frames, {len(self.notes)} notes; "
                f"{f['sent']} sent on links, {f['dropped']} dropped ({drops}). "
                f"<code>.to_dataframe()</code> lists them.")

    def memory_bytes(self) -> int:
        """Bytes the trace holds beyond the frames' own bytes (records, frame list, objects)."""
        import sys
        per_frame_object = sum(sys.getsizeof(f) - len(f) for f in self._frames)
        return (self._times.itemsize * len(self._times) + self._meta.itemsize * len(self._meta)
                + self._causes.itemsize * len(self._causes)
                + sys.getsizeof(self._frames) + per_frame_object)

"""Choosing what a diagram of a long run shows: the parts of the story a reader needs.

A transfer of 2 MiB is a thousand look-alike segments; a diagram cut at its first
sixty shows a handshake and nothing else. :func:`select` keeps the beginning (the
handshake, the ARP that preceded it), the end (the teardown), and a few messages
around everything that is not routine — a loss, a retransmission, the duplicate
ACKs that triggered it, a window closing or reopening, an application command —
the first of each kind first, then the rest earliest first; room left over carries
the beginning on. What is left out is replaced by an
:class:`Elision` that says how many messages, of which kinds, are not shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from netsim.viz.messages import Message

#: Message kinds (see :mod:`netsim.viz.labels`) that are routine: bulk transfer,
#: duplicate ACKs past the third, hello BPDUs saying what they said before.
ROUTINE = {"data", "ack", "", "bpdu-repeat", "dup-ack-repeat"}
_CONTEXT_BEFORE, _CONTEXT_AFTER = 2, 3


@dataclass(frozen=True, slots=True)
class Elision:
    """Messages left out between two that are shown."""
    count: int
    summary: str          # "150 data segments, 62 ACKs"
    start: float          # send time of the first one left out
    end: float            # send time of the last one left out

    @property
    def text(self) -> str:
        return f"⋯ {self.count} messages not shown: {self.summary} ⋯"


def interest(m: Message) -> int:
    """2: a reader must see it; 1: worth seeing; 0: routine."""
    if m.dropped or m.kind not in ROUTINE and m.kind != "dup-ack":
        return 2
    if m.kind == "dup-ack":
        return 1
    if m.kind.endswith("-repeat"):
        return 0                  # what an earlier message already said
    if m.protocol not in ("TCP", "UDP"):
        return 2                  # ARP, ICMP, RARP, a new BPDU: rare, each tells something
    if m.protocol == "UDP" and not m.label.startswith("UDP #"):
        return 2                  # a probe, an application's line
    return 0


def select(found: list[Message], limit: int) -> list[Message | Elision]:
    """At most ``limit`` messages of ``found`` (in order), with elisions where some are left out."""
    if limit < 1:
        raise ValueError("the limit is at least 1")
    n = len(found)
    if n <= limit:
        return list(found)
    keep: set[int] = set()

    def take(indices) -> None:
        for i in indices:
            if len(keep) >= limit:
                return
            if 0 <= i < n:
                keep.add(i)

    head = max(1, min(12, limit // 5))
    tail = max(1, min(6, limit // 6))
    take(range(head))
    take(range(n - tail, n))
    by_frame = {f: k for k, m in enumerate(found) for f in m.frames}

    def around(i: int) -> list[int]:
        # The message itself first, then the message that caused it (a fast
        # retransmission's third duplicate ACK: never an effect without its cause), then
        # what led to it and what followed.
        causes = [by_frame[f] for f in found[i].causes if f in by_frame]
        return [i, *causes, *range(i - _CONTEXT_BEFORE, i), *range(i + 1, i + 1 + _CONTEXT_AFTER)]

    # First the first of each kind of event — the first loss, the first duplicate ACKs,
    # the retransmission that repaired it — then the rest, earliest first, while room lasts.
    interesting = [i for i, m in enumerate(found) if interest(m)]
    seen: set = set()
    for i in interesting:
        kind = _kind_of(found[i])
        if kind not in seen:
            seen.add(kind)
            take(around(i))
    for i in interesting:
        if len(keep) >= limit:
            break
        if i not in keep:
            take(around(i))
    # Room left: carry the beginning on (a transfer getting under way: slow start) —
    # but not with hellos repeating themselves.
    take(i for i in range(n) if found[i].kind != "bpdu-repeat")
    out: list[Message | Elision] = []
    hidden: list[Message] = []
    for i, m in enumerate(found):
        if i in keep:
            if hidden:
                out.append(_elision(hidden))
                hidden = []
            out.append(m)
        else:
            hidden.append(m)
    if hidden:
        out.append(_elision(hidden))
    return out


def _kind_of(m: Message) -> str:
    return f"dropped {m.dropped}" if m.dropped else m.kind or m.protocol


_KIND_NAMES = {"bpdu-repeat": "repeated BPDUs", "data": "data segments", "ack": "ACKs",
               "dup-ack": "duplicate ACKs", "dup-ack-repeat": "duplicate ACKs",
               "zero-window": "zero-window ACKs", "window-update": "window updates",
               "retransmission": "retransmissions", "fast-retransmission": "fast retransmissions"}


def _elision(hidden: list[Message]) -> Elision:
    kinds = Counter(_KIND_NAMES.get(m.kind) or
                    ("UDP datagrams" if m.protocol == "UDP" else f"{m.protocol} messages")
                    for m in hidden)
    summary = ", ".join(f"{count} {name}" for name, count in kinds.most_common())
    return Elision(len(hidden), summary, hidden[0].sent, hidden[-1].sent)

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

import re
from collections import Counter
from dataclasses import dataclass

from netsim.viz.messages import Message
from netsim.wire import registry

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
    def minor(self) -> bool:
        """Only an ACK or two between shown messages: drawn as a small mark, not a row."""
        return self.count <= 2 and self.summary.endswith(("ACK", "ACKs")) and "," not in self.summary

    @property
    def text(self) -> str:
        if self.count == 1:
            return f"⋯ {self.summary} not shown ⋯"
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


#: Protocols that are the network's own chatter, not what a scenario's applications
#: said: they rank below the applications' messages when a run has any.
CHATTER = {"ARP", "STP", "Ethernet"}
_CODE = re.compile(r"\d{3}-?$|[+-](OK|ERR)$")
_WORD = re.compile(r"[A-Z][A-Za-z]{2,}$")


def said_by_an_application(m: Message) -> bool:
    """A command, reply or datagram of an application protocol (not its TCP segments)."""
    described = registry.find(m.protocol)
    return bool(described is not None and described.messages and m.kind in ("text", ""))


def verb(m: Message) -> str | None:
    """What makes two application messages the same kind of thing said: a command's
    word (``PASV``), a reply's code (``227``, ``+OK``, HTTP's ``304``), a datagram's
    label (``DNS query A www.163.com``); None for the continuation of a longer one."""
    words = m.label.removeprefix("[TLS] ").split()
    if not words:
        return None
    described = registry.find(m.protocol)
    if described is not None and not described.lines:
        return f"{m.protocol} {re.sub(r' [(]relayed[)]$', '', m.label)}"
    if m.protocol == "IMAP" and words[0] not in ("*", "+") and len(words) > 1:
        words = words[1:]                       # the tag: a1 LOGIN → LOGIN
    if words[0].startswith("HTTP/") and len(words) > 1:
        return f"{m.protocol} {words[1]}"
    if words[0] == "*" and len(words) > 1:
        return f"{m.protocol} * {words[1]}"
    if _CODE.match(words[0]) or _WORD.match(words[0]):
        return f"{m.protocol} {words[0].upper()}"
    return None


def select(found: list[Message], limit: int) -> list[Message | Elision]:
    """At most ``limit`` messages of ``found`` (in order), with elisions where some are
    left out. Taken in this order while room lasts: the beginning and the end; the
    first of every distinct command, reply and datagram the applications said; the
    first of each way a message was lost, with what led to it; the SYN that opened
    every connection (who opened it is the difference between FTP's two modes); the
    first of each other event (a retransmission, duplicate ACKs, a window closing) with
    its cause and context; the SYN-ACKs; every other application message; the rest of
    the events; the network's own chatter (ARP); then the beginning carried on."""
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

    said = [i for i, m in enumerate(found) if said_by_an_application(m)]
    chatter = {i for i, m in enumerate(found) if m.protocol in CHATTER and not m.dropped} \
        if said else set()
    head = max(1, min(8, limit // 8))
    tail = max(1, min(6, limit // 10))
    take(range(head))
    take([i for i in range(n) if i not in chatter][-tail:])     # the story's end, not an ARP refresh
    by_frame = {f: k for k, m in enumerate(found) for f in m.frames}

    def around(i: int) -> list[int]:
        # The message itself first, then the message that caused it (a fast
        # retransmission's third duplicate ACK: never an effect without its cause), then
        # what led to it and what followed.
        causes = [by_frame[f] for f in found[i].causes if f in by_frame]
        return [i, *causes, *range(i - _CONTEXT_BEFORE, i), *range(i + 1, i + 1 + _CONTEXT_AFTER)]

    firsts: dict[str, int] = {}
    for i in said:
        key = verb(found[i])
        if key is not None:
            firsts.setdefault(key, i)
    take(sorted(firsts.values()))
    interesting = [i for i, m in enumerate(found) if interest(m) and i not in chatter]
    seen: set = set()
    for i in interesting:
        if found[i].dropped and _kind_of(found[i]) not in seen:
            seen.add(_kind_of(found[i]))
            take(around(i)[:2])                 # the loss and what caused it
    opened = [i for i, m in enumerate(found) if m.kind in ("syn", "open")]
    take(i for i in opened if "SYN,ACK" not in found[i].label)
    for i in interesting:
        kind = _kind_of(found[i])
        if kind not in seen:
            seen.add(kind)
            take(around(i))
    take(opened)
    take(said)
    for i in interesting:
        if len(keep) >= limit:
            break
        if i not in keep:
            take(around(i))
    take(sorted(chatter))
    # Room left: first the gaps of one or two messages (showing them costs the rows
    # their marks would take), then carry the beginning on (a transfer getting under
    # way: slow start) — but not with hellos repeating themselves.
    take(_small_gaps(keep))
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


def _small_gaps(keep: set[int], most: int = 2) -> list[int]:
    """The messages of every stretch of at most ``most`` left out between two kept ones."""
    kept = sorted(keep)
    return [i for a, b in zip(kept, kept[1:]) if 1 < b - a <= most + 1 for i in range(a + 1, b)]


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
    summary = ", ".join(f"{count} {name if count > 1 else name[:-1]}"
                        for name, count in kinds.most_common())
    return Elision(len(hidden), summary, hidden[0].sent, hidden[-1].sent)

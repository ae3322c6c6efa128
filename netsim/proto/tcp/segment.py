"""A TCP segment as an engine sees it: numbers, flags, window, data, SYN options.

Ports are the connection's, so they are not here; the stack adds them when it
builds the frame (:class:`netsim.wire.templates.TcpTemplate`).
"""

from __future__ import annotations

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
_MOD = 1 << 32
_HALF = 1 << 31


def unwrap(value: int, reference: int) -> int:
    """The unwrapped sequence number nearest ``reference`` whose low 32 bits are ``value``
    (engines count sequence numbers from the ISS without wrapping, so ``<`` works)."""
    return reference + ((value - reference + _HALF) % _MOD) - _HALF
_NAMES = ((SYN, "SYN"), (FIN, "FIN"), (RST, "RST"), (PSH, "PSH"), (ACK, "ACK"))


class Segment:
    """Options: ``mss``, ``wscale`` and ``sack_perm`` (SYN only), ``ts`` — (TSval, TSecr),
    RFC 7323 — and ``sack``, up to four (left, right) blocks of 32-bit sequence numbers,
    RFC 2018. The stack lays them out on the wire in Linux's order."""

    __slots__ = ("seq", "ack", "flags", "window", "payload", "mss", "wscale", "sack_perm", "ts",
                 "sack")

    def __init__(self, seq: int, ack: int, flags: int, window: int, payload: bytes = b"",
                 mss: int | None = None, wscale: int | None = None, *, sack_perm: bool = False,
                 ts: tuple[int, int] | None = None, sack: tuple = ()) -> None:
        self.seq = seq
        self.ack = ack
        self.flags = flags
        #: The 16-bit window field as sent (already scaled down).
        self.window = window
        self.payload = payload
        self.mss = mss
        self.wscale = wscale
        self.sack_perm = sack_perm
        self.ts = ts
        self.sack = sack

    @property
    def length(self) -> int:
        """Sequence space consumed: data, plus one each for SYN and FIN."""
        return len(self.payload) + (self.flags & SYN and 1) + (self.flags & FIN and 1)

    def __repr__(self) -> str:
        flags = "|".join(n for bit, n in _NAMES if self.flags & bit) or "-"
        return f"<Segment {flags} seq={self.seq} ack={self.ack} win={self.window} len={len(self.payload)}>"


def copy_segment(seg: Segment) -> Segment:
    return Segment(seg.seq, seg.ack, seg.flags, seg.window, seg.payload, seg.mss, seg.wscale,
                   sack_perm=seg.sack_perm, ts=seg.ts, sack=seg.sack)

"""Wireshark's TCP analysis of one connection direction (epan/dissectors/packet-tcp.c):
what it remembers of each direction (:class:`Flow`: the next sequence number, the last
ACK, the window and its scale, duplicate ACKs) and the flags it sets from them —
duplicate ACKs (RFC 5681 §2), zero windows, window updates, a full window, a lost
segment. :class:`~netsim.wire.fields.CaptureFields` classifies retransmissions with it."""

from __future__ import annotations

from dataclasses import dataclass

from netsim.errors import FrameError
from netsim.wire import headers as h


def before(a: int, b: int) -> bool:
    """Whether sequence number ``a`` comes before ``b`` (RFC 9293 §3.4: modulo 2³²)."""
    return a != b and (b - a) % 2**32 < 2**31


def analysis_events(fwd: Flow, rev: Flow, seq: int, ack: int, flags: int, window: int,
            payload: bytes) -> list[str]:
    """Wireshark's other analysis flags (packet-tcp.c, tcp_analyze_sequence_number): a
    zero window, a segment past a hole ("previous segment not captured"), a keep-alive,
    a window update, data up to the edge of the peer's window, an ACK of data this link
    never carried."""
    found, plain = [], not flags & (h.TCP_SYN | h.TCP_FIN | h.TCP_RST)
    if window == 0 and plain:
        found.append("tcp.analysis.zero_window")
    if fwd.next is not None and before(fwd.next, seq) and not flags & h.TCP_RST:
        found.append("tcp.analysis.lost_segment")
    if fwd.keep_alive(seq, flags, payload):
        found.append("tcp.analysis.keep_alive")
    if (not payload and window and fwd.window is not None and window != fwd.window
            and seq == fwd.next and ack == fwd.lastack and plain):
        found.append("tcp.analysis.window_update")
    if (payload and plain and rev.scale != -1 and rev.lastack is not None
            and (seq + len(payload)) % 2**32
            == (rev.lastack + (rev.window << max(rev.scale, 0))) % 2**32):
        found.append("tcp.analysis.window_full")
    if rev.acked_to is not None and before(rev.acked_to, ack) and flags & h.TCP_ACK:
        found.append("tcp.analysis.ack_lost_segment")
        rev.acked_to = rev.next          # said once for the same hole
    return found


def window_scale(fwd: Flow, rev: Flow, flags: int, options: bytes) -> None:
    """What a SYN says of window scaling (RFC 7323 §2.2: both SYNs must carry the
    option), as Wireshark keeps it (verify_tcp_window_scaling): a shift, or -2 once a
    SYN without the option shows neither side scales."""
    try:
        shift = h.parse_tcp_options(options).get("wscale")
    except FrameError:
        shift = None
    if shift is not None:
        fwd.scale = shift
    if fwd.scale == -1:
        fwd.scale = rev.scale = -2
    elif flags & h.TCP_ACK and rev.scale == -2:
        fwd.scale = -2


@dataclass
class Flow:
    """One direction of a connection, as Wireshark's TCP analysis follows it."""
    next: int | None = None             # the sequence number after the highest seen
    nexttime: float | None = None       # when ``next`` last moved
    acked_to: int | None = None         # the most the peer may ACK of what was seen
    lastack: int | None = None
    lastacktime: float | None = None
    window: int | None = None
    dupacks: int = 0                    # duplicate ACKs since the ACK moved (RFC 5681 §2)
    scale: int = -1                     # window scale shift: -1 unknown, -2 none

    def seen(self, seq: int, ack: int, flags: int, window: int, payload: bytes,
             time: float | None) -> bool:
        """Follows the segment; True when it is a duplicate ACK."""
        # Wireshark's duplicate ACK: no data, SYN, FIN or RST, and the same sequence
        # number, ACK and window as before. Its count restarts when the ACK moves.
        duplicate = bool(not payload and window and window == self.window and seq == self.next
                         and ack == self.lastack
                         and not flags & (h.TCP_SYN | h.TCP_FIN | h.TCP_RST))
        if duplicate:
            self.dupacks += 1
        elif ack != self.lastack:
            self.dupacks = 0            # data with the same ACK keeps the count, as in 4.0
        start = (seq + 1) % 2**32 if flags & h.TCP_SYN else seq
        end = (start + len(payload) + (1 if flags & h.TCP_FIN else 0)) % 2**32
        if self.next is None or flags & h.TCP_SYN or before(self.next, end):
            self.next, self.nexttime = end, time
        if self.acked_to is None or seq == self.acked_to or flags & h.TCP_SYN:
            self.acked_to = self.next    # the end of what arrived without a hole
        if flags & h.TCP_ACK:
            self.lastack, self.lastacktime = ack, time
        self.window = window
        return duplicate

    def keep_alive(self, seq: int, flags: int, payload: bytes) -> bool:
        """Wireshark's keep-alive (RFC 9293 §3.8.4): at most one byte, one before the
        next sequence number — no retransmission, though it repeats a byte."""
        return (len(payload) <= 1 and self.next is not None and seq == (self.next - 1) % 2**32
                and not flags & (h.TCP_SYN | h.TCP_FIN | h.TCP_RST))

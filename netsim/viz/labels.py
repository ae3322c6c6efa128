"""Textbook labels for frames: ``SYN seq=0``, ``ARP who-has 10.0.0.2``, ``250 OK``.

TCP numbers are relative to each direction's initial sequence number, as
textbooks and Wireshark show them. A TCP or UDP payload that starts with a line
of text (an application command or status line) is labelled by that line.
"""

from __future__ import annotations

import re

from netsim.wire import headers as h
from netsim.wire.describe import describe

# An application command or status line: printable, ended by LF or CRLF (RFC 5321,
# RFC 959, RFC 9112 all speak in such lines).
_TEXT_LINE = re.compile(rb"[A-Za-z0-9+*-][\x20-\x7e]{1,120}(?=\r?\n)")
_FLAG_NAMES = ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x10, "ACK"))
TRACEROUTE_PORTS = range(33434, 33434 + 300)


def text_line(payload: bytes) -> str | None:
    """The first line of a payload that is text, or None."""
    match = _TEXT_LINE.match(payload)
    return None if match is None else match.group().decode("ascii")


class Labeller:
    """Labels frames one after another, remembering each TCP direction's ISN."""

    def __init__(self) -> None:
        self._isn: dict[tuple, int] = {}
        self._highest: dict[tuple, int] = {}     # per direction: end of the data seen so far
        self._last_ack: dict[tuple, int] = {}    # per direction: the last pure ACK's number

    def label(self, data: bytes) -> tuple[str, str]:
        """``(protocol, label)`` for one frame."""
        d = describe(data)
        if d.protocol == "ARP":
            # "ARP who-has 10.0.0.2 tell 10.0.0.1" → "ARP who-has 10.0.0.2": the arrow shows the asker.
            return "ARP", d.label.split(" tell ")[0]
        if d.protocol in ("RARP", "Ethernet", "malformed", "IPv4"):
            return d.protocol, d.label
        hlen = (data[14] & 0xF) * 4
        total = int.from_bytes(data[16:18], "big")
        l4 = data[14 + hlen:14 + total]
        ttl = data[22]
        if d.protocol == "ICMP":
            itype = l4[0]
            if itype in (0, 8):
                seq = int.from_bytes(l4[6:8], "big")
                return "ICMP", f"ICMP echo {'request' if itype == 8 else 'reply'} seq={seq}"
            return "ICMP", d.label.split(" (")[0]
        if d.protocol == "UDP":
            payload = l4[8:]
            if d.dport in TRACEROUTE_PORTS:
                return "UDP", f"UDP probe TTL={ttl}"
            line = text_line(payload)
            if line:
                return "UDP", line
            return "UDP", f"UDP {d.sport} → {d.dport} ({len(payload)} B)"
        if d.protocol == "TCP":
            return "TCP", self._tcp(data, l4, d)
        return d.protocol, d.label

    def _tcp(self, data: bytes, l4: bytes, d) -> str:
        src, dst = data[26:30], data[30:34]
        sport, dport, seq, ack, offset_flags = h.TCP.unpack_from(l4)[:5]
        flags = offset_flags & 0x3F
        payload = l4[(offset_flags >> 12) * 4:]
        forward, backward = (src, sport, dst, dport), (dst, dport, src, sport)
        if flags & 0x02 or forward not in self._isn:
            self._isn.setdefault(forward, seq)
        base = self._isn[forward]
        rel_seq = (seq - base) % (1 << 32)
        rel_ack = (ack - self._isn[backward]) % (1 << 32) if backward in self._isn else ack
        names = [n for bit, n in _FLAG_NAMES if flags & bit]
        if flags & 0x04:
            return "RST" + (f" ack={rel_ack}" if flags & 0x10 else "")
        line = text_line(payload) if payload else None
        if line:
            return line
        if flags & 0x02:
            text = ",".join(n for n in names if n != "PSH") + f" seq={rel_seq}"
            return text + (f" ack={rel_ack}" if flags & 0x10 else "")
        if flags & 0x01:
            return f"FIN seq={rel_seq} ack={rel_ack}"
        if payload:
            end = rel_seq + len(payload)
            again = end <= self._highest.get(forward, 0)
            self._highest[forward] = max(end, self._highest.get(forward, 0))
            return f"seq={rel_seq} len={len(payload)}" + (" (retransmission)" if again else "")
        duplicate = self._last_ack.get(forward) == rel_ack
        self._last_ack[forward] = rel_ack
        return f"ACK ack={rel_ack}" + (" (duplicate)" if duplicate else "")


"""ping(8): ICMP echo request and reply (RFC 792), with the real tool's output.

Theory of operation
-------------------
``start(now)`` sends the first echo request at once and one every ``interval``
until ``count`` have gone; each carries ``size`` bytes of data (the first eight are
the send time, as Linux ping does, so the reply alone yields the RTT). A reply whose
identifier is ours is matched by sequence number. After the last request the engine
waits ``wait`` seconds for stragglers, then prints the statistics block and is done.
ICMP errors about our requests (time exceeded, unreachable) are printed as ping
prints them and count as errors, not replies.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from netsim.wire.headers import ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED

_TIMEVAL = struct.Struct("<qq")          # struct timeval on a 64-bit Linux

_ERRORS = {(ICMP_TIME_EXCEEDED, 0): "Time to live exceeded",
           (ICMP_DEST_UNREACH, 0): "Destination Net Unreachable",
           (ICMP_DEST_UNREACH, 1): "Destination Host Unreachable",
           (ICMP_DEST_UNREACH, 3): "Destination Port Unreachable",
           (ICMP_DEST_UNREACH, 4): "Frag needed"}


@dataclass(frozen=True, kw_only=True, slots=True)
class SendEcho:
    """Send an echo request with this sequence number and data."""
    seq: int
    payload: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    """A line of output, as the real tool prints it."""
    text: str


class PingEngine:
    def __init__(self, target: str, target_ip: str, *, count: int = 4, interval: float = 1.0,
                 size: int = 56, wait: float = 2.0) -> None:
        if count < 1 or interval <= 0 or size < 0:
            raise ValueError("ping needs count ≥ 1, interval > 0 and size ≥ 0")
        self.target, self.target_ip = target, target_ip
        self.count, self.interval, self.size, self.wait = count, interval, size, wait
        self.sent = 0
        self.rtts: dict[int, float] = {}          # seq -> RTT in seconds
        self.errors = 0
        self._send_times: dict[int, float] = {}
        self._next_send: float | None = None
        self._deadline: float | None = None
        self.done = False
        self.lines: list[str] = []
        self._out: list = []

    def start(self, now: float) -> None:
        self._say(f"PING {self.target} ({self.target_ip}) {self.size}({self.size + 28}) bytes of data.")
        self._next_send = now
        self.handle_timer(now)

    def _say(self, text: str) -> None:
        self.lines.append(text)
        self._out.append(Line(text=text))

    def _payload(self, now: float) -> bytes:
        """As iputils fills it: the send time as a 64-bit ``struct timeval`` (seconds and
        microseconds, little-endian — Wireshark reads it as "Timestamp from icmp data"),
        then each byte its own offset."""
        usec = round(now * 1e6)
        stamp = _TIMEVAL.pack(usec // 1_000_000, usec % 1_000_000) if self.size >= _TIMEVAL.size else b""
        return stamp + bytes(i & 0xFF for i in range(len(stamp), self.size))

    # -- fed by the host ------------------------------------------------------------

    def _request(self, wire_seq: int) -> int:
        """The request a reply's 16-bit sequence number answers: the latest sent with
        those low bits (the field wraps after 65535, RFC 792; iputils prints the wire's)."""
        return self.sent - ((self.sent - wire_seq) & 0xFFFF)

    def receive_reply(self, seq: int, ttl: int, nbytes: int, src: str, now: float) -> None:
        wire, seq = seq, self._request(seq)
        if self.done or seq not in self._send_times or seq in self.rtts:
            return
        rtt = now - self._send_times[seq]
        self.rtts[seq] = rtt
        # Pinged by name, iputils names the replier: "64 bytes from files (10.0.2.20)".
        who = f"{self.target} ({src})" if self.target != self.target_ip and src == self.target_ip else src
        self._say(f"{nbytes} bytes from {who}: icmp_seq={wire} ttl={ttl} time={_ms(rtt)} ms")
        if len(self.rtts) + self.errors >= self.count and self.sent == self.count:
            self._finish(now)

    def receive_error(self, seq: int, icmp_type: int, code: int, src: str, now: float) -> None:
        wire, seq = seq, self._request(seq)
        if self.done or seq not in self._send_times:
            return
        self.errors += 1
        reason = _ERRORS.get((icmp_type, code), f"ICMP type {icmp_type} code {code}")
        self._say(f"From {src} icmp_seq={wire} {reason}")
        if len(self.rtts) + self.errors >= self.count and self.sent == self.count:
            self._finish(now)

    # -- the sans-I/O contract --------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        if self.done:
            return None
        return self._next_send if self._next_send is not None else self._deadline

    def handle_timer(self, now: float) -> None:
        if self.done:
            return
        if self._next_send is not None and now >= self._next_send:
            self.sent += 1
            self._send_times[self.sent] = now
            self._out.append(SendEcho(seq=self.sent & 0xFFFF, payload=self._payload(now)))
            if self.sent < self.count:
                self._next_send = now + self.interval
            else:
                self._next_send = None
                self._deadline = now + self.wait
        elif self._deadline is not None and now >= self._deadline:
            self._finish(now)

    def _finish(self, now: float) -> None:
        self.done = True
        received = len(self.rtts)
        loss = 100.0 * (self.sent - received) / self.sent if self.sent else 0.0
        span = max(self._send_times.values()) - min(self._send_times.values()) if self._send_times else 0
        self._say("")                                   # iputils: a blank line first
        self._say(f"--- {self.target} ping statistics ---")
        errors = f", +{self.errors} errors" if self.errors else ""
        self._say(f"{self.sent} packets transmitted, {received} received{errors}, "
                  f"{loss:g}% packet loss, time {round(span * 1000)}ms")
        if received:
            s = self.statistics()
            self._say(f"rtt min/avg/max/mdev = {s['min_ms']:.3f}/{s['avg_ms']:.3f}/"
                      f"{s['max_ms']:.3f}/{s['mdev_ms']:.3f} ms")

    def statistics(self) -> dict:
        rtts = [r * 1000 for r in self.rtts.values()]
        if not rtts:
            return {"min_ms": None, "avg_ms": None, "max_ms": None, "mdev_ms": None}
        avg = sum(rtts) / len(rtts)
        mdev = math.sqrt(max(0.0, sum(r * r for r in rtts) / len(rtts) - avg * avg))
        return {"min_ms": min(rtts), "avg_ms": avg, "max_ms": max(rtts), "mdev_ms": mdev}

    def result(self) -> dict:
        received = len(self.rtts)
        return {"target": self.target, "address": self.target_ip, "sent": self.sent,
                "received": received, "errors": self.errors,
                "loss_percent": 100.0 * (self.sent - received) / self.sent if self.sent else None,
                "rtts_ms": {str(seq): rtt * 1000 for seq, rtt in sorted(self.rtts.items())},
                **self.statistics()}


def _ms(seconds: float) -> str:
    """RTT with the precision iputils' ping prints: fewer decimals as it grows."""
    ms = seconds * 1000
    if ms >= 99.95:
        return f"{ms:.0f}"
    if ms >= 9.995:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"

"""traceroute(8): UDP probes with rising TTL, answered by ICMP (RFC 792, RFC 1812 §4.3).

Theory of operation
-------------------
Probes go one at a time, as classic traceroute sends them with ``-q 3 -N 1``: for
TTL 1, 2, … send ``probes`` UDP datagrams to ports 33434, 33435, …, each waiting up
to ``wait`` seconds for an answer. A router whose TTL runs out answers ICMP
time-exceeded; the destination answers port-unreachable, which ends the trace
after that hop's probes. The port quoted inside the ICMP error says which probe it
answers. A hop's line is printed when its last probe is answered or times out::

     2  r2 (10.255.0.2)  1.204 ms  1.187 ms  1.190 ms
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.wire.headers import ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED

BASE_PORT = 33434
_MARKS = {0: "!N", 1: "!H", 2: "!P", 4: "!F", 13: "!X"}


@dataclass(frozen=True, kw_only=True, slots=True)
class SendProbe:
    """Send a UDP probe with this TTL to this destination port."""
    ttl: int
    dport: int
    payload: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    text: str


class TracerouteEngine:
    def __init__(self, target: str, target_ip: int, *, max_hops: int = 30, probes: int = 3,
                 wait: float = 1.0, packet_size: int = 60,
                 names: dict[int, str] | None = None, format_ip=str) -> None:
        if not 1 <= max_hops <= 255 or probes < 1 or wait <= 0 or packet_size < 28:
            raise ValueError("traceroute needs 1 ≤ max_hops ≤ 255, probes ≥ 1, wait > 0, packet_size ≥ 28")
        self.target, self.target_ip = target, target_ip
        self.max_hops, self.probes, self.wait = max_hops, probes, wait
        self.packet_size = packet_size
        self.names = names or {}
        self._fmt = format_ip
        self.hops: list[dict] = []
        self.reached = False
        self.done = False
        self.lines: list[str] = []
        self._out: list = []
        self._ttl = 0
        self._probe = 0            # index within the current hop
        self._port = BASE_PORT - 1
        self._sent_at = 0.0
        self._deadline: float | None = None
        self._answers: list = []   # per probe: (addr, rtt, mark) or None
        self._stop_after_hop = False

    def start(self, now: float) -> None:
        self._say(f"traceroute to {self.target} ({self._fmt(self.target_ip)}), {self.max_hops} hops max, "
                  f"{self.packet_size} byte packets")
        self._next_hop(now)

    def _say(self, text: str) -> None:
        self.lines.append(text)
        self._out.append(Line(text=text))

    def _next_hop(self, now: float) -> None:
        self._ttl += 1
        self._probe = 0
        self._answers = []
        self._send(now)

    def _send(self, now: float) -> None:
        self._port += 1
        self._sent_at = now
        self._deadline = now + self.wait
        payload = bytes(0x40 + i % 0x20 for i in range(self.packet_size - 28))
        self._out.append(SendProbe(ttl=self._ttl, dport=self._port, payload=payload))

    # -- fed by the host --------------------------------------------------------------

    def receive_icmp(self, src: int, icmp_type: int, code: int, quoted_dport: int, now: float) -> None:
        if self.done or quoted_dport != self._port or self._deadline is None:
            return
        if icmp_type == ICMP_TIME_EXCEEDED:
            mark = ""
        elif icmp_type == ICMP_DEST_UNREACH:
            self._stop_after_hop = True
            mark = "" if code == 3 else _MARKS.get(code, f"!<{code}>")
            if code == 3 and src == self.target_ip:
                self.reached = True
        else:
            return
        self._answers.append((src, now - self._sent_at, mark))
        self._advance(now)

    # -- the sans-I/O contract ----------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        return None if self.done else self._deadline

    def handle_timer(self, now: float) -> None:
        if not self.done and self._deadline is not None and now >= self._deadline:
            self._answers.append(None)
            self._advance(now)

    def _advance(self, now: float) -> None:
        self._probe += 1
        if self._probe < self.probes:
            self._send(now)
            return
        self._finish_hop()
        if self._stop_after_hop or self._ttl >= self.max_hops:
            self.done = True
            self._deadline = None
        else:
            self._next_hop(now)

    def _finish_hop(self) -> None:
        # Spacing as traceroute.c prints it: " *" for a silent probe, " name (ip)" when
        # the answering address changes, "  1.234 ms" per answered probe.
        text, last_addr = f"{self._ttl:2d} ", None
        for answer in self._answers:
            if answer is None:
                text += " *"
                continue
            addr, rtt, mark = answer
            if addr != last_addr:
                name = self.names.get(addr)
                text += f" {name} ({self._fmt(addr)})" if name else f" {self._fmt(addr)}"
                last_addr = addr
            text += f"  {rtt * 1000:.3f} ms" + (f" {mark}" if mark else "")
        self._say(text)
        self.hops.append({
            "ttl": self._ttl,
            "probes": [None if a is None else {"address": self._fmt(a[0]), "name": self.names.get(a[0]),
                                               "rtt_ms": a[1] * 1000, "mark": a[2] or None}
                       for a in self._answers],
        })

    def result(self) -> dict:
        return {"target": self.target, "address": self._fmt(self.target_ip), "reached": self.reached,
                "hops": self.hops}

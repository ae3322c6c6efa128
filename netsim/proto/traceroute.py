"""traceroute(8) as Linux's traceroute 2.x runs it by default: UDP probes with rising
TTL, several in flight, answered by ICMP (RFC 792, RFC 1812 §4.3).

Theory of operation
-------------------
Probe *n* (counting from 0) has TTL ``n // probes + 1`` and goes to port
``33434 + n``; the host sends each from a socket of its own, so each has its own
source port. Up to ``in_flight`` probes (``-N``, 16) are outstanding at once, across
hops, and a new one is sent whenever one is done — as ``do_it()`` in traceroute.c
does. A router whose TTL runs out answers ICMP time-exceeded; the destination answers
port-unreachable, and any destination-unreachable is *final*: the trace ends with
that hop, and answers to the later probes already sent are ignored.

How long a probe is waited for is ``-w MAX,HERE,NEAR`` (5, 3, 10): at most ``wait``
seconds; but once another probe of the same hop was answered, only ``HERE`` times
that one's round trip, and once a probe of a later hop was, ``NEAR`` times its round
trip — so a silent hop costs little when the hops beyond it answer, and a slow answer
(three seconds of failed ARP before ``!H``) is still caught.

Probes are reported in order, a hop's line when its last probe is::

     2  r2 (10.255.0.2)  1.204 ms  1.187 ms  1.190 ms

``in_flight: 1`` gives the classic one-probe-at-a-time traceroute (``-N 1``).
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.wire.headers import ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED

BASE_PORT = 33434
_MARKS = {0: "!N", 1: "!H", 2: "!P", 4: "!F", 13: "!X"}
#: traceroute.c's DEF_WAIT_PREC: added to a round trip before it is multiplied.
_WAIT_PRECISION = 0.001


@dataclass(frozen=True, kw_only=True, slots=True)
class SendProbe:
    """Send a UDP probe with this TTL to this destination port, from a new socket."""
    ttl: int
    dport: int
    payload: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    text: str


@dataclass(slots=True)
class _Probe:
    sent_at: float | None = None
    #: (address, round trip, mark) once answered
    answer: tuple | None = None
    done: bool = False
    final: bool = False

    @property
    def rtt(self) -> float | None:
        return self.answer[1] if self.answer is not None else None


class TracerouteEngine:
    def __init__(self, target: str, target_ip: int, *, max_hops: int = 30, probes: int = 3,
                 wait: float = 5.0, here: float = 3.0, near: float = 10.0, in_flight: int = 16,
                 packet_size: int = 60, names: dict[int, str] | None = None,
                 format_ip=str) -> None:
        if not 1 <= max_hops <= 255 or probes < 1 or wait <= 0 or packet_size < 28 \
                or in_flight < 1 or here < 0 or near < 0:
            raise ValueError("traceroute needs 1 ≤ max_hops ≤ 255, probes ≥ 1, wait > 0, "
                             "in_flight ≥ 1, packet_size ≥ 28")
        self.target, self.target_ip = target, target_ip
        self.max_hops, self.probes, self.wait = max_hops, probes, wait
        self.here, self.near, self.in_flight = here, near, in_flight
        self.packet_size = packet_size
        self.names = names or {}
        self._fmt = format_ip
        self.hops: list[dict] = []
        self.reached = False
        self.done = False
        self.lines: list[str] = []
        self._out: list = []
        self._probes = [_Probe() for _ in range(max_hops * probes)]
        self._start = 0                     # the first probe not yet reported
        self._end = len(self._probes)       # one past the last probe to send
        self._answers: list = []            # of the hop being reported
        # traceroute.c: data[i] = 0x40 + (i & 0x3f)
        self._payload = bytes(0x40 + (i & 0x3F) for i in range(packet_size - 28))

    def start(self, now: float) -> None:
        self._say(f"traceroute to {self.target} ({self._fmt(self.target_ip)}), {self.max_hops} hops max, "
                  f"{self.packet_size} byte packets")
        self._pump(now)

    def _say(self, text: str) -> None:
        self.lines.append(text)
        self._out.append(Line(text=text))

    # -- fed by the host --------------------------------------------------------------

    def receive_icmp(self, src: int, icmp_type: int, code: int, quoted_dport: int, now: float) -> None:
        """An ICMP error quoting the probe sent to ``quoted_dport``."""
        n = quoted_dport - BASE_PORT
        if self.done or not self._start <= n < self._end:
            return
        probe = self._probes[n]
        if probe.done or probe.sent_at is None:
            return
        if icmp_type == ICMP_TIME_EXCEEDED:
            mark = ""
        elif icmp_type == ICMP_DEST_UNREACH:
            probe.final = True
            mark = "" if code == 3 else _MARKS.get(code, f"!<{code}>")
            if code == 3 and src == self.target_ip:
                self.reached = True
        else:
            return
        probe.answer, probe.done = (src, now - probe.sent_at, mark), True
        self._pump(now)

    # -- the sans-I/O contract ----------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        if self.done:
            return None
        waiting = [self._probes[n].sent_at + self._timeout(n) for n in range(self._start, self._end)
                   if self._probes[n].sent_at is not None and not self._probes[n].done]
        return min(waiting) if waiting else None

    def handle_timer(self, now: float) -> None:
        if not self.done:
            self._pump(now)

    # -- traceroute.c's main loop --------------------------------------------------------------

    def _pump(self, now: float) -> None:
        """Time out what waited long enough, report what is done in order, and send
        until ``in_flight`` probes are outstanding."""
        outstanding = 0
        n = self._start
        while n < self._end:
            probe = self._probes[n]
            # The deadline as get_timer() computes it: `now - sent_at >= timeout` can miss
            # by a rounding error the instant `sent_at + timeout` names, and the timer
            # would then fire at that instant forever.
            if not probe.done and probe.sent_at is not None and now >= probe.sent_at + self._timeout(n):
                probe.done = True                       # no answer: a star
            if probe.done:
                if n == self._start:
                    self._report(n)
                    self._start += 1
                if probe.final:
                    self._end = min(self._end, (n // self.probes + 1) * self.probes)
                n += 1
                continue
            if probe.sent_at is None:
                probe.sent_at = now
                self._out.append(SendProbe(ttl=n // self.probes + 1, dport=BASE_PORT + n,
                                           payload=self._payload))
            outstanding += 1
            if outstanding >= self.in_flight:
                break
            n += 1
        if self._start >= self._end:
            self.done = True

    def _timeout(self, n: int) -> float:
        """``get_timeout()``: HERE × a round trip of the same hop, else NEAR × one of a
        later hop, else the full wait."""
        first = n - n % self.probes
        for probe in self._probes[first:first + self.probes]:
            if probe.rtt is not None and probe.rtt > 0:
                return min(self.wait, (probe.rtt + _WAIT_PRECISION) * self.here) if self.here else self.wait
        for probe in self._probes[n + 1:self._end]:
            if probe.sent_at is None:
                break
            if probe.rtt is not None and probe.rtt > 0:
                return min(self.wait, (probe.rtt + _WAIT_PRECISION) * self.near) if self.near else self.wait
        return self.wait

    def _report(self, n: int) -> None:
        """Probe ``n`` is the next in order: add it to its hop's line, and say the line
        when it is the hop's last probe (or the last one sent)."""
        if n % self.probes == 0:
            self._answers: list = []
        probe = self._probes[n]
        self._answers.append(probe.answer)
        if n % self.probes == self.probes - 1:
            self._finish_hop(n // self.probes + 1)

    def _finish_hop(self, ttl: int) -> None:
        # Spacing as traceroute.c prints it: " *" for a silent probe, " name (ip)" when
        # the answering address changes, "  1.234 ms" per answered probe.
        text, last_addr = f"{ttl:2d} ", None
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
            "ttl": ttl,
            "probes": [None if a is None else {"address": self._fmt(a[0]), "name": self.names.get(a[0]),
                                               "rtt_ms": a[1] * 1000, "mark": a[2] or None}
                       for a in self._answers],
        })

    def result(self) -> dict:
        return {"target": self.target, "address": self._fmt(self.target_ip), "reached": self.reached,
                "hops": self.hops}

"""``udp-send`` and ``udp-sink``: a constant-rate UDP stream and its receiver."""

from __future__ import annotations

from netsim.apps.base import App
from netsim.sim.schedule import Callback, call_again, call_later


class UdpSend(App):
    """Sends ``count`` datagrams of ``size`` bytes at ``rate`` (or one per ``interval``)."""

    name = "udp-send"
    TARGETS = ("target",)
    SCHEMA = {
        "target": {"type": "string", "description": "node name or IPv4 address to send to"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 9000,
                 "description": "UDP port the datagrams go to"},
        "size": {"type": "integer", "minimum": 0, "maximum": 1472, "default": 1000,
                 "description": "UDP payload bytes per datagram"},
        "count": {"type": "integer", "minimum": 1, "default": 100,
                  "description": "datagrams to send"},
        "rate": {"$ref": "#/$defs/rate", "description": "sending rate of the UDP payload"},
        "interval": {"$ref": "#/$defs/interval", "description": "time between datagrams"},
    }
    REQUIRED = ["target"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "udp-send", "target": "bob", "rate": "20Mbps",
               "count": 60}

    def __init__(self, node, *, target: str, port: int = 9000, size: int = 1000, count: int = 100,
                 rate: float | None = None, interval: float | None = None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.target, self.port, self.size, self.count = target, port, size, count
        self.interval = interval if interval is not None else (size * 8 / rate if rate else 0.001)
        self.sent = 0
        self._remaining = count

    def start(self) -> None:
        _, self._dst = self.resolve(self.target)
        self.socket = self.node.udp_open()
        self._payload = bytes(self.size)
        self._remaining = self.count
        self._tick = Callback(self._send_next)    # one timer, scheduled again per datagram
        self._send_next(None)

    def _send_next(self, _event) -> None:
        # A chain of scheduled calls, as ns-3's OnOffApplication schedules its sends:
        # cheaper than a SimPy process resumed per datagram.
        if self.socket.sendto(self._payload, (self._dst, self.port)):
            self.sent += 1
        self._remaining -= 1
        if self._remaining:
            call_again(self.env, self._tick, self.interval)
        else:
            self.say(f"udp-send: {self.sent} datagrams of {self.size} bytes to "
                     f"{self.target}:{self.port}")

    @property
    def done(self) -> bool:
        return self.started and self._remaining == 0

    def progress(self) -> str:
        return f"{self.sent} of {self.count} datagrams sent"

    def result(self) -> dict:
        return {"target": self.target, "port": self.port, "sent": self.sent, "size": self.size}


class UdpSink(App):
    """Counts the datagrams that reach ``port``."""

    name = "udp-sink"
    SCHEMA = {"port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 9000,
                       "description": "UDP port to count datagrams on"}}
    REQUIRED: list = []
    SERVICE = True
    BINDS = ("udp", 9000)
    EXAMPLE = {"node": "bob", "run": "udp-sink", "port": 9000}

    def __init__(self, node, *, port: int = 9000, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.port = port
        self.received = self.bytes = 0
        self.first = self.last = None
        self._first_bytes = 0

    def start(self) -> None:
        self.socket = self.node.udp_open(self.port)
        self.socket.on_receive = self._on_datagram

    def _on_datagram(self, payload: bytes, _addr, now: float) -> None:
        self.received += 1
        self.bytes += len(payload)
        if self.first is None:
            self.first, self._first_bytes = now, len(payload)
        self.last = now

    def result(self) -> dict:
        # n datagrams arrive over n − 1 gaps: the first marks the start, the bytes after
        # it are what the span carried.
        span = (self.last - self.first) if self.received > 1 else 0.0
        return {"port": self.port, "received": self.received, "bytes": self.bytes,
                "goodput_bps": (self.bytes - self._first_bytes) * 8 / span if span else None}

    def summary_line(self) -> str:
        r = self.result()
        rate = f", {r['goodput_bps'] / 1e6:.2f} Mbit/s" if r["goodput_bps"] else ""
        return f"udp-sink: {self.received} datagrams, {self.bytes} bytes on port {self.port}{rate}"


class UdpEchoServer(App):
    """Sends every datagram back to where it came from (the RFC 862 echo service)."""

    name = "udp-echo-server"
    SCHEMA = {"port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 7,
                       "description": "UDP port to echo on"}}
    REQUIRED: list = []
    SERVICE = True
    BINDS = ("udp", 7)
    EXAMPLE = {"node": "bob", "run": "udp-echo-server"}

    def __init__(self, node, *, port: int = 7, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.port = port
        self.echoed = 0

    def start(self) -> None:
        self.socket = self.node.udp_open(self.port)
        self.socket.on_receive = self._echo

    def _echo(self, payload: bytes, addr, _now) -> None:
        self.echoed += 1
        self.socket.sendto(payload, addr)

    def result(self) -> dict:
        return {"port": self.port, "echoed": self.echoed}

    def summary_line(self) -> str:
        return f"udp-echo-server: echoed {self.echoed} datagrams on port {self.port}"


class UdpEcho(App):
    """Sends ``count`` datagrams to an echo server and times each answer."""

    name = "udp-echo"
    TARGETS = ("target",)
    SCHEMA = {
        "target": {"type": "string", "description": "node name or IPv4 address to send to"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 7,
                 "description": "the echo server's UDP port"},
        "count": {"type": "integer", "minimum": 1, "default": 4, "description": "datagrams to send"},
        "interval": {"$ref": "#/$defs/interval", "default": "1s",
                     "description": "time between datagrams"},
        "size": {"type": "integer", "minimum": 4, "maximum": 1472, "default": 32,
                 "description": "UDP payload bytes (the first 4 number the datagram)"},
    }
    REQUIRED = ["target"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "udp-echo", "target": "bob", "count": 4}

    def __init__(self, node, *, target: str, port: int = 7, count: int = 4, interval: float = 1.0,
                 size: int = 32, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.target, self.port, self.count, self.interval, self.size = target, port, count, interval, size
        self.sent_at: dict[int, float] = {}
        self.rtts: dict[int, float] = {}

    def start(self) -> None:
        _, self._dst = self.resolve(self.target)
        self.socket = self.node.udp_open()
        self.socket.on_receive = self._answer
        self._seq = 0
        self._send(None)

    def _send(self, _event) -> None:
        self._seq += 1
        self.sent_at[self._seq] = self.env.now
        payload = self._seq.to_bytes(4, "big") + bytes(self.size - 4)
        self.socket.sendto(payload, (self._dst, self.port))
        if self._seq < self.count:
            call_later(self.env, self.interval, self._send)

    def _answer(self, payload: bytes, addr, now: float) -> None:
        seq = int.from_bytes(payload[:4], "big")
        if seq in self.sent_at and seq not in self.rtts:
            self.rtts[seq] = now - self.sent_at[seq]
            self.say(f"{len(payload)} bytes from {addr[0]}:{addr[1]}: seq={seq} "
                     f"time={self.rtts[seq] * 1000:.3f} ms")

    @property
    def done(self) -> bool:
        return self.started and len(self.sent_at) == self.count

    def wrap_up(self) -> None:
        super().wrap_up()
        if self.started and self.sent_at:
            sent, got = len(self.sent_at), len(self.rtts)
            self.say(f"udp-echo: {sent} sent, {got} answered, {100 * (sent - got) / sent:.0f}% lost")
            if got == 0 and self.error is None:
                self.error = "no answer"

    def result(self) -> dict:
        return {"target": self.target, "sent": len(self.sent_at), "received": len(self.rtts),
                "rtts_ms": {str(k): v * 1000 for k, v in sorted(self.rtts.items())}}

"""``tcp-source`` and ``tcp-sink``: a bulk transfer and its receiver, checked end to end —
the engines of :mod:`netsim.proto.bulk` on the runtime's driver."""

from __future__ import annotations

import hashlib
import random

from netsim.apps.base import App
from netsim.proto.bulk import BulkSink, BulkSource, Received, Started
from netsim.sim.runtime import StreamDriver, serve
from netsim.units import parse_size, parse_time

_CONNECTION_OPTIONS = {
    "delayed_ack": {"$ref": "#/$defs/time", "description": "delay ACKs up to this long (0: off)"},
    "rto_min": {"$ref": "#/$defs/time", "description": "lowest retransmission timeout (RFC 6298)"},
    "recv_buffer": {"$ref": "#/$defs/size", "description": "receive buffer: the largest window"},
    "msl": {"$ref": "#/$defs/time", "description": "maximum segment lifetime; TIME-WAIT is 2·MSL"},
}


class TcpSource(App):
    """Connects to ``target:port`` and sends ``size`` bytes (or for ``duration``), then closes."""

    name = "tcp-source"
    TARGETS = ("target",)
    SCHEMA = {
        "target": {"type": "string", "description": "node name or IPv4 address to connect to"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5001,
                 "description": "the sink's TCP port"},
        "size": {"$ref": "#/$defs/size", "default": "1MiB", "description": "bytes to send"},
        "duration": {"$ref": "#/$defs/time", "description": "send for this long instead"},
        **_CONNECTION_OPTIONS,
    }
    REQUIRED = ["target"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "tcp-source", "target": "server",
               "size": "200KiB"}
    CHUNK = 65536

    def __init__(self, node, *, target: str, port: int = 5001, size=None, duration=None,
                 at: float = 0.0, **options) -> None:
        super().__init__(node, at=at)
        self.target, self.port = target, port
        self.size = parse_size(size) if size is not None else (None if duration else 1 << 20)
        self.duration = duration
        self.options = options            # TcpConnection's: seconds and bytes
        self._rng = random.Random(self.network.rng.getrandbits(64))
        self.engine: BulkSource | None = None
        self.socket = None
        self.started_at = self.finished_at = None

    def start(self) -> None:
        _, dst = self.resolve(self.target)
        self.started_at = self.env.now
        deadline = self.at + self.duration if self.duration else None
        self.engine = BulkSource(size=self.size, until=deadline, chunk=self.CHUNK,
                                 randbytes=self._rng.randbytes)
        driver = StreamDriver(self, self.engine, on_output=self._on_output, on_end=self._ended)
        driver.connect(dst, self.port, options=self.options)
        self.socket = driver.sock

    @property
    def sent(self) -> int:
        return self.engine.sent if self.engine is not None else 0

    @property
    def done(self) -> bool:
        return self.finished_at is not None or self.error is not None

    def progress(self) -> str:
        conn = self.socket.connection if self.socket else None
        if conn is None:
            return "no connection"
        state = getattr(conn.state, "value", conn.state)
        if self.socket is not None and not self.socket.connected.triggered:
            return f"still connecting ({state}, no answer to its SYN)"
        return f"{conn.bytes_acked} of {self.size if self.size is not None else self.sent} bytes " \
               f"acknowledged, connection {state}"

    def _on_output(self, out) -> None:
        if isinstance(out, Started):
            sock = self.socket
            self.say(f"tcp-source: connected {sock.local[0]}:{sock.local[1]} → "
                     f"{self.target}:{self.port}")

    def _ended(self, driver) -> None:
        if driver.refused is not None:
            # What connect(2) says: ENETUNREACH, ECONNREFUSED, ETIMEDOUT.
            self.error = f"connect: {driver.refused}"
            self.say(f"tcp-source: {self.error}")
            return
        self.finished_at = self.env.now
        r = self.result()
        self.say(f"tcp-source: sent {self.sent} bytes in {r['duration_s']:.3f} s "
                 f"({r['goodput_bps'] / 1e6:.2f} Mbit/s), {r['retransmissions']['segments']} "
                 f"segments retransmitted, closed ({driver.sock.closed.value})")
        if r.get("intact") is not None:
            self.say(f"tcp-source: receiver's SHA-256 {'matches' if r['intact'] else 'DIFFERS'}")

    def _sink(self):
        for app in self.network.apps:
            if isinstance(app, TcpSink) and app.port == self.port and \
                    self.node.network.nodes.get(self.target) is app.node:
                return app
        return None

    def result(self) -> dict:
        conn = self.socket.connection if self.socket else None
        # From connect() to the ACK of the last data byte: TIME-WAIT is not transfer time.
        end = conn.last_data_acked_at if conn and conn.last_data_acked_at is not None else self.env.now
        duration = (end - self.started_at) if self.started_at is not None else 0.0
        acked = conn.bytes_acked if conn else 0
        retrans = {k.replace("-", "_"): v for k, v in conn.retransmissions.items()} if conn else {}
        retrans["segments"] = conn.retransmitted_segments if conn else 0
        digest = self.engine.digest if self.engine is not None else hashlib.sha256().hexdigest()
        result = {"target": self.target, "port": self.port, "bytes_sent": self.sent,
                  "bytes_acked": acked, "sha256_sent": digest,
                  "duration_s": duration, "goodput_bps": acked * 8 / duration if duration else 0.0,
                  "retransmissions": retrans, "error": self.error,
                  "closed": conn.closed_reason if conn else None}
        sink = self._sink()
        if sink is not None and self.done and self.error is None and self.socket is not None:
            # What the sink received on this connection, not on all of its connections.
            got_bytes, got_digest = sink.received_from(*self.socket.local)
            result["bytes_delivered"] = got_bytes
            result["intact"] = got_bytes == self.sent and got_digest == result["sha256_sent"]
        return result


class TcpSink(App):
    """Accepts connections on ``port`` and reads everything (or ``read_rate`` bytes/s)."""

    name = "tcp-sink"
    SCHEMA = {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 5001,
                 "description": "TCP port to listen on"},
        "read_rate": {"$ref": "#/$defs/rate",
                      "description": "read this fast (a slow reader); default: at once"},
        "pause": {"type": "object", "additionalProperties": False, "required": ["at", "for"],
                  "properties": {"at": {"$ref": "#/$defs/time"}, "for": {"$ref": "#/$defs/interval"}},
                  "description": "stop reading for a while ({at: 2s, for: 3s}): the window "
                                 "closes and the sender probes"},
        **_CONNECTION_OPTIONS,
    }
    REQUIRED: list = []
    SERVICE = True
    BINDS = ("tcp", 5001)
    EXAMPLE = {"node": "server", "run": "tcp-sink", "port": 5001}

    def __init__(self, node, *, port: int = 5001, read_rate: float | None = None,
                 pause: dict | None = None, at: float = 0.0, **options) -> None:
        super().__init__(node, at=at)
        self.port = port
        self.read_rate = read_rate
        self.pause = (parse_time(pause["at"]), parse_time(pause["for"])) if pause else None
        self.options = options            # TcpConnection's: seconds and bytes
        self._hash = hashlib.sha256()
        self.bytes = 0
        self.connections = 0
        self.first = self.last = None
        #: (peer address, peer port) → [bytes, SHA-256] of what that connection delivered.
        self._per_connection: dict[tuple[str, int], list] = {}

    @property
    def digest(self) -> str:
        """SHA-256 of everything received, connections in the order their bytes arrived."""
        return self._hash.hexdigest()

    def received_from(self, address: str, port: int) -> tuple[int, str]:
        """(bytes, SHA-256) that the connection from ``address:port`` delivered."""
        got = self._per_connection.get((address, port))
        return (0, hashlib.sha256().hexdigest()) if got is None else (got[0], got[1].hexdigest())

    def start(self) -> None:
        self.listener = serve(self, self.port, self._accepted, options=self.options,
                              on_output=self._on_output, on_end=lambda _driver: self._report())

    def _accepted(self, sock) -> BulkSink:
        self.connections += 1
        self.say(f"tcp-sink: accepted {sock.remote[0]}:{sock.remote[1]}")
        self._per_connection[sock.remote] = [0, hashlib.sha256()]
        pause = (self.pause[0], sum(self.pause)) if self.pause else None     # (start, end)
        return BulkSink(rate=self.read_rate, pause=pause)

    def _on_output(self, driver, out) -> None:
        if isinstance(out, Received):
            self._take(driver.sock, out.data)

    def _take(self, sock, data: bytes) -> None:
        now = self.env.now
        self.first = now if self.first is None else self.first
        self.last = now
        self.bytes += len(data)
        self._hash.update(data)
        mine = self._per_connection[sock.remote]
        mine[0] += len(data)
        mine[1].update(data)

    def _report(self) -> None:
        self.say(f"tcp-sink: received {self.bytes} bytes, SHA-256 {self.digest[:16]}…")

    def result(self) -> dict:
        span = (self.last - self.first) if self.first is not None and self.last != self.first else 0.0
        return {"port": self.port, "connections": self.connections, "bytes": self.bytes,
                "sha256": self.digest, "goodput_bps": self.bytes * 8 / span if span else None}

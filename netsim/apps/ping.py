"""``ping``: ICMP echo to a node or address, printing what Linux ping prints."""

from __future__ import annotations

from netsim.apps.base import App
from netsim.proto.ping import PingEngine, SendEcho
from netsim.sim.runtime import contain
from netsim.wire import headers as h
from netsim.wire.addr import int_to_ip


class Ping(App):
    """Sends ``count`` ICMP echo requests to ``target`` and prints what Linux ping prints."""

    name = "ping"
    TARGETS = ("target",)
    EXAMPLE = {"node": "alice", "at": "1s", "run": "ping", "target": "bob", "count": 3}
    SCHEMA = {
        "target": {"type": "string", "description": "node name or IPv4 address to ping"},
        "count": {"type": "integer", "minimum": 1, "default": 4,
                  "description": "echo requests to send (ping -c)"},
        "interval": {"$ref": "#/$defs/interval", "default": "1s",
                     "description": "time between requests (ping -i)"},
        "size": {"type": "integer", "minimum": 0, "maximum": 1472, "default": 56,
                 "description": "ICMP data bytes (ping -s)"},
        "wait": {"$ref": "#/$defs/interval", "default": "2s",
                 "description": "how long to wait for replies after the last request"},
    }
    REQUIRED = ["target"]

    def __init__(self, node, *, target: str, count: int = 4, interval: float = 1.0,
                 size: int = 56, wait: float = 2.0, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.target = target
        self.ident = self.network.rng.randrange(1, 1 << 16)
        self._params = dict(count=count, interval=interval, size=size, wait=wait)
        self.engine: PingEngine | None = None
        node.icmp_listeners.append(self._on_icmp)

    def start(self) -> None:
        name, self._dst = self.resolve(self.target)
        self.engine = PingEngine(name, int_to_ip(self._dst), **self._params)
        self.driver = self.drive(self.engine)
        self.engine.start(self.env.now)
        self.driver.kick()

    def on_output(self, output) -> None:
        if isinstance(output, SendEcho):
            if not self.node.send_icmp(self._dst, h.ICMP_ECHO_REQUEST, 0, self.ident, output.seq,
                                       output.payload):
                self.say("ping: sendmsg: Network is unreachable")
        else:
            super().on_output(output)

    def _on_icmp(self, src, icmp_type, code, word1, word2, data, ttl, length, now) -> None:
        if self.engine is None:
            return
        if icmp_type == h.ICMP_ECHO_REPLY and word1 == self.ident:
            self._contained(self.engine.receive_reply, word2, ttl, length, int_to_ip(src), now)
        elif icmp_type in (h.ICMP_DEST_UNREACH, h.ICMP_TIME_EXCEEDED) and len(data) >= 28:
            ihl = (data[0] & 0xF) * 4
            quoted = data[ihl:ihl + 8]
            if data[9] == h.IPPROTO_ICMP and len(quoted) == 8 and quoted[0] == h.ICMP_ECHO_REQUEST \
                    and int.from_bytes(quoted[4:6], "big") == self.ident:
                self._contained(self.engine.receive_error, int.from_bytes(quoted[6:8], "big"),
                                icmp_type, code, int_to_ip(src), now)
        else:
            return
        self.driver.kick()

    def _contained(self, function, *args) -> None:
        """An ICMP message into the engine, inside the boundary: its failure is ping's."""
        error = contain(self, function, *args)
        if error is not None:
            self.error = error.message

    @property
    def done(self) -> bool:
        return self.engine is not None and self.engine.done

    def progress(self) -> str:
        e = self.engine
        return f"{e.sent} of {e.count} requests sent, {len(e.rtts)} replies" if e else "not begun"

    def result(self) -> dict:
        if self.engine is None:
            return {"target": self.target, "started": self.started}
        return self.engine.result()

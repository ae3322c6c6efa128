"""``traceroute``: UDP probes with rising TTL, printing what traceroute(8) prints."""

from __future__ import annotations

from netsim.apps.base import App, host_names
from netsim.proto.traceroute import SendProbe, TracerouteEngine
from netsim.sim.runtime import contain
from netsim.wire import headers as h
from netsim.wire.addr import int_to_ip


class Traceroute(App):
    """Sends UDP probes with rising TTL to ``target`` and prints each hop as traceroute(8)."""

    name = "traceroute"
    TARGETS = ("target",)
    EXAMPLE = {"node": "alice", "at": "1s", "run": "traceroute", "target": "files"}
    SCHEMA = {
        "target": {"type": "string", "description": "node name or IPv4 address"},
        "max_hops": {"type": "integer", "minimum": 1, "maximum": 255, "default": 30,
                     "description": "largest TTL tried (traceroute -m)"},
        "probes": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3,
                   "description": "probes per hop (traceroute -q)"},
        "wait": {"$ref": "#/$defs/interval", "default": "5s",
                 "description": "longest wait for a probe's answer (traceroute -w MAX); "
                                "shorter once its hop or a later one has answered"},
        "in_flight": {"type": "integer", "minimum": 1, "maximum": 64, "default": 16,
                      "description": "probes outstanding at once (traceroute -N; 1 for the "
                                     "classic one at a time)"},
        "packet_size": {"type": "integer", "minimum": 28, "maximum": 1500, "default": 60,
                        "description": "IP packet length of a probe"},
        "names": {"type": "boolean", "default": True,
                  "description": "print node names beside addresses (traceroute without -n)"},
    }
    REQUIRED = ["target"]

    def __init__(self, node, *, target: str, max_hops: int = 30, probes: int = 3,
                 wait: float = 5.0, in_flight: int = 16, packet_size: int = 60,
                 names: bool = True, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.target = target
        self._params = dict(max_hops=max_hops, probes=probes, wait=wait, in_flight=in_flight,
                            packet_size=packet_size)
        #: source port -> the probe socket (traceroute 2.x opens one per probe)
        self._sockets: dict = {}
        self._names = names
        self.engine: TracerouteEngine | None = None
        node.icmp_listeners.append(self._on_icmp)

    def start(self) -> None:
        name, self._dst = self.resolve(self.target)
        self.engine = TracerouteEngine(name, self._dst, format_ip=int_to_ip,
                                       names=host_names(self.network) if self._names else None,
                                       **self._params)
        self.driver = self.drive(self.engine)
        self.engine.start(self.env.now)
        self.driver.kick()

    def on_output(self, output) -> None:
        if isinstance(output, SendProbe):
            # traceroute 2.x (mod-udp.c): a socket per probe, connected to the
            # destination, DF clear; so each probe's IP ID starts a counter at random.
            socket = self.node.udp_open(df=False)
            self._sockets[socket.port] = socket
            socket.connect((self._dst, output.dport))
            socket.sendto(output.payload, (self._dst, output.dport), ttl=output.ttl)
        else:
            super().on_output(output)
        if self.engine.done:
            for socket in self._sockets.values():
                socket.close()
            self._sockets.clear()

    def _on_icmp(self, src, icmp_type, code, word1, word2, data, ttl, length, now) -> None:
        if self.engine is None or icmp_type not in (h.ICMP_TIME_EXCEEDED, h.ICMP_DEST_UNREACH):
            return
        if len(data) < 28 or data[9] != h.IPPROTO_UDP:
            return
        ihl = (data[0] & 0xF) * 4
        sport = int.from_bytes(data[ihl:ihl + 2], "big")
        if sport not in self._sockets:
            return
        error = contain(self, self.engine.receive_icmp, src, icmp_type, code,
                        int.from_bytes(data[ihl + 2:ihl + 4], "big"), now)
        if error is not None:
            self.error = error.message
        self.driver.kick()

    @property
    def done(self) -> bool:
        return self.engine is not None and self.engine.done

    def progress(self) -> str:
        return f"{len(self.engine.hops)} hops traced" if self.engine else "not begun"

    def result(self) -> dict:
        if self.engine is None:
            return {"target": self.target, "started": self.started}
        return self.engine.result()

"""RARP (RFC 903): ``rarp-server`` answers diskless hosts; ``rarp-boot`` is such a host."""

from __future__ import annotations

from netsim.apps.base import App
from netsim.proto import rarp
from netsim.proto.host_address import unusable
from netsim.sim.runtime import contain
from netsim.wire import headers as h
from netsim.wire.addr import (BROADCAST_MAC, bytes_to_mac, int_to_ip, ip_to_int, mac_to_bytes,
                              prefix_mask)
from netsim.wire.templates import ArpTemplate


class RarpServer(App):
    """Answers RARP requests from its ``table``: node name or MAC → IPv4 address."""

    name = "rarp-server"
    SCHEMA = {"table": {"type": "object", "minProperties": 1,
                        "additionalProperties": {"$ref": "#/$defs/ipv4"},
                        "description": "node name or MAC address → the IPv4 address it is given"}}
    REQUIRED = ["table"]
    SERVICE = True
    EXAMPLE = {"node": "server", "run": "rarp-server", "table": {"diskless": "10.0.0.50"}}

    def __init__(self, node, *, table: dict[str, str], at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.table = table
        self.engine: rarp.RarpServer | None = None
        self._templates: dict[str, ArpTemplate] = {}

    def start(self) -> None:
        entries = {}
        for who, ip in self.table.items():
            target = self.network.nodes.get(who)
            mac = next(iter(target.interfaces.values())).mac if target else mac_to_bytes(who)
            entries[mac] = ip_to_int(ip)
        self.engine = rarp.RarpServer(entries)
        self.driver = self.drive(self.engine)
        for iface in self.node.interfaces.values():
            self.node.rarp_handlers[iface.name] = lambda *args, i=iface: self._receive(i, *args)

    def _receive(self, iface, op, sha, spa, tha, tpa, now) -> None:
        self._iface = iface
        contain(self, self.engine.receive, op, sha, spa, tha, tpa, now)
        self.driver.kick()

    def on_output(self, output) -> None:
        if isinstance(output, rarp.SendRarpReply):
            iface = self._iface
            template = self._templates.get(iface.name)
            if template is None:
                template = self._templates[iface.name] = ArpTemplate(iface.mac, iface.ip or 0,
                                                                     h.ETHERTYPE_RARP)
            iface.send(template.build(h.RARP_REPLY, output.target_mac, output.target_mac,
                                      output.target_ip))
            self.say(f"rarp-server: {bytes_to_mac(output.target_mac)} is {int_to_ip(output.target_ip)}")

    def result(self) -> dict:
        return {"answered": self.engine.answered if self.engine else 0}

    def summary_line(self) -> str:
        return f"rarp-server: answered {self.result()['answered']} requests"


class RarpBoot(App):
    """A diskless host learning its address by RARP, then announcing it by gratuitous ARP
    if its node announces (``announce: true``; the textbook stack's default).

    Scenarios start it by themselves for a host with ``boot: rarp``.
    """

    name = "rarp-boot"
    SCHEMA = {"prefix": {"type": "integer", "minimum": 0, "maximum": 32, "default": 24,
                         "description": "prefix length of the address it is given"},
              "retry": {"$ref": "#/$defs/interval", "default": "1s",
                        "description": "time between RARP requests while unanswered"},
              "attempts": {"type": "integer", "minimum": 1, "default": 5,
                           "description": "requests sent before giving up"}}
    EXAMPLE = {"node": "diskless", "run": "rarp-boot", "prefix": 24}
    REQUIRED: list = []

    def __init__(self, node, *, prefix: int = 24, retry: float = 1.0, attempts: int = 5,
                 at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.prefix = prefix
        self.iface = next(iter(node.interfaces.values()), None) or node.add_interface()
        self.engine = rarp.RarpClient(self.iface.mac, retry_interval=retry, max_requests=attempts)
        self._template: ArpTemplate | None = None
        node.rarp_handlers[self.iface.name] = self._receive

    def start(self) -> None:
        self.driver = self.drive(self.engine)
        self.engine.start(self.env.now)
        self.driver.kick()

    def _receive(self, op, sha, spa, tha, tpa, now) -> str | None:
        """Feed a RARP frame to the engine; refuse (return the reason) a reply for us that
        assigns an address this host cannot use — a forged or misconfigured server."""
        if op == h.RARP_REPLY and tha == self.iface.mac and self.engine.address is None:
            problem = self._unusable(tpa)
            if problem is not None:
                self.say(f"rarp: refused {int_to_ip(tpa)} from {int_to_ip(spa)}: {problem}")
                self.node.trace.note(now, self.node.name, "rarp-refused", address=int_to_ip(tpa),
                                     server=int_to_ip(spa), problem=problem)
                return "rarp-bad-address"
        error = contain(self, self.engine.receive, op, sha, spa, tha, tpa, now)
        if error is not None:
            self.error = error.message
        self.driver.kick()
        return None

    def _unusable(self, ip: int) -> str | None:
        """Why ``ip``/prefix cannot be this host's address, or None."""
        problem = unusable(ip, self.prefix)
        if problem is not None:
            return problem
        gateway = getattr(self.node, "gateway", None)
        mask = prefix_mask(self.prefix)
        if gateway is not None and ip_to_int(gateway) & mask != ip & mask:
            return f"the gateway {gateway} is not on its /{self.prefix}"
        return None

    def on_output(self, output) -> None:
        mac = self.iface.mac
        if isinstance(output, rarp.SendRarpRequest):
            if self._template is None:
                self._template = ArpTemplate(mac, 0, h.ETHERTYPE_RARP)
            self.iface.send(self._template.build(h.RARP_REQUEST, BROADCAST_MAC, mac, 0))
        elif isinstance(output, rarp.Assigned):
            self.node.set_address(self.iface, int_to_ip(output.ip), self.prefix)
            gateway = getattr(self.node, "gateway", None)
            if gateway is not None:
                self.node.add_route("default", gateway)
            self.say(f"rarp: {bytes_to_mac(mac)} is {int_to_ip(output.ip)}/{self.prefix} "
                     f"(told by {int_to_ip(output.server_ip)} after {self.engine.attempts} "
                     f"request{'s' if self.engine.attempts > 1 else ''})")
            if self.node.announces_learned_address():
                self.node.announce(self.iface)
        elif isinstance(output, rarp.GaveUp):
            self.error = f"no answer after {output.attempts} requests"
            self.say(f"rarp: no answer after {output.attempts} requests; giving up")

    @property
    def done(self) -> bool:
        return self.engine.address is not None or self.error is not None

    def progress(self) -> str:
        return f"no address yet after {self.engine.attempts} requests"

    def result(self) -> dict:
        address = self.engine.address
        return {"mac": bytes_to_mac(self.iface.mac), "attempts": self.engine.attempts,
                "address": None if address is None else f"{int_to_ip(address)}/{self.prefix}"}

"""``dns-poison``: an off-path host floods a resolver with forged answers — the Kaminsky
lesson, in simulated time only (a teaching tool; nothing here can reach a real network).

The host serves a zone of its own (``zone: evil.test``, delegated to it like any other)
so that it can see the queries a resolver sends there; then
:class:`~netsim.proto.dns.forger.Forger` does the rest. Its forged answers go out with
another host's source address — the name's real server, ``spoof`` — as a raw socket
would send them; they are put onto the link the host shares with the resolver, so the
attacker must be on the resolver's network (the classroom's case: a switched LAN, where
it sees none of the resolver's traffic, only what comes to its own port).
"""

from __future__ import annotations

import random

import dns.exception
import dns.message

from netsim.apps.base import App
from netsim.proto.dns import Authority, load_zone
from netsim.proto.dns.forger import Forge, Forger, Query, Say
from netsim.sim.driver import EngineDriver
from netsim.sim.runtime import contain
from netsim.wire.addr import int_to_ip, ip_to_int

PORT = 53


class DnsPoison(App):
    """Poisons (or fails to poison) each resolver's cache for ``name``: two probes through
    its own ``zone`` show how the resolver picks IDs and ports, then ``guesses`` forged
    answers for ``poison`` race the real one; the verdict is the resolver's own answer."""

    name = "dns-poison"
    SCHEMA = {
        "resolvers": {"type": "array", "minItems": 1, "items": {"type": "string"},
                      "description": "the resolvers to attack (node or IPv4), all at once"},
        "poison": {"$ref": "#/$defs/dns_name", "description": "the name to poison: www.bank.test"},
        "spoof": {"type": "string", "description": "the name's real server (node or IPv4): "
                                                   "the source address of the forgeries"},
        "address": {"$ref": "#/$defs/ipv4",
                    "description": "the address to plant (default: this host's)"},
        "zone": {"$ref": "#/$defs/dns_name",
                 "description": "a zone this host serves (delegated to it), for the probes"},
        "guesses": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 500,
                    "description": "forged answers per resolver at most"},
        "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000000, "default": 5000,
                 "description": "forged answers a second"},
        "ttl": {"type": "integer", "minimum": 0, "maximum": 2147483647, "default": 86400,
                "description": "the planted record's TTL"},
    }
    REQUIRED = ["resolvers", "poison", "spoof"]
    EXAMPLE = {"node": "mallory", "at": "1s", "run": "dns-poison", "resolvers": ["resolver"],
               "poison": "www.bank.test", "spoof": "nsbank", "zone": "evil.test"}

    def __init__(self, node, *, resolvers: list[str], poison: str, spoof: str,
                 address: str | None = None, zone: str | None = None, guesses: int = 500,
                 rate: float = 5000.0, ttl: int = 86400, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.resolver_names, self.poison, self.spoof_name = list(resolvers), poison, spoof
        self.address, self.zone = address, zone
        self.guesses, self.rate, self.ttl = guesses, rate, ttl
        self.attacks: dict[str, Forger] = {}

    def start(self) -> None:
        own = self.node.ip
        if own is None and (self.zone or not self.address):
            raise OSError(f"{self.node.name} has no IPv4 address: there is nothing to "
                          + (f"serve {self.zone} from" if self.zone else "send forged answers as"))
        address = self.address or own
        spoof = int_to_ip(self.resolve(self.spoof_name)[1])
        rng = random.Random(f"{self.network.seed}:dns-poison:{self.node.name}:{self.at}")
        if self.zone:
            self.authority = Authority([load_zone(self.zone, [
                "@ SOA ns hostmaster 1 7200 900 1209600 300", "@ NS ns", f"ns A {own}",
                f"* A {own}"])])
            self.server = self.node.udp_open(PORT)
            self.server.on_receive = lambda payload, addr, _now: contain(self, self._serve, payload, addr)
        for index, target in enumerate(self.resolver_names):
            resolver = int_to_ip(self.resolve(target)[1])
            route = self.node.routes.lookup(ip_to_int(resolver))
            if route is None or route.gateway is not None:
                raise OSError(f"{resolver} is not on a link of {self.node.name}: forged answers "
                              "are put onto the resolver's own link")
            probes = [f"probe{n}-{index}.{self.zone}" for n in (1, 2)] if self.zone else []
            engine = Forger(target=self.poison, address=address, spoof=spoof, probes=probes,
                            guesses=self.guesses, rate=self.rate, ttl=self.ttl, rng=rng)
            self.attacks[resolver] = engine
            sock = self.node.udp_open()
            driver = EngineDriver(self.env, engine, self._output(resolver, sock, route.iface, spoof))
            sock.on_receive = self._answers(resolver, engine, driver)
            engine.start(self.env.now)
            driver.kick()

    def _serve(self, payload: bytes, addr) -> None:
        """The host's own name server: it answers, and tells the attack what it saw."""
        answer = self.authority.answer(payload)
        if answer is not None:
            self.server.sendto(answer, addr)
        engine = self.attacks.get(addr[0])
        if engine is None:
            return
        try:
            query = dns.message.from_wire(payload)
        except dns.exception.DNSException:
            return
        if query.question:
            engine.observed(query.id, addr[1], query.question[0].name)

    def _answers(self, resolver: str, engine: Forger, driver):
        def receive(payload, addr, now) -> None:
            if addr == (resolver, PORT):
                contain(self, engine.answered, payload, now)
                driver.kick()
        return receive

    def _output(self, resolver: str, sock, iface, spoof: str):
        def on_output(out) -> None:
            if isinstance(out, Query):
                sock.sendto(out.wire, (resolver, PORT))
            elif isinstance(out, Forge):
                # A raw socket's datagram: the source is the real server's, port 53.
                self.node.send_udp_on(iface, ip_to_int(spoof), PORT, ip_to_int(resolver), out.port,
                                      out.wire)
            elif isinstance(out, Say):
                self.say(f"{resolver}: {out.text}")
        return on_output

    @property
    def done(self) -> bool:
        return bool(self.attacks) and all(e.poisoned is not None for e in self.attacks.values())

    def progress(self) -> str:
        return "; ".join(f"{r}: {e.sent} forged answers sent, no verdict"
                         for r, e in self.attacks.items() if e.poisoned is None)

    def result(self) -> dict:
        return {"poison": self.poison, "resolvers": [
            {"resolver": r, "probes": [{"id": i, "port": p} for i, p in e.seen],
             "counting": e.counting, "guesses_sent": e.sent, "possibilities": e.space,
             "answer": e.answer, "poisoned": e.poisoned} for r, e in self.attacks.items()]}

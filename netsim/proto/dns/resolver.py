"""An iterative, caching resolver (RFC 1034 §5.3.3, RFC 1035 §7, RFC 2308), sans-I/O.

Theory of operation. A lookup for (name, type) first looks in the cache: records
whose TTL has not run out, or a negative answer (NXDOMAIN, or no data) kept for the
SOA's minimum TTL (RFC 2308 §5). Otherwise it picks the servers closest to the name
that the cache knows — the NS records of the longest cached ancestor with addresses,
or the root hints — and asks one without recursion (RD clear). An answer is cached
and returned; a CNAME is cached and followed (the lookup starts again at its target,
at most 8 times); a referral's NS records and glue are cached and the lookup asks
the servers it names; an NS name without glue is itself looked up first. A server
that does not answer within ``timeout`` is given up for the next (``tries`` in
all); a response with TC set is asked again over TCP. With ``forward`` the resolver
asks that server with RD set and caches what comes back.

It never asks an address ``do_not_query`` names — by default the loopback network,
as Unbound's ``do-not-query-localhost: yes``; a driver adds its host's own addresses.
A resolver that asked itself would take its own iterative query for a client's and
ask itself again, at once, forever; with no server left a lookup is SERVFAIL.

Inputs: :meth:`lookup`, :meth:`receive`, :meth:`handle_timer`. Outputs:
:class:`SendQuery` (to a server, over UDP or TCP) and :class:`Resolved` (a
response for the lookup's tag). :attr:`upstream_queries` counts what went out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

MAX_CNAMES = 8
MAX_STEPS = 30


@dataclass(frozen=True, kw_only=True, slots=True)
class SendQuery:
    server: str                # IPv4 address
    wire: bytes
    tcp: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolved:
    tag: object
    response: dns.message.Message     # rcode, answer (CNAMEs then the records), authority
    #: Queries this lookup sent upstream (0: answered from the cache alone).
    upstream: int = 0


@dataclass
class _Task:
    tag: object
    qname: dns.name.Name
    qtype: int
    parent: "_Task | None" = None
    answer: list = field(default_factory=list)     # CNAME chain collected so far
    servers: list = field(default_factory=list)    # the addresses this step may ask
    attempt: int = 0                               # queries sent for this step
    last_server: str = ""
    pending: int | None = None                     # query id outstanding
    deadline: float | None = None
    tcp: bool = False
    cnames: int = 0
    steps: int = 0
    sent: int = 0                                  # queries sent for it and its sub-lookups


class Resolver:
    def __init__(self, *, root_hints: list[tuple[str, str]] | None = None,
                 forward: str | None = None, timeout: float = 2.0, tries: int = 3,
                 seed: int = 0, do_not_query: Callable[[str], bool] | None = None) -> None:
        if not root_hints and not forward:
            raise ValueError("a resolver needs root hints or a server to forward to")
        self.root_hints = list(root_hints or [])
        self.forward = forward
        self.timeout, self.tries = timeout, tries
        self.do_not_query = do_not_query or is_loopback
        self._cache: dict[tuple[dns.name.Name, int], tuple[dns.rrset.RRset, float]] = {}
        self._negative: dict[tuple[dns.name.Name, int], tuple[int, dns.rrset.RRset | None, float]] = {}
        self._tasks: dict[int, _Task] = {}            # by outstanding query id
        self._ids = itertools.count((seed * 7919) % 60000 + 1)
        self._out: list = []
        self.upstream_queries = 0
        self.cache_hits = 0

    # -- inputs -------------------------------------------------------------------------------

    def lookup(self, qname: str | dns.name.Name, qtype: int | str, tag: object, now: float) -> None:
        name = dns.name.from_text(qname) if isinstance(qname, str) else qname
        rdtype = dns.rdatatype.from_text(qtype) if isinstance(qtype, str) else qtype
        self._step(_Task(tag, name, rdtype), now)

    def receive(self, wire: bytes, now: float, server: str | None = None) -> None:
        """A response from ``server`` (None: the caller has checked who sent it). Bytes
        that do not parse, a response to no query outstanding, from another address
        than the one asked or to another question are ignored (RFC 5452 §9.1): the
        query is still waiting, and its timer moves on to the next server."""
        try:
            response = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return
        task = self._tasks.get(response.id)
        if task is None or (server is not None and server != task.last_server) or \
                not response.question or response.question[0].name != task.qname or \
                response.question[0].rdtype != task.qtype:
            return
        del self._tasks[response.id]
        task.pending = task.deadline = None
        if response.flags & dns.flags.TC and not task.tcp:
            task.tcp = True                            # RFC 1035 §4.2.2: ask again over TCP
            self._send(task, task.last_server, now)
            return
        self._take(task, response, now)

    def handle_timer(self, now: float) -> None:
        for qid, task in list(self._tasks.items()):
            if task.deadline is not None and now >= task.deadline:
                del self._tasks[qid]
                task.pending = task.deadline = None
                self._ask(task, now)                   # the next server, or SERVFAIL

    # -- sans-I/O contract ----------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        deadlines = [t.deadline for t in self._tasks.values() if t.deadline is not None]
        return min(deadlines) if deadlines else None

    # -- the algorithm ---------------------------------------------------------------------------

    def _step(self, task: _Task, now: float) -> None:
        task.steps += 1
        if task.steps > MAX_STEPS:
            self._finish(task, dns.rcode.SERVFAIL, now)
            return
        cached = self._cached(task.qname, task.qtype, now)
        if cached is not None:
            self.cache_hits += 1
            task.answer.append(cached)
            self._finish(task, dns.rcode.NOERROR, now)
            return
        negative = self._negative_cached(task.qname, task.qtype, now)
        if negative is not None:
            self.cache_hits += 1
            self._finish(task, negative[0], now, negative[1])
            return
        cname = self._cached(task.qname, dns.rdatatype.CNAME, now)
        if cname is not None and task.qtype != dns.rdatatype.CNAME:
            self._follow(task, cname, now)
            return
        servers = [self.forward] if self.forward else self._closest_servers(task, now)
        if servers is None:
            return                                     # waiting for an NS name's address
        servers = [s for s in servers if not self.do_not_query(s)]
        task.servers, task.attempt, task.tcp = servers, 0, False
        self._ask(task, now)

    def _ask(self, task: _Task, now: float) -> None:
        """The next query of this step: each server in turn, ``tries`` rounds; then SERVFAIL."""
        if not task.servers or task.attempt >= self.tries * len(task.servers):
            self._finish(task, dns.rcode.SERVFAIL, now)
            return
        server = task.servers[task.attempt % len(task.servers)]
        task.attempt += 1
        self._send(task, server, now)

    def _send(self, task: _Task, server: str, now: float) -> None:
        task.last_server = server
        query = dns.message.make_query(task.qname, task.qtype)
        query.id = next(self._ids) % 65536
        if not self.forward:
            query.flags &= ~dns.flags.RD
        task.pending = query.id
        task.deadline = now + self.timeout
        self._tasks[query.id] = task
        self.upstream_queries += 1
        root = task
        while root.parent is not None:
            root = root.parent
        root.sent += 1
        self._out.append(SendQuery(server=server, wire=query.to_wire(), tcp=task.tcp))

    def _take(self, task: _Task, response: dns.message.Message, now: float) -> None:
        rcode = response.rcode()
        soa = next((r for r in response.authority if r.rdtype == dns.rdatatype.SOA), None)
        if rcode == dns.rcode.NXDOMAIN:
            self._remember_negative(task, rcode, soa, now)
            self._finish(task, rcode, now, soa)
            return
        if rcode != dns.rcode.NOERROR:
            self._ask(task, now)                       # REFUSED, SERVFAIL: try another
            return
        for rrset in response.answer:
            self._remember(rrset, now)
        mine = next((r for r in response.answer if r.name == task.qname
                     and r.rdtype == task.qtype), None)
        if mine is not None:
            task.answer.append(mine)
            self._finish(task, dns.rcode.NOERROR, now)
            return
        cname = next((r for r in response.answer if r.name == task.qname
                      and r.rdtype == dns.rdatatype.CNAME), None)
        if cname is not None:
            self._follow(task, cname, now)
            return
        ns = [r for r in response.authority if r.rdtype == dns.rdatatype.NS]
        if ns and not response.flags & dns.flags.AA and not self.forward:
            for rrset in ns + [r for r in response.additional if r.rdtype == dns.rdatatype.A]:
                self._remember(rrset, now)
            self._step(task, now)                      # the referral is in the cache now
            return
        self._remember_negative(task, rcode, soa, now)  # NODATA
        self._finish(task, dns.rcode.NOERROR, now, soa)

    def _follow(self, task: _Task, cname: dns.rrset.RRset, now: float) -> None:
        task.answer.append(cname)
        task.cnames += 1
        if task.cnames > MAX_CNAMES:
            self._finish(task, dns.rcode.SERVFAIL, now)
            return
        task.qname = cname[0].target
        self._step(task, now)

    def _closest_servers(self, task: _Task, now: float) -> list[str] | None:
        """Addresses of the NS of the longest cached ancestor; an NS name with no known
        address is looked up first (then this task goes on)."""
        name = task.qname
        while True:
            ns = self._cached(name, dns.rdatatype.NS, now)
            if ns is not None:
                addresses, missing = [], []
                for rd in sorted(ns, key=lambda r: r.target.to_text()):
                    a = self._cached(rd.target, dns.rdatatype.A, now)
                    if a is not None:
                        addresses += sorted(rd_a.address for rd_a in a)
                    else:
                        missing.append(rd.target)
                if addresses:
                    return addresses
                if missing and not _within(task, missing[0]):
                    sub = _Task(("ns-address", id(task)), missing[0], dns.rdatatype.A, parent=task)
                    self._step(sub, now)
                    return None
            if name == dns.name.root:
                return [address for _name, address in self.root_hints]
            name = name.parent()

    def _finish(self, task: _Task, rcode: int, now: float, soa=None) -> None:
        if task.parent is not None:
            # An NS name's address: its parent lookup goes on (or fails with it).
            parent = task.parent
            if rcode == dns.rcode.NOERROR and task.answer:
                self._step(parent, now)
            else:
                self._finish(parent, dns.rcode.SERVFAIL, now)
            return
        response = dns.message.Message()
        response.flags = dns.flags.QR | dns.flags.RD | dns.flags.RA
        response.set_rcode(rcode)
        response.answer = list(task.answer)
        if soa is not None and not task.answer:
            response.authority = [soa]
        self._out.append(Resolved(tag=task.tag, response=response, upstream=task.sent))

    # -- the cache --------------------------------------------------------------------------------

    def _remember(self, rrset: dns.rrset.RRset, now: float) -> None:
        self._cache[(rrset.name, rrset.rdtype)] = (rrset, now + rrset.ttl)

    def _cached(self, name, rdtype, now):
        entry = self._cache.get((name, rdtype))
        if entry is None or entry[1] <= now:
            return None
        rrset, expires = entry
        aged = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
        aged.update(rrset)
        aged.ttl = max(0, int(expires - now))          # what remains, as a resolver reports it
        return aged

    def _remember_negative(self, task, rcode, soa, now) -> None:
        if soa is None:
            return
        ttl = min(soa.ttl, soa[0].minimum)               # RFC 2308 §5
        self._negative[(task.qname, task.qtype)] = (rcode, soa, now + ttl)

    def _negative_cached(self, name, rdtype, now):
        entry = self._negative.get((name, rdtype))
        if entry is None:
            return None
        rcode, soa, expires = entry
        if expires <= now:
            return None
        return rcode, soa

    def cache_entries(self, now: float) -> list[tuple[str, str, int]]:
        """(name, type, seconds left) of what the cache holds, for summaries."""
        return sorted((n.to_text(), dns.rdatatype.to_text(t), int(e - now))
                      for (n, t), (_r, e) in self._cache.items() if e > now)


def _within(task: _Task, name) -> bool:
    """Would looking ``name`` up need the very answer this task chain is after (a loop)?"""
    while task is not None:
        if task.qname == name:
            return True
        task = task.parent
    return False


def is_loopback(address: str) -> bool:
    """127.0.0.0/8 (RFC 1122 §3.2.1.3)."""
    return address.startswith("127.")

"""An iterative, caching resolver (RFC 1034 §5.3.3, RFC 1035 §7, RFC 2308, RFC 9156),
sans-I/O, that defends itself as a real one does (RFC 5452).

Theory of operation. A lookup for (name, type) first looks in the cache
(:mod:`netsim.proto.dns.cache`): records whose TTL has not run out, or a negative answer
that covers it. Otherwise it picks the servers closest to the name that the cache
knows — the NS records of the longest cached ancestor with addresses, or the root
hints — and asks one without recursion (RD clear). What that server says is first
scrubbed to its bailiwick (:mod:`netsim.proto.dns.scrub`). An answer is cached and
returned; a CNAME is cached and followed (the lookup starts again at its target, at
most 8 times); a referral's NS records and glue are cached and the lookup asks the
servers it names; an NS name without glue is itself looked up first. A server that
does not answer within ``timeout`` is given up for the next (``tries`` in all); a
response with TC set is asked again over TCP. With ``forward`` the resolver asks that
server with RD set and caches what comes back.

Asking as Unbound asks. Every query carries EDNS(0) with DO set and 1232 bytes (a
validating resolver's OPT). With ``qname_minimisation`` (the default, RFC 9156, as
Unbound's ``qname-minimisation: yes``) a server is told only one label more than the
zone it serves: the root is asked ``com. A``, com's server ``163.com. A``, and only
163.com's server hears ``www.163.com``. An answer or NODATA for such a name means no
zone cut there, and the next label is asked of the same server; NXDOMAIN means nothing
exists below either (RFC 8020); an error from a server that cannot cope is answered
by asking it the full name (Unbound's relaxed mode). Without it, every server is asked
the full name — the textbook's walk.

Defences (RFC 5452 §9.1, RFC 2181 §5.4.1). Each UDP query leaves from a random port
(1024–65535, as Unbound draws them) with a random ID, both from the scenario's seeded
generator, and the port is given back when its query is done. A response is taken
only if it comes to the port and ID of a query waiting, from the address asked (port
53, the application checks), with QR set and the question asked; anything else is an
*unwanted reply* (counted, as Unbound's ``unwanted.replies``) and the query waits on.
``randomize=False`` is a resolver of the early 1990s: IDs counted up one by one, one
source port for all its queries, and every record of every answer believed and cached
— the resolver Kaminsky's 2008 attack poisons.

It never asks an address ``do_not_query`` names — by default the loopback network,
as Unbound's ``do-not-query-localhost: yes``; a driver adds its host's own addresses.
A resolver that asked itself would take its own iterative query for a client's and
ask itself again, at once, forever; with no server left a lookup is SERVFAIL.

Inputs: :meth:`lookup`, :meth:`receive`, :meth:`handle_timer`. Outputs:
:class:`SendQuery` (to a server, over UDP from ``port`` or over TCP), :class:`Release`
(a port no query waits on any more) and :class:`Resolved` (a response for the
lookup's tag). :attr:`upstream_queries` counts what went out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from netsim.proto.dns.cache import DEFAULT_SIZE, Cache
from netsim.proto.dns.edns import client_opt
from netsim.proto.dns.scrub import scrub

MAX_CNAMES = 8
MAX_STEPS = 30
#: The source ports Unbound draws from (its ``outgoing-port-permit`` default, 1024–65535).
PORTS = (1024, 65535)
PORT_COUNT = PORTS[1] - PORTS[0] + 1
ID_COUNT = 1 << 16


@dataclass(frozen=True, kw_only=True, slots=True)
class SendQuery:
    server: str                # IPv4 address
    wire: bytes
    tcp: bool = False
    port: int | None = None    # the UDP source port (None over TCP)


@dataclass(frozen=True, slots=True)
class Release:
    """No query waits on UDP ``port`` any more: its socket can close."""
    port: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolved:
    tag: object
    response: dns.message.Message     # rcode, answer (CNAMEs then the records), authority
    #: Queries this lookup sent upstream (0: answered from the cache alone).
    upstream: int = 0
    #: What it asked: "server name type" for each query, in order.
    asked: tuple[str, ...] = ()


@dataclass
class _Task:
    tag: object
    qname: dns.name.Name
    qtype: int
    parent: "_Task | None" = None
    answer: list = field(default_factory=list)     # CNAME chain collected so far
    servers: list = field(default_factory=list)    # the addresses this step may ask
    zone: dns.name.Name = dns.name.root            # the zone those servers serve
    labels: int = 1                                # minimisation: labels past the zone asked
    minimise: bool = True
    edns: bool = True
    asking: tuple = ()                             # (name, type) of the query out
    attempt: int = 0                               # queries sent for this step
    last_server: str = ""
    key: tuple | None = None                       # (port, id) of the query outstanding
    deadline: float | None = None
    tcp: bool = False
    cnames: int = 0
    steps: int = 0
    sent: int = 0                                  # queries sent for it and its sub-lookups
    asked: list = field(default_factory=list)      # the root task's record of them


class Resolver:
    def __init__(self, *, root_hints: list[tuple[str, str]] | None = None,
                 forward: str | None = None, timeout: float = 2.0, tries: int = 3,
                 seed: int = 0, rng: random.Random | None = None, randomize: bool = True,
                 qname_minimisation: bool = True, cache_size: int = DEFAULT_SIZE,
                 do_not_query: Callable[[str], bool] | None = None,
                 port_free: Callable[[int], bool] | None = None) -> None:
        if not root_hints and not forward:
            raise ValueError("a resolver needs root hints or a server to forward to")
        self.root_hints = list(root_hints or [])
        self.forward = forward
        self.timeout, self.tries = timeout, tries
        self.randomize = randomize
        self.qname_minimisation = qname_minimisation and not forward
        self.do_not_query = do_not_query or is_loopback
        self.port_free = port_free or (lambda _port: True)
        self.rng = rng if rng is not None else random.Random(seed)
        self.cache = Cache(cache_size)
        self._tasks: dict[tuple, _Task] = {}          # by (port, id) of the query outstanding
        # A 1990s resolver: one port chosen at start, IDs counted up from where they began.
        self.fixed_port = None if randomize else self._draw_port()
        self._next_id = self.rng.randrange(ID_COUNT)
        self._out: list = []
        self.upstream_queries = 0
        self.cache_hits = 0
        #: Responses that matched no query waiting (wrong port, ID, address or question).
        self.unwanted = 0
        #: Records dropped because the server that sent them had no authority for them.
        self.out_of_bailiwick = 0

    # -- inputs -------------------------------------------------------------------------------

    def lookup(self, qname: str | dns.name.Name, qtype: int | str, tag: object, now: float) -> None:
        name = dns.name.from_text(qname) if isinstance(qname, str) else qname
        rdtype = dns.rdatatype.from_text(qtype) if isinstance(qtype, str) else qtype
        self._step(_Task(tag, name, rdtype), now)

    def receive(self, wire: bytes, now: float, server: str | None = None,
                port: int | None = None) -> None:
        """A response from ``server`` (None: the caller has checked who sent it) that
        came to UDP ``port`` (None: on a TCP connection of the query's own). Bytes that
        do not parse and a response to no query waiting on that port with that ID, from
        another address than the one asked, without QR or to another question are
        unwanted (RFC 5452 §9.1): the query is still waiting, and its timer moves on."""
        try:
            response = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            self.unwanted += 1
            return
        key = (port, response.id)
        task = self._tasks.get(key)
        if task is None or (server is not None and server != task.last_server) or \
                not response.flags & dns.flags.QR or response.opcode() != dns.opcode.QUERY or \
                len(response.question) != 1 or \
                (response.question[0].name, response.question[0].rdtype,
                 response.question[0].rdclass) != (*task.asking, dns.rdataclass.IN):
            self.unwanted += 1
            return
        self._done(key, task)
        if response.flags & dns.flags.TC and not task.tcp:
            task.tcp = True                            # RFC 1035 §4.2.2: ask again over TCP
            self._send(task, task.last_server, now)
            return
        self._take(task, response, now)

    def handle_timer(self, now: float) -> None:
        for key, task in list(self._tasks.items()):
            if task.deadline is not None and now >= task.deadline:
                self._done(key, task)
                self._ask(task, now)                   # the next server, or SERVFAIL

    # -- sans-I/O contract ----------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        deadlines = [t.deadline for t in self._tasks.values() if t.deadline is not None]
        return min(deadlines) if deadlines else None

    @property
    def answer_space(self) -> int:
        """How many (port, ID) pairs a forger must choose among for one query: 2^16 IDs
        times the ports; a counting resolver with one port gives it away (1)."""
        return ID_COUNT * PORT_COUNT if self.randomize else 1

    # -- the algorithm ---------------------------------------------------------------------------

    def _step(self, task: _Task, now: float) -> None:
        task.steps += 1
        if task.steps > MAX_STEPS:
            self._finish(task, dns.rcode.SERVFAIL, now)
            return
        cached = self.cache.get(task.qname, task.qtype, now)
        if cached is not None:
            self.cache_hits += 1
            task.answer.append(cached)
            self._finish(task, dns.rcode.NOERROR, now)
            return
        negative = self.cache.negative(task.qname, task.qtype, now)
        if negative is not None:
            self.cache_hits += 1
            self._finish(task, negative[0], now, negative[1])
            return
        cname = self.cache.get(task.qname, dns.rdatatype.CNAME, now)
        if cname is not None and task.qtype != dns.rdatatype.CNAME:
            self._follow(task, cname, now)
            return
        if self.forward:
            servers, zone = [self.forward], dns.name.root
        else:
            found = self._closest_servers(task, now)
            if found is None:
                return                                 # waiting for an NS name's address
            servers, zone = found
        if zone != task.zone:
            task.zone, task.labels = zone, 1           # a new zone: minimise from its cut
        task.servers = [s for s in servers if not self.do_not_query(s)]
        task.attempt, task.tcp = 0, False
        task.asking = self._question(task)
        self._ask(task, now)

    def _question(self, task: _Task) -> tuple:
        """What this step asks: the full question, or (RFC 9156 §3) the zone plus
        ``task.labels`` labels of the name, type A, while that is still above the name."""
        depth = len(task.zone.labels) + task.labels
        if not self.qname_minimisation or not task.minimise or depth >= len(task.qname.labels):
            return task.qname, task.qtype
        return dns.name.Name(task.qname.labels[-depth:]), dns.rdatatype.A

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
        name, rdtype = task.asking
        query = dns.message.make_query(name, rdtype)
        if not self.forward:
            query.flags &= ~dns.flags.RD
        if task.edns:
            client_opt(query, do=True)
        port = None if task.tcp else self.fixed_port
        if port is None and not task.tcp:
            port = self._draw_port()
        query.id = self._draw_id(port)
        task.key = (port, query.id)
        task.deadline = now + self.timeout
        self._tasks[task.key] = task
        self.upstream_queries += 1
        root = task
        while root.parent is not None:
            root = root.parent
        root.sent += 1
        root.asked.append(f"{server} {name.to_text()} {dns.rdatatype.to_text(rdtype)}"
                          + (" (TCP)" if task.tcp else ""))
        self._out.append(SendQuery(server=server, wire=query.to_wire(), tcp=task.tcp, port=port))

    def _draw_port(self) -> int:
        for _ in range(1000):
            port = self.rng.randint(*PORTS)
            if self.port_free(port) and not any(k[0] == port for k in self._tasks):
                return port
        raise RuntimeError("no free UDP port to send a query from")

    def _draw_id(self, port: int | None) -> int:
        if not self.randomize:
            self._next_id = (self._next_id + 1) % ID_COUNT
            return self._next_id
        while True:
            qid = self.rng.randrange(ID_COUNT)
            if (port, qid) not in self._tasks:
                return qid

    def _done(self, key: tuple, task: _Task) -> None:
        """The query under ``key`` waits no more; a port of its own goes back."""
        del self._tasks[key]
        task.key = task.deadline = None
        if key[0] is not None and key[0] != self.fixed_port:
            self._out.append(Release(key[0]))

    def _take(self, task: _Task, response: dns.message.Message, now: float) -> None:
        rcode = response.rcode()
        if rcode in (dns.rcode.FORMERR, dns.rcode.NOTIMP) and response.edns < 0 and task.edns:
            task.edns = False                          # a server from before EDNS: ask plainly
            self._send(task, task.last_server, now)
            return
        name, rdtype = task.asking
        if self.randomize:
            self.out_of_bailiwick += scrub(response, name, rdtype, task.zone)
        else:
            for rrset in response.additional:          # believed, whoever said it
                self._remember(rrset, now)
        soa = next((r for r in response.authority if r.rdtype == dns.rdatatype.SOA), None)
        if (name, rdtype) != (task.qname, task.qtype):
            self._take_minimised(task, response, rcode, soa, now)
            return
        if rcode == dns.rcode.NXDOMAIN:
            self.cache.put_negative(task.qname, task.qtype, rcode, soa, now)
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
        if self._referral(task, response, now):
            return
        self.cache.put_negative(task.qname, task.qtype, rcode, soa, now)    # NODATA
        self._finish(task, dns.rcode.NOERROR, now, soa)

    def _take_minimised(self, task: _Task, response, rcode: int, soa, now: float) -> None:
        """The answer to a minimised question (RFC 9156 §3)."""
        name = task.asking[0]
        if rcode == dns.rcode.NXDOMAIN:                # nothing at or below it (RFC 8020)
            self.cache.put_negative(name, dns.rdatatype.A, rcode, soa, now)
            self._finish(task, rcode, now, soa)
            return
        if rcode != dns.rcode.NOERROR:                 # a server that cannot cope: full name
            task.minimise = False
            task.asking = self._question(task)
            self._send(task, task.last_server, now)
            return
        if self._referral(task, response, now):
            return
        for rrset in response.answer:                  # no zone cut here: one label more
            self._remember(rrset, now)
        task.labels += 1
        self._step(task, now)

    def _referral(self, task: _Task, response, now: float) -> bool:
        """A referral downward, toward the name (NS of a zone below the one asked, AA
        clear): cached, and the lookup goes on from it. An upward or sideways one is a
        lame server's, and only lets the next server be asked."""
        ns = [r for r in response.authority if r.rdtype == dns.rdatatype.NS]
        if not ns or response.flags & dns.flags.AA or self.forward:
            return False
        if not all(r.name != task.zone and r.name.is_subdomain(task.zone) for r in ns):
            self._ask(task, now)
            return True
        for rrset in ns + [r for r in response.additional if r.rdtype == dns.rdatatype.A]:
            self._remember(rrset, now)
        self._step(task, now)                          # the referral is in the cache now
        return True

    def _follow(self, task: _Task, cname: dns.rrset.RRset, now: float) -> None:
        task.answer.append(cname)
        task.cnames += 1
        if task.cnames > MAX_CNAMES:
            self._finish(task, dns.rcode.SERVFAIL, now)
            return
        task.qname = cname[0].target
        task.zone, task.labels, task.minimise = dns.name.root, 1, True
        self._step(task, now)

    def _closest_servers(self, task: _Task, now: float):
        """(addresses, zone): the NS of the longest cached ancestor and the zone they
        serve; an NS name with no known address is looked up first (None: then this
        task goes on)."""
        name = task.qname
        while True:
            ns = self.cache.get(name, dns.rdatatype.NS, now)
            if ns is not None:
                addresses, missing = [], []
                for rd in sorted(ns, key=lambda r: r.target.to_text()):
                    a = self.cache.get(rd.target, dns.rdatatype.A, now)
                    if a is not None:
                        addresses += sorted(rd_a.address for rd_a in a)
                    else:
                        missing.append(rd.target)
                if addresses:
                    return addresses, name
                if missing and not _within(task, missing[0]):
                    sub = _Task(("ns-address", id(task)), missing[0], dns.rdatatype.A, parent=task)
                    self._step(sub, now)
                    return None
            if name == dns.name.root:
                return [address for _name, address in self.root_hints], dns.name.root
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
        self._out.append(Resolved(tag=task.tag, response=response, upstream=task.sent,
                                  asked=tuple(task.asked)))

    def _remember(self, rrset: dns.rrset.RRset, now: float) -> None:
        self.cache.put(rrset, now)

    def cache_entries(self, now: float) -> list[tuple[str, str, int]]:
        """(name, type, seconds left) of what the cache holds, for summaries."""
        return self.cache.entries(now)


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

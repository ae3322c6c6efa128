"""DNS servers on the network: ``dns-server`` (authoritative, and recursive for its
clients if asked) and ``dns-resolver`` (iterative, caching), over UDP port 53 and,
after a truncated answer, TCP port 53 (RFC 1035 §4.2: a two-byte length before each
message).
"""

from __future__ import annotations

import random

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from netsim.apps.base import App
from netsim.proto.dns import (Authority, Release, Resolved, Resolver, SendQuery, ZoneError, load_zone,
                              to_wire)
from netsim.proto.dns.edns import answer_edns, client_opt
from netsim.proto.dns.queries import format_error, read_query
from netsim.proto.dns.resolver import is_loopback
from netsim.proto.dns.tcp import Answer, Query, TcpQuery, TcpSession
from netsim.sim.driver import EngineDriver
from netsim.sim.runtime import StreamDriver, contain, serve
from netsim.wire.addr import int_to_ip, ip_to_int

PORT = 53

#: What a server's answer function returns when the answer comes later (a lookup).
LATER = object()


def recursive_answer(query, rcode: int, found=None) -> dns.message.Message:
    """The answer a recursive server gives its client: RA set, the rcode, and the
    answer and authority sections of what it found."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    response.set_rcode(rcode)
    answer_edns(query, response)            # a version we do not speak: BADVERS
    if found is not None:
        response.answer = found.answer
        response.authority = found.authority
    return response


def engine_rng(app, what: str) -> random.Random:
    """A generator of the app's own, seeded from the scenario's seed and where it runs:
    the same run draws the same IDs and ports, and no other flow's draws move."""
    return random.Random(f"{app.network.seed}:dns:{app.node.name}:{what}")


class Resolving:
    """A :class:`~netsim.proto.dns.Resolver` engine at work on a node: each UDP query
    goes upstream from a socket on the port the engine drew (closed again at its
    :class:`~netsim.proto.dns.Release`), TCP after a truncated answer, and each finished
    lookup goes to ``answered(tag, response, resolved)``. Only what comes from port 53
    reaches the engine (RFC 5452 §4.2); the engine checks the address, port and ID."""

    def __init__(self, app, engine: Resolver, answered) -> None:
        self.app, self.engine, self.answered = app, engine, answered
        self.driver = EngineDriver(app.env, engine, self._on_output)
        self.sockets: dict[int, object] = {}

    @staticmethod
    def port_free(app):
        return lambda port: port not in app.node.udp_sockets

    def lookup(self, query, tag) -> None:
        q = query.question[0]
        self.engine.lookup(q.name, q.rdtype, (query, tag), self.app.env.now)
        self.driver.kick()

    def _socket(self, port: int):
        sock = self.sockets.get(port)
        if sock is None:
            sock = self.sockets[port] = self.app.node.udp_open(port, df=False)
            sock.on_receive = lambda payload, addr, now: self._from_upstream(payload, addr, now, port)
        return sock

    def _from_upstream(self, payload: bytes, addr, now: float, port: int) -> None:
        if addr[1] == PORT:
            self._heard(payload, addr[0], now, port)

    def _heard(self, wire: bytes, server: str, now: float, port: int | None) -> None:
        # A server's bad bytes are ignored by the engine (the query times out and the
        # next server is asked); the boundary is for a bug.
        contain(self.app, self.engine.receive, wire, now, server, port)
        self.driver.kick()

    def _on_output(self, output) -> None:
        if isinstance(output, SendQuery):
            if output.tcp:
                ask_tcp(self.app, output.server, output.wire, self.engine.timeout,
                        lambda wire: self._heard(wire, output.server, self.app.env.now, None))
            else:
                self._socket(output.port).sendto(output.wire, (output.server, PORT))
        elif isinstance(output, Release):
            sock = self.sockets.pop(output.port, None)
            if sock is not None:
                sock.close()
        elif isinstance(output, Resolved):
            query, tag = output.tag
            self.answered(tag, recursive_answer(query, output.response.rcode(), output.response),
                          output)


def serve_tcp(app, answer) -> None:
    """DNS over TCP on port 53 (RFC 7766), through the runtime. ``answer(wire, later)``
    returns the response's bytes, None (no answer), or :data:`LATER` and then calls
    ``later(bytes)`` once it has them."""

    def on_output(driver, out) -> None:
        if not isinstance(out, Query):
            return
        session = driver.engine

        def later(wire: bytes) -> None:
            session.reply(wire, app.env.now)
            driver.kick()

        def respond() -> None:
            wire = answer(out.wire, later)
            if wire is not LATER:
                session.reply(wire, app.env.now)    # the driver writes it as it drains

        if contain(app, respond) is not None:
            session.reply(None, app.env.now)        # a bug answering it: that query only

    serve(app, PORT, lambda _sock: TcpSession(), on_output=on_output)


def ask_tcp(app, server: str, wire: bytes, timeout: float, on_answer) -> StreamDriver:
    """Send one query over a new TCP connection to ``server``:53; ``on_answer(wire)``
    gets the message that comes back. A connection refused, closed early or silent for
    ``timeout`` gives nothing: the asker's own timer goes on."""
    def on_output(out) -> None:
        if isinstance(out, Answer):
            on_answer(out.wire)

    return StreamDriver(app, TcpQuery(wire, timeout=timeout),
                        on_output=on_output).connect(server, PORT)


_ZONE = {"type": "object", "additionalProperties": False, "required": ["origin"],
         "properties": {"origin": {"type": "string", "description": "the zone's name: 163.com"},
                        "records": {"type": "array", "items": {"type": "string"},
                                    "description": "master-file lines: '@ MX 10 mail'"},
                        "file": {"type": "string",
                                 "description": "a master file next to the scenario (RFC 1035 §5)"}}}


_HINTS = {"type": "array", "items": {
    "type": "object", "additionalProperties": False, "required": ["name", "address"],
    "properties": {"name": {"$ref": "#/$defs/dns_name"}, "address": {"$ref": "#/$defs/ipv4"}}},
    "description": "the root servers: [{name: a.root-servers.net, address: 198.41.0.4}]"}


def _is_self(app, address: str) -> bool:
    """Never ask ourselves: loopback (Unbound's do-not-query-localhost) or an address of
    this host — our own iterative query would come back as a client's, again and again."""
    return is_loopback(address) or ip_to_int(address) in app.node.local_ips


class DnsServer(App):
    """An authoritative name server for the zones it is given (RFC 1034/1035), which may
    also recurse for clients that ask it to (RD set) about names outside its zones:

    - ``recursion: iterative`` — resolve from the root hints, caching (what a site's
      BIND with ``recursion yes`` does; the textbook's *iterative* picture);
    - ``recursion: recursive`` — pass the question, RD still set, to the server its
      zone data (or the root hints) points to, and pass the answer back: each server
      recurses for the one before (the textbook's *recursive* picture, RFC 1034 §4.3.1).
    """

    name = "dns-server"
    _is_self = _is_self
    SCHEMA = {"zones": {"type": "array", "items": _ZONE,
                        "description": "zones in master-file syntax, each with an SOA and NS at @ "
                                       "(or as a file: {origin: 163.com, file: 163.com.zone})"},
              "recursion": {"enum": ["none", "iterative", "recursive"], "default": "none",
                            "description": "answer clients' RD queries for other names: resolve "
                                           "iteratively, or ask the next server recursively"},
              "root_hints": _HINTS}
    REQUIRED: list = []
    SERVICE = True
    BINDS = ("udp", PORT)
    EXAMPLE = {"node": "ns1", "run": "dns-server", "zones": [{"origin": "163.com", "records": [
        "@ SOA ns1 admin 1 7200 900 1209600 300", "@ NS ns1", "ns1 A 10.0.3.53",
        "@ MX 10 mail", "mail A 10.0.3.25"]}]}

    def __init__(self, node, *, zones: list[dict] | None = None, recursion: str = "none",
                 root_hints: list[dict] | None = None, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        zones = zones or []
        if not zones and recursion == "none":
            raise ValueError("a dns-server needs zones, or recursion for its clients")
        try:
            self.authority = Authority([load_zone(z["origin"], z["records"]) for z in zones])
        except ZoneError as exc:
            raise ValueError(str(exc)) from None
        self.recursion = recursion
        self.hints = [(h["name"], h["address"]) for h in root_hints or []]
        self.queries = 0
        self.recursed = 0
        self._chained: dict[int, tuple] = {}     # our socket's port → (client query, reply_to, …)
        self._rng = engine_rng(self, "recursive")

    def start(self) -> None:
        self.socket = self.node.udp_open(PORT, df=False)
        self.socket.on_receive = self._on_datagram
        serve_tcp(self, lambda wire, later: self._answer(wire, udp=False, reply_to=later))
        if self.recursion == "iterative":
            engine = Resolver(root_hints=self.hints, rng=engine_rng(self, "resolver"),
                              do_not_query=self._is_self, port_free=Resolving.port_free(self))
            self.resolving = Resolving(self, engine,
                                       lambda reply_to, response, _done: self._send(response, reply_to))

    def _answer(self, wire: bytes, *, udp: bool, reply_to):
        """The answer's bytes, None (none: a message a server drops), or LATER (the
        answer goes to ``reply_to`` — a UDP client's address, or a TCP session's
        ``later`` — once recursion has it)."""
        query = read_query(wire)
        if query is None:
            return format_error(wire)
        self.queries += 1
        response = self.authority.respond(query, udp=udp)
        # A referral or a name in none of our zones: recursion's (a FORMERR or BADVERS
        # is the query's own fault, and answered as it is).
        if self.recursion != "none" and query.flags & dns.flags.RD and \
                not response.flags & dns.flags.AA and \
                response.rcode() in (dns.rcode.NOERROR, dns.rcode.REFUSED):
            self.recursed += 1
            self._recurse(query, response, reply_to)
            return LATER
        return to_wire(response, udp=udp)

    def _on_datagram(self, payload, addr, now) -> None:
        contain(self, self._answer_datagram, payload, addr)

    def _answer_datagram(self, payload: bytes, addr) -> None:
        answer = self._answer(payload, udp=True, reply_to=addr)
        if answer is not None and answer is not LATER:
            self.socket.sendto(answer, addr)

    # -- recursion ------------------------------------------------------------------------------

    def _recurse(self, query, local_answer, reply_to) -> None:
        if self.recursion == "iterative":
            self.resolving.lookup(query, reply_to)
            return
        q = query.question[0]
        # Recursive: the server our own data refers to, else a root server.
        glue = [rd.address for rrset in local_answer.additional
                if rrset.rdtype == dns.rdatatype.A for rd in rrset]
        servers = [s for s in glue or [address for _name, address in self.hints]
                   if not self._is_self(s)]
        if not servers:
            self._send(recursive_answer(query, dns.rcode.SERVFAIL), reply_to)
            return
        ask = dns.message.make_query(q.name, q.rdtype)
        ask.flags |= dns.flags.RD
        client_opt(ask, do=True)
        # A socket of its own (a random port) and a random ID for every query (RFC 5452 §9.1).
        upstream = self.node.udp_open(df=False)
        ask.id = self._rng.randrange(1 << 16)
        self._chained[upstream.port] = (query, reply_to, servers[0], ask)
        upstream.on_receive = lambda payload, addr, _now: contain(
            self, self._take_upstream, payload, addr, upstream)
        upstream.sendto(ask.to_wire(), (servers[0], PORT))

    def _take_upstream(self, payload: bytes, addr, upstream) -> None:
        try:
            response = dns.message.from_wire(payload)
        except dns.exception.DNSException:              # the server's garbage: ignored
            return
        query, reply_to, server, ask = self._chained[upstream.port]
        # Only the answer from the server asked, to the question asked (RFC 5452 §9.1).
        if (addr[0], addr[1]) != (server, PORT) or response.id != ask.id or \
                not response.flags & dns.flags.QR or response.question != ask.question:
            return
        del self._chained[upstream.port]
        upstream.close()
        self._send(recursive_answer(query, response.rcode(), response), reply_to)

    def _send(self, response, reply_to) -> None:
        if callable(reply_to):                          # a TCP client's session
            reply_to(to_wire(response, udp=False))
        else:
            self.socket.sendto(to_wire(response, udp=True), reply_to)

    def summary_line(self) -> str:
        zones = ", ".join(z.origin.to_text() for z in self.authority.zones) or "no zones"
        recursed = f", recursed for {self.recursed}" if self.recursion != "none" else ""
        return f"dns-server: answered {self.queries} queries for {zones}{recursed}"

    def result(self) -> dict:
        out = {"queries": self.queries, "zones": [z.origin.to_text() for z in self.authority.zones]}
        if self.recursion != "none":
            out["recursed"] = self.recursed
            if self.recursion == "iterative" and self.started:
                out["upstream_queries"] = self.resolving.engine.upstream_queries
                out["cache_hits"] = self.resolving.engine.cache_hits
        return out


class DnsResolver(App):
    """A recursive resolver for its clients: iterative from the root hints, or
    forwarding to another resolver; caches answers for their TTLs (RFC 1034 §5.3.3)."""

    name = "dns-resolver"
    _is_self = _is_self
    TARGETS = ("forward_to",)
    SCHEMA = {
        "root_hints": _HINTS,
        "forward": {"type": "string", "description": "ask this resolver instead (node or IPv4)"},
        "timeout": {"$ref": "#/$defs/interval", "default": "2s",
                    "description": "how long to wait for a server before the next"},
        "qname_minimisation": {"type": "boolean", "default": True,
                               "description": "tell each server only one label more than "
                                              "its zone, as Unbound does (RFC 9156); false: "
                                              "the textbook's full name at every step"},
        "randomize": {"type": "boolean", "default": True,
                      "description": "a random ID and source port per query, and only "
                                     "records in the bailiwick of the server asked (RFC "
                                     "5452); false: a 1990s resolver — counted IDs, one "
                                     "port, every record believed"},
        "cache_size": {"type": "integer", "minimum": 1, "default": 10000,
                       "description": "records and negative answers the cache holds; the "
                                      "least recently used goes first"},
    }
    REQUIRED: list = []
    SERVICE = True
    BINDS = ("udp", PORT)
    EXAMPLE = {"node": "resolver", "run": "dns-resolver",
               "root_hints": [{"name": "a.root-servers.net", "address": "198.41.0.4"}]}

    def __init__(self, node, *, root_hints: list[dict] | None = None, forward: str | None = None,
                 timeout: float = 2.0, qname_minimisation: bool = True, randomize: bool = True,
                 cache_size: int = 10000, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        if not root_hints and not forward:
            raise ValueError("a resolver needs root_hints or forward")
        self.hints = [(h["name"], h["address"]) for h in root_hints or []]
        self.forward_to = forward
        self.timeout = timeout
        self.options = {"qname_minimisation": qname_minimisation, "randomize": randomize,
                        "cache_size": cache_size}
        self.clients = 0
        #: Each client question answered: when, what, and how many queries it cost upstream.
        self.lookups: list[dict] = []

    def start(self) -> None:
        forward = int_to_ip(self.resolve(self.forward_to)[1]) if self.forward_to else None
        self.engine = Resolver(root_hints=self.hints, forward=forward, timeout=self.timeout,
                               rng=engine_rng(self, "resolver"), do_not_query=self._is_self,
                               port_free=Resolving.port_free(self), **self.options)
        self.resolving = Resolving(self, self.engine, self._answered)
        self.socket = self.node.udp_open(PORT, df=False)
        self.socket.on_receive = self._on_datagram
        serve_tcp(self, self._ask)

    def _on_datagram(self, payload, addr, _now) -> None:
        contain(self, self._answer_datagram, payload, addr)

    def _answer_datagram(self, payload: bytes, addr) -> None:
        answer = self._ask(payload, addr)
        if answer is not LATER and answer is not None:
            self.socket.sendto(answer, addr)

    def _ask(self, wire: bytes, reply_to):
        """LATER (the lookup answers ``reply_to``: a UDP client's address or a TCP
        session's ``later``), a FORMERR's bytes, or None (dropped)."""
        query = read_query(wire)
        if query is None:
            return format_error(wire)
        self.clients += 1
        if query.edns > 0:                                  # RFC 6891 §6.1.3: BADVERS
            return to_wire(recursive_answer(query, dns.rcode.NOERROR), udp=not callable(reply_to))
        self.resolving.lookup(query, reply_to)
        return LATER

    def _answered(self, reply_to, response, resolved: Resolved) -> None:
        q = response.question[0]
        upstream = resolved.upstream
        self.lookups.append({"t": round(self.env.now, 6), "name": q.name.to_text(),
                             "type": dns.rdatatype.to_text(q.rdtype),
                             "rcode": dns.rcode.to_text(response.rcode()),
                             "upstream_queries": upstream, "from_cache": upstream == 0,
                             "asked": list(resolved.asked)})
        if callable(reply_to):                              # a TCP client's session
            reply_to(to_wire(response, udp=False))
        else:                                               # a UDP client's address
            self.socket.sendto(to_wire(response, udp=True), reply_to)

    def summary_line(self) -> str:
        e = self.engine
        line = (f"dns-resolver: {self.clients} client queries, {e.upstream_queries} sent upstream, "
                f"{e.cache_hits} answered from the cache")
        if e.unwanted:
            line += f", {e.unwanted} unwanted replies dropped"
        if not e.randomize:
            line += f" (randomize: false — IDs counted up, every query from port {e.fixed_port})"
        elif not e.qname_minimisation and not e.forward:
            line += (" (qname_minimisation: false — every server asked the full name; a real "
                     "resolver tells each only one label more than its zone, RFC 9156)")
        return line

    def result(self) -> dict:
        e = self.engine
        return {"client_queries": self.clients, "upstream_queries": e.upstream_queries,
                "cache_hits": e.cache_hits, "unwanted_replies": e.unwanted,
                "out_of_bailiwick_dropped": e.out_of_bailiwick, "cache_evicted": e.cache.evicted,
                "answer_space": e.answer_space, "lookups": self.lookups,
                "cache": e.cache_entries(self.env.now)}

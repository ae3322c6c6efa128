"""The tools people know: ``dig`` (with ``+trace``) and ``nslookup``, printing what the
real ones print (BIND 9's dig, the nslookup of bind9-host)."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from netsim.apps.base import App
from netsim.apps.dns_server import PORT, ask_tcp
from netsim.wire.addr import int_to_ip, ip_to_int

RECORD_TYPES = ["A", "AAAA", "MX", "NS", "CNAME", "SOA", "TXT", "PTR"]


class Dig(App):
    """Asks a name server one question and prints the answer as dig(1) prints it; with
    ``trace`` it walks down from the root itself, as ``dig +trace`` does."""

    name = "dig"
    TARGETS = ("server",)
    SCHEMA = {"query": {"$ref": "#/$defs/dns_name", "description": "the name to look up: www.163.com"},
              "type": {"enum": RECORD_TYPES, "default": "A", "description": "record type"},
              "server": {"type": "string", "description": "the server to ask (node, IPv4 or "
                                                          "name; default: the host's resolver)"},
              "trace": {"type": "boolean", "default": False,
                        "description": "dig +trace: follow the referrals from the root"},
              "timeout": {"$ref": "#/$defs/interval", "default": "5s",
                          "description": "how long to wait (dig +time)"},
              "tries": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3,
                        "description": "queries before giving up (dig +tries)"}}
    REQUIRED = ["query"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "dig", "query": "www.163.com", "server": "resolver"}

    def __init__(self, node, *, query: str, server: str | None = None, type: str = "A",
                 trace: bool = False, timeout: float = 5.0, tries: int = 3, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.query_name, self.rdtype, self.server = query, type, server
        self.trace, self.timeout, self.tries = trace, timeout, tries
        self.response: dns.message.Message | None = None
        self.finished = False
        self.query_time = None
        self.referrals: list[dict] = []          # +trace: each step's server and what it said
        self._waiting: dict[int, object] = {}
        self._server_ip = 0
        self._attempt = 0

    def start(self) -> None:
        if self.server is not None:
            self._server_ip = self.resolve(self.server)[1]
        elif self.node.dns_servers:
            self._server_ip = self.node.dns_servers[0]
        else:
            raise OSError("no name server configured (give the host 'dns:' or 'server:')")
        self.socket = self.node.udp_open()
        self.socket.on_receive = self._on_datagram
        self.env.process(self._walk() if self.trace else self._ask_once())

    # -- one question, with retries ---------------------------------------------------------

    def _exchange(self, server: int, message: dns.message.Message):
        """Send ``message`` to ``server`` up to ``tries`` times; the response or None."""
        for attempt in range(self.tries):
            self._attempt += 1
            answered = self.env.event()
            message.id = self.network.rng.randrange(1 << 16)
            self._waiting[message.id] = answered
            self.socket.sendto(message.to_wire(), (server, PORT))
            yield answered | self.env.timeout(self.timeout)
            self._waiting.pop(message.id, None)
            if answered.triggered:
                return answered.value
        return None

    def _on_datagram(self, payload, _addr, _now) -> None:
        try:
            response = dns.message.from_wire(payload)
        except Exception:                               # noqa: BLE001 — garbage: keep waiting
            return
        waiter = self._waiting.pop(response.id, None)
        if waiter is not None and response.flags & dns.flags.QR:
            waiter.succeed(response)

    def _ask_once(self):
        sent_at = self.env.now
        message = dns.message.make_query(self.query_name, self.rdtype)
        response = yield from self._exchange(self._server_ip, message)
        server = int_to_ip(self._server_ip)
        if response is None:
            self._unreachable(server)
            return
        if response.flags & dns.flags.TC:
            self.say(";; Truncated, retrying in TCP mode.")
            answered = self.env.event()
            ask_tcp(self, self._server_ip, message.to_wire(), answered.succeed)
            wire = yield answered
            self._done(dns.message.from_wire(wire) if wire else None, "TCP", sent_at)
            return
        self._done(response, "UDP", sent_at)

    def _unreachable(self, server: str) -> None:
        self.finished = True
        self.error = "no servers could be reached"
        self.say(f";; communications error to {server}#53: timed out")
        self.say(";; no servers could be reached")

    def _done(self, response, transport: str, sent_at: float) -> None:
        self.finished = True
        server = int_to_ip(self._server_ip)
        if response is None:
            self.error = "connection failed"
            self.say(f";; communications error to {server}#53: connection refused")
            return
        self.response = response
        self.query_time = self.env.now - sent_at
        self.lines.extend(dig_text(self.query_name, self.rdtype, response, self.query_time,
                                   server, transport, len(response.to_wire())))

    # -- +trace -----------------------------------------------------------------------------

    def _walk(self):
        """dig +trace: the root servers from the resolver, then each referral in turn,
        asked without recursion (RD clear), to the server that answers."""
        self.say(f"; <<>> DiG 9.18 (netsim) <<>> +trace {self.query_name} {self.rdtype}")
        asked_at = self.env.now
        roots = yield from self._exchange(self._server_ip, dns.message.make_query(".", "NS"))
        if roots is None:
            self._unreachable(int_to_ip(self._server_ip))
            return
        self._print_step(roots, roots.answer, int_to_ip(self._server_ip), None,
                         self.env.now - asked_at)
        servers = [rd.target for rrset in roots.answer if rrset.rdtype == dns.rdatatype.NS
                   for rd in rrset]
        glue: dict = {}
        for _step in range(16):
            if not servers:
                self._fail("no servers to ask")
                return
            name = sorted(servers)[0]
            address = glue.get(name)
            if address is None:
                found = yield from self._exchange(self._server_ip, dns.message.make_query(name, "A"))
                addresses = [rd.address for rrset in (found.answer if found else [])
                             if rrset.rdtype == dns.rdatatype.A for rd in rrset]
                if not addresses:
                    self._fail(f"couldn't get address for '{name.to_text()}'")
                    return
                address = addresses[0]
            query = dns.message.make_query(self.query_name, self.rdtype)
            query.flags &= ~dns.flags.RD
            sent_at = self.env.now
            response = yield from self._exchange(ip_to_int(address), query)
            if response is None:
                self._fail(f"connection timed out; no servers could be reached at {address}")
                return
            shown = response.answer or response.authority
            self._print_step(response, shown + (response.additional if not response.answer else []),
                             address, name.to_text(omit_final_dot=True), self.env.now - sent_at)
            self.referrals.append({"server": name.to_text(), "address": address,
                                   "said": [line for rrset in shown
                                            for line in rrset.to_text().splitlines()]})
            if response.answer or response.rcode() != dns.rcode.NOERROR or \
                    not any(r.rdtype == dns.rdatatype.NS for r in response.authority):
                self.response, self.finished = response, True
                self.query_time = self.env.now - sent_at
                return
            servers = [rd.target for rrset in response.authority
                       if rrset.rdtype == dns.rdatatype.NS for rd in rrset]
            glue = {rrset.name: rd.address for rrset in response.additional
                    if rrset.rdtype == dns.rdatatype.A for rd in rrset}
        self._fail("too many referrals")

    def _print_step(self, response, section, address: str, name: str | None,
                    seconds: float) -> None:
        for rrset in section:
            self.lines.extend(_tabbed(line) for line in rrset.to_text().splitlines())
        who = f"{address}#53({name or address})"
        self.say(f";; Received {len(response.to_wire())} bytes from {who} in {round(seconds * 1000)} ms")
        self.say("")

    def _fail(self, why: str) -> None:
        self.finished = True
        self.error = why
        self.say(f";; {why}")

    # -- the end -----------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.finished

    def progress(self) -> str:
        return f"waiting for {int_to_ip(self._server_ip)} after {self._attempt} queries"

    def result(self) -> dict:
        r = self.response
        base = {"query": self.query_name, "type": self.rdtype}
        if self.trace:
            base["referrals"] = self.referrals
        if r is None:
            return {**base, "status": None}
        return {**base, "status": dns.rcode.to_text(r.rcode()),
                "answer": [line for rrset in r.answer for line in rrset.to_text().splitlines()],
                "query_time_ms": round(self.query_time * 1000, 3)}


class Nslookup(Dig):
    """Asks the host's name server (or ``server``) and prints what nslookup(1) prints."""

    name = "nslookup"
    SCHEMA = {key: value for key, value in Dig.SCHEMA.items() if key not in ("trace", "tries")}
    EXAMPLE = {"node": "alice", "at": "1s", "run": "nslookup", "query": "www.163.com"}

    def __init__(self, node, *, query: str, server: str | None = None, type: str = "A",
                 timeout: float = 5.0, at: float = 0.0) -> None:
        super().__init__(node, query=query, server=server, type=type, timeout=timeout, tries=2,
                         at=at)

    def _unreachable(self, server: str) -> None:
        self.finished = True
        self.error = "no servers could be reached"
        self.say(";; connection timed out; no servers could be reached")

    def _done(self, response, transport: str, sent_at: float) -> None:
        self.finished = True
        server = int_to_ip(self._server_ip)
        self.say(f"Server:\t\t{server}")
        self.say(f"Address:\t{server}#53")
        self.say("")
        if response is None:
            self.error = "connection failed"
            self.say(";; connection refused")
            return
        self.response = response
        self.query_time = self.env.now - sent_at
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR:
            self.say(f"** server can't find {self.query_name}: {dns.rcode.to_text(rcode)}")
            return
        if not response.flags & dns.flags.AA:
            self.say("Non-authoritative answer:")
        found = False
        for rrset in response.answer:
            owner = rrset.name.to_text(omit_final_dot=True)
            for rd in rrset:
                found = True
                if rrset.rdtype == dns.rdatatype.CNAME:
                    self.say(f"{owner}\tcanonical name = {rd.target.to_text()}")
                elif rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    self.say(f"Name:\t{owner}")
                    self.say(f"Address: {rd.to_text()}")
                elif rrset.rdtype == dns.rdatatype.MX:
                    self.say(f"{owner}\tmail exchanger = {rd.to_text()}")
                elif rrset.rdtype == dns.rdatatype.NS:
                    self.say(f"{owner}\tnameserver = {rd.to_text()}")
                else:
                    self.say(f"{owner}\t{dns.rdatatype.to_text(rrset.rdtype).lower()} = {rd.to_text()}")
        if not found:
            self.say(f"*** Can't find {self.query_name}: No answer")


def dig_text(name: str, rdtype: str, r: dns.message.Message, seconds: float, server: str,
             transport: str, size: int) -> list[str]:
    """What dig(1) prints for a response."""
    flags = dns.flags.to_text(r.flags).lower()
    lines = [f"; <<>> DiG 9.18 (netsim) <<>> {name} {rdtype}", ";; Got answer:",
             f";; ->>HEADER<<- opcode: QUERY, status: {dns.rcode.to_text(r.rcode())}, id: {r.id}",
             f";; flags: {flags}; QUERY: {len(r.question)}, ANSWER: {_count(r.answer)}, "
             f"AUTHORITY: {_count(r.authority)}, ADDITIONAL: {_count(r.additional)}", "",
             ";; QUESTION SECTION:"]
    lines += [f";{q.name.to_text():<23} IN\t{dns.rdatatype.to_text(q.rdtype)}" for q in r.question]
    for title, section in (("ANSWER", r.answer), ("AUTHORITY", r.authority),
                           ("ADDITIONAL", r.additional)):
        if section:
            lines += ["", f";; {title} SECTION:"]
            for rrset in section:
                lines += [_tabbed(line) for line in rrset.to_text().splitlines()]
    lines += ["", f";; Query time: {round(seconds * 1000)} msec",
              f";; SERVER: {server}#53({server}) ({transport})", f";; MSG SIZE  rcvd: {size}"]
    return lines


def _count(section) -> int:
    return sum(len(rrset) for rrset in section)


def _tabbed(line: str) -> str:
    name, ttl, cls, rtype, *data = line.split(" ", 4)
    return f"{name:<23} {ttl:<7} {cls}\t{rtype}\t{' '.join(data)}"

"""The tools people know: ``dig`` (with ``+trace``) and ``nslookup``, printing what the
real ones print (BIND 9's dig, the nslookup of bind9-host)."""

from __future__ import annotations

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

from netsim.apps.base import App
from netsim.apps.dns_server import PORT
from netsim.proto.dns.dig import (Answered, Ask, AskTcp, DigEngine, Say, Step, Stopped, TcpFailed,
                                  Unreachable)
from netsim.proto.dns.tcp import Answer, TcpQuery
from netsim.sim.runtime import StreamDriver, contain
from netsim.wire.addr import int_to_ip

RECORD_TYPES = ["A", "AAAA", "MX", "NS", "CNAME", "SOA", "TXT", "PTR"]

#: The runtime's reasons a connection was not made, in the words dig prints (ISC's).
_REFUSED = {"Connection refused": "connection refused", "Network is unreachable":
            "network unreachable", "Connection timed out": "timed out"}


class Dig(App):
    """Asks a name server one question and prints the answer as dig(1) prints it; with
    ``trace`` it walks down from the root itself, as ``dig +trace`` does. The lookup is
    :class:`~netsim.proto.dns.dig.DigEngine`'s; this is its socket, its TCP connection
    and its printing."""

    name = "dig"
    TARGETS = ("server",)
    SCHEMA = {"query": {"$ref": "#/$defs/dns_name", "description": "the name to look up: www.163.com"},
              "type": {"enum": RECORD_TYPES, "default": "A", "description": "record type"},
              "server": {"type": "string", "description": "the server to ask (node, IPv4 or "
                                                          "name; default: the host's resolver)"},
              "trace": {"type": "boolean", "default": False,
                        "description": "dig +trace: follow the referrals from the root"},
              "tcp": {"type": "boolean", "default": False,
                      "description": "dig +tcp: ask over TCP (RFC 7766), not UDP"},
              "timeout": {"$ref": "#/$defs/interval", "default": "5s",
                          "description": "how long to wait (dig +time)"},
              "tries": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3,
                        "description": "queries before giving up (dig +tries)"}}
    REQUIRED = ["query"]
    EXAMPLE = {"node": "alice", "at": "1s", "run": "dig", "query": "www.163.com", "server": "resolver"}

    def __init__(self, node, *, query: str, server: str | None = None, type: str = "A",
                 trace: bool = False, tcp: bool = False, timeout: float = 5.0, tries: int = 3,
                 at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.query_name, self.rdtype, self.server = query, type, server
        self.trace, self.tcp, self.timeout, self.tries = trace, tcp, timeout, tries
        self.engine: DigEngine | None = None
        self._server_ip = 0

    def start(self) -> None:
        if self.server is not None:
            self._server_ip = self.resolve(self.server)[1]
        elif self.node.dns_servers:
            self._server_ip = self.node.dns_servers[0]
        else:
            raise OSError("no name server configured (give the host 'dns:' or 'server:')")
        self.socket = self.node.udp_open(df=False)
        self.socket.on_receive = self._on_datagram
        rng = self.network.rng
        self.engine = DigEngine(self.query_name, self.rdtype, int_to_ip(self._server_ip),
                                trace=self.trace, tcp=self.tcp, timeout=self.timeout,
                                tries=self.tries, new_id=lambda: rng.randrange(1 << 16),
                                cookie=rng.randbytes(8), edns=self.name == "dig")
        self.driver = self.drive(self.engine)
        self.engine.start(self.env.now)
        self.driver.kick()

    # -- the engine's side ----------------------------------------------------------------------

    def _on_datagram(self, payload, addr, now) -> None:
        self._take(self.engine.receive, payload, addr, now)

    def _take(self, function, *args) -> None:
        """Hand the engine what the server sent; its PeerError is this lookup's end."""
        error = contain(self, function, *args)
        if error is not None:
            self.error = self.engine.error or error.message
        self.driver.kick()                  # the lines dig prints with it, too

    def _ask_tcp(self, server: str, wire: bytes) -> None:
        def on_output(out) -> None:
            if isinstance(out, Answer):
                self._take(self.engine.tcp_answer, out.wire, self.env.now)

        def on_end(driver) -> None:
            reason = _REFUSED.get(driver.refused, driver.refused) or driver.failure
            if reason is not None:
                self.engine.tcp_failed(reason, self.env.now)
                self.driver.kick()

        StreamDriver(self, TcpQuery(wire, timeout=self.timeout), on_output=on_output,
                     on_end=on_end).connect(server, PORT)

    def on_output(self, output) -> None:
        kind = type(output)
        if kind is Ask:
            self.socket.sendto(output.wire, (output.server, PORT))
        elif kind is Say:
            self.say(output.text)
        elif kind is AskTcp:
            self._ask_tcp(output.server, output.wire)
        elif kind is Step:
            self._print_step(output)
        elif kind is Answered:
            self._show_answer(output)
        elif kind is Unreachable:
            self.error = self.engine.error
            self._unreachable(output.server)
        elif kind is TcpFailed:
            self.error = self.engine.error
            self._tcp_failed(output.server, output.reason)
        elif kind is Stopped:
            self.error = output.why
            self.say(f";; {output.why}")

    # -- what dig prints -----------------------------------------------------------------------

    def _show_answer(self, out: Answered) -> None:
        self.lines.extend(dig_text(self.query_name, self.rdtype, out.response, out.seconds,
                                   int_to_ip(self._server_ip), out.transport, out.size,
                                   options="+tcp " if self.tcp else "", cookie=self.engine.cookie))

    def _unreachable(self, server: str) -> None:
        self.say(f";; communications error to {server}#53: timed out")
        self.say(";; no servers could be reached")

    def _tcp_failed(self, server: str, reason: str) -> None:
        self.say(f";; communications error to {server}#53: {reason}")

    def _print_step(self, step: Step) -> None:
        for rrset in step.section:
            self.lines.extend(_tabbed(line) for line in rrset.to_text().splitlines())
        who = f"{step.server}#53({step.name or step.server})"
        self.say(f";; Received {len(step.response.to_wire())} bytes from {who} in "
                 f"{round(step.seconds * 1000)} ms")
        self.say("")

    # -- the end -----------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.engine is not None and (self.engine.finished or self.error is not None)

    def progress(self) -> str:
        attempts = self.engine.attempts if self.engine else 0
        return f"waiting for {int_to_ip(self._server_ip)} after {attempts} queries"

    def result(self) -> dict:
        e = self.engine
        r = e.response if e else None
        base = {"query": self.query_name, "type": self.rdtype}
        if self.trace:
            base["referrals"] = e.referrals if e else []
        if r is None:
            return {**base, "status": None}
        return {**base, "status": dns.rcode.to_text(r.rcode()),
                "answer": [line for rrset in r.answer for line in rrset.to_text().splitlines()],
                "query_time_ms": round(e.query_time * 1000, 3)}


class Nslookup(Dig):
    """Asks the host's name server (or ``server``) and prints what nslookup(1) prints."""

    name = "nslookup"
    SCHEMA = {key: value for key, value in Dig.SCHEMA.items()
              if key not in ("trace", "tcp", "tries")}
    EXAMPLE = {"node": "alice", "at": "1s", "run": "nslookup", "query": "www.163.com"}

    def __init__(self, node, *, query: str, server: str | None = None, type: str = "A",
                 timeout: float = 5.0, at: float = 0.0) -> None:
        super().__init__(node, query=query, server=server, type=type, timeout=timeout, tries=2,
                         at=at)

    def _unreachable(self, server: str) -> None:
        self.say(";; connection timed out; no servers could be reached")

    def _header(self) -> None:
        server = int_to_ip(self._server_ip)
        self.say(f"Server:\t\t{server}")
        self.say(f"Address:\t{server}#53")
        self.say("")

    def _tcp_failed(self, server: str, reason: str) -> None:
        self._header()
        self.say(f";; {reason}")

    def _show_answer(self, out: Answered) -> None:
        self._header()
        response = out.response
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
             transport: str, size: int, *, options: str = "",
             cookie: bytes | None = None) -> list[str]:
    """What dig(1) prints for a response (``options``: the command line's, ``+tcp ``;
    ``cookie``: the client COOKIE dig sent)."""
    flags = dns.flags.to_text(r.flags).lower()
    additional = _count(r.additional) + (1 if r.edns >= 0 else 0)     # the OPT is one
    lines = [f"; <<>> DiG 9.18 (netsim) <<>> {options}{name} {rdtype}", ";; Got answer:",
             f";; ->>HEADER<<- opcode: QUERY, status: {dns.rcode.to_text(r.rcode())}, id: {r.id}",
             f";; flags: {flags}; QUERY: {len(r.question)}, ANSWER: {_count(r.answer)}, "
             f"AUTHORITY: {_count(r.authority)}, ADDITIONAL: {additional}", ""]
    lines += opt_pseudosection(r, cookie)
    lines += [";; QUESTION SECTION:"]
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


def opt_pseudosection(r: dns.message.Message, cookie: bytes | None) -> list[str]:
    """The ``;; OPT PSEUDOSECTION:`` block (BIND 9.18's ``dns_message_pseudosectiontotext``):
    the EDNS version, flags and UDP size, then each option — a COOKIE as one hex string,
    marked ``(good)`` when a server cookie follows ours, ``(echoed)`` when only ours came
    back, ``(bad)`` when ours did not; others as hex bytes and their printable text. dig
    prints the QUESTION SECTION right after it, without a blank line."""
    if r.edns < 0:
        return []
    flags = "".join(f" {name}" for bit, name in ((dns.flags.DO, "do"), (0x4000, "co"))
                    if r.ednsflags & bit)
    mbz = r.ednsflags & 0xFFFF & ~(dns.flags.DO | 0x4000)
    udp = f"; MBZ: 0x{mbz:04x}, udp: {r.payload}" if mbz else f"; udp: {r.payload}"
    lines = [";; OPT PSEUDOSECTION:", f"; EDNS: version: {r.edns}, flags:{flags}{udp}"]
    for option in r.options:
        data = option.to_wire() or b""
        if option.otype == dns.edns.COOKIE:
            if cookie is not None and len(data) >= 8 and data[:8] == cookie[:8]:
                mark = " (good)" if len(data) >= 16 else " (echoed)"
            else:
                mark = " (bad)"
            lines.append(f"; COOKIE: {data.hex()}{mark}")
            continue
        name = "NSID:" if option.otype == dns.edns.NSID else f"OPT={int(option.otype)}:"
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)
        shown = f" {''.join(f'{b:02x} ' for b in data)}(\"{text}\")" if data else ""
        lines.append(f"; {name}{shown}")
    return lines


def _count(section) -> int:
    return sum(len(rrset) for rrset in section)


def _tabbed(line: str) -> str:
    name, ttl, cls, rtype, *data = line.split(" ", 4)
    return f"{name:<23} {ttl:<7} {cls}\t{rtype}\t{' '.join(data)}"

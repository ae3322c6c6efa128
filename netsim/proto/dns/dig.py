"""``dig`` and ``nslookup`` as one sans-I/O engine: what BIND 9.18's ``dighost.c`` does
with a lookup — one question with retries, ``+trace``'s walk down from the root, the
retry over TCP after a truncated answer — and how it takes what comes back.

Asking. Every query is made as dig 9.18 makes it (``dighost.c``'s ``setup_lookup``): RD
(but not in ``+trace``'s walk), AD (``+adflag``, on by default), and an OPT record
(``+edns=0``) advertising 1232 bytes with a client COOKIE (RFC 7873 §5.1: eight bytes,
the same for the whole run); nslookup's (``edns=False``) carry RD alone, as
``make_empty_lookup`` leaves them. A query goes to the server over UDP; with no answer in ``timeout`` it is sent
again with a new id, ``tries`` times in all, then the server is unreachable. An answer
with TC set is asked again over TCP (RFC 7766 §5) — with ``tcp`` (``dig +tcp``) every
question is — on a connection of its own, which the application opens for the engine
(:class:`AskTcp`) and whose outcome it hands back (:meth:`DigEngine.tcp_answer`,
:meth:`DigEngine.tcp_failed`; the connection keeps its own timeout). ``+trace`` asks the
server for the root's NS, then each referral's first server (by name; its address from
the glue, else from the server), without recursion, until an answer or an error.

Taking (``recv_done`` in dighost.c). Over UDP a datagram from any other address and
port than the server's, one too short for a header, one with another id, or one
answering another question is *not the answer*: dig prints a line about it and goes
on waiting. An answer that does not parse ends the lookup — ``;; Got bad packet:
FORMERR`` and a hex dump of its bytes — as does, over TCP, a short message, another
id or another question: on a connection of its own there is nothing else to wait
for. Those are the peer's errors, raised as :class:`~netsim.errors.PeerError` after
the lines dig prints with them are queued.

Inputs: :meth:`start`, :meth:`receive` (a UDP datagram and who sent it),
:meth:`tcp_answer`, :meth:`tcp_failed`, :meth:`handle_timer`. Outputs: :class:`Ask`,
:class:`AskTcp`, :class:`Say` (a line dig prints as it goes), :class:`Step` (a
``+trace`` step), :class:`Answered`, :class:`Unreachable`, :class:`TcpFailed`,
:class:`Stopped` (``+trace`` could not go on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from netsim.errors import PeerError
from netsim.proto.dns.edns import client_opt
from netsim.proto.dns.queries import HEADER_SIZE

PORT = 53
MAX_REFERRALS = 16

#: BIND's result texts (isc_result_totext) for what dnspython reports by type.
_PARSE_ERRORS = {dns.name.BadPointer: "bad compression pointer",
                 dns.name.BadLabelType: "bad label type"}


# -- outputs -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Ask:
    """A query for ``server`` (a dotted quad), port 53, over UDP."""
    server: str
    wire: bytes


@dataclass(frozen=True, slots=True)
class AskTcp:
    """Ask ``server`` again over TCP: the application opens the connection."""
    server: str
    wire: bytes


@dataclass(frozen=True, slots=True)
class Say:
    """A line dig prints as it goes (warnings, ``Truncated, retrying in TCP mode.``)."""
    text: str


@dataclass(frozen=True, slots=True)
class Step:
    """One ``+trace`` step: what ``server`` (``name``, if it has one) said, and how long
    it took."""
    response: dns.message.Message
    section: list
    server: str
    name: str | None
    seconds: float


@dataclass(frozen=True, slots=True)
class Answered:
    """The lookup's answer, over ``transport`` (``UDP`` or ``TCP``), ``size`` bytes."""
    response: dns.message.Message
    transport: str
    seconds: float
    size: int


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No answer from ``server`` to any try."""
    server: str


@dataclass(frozen=True, slots=True)
class TcpFailed:
    """The TCP connection to ``server`` gave no answer; ``reason`` as dig words it after
    ``communications error to …:`` (``connection refused``, ``end of file``, ``timed out``)."""
    server: str
    reason: str


@dataclass(frozen=True, slots=True)
class Stopped:
    """``+trace`` could not go on (``couldn't get address for 'ns1.163.com'``)."""
    why: str


# -- the engine ------------------------------------------------------------------------------

@dataclass
class _Exchange:
    """One question to one server: over UDP with its retries, or over TCP."""
    server: str
    query: dns.message.Message
    then: Callable                      # then(response or None, now)
    tcp: bool = False
    sent: int = 0
    deadline: float | None = None       # of the UDP try (TCP's is the connection's)
    size: int = 0                       # bytes of the answer as received


class DigEngine:
    def __init__(self, name: str, rdtype: str, server: str, *, trace: bool = False,
                 tcp: bool = False, timeout: float = 5.0, tries: int = 3,
                 new_id: Callable[[], int], cookie: bytes | None = None,
                 edns: bool = True) -> None:
        self.name, self.rdtype, self.server = name, rdtype, server
        self.trace, self.tcp, self.timeout, self.tries = trace, tcp, timeout, tries
        self._new_id = new_id
        self.cookie, self.edns = cookie, edns
        self.attempts = 0               # queries sent, all exchanges together
        self.finished = False
        self.error: str | None = None
        self.response: dns.message.Message | None = None
        self.query_time: float | None = None
        self.referrals: list[dict] = []
        # +trace: the servers the last referral named, their glue, the one being asked.
        self._servers: list = []
        self._glue: dict = {}
        self._ns = None
        self._steps = 0
        self._step_sent_at = 0.0
        self._exchange: _Exchange | None = None
        self._answered_by: _Exchange | None = None     # the exchange ``then`` is told about
        self._tcp_failure = ""                          # why the last TCP exchange got nothing
        self._sent_at = 0.0
        self._out: list = []

    # -- inputs --------------------------------------------------------------------------------

    def start(self, now: float) -> None:
        self._sent_at = now
        if self.trace:
            self._out.append(Say(f"; <<>> DiG 9.18 (netsim) <<>> +trace {self.name} {self.rdtype}"))
            self._ask(self.server, self._query(".", "NS"), self._roots, now)
        else:
            self._ask(self.server, self._query(self.name, self.rdtype), self._answer, now)

    def receive(self, wire: bytes, source: tuple[str, int], now: float) -> None:
        """A datagram from ``source`` (address, port) on the lookup's UDP socket."""
        exchange = self._exchange
        if exchange is None or exchange.tcp:
            return                      # the lookup is over (dig has exited), or on TCP
        out = self._out
        if source != (exchange.server, PORT):
            out.append(Say(f";; reply from unexpected source: {source[0]}#{source[1]}, "
                           f"expected {exchange.server}#{PORT}"))
            return
        if len(wire) < HEADER_SIZE:
            out.append(Say(";; Warning: short (< header size) message received"))
            return
        got = int.from_bytes(wire[:2], "big")
        if got != exchange.query.id:
            out.append(Say(f";; Warning: ID mismatch: expected ID {exchange.query.id}, got {got}"))
            return
        if not wire[2] & 0x80:
            out.append(Say(";; Warning: query response not set"))
        response = self._parse(wire)
        mismatch = _question_mismatch(response, exchange.query)
        if mismatch is not None:
            out.append(Say(mismatch))   # over UDP: keep waiting for the real answer
            return
        self._exchange = None
        self._answered_by = exchange
        exchange.size = len(response.to_wire())     # what dig reports, re-encoded
        exchange.then(response, now)

    def tcp_answer(self, wire: bytes, now: float) -> None:
        """The message that came back on the TCP connection: on a connection of its own,
        a wrong one ends the lookup."""
        exchange = self._exchange
        if exchange is None or not exchange.tcp:
            return
        self._exchange = None
        query = exchange.query
        if len(wire) < HEADER_SIZE:
            self._stop(";; ERROR: short (< header size) message")
        got = int.from_bytes(wire[:2], "big")
        if got != query.id:
            self._stop(f";; ERROR: ID mismatch: expected ID {query.id}, got {got}")
        response = self._parse(wire)
        mismatch = _question_mismatch(response, query)
        if mismatch is not None:
            self._stop(mismatch)
        self._answered_by = exchange
        exchange.size = len(wire)
        exchange.then(response, now)

    def tcp_failed(self, reason: str, now: float) -> None:
        """The TCP connection ended with no answer (``reason``: dig's words, as
        ``connection refused``, ``end of file``, ``timed out``)."""
        exchange = self._exchange
        if exchange is None or not exchange.tcp:
            return
        self._exchange = None
        self._answered_by = exchange
        self._tcp_failure = reason
        exchange.then(None, now)

    def handle_timer(self, now: float) -> None:
        exchange = self._exchange
        if exchange is None or exchange.deadline is None or now < exchange.deadline:
            return
        if exchange.sent < self.tries:
            self._send(exchange, now)
            return
        self._exchange = None
        self._answered_by = exchange
        exchange.then(None, now)

    # -- sans-I/O contract -----------------------------------------------------------------------

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def get_timer(self) -> float | None:
        return self._exchange.deadline if self._exchange is not None else None

    # -- asking ----------------------------------------------------------------------------------

    def _query(self, name, rdtype) -> dns.message.Message:
        """A query as dig makes one: RD and AD set, EDNS(0) with 1232 bytes and a COOKIE."""
        query = dns.message.make_query(name, rdtype)
        if self.edns:
            query.flags |= dns.flags.AD
            client_opt(query, cookie=self.cookie)
        return query

    def _ask(self, server: str, query: dns.message.Message, then, now: float) -> None:
        self._exchange = _Exchange(server, query, then, tcp=self.tcp)
        self._send(self._exchange, now)

    def _send(self, exchange: _Exchange, now: float) -> None:
        exchange.sent += 1
        self.attempts += 1
        exchange.query.id = self._new_id()          # a new id for every try, as dig does
        if exchange.tcp:
            self._out.append(AskTcp(exchange.server, exchange.query.to_wire()))
            return
        exchange.deadline = now + self.timeout
        self._out.append(Ask(exchange.server, exchange.query.to_wire()))

    def _ask_again_over_tcp(self, exchange: _Exchange) -> None:
        """RFC 7766 §5: the truncated question again, same id, on a TCP connection."""
        self._out.append(Say(";; Truncated, retrying in TCP mode."))
        exchange.tcp, exchange.deadline = True, None
        self._exchange = exchange
        self._out.append(AskTcp(exchange.server, exchange.query.to_wire()))

    def _no_answer(self, exchange: _Exchange) -> None:
        """The lookup's server gave nothing: no answer to any UDP try, or a TCP
        connection that ended without one."""
        if exchange.tcp:
            self._end(f"communications error to {exchange.server}#{PORT}: {self._tcp_failure}")
            self._out.append(TcpFailed(exchange.server, self._tcp_failure))
        else:
            self._end("no servers could be reached")
            self._out.append(Unreachable(exchange.server))

    # -- taking ------------------------------------------------------------------------------------

    def _parse(self, wire: bytes) -> dns.message.Message:
        try:
            return dns.message.from_wire(wire)
        except dns.exception.DNSException as exc:
            text = _PARSE_ERRORS.get(type(exc), "FORMERR")
            self._stop(f";; Got bad packet: {text}", dump=wire)

    def _stop(self, message: str, *, dump: bytes | None = None) -> None:
        """The peer's answer ends the lookup: the lines dig prints (``message``, and the
        bytes' dump) are queued, then the peer's error is raised."""
        self._end(message.replace(";; ", ""))
        self._exchange = None
        self._out.append(Say(message))
        if dump is not None:
            self._out += [Say(line) for line in hex_dump(dump)]
        raise PeerError(message)

    def _end(self, error: str | None) -> None:
        self.finished = True
        self.error = error

    # -- one question ---------------------------------------------------------------------------

    def _answer(self, response, now: float) -> None:
        exchange = self._answered_by
        if response is None:
            return self._no_answer(exchange)
        if response.flags & dns.flags.TC and not exchange.tcp:
            return self._ask_again_over_tcp(exchange)
        self._end(None)
        self.response = response
        self.query_time = now - self._sent_at
        self._out.append(Answered(response, "TCP" if exchange.tcp else "UDP", self.query_time,
                                  exchange.size))

    # -- +trace ---------------------------------------------------------------------------------

    def _roots(self, roots, now: float) -> None:
        if roots is None:
            return self._no_answer(self._answered_by)
        self._out.append(Step(roots, roots.answer, self.server, None, now - self._sent_at))
        self._servers = [rd.target for rrset in roots.answer if rrset.rdtype == dns.rdatatype.NS
                         for rd in rrset]
        self._next_referral(now)

    def _next_referral(self, now: float) -> None:
        if self._steps >= MAX_REFERRALS:
            return self._stopped("too many referrals")
        self._steps += 1
        if not self._servers:
            return self._stopped("no servers to ask")
        self._ns = sorted(self._servers)[0]
        address = self._glue.get(self._ns)
        if address is None:
            self._ask(self.server, self._query(self._ns, "A"), self._ns_address, now)
        else:
            self._ask_referred(address, now)

    def _ns_address(self, found, now: float) -> None:
        addresses = [rd.address for rrset in (found.answer if found else [])
                     if rrset.rdtype == dns.rdatatype.A for rd in rrset]
        if not addresses:
            return self._stopped(f"couldn't get address for '{self._ns.to_text()}'")
        self._ask_referred(addresses[0], now)

    def _ask_referred(self, address: str, now: float) -> None:
        query = self._query(self.name, self.rdtype)
        query.flags &= ~dns.flags.RD
        self._step_sent_at = now
        self._ask(address, query, self._referred, now)

    def _referred(self, response, now: float) -> None:
        address = self._answered_by.server
        if response is None:
            return self._stopped(f"connection timed out; no servers could be reached at {address}")
        shown = response.answer or response.authority
        seconds = now - self._step_sent_at
        self._out.append(Step(response, shown + (response.additional if not response.answer else []),
                              address, self._ns.to_text(omit_final_dot=True), seconds))
        self.referrals.append({"server": self._ns.to_text(), "address": address,
                               "said": [line for rrset in shown
                                        for line in rrset.to_text().splitlines()]})
        if response.answer or response.rcode() != dns.rcode.NOERROR or \
                not any(r.rdtype == dns.rdatatype.NS for r in response.authority):
            self._end(None)
            self.response, self.query_time = response, seconds
            return
        self._servers = [rd.target for rrset in response.authority
                         if rrset.rdtype == dns.rdatatype.NS for rd in rrset]
        self._glue = {rrset.name: rd.address for rrset in response.additional
                      if rrset.rdtype == dns.rdatatype.A for rd in rrset}
        self._next_referral(now)

    def _stopped(self, why: str) -> None:
        self._end(why)
        self._out.append(Stopped(why))


def _question_mismatch(response: dns.message.Message, query: dns.message.Message) -> str | None:
    """What dig prints when the answer carries another question than its own (it checks
    only when there is one), or None."""
    asked = query.question[0]
    for q in response.question:
        if (q.name, q.rdtype, q.rdclass) != (asked.name, asked.rdtype, asked.rdclass):
            # dighost.c's format starts with ";; " and its warning function adds another.
            return (f";; ;; Question section mismatch: got {q.name.to_text(omit_final_dot=True)}/"
                    f"{dns.rdatatype.to_text(q.rdtype)}/{dns.rdataclass.to_text(q.rdclass)}")
    return None


def hex_dump(wire: bytes) -> list[str]:
    """dighost.c's ``hex_dump``: the size, then 16 bytes a line in hex and as text
    (``!``…``}`` as themselves, anything else as a dot)."""
    lines = [f"{len(wire)} bytes"]
    for start in range(0, len(wire), 16):
        row = wire[start:start + 16]
        text = "".join(chr(b) if 0x21 <= b <= 0x7D else "." for b in row)
        lines.append("".join(f"{b:02x} " for b in row).ljust(48) + "         " + text)
    return lines

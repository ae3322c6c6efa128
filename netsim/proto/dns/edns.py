"""EDNS(0) (RFC 6891) as the real programs set it, and the size a UDP answer may have.

Without EDNS a UDP message carries at most 512 bytes (RFC 1035 §4.2.1). A query with an
OPT record says how much its sender can take (§6.2.3, "requestor's UDP payload size";
less than 512 counts as 512, §6.2.5); a server answers in at most that and its own
limit, and puts an OPT of its own in the answer (§7) — a truncated one too, TC set
(§7: "the OPT RR MUST be included"). Since DNS Flag Day 2020 the programs use 1232
bytes (BIND's ``edns-udp-size``/``max-udp-size``, NSD, Unbound's ``edns-buffer-size``,
dig's ``+bufsize``): a 1280-byte IPv6 packet less its headers, so nothing fragments.

A response whose bytes do not fit goes as its header, question and OPT with TC set, and
the client asks again over TCP (RFC 7766 §5) — as BIND and NSD send it: nothing of the
answer, so no client takes half an RRset for the whole.
"""

from __future__ import annotations

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.rcode

#: RFC 1035 §4.2.1: the most a UDP message may carry without EDNS.
UDP_LIMIT = 512
#: The EDNS UDP payload size every program here advertises and keeps to (DNS Flag Day 2020).
EDNS_PAYLOAD = 1232
#: A TCP message's length field (RFC 1035 §4.2.2).
TCP_LIMIT = 0xFFFF


def udp_limit(response: dns.message.Message) -> int:
    """How many bytes ``response`` may have over UDP: 512 for a query without EDNS, else
    what the query advertised (at least 512) and no more than our own limit."""
    if response.edns < 0:
        return UDP_LIMIT
    asked = response.request_payload or UDP_LIMIT
    return min(max(asked, UDP_LIMIT), EDNS_PAYLOAD)


def answer_edns(query: dns.message.Message, response: dns.message.Message) -> None:
    """The server's OPT in ``response`` (RFC 6891 §7): only to a query that had one; our
    payload size, DO copied (RFC 3225 §3); a version we do not speak is BADVERS (§6.1.3)."""
    if query.edns < 0:
        response.use_edns(False)
        return
    response.use_edns(0, query.ednsflags & dns.flags.DO, EDNS_PAYLOAD, query.payload)
    if query.edns > 0:
        response.set_rcode(dns.rcode.BADVERS)


def to_wire(response: dns.message.Message, *, udp: bool) -> bytes:
    """The response's bytes; over UDP cut to header, question and OPT with TC set when
    they do not fit in :func:`udp_limit`. A message that would not fit even TCP's length
    field is a SERVFAIL (what BIND answers when rendering runs out of room)."""
    limit = udp_limit(response) if udp else TCP_LIMIT
    try:
        wire = response.to_wire(max_size=TCP_LIMIT)
    except dns.exception.TooBig:
        wire = None
    if wire is not None and len(wire) <= limit:
        return wire
    short = dns.message.Message(id=response.id)
    short.flags = response.flags | (dns.flags.TC if wire is not None else 0)
    short.question = list(response.question)
    if response.edns >= 0:
        short.use_edns(response.edns, response.ednsflags, response.payload, response.request_payload)
    short.set_rcode(response.rcode() if wire is not None else dns.rcode.SERVFAIL)
    return short.to_wire()


def client_opt(message: dns.message.Message, *, do: bool = False,
               cookie: bytes | None = None) -> None:
    """A client's OPT: 1232 bytes, DO if it wants DNSSEC records (a validating resolver
    as Unbound), a client COOKIE (RFC 7873 §5.1: eight bytes, as dig sends)."""
    options = [dns.edns.GenericOption(dns.edns.COOKIE, cookie)] if cookie else []
    message.use_edns(0, dns.flags.DO if do else 0, EDNS_PAYLOAD, options=options)

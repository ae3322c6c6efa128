"""What a name server makes of a message a client sent (RFC 1035 §4.1.1, RFC 6891 §7):
a query to answer, a FORMERR, or nothing at all.

As BIND's ``ns__client_request`` does it: fewer bytes than a header, or a message with
QR set (a response, perhaps a reflection), is dropped without a word — answering
those would let anyone bounce packets off the server. A message with a good header
that does not parse, or that does not ask exactly one question, is answered FORMERR:
the header alone, with the query's id, opcode and RD, QR set, no question section
(BIND's ``ns_client_error`` falls back to that when the question cannot be read).
"""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode

#: RFC 1035 §4.1.1: a message starts with a 12-byte header.
HEADER_SIZE = 12

_QR = 0x80          # in the header's third byte
_OPCODE = 0x78
_RD = 0x01


def read_query(wire: bytes) -> dns.message.Message | None:
    """The client's question, or None when the message is not one to answer as asked."""
    if len(wire) < HEADER_SIZE or wire[2] & _QR:
        return None
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:      # the peer's bytes: FORMERR or silence
        return None
    return query if len(query.question) == 1 else None


def format_error(wire: bytes) -> bytes | None:
    """The FORMERR answer to a message :func:`read_query` refused, or None for one a
    server drops (too short for a header, or a response)."""
    if len(wire) < HEADER_SIZE or wire[2] & _QR:
        return None
    answer = dns.message.Message(id=int.from_bytes(wire[:2], "big"))
    answer.flags = dns.flags.QR | (dns.flags.RD if wire[2] & _RD else 0)
    answer.set_opcode(dns.opcode.from_flags((wire[2] & _OPCODE) << 8))
    answer.set_rcode(dns.rcode.FORMERR)
    return answer.to_wire()

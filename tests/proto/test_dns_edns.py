"""The authoritative server's answers as dnspython's own client functions take them —
``dns.query.udp``, ``dns.query.tcp``, ``dns.query.udp_with_fallback`` over a socket that
hands each message to the engine — and what RFC 6891 (EDNS), RFC 4592 (wildcards), RFC
2308 (negative TTL) and RFC 8020 (empty non-terminals) ask of them."""

import socket

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from netsim.proto.dns import Authority, load_zone

SOA = "@ 3600 SOA ns1 admin 1 7200 900 1209600 300"
BIG = "big TXT " + " ".join(f'"{"x" * 200}"' for _ in range(8))           # 1,600 bytes
MEDIUM = "medium TXT " + " ".join(f'"{"x" * 200}"' for _ in range(4))     # 800 bytes
SERVER = Authority([load_zone("163.com", [SOA, "@ NS ns1", "ns1 A 10.0.3.53", BIG, MEDIUM,
                                          "*.shop A 10.0.3.99", "*.alias CNAME www",
                                          "www A 10.0.3.80", "a.b.deep A 10.0.3.7"])])
WHERE = "10.0.3.53"


class EngineSocket:
    """What dnspython's query functions need of a socket: a UDP datagram or TCP bytes to
    the server engine, its answer back."""

    family = socket.AF_INET

    def __init__(self, *, tcp=False):
        self.tcp, self.pending, self.sent = tcp, b"", []
        self.type = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM

    def sendto(self, wire, destination):
        assert destination[:2] == (WHERE, 53)
        self.sent.append(wire)
        self.pending = SERVER.answer(wire, udp=True)
        return len(wire)

    def recvfrom(self, _size):
        return self.pending, (WHERE, 53)

    def sendall(self, data):
        size = int.from_bytes(data[:2], "big")
        self.sent.append(data[2:2 + size])
        answer = SERVER.answer(data[2:2 + size], udp=False)
        self.pending = len(answer).to_bytes(2, "big") + answer
        return len(data)

    send = sendall

    def recv(self, size):
        out, self.pending = self.pending[:size], self.pending[size:]
        return out

    def getpeername(self):
        return (WHERE, 53)

    def setblocking(self, _flag):
        pass


@pytest.fixture(autouse=True)
def no_select(monkeypatch):
    """The socket is always ready: dnspython's waits would select() on a real descriptor."""
    monkeypatch.setattr(dns.query, "_wait_for", lambda *args: True)


def ask(name, rdtype="A", **edns):
    query = dns.message.make_query(name, rdtype, **edns)
    return query, dns.query.udp(query, WHERE, sock=EngineSocket())


def test_a_small_edns_buffer_gets_a_truncated_answer_with_opt_not_no_answer():
    """RFC 6891 §7: a query advertising 512 bytes for an 800-byte answer is answered,
    truncated, TC set, the OPT record still in it (dnspython's TooBig was raised before,
    and the client got nothing)."""
    query, response = ask("medium.163.com", "TXT", use_edns=0, payload=512)
    assert response.flags & dns.flags.TC and not response.answer
    assert response.edns == 0 and response.payload == 1232 and response.id == query.id


def test_the_advertised_size_is_honoured_up_to_the_servers_own_limit():
    _q, fits = ask("medium.163.com", "TXT", use_edns=0, payload=1232)
    assert not fits.flags & dns.flags.TC and len(fits.answer[0][0].strings) == 4
    _q, plain = ask("medium.163.com", "TXT")                  # no EDNS: 512 bytes at most
    assert plain.flags & dns.flags.TC and plain.edns == -1
    _q, capped = ask("big.163.com", "TXT", use_edns=0, payload=4096)   # 1,600 > 1232
    assert capped.flags & dns.flags.TC and capped.edns == 0


def test_dnspython_falls_back_to_tcp_and_gets_the_whole_answer():
    query = dns.message.make_query("big.163.com", "TXT", use_edns=0, payload=1232)
    udp, tcp = EngineSocket(), EngineSocket(tcp=True)
    response, used_tcp = dns.query.udp_with_fallback(query, WHERE, udp_sock=udp, tcp_sock=tcp)
    assert used_tcp and len(response.answer[0][0].strings) == 8 and response.edns == 0
    response = dns.query.tcp(dns.message.make_query("www.163.com", "A"), WHERE, sock=EngineSocket(tcp=True))
    assert response.answer[0].to_text() == "www.163.com. 3600 IN A 10.0.3.80"


def test_opt_is_echoed_with_do_and_an_unknown_version_is_badvers():
    _q, response = ask("www.163.com", use_edns=0, ednsflags=dns.flags.DO, payload=1232)
    assert response.edns == 0 and response.ednsflags & dns.flags.DO
    _q, response = ask("www.163.com", use_edns=0, options=[dns.edns.GenericOption(10, b"12345678")])
    assert response.edns == 0 and not response.ednsflags & dns.flags.DO
    _q, response = ask("www.163.com", use_edns=1)
    assert response.rcode() == dns.rcode.BADVERS and response.edns == 0 and not response.answer


def test_a_wildcard_answers_for_names_that_do_not_exist():
    """RFC 4592 §3.3.1: records synthesised under the name asked, AA set; a CNAME at the
    wildcard is followed; a name that exists is not covered (NODATA for it)."""
    _q, response = ask("anything.shop.163.com")
    assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
    assert response.answer[0].to_text() == "anything.shop.163.com. 3600 IN A 10.0.3.99"
    _q, deeper = ask("a.b.shop.163.com")
    assert deeper.answer[0].name.to_text() == "a.b.shop.163.com."
    _q, alias = ask("x.alias.163.com")
    assert [r.to_text() for r in alias.answer] == ["x.alias.163.com. 3600 IN CNAME www.163.com.",
                                                   "www.163.com. 3600 IN A 10.0.3.80"]
    _q, mx = ask("anything.shop.163.com", "MX")
    assert mx.rcode() == dns.rcode.NOERROR and not mx.answer and mx.authority[0].rdtype == dns.rdatatype.SOA


def test_an_empty_non_terminal_is_nodata_and_a_missing_name_nxdomain_with_the_negative_ttl():
    """RFC 8020 §2: a name with names below it exists (NODATA, not NXDOMAIN); the SOA of
    a negative answer has the lesser of its TTL and its MINIMUM (RFC 2308 §3)."""
    _q, ent = ask("b.deep.163.com")
    assert ent.rcode() == dns.rcode.NOERROR and not ent.answer
    _q, ent = ask("deep.163.com")
    assert ent.rcode() == dns.rcode.NOERROR and not ent.answer
    _q, missing = ask("nosuch.163.com")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.authority[0].ttl == 300                   # min(3600, MINIMUM 300)

"""The DNS engines in pairs over a fake wire: root, TLD and domain servers, a resolver."""

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from netsim.proto.dns import (Authority, Release, Resolved, Resolver, SendQuery, ZoneError, load_zone,
                              to_wire)

SOA = "@ SOA ns1 admin 1 7200 900 1209600 300"
ROOT = Authority([load_zone(".", [SOA.replace("ns1", "a.root-servers.net."),
                                  "@ NS a.root-servers.net.", "a.root-servers.net. A 198.41.0.4",
                                  "com. NS a.gtld-servers.net.", "a.gtld-servers.net. A 192.5.6.30",
                                  "net. NS a.gtld-servers.net."])])
COM = Authority([load_zone("com", [SOA, "@ NS a.gtld-servers.net.",
                                   "163.com. NS ns1.163.com.", "ns1.163.com. A 10.0.3.53",
                                   "glueless.com. NS ns.other.net."]),
                 load_zone("net", [SOA, "@ NS a.gtld-servers.net.", "other.net. NS ns.other.net.",
                                   "ns.other.net. A 10.0.7.53"])])
DOMAIN = Authority([load_zone("163.com", [SOA, "@ NS ns1", "ns1 A 10.0.3.53", "@ MX 10 mail",
                                          "mail 600 A 10.0.3.25", "www 300 CNAME mail",
                                          "big TXT " + " ".join(f'"{"x" * 200}"' for _ in range(8)),
                                          "medium TXT " + " ".join(f'"{"x" * 200}"' for _ in range(4))])])
OTHER = Authority([load_zone("other.net", [SOA, "@ NS ns", "ns A 10.0.7.53"]),
                   load_zone("glueless.com", [SOA, "@ NS ns.other.net.", "www A 10.0.8.80"])])


class Wire:
    def __init__(self, servers, silent=()):
        self.servers = servers
        self.silent = set(silent)
        self.now = 0.0
        self.sent = []
        self.open_ports = set()

    def run(self, resolver, until=60.0):
        results = []
        for _ in range(10_000):
            outs = resolver.outputs()
            for out in outs:
                if isinstance(out, Resolved):
                    results.append(out)
                    continue
                if isinstance(out, Release):
                    self.open_ports.remove(out.port)
                    continue
                assert isinstance(out, SendQuery)
                if not out.tcp:
                    self.open_ports.add(out.port)
                query = dns.message.from_wire(out.wire)        # dnspython parses what we send
                self.sent.append((out.server, query.question[0].name.to_text(), out.tcp))
                if out.server in self.silent:
                    continue
                response = self.servers[out.server].respond(query, udp=not out.tcp)
                wire = to_wire(response, udp=not out.tcp)
                dns.message.from_wire(wire)
                self.now += 0.01
                resolver.receive(wire, self.now, out.server, out.port)
            if not outs:
                timer = resolver.get_timer()
                if timer is None or timer > until:
                    return results
                self.now = max(self.now, timer)
                resolver.handle_timer(self.now)
        raise AssertionError("no end")


SERVERS = {"198.41.0.4": ROOT, "192.5.6.30": COM, "10.0.3.53": DOMAIN, "10.0.7.53": OTHER}
HINTS = [("a.root-servers.net.", "198.41.0.4")]


def answer_of(result):
    return [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype), sorted(rd.to_text() for rd in r))
            for r in result.response.answer]


def test_iterative_resolution_follows_referrals_and_cnames_then_caches():
    wire = Wire(SERVERS)
    resolver = Resolver(root_hints=HINTS)
    resolver.lookup("www.163.com", "A", "first", wire.now)
    (result,) = wire.run(resolver)
    assert result.response.rcode() == dns.rcode.NOERROR
    assert answer_of(result) == [("www.163.com.", "CNAME", ["mail.163.com."]),
                                 ("mail.163.com.", "A", ["10.0.3.25"])]
    assert [s for s, _n, _t in wire.sent] == ["198.41.0.4", "192.5.6.30", "10.0.3.53"]
    before = resolver.upstream_queries
    resolver.lookup("www.163.com", "A", "again", wire.now)
    (again,) = wire.run(resolver)
    assert resolver.upstream_queries == before                     # nothing went upstream
    assert answer_of(again) == answer_of(result)
    wire.now += 301                                                # the CNAME's TTL runs out
    resolver.lookup("www.163.com", "A", "later", wire.now)
    wire.run(resolver)
    assert resolver.upstream_queries == before + 1                 # only the 163.com server again


def test_nxdomain_is_cached_for_the_soa_minimum():
    wire = Wire(SERVERS)
    resolver = Resolver(root_hints=HINTS)
    resolver.lookup("nope.163.com", "A", 1, 0.0)
    (result,) = wire.run(resolver)
    assert result.response.rcode() == dns.rcode.NXDOMAIN
    assert result.response.authority[0].rdtype == dns.rdatatype.SOA
    count = resolver.upstream_queries
    resolver.lookup("nope.163.com", "A", 2, wire.now + 100)
    wire.run(resolver)
    assert resolver.upstream_queries == count
    resolver.lookup("nope.163.com", "A", 3, wire.now + 400)        # past the 300 s minimum
    wire.run(resolver)
    assert resolver.upstream_queries == count + 1


def test_no_data_answer_and_mx_with_additional_addresses():
    response = DOMAIN.respond(dns.message.make_query("mail.163.com", "MX"))
    assert response.rcode() == dns.rcode.NOERROR and not response.answer
    assert response.flags & dns.flags.AA and response.authority[0].rdtype == dns.rdatatype.SOA
    mx = DOMAIN.respond(dns.message.make_query("163.com", "MX"))
    assert [r.rdtype for r in mx.additional] == [dns.rdatatype.A]


def test_a_referral_carries_ns_and_glue_without_aa():
    response = COM.respond(dns.message.make_query("www.163.com", "A"))
    assert not response.flags & dns.flags.AA and not response.answer
    assert response.authority[0].to_text().endswith("NS ns1.163.com.")
    assert response.additional[0].to_text().endswith("A 10.0.3.53")


def test_a_name_in_no_zone_is_refused():
    assert DOMAIN.respond(dns.message.make_query("example.org", "A")).rcode() == dns.rcode.REFUSED


def test_a_response_too_big_for_udp_is_truncated_and_asked_again_over_tcp():
    big = DOMAIN.respond(dns.message.make_query("big.163.com", "TXT"))
    short = dns.message.from_wire(to_wire(big, udp=True))
    assert short.flags & dns.flags.TC and not short.answer
    wire = Wire(SERVERS)
    resolver = Resolver(root_hints=HINTS)
    resolver.lookup("big.163.com", "TXT", 1, 0.0)
    (result,) = wire.run(resolver)
    assert result.response.answer and wire.sent[-1] == ("10.0.3.53", "big.163.com.", True)


def test_glueless_delegation_is_resolved_through_the_ns_name():
    wire = Wire(SERVERS)
    resolver = Resolver(root_hints=HINTS)
    resolver.lookup("www.glueless.com", "A", 1, 0.0)
    (result,) = wire.run(resolver)
    assert answer_of(result) == [("www.glueless.com.", "A", ["10.0.8.80"])]
    assert ("10.0.7.53", "www.glueless.com.", False) in wire.sent


def test_a_server_that_never_answers_is_given_up_for_the_next_then_servfail():
    wire = Wire(SERVERS, silent={"198.41.0.4"})
    resolver = Resolver(root_hints=HINTS + [("b.root-servers.net.", "192.5.6.30")], timeout=2.0)
    resolver.lookup("www.163.com", "A", 1, 0.0)
    (result,) = wire.run(resolver)
    assert result.response.rcode() == dns.rcode.NOERROR           # the second hint answered
    dead = Wire(SERVERS, silent={"198.41.0.4"})
    lonely = Resolver(root_hints=HINTS, timeout=2.0, tries=3)
    lonely.lookup("www.163.com", "A", 1, 0.0)
    (result,) = dead.run(lonely)
    assert result.response.rcode() == dns.rcode.SERVFAIL
    assert len(dead.sent) == 3 and dead.now == pytest.approx(6.0)


def test_forwarding_asks_one_server_with_recursion_desired():
    class Recursive:
        def respond(self, query, udp=True):
            assert query.flags & dns.flags.RD
            inner = Resolver(root_hints=HINTS)
            inner.lookup(query.question[0].name, query.question[0].rdtype, 0, 0.0)
            (done,) = Wire(SERVERS).run(inner)
            response = dns.message.make_response(query)
            response.answer = done.response.answer
            return response
    wire = Wire({"10.0.0.53": Recursive()})
    resolver = Resolver(forward="10.0.0.53")
    resolver.lookup("mail.163.com", "A", 1, 0.0)
    (result,) = wire.run(resolver)
    assert answer_of(result) == [("mail.163.com.", "A", ["10.0.3.25"])]


def test_bad_zones_are_refused_with_a_reason():
    with pytest.raises(ZoneError, match="no SOA"):
        load_zone("x.com", ["@ NS ns1"])
    with pytest.raises(ZoneError, match="no NS"):
        load_zone("x.com", [SOA])
    with pytest.raises(ZoneError):
        load_zone("x.com", [SOA, "@ NS ns1", "www A not-an-address"])


def spoofs_then_answers(resolver, spoof):
    """Run one lookup of www.163.com; before each real answer, ``spoof(query)`` is
    delivered first (the wire's bytes and the address they come from)."""
    wire = Wire(SERVERS)
    real_receive = resolver.receive

    def receive(data, now, server, port):
        query = dns.message.from_wire(asked[-1][1])
        fake, source = spoof(query, asked[-1][0])
        real_receive(fake, now, source, port)
        real_receive(data, now, server, port)

    asked = []
    real_outputs = resolver.outputs

    def outputs():
        out = real_outputs()
        asked.extend((o.server, o.wire) for o in out if isinstance(o, SendQuery))
        return out

    resolver.outputs, resolver.receive = outputs, receive
    resolver.lookup("www.163.com", "A", "tag", 0.0)
    return wire.run(resolver, until=30.0)


def forged(query, *, name=None, address="6.6.6.6"):
    fake = dns.message.make_query(name or query.question[0].name, query.question[0].rdtype)
    fake.id = query.id
    response = dns.message.make_response(fake)
    response.flags |= dns.flags.AA
    response.answer.append(dns.rrset.from_text(response.question[0].name, 300, "IN", "A", address))
    return response.to_wire()


@pytest.mark.parametrize("spoof", [
    lambda query, server: (forged(query, name="www.evil.com"), server),      # another question
    lambda query, server: (forged(query), "10.9.9.9"),                       # another address
    lambda query, server: (b"\x00" * 30, server),                            # garbage
], ids=["other question, right id", "from another address", "garbage"])
def test_a_forged_or_garbled_response_is_ignored_and_the_real_answer_still_counts(spoof):
    """RFC 5452 §9.1: only the answer from the server asked, to the question asked, is
    taken. A forged answer to another question with the right id used to take the
    query off the waiting list, so the real answer was dropped and the lookup hung."""
    (result,) = spoofs_then_answers(Resolver(root_hints=HINTS), spoof)
    assert answer_of(result) == [("www.163.com.", "CNAME", ["mail.163.com."]),
                                 ("mail.163.com.", "A", ["10.0.3.25"])]


def test_a_server_answers_formerr_to_what_it_cannot_read_and_nothing_to_what_is_no_query():
    from netsim.proto.dns.queries import format_error, read_query

    query = dns.message.make_query("www.163.com", "A")
    assert read_query(query.to_wire()).question == query.question
    two = query.to_wire()[:5] + b"\x02" + query.to_wire()[6:] + query.to_wire()[12:]
    for unreadable in (query.to_wire()[:-3], two):         # cut short; two questions
        assert read_query(unreadable) is None
        formerr = dns.message.from_wire(format_error(unreadable))
        assert (formerr.id, formerr.rcode(), formerr.question) == (query.id, dns.rcode.FORMERR, [])
        assert formerr.flags & dns.flags.QR and formerr.flags & dns.flags.RD
    response = dns.message.make_response(query).to_wire()
    for dropped in (query.to_wire()[:11], response):        # no header; a response
        assert read_query(dropped) is None and format_error(dropped) is None

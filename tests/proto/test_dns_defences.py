"""The resolver and the stub resolver defend as real ones do (RFC 5452 §9.1, RFC 2181
§5.4.1): a random ID and source port per query from the seeded generator, an answer
taken only on that port with that ID, QR and question, only records in the bailiwick of
the server asked cached, a cache that stays bounded; and the 1990s resolver
(``randomize=False``) that does none of it. Also RFC 8020 and RFC 9156's walk."""

import random

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from netsim.proto.dns import Authority, Release, Resolved, Resolver, load_zone, to_wire
from netsim.proto.dns.cache import Cache
from netsim.proto.dns.resolver import ID_COUNT, PORT_COUNT
from netsim.proto.dns.stub import Ask, StubResolver

SOA = "@ SOA ns admin 1 7200 900 1209600 300"
ROOT = Authority([load_zone(".", ["@ SOA a.root. admin 1 7200 900 1209600 300", "@ NS a.root.",
                                  "a.root. A 10.0.0.1", "test. NS ns.test.", "ns.test. A 10.0.0.2"])])
TEST = Authority([load_zone("test", [SOA, "@ NS ns", "ns A 10.0.0.2",
                                     "bank.test. NS ns.bank.test.", "ns.bank.test. A 10.0.0.3",
                                     "evil.test. NS ns.evil.test.", "ns.evil.test. A 10.0.0.4"])])
BANK = Authority([load_zone("bank.test", [SOA, "@ NS ns", "ns A 10.0.0.3", "www A 10.0.0.80",
                                          "a.b.c A 10.0.0.81"])])


class Evil:
    """evil.test's server: its answers carry records for names it has no say over."""

    def respond(self, query, udp=True):
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        name = query.question[0].name
        response.answer.append(dns.rrset.from_text(name, 300, "IN", "A", "10.0.0.66"))
        response.answer.append(dns.rrset.from_text("www.bank.test.", 86400, "IN", "A", "6.6.6.6"))
        response.additional.append(dns.rrset.from_text("ns.bank.test.", 86400, "IN", "A", "6.6.6.6"))
        return response


SERVERS = {"10.0.0.1": ROOT, "10.0.0.2": TEST, "10.0.0.3": BANK, "10.0.0.4": Evil()}
HINTS = [("a.root.", "10.0.0.1")]


def run(resolver, *, now=0.0, forge=None):
    """Deliver each query to its server and the answer back to the port it came from;
    ``forge(query_out)`` may return datagrams (wire, server, port) delivered first."""
    done, sent = [], []
    open_ports = set()
    for _ in range(1000):
        outs = resolver.outputs()
        if not outs:
            return done, sent, open_ports
        for out in outs:
            if isinstance(out, Resolved):
                done.append(out)
            elif isinstance(out, Release):
                open_ports.discard(out.port)
            else:
                query = dns.message.from_wire(out.wire)
                sent.append((out, query))
                open_ports.add(out.port)
                for wire, server, port in (forge(out, query) if forge else []):
                    resolver.receive(wire, now, server, port)
                response = SERVERS[out.server].respond(query, udp=True)
                resolver.receive(to_wire(response, udp=True), now, out.server, out.port)
    raise AssertionError("no end")


def test_every_query_has_its_own_random_port_and_id_drawn_from_the_seed():
    resolver = Resolver(root_hints=HINTS, rng=random.Random(1))
    resolver.lookup("www.bank.test", "A", "t", 0.0)
    (done,), sent, open_ports = run(resolver)
    assert done.response.answer[0].to_text() == "www.bank.test. 3600 IN A 10.0.0.80"
    ports = [out.port for out, _q in sent]
    ids = [q.id for _o, q in sent]
    assert len(sent) == 3 and len(set(ports)) == 3 and len(set(ids)) == 3
    assert all(1024 <= p <= 65535 for p in ports)
    assert open_ports == set()                             # every port given back
    again = Resolver(root_hints=HINTS, rng=random.Random(1))
    again.lookup("www.bank.test", "A", "t", 0.0)
    assert [(o.port, q.id) for o, q in run(again)[1]] == list(zip(ports, ids))   # deterministic
    assert resolver.answer_space == ID_COUNT * PORT_COUNT == 65536 * 64512


def test_a_1990s_resolver_counts_its_ids_and_asks_from_one_port():
    resolver = Resolver(root_hints=HINTS, rng=random.Random(1), randomize=False)
    resolver.lookup("www.bank.test", "A", "t", 0.0)
    _done, sent, open_ports = run(resolver)
    ids = [q.id for _o, q in sent]
    assert ids == [(ids[0] + i) % 65536 for i in range(3)]
    assert {o.port for o, _q in sent} == {resolver.fixed_port} == open_ports
    assert resolver.answer_space == 1


def forged(query, address="6.6.6.6", *, qr=True, name=None, qid=None):
    fake = dns.message.make_query(name or query.question[0].name, query.question[0].rdtype)
    fake.id = query.id if qid is None else qid
    response = dns.message.make_response(fake)
    response.flags |= dns.flags.AA
    if not qr:
        response.flags &= ~dns.flags.QR
    response.answer.append(dns.rrset.from_text(response.question[0].name, 300, "IN", "A", address))
    return response.to_wire()


@pytest.mark.parametrize("how", ["another port", "another id", "another address", "no QR",
                                 "another question"])
def test_a_forged_answer_that_misses_any_check_is_unwanted(how):
    def forge(out, query):
        if out.server != "10.0.0.3":
            return []
        return [{"another port": (forged(query), out.server, out.port ^ 1),
                 "another id": (forged(query, qid=query.id ^ 1), out.server, out.port),
                 "another address": (forged(query), "10.0.0.9", out.port),
                 "no QR": (forged(query, qr=False), out.server, out.port),
                 "another question": (forged(query, name="x.bank.test"), out.server, out.port),
                 }[how]]

    resolver = Resolver(root_hints=HINTS, rng=random.Random(2))
    resolver.lookup("www.bank.test", "A", "t", 0.0)
    (done,), _sent, _ports = run(resolver, forge=forge)
    assert done.response.answer[0].to_text() == "www.bank.test. 3600 IN A 10.0.0.80"
    assert resolver.unwanted == 1


def test_records_out_of_the_bailiwick_of_the_server_asked_are_not_cached():
    """The server for evil.test answers x.evil.test and adds www.bank.test A 6.6.6.6 and
    ns.bank.test A 6.6.6.6: neither is believed (RFC 2181 §5.4.1); the 1990s resolver
    believes both, and sends the next client of www.bank.test to 6.6.6.6."""
    for randomize, expected in ((True, "10.0.0.80"), (False, "6.6.6.6")):
        resolver = Resolver(root_hints=HINTS, rng=random.Random(3), randomize=randomize)
        resolver.lookup("x.evil.test", "A", "evil", 0.0)
        (evil,), _s, _p = run(resolver)
        assert evil.response.answer[0].to_text() == "x.evil.test. 300 IN A 10.0.0.66"
        resolver.lookup("www.bank.test", "A", "bank", 1.0)
        (bank,), _s, _p = run(resolver, now=1.0)
        assert bank.response.answer[0][0].address == expected, randomize
    assert Resolver(root_hints=HINTS).out_of_bailiwick == 0


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    cache = Cache(size=3)
    rrsets = [dns.rrset.from_text(f"n{i}.test.", 300, "IN", "A", "10.0.0.1") for i in range(4)]
    for rrset in rrsets[:3]:
        cache.put(rrset, 0.0)
    assert cache.get(rrsets[0].name, dns.rdatatype.A, 1.0) is not None     # n0 used: newest
    cache.put(rrsets[3], 1.0)
    assert cache.get(rrsets[1].name, dns.rdatatype.A, 1.0) is None          # n1 went
    assert len(cache) == 3 and cache.evicted == 1
    assert cache.get(rrsets[0].name, dns.rdatatype.A, 301.0) is None        # expired
    resolver = Resolver(root_hints=HINTS, rng=random.Random(4), cache_size=5)
    for i in range(20):
        resolver.lookup(f"n{i}.bank.test", "A", i, float(i))
        run(resolver, now=float(i))
    assert len(resolver.cache) <= 5 and resolver.cache.evicted > 0


def test_an_nxdomain_holds_for_every_type_and_every_name_below_it():
    """RFC 8020 §2: nosuch.bank.test does not exist, so neither does its MX nor
    a.nosuch.bank.test — all answered from the cache, for min(SOA TTL, MINIMUM)."""
    resolver = Resolver(root_hints=HINTS, rng=random.Random(5))
    resolver.lookup("nosuch.bank.test", "A", 1, 0.0)
    (first,), _s, _p = run(resolver)
    assert first.response.rcode() == dns.rcode.NXDOMAIN
    count = resolver.upstream_queries
    for name, rdtype in (("nosuch.bank.test", "MX"), ("a.nosuch.bank.test", "A")):
        resolver.lookup(name, rdtype, 2, 10.0)
        (cached,), _s, _p = run(resolver, now=10.0)
        assert cached.response.rcode() == dns.rcode.NXDOMAIN and cached.upstream == 0
        assert cached.response.authority[0].ttl == 290              # 300 − 10 s
    assert resolver.upstream_queries == count
    resolver.lookup("nosuch.bank.test", "MX", 3, 301.0)               # past the minimum
    run(resolver, now=301.0)
    assert resolver.upstream_queries == count + 1


def test_qname_minimisation_tells_each_server_one_label_more_than_its_zone():
    """RFC 9156 as Unbound asks: the root hears test. A, test's server bank.test. A, and
    only bank.test's server the whole name — label by label below its zone too, through
    an empty non-terminal (c.bank.test, b.c.bank.test: NODATA) to a.b.c.bank.test."""
    resolver = Resolver(root_hints=HINTS, rng=random.Random(6))
    resolver.lookup("a.b.c.bank.test", "A", "t", 0.0)
    (done,), sent, _p = run(resolver)
    assert done.response.answer[0].to_text() == "a.b.c.bank.test. 3600 IN A 10.0.0.81"
    assert [(o.server, q.question[0].to_text()) for o, q in sent] == [
        ("10.0.0.1", "test. IN A"), ("10.0.0.2", "bank.test. IN A"),
        ("10.0.0.3", "c.bank.test. IN A"), ("10.0.0.3", "b.c.bank.test. IN A"),
        ("10.0.0.3", "a.b.c.bank.test. IN A")]
    assert all(q.edns == 0 and q.ednsflags & dns.flags.DO and q.payload == 1232 for _o, q in sent)
    assert done.asked[0] == "10.0.0.1 test. A"
    textbook = Resolver(root_hints=HINTS, rng=random.Random(6), qname_minimisation=False)
    textbook.lookup("a.b.c.bank.test", "A", "t", 0.0)
    assert [q.question[0].name.to_text() for _o, q in run(textbook)[1]] == ["a.b.c.bank.test."] * 3


def test_the_stub_resolver_draws_a_port_and_an_id_per_lookup_and_checks_both():
    stub = StubResolver([1], rng=random.Random(7))
    stub.lookup("www.bank.test", "A", "a", 0.0)
    stub.lookup("www.bank.test", "A", "b", 0.0)
    asks = [o for o in stub.outputs() if isinstance(o, Ask)]
    assert len({a.port for a in asks}) == 2 and all(32768 <= a.port <= 60999 for a in asks)
    queries = [dns.message.from_wire(a.wire) for a in asks]
    assert queries[0].id != queries[1].id and queries[0].edns == -1     # glibc: no EDNS
    right = to_wire(BANK.respond(queries[0]), udp=True)
    stub.receive(right, 1, 0.1, asks[1].port)                           # the other lookup's port
    assert stub.outputs() == []
    stub.receive(right, 1, 0.1, asks[0].port)
    (release, answer) = stub.outputs()
    assert answer.tag == "a" and answer.addresses == ("10.0.0.80",) and release.port == asks[0].port

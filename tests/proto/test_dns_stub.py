"""The stub resolver against an authoritative server standing in for a recursive one,
and against servers that never answer (resolv.conf's timeout and attempts)."""

import dns.flags
import dns.message

from netsim.proto.dns import Authority, load_zone, to_wire
from netsim.proto.dns.stub import NOT_KNOWN, TRY_AGAIN, Answer, Ask, Release, StubResolver

ZONE = Authority([load_zone("example.com", ["@ SOA ns admin 1 7200 900 1209600 300", "@ NS ns",
                                            "ns A 10.0.0.53", "www CNAME web", "web A 10.0.0.80",
                                            "@ MX 10 mail", "mail A 10.0.0.25"])])


def run(stub, answering=(1,), until=60.0):
    """Carry the stub's queries to servers 1, 2, …; those in ``answering`` reply."""
    now, answers, asked = 0.0, [], []
    while True:
        outs = stub.outputs()
        while outs:
            out = outs.pop(0)
            if isinstance(out, Answer):
                answers.append(out)
                continue
            if isinstance(out, Release):
                continue
            assert isinstance(out, Ask)
            query = dns.message.from_wire(out.wire)
            assert query.flags & dns.flags.RD                 # a stub asks for recursion
            asked.append((now, out.server))
            if out.server in answering:
                stub.receive(to_wire(ZONE.respond(query, udp=True), udp=True), out.server, now,
                             out.port)
            outs += stub.outputs()
        timer = stub.get_timer()
        if timer is None or timer > until:
            return answers, asked
        now = timer
        stub.handle_timer(now)


def test_an_answer_follows_the_cname_to_the_address():
    stub = StubResolver([1])
    stub.lookup("www.example.com", "A", "t", 0.0)
    (answer,), asked = run(stub)
    assert answer.addresses == ("10.0.0.80",) and answer.error is None and len(asked) == 1


def test_nxdomain_is_name_or_service_not_known_and_nodata_no_address():
    stub = StubResolver([1])
    stub.lookup("nosuch.example.com", "A", "a", 0.0)
    stub.lookup("example.com", "A", "b", 0.0)
    answers, _ = run(stub)
    by_tag = {a.tag: a for a in answers}
    assert by_tag["a"].error == NOT_KNOWN
    assert by_tag["b"].error == "No address associated with hostname"


def test_other_record_types():
    stub = StubResolver([1])
    stub.lookup("example.com", "MX", "mx", 0.0)
    (answer,), _ = run(stub)
    assert answer.addresses == ("10 mail.example.com.",)


def test_a_silent_server_is_skipped_after_the_timeout_and_the_list_is_tried_twice():
    stub = StubResolver([1, 2], timeout=5.0, attempts=2)
    stub.lookup("web.example.com", "A", "t", 0.0)
    (answer,), asked = run(stub, answering=())
    assert [s for _, s in asked] == [1, 2, 1, 2]
    assert [t for t, _ in asked] == [0.0, 5.0, 10.0, 15.0]
    assert answer.error == TRY_AGAIN
    stub = StubResolver([1, 2], timeout=5.0)
    stub.lookup("web.example.com", "A", "t", 0.0)
    (answer,), asked = run(stub, answering=(2,))
    assert answer.addresses == ("10.0.0.80",) and [s for _, s in asked] == [1, 2]


def test_no_servers_and_garbage():
    stub = StubResolver([])
    stub.lookup("www.example.com", "A", "t", 0.0)
    assert stub.outputs()[0].error == TRY_AGAIN
    stub = StubResolver([1])
    stub.lookup("www.example.com", "A", "t", 0.0)
    (ask,) = stub.outputs()
    stub.receive(b"\x00garbage", 1, 0.1, ask.port)
    assert stub.outputs() == [] and stub.get_timer() == 5.0


def test_a_name_no_query_can_carry_is_not_known_and_nothing_is_sent():
    # A mail peer's 70-letter label reached the relay's MX lookup: dnspython raised
    # LabelTooLong out of the stub (found by the hostile-peer fuzzer).
    from netsim.proto.dns.stub import NOT_KNOWN, StubResolver
    stub = StubResolver([167772161])
    for name in ("a" * 70 + ".com", "x." * 130 + "com", "a..b", "\ufffd\ufffdexample"):
        stub.lookup(name, "MX", name, 0.0)
    answers = stub.outputs()
    assert [a.error for a in answers] == [NOT_KNOWN] * 4
    assert stub.queries_sent == 0

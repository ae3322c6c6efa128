"""dig's engine (BIND 9.18 dighost.c) against hostile answers: what it prints, what it
waits on, and what ends the lookup as the peer's error."""

import itertools

import dns.flags
import dns.message
import dns.rrset
import pytest

from netsim.errors import PeerError
from netsim.proto.dns.dig import (Answered, Ask, AskTcp, DigEngine, Say, TcpFailed, Unreachable,
                                  hex_dump)

SERVER = "10.0.0.53"
FROM_SERVER = (SERVER, 53)


def engine(**options):
    ids = itertools.count(1000)
    dig = DigEngine("www.163.com", "A", SERVER, new_id=lambda: next(ids), **options)
    dig.start(0.0)
    return dig


def sent(dig):
    """The queries the engine sent (parsed), and the lines it said."""
    out = dig.outputs()
    return ([dns.message.from_wire(o.wire) for o in out if isinstance(o, (Ask, AskTcp))],
            [o.text for o in out if isinstance(o, Say)], out)


def answer_to(query, *, tc=False):
    response = dns.message.make_response(query)
    if tc:
        response.flags |= dns.flags.TC
    else:
        response.answer.append(dns.rrset.from_text("www.163.com.", 300, "IN", "A", "10.3.0.80"))
    return response.to_wire()


def test_a_clean_answer_is_the_lookups_answer():
    dig = engine()
    (query,), _lines, _out = sent(dig)
    dig.receive(answer_to(query), FROM_SERVER, 0.02)
    _q, lines, out = sent(dig)
    assert lines == [] and dig.finished and dig.error is None
    assert [type(o) for o in out] == [Answered] and out[0].transport == "UDP"


def test_answers_with_wrong_ids_short_ones_and_other_questions_are_warned_of_and_waited_past():
    dig = engine()
    (query,), _lines, _out = sent(dig)
    wrong_id = bytearray(answer_to(query))
    wrong_id[:2] = (query.id + 1).to_bytes(2, "big")
    dig.receive(bytes(wrong_id), FROM_SERVER, 0.01)
    dig.receive(b"\x03\xe8\x81", FROM_SERVER, 0.01)
    other = dns.message.make_query("www.evil.com", "A")
    other.id = query.id
    dig.receive(dns.message.make_response(other).to_wire(), FROM_SERVER, 0.01)
    _q, lines, _out = sent(dig)
    assert lines == [f";; Warning: ID mismatch: expected ID {query.id}, got {query.id + 1}",
                     ";; Warning: short (< header size) message received",
                     ";; ;; Question section mismatch: got www.evil.com/A/IN"]
    assert not dig.finished
    dig.receive(answer_to(query), FROM_SERVER, 0.02)                # the real one still counts
    assert dig.finished and dig.error is None


@pytest.mark.parametrize("source", [("10.0.0.66", 53), (SERVER, 5353)])
def test_an_answer_from_another_address_or_port_is_not_the_answer(source):
    dig = engine()
    (query,), _lines, _out = sent(dig)
    dig.receive(answer_to(query), source, 0.01)
    _q, lines, _out = sent(dig)
    assert lines == [f";; reply from unexpected source: {source[0]}#{source[1]}, "
                     f"expected {SERVER}#53"]
    assert not dig.finished and dig.response is None


def compression_loop(query) -> bytes:
    """A response whose question name is a pointer to itself (offset 12)."""
    return query.id.to_bytes(2, "big") + b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00" + \
        b"\xc0\x0c\x00\x01\x00\x01"


@pytest.mark.parametrize("bad, said", [
    (lambda q: q.id.to_bytes(2, "big") + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + b"\x03www",
     "FORMERR"),
    (compression_loop, "bad compression pointer"),
], ids=["garbled", "compression loop"])
def test_an_answer_that_does_not_parse_ends_the_lookup_as_dig_says(bad, said):
    dig = engine()
    (query,), _lines, _out = sent(dig)
    wire = bad(query)
    with pytest.raises(PeerError) as error:
        dig.receive(wire, FROM_SERVER, 0.01)
    assert error.value.message == f";; Got bad packet: {said}"
    _q, lines, _out = sent(dig)
    assert lines == [f";; Got bad packet: {said}", f"{len(wire)} bytes", *hex_dump(wire)[1:]]
    assert dig.finished and dig.error == f"Got bad packet: {said}" and dig.get_timer() is None
    dig.receive(answer_to(query), FROM_SERVER, 0.02)                # dig has exited
    assert dig.response is None


def test_the_hex_dump_is_dighosts():
    row = "00 01 41 42 43 7e" + " 00" * 10 + " "
    assert hex_dump(b"\x00\x01ABC~" + bytes(12)) == [
        "18 bytes",
        row + " " * 9 + "..ABC...........",             # '!'..'}' as text, '~' is not
        "00 00 " + " " * 42 + " " * 9 + ".."]


def truncated_then_tcp():
    dig = engine()
    (query,), _lines, _out = sent(dig)
    dig.receive(answer_to(query, tc=True), FROM_SERVER, 0.01)
    (again,), lines, out = sent(dig)
    assert lines == [";; Truncated, retrying in TCP mode."]
    assert isinstance(out[-1], AskTcp) and again.id == query.id
    return dig, query


def test_a_truncated_answer_is_asked_again_over_tcp_and_the_tcp_answer_counts():
    dig, query = truncated_then_tcp()
    wire = answer_to(query)
    dig.tcp_answer(wire, 0.05)
    _q, _lines, out = sent(dig)
    assert [type(o) for o in out] == [Answered]
    assert out[0].transport == "TCP" and out[0].size == len(wire)


@pytest.mark.parametrize("mangle, said", [
    (lambda q, w: (q.id ^ 1).to_bytes(2, "big") + w[2:], "ERROR: ID mismatch: expected ID {id}, got {other}"),
    (lambda q, w: w[:5], "ERROR: short (< header size) message"),
    (lambda q, w: w[:-3], "Got bad packet: FORMERR"),
], ids=["wrong id", "short", "garbled"])
def test_over_tcp_a_wrong_id_a_short_or_garbled_answer_ends_the_lookup(mangle, said):
    dig, query = truncated_then_tcp()
    wire = mangle(query, answer_to(query))
    said = said.format(id=query.id, other=query.id ^ 1)
    with pytest.raises(PeerError) as error:
        dig.tcp_answer(wire, 0.05)
    assert error.value.message == ";; " + said
    _q, lines, _out = sent(dig)
    assert lines[0] == ";; " + said and dig.error == said and dig.finished


def test_a_tcp_connection_that_ends_without_an_answer_is_a_communications_error():
    dig, _query = truncated_then_tcp()
    dig.tcp_failed("end of file", 0.05)
    _q, _lines, out = sent(dig)
    assert out == [TcpFailed(SERVER, "end of file")]
    assert dig.error == f"communications error to {SERVER}#53: end of file"


def test_each_try_has_a_new_id_and_silence_is_unreachable():
    dig = engine(timeout=2.0, tries=3)
    ids = [sent(dig)[0][0].id]
    for t in (2.0, 4.0):
        assert dig.get_timer() == t
        dig.handle_timer(t)
        ids.append(sent(dig)[0][0].id)
    dig.handle_timer(6.0)
    _q, _lines, out = sent(dig)
    assert ids == [1000, 1001, 1002] and out == [Unreachable(SERVER)]
    assert dig.error == "no servers could be reached" and dig.attempts == 3


def test_dig_plus_tcp_asks_over_tcp_from_the_start():
    dig = engine(tcp=True)
    (query,), _lines, out = sent(dig)
    assert [type(o) for o in out] == [AskTcp] and dig.get_timer() is None   # TCP's own timer
    dig.receive(answer_to(query), FROM_SERVER, 0.01)                 # UDP is not listened to
    wire = answer_to(query)
    dig.tcp_answer(wire, 0.03)
    _q, _lines, out = sent(dig)
    assert [(type(o), o.transport, o.size) for o in out] == [(Answered, "TCP", len(wire))]


def test_dig_plus_tcp_refused_is_a_communications_error():
    dig = engine(tcp=True)
    sent(dig)
    dig.tcp_failed("connection refused", 0.01)
    _q, _lines, out = sent(dig)
    assert out == [TcpFailed(SERVER, "connection refused")]
    assert dig.finished and dig.error == f"communications error to {SERVER}#53: connection refused"

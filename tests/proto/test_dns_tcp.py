"""DNS over TCP's framing engines (RFC 1035 §4.2.2, RFC 7766): a query's client side and
a server's session, fed bytes cut in every way a stream may cut them."""

import pytest

from netsim.proto.dns.tcp import (Answer, MessageBuffer, Query, TcpQuery, TcpSession, frame)
from netsim.proto.stream import Close, Failed, Send

MESSAGE = bytes(range(40))


def test_a_message_cut_anywhere_comes_out_whole_and_two_in_one_read_come_out_two():
    wire = frame(MESSAGE) + frame(b"second message")
    for cut in range(len(wire) + 1):
        buffer = MessageBuffer()
        assert buffer.feed(wire[:cut]) + buffer.feed(wire[cut:]) == [MESSAGE, b"second message"]
        assert buffer.pending == 0
    assert frame(b"")[:2] == b"\x00\x00"
    with pytest.raises(ValueError):
        frame(bytes(70000))


def test_a_query_goes_out_framed_and_its_answer_ends_the_connection():
    query = TcpQuery(b"query-bytes", timeout=5.0)
    query.start(1.0)
    assert query.outputs() == [Send(b"\x00\x0bquery-bytes")]
    wire = frame(MESSAGE)
    query.receive(wire[:1], 1.1)
    query.receive(wire[1:30], 1.2)
    assert query.outputs() == []
    query.receive(wire[30:] + frame(b"more than asked for"), 1.3)
    assert query.outputs() == [Answer(MESSAGE), Close()]
    assert query.get_timer() is None
    query.receive(frame(b"late"), 1.4)
    query.connection_lost(1.5)
    assert query.outputs() == []


@pytest.mark.parametrize("sent", [b"", b"\x00", b"\xff\xff" + bytes(100), b"\x00\x20" + bytes(31)],
                         ids=["nothing", "half a length", "65535 with 100 bytes", "one byte short"])
def test_a_connection_closed_before_the_whole_answer_is_end_of_file(sent):
    query = TcpQuery(b"q", timeout=5.0)
    query.start(0.0)
    query.outputs()
    query.receive(sent, 0.1)
    query.connection_lost(0.2)
    assert query.outputs() == [Failed("end of file")]


def test_no_whole_answer_in_time_is_timed_out():
    query = TcpQuery(b"q", timeout=5.0)
    query.start(2.0)
    query.outputs()
    query.receive(b"\xff\xff" + bytes(1000), 3.0)         # a length of 65535, then silence
    assert query.get_timer() == 7.0
    query.handle_timer(6.9)
    assert query.outputs() == []
    query.handle_timer(7.0)
    assert query.outputs() == [Failed("timed out")]
    assert query.get_timer() is None


def test_a_session_hands_out_each_query_and_frames_each_reply_in_any_order():
    session = TcpSession()
    session.start(0.0)
    session.receive(frame(b"first") + frame(b"sec"), 0.5)
    session.receive(frame(b"third")[:3], 0.6)              # not whole yet
    assert session.outputs() == [Query(b"first"), Query(b"sec")]
    assert session.get_timer() is None                     # answers are owed: never idle
    session.reply(b"answer two", 0.7)
    session.reply(None, 0.8)                               # a query it drops
    assert session.outputs() == [Send(frame(b"answer two"))]
    assert session.get_timer() == 0.8 + 30.0


def test_an_idle_session_closes_after_thirty_seconds():
    session = TcpSession()
    session.start(1.0)
    assert session.get_timer() == 31.0
    session.receive(b"\x00", 2.0)                          # half a length: nothing asked
    assert session.get_timer() == 32.0
    session.handle_timer(31.0)
    assert session.outputs() == []
    session.handle_timer(32.0)
    assert session.outputs() == [Close("idle")]

"""How a connection ends, engines in pairs: the Linux stack's three-segment close (the
ACK of the peer's FIN waits, as tcp_fin's ping-pong mode makes it, and rides on a prompt
close()'s FIN), the textbook's four segments, and Linux's FIN-WAIT-2 timeout for an
orphaned connection (tcp_fin_timeout, 60 s)."""

from netsim.proto.tcp import Segment, TcpConnection
from netsim.proto.tcp import events as ev
from netsim.proto.tcp.profile import LINUX, TEXTBOOK
from netsim.proto.tcp.segment import ACK, FIN, PSH, SYN
from tests.proto.tcp_pair import TcpPair


def connected(options, latency=0.02):
    pair = TcpPair(dict(options), dict(options), latency=latency)
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=0.5)
    return pair


def run_closing_at_eof(pair, conn, *, after=0.0, until=5.0):
    """Run the pair; ``conn``'s application closes ``after`` seconds past reading the
    peer's end of stream (StreamDriver._lost closes at once: ``after=0``)."""
    while not any(isinstance(e, ev.PeerClosed) for e in pair.events[id(conn)]):
        assert pair.step(until), "the peer's FIN never came"
    pair.pump()                   # the stack's work done before the application runs
    if after:
        pair.run(until=pair.now + after)
    conn.close(pair.now)
    pair.run(until=until)


def sent_counts(pair):
    return {"client": len(pair.sent[id(pair.client)]), "server": len(pair.sent[id(pair.server)])}


def test_linux_closes_in_three_segments_when_the_application_closes_at_eof():
    pair = connected(LINUX)
    before = sent_counts(pair)
    pair.client.close(pair.now)
    run_closing_at_eof(pair, pair.server)
    # FIN, then the server's FIN carrying the ACK of the client's FIN, then the last ACK.
    client_fin = pair.sent[id(pair.client)][before["client"]]
    server_fin, = pair.sent[id(pair.server)][before["server"]:]
    assert client_fin.flags == FIN | ACK
    assert server_fin.flags == FIN | ACK and server_fin.ack == client_fin.seq + 1
    assert len(pair.sent[id(pair.client)]) - before["client"] == 2      # FIN, last ACK
    assert pair.states() == ("TIME-WAIT", "CLOSED")


def test_linux_sends_the_ack_of_a_fin_after_the_delayed_ack_timeout_if_no_close_comes():
    pair = connected(LINUX)
    before = sent_counts(pair)
    pair.client.close(pair.now)
    run_closing_at_eof(pair, pair.server, after=0.5)
    server = pair.sent[id(pair.server)][before["server"]:]
    # A pure ACK when the delayed-ACK timer fires, the FIN when the app closes.
    assert [s.flags for s in server] == [ACK, FIN | ACK]
    assert server[0].ack == server[1].ack == pair.sent[id(pair.client)][before["client"]].seq + 1
    assert pair.states() == ("TIME-WAIT", "CLOSED")


def established_server(**options):
    """A Linux server connection fed a handshake by hand (no timestamps, so the
    segments below need none; quick-ACK mode over)."""
    server = TcpConnection(iss=5000, **dict(LINUX, quickack=0, **options))
    server.listen()
    server.receive(Segment(1000, 0, SYN, 64240, b"", 1460, 7), 0.0)
    server.receive(Segment(1001, 5001, ACK, 502), 0.01)
    server.outputs()
    return server


def segments(outputs):
    return [o for o in outputs if isinstance(o, Segment)]


def drained(conn):
    """Everything the stack sends before the application runs: outputs until none."""
    out = []
    while batch := conn.outputs():
        out += batch
    return out


def test_the_ack_of_a_lone_fin_waits_for_the_delayed_ack_timer():
    server = established_server()
    server.receive(Segment(1001, 5001, FIN | ACK | PSH, 502, b"x" * 100), 1.0)
    assert segments(drained(server)) == []                # not at once: ping-pong mode
    assert server.get_timer() == 1.04                    # TCP_DELACK_MIN
    server.handle_timer(1.04)
    ack, = segments(drained(server))
    assert ack.flags == ACK and ack.ack == 1001 + 100 + 1


def test_a_fin_after_more_than_a_full_unacked_segment_is_acked_at_once():
    server = established_server()
    server.receive(Segment(1001, 5001, ACK, 502, b"a" * 1460), 1.0)
    assert segments(drained(server)) == []                # one segment: delayed
    server.receive(Segment(2461, 5001, FIN | ACK | PSH, 502, b"b" * 1460), 1.001)
    # rcv_nxt − rcv_wup > rcv_mss: __tcp_ack_snd_check sends it at once, FIN included.
    ack, = segments(drained(server))
    assert ack.flags == ACK and ack.ack == 2461 + 1460 + 1


def test_the_textbook_stack_acks_the_fin_at_once_four_segments():
    pair = connected(TEXTBOOK)
    before = sent_counts(pair)
    pair.client.close(pair.now)
    run_closing_at_eof(pair, pair.server)
    assert [s.flags for s in pair.sent[id(pair.server)][before["server"]:]] == [ACK, FIN | ACK]
    assert [s.flags for s in pair.sent[id(pair.client)][before["client"]:]] == [FIN | ACK, ACK]


def test_an_orphaned_linux_connection_leaves_fin_wait_2_after_60_seconds():
    pair = connected(LINUX)
    pair.client.close(pair.now)                           # the server never closes
    closed_at = pair.now
    pair.run(until=closed_at + 59.0)
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")
    pair.run(until=closed_at + 61.0)
    assert pair.states() == ("CLOSED", "CLOSE-WAIT")
    assert pair.client.closed_reason == "fin-timeout"
    # Gone without a segment (the timewait bucket just expires).
    assert pair.sent[id(pair.client)][-1].flags == FIN | ACK
    assert [e for e in pair.events[id(pair.client)] if isinstance(e, ev.StateChanged)][-1] == \
        ev.StateChanged(old="FIN-WAIT-2", new="CLOSED")


def test_a_shut_down_connection_and_the_textbook_stack_wait_in_fin_wait_2():
    for options, end in ((LINUX, "shutdown"), (TEXTBOOK, "close")):
        pair = connected(options)
        getattr(pair.client, end)(pair.now)
        pair.run(until=pair.now + 300)
        assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT"), (options is LINUX, end)


def test_close_after_shutdown_orphans_a_connection_already_in_fin_wait_2():
    pair = connected(LINUX)
    pair.client.shutdown(pair.now)
    pair.run(until=pair.now + 10)
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")
    pair.client.close(pair.now)
    pair.run(until=pair.now + 61)
    assert pair.client.closed_reason == "fin-timeout"


def test_the_peers_fin_within_the_timeout_ends_in_time_wait_as_usual():
    pair = connected(LINUX)
    pair.client.close(pair.now)
    pair.run(until=pair.now + 30)
    pair.server.close(pair.now)
    pair.run(until=pair.now + 1)
    assert pair.states() == ("TIME-WAIT", "CLOSED")
    pair.run(until=pair.now + 61)
    assert pair.client.closed_reason == "normal"

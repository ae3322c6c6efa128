"""TCP against hostile or odd peers: MSS 0, RST in TIME-WAIT (RFC 1337)."""

from netsim.proto.tcp import RST, SYN, Segment, State, TcpConnection
from tests.proto.tcp_pair import TcpPair, closed_into_time_wait


def test_a_peer_advertising_mss_zero_does_not_wedge_the_connection():
    server = TcpConnection(iss=5000)
    server.listen()
    server.receive(Segment(1000, 0, SYN, 65535, b"", 0, None), 0.0)   # SYN with MSS 0
    assert server.send_mss == 536                                     # RFC 9293 §3.7.1 default
    assert server.cc.cwnd > 0

    pair = TcpPair(client_options={"mss": 1460})
    real_receive = pair.server.receive

    def zero_mss(seg, now):
        if seg.flags & SYN:
            seg = Segment(seg.seq, seg.ack, seg.flags, seg.window, seg.payload, 0, seg.wscale)
        real_receive(seg, now)
    pair.server.receive = zero_mss
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=1.0)
    pair.server.send(b"x" * 20_000, pair.now)
    pair.server.close(pair.now)
    pair.run(until=30.0)
    assert bytes(pair.received[id(pair.client)]) == b"x" * 20_000


def test_time_wait_ignores_rst():
    pair = closed_into_time_wait()
    client = pair.client
    assert client.state is State.TIME_WAIT
    # A late RST with an acceptable sequence number (the peer, gone from LAST-ACK to
    # CLOSED, answering a late segment): TIME-WAIT carries on and the close stays normal.
    client.receive(Segment(client.rcv_nxt, 0, RST, 0), pair.now)
    assert client.state is State.TIME_WAIT
    pair.run()
    assert client.closed_reason == "normal"

"""The TCP engine in pairs over a fake wire: every transition, loss, zero window."""

import random

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from netsim.proto.tcp import (ACK, FIN, RST, SYN, TRANSITIONS, NewReno, Segment, State,
                              TcpConnection)
from netsim.proto.tcp.rtt import RttEstimator
from tests.proto.tcp_pair import TcpPair, closed_into_time_wait

S = State


def transitions_seen(pair, conn):
    return [(e.old, e.new) for e in pair.events[id(conn)] if type(e).__name__ == "StateChanged"]


def established():
    pair = TcpPair()
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=1.0)
    return pair


def test_three_way_handshake():
    pair = established()
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    kinds = [(s.flags & (SYN | ACK)) for s in pair.sent[id(pair.client)][:2]]
    assert kinds == [SYN, ACK]
    assert pair.sent[id(pair.server)][0].flags == SYN | ACK
    assert transitions_seen(pair, pair.client) == [("CLOSED", "SYN-SENT"), ("SYN-SENT", "ESTABLISHED")]
    assert transitions_seen(pair, pair.server) == [("CLOSED", "LISTEN"), ("LISTEN", "SYN-RECEIVED"),
                                                   ("SYN-RECEIVED", "ESTABLISHED")]
    syn = pair.sent[id(pair.client)][0]
    assert syn.mss == 1460 and syn.wscale == pair.client.rcv_wscale
    assert pair.client.snd_wscale == pair.server.rcv_wscale      # both offered: scaling is on


def test_active_close_passes_every_closing_state():
    pair = established()
    pair.client.close(pair.now)
    pair.run(until=pair.now + 0.05)                     # server ACKs the FIN, says nothing else
    assert pair.states() == ("FIN-WAIT-2", "CLOSE-WAIT")
    pair.server.close(pair.now)
    pair.run(until=pair.now + 0.05)
    assert pair.states() == ("TIME-WAIT", "CLOSED")
    pair.run()
    assert pair.states() == ("CLOSED", "CLOSED")
    assert transitions_seen(pair, pair.client)[2:] == [
        ("ESTABLISHED", "FIN-WAIT-1"), ("FIN-WAIT-1", "FIN-WAIT-2"), ("FIN-WAIT-2", "TIME-WAIT"),
        ("TIME-WAIT", "CLOSED")]
    assert transitions_seen(pair, pair.server)[3:] == [
        ("ESTABLISHED", "CLOSE-WAIT"), ("CLOSE-WAIT", "LAST-ACK"), ("LAST-ACK", "CLOSED")]
    assert pair.client.closed_reason == pair.server.closed_reason == "normal"


def test_time_wait_lasts_two_msl():
    pair = closed_into_time_wait({"msl": 2.0})
    entered = pair.now
    assert str(pair.client.state) == "TIME-WAIT"
    pair.run()
    closed_at = [e for e in pair.events[id(pair.client)] if type(e).__name__ == "Closed"]
    assert closed_at and pair.now == pytest.approx(entered + 4.0, abs=0.1)


def test_simultaneous_close_goes_through_closing():
    pair = established()
    pair.client.close(pair.now)
    pair.server.close(pair.now)                         # both FINs cross on the wire
    pair.run()
    assert ("FIN-WAIT-1", "CLOSING") in transitions_seen(pair, pair.client)
    assert ("CLOSING", "TIME-WAIT") in transitions_seen(pair, pair.client)
    assert pair.states() == ("CLOSED", "CLOSED")


def test_simultaneous_open():
    pair = TcpPair()
    pair.client.connect(0.0)
    pair.server.connect(0.0)                            # both active: SYNs cross
    pair.run(until=1.0)
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    for conn in (pair.client, pair.server):
        assert transitions_seen(pair, conn) == [("CLOSED", "SYN-SENT"), ("SYN-SENT", "SYN-RECEIVED"),
                                                ("SYN-RECEIVED", "ESTABLISHED")]


def test_close_in_listen_and_syn_sent_just_ends():
    listener = TcpConnection(iss=1)
    listener.listen()
    listener.close(0.0)
    assert listener.state is S.CLOSED
    opener = TcpConnection(iss=1)
    opener.connect(0.0)
    opener.close(0.0)
    assert opener.state is S.CLOSED and opener.get_timer() is None


def test_close_in_syn_received_sends_fin_after_handshake():
    pair = TcpPair()
    pair.server.listen()
    pair.client.connect(0.0)
    pair.step()                                         # SYN arrives at the server
    assert str(pair.server.state) == "SYN-RECEIVED"
    pair.server.close(pair.now)
    assert str(pair.server.state) == "FIN-WAIT-1"
    pair.run(until=pair.now + 0.5)
    assert pair.states() == ("CLOSE-WAIT", "FIN-WAIT-2")
    pair.client.close(pair.now)
    pair.run()
    assert pair.states() == ("CLOSED", "CLOSED")


def test_every_table_entry_is_exercised():
    """The transitions the tests above walk cover the whole table."""
    walked = set()
    pairs = []
    p = established(); p.client.close(p.now); p.run(until=p.now + 0.05); p.server.close(p.now); p.run()
    pairs.append(p)
    p = established(); p.client.close(p.now); p.server.close(p.now); p.run(); pairs.append(p)
    p = TcpPair(); p.client.connect(0.0); p.server.connect(0.0); p.run(); pairs.append(p)
    p = TcpPair(); p.server.listen(); p.client.connect(0.0); p.step(); p.server.close(p.now)
    p.run(until=p.now + 0.5); p.client.close(p.now); p.run()
    pairs.append(p)
    p = TcpPair(dict(fin_timeout=5.0)); p.server.listen(); p.client.connect(0.0)  # an orphan
    p.run(until=1.0); p.client.close(p.now); p.run(until=10.0); pairs.append(p)
    for p in pairs:
        for conn in (p.client, p.server):
            for e in p.events[id(conn)]:
                if type(e).__name__ == "StateChanged":
                    walked.add((e.old, e.new))
    for opening in ("listen", "connect"):              # closed before anything arrived
        conn = TcpConnection(iss=1)
        conn.listen() if opening == "listen" else conn.connect(0.0)
        conn.close(0.0)
        walked |= {(e.old, e.new) for e in conn.outputs() if type(e).__name__ == "StateChanged"}
    table = {(str(old), str(new)) for (old, _event), new in TRANSITIONS.items()}
    assert table <= walked, table - walked


def test_connection_refused_by_rst():
    client = TcpConnection(iss=100)
    client.connect(0.0)
    client.outputs()
    client.receive(Segment(0, 101, RST | ACK, 0), 0.01)
    assert client.state is S.CLOSED and client.closed_reason == "refused"


def test_rst_resets_an_established_connection():
    pair = established()
    pair.client.abort(pair.now)
    pair.run()
    assert pair.server.closed_reason == "reset" and pair.client.closed_reason == "aborted"
    assert pair.sent[id(pair.client)][-1].flags == RST


def test_half_close_still_receives():
    pair = established()
    pair.client.close(pair.now)
    pair.run(until=pair.now + 0.1)
    pair.server.send(b"late reply", pair.now)
    pair.run(until=pair.now + 0.1)
    assert bytes(pair.received[id(pair.client)]) == b"late reply"
    assert str(pair.client.state) == "FIN-WAIT-2"


def test_lost_syn_is_retransmitted_and_initial_window_is_one_segment():
    pair = TcpPair(mangle=lambda conn, seg, i: [] if (seg.flags & SYN and i == 0) else [0.0])
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=3.0)
    assert pair.states() == ("ESTABLISHED", "ESTABLISHED")
    assert sum(1 for s in pair.sent[id(pair.client)] if s.flags & SYN) == 2
    assert pair.client.cc.cwnd == pair.client.send_mss


def test_fast_retransmit_on_three_duplicate_acks_halves_cwnd():
    lost = {}

    def mangle(conn, seg, index):
        if conn is pair.client and seg.payload and not lost and seg.seq % (1 << 32) > 1000 + 10 * 1460:
            lost["seq"] = seg.seq
            return []
        return [0.0]
    pair = TcpPair(mangle=mangle)
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=1.0)
    pair.client.send(bytes(200_000), pair.now)
    before = []
    pair.run(until=pair.now + 5)
    assert pair.client.retransmissions["fast-retransmit"] == 1
    assert pair.client.retransmissions["timeout"] == 0
    assert len(pair.received[id(pair.server)]) == 200_000


def test_rto_backs_off_and_karn_skips_retransmitted_samples():
    rtt = RttEstimator(rto_initial=1.0, rto_min=0.2)
    rtt.sample(0.1)
    assert rtt.srtt == 0.1 and rtt.rttvar == 0.05 and rtt.rto == pytest.approx(0.3)
    rtt.back_off()
    rtt.back_off()
    assert rtt.rto == pytest.approx(1.2)
    rtt.sample(0.1)
    assert rtt.rto == pytest.approx(max(0.2, 0.1 + 4 * 0.0375))


def test_newreno_partial_and_full_acks():
    cc = NewReno(1000)
    cc.cwnd = 20_000
    for _ in range(3):
        retransmit = cc.on_duplicate_ack(20_000, 0, 20_000)
    assert retransmit and cc.ssthresh == 10_000 and cc.cwnd == 13_000 and cc.in_recovery
    assert cc.on_ack(5_000, 5_000, 15_000) is True              # partial: retransmit the next hole
    assert cc.on_ack(20_000, 15_000, 0) is False and cc.cwnd == 10_000 and not cc.in_recovery
    cc.on_timeout(8_000, 30_000)
    assert cc.cwnd == 1000 and cc.ssthresh == 4_000
    for _ in range(3):
        assert not cc.on_duplicate_ack(4_000, 25_000, 30_000)    # RFC 6582 §4.1


def read_for_twenty_seconds(pair) -> bytes:
    """The server's application reads everything every half second, for 20 s."""
    got = bytearray()
    for _ in range(40):
        got += pair.server.read(None, pair.now)
        pair.run(until=pair.now + 0.5)
    return bytes(got + pair.server.read(None, pair.now))


def test_zero_window_stalls_sender_and_probes_until_the_reader_reads():
    pair = TcpPair(server_options={"recv_buffer": 8192, "window_scaling": False})
    pair.auto_read[id(pair.server)] = False
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=1.0)
    pair.client.send(bytes(range(256)) * 100, pair.now)          # 25,600 bytes > 8 KiB
    pair.run(until=pair.now + 5)
    windows = [s.window for s in pair.sent[id(pair.server)]]
    assert 0 in windows
    assert pair.server.available == 8192
    probes = [s for s in pair.sent[id(pair.client)] if len(s.payload) == 1]
    assert len(probes) >= 2                                       # persist timer, backing off
    assert read_for_twenty_seconds(pair) == bytes(range(256)) * 100


def test_linux_probes_a_zero_window_with_an_empty_segment_below_snd_una():
    """Linux's tcp_write_wakeup → tcp_xmit_probe_skb(sk, 0): no data, seq = SND.UNA − 1,
    at RTO, 2·RTO, 4·RTO…; the receiver must answer each (RFC 9293 §3.10.7.4: an
    unacceptable segment gets an ACK), and the data survives."""
    linux = {"old_seq_window_probe": True, "persist_max": 120.0}
    pair = TcpPair(client_options=linux,
                   server_options={"recv_buffer": 8192, "window_scaling": False})
    pair.auto_read[id(pair.server)] = False
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=1.0)
    pair.client.send(bytes(range(256)) * 100, pair.now)
    pair.run(until=pair.now + 5)
    una = pair.client.snd_una
    probes = [s for s in pair.sent[id(pair.client)] if not s.payload and s.seq == (una - 1) % 2**32]
    assert len(probes) >= 3 and not [s for s in pair.sent[id(pair.client)] if len(s.payload) == 1]
    answers = [s for s in pair.sent[id(pair.server)] if s.window == 0]
    assert len(answers) >= len(probes) + 1                       # the zero window, then each probe
    assert read_for_twenty_seconds(pair) == bytes(range(256)) * 100


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(0, 40_000), seed=st.integers(0, 2**32 - 1),
       loss=st.floats(0, 0.25), dup=st.floats(0, 0.15), reorder=st.floats(0, 0.3),
       delayed_ack=st.sampled_from([0.0, 0.04]))
def test_bytes_arrive_in_order_whatever_the_wire_does(size, seed, loss, dup, reorder, delayed_ack):
    rng = random.Random(seed)
    data = rng.randbytes(size)

    def mangle(conn, seg, index):
        copies = []
        if rng.random() >= loss:
            copies.append(rng.random() * 0.05 if rng.random() < reorder else 0.0)
        if rng.random() < dup:
            copies.append(rng.random() * 0.05)
        return copies

    options = {"delayed_ack": delayed_ack, "msl": 0.2}
    pair = TcpPair(options, options, mangle=mangle)
    pair.server.listen()
    pair.client.connect(0.0)
    sent = closed = False
    for _ in range(100_000):
        if not pair.step():
            break
        if not sent and pair.client.state is S.ESTABLISHED:
            pair.client.send(data, pair.now)
            pair.client.close(pair.now)
            sent = True
        if pair.server.state is S.CLOSE_WAIT and not closed:
            pair.server.close(pair.now)
            closed = True
    timed_out = "timeout" in (pair.client.closed_reason, pair.server.closed_reason)
    event("gave up after retries" if timed_out else "delivered and closed")
    if timed_out:
        if pair.client.closed_reason == "normal" and bytes(pair.received[id(pair.server)]) == data:
            # The client's TIME-WAIT (2·MSL = 0.4 s here) ended before the server's backed-off
            # FIN retransmission came; a closed engine in this harness does not answer with
            # RST as a stack would, so the server gives up. Everything was delivered.
            return
        # Only a wire that lost eight copies in a row can do that; it must then be lossy.
        assert loss > 0.05
        return
    assert pair.states() == ("CLOSED", "CLOSED")
    assert bytes(pair.received[id(pair.server)]) == data


def test_newreno_allows_a_new_fast_retransmit_once_the_ack_covers_recover():
    """RFC 6582 §3.2 step 1: recover holds the highest sequence number sent; a new
    fast retransmit is allowed once the cumulative ACK covers it. (netsim kept one past
    it and compared with <=, so the next loss after a recovery waited for the RTO.)"""
    cc = NewReno(1000)
    cc.cwnd = 10_000
    assert [cc.on_duplicate_ack(10_000, 0, 10_000) for _ in range(3)] == [False, False, True]
    cc.on_ack(10_000, 10_000, 0)
    assert not cc.in_recovery
    assert [cc.on_duplicate_ack(5_000, 10_000, 15_000) for _ in range(3)] == [False, False, True]


def test_sender_silly_window_avoidance():
    """RFC 9293 §3.8.6.2.1: with more data queued, a sender sends a full segment, or at
    least half the largest window the peer has offered — never a sliver into a sliver
    of window (netsim sent 1176 bytes into a 1176-byte window, then 324 into 324)."""
    pair = TcpPair(server_options={"recv_buffer": 16384}, latency=0.005)
    pair.auto_read[id(pair.server)] = False
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=1.0)
    data = bytes(range(256)) * 160                                # 40,960 bytes
    pair.client.send(data, pair.now)
    got = bytearray()
    for _ in range(400):
        pair.run(until=pair.now + 0.01168)
        got += pair.server.read(1460, pair.now)                   # a reader at 1 Mbit/s
        if len(got) == len(data):
            break
    assert bytes(got) == data
    sizes = [len(s.payload) for s in pair.sent[id(pair.client)] if len(s.payload) > 1]
    assert all(n == 1460 or n >= 16384 // 2 for n in sizes[:-1]), sizes

"""The Linux stack's TCP (stack: linux), engines in pairs: options negotiated as Linux
negotiates them, timestamps echoed, SACK blocks reported and used to repair a burst of
losses in one round trip, CUBIC, IW10, quick then delayed ACKs, the FIN on the last data
segment. Each Linux value is cited where it is asserted."""

from netsim.proto.tcp.cubic import Cubic
from netsim.proto.tcp.profile import LINUX, TEXTBOOK
from tests.proto.tcp_pair import TcpPair


def linux_pair(mangle=None, latency=0.02, **extra):
    client = dict(LINUX, ts_offset=1000, **extra)
    server = dict(LINUX, ts_offset=900_000)
    return TcpPair(client, server, mangle=mangle, latency=latency)


def transfer(pair, size=200_000, until=60):
    data = bytes(range(256)) * (size // 256)
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=0.5)
    pair.client.send(data, pair.now)
    pair.client.close(pair.now)
    pair.run(until=until)
    assert bytes(pair.received[id(pair.server)]) == data
    return data


def test_syn_options_window_and_negotiation_as_linux():
    pair = linux_pair()
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=0.5)
    syn = pair.sent[id(pair.client)][0]
    # Linux 6.x SYN: mss 1460, sackOK, TS val … ecr 0, nop, wscale 7; window 64240.
    assert (syn.mss, syn.sack_perm, syn.ts, syn.wscale, syn.window) == (1460, True, (1000, 0), 7, 64240)
    synack = pair.sent[id(pair.server)][0]
    # The SYN-ACK's window counts 1448-byte segments (timestamps agreed): 45 × 1448.
    assert synack.ts == (900_020, 1000) and synack.sack_perm and synack.window == 65160
    # The first ACK rounds 64240 up to the scale's unit: 502 × 128 (what Linux sends).
    assert pair.sent[id(pair.client)][1].window == 502
    assert pair.client.sack_ok and pair.client.ts_ok and pair.server.sack_ok
    assert pair.client.send_mss == 1448            # 1460 − 12 bytes of timestamps
    assert isinstance(pair.client.cc, Cubic) and pair.client.cc.cwnd == 10 * 1448     # RFC 6928


def test_a_textbook_peer_gets_neither_sack_nor_timestamps():
    pair = TcpPair(dict(LINUX), dict(TEXTBOOK))
    pair.server.listen()
    pair.client.connect(0.0)
    pair.run(until=0.5)
    synack = pair.sent[id(pair.server)][0]
    assert not synack.sack_perm and synack.ts is None
    assert not pair.client.sack_ok and not pair.client.ts_ok and pair.client.send_mss == 1460
    assert all(s.ts is None for s in pair.sent[id(pair.client)][1:])


def test_timestamps_echo_the_peers_clock():
    pair = linux_pair()
    transfer(pair, 50_000)
    for seg in pair.sent[id(pair.server)][1:]:
        if seg.ts is not None:
            assert seg.ts[1] >= 1000 and seg.ts[0] >= 900_000


def test_quick_acks_first_then_every_second_segment():
    pair = linux_pair()
    transfer(pair, 200_000)
    acks = [s for s in pair.sent[id(pair.server)][1:] if not s.payload]
    data_acked = [a.ack for a in acks]
    steps = [b - a for a, b in zip(data_acked, data_acked[1:])]
    # Linux: TCP_MAX_QUICKACKS (16) segments acknowledged one by one, then one ACK per
    # two full segments.
    assert steps[:10] == [1448] * 10
    assert steps[20:40].count(2 * 1448) >= 15


def test_the_fin_rides_on_the_last_data_segment():
    pair = linux_pair()
    transfer(pair, 30_208)                   # more than the initial window: some waits
    last = [s for s in pair.sent[id(pair.client)] if s.payload][-1]
    assert last.flags & 0x01 and len(last.payload) == 30_208 - 20 * 1448
    assert not [s for s in pair.sent[id(pair.client)] if s.flags & 0x01 and not s.payload]


def drop_burst(first, count):
    def mangle(sender, seg, index):
        return [] if sender._want_sack and first <= index < first + count and seg.payload else [0.0]
    return mangle


def test_sack_repairs_a_burst_of_losses_in_one_round_trip():
    pair = linux_pair(mangle=drop_burst(30, 5))
    transfer(pair)
    client = pair.client
    assert client.retransmissions["timeout"] == 0
    blocks = [s.sack for s in pair.sent[id(pair.server)] if s.sack]
    assert blocks and all(len(b) <= 3 for b in blocks)
    sent = pair.sent[id(pair.client)]
    lost = {s.seq for s in sent[30:35]}
    resent = [i for i, s in enumerate(sent) if i >= 35 and s.seq in lost]
    assert len(resent) == 5 and client.retransmissions["fast-retransmit"] == 1
    # The five went out within one round trip: between the first and the last resend,
    # fewer new segments than a window's worth (they are not one RTT apart each).
    assert resent[-1] - resent[0] < 15


def test_newreno_without_sack_needs_a_round_trip_per_loss():
    def mangle(sender, seg, index):
        return [] if sender.iss == 1000 and 30 <= index < 35 and seg.payload else [0.0]
    pair = TcpPair(dict(TEXTBOOK), dict(TEXTBOOK), mangle=mangle, latency=0.02)
    transfer(pair)
    r = pair.client.retransmissions
    assert r["fast-retransmit"] == 1 and r["partial-ack"] == 4 and r["timeout"] == 0

"""The ping, traceroute and RARP engines against scripted or paired peers."""

from netsim.proto.ping import Line, PingEngine, SendEcho
from netsim.proto.rarp import Assigned, GaveUp, RarpClient, RarpServer, SendRarpReply, SendRarpRequest
from netsim.proto.traceroute import SendProbe, TracerouteEngine
from netsim.wire.addr import int_to_ip


def drain_timers(engine, until, on_output):
    now = 0.0
    while engine.get_timer() is not None and engine.get_timer() <= until:
        now = engine.get_timer()
        engine.handle_timer(now)
        for out in engine.outputs():
            on_output(out, now)
    return now


def test_ping_sends_count_requests_and_prints_statistics():
    ping = PingEngine("bob", "10.0.0.2", count=3, interval=1.0, size=56)
    ping.start(0.0)
    sent = []

    def echo(out, now):
        if isinstance(out, SendEcho):
            sent.append(out)
            if out.seq != 2:                             # the second one is lost
                ping.receive_reply(out.seq, 64, len(out.payload) + 8, "10.0.0.2", now + 0.010)
    for out in ping.outputs():
        echo(out, 0.0)
    drain_timers(ping, 100, echo)
    assert [s.seq for s in sent] == [1, 2, 3]
    assert all(len(s.payload) == 56 for s in sent)
    assert ping.done
    assert ping.lines[0] == "PING bob (10.0.0.2) 56(84) bytes of data."
    # iputils: pinged by name, it names the replier; a blank line before the statistics.
    assert "64 bytes from bob (10.0.0.2): icmp_seq=1 ttl=64 time=10.0 ms" in ping.lines
    i = ping.lines.index("--- bob ping statistics ---")
    assert ping.lines[i - 1] == "" and ping.lines[i + 1] == \
        "3 packets transmitted, 2 received, 33.3333% packet loss, time 2000ms"
    # The echo data as iputils fills it: a little-endian timeval, then each byte its offset.
    assert sent[1].payload[:16] == (1).to_bytes(8, "little") + (0).to_bytes(8, "little")
    assert sent[1].payload[16:] == bytes(range(16, 56))
    assert ping.lines[-1] == "rtt min/avg/max/mdev = 10.000/10.000/10.000/0.000 ms"
    assert ping.result()["received"] == 2


def test_ping_sequence_numbers_wrap_at_16_bits_as_on_the_wire():
    ping = PingEngine("bob", "10.0.0.2", count=65538, interval=0.001, size=8)
    ping.start(0.0)
    seqs = []

    def echo(out, now):
        if isinstance(out, SendEcho):
            seqs.append(out.seq)
            ping.receive_reply(out.seq, 64, 16, "10.0.0.2", now + 0.0001)
    for out in ping.outputs():
        echo(out, 0.0)
    drain_timers(ping, 70000, echo)
    assert seqs[:2] == [1, 2] and seqs[65534:] == [65535, 0, 1, 2]
    assert len(ping.rtts) == 65538                          # each answered its own request
    assert any("icmp_seq=0 ttl=64" in line for line in ping.lines[-10:])


def test_ping_reports_errors_like_the_real_tool():
    ping = PingEngine("x", "10.9.9.9", count=1)
    ping.start(0.0)
    ping.receive_error(1, 11, 0, "10.0.0.1", 0.001)
    assert "From 10.0.0.1 icmp_seq=1 Time to live exceeded" in ping.lines
    assert ping.done and "1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms" in ping.lines


class FakePath:
    """Routers at hops 1..n-1 answer time-exceeded, the target at hop n port-unreachable;
    ``silent`` hops never answer. Hop k answers ``delay(k)`` seconds after the probe
    (k milliseconds unless told)."""

    def __init__(self, hops, target, silent=(), delay=lambda hop: 0.001 * hop, code=3):
        self.hops, self.target, self.silent = hops, target, set(silent)
        self.delay, self.code = delay, code

    def answer(self, probe: SendProbe, now):
        """(when, src, type, code, dport) of the answer, or None."""
        hop = min(probe.ttl, len(self.hops))
        if hop in self.silent:
            return None
        icmp = (11, 0) if probe.ttl < len(self.hops) else (3, self.code)
        return (now + self.delay(hop), self.hops[hop - 1], *icmp, probe.dport)


def run_traceroute(path, **options):
    """The engine against ``path``, in time order; returns it and the probes (time, ttl)."""
    import heapq
    engine = TracerouteEngine("t", path.target, format_ip=int_to_ip, **options)
    engine.start(0.0)
    now, answers, sent = 0.0, [], []
    while not engine.done:
        for out in engine.outputs():
            if isinstance(out, SendProbe):
                sent.append((now, out.ttl, out.dport))
                answer = path.answer(out, now)
                if answer:
                    heapq.heappush(answers, answer)
        timer = engine.get_timer()
        if answers and (timer is None or answers[0][0] <= timer):
            now, *icmp = heapq.heappop(answers)
            engine.receive_icmp(*icmp, now)
        elif timer is not None:
            now = timer
            engine.handle_timer(now)
        else:
            break
    engine.sent = sent
    return engine


def test_traceroute_lists_each_hop_and_stops_at_port_unreachable():
    path = FakePath([0x0A000001, 0x0A000002, 0x0A000003], 0x0A000003)
    engine = run_traceroute(path, names={0x0A000001: "r1"})
    assert engine.done and engine.reached
    assert [h["probes"][0]["address"] for h in engine.hops] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert engine.lines[1] == " 1  r1 (10.0.0.1)  1.000 ms  1.000 ms  1.000 ms"
    assert engine.lines[3] == " 3  10.0.0.3  3.000 ms  3.000 ms  3.000 ms"
    assert len(engine.lines) == 4                   # answers past the target are ignored


def test_traceroute_sends_sixteen_probes_at_once_each_to_its_own_port():
    """traceroute 2.x's -N 16: the first 16 probes (hops 1–6) leave together."""
    path = FakePath(list(range(1, 11)), 10)
    engine = run_traceroute(path)
    first = [(ttl, port) for t, ttl, port in engine.sent if t == 0]
    assert [ttl for ttl, _ in first] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]
    assert [port for _, port in first] == list(range(33434, 33450))
    assert len(engine.hops) == 10 and engine.reached


def test_traceroute_one_at_a_time_when_asked():
    path = FakePath([1, 2, 3], 3)
    engine = run_traceroute(path, in_flight=1)
    assert [t for t, _ttl, _p in engine.sent] == sorted(t for t, _ttl, _p in engine.sent)
    assert len({t for t, _ttl, _p in engine.sent}) == 9          # each after the last answer


def test_traceroute_prints_stars_for_silent_hops_and_waits_less_once_later_hops_answer():
    """-w 5,3,10: a silent hop's probes wait 10 × a later hop's round trip, not 5 s."""
    path = FakePath([1, 2, 3], 3, silent={2})
    engine = run_traceroute(path)
    assert engine.lines[2] == " 2  * * *"
    assert engine.hops[1]["probes"] == [None, None, None]
    assert engine.reached
    assert max(t for t, _ttl, _p in engine.sent) < 0.1            # no 5-second waits


def test_traceroute_waits_five_seconds_for_a_slow_unreachable():
    """Three seconds of failed ARP at the last router end in !H, not * * *."""
    path = FakePath([1, 2, 3], 3, delay=lambda hop: 3.0 if hop == 3 else 0.001 * hop, code=1)
    engine = run_traceroute(path)
    assert engine.lines[3] == " 3  0.0.0.3  3000.000 ms !H  3000.000 ms !H  3000.000 ms !H"
    assert engine.done and not engine.reached


def test_traceroute_gives_up_at_max_hops():
    path = FakePath([1, 2, 3, 4, 5], 5)
    engine = run_traceroute(path, max_hops=2)
    assert engine.done and not engine.reached and len(engine.hops) == 2


def test_rarp_client_and_server_over_a_lossy_wire():
    mac = b"\x02\0\0\0\0\x42"
    client = RarpClient(mac, retry_interval=1.0)
    server = RarpServer({mac: 0x0A000042})
    client.start(0.0)
    lost_first = [True]
    now = 0.0
    for _ in range(10):
        for out in client.outputs():
            if isinstance(out, SendRarpRequest):
                if lost_first[0]:
                    lost_first[0] = False
                    continue
                server.receive(3, mac, 0, mac, 0, now)
                for reply in server.outputs():
                    assert isinstance(reply, SendRarpReply)
                    client.receive(4, b"\x02" * 6, 0x0A000001, reply.target_mac, reply.target_ip, now)
            elif isinstance(out, Assigned):
                assert out.ip == 0x0A000042 and out.server_ip == 0x0A000001
        if client.address is not None:
            break
        now = client.get_timer()
        client.handle_timer(now)
    assert client.address == 0x0A000042 and client.attempts == 2


def test_rarp_server_ignores_strangers_and_client_gives_up():
    server = RarpServer({b"\x02" * 6: 1})
    server.receive(3, b"\x04" * 6, 0, b"\x04" * 6, 0, 0)
    assert server.outputs() == []
    client = RarpClient(b"\x04" * 6, max_requests=2)
    client.start(0)
    outs = client.outputs()
    client.handle_timer(1.0)
    client.handle_timer(2.0)
    outs += client.outputs()
    assert sum(isinstance(o, SendRarpRequest) for o in outs) == 2
    assert isinstance(outs[-1], GaveUp) and client.get_timer() is None


def test_a_probe_times_out_at_the_very_instant_its_timer_names():
    """sent + wait can be an instant at which now - sent is a rounding error short of
    wait (1.2550690257394217 + 0.0123): the timer must still end the probe, or it fires
    at that instant forever — a run caught in a routing loop hung that way."""
    sent, wait = 1.2550690257394217, 0.0123
    assert (sent + wait) - sent < wait             # the float trap itself
    engine = TracerouteEngine("t", 0x0A000009, format_ip=int_to_ip, wait=wait, max_hops=1)
    engine.start(sent)
    deadline = engine.get_timer()
    assert deadline == sent + wait
    engine.handle_timer(deadline)
    assert engine.done and engine.lines[-1] == " 1  * * *"

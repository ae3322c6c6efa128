"""Hosts, routers and switches exchanging real frames."""

import pytest

from netsim import Ping, Traceroute, lan, line
from netsim.errors import TopologyError
from netsim.wire import Frame


def drops(net):
    return [r.reason for r in net.trace.records() if r.kind == "drop"]


def test_switch_learns_then_stops_flooding():
    net, sw, (h1, h2, h3) = lan(3)
    Ping(h1, target="h2", count=2)
    net.run(5)
    # The first ARP request is flooded to h2 and h3; after learning, h3 sees nothing more.
    h3_rx = [r for r in net.trace.records() if r.node == "h3" and r.kind == "rx"]
    assert len(h3_rx) == 1
    assert {mac for mac, _, _ in sw.table()} == {h1.interfaces["eth0"].mac.hex(":"),
                                                 h2.interfaces["eth0"].mac.hex(":")}
    assert sw.flooded == 1


def test_switch_entries_age_out():
    net, sw, (h1, h2) = lan(2)
    sw.aging = 1.0
    Ping(h1, target="h2", count=1)
    net.run(5)
    assert sw.table() == []


def test_router_decrements_ttl_and_fixes_checksum():
    net, (a, r, b) = line(["a", "r", "b"])
    Ping(a, target="b", count=1)
    net.run(5)
    trace = net.trace
    requests = [r_ for r_ in trace.records() if r_.kind == "tx" and r_.iface and
                trace.frame_bytes(r_.frame)[23] == 1 and trace.frame_bytes(r_.frame)[34] == 8]
    first, second = (trace.frame_bytes(x.frame) for x in requests)
    assert first[22] == 64 and second[22] == 63
    from netsim.wire import scapy_layers
    S = scapy_layers.load()
    pkt = S.Ether(second)
    checksum = pkt[S.IP].chksum
    del pkt[S.IP].chksum
    assert S.Ether(bytes(pkt))[S.IP].chksum == checksum


def test_ttl_expiry_and_no_route_answer_with_icmp():
    net, (a, r, b) = line(["a", "r", "b"])
    Ping(a, target="10.99.0.1", count=1)                  # a's default route → r has none
    net.run(5)
    assert "no-route" in drops(net)
    ping = net.apps[0]
    assert ping.result()["errors"] == 1
    assert any("Destination Net Unreachable" in line_ for line_ in ping.lines)


def test_arp_timeout_drops_with_reason_and_router_says_host_unreachable():
    net, (a, r, b) = line(["a", "r", "b"])
    b.clear_address(b.interfaces["eth0"])                   # b stops answering ARP
    Ping(a, target="10.0.2.2", count=1, wait=6)
    net.run(10)
    assert "arp-timeout" in drops(net)
    assert any("Destination Host Unreachable" in x for x in net.apps[0].lines)


def test_unbound_udp_port_answers_port_unreachable():
    net, (a, r, b) = line(["a", "r", "b"])
    sock = a.udp_open()
    net.at(0, lambda: sock.sendto(b"hello", ("10.0.2.2", 5555)))
    seen = []
    a.icmp_listeners.append(lambda src, t, c, *rest: seen.append((t, c)))
    net.run(2)
    assert seen == [(3, 3)]
    assert "port-unreachable" in drops(net)


@pytest.mark.parametrize("mangle, why", [
    (lambda d: d[:10], "too short for Ethernet"),
    (lambda d: d[:14] + bytes([0x65]) + d[15:], "IP version 6 in an IPv4 frame"),
    (lambda d: d[:24] + bytes([d[24] ^ 0xFF]) + d[25:], "bad IP checksum"),
    (lambda d: d[:16] + (2000).to_bytes(2, "big") + d[18:], "total length beyond the frame"),
    (lambda d: d[:40] + bytes([d[40] ^ 0xFF]) + d[41:], "bad UDP checksum"),
    (lambda d: d[:12] + b"\x08\x06" + bytes(10), "truncated ARP"),
])
def test_malformed_frames_are_dropped_with_a_reason_and_the_run_goes_on(mangle, why):
    net, (a, r, b) = line(["a", "r", "b"])
    sink = b.udp_open(7000)
    got = []
    sink.on_receive = lambda p, addr, now: got.append(p)
    sock = a.udp_open()
    net.at(0, lambda: sock.sendto(b"first", ("10.0.2.2", 7000)))
    net.run(1)
    good = next(net.trace.frame_bytes(x.frame) for x in net.trace.records()
                if x.node == "r" and x.kind == "rx" and net.trace.frame_bytes(x.frame)[23:24] == b"\x11")
    r_in = r.interfaces["eth0"]
    net.at(1.0, lambda: r.receive(Frame(mangle(good)), r_in))
    net.at(1.5, lambda: sock.sendto(b"after", ("10.0.2.2", 7000)))
    net.run(3)
    assert "malformed" in drops(net), why
    assert got == [b"first", b"after"]
    assert any(n.what == "malformed" for n in net.trace.notes)


def test_connecting_a_busy_interface_is_an_error():
    net, (a, r, b) = line(["a", "r", "b"])
    with pytest.raises(TopologyError):
        net.connect(a.interfaces["eth0"], r.add_interface())


def test_traceroute_through_a_python_built_chain():
    net, nodes = line(["src", "r1", "r2", "r3", "dst"], delay="1ms")
    trace = Traceroute(nodes[0], target="dst")
    net.run(30)
    result = trace.result()
    assert result["reached"]
    assert [h["probes"][0]["name"] for h in result["hops"]] == ["r1", "r2", "r3", "dst"]


def test_datagrams_larger_than_the_link_mtu_do_not_leave():
    net, (a, r, b) = line(["a", "r", "b"], mtu=576)
    got = []
    sink = b.udp_open(9)
    sink.on_receive = lambda p, addr, now: got.append(len(p))
    sock = a.udp_open()
    net.at(0, lambda: sock.sendto(bytes(548), ("10.0.2.2", 9)))       # 576 bytes of IP: fits
    net.at(1, lambda: sock.sendto(bytes(549), ("10.0.2.2", 9)))       # one byte too many
    net.run(3)
    assert got == [548]
    assert drops(net) == ["mtu-exceeded"]

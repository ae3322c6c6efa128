"""The stack at its edges: broadcast and self, martians, directed broadcasts, oversize
frames, forged RARP replies, frames nobody takes — each ends in the right place, with
a record."""

from netsim import Ping, run_scenario
from netsim.apps import Traceroute
from netsim.topo import lan, line
from netsim.wire import Frame
from netsim.wire.templates import ArpTemplate, IcmpTemplate, UdpTemplate
from netsim.wire import headers as h
from tests.conftest import SCENARIOS


def reasons(trace, frame_id=None):
    return [r.reason for r in trace.records() if r.kind == "drop"
            and (frame_id is None or r.frame == frame_id)]


def test_ping_to_the_subnet_broadcast_goes_to_everyone_and_linux_hosts_ignore_it():
    net, _switch, (a, _b, _c) = lan(["a", "b", "c"], seed=2)
    ping = Ping(a, target="10.0.0.255", count=1, wait=1)
    net.run(until=3)
    sent = [r for r in net.trace.records() if r.kind == "tx" and r.node == "a"]
    assert sent and all(net.trace.frame_bytes(r.frame)[0:6] == b"\xff" * 6 for r in sent)
    assert not any(r.protocol == "ARP" for r in sent)                 # no ARP for a broadcast
    assert reasons(net.trace).count("broadcast-echo-ignored") == 2     # b and c, quietly
    assert "0 received" in "\n".join(ping.lines)


def test_ping_and_traceroute_to_ones_own_address_go_round_loopback():
    net, (a, _r, _b) = line(["a", "r", "b"])
    ping = Ping(a, target=a.ip, count=2)
    trace = Traceroute(a, target=a.ip, at=3)
    net.run(until=10)
    assert "2 received, 0% packet loss" in "\n".join(ping.lines)
    assert trace.lines[-1].startswith(" 1  a (")
    assert not any(r.protocol == "ARP" for r in net.trace.records())
    assert {r.iface for r in net.trace.records() if r.kind in ("tx", "rx")} == {"lo"}
    assert all(not r.link for r in net.trace.records())                # in no capture
    localhost = Ping(a, target="127.0.0.1", count=1, at=20)
    net.run(until=25)
    assert "1 received" in "\n".join(localhost.lines)


def _router_lab():
    net, (a, r, b) = line(["a", "r", "b"], seed=5)
    net.run(until=0.001)
    return net, a, r, b


def _udp_from(a, r, src_ip, dst_ip, dst_mac=None):
    iface = a.interfaces["eth0"]
    template = UdpTemplate(iface.mac, dst_mac or r.interfaces["eth0"].mac, src_ip, dst_ip, 4000, 9)
    return Frame(template.build(b"hello", 1, 64))


def test_routers_drop_martians_and_unicast_in_link_broadcasts():
    net, a, r, b = _router_lab()
    b_ip = b.interfaces["eth0"].ip
    cases = [_udp_from(a, r, 0x7F000001, b_ip), _udp_from(a, r, 0, b_ip),
             _udp_from(a, r, a.interfaces["eth0"].ip, b_ip, dst_mac=b"\xff" * 6)]
    for frame in cases:
        r.receive(frame, r.interfaces["eth0"])
        assert reasons(net.trace, frame.id) == ["martian"]
    net.run(until=1)
    assert not any(rec.node == "b" for rec in net.trace.records() if rec.kind == "rx"
                   and rec.protocol == "UDP")


def test_a_router_does_not_forward_a_directed_broadcast():
    net, a, r, b = _router_lab()
    broadcast = b.interfaces["eth0"].broadcast
    frame = _udp_from(a, r, a.interfaces["eth0"].ip, broadcast)
    r.receive(frame, r.interfaces["eth0"])
    assert reasons(net.trace, frame.id) == ["directed-broadcast"]
    assert not any(rec.protocol == "ARP" and rec.node == "r" for rec in net.trace.records())


def test_a_switch_drops_a_frame_too_big_for_the_next_link():
    net, switch, (a, _b) = lan(["a", "b"], seed=1)
    net.run(until=0.001)
    giant = Frame(b"\xff" * 6 + a.interfaces["eth0"].mac + b"\x08\x00" + bytes(65_535 - 14))
    switch.receive(giant, switch.interfaces["eth0"])
    assert reasons(net.trace, giant.id) == ["oversize"]
    assert sum(1 for rec in net.trace.records() if rec.frame == giant.id and rec.kind == "tx") == 0


def test_a_forged_rarp_reply_is_refused_and_the_run_goes_on():
    from netsim.scenario.loader import parse_scenario
    text = (SCENARIOS / "rarp-boot.yaml").read_text().replace(
        "prefix: 24,", "prefix: 24, gateway: 10.1.0.1,")
    result = run_scenario(parse_scenario(text), until=0.5)
    net = result.network
    diskless = net.nodes["diskless"]
    iface = diskless.interfaces["eth0"]
    server = net.nodes["server"].interfaces["eth0"]
    forge = ArpTemplate(server.mac, server.ip, h.ETHERTYPE_RARP)
    for bad in (0, 0xFFFFFFFF, 0x0A630063):          # 0.0.0.0, broadcast, off the gateway's subnet
        frame = Frame(forge.build(h.RARP_REPLY, iface.mac, iface.mac, bad))
        diskless.receive(frame, iface)
        assert reasons(net.trace, frame.id) == ["rarp-bad-address"]
        assert iface.ip is None
    net.run(until=10)
    assert iface.ip is not None                     # the real server's answer still counts


def test_frames_nobody_takes_leave_a_record():
    net, a, r, b = _router_lab()
    b_if = b.interfaces["eth0"]
    icmp42 = IcmpTemplate(r.interfaces["eth1"].mac, b_if.mac, r.interfaces["eth1"].ip, b_if.ip, 42, 0)
    frame = Frame(icmp42.build(0, 0, b"", 1, 64))
    b.receive(frame, b_if)
    assert reasons(net.trace, frame.id) == ["unknown-icmp-type"]
    to_all = UdpTemplate(r.interfaces["eth1"].mac, b"\xff" * 6, r.interfaces["eth1"].ip,
                         0xFFFFFFFF, 5000, 5555)
    frame = Frame(to_all.build(b"anyone?", 2, 64))
    b.receive(frame, b_if)
    assert reasons(net.trace, frame.id) == ["no-listener"]
    for tiny in (b"", b"\x01", b"\x01\x02\x03\x04\x05"):
        frame = Frame(tiny)
        b.receive(frame, b_if)
        assert frame.id >= 0 and reasons(net.trace, frame.id) == ["malformed"]

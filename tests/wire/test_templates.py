"""The fast path's bytes equal Scapy's own build of the same fields (README design principle 5)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.wire import scapy_layers
from netsim.wire.addr import bytes_to_mac, int_to_ip
from netsim.wire.headers import ETHERTYPE_ARP, ETHERTYPE_RARP
from netsim.wire.templates import ArpTemplate, IcmpTemplate, UdpTemplate

S = scapy_layers.load()
macs = st.binary(min_size=6, max_size=6)
ips = st.integers(min_value=0, max_value=0xFFFFFFFF)
ports = st.integers(min_value=0, max_value=0xFFFF)
u16 = st.integers(min_value=0, max_value=0xFFFF)
ttls = st.integers(min_value=0, max_value=255)
payloads = st.binary(max_size=1400)


def ether_ip(src_mac, dst_mac, src, dst, ip_id, ttl, df):
    return (S.Ether(src=bytes_to_mac(src_mac), dst=bytes_to_mac(dst_mac))
            / S.IP(src=int_to_ip(src), dst=int_to_ip(dst), id=ip_id, ttl=ttl, flags="DF" if df else 0))


@settings(max_examples=300)
@given(macs, macs, ips, ips, ports, ports, payloads, u16, ttls, st.booleans())
def test_udp_template_matches_scapy(src_mac, dst_mac, src, dst, sport, dport, payload, ip_id, ttl, df):
    template = UdpTemplate(src_mac, dst_mac, src, dst, sport, dport, df=df)
    expected = bytes(ether_ip(src_mac, dst_mac, src, dst, ip_id, ttl, df)
                     / S.UDP(sport=sport, dport=dport) / S.Raw(payload))
    assert template.build(payload, ip_id, ttl) == expected


@settings(max_examples=300)
@given(macs, macs, ips, ips, st.sampled_from([0, 8]), u16, u16, payloads, u16, ttls)
def test_icmp_echo_template_matches_scapy(src_mac, dst_mac, src, dst, icmp_type, ident, seq,
                                          payload, ip_id, ttl):
    template = IcmpTemplate(src_mac, dst_mac, src, dst, icmp_type)
    expected = bytes(ether_ip(src_mac, dst_mac, src, dst, ip_id, ttl, True)
                     / S.ICMP(type=icmp_type, id=ident, seq=seq) / S.Raw(payload))
    assert template.build(ident, seq, payload, ip_id, ttl) == expected


@settings(max_examples=200)
@given(macs, macs, ips, ips, st.sampled_from([(3, 0), (3, 1), (3, 3), (3, 4), (11, 0)]),
       st.integers(68, 9000), st.binary(min_size=28, max_size=28), u16)
def test_icmp_error_template_matches_scapy(src_mac, dst_mac, src, dst, type_code, mtu, quote, ip_id):
    icmp_type, code = type_code
    word2 = mtu if type_code == (3, 4) else 0
    template = IcmpTemplate(src_mac, dst_mac, src, dst, icmp_type, code)
    fields = {"nexthopmtu": mtu} if type_code == (3, 4) else {}
    expected = bytes(ether_ip(src_mac, dst_mac, src, dst, ip_id, 64, True)
                     / S.ICMP(type=icmp_type, code=code, **fields) / S.Raw(quote))
    assert template.build(0, word2, quote, ip_id) == expected


@settings(max_examples=200)
@given(macs, ips, st.sampled_from([1, 2, 3, 4]), macs, macs, ips,
       st.sampled_from([ETHERTYPE_ARP, ETHERTYPE_RARP]))
def test_arp_template_matches_scapy(src_mac, src_ip, op, dst_mac, target_mac, target_ip, ethertype):
    template = ArpTemplate(src_mac, src_ip, ethertype)
    expected = bytes(S.Ether(src=bytes_to_mac(src_mac), dst=bytes_to_mac(dst_mac), type=ethertype)
                     / S.ARP(op=op, hwsrc=bytes_to_mac(src_mac), psrc=int_to_ip(src_ip),
                             hwdst=bytes_to_mac(target_mac), pdst=int_to_ip(target_ip)))
    assert template.build(op, dst_mac, target_mac, target_ip) == expected


def test_rarp_dissects_as_arp_under_its_own_ethertype():
    template = ArpTemplate(b"\x02" * 6, 0, ETHERTYPE_RARP)
    pkt = S.Ether(template.build(3, b"\xff" * 6, b"\x02" * 6, 0))
    assert pkt.type == 0x8035
    assert pkt.haslayer(S.ARP) and pkt[S.ARP].op == 3


def test_plain_arp_still_builds_with_ethertype_0806():
    # Binding RARP must not change what Ether()/ARP() builds.
    frame = S.Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / S.ARP(
        hwsrc="02:00:00:00:00:01", psrc="10.0.0.1", pdst="10.0.0.2")
    assert S.Ether(bytes(frame)).type == 0x0806


#: (netsim's options, Scapy's list for the same bytes): textbook SYNs, Linux's SYN
#: (MSS, SACK_PERM, TS, NOP, WS), a timestamp alone, timestamps with SACK blocks.
OPTION_SETS = [
    ({}, []),
    ({"mss": 1460}, [("MSS", 1460)]),
    ({"mss": 1460, "wscale": 7}, [("MSS", 1460), ("NOP", None), ("WScale", 7)]),
    ({"mss": 536, "wscale": 0}, [("MSS", 536), ("NOP", None), ("WScale", 0)]),
    ({"mss": 1460, "wscale": 7, "sack_perm": True, "ts": (123456, 0)},
     [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None), ("WScale", 7)]),
    ({"ts": (7, 2**32 - 1)}, [("NOP", None), ("NOP", None), ("Timestamp", (7, 2**32 - 1))]),
    ({"ts": (5, 6), "sack": ((100, 200), (300, 400), (2**32 - 10, 5))},
     [("NOP", None), ("NOP", None), ("Timestamp", (5, 6)), ("NOP", None), ("NOP", None),
      ("SAck", (100, 200, 300, 400, 2**32 - 10, 5))]),
    ({"mss": 1460, "sack_perm": True}, [("MSS", 1460), ("NOP", None), ("NOP", None), ("SAckOK", b"")]),
]


@settings(max_examples=300)
@given(macs, macs, ips, ips, ports, ports, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
       st.integers(0, 0x3F), u16, payloads, u16, st.sampled_from(OPTION_SETS))
def test_tcp_template_matches_scapy(src_mac, dst_mac, src, dst, sport, dport, seq, ack, flags,
                                    window, payload, ip_id, options):
    from netsim.wire.headers import parse_tcp, parse_tcp_options, tcp_options
    from netsim.wire.templates import TcpTemplate
    ours, scapy_options = options
    template = TcpTemplate(src_mac, dst_mac, src, dst, sport, dport)
    expected = bytes(ether_ip(src_mac, dst_mac, src, dst, ip_id, 64, True)
                     / S.TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, window=window,
                             options=scapy_options) / S.Raw(payload))
    data = template.build(seq, ack, flags, window, payload, ip_id, options=tcp_options(**ours))
    assert data == expected
    fields = parse_tcp(data[34:])
    assert fields[:6] == (sport, dport, seq, ack, flags, window) and fields[7] == payload
    parsed = parse_tcp_options(fields[6])
    assert {k: v for k, v in parsed.items()} == ours

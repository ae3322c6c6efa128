from netsim.wire.describe import describe
from netsim.wire.headers import ETHERTYPE_RARP
from netsim.wire.templates import ArpTemplate, IcmpTemplate, UdpTemplate

A, B = b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02"


def test_textbook_labels():
    arp = ArpTemplate(A, 0x0A000001)
    assert describe(arp.build(1, b"\xff" * 6, bytes(6), 0x0A000002)).label == "ARP who-has 10.0.0.2 tell 10.0.0.1"
    assert describe(arp.build(2, B, B, 0x0A000002)).label == "ARP 10.0.0.1 is-at 02:00:00:00:00:01"
    assert describe(arp.build(1, b"\xff" * 6, bytes(6), 0x0A000001)).label == "ARP announce 10.0.0.1"
    rarp = ArpTemplate(A, 0, ETHERTYPE_RARP)
    assert describe(rarp.build(3, b"\xff" * 6, A, 0)).label == "RARP who-am-I 02:00:00:00:00:01"
    echo = IcmpTemplate(A, B, 0x0A000001, 0x0A000002, 8).build(7, 1, b"x" * 56, 1)
    assert describe(echo).label == "ICMP echo request id=7 seq=1"
    udp = UdpTemplate(A, B, 0x0A000001, 0x0A000002, 40000, 33434).build(b"x" * 32, 1, 1)
    d = describe(udp)
    assert (d.protocol, d.src, d.dst, d.dport) == ("UDP", "10.0.0.1", "10.0.0.2", 33434)
    quote = udp[14:14 + 28]
    te = IcmpTemplate(A, B, 0x0A000009, 0x0A000001, 11).build(0, 0, quote, 1)
    assert describe(te).label == "ICMP time-exceeded (probe port 33434)"


def test_garbage_is_described_not_raised():
    assert describe(b"\x00" * 5).protocol == "malformed"
    broken = bytearray(UdpTemplate(A, B, 1, 2, 3, 4).build(b"", 1))
    broken[24] ^= 0xFF                      # IPv4 checksum now wrong
    assert describe(bytes(broken)).protocol == "malformed"

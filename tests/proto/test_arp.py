from netsim.proto.arp import ArpResolver, Learned, SendReply, SendRequest
from tests.proto.helpers import ArpLan

A_MAC, B_MAC, C_MAC = b"\x02\0\0\0\0\x0a", b"\x02\0\0\0\0\x0b", b"\x02\0\0\0\0\x0c"
A_IP, B_IP, C_IP = 0x0A000001, 0x0A000002, 0x0A000003


def lan(drop=lambda m: False, **options):
    a = ArpResolver(A_IP, A_MAC, **options)
    b = ArpResolver(B_IP, B_MAC, **options)
    c = ArpResolver(C_IP, C_MAC, **options)
    return ArpLan(a, b, c, drop=drop), a, b, c


def test_resolution_releases_held_packets_in_order_and_both_sides_learn():
    wire, a, b, c = lan()
    assert a.lookup(B_IP, 0) is None
    assert a.hold(B_IP, "p1", 0) is None and a.hold(B_IP, "p2", 0) is None
    wire.pump()
    assert [m[0] for m in wire.sent] == [1, 2]            # one request, one reply
    (owner, release), = wire.released
    assert owner is a and release.mac == B_MAC and release.packets == ["p1", "p2"]
    assert a.lookup(B_IP, 0.5) == B_MAC
    assert b.lookup(A_IP, 0.5) == A_MAC                   # the target learns the asker (RFC 826)
    assert c.lookup(A_IP, 0.5) is None                    # a bystander does not add
    assert a.get_timer() is None


def test_unanswered_requests_are_retried_once_a_second_then_abandoned():
    wire, a, b, c = lan(drop=lambda m: m[0] == 1)         # every request is lost
    a.hold(B_IP, "p", 0)
    wire.pump()
    wire.advance(10)
    requests = [m for m in wire.sent if m[0] == 1]
    assert len(requests) == 3
    (owner, abandon), = wire.abandoned
    assert abandon.packets == ["p"] and abandon.ip == B_IP


def test_entries_expire_after_their_lifetime():
    wire, a, b, c = lan(lifetime=5.0)
    a.hold(B_IP, "p", 0)
    wire.pump()
    assert a.lookup(B_IP, 4.9) == B_MAC
    assert a.lookup(B_IP, 5.1) is None


def test_a_full_queue_drops_its_oldest_packet_as_linux_does():
    a = ArpResolver(A_IP, A_MAC, queue_limit=2)
    assert a.hold(B_IP, 1, 0) is None and a.hold(B_IP, 2, 0) is None
    assert a.hold(B_IP, 3, 0) == 1                 # the oldest makes room
    a.receive(2, B_MAC, B_IP, A_MAC, A_IP, 0.5)
    assert [p for out in a.outputs() for p in getattr(out, "packets", [])] == [2, 3]


def test_gratuitous_arp_updates_existing_entries_only():
    a = ArpResolver(A_IP, A_MAC)
    a.receive(2, B_MAC, B_IP, A_MAC, A_IP, 0)             # learn B
    a.outputs()
    new_mac = b"\x02\0\0\0\0\xbb"
    a.receive(1, new_mac, B_IP, bytes(6), B_IP, 1)         # B announces a new MAC
    a.receive(1, C_MAC, C_IP, bytes(6), C_IP, 1)           # C announces; A never heard of C
    assert a.lookup(B_IP, 2) == new_mac
    assert a.lookup(C_IP, 2) is None
    assert [o for o in a.outputs() if isinstance(o, (SendReply, SendRequest))] == []


def test_request_for_us_is_answered_and_sender_learned():
    a = ArpResolver(A_IP, A_MAC)
    a.receive(1, B_MAC, B_IP, bytes(6), A_IP, 0)
    outs = a.outputs()
    assert SendReply(target_mac=B_MAC, target_ip=B_IP) in outs
    assert Learned(ip=B_IP, mac=B_MAC) in outs

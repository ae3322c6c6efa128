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
    assert SendReply(target_mac=B_MAC, target_ip=B_IP, sender_ip=A_IP) in outs
    assert Learned(ip=B_IP, mac=B_MAC) in outs


# -- Linux's neighbour states (nud=True) ------------------------------------------------
# Values from the kernel's defaults (Documentation/networking/ip-sysctl.rst, neigh/default):
# base_reachable_time_ms 30000, delay_first_probe_time 5 s, retrans_time_ms 1000,
# ucast_solicit 3, mcast_solicit 3; reachable time drawn uniformly in [0.5, 1.5] × base.

def linux_lan(drop=lambda m: False, **options):
    import random
    return lan(drop, nud=True, rng=random.Random(7), **options)


def test_linux_reachable_time_is_drawn_between_15_and_45_seconds():
    import random
    times = set()
    for seed in range(40):
        a = ArpResolver(A_IP, A_MAC, nud=True, rng=random.Random(seed))
        a.receive(2, B_MAC, B_IP, A_MAC, A_IP, 0, unicast=True)     # no entry: not learned
        assert a.lookup(B_IP, 0) is None
        a.hold(B_IP, "p", 0)
        a.receive(2, B_MAC, B_IP, A_MAC, A_IP, 0, unicast=True)     # the answer
        stale_at = next(t / 10 for t in range(0, 600) if a.state(B_IP, t / 10) == "stale")
        assert 15 <= stale_at <= 45.1
        times.add(stale_at)
    assert len(times) > 20                                      # random, not one value


def test_linux_stale_entry_is_used_then_checked_by_unicast_probe_not_broadcast():
    wire, a, b, c = linux_lan()
    a.hold(B_IP, "p", 0)
    wire.pump()
    assert a.state(B_IP, 1) == "reachable"
    wire.advance(50)
    assert a.state(B_IP, 50) == "stale"
    before = len(wire.sent)
    wire.now = 50
    assert a.lookup(B_IP, 50) == B_MAC                       # still used: nothing waits
    assert a.state(B_IP, 50) == "delay"
    wire.advance(54.9)
    assert len(wire.sent) == before                          # DELAY: 5 s before a probe
    wire.advance(55.5)
    probe, reply = wire.sent[before:]
    assert probe[0] == 1 and probe[5] == B_MAC               # a request sent to B's MAC
    assert reply[0] == 2 and reply[5] == A_MAC
    assert a.state(B_IP, 55.5) == "reachable"               # the unicast reply confirms
    assert c.lookup(A_IP, 56) is None                        # nobody else heard anything


def test_linux_confirmation_from_above_cancels_the_probe():
    wire, a, b, c = linux_lan()
    a.hold(B_IP, "p", 0)
    wire.pump()
    before = len(wire.sent)
    wire.now = 50
    a.lookup(B_IP, 50)                                       # STALE -> DELAY
    a.confirm(B_IP, 52)                                      # TCP: new data acknowledged
    wire.advance(60)
    assert len(wire.sent) == before
    assert a.state(B_IP, 60) == "reachable"


def test_linux_unanswered_probes_forget_the_entry_and_the_next_packet_broadcasts():
    gone = []
    wire, a, b, c = linux_lan(drop=lambda m: bool(gone) and m[2] == B_IP)
    a.hold(B_IP, "p", 0)
    wire.pump()
    wire.now = 50
    a.lookup(B_IP, 50)
    gone.append(True)                                        # B stops answering
    before = len(wire.sent)
    wire.advance(60)
    probes = [m for m in wire.sent[before:] if m[0] == 1]    # (B's replies are lost)
    assert [m[5] for m in probes] == [B_MAC] * 3              # ucast_solicit = 3
    assert a.lookup(B_IP, 60) is None and a.state(B_IP, 60) is None
    a.hold(B_IP, "q", 60)
    wire.pump()
    assert [m[5] for m in wire.sent if m[0] == 1][-1] == b"\xff" * 6     # broadcast again


def test_linux_target_of_a_request_learns_the_asker_as_stale_and_probes_it_later():
    """The well-known capture: B answers A's ping with its own unicast ARP request about
    five seconds later, because A's entry in B came from A's request (STALE)."""
    wire, a, b, c = linux_lan()
    a.hold(B_IP, "p", 0)
    wire.pump()
    assert b.state(A_IP, 0) == "stale"
    assert b.lookup(A_IP, 0.001) == A_MAC and b.state(A_IP, 0.001) == "delay"
    before = len(wire.sent)
    wire.advance(6)
    probe, reply = wire.sent[before:]
    assert probe[1] == B_MAC and probe[5] == A_MAC and reply[5] == B_MAC
    assert b.state(A_IP, 6) == "reachable"


def test_linux_answers_for_any_of_the_hosts_addresses_but_not_loopback():
    """arp_ignore=0: a request on one interface for the address of another is answered
    (with this interface's MAC); 127.0.0.1 never is (arp_process drops loopback)."""
    other, loopback = 0x0A000901, 0x7F000001
    a = ArpResolver(A_IP, A_MAC, nud=True, local_addresses={A_IP: 0, other: 1, loopback: 2})
    a.receive(1, B_MAC, B_IP, bytes(6), other, 0)
    a.receive(1, C_MAC, C_IP, bytes(6), loopback, 0)
    replies = [o for o in a.outputs() if isinstance(o, SendReply)]
    assert replies == [SendReply(target_mac=B_MAC, target_ip=B_IP, sender_ip=other)]


def test_textbook_answers_only_for_the_interfaces_own_address():
    other = 0x0A000901
    a = ArpResolver(A_IP, A_MAC, local_addresses={A_IP: 0, other: 1})
    a.receive(1, B_MAC, B_IP, bytes(6), other, 0)
    assert a.outputs() == []

"""The router's packet filter on its own: rules, first match wins; connection tracking
that lets replies in and new connections from outside not; ICMP errors about tracked
flows let in as RELATED; entries that time out."""

from netsim.proto.firewall import ACK, FIN, ICMP, RST, SYN, TCP, UDP, Firewall, parse_policy
from netsim.wire.addr import ip_to_int, prefix_mask

INSIDE, OUTSIDE = ip_to_int("10.0.1.10"), ip_to_int("10.0.2.20")


def cidr(text):
    address, _, plen = text.partition("/")
    return ip_to_int(address) & prefix_mask(int(plen)), prefix_mask(int(plen))


def fw(spec="stateful"):
    return Firewall({"eth1": parse_policy(spec, cidr)})


def out(f, proto, sport, dport, flags=0, now=0.0):
    return f.check("eth0", "eth1", proto, INSIDE, sport, OUTSIDE, dport, flags, now)


def back(f, proto, sport, dport, flags=0, now=0.0, quoted=None):
    return f.check("eth1", "eth0", proto, OUTSIDE, sport, INSIDE, dport, flags, now, quoted)


def test_replies_pass_and_new_connections_from_outside_do_not():
    f = fw()
    assert out(f, TCP, 40000, 21, SYN) is None
    assert back(f, TCP, 21, 40000, SYN | ACK) is None and back(f, TCP, 21, 40000, ACK) is None
    why = back(f, TCP, 20, 40001, SYN)                       # active FTP's data connection
    assert why == "stateful on eth1: a new connection from outside"
    assert out(f, TCP, 40002, 35000, SYN) is None            # passive: alice connects out
    assert back(f, TCP, 35000, 40002, SYN | ACK) is None
    assert f.dropped == 1


def test_udp_and_ping_replies_and_related_icmp_errors():
    f = fw()
    assert out(f, UDP, 5000, 53) is None and back(f, UDP, 53, 5000) is None
    assert back(f, UDP, 53, 5001) is not None                # nobody asked
    assert out(f, ICMP, 7, 7) is None and back(f, ICMP, 7, 7) is None
    assert out(f, UDP, 33000, 33434) is None                 # a traceroute probe
    related = (UDP, INSIDE, 33000, OUTSIDE, 33434)
    assert back(f, ICMP, 0, 0, quoted=related) is None       # its time-exceeded
    assert back(f, ICMP, 0, 0, quoted=(UDP, INSIDE, 1, OUTSIDE, 2)) is not None


def test_entries_time_out():
    f = fw()
    assert out(f, UDP, 5000, 53, now=0.0) is None
    assert back(f, UDP, 53, 5000, now=31.0) is not None      # 30 s: gone
    assert out(f, TCP, 40000, 80, SYN, now=0.0) is None
    assert back(f, TCP, 80, 40000, SYN | ACK, now=1.0) is None
    assert back(f, TCP, 80, 40000, ACK, now=3600.0) is None  # established: kept for days
    assert out(f, TCP, 40000, 80, RST, now=3601.0) is None
    assert back(f, TCP, 80, 40000, ACK, now=3612.0) is not None   # 10 s after the RST
    assert out(f, TCP, 40001, 80, FIN | ACK) is None         # mid-stream: nothing tracked


def test_rules_first_match_wins_in_the_order_written():
    f = fw({"stateful": True, "allow": [{"proto": "tcp", "port": 22}],
            "deny": [{"src": "10.0.2.0/24"}]})
    assert back(f, TCP, 50000, 22, SYN) is None              # allowed in by its rule
    assert back(f, UDP, 50000, 22).startswith("rule on eth1: deny src=10.0.2.0/24")
    f = fw({"rules": [{"action": "deny", "proto": "tcp", "port": 22}, {"action": "allow"}]})
    assert back(f, TCP, 50000, 22, SYN).startswith("rule on eth1: deny")
    assert back(f, TCP, 50000, 80, SYN) is None              # the catch-all allow

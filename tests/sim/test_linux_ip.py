"""IP-layer details a capture of a Linux host shows: ICMP errors with TOS 0xc0, DF clear,
as much of the offending datagram as fits in 576 bytes, from the interface they leave
by; IP id 0 on a SYN-ACK and a RST, a counter per connection otherwise."""

from netsim import parse_scenario, run_scenario
from tests.conftest import host_and_name_server, tshark_fields

#: a — r1 — b, the scenarios' common part (at @LINE@); each adds its name, length and apps.
LINE = """nodes:
  a:  {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}
  r1: {kind: router}
  b:  {kind: host, ip: 10.0.2.20/24, gateway: 10.0.2.1}
links:
  - {endpoints: [a, r1]}
  - {endpoints: [r1, b]}
apps:
"""

SCENARIO = """
name: linux-ip
until: 10s
@LINE@  - {node: b, run: tcp-sink, port: 5001}
  - {node: a, at: 1s, run: tcp-source, target: b, port: 5001, size: 20KiB}
  - {node: a, at: 2s, run: tcp-source, target: b, port: 5999, size: 1KiB}
  - {node: a, at: 3s, run: ping, target: 10.0.9.9, size: 1000, count: 1}
"""


def test_icmp_errors_and_ip_ids_as_linux_sends_them(tmp_path):
    run_scenario(parse_scenario(SCENARIO.replace("@LINE@", LINE)), tmp_path)
    pcap = tmp_path / "pcap" / "a-r1.pcap"
    [(tos, df, length, src)] = tshark_fields(
        pcap, "ip.dsfield", "ip.flags.df", "ip.len", "ip.src",
        display_filter="icmp.type == 3 && icmp.code == 0")
    # r1 has no route to 10.0.9.9: "network unreachable", as Linux's icmp_send makes it —
    # TOS 0xc0 and DF clear (RFC 1812 §4.3.2.5), 548 of the 1028-byte echo quoted so the
    # error is 576 bytes (§4.3.2.3), from the interface it leaves by (§4.3.2.4).
    assert (tos, df, int(length), src) == ("0xc0", "0", 576, "10.0.1.1")
    rows = tshark_fields(pcap, "ip.id", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset",
                         "tcp.srcport", "tcp.len", display_filter="tcp")
    synack = [r for r in rows if r[1] == "1" and r[2] == "1"]
    resets = [r for r in rows if r[3] == "1"]
    assert synack and all(int(r[0], 16) == 0 for r in synack + resets) and resets
    ids = [int(i, 16) for (i,) in tshark_fields(pcap, "ip.id",
                                                 display_filter="ip.src == 10.0.1.10 && tcp.dstport == 5001")]
    assert len(ids) > 10 and ids == [(ids[0] + k) & 0xFFFF for k in range(len(ids))]


BURST = """
name: icmp-burst
until: 30s
@LINE@  - {node: a, at: 1s, run: ping, target: 10.0.9.9, count: 100, interval: 10ms}
  - {node: a, at: 20s, run: ping, target: 10.0.9.9, count: 3, interval: 1s}
"""


def test_icmp_errors_are_rate_limited_per_destination_as_linux_does(tmp_path):
    """100 unroutable pings within a second get 6 answers (the burst; the next token
    comes a second after the first answer, by when the burst is over); later, one a
    second, each is answered."""
    result = run_scenario(parse_scenario(BURST.replace("@LINE@", LINE)), tmp_path)
    answers = [float(t) for (t,) in tshark_fields(tmp_path / "pcap" / "a-r1.pcap", "frame.time_epoch",
                                                   display_filter="icmp.type == 3")]
    assert len([t for t in answers if t < 3]) == 6
    assert len([t for t in answers if t > 19]) == 3
    notes = [n for n in result.trace.notes if n.what == "icmp-rate-limited"]
    assert len(notes) == 100 - 6


UNREACHABLE = """
name: unreachable
until: 20s
@LINE@  - {node: a, at: 1s, run: ping, target: 10.0.1.99, count: 3}
  - {node: a, at: 8s, run: traceroute, target: 10.0.9.9}
"""


def test_a_failed_resolution_and_an_unroutable_destination_as_linux_reports_them(tmp_path):
    result = run_scenario(parse_scenario(UNREACHABLE.replace("@LINE@", LINE)), tmp_path)
    ping = result.app("ping")
    # No one answers ARP for 10.0.1.99: the kernel tells ping, which prints its own
    # address, as iputils does; the statistics count the errors.
    assert ping.lines[1:4] == [f"From 10.0.1.10 icmp_seq={n} Destination Host Unreachable"
                               for n in (1, 2, 3)]
    assert "3 packets transmitted, 0 received, +3 errors, 100% packet loss" in ping.lines[-1]
    # r1 has no route to 10.0.9.9: the route lookup comes before the TTL check, so even
    # the TTL-1 probes get "network unreachable" (!N), not "time exceeded".
    hops = result.app("traceroute").lines
    assert hops[1].startswith(" 1  r1 (10.0.1.1)") and hops[1].count("!N") == 3 and len(hops) == 2


ARP_OVER_TIME = """
name: arp-over-time
until: 75s
defaults: {stack: @STACK@}
@LINE@  - {node: a, at: 1s, run: ping, target: 10.0.2.20, count: 70}
"""


def _arp_requests(pcap, announcements=False):
    """(time, broadcast?, sender, target) of every ARP request on a link (of the
    announcements — sender and target the same address — if asked)."""
    rows = tshark_fields(pcap, "frame.time_epoch", "eth.dst", "arp.src.proto_ipv4",
                         "arp.dst.proto_ipv4", display_filter="arp.opcode == 1")
    return [(float(t), dst == "ff:ff:ff:ff:ff:ff", src, target) for t, dst, src, target in rows
            if (src == target) == announcements]


def test_linux_keeps_neighbours_with_unicast_probes_not_broadcasts(tmp_path):
    """A minute of pings through r1 as Linux does it (neighbour states, ip-sysctl.rst
    defaults: reachable 15–45 s, delay_first_probe_time 5 s, ucast_solicit 3): one
    broadcast per address at the start, later checks unicast to the known MAC, no
    ping waits for one, and r1 — which learned a from a's request (STALE) — asks a
    about five seconds after first using the entry, as real captures show."""
    result = run_scenario(parse_scenario(ARP_OVER_TIME.replace("@STACK@", "linux")
                                         .replace("@LINE@", LINE)), tmp_path)
    requests = _arp_requests(tmp_path / "pcap" / "a-r1.pcap")
    broadcasts = [r for r in requests if r[1]]
    assert [(b[2], b[3]) for b in broadcasts] == [("10.0.1.10", "10.0.1.1")]
    unicast = [r for r in requests if not r[1]]
    from_r1 = [t for t, _b, src, _t in unicast if src == "10.0.1.1"]
    assert 5.9 < from_r1[0] < 6.2                          # DELAY: 5 s after the first reply
    from_a = [t for t, _b, src, _t in unicast if src == "10.0.1.10"]
    assert from_a and all(t > 1 + 15 + 5 for t in from_a)  # not before reachable + delay
    assert "70 packets transmitted, 70 received, 0% packet loss" in result.app("ping").lines[-2]
    rtts = [float(line.split("time=")[1].split()[0]) for line in result.app("ping").lines
            if "time=" in line]
    assert max(rtts[1:]) < 1.5 * min(rtts[1:])              # no ping waited for ARP again
    # Linux has arp_notify=0: a static address is configured without a gratuitous ARP.
    assert _arp_requests(tmp_path / "pcap" / "a-r1.pcap", announcements=True) == []


def test_announce_true_sends_rfc_5227s_two_announcements(tmp_path):
    """``announce: true``: each address announced twice, 2 s apart (RFC 5227 §2.3, as
    NetworkManager does); the other nodes of the link still announce nothing."""
    line = LINE.replace("gateway: 10.0.1.1}", "gateway: 10.0.1.1, announce: true}")
    run_scenario(parse_scenario(ARP_OVER_TIME.replace("@STACK@", "linux")
                                .replace("@LINE@", line)), tmp_path, until=5)
    announced = _arp_requests(tmp_path / "pcap" / "a-r1.pcap", announcements=True)
    assert [(t, src) for t, _b, src, _t in announced] == [(0.0, "10.0.1.10"), (2.0, "10.0.1.10")]


def test_textbook_forgets_after_60_seconds_and_broadcasts_again(tmp_path):
    run_scenario(parse_scenario(ARP_OVER_TIME.replace("@STACK@", "textbook")
                                .replace("@LINE@", LINE)), tmp_path)
    requests = _arp_requests(tmp_path / "pcap" / "a-r1.pcap")
    assert all(r[1] for r in requests)                      # RFC 826: never unicast
    # An entry lasts 60 s from when it was learned; whichever side forgets first asks
    # again (the other refreshes its entry from that request, RFC 826's merge).
    assert len(requests) == 2 and 60 <= requests[1][0] - requests[0][0] < 60.1


TCP_OVER_TIME = """
name: tcp-keeps-neighbours
until: 60s
nodes:
  a:  {kind: host, ip: 10.0.1.10/24}
  b:  {kind: host, ip: 10.0.1.20/24}
links:
  - {endpoints: [a, b], rate: 1Mbps, delay: 5ms}
apps:
  - {node: b, run: tcp-sink, port: 5001}
  - {node: a, at: 1s, run: tcp-source, target: b, port: 5001, size: 6MB}
"""


def test_tcp_acknowledgments_confirm_the_senders_neighbour(tmp_path):
    """Linux's sk_dst_confirm: ACKs of new data keep a's entry for b REACHABLE through
    a 50-second transfer, so a never probes; b, which only receives, does."""
    run_scenario(parse_scenario(TCP_OVER_TIME), tmp_path)
    requests = _arp_requests(tmp_path / "pcap" / "a-b.pcap")
    assert [r[2] for r in requests if r[1]] == ["10.0.1.10"]
    assert [r[2] for r in requests if not r[1]] and \
        all(r[2] == "10.0.1.20" for r in requests if not r[1])


DEAD_HOST = """
name: dead-host
until: 20s
@LINE@  - {node: a, at: 1s, run: traceroute, target: 10.0.2.99}
"""


def test_traceroute_waits_for_a_failed_arp_and_prints_host_unreachable(tmp_path):
    """Linux's traceroute waits up to 5 s, so r1's three seconds of unanswered ARP for
    10.0.2.99 end in !H at hop 2 — as `traceroute` prints against a dead host — where a
    1-second wait would print * * *."""
    result = run_scenario(parse_scenario(DEAD_HOST.replace("@LINE@", LINE)), tmp_path)
    lines = result.app("traceroute").lines
    assert lines[1].startswith(" 1  r1 (10.0.1.1)  ") and "!" not in lines[1]
    assert lines[2].startswith(" 2  r1 (10.0.1.1)  30") and lines[2].count("!H") == 3
    assert len(lines) == 3
    rtts = [float(x) for x in lines[2].split()[3::3]]
    assert all(3000 < rtt < 3100 for rtt in rtts)


UDP_IDS = host_and_name_server("udp-ids", "6s", ["www A 10.0.1.80"], """\
  - {node: a, at: 1s, run: dig, query: www.example.com, server: 10.0.1.53}
  - {node: a, at: 1.5s, run: dig, query: ns.example.com, server: 10.0.1.53}
  - {node: a, at: 2s, run: ping, target: www.example.com, count: 1}
  - {node: ns, run: udp-sink, port: 9}
  - {node: a, at: 3s, run: udp-send, target: ns, port: 9, count: 3, size: 100}
""")


def test_udp_leaves_with_the_df_and_ip_ids_linux_gives_it(tmp_path):
    """dig and the name server set IP_PMTUDISC_OMIT, as BIND and Unbound do: DF clear,
    IDs from the kernel's per-destination counters. glibc's stub resolver connects its
    socket: DF set, the socket's own counter. A plain unconnected socket's DF datagrams
    carry ID 0 (include/net/ip.h, ip_select_ident_segs)."""
    run_scenario(parse_scenario(UDP_IDS), tmp_path)
    rows = tshark_fields(tmp_path / "pcap" / "a-ns.pcap", "ip.src", "udp.dstport", "udp.srcport",
                         "ip.flags.df", "ip.id", display_filter="udp")
    dig = [r for r in rows if r[0] == "10.0.1.10" and r[1] == "53"]
    assert len(dig) == 3                       # two digs, the stub's one query
    digs, stub = dig[:2], dig[2]
    assert [r[3] for r in digs] == ["0", "0"] and all(int(r[4], 16) for r in digs)
    assert stub[3] == "1" and int(stub[4], 16) != 0
    answers = [r for r in rows if r[2] == "53"]
    assert len(answers) == 3 and {r[3] for r in answers} == {"0"}
    # Two answers to one address half a second apart: the same counter, jumped ahead
    # by fewer than the 125 ticks between them.
    gap = (int(answers[1][4], 16) - int(answers[0][4], 16)) & 0xFFFF
    assert 1 <= gap <= 125
    plain = [r for r in rows if r[1] == "9"]
    assert len(plain) == 3 and {(r[3], r[4]) for r in plain} == {("1", "0x0000")}

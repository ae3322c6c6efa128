"""IP-layer details a capture of a Linux host shows: ICMP errors with TOS 0xc0, DF clear,
as much of the offending datagram as fits in 576 bytes, from the interface they leave
by; IP id 0 on a SYN-ACK and a RST, a counter per connection otherwise."""

from netsim import parse_scenario, run_scenario
from tests.conftest import tshark_fields

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

"""Path-MTU discovery (RFC 1191; RFC 8201's logic, for IPv4): a router answers a DF
datagram too big for its next link with "fragmentation needed" and the MTU; TCP lowers
its segment size to fit and sends again, so the transfer completes."""

from netsim import parse_scenario, run_scenario
from tests.conftest import tshark_fields

SCENARIO = """
name: pmtu
until: 30s
nodes:
  a:  {kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}
  r1: {kind: router}
  r2: {kind: router}
  b:  {kind: host, ip: 10.0.2.20/24, gateway: 10.0.2.1}
links:
  - {endpoints: [a, r1], rate: 100Mbps, delay: 2ms}
  - {endpoints: [r1, r2], rate: 100Mbps, delay: 2ms, mtu: 1400}
  - {endpoints: [r2, b], rate: 100Mbps, delay: 2ms}
apps:
  - {node: b, run: tcp-sink, port: 5001}
  - {node: a, at: 1s, run: tcp-source, target: b, port: 5001, size: 100KiB}
"""


def test_tcp_lowers_its_mss_on_fragmentation_needed_and_the_transfer_completes(tmp_path):
    result = run_scenario(parse_scenario(SCENARIO), tmp_path)
    source = result.app("tcp-source").result()
    assert source["bytes_acked"] == 100 * 1024 and source["intact"]
    assert source["retransmissions"]["path_mtu"] == 1
    assert source["duration_s"] < 1.0
    rows = tshark_fields(tmp_path / "pcap" / "a-r1.pcap", "icmp.type", "icmp.code", "icmp.mtu",
                         display_filter="icmp")
    assert rows and rows[0] == ["3", "4", "1400"]
    sizes = {int(n) for (n,) in tshark_fields(tmp_path / "pcap" / "r2-b.pcap", "tcp.len",
                                              display_filter="tcp.srcport != 5001 && tcp.len > 0")}
    assert max(sizes) == 1400 - 40 - 12          # IP and TCP headers, and the timestamps option

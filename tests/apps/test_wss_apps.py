"""WebSocket over TLS (wss://, RFC 6455 §3 and §4.1): the same handshake and frames
inside TLS on port 443, and a certificate Chrome refuses failing that socket alone."""

import pytest

from netsim import parse_scenario, run_scenario
from tests.conftest import tshark_fields

SCENARIO = """
name: wss
until: 10s
defaults:
  link: {rate: 10Mbps, delay: 10ms}
nodes:
  alice:  {kind: host, ip: 10.0.1.10/24}
  bob:    {kind: host, ip: 10.0.1.11/24}
  sw:     {kind: switch}
  quotes: {kind: host, ip: 10.0.1.80/24}
  shady:  {kind: host, ip: 10.0.1.81/24}
links:
  - endpoints: [alice, sw]
  - endpoints: [bob, sw]
  - endpoints: [quotes, sw]
  - endpoints: [shady, sw]
apps:
  - {node: quotes, run: websocket-server, tls: true, symbols: [AAPL], every: 500ms, updates: 6}
  - {node: quotes, run: websocket-server, symbols: [MSFT], every: 500ms, updates: 6}
  - {node: shady, run: websocket-server, tls: {fault: unknown-ca}}
  - {node: alice, at: 1s, run: websocket-client, url: "wss://quotes/ticker", duration: 3s,
     send: [{at: 1s, text: hello over tls}]}
  - {node: bob, at: 1s, run: websocket-client, url: "wss://shady/ticker"}
  - {node: bob, at: 1.5s, run: websocket-client, url: "ws://quotes/ticker", duration: 2s}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_scenario(parse_scenario(SCENARIO), tmp_path_factory.mktemp("wss"))


def clients(run):
    return [a for a in run.network.apps if a.name == "websocket-client"]


def test_wss_opens_on_443_and_carries_the_same_messages_inside_tls(run):
    alice = clients(run)[0]
    result = alice.result()
    assert alice.error is None and result["close_code"] == 1000
    assert result["messages_sent"] == 1 and result["messages_received"] >= 5
    assert any(r.get("text") == "echo: hello over tls" for r in alice.received)
    pcap = run.outdir / "pcap" / "alice-sw.pcap"
    # On the wire: TLS on 443, no Upgrade in the clear.
    assert tshark_fields(pcap, "frame.number", display_filter="http || websocket") == []
    assert tshark_fields(pcap, "tcp.dstport", display_filter="tls.handshake.type == 1") == [["443"]]
    # Opened with the secrets the pcapng carries: the handshake and the frames inside.
    inside = tshark_fields(pcap.with_suffix(".pcapng"), "_ws.col.Protocol", "_ws.col.Info",
                           display_filter="http || websocket")
    assert inside[0] == ["HTTP", "GET /ticker HTTP/1.1 "]
    assert inside[1][1].startswith("HTTP/1.1 101 Switching Protocols")
    assert sum(row[0] == "WebSocket" for row in inside) >= 8


def test_a_certificate_chrome_refuses_fails_that_socket_only(run):
    _alice, refused, plain = clients(run)
    assert refused.error == ("WebSocket connection to 'wss://shady/ticker' failed: "
                             "Error in connection establishment: net::ERR_CERT_AUTHORITY_INVALID")
    assert refused.result()["messages_sent"] == 0 and refused.engine.request_head == []   # never asked
    # Nothing but the handshake left bob for shady: his alert, no application data.
    rows = tshark_fields(run.outdir / "pcap" / "bob-sw.pcap", "tls.record.content_type",
                         display_filter="ip.dst == 10.0.1.81 && tls")
    assert [r[0] for r in rows] == ["22", "21"]
    assert plain.error is None and plain.result()["close_code"] == 1000

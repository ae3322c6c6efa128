"""HTTP/2 engines (RFC 9113) in pairs over a fake wire, and each against another
implementation: netsim's client against a server written straight on h2's
H2Connection (no netsim code), netsim's server against httpx's HTTP/2 client
(httpcore over h2) on an in-memory transport. HPACK's figures against RFC 7541's
Appendix C examples."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.events
import hpack
import pytest

from netsim.errors import PeerError
from netsim.proto.http.client import Request
from netsim.proto.http.h2client import CHROME_CONNECTION_WINDOW, Http2ClientConnection
from netsim.proto.http.h2frames import PREFACE, FrameCounter
from netsim.proto.http.h2server import Http2ServerConnection
from netsim.proto.http.negotiate import ServerByPreface
from netsim.proto.http.server import Answered, HttpServerConnection
from netsim.proto.http.site import Site, resource_from_spec
from netsim.proto.stream import Close, Send
from netsim.units import parse_size, parse_time


def sites(spec=None):
    spec = spec or {"/index.html": {"body": "<html>hi</html>", "type": "text/html"},
                    "/big.bin": {"body": "200KiB"}, "/a.css": {"body": "3KiB"},
                    "/gone": {"status": 404}}
    return {"*": Site("www", {p: resource_from_spec(p, s, parse_time, parse_size)
                              for p, s in spec.items()})}


class Wire:
    """Two stream engines joined back to back; Send outputs carried in order."""

    def __init__(self, client, server, now=0.0):
        self.client, self.server, self.now = client, server, now
        self.closed = []
        self.to_server = self.to_client = 0
        self.other = []
        client.start(now)
        server.start(now)

    def pump(self):
        moved = True
        while moved:
            moved = False
            for sender, receiver in ((self.client, self.server), (self.server, self.client)):
                for out in sender.outputs():
                    moved = True
                    if isinstance(out, Send):
                        if receiver is self.server:
                            self.to_server += len(out.data)
                        else:
                            self.to_client += len(out.data)
                        receiver.receive(out.data, self.now)
                    elif isinstance(out, Close):
                        self.closed.append(sender)
                    else:
                        self.other.append(out)


def test_three_requests_are_three_concurrent_streams_answered_on_one_connection():
    client = Http2ClientConnection(host="www.example.com")
    server = Http2ServerConnection(sites())
    wire = Wire(client, server)
    exchanges = [client.submit(Request("GET", p), 0.0) for p in ("/index.html", "/a.css", "/gone")]
    wire.pump()
    assert [e.status for e in exchanges] == [200, 200, 404]
    assert exchanges[0].body == b"<html>hi</html>"
    assert len(exchanges[1].body) == 3 * 1024
    assert all(e.http_version == "2" and e.done_at is not None for e in exchanges)
    assert [entry.target for entry in server.log] == ["/index.html", "/a.css", "/gone"]
    assert {entry.version for entry in server.log} == {"2.0"}
    assert client.idle and not client.finished


def test_a_body_larger_than_the_servers_window_waits_for_window_update():
    # 200 KiB against Chrome's 6 MiB stream window goes at once; against a 16 KiB
    # window (a stingy client) it can only go as WINDOW_UPDATEs come back.
    client = Http2ClientConnection(host="www.example.com", window=16384)
    server = Http2ServerConnection(sites())
    wire = Wire(client, server)
    exchange = client.submit(Request("GET", "/big.bin"), 0.0)
    wire.pump()
    assert len(exchange.body) == 200 * 1024 and exchange.status == 200
    # 200 KiB through a 16 KiB window: the server stopped and went on 12 times or more.
    assert client.received.frames.get(("WINDOW_UPDATE", 1), 0) == 0
    assert client.sent.frames.get(("WINDOW_UPDATE", 1), 0) >= 12


def test_the_byte_counts_add_up_to_what_crossed_the_wire():
    client = Http2ClientConnection(host="www.example.com")
    server = Http2ServerConnection(sites())
    wire = Wire(client, server)
    exchanges = [client.submit(Request("GET", p), 0.0) for p in ("/index.html", "/a.css")]
    wire.pump()
    # Every octet the server sent is a frame of stream 0 (SETTINGS, WINDOW_UPDATE, …)
    # or of a stream; each exchange counted its own.
    assert sum(client.received.wire.values()) == wire.to_client
    assert sum(e.received_bytes for e in exchanges) + client.received.wire[0] == wire.to_client
    assert sum(client.sent.wire.values()) + len(PREFACE) == wire.to_server
    sent, received = client.header_bytes()
    assert sent == sum(e.sent_bytes for e in exchanges)       # GETs: HEADERS alone
    assert 0 < received < sum(e.received_bytes for e in exchanges)


def test_hpack_makes_the_second_request_head_smaller_than_the_first():
    client = Http2ClientConnection(host="www.example.com")
    server = Http2ServerConnection(sites())
    wire = Wire(client, server)
    first = client.submit(Request("GET", "/index.html"), 0.0)
    wire.pump()
    second = client.submit(Request("GET", "/a.css"), 0.0)
    wire.pump()
    # The second HEADERS frame refers to the dynamic table for user-agent and accept.
    assert second.sent_bytes < first.sent_bytes / 2


@pytest.mark.parametrize("headers, encoded", [
    # RFC 7541 C.3.1: the first request without Huffman coding.
    ([(":method", "GET"), (":scheme", "http"), (":path", "/"),
      (":authority", "www.example.com")],
     "828684410f7777772e6578616d706c652e636f6d"),
])
def test_hpack_matches_rfc_7541_appendix_c(headers, encoded):
    encoder = hpack.Encoder()
    assert encoder.encode(headers, huffman=False).hex() == encoded


def test_hpack_appendix_c4_with_huffman_three_requests_on_one_table():
    # RFC 7541 C.4.1–C.4.3: the same table across three requests: 17, 12 then 24 octets.
    encoder = hpack.Encoder()
    first = encoder.encode([(":method", "GET"), (":scheme", "http"), (":path", "/"),
                            (":authority", "www.example.com")])
    second = encoder.encode([(":method", "GET"), (":scheme", "http"), (":path", "/"),
                             (":authority", "www.example.com"), ("cache-control", "no-cache")])
    third = encoder.encode([(":method", "GET"), (":scheme", "https"), (":path", "/index.html"),
                            (":authority", "www.example.com"), ("custom-key", "custom-value")])
    assert first.hex() == "828684418cf1e3c2e5f23a6ba0ab90f4ff"
    assert second.hex() == "828684be5886a8eb10649cbf"
    assert third.hex() == "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf"
    assert (len(first), len(second), len(third)) == (17, 12, 24)


def test_preface_picks_the_engine_and_http11_still_works():
    for data, expected in ((PREFACE, Http2ServerConnection),
                           (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", HttpServerConnection)):
        engine = ServerByPreface(lambda: HttpServerConnection(sites()),
                                 lambda: Http2ServerConnection(sites()))
        engine.start(0.0)
        engine.receive(data[:5], 0.0)
        assert engine.engine is None or expected is HttpServerConnection
        engine.receive(data[5:], 0.0)
        assert isinstance(engine.engine, expected)


def test_netsim_client_against_a_server_written_on_h2_alone():
    config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    peer = h2.connection.H2Connection(config=config)
    peer.initiate_connection()
    client = Http2ClientConnection(host="h2.example")
    client.start(0.0)
    asked = []

    def carry():
        for out in client.outputs():
            if isinstance(out, Send):
                for event in peer.receive_data(out.data):
                    if isinstance(event, h2.events.RequestReceived):
                        asked.append(dict(event.headers))
                        peer.send_headers(event.stream_id, [(":status", "200"),
                                                            ("content-length", "5")])
                        peer.send_data(event.stream_id, b"hello", end_stream=True)
        data = peer.data_to_send()
        if data:
            client.receive(data, 0.1)

    exchange = client.submit(Request("GET", "/x"), 0.0)
    for _ in range(4):
        carry()
    assert exchange.status == 200 and exchange.body == b"hello"
    assert asked[0][":authority"] == "h2.example" and asked[0][":path"] == "/x"
    # Chrome's connection window: 15 MiB
    assert peer.remote_flow_control_window(1) > 0
    assert peer.outbound_flow_control_window >= 65535
    assert peer._inbound_flow_control_window_manager is not None
    assert CHROME_CONNECTION_WINDOW == 15 * 1024 * 1024


def test_garbage_from_the_server_is_the_clients_peer_error_worded_as_chrome():
    client = Http2ClientConnection(host="h2.example")
    client.start(0.0)
    client.outputs()
    exchange = client.submit(Request("GET", "/x"), 0.0)
    with pytest.raises(PeerError, match="ERR_HTTP2_PROTOCOL_ERROR"):
        client.receive(b"HTTP/1.1 200 OK\r\n\r\n" + b"\0" * 40, 0.1)
    assert exchange.error == "net::ERR_HTTP2_PROTOCOL_ERROR"


def test_netsim_server_against_httpx_http2_client():
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("h2")
    import httpcore

    class MemoryStream(httpcore.NetworkStream):
        """httpcore's network stream over netsim's server engine, in memory."""

        def __init__(self):
            self.server = Http2ServerConnection(sites())
            self.server.start(0.0)
            self.pending = bytearray()

        def _drain(self):
            for out in self.server.outputs():
                if isinstance(out, Send):
                    self.pending += out.data

        def read(self, max_bytes, timeout=None):
            self._drain()
            data, self.pending = bytes(self.pending[:max_bytes]), self.pending[max_bytes:]
            return data

        def write(self, buffer, timeout=None):
            self.server.receive(buffer, 0.0)

        def close(self):
            pass

        def get_extra_info(self, info):
            return "h2" if info == "ssl_object" and False else None

    class Backend(httpcore.NetworkBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            return MemoryStream()

    pool = httpcore.ConnectionPool(network_backend=Backend(), http1=False, http2=True)
    with httpx.Client(transport=httpx.HTTPTransport(http1=False, http2=True)) as client:
        client._transport._pool = pool
        response = client.get("http://www.example.com/index.html")
    assert response.http_version == "HTTP/2"
    assert response.status_code == 200 and response.text == "<html>hi</html>"

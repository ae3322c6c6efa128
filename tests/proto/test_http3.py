"""HTTP/3 engines (RFC 9114 over QUIC, RFC 9000) in pairs over a fake datagram wire in
simulated time, and each against aioquic's own other half: netsim's server against a
client written on aioquic's QuicConnection + H3Connection alone, netsim's client against
a server written the same way. Handshake round trips, 0-RTT on resumption, and failures
worded as Chrome words them."""

from __future__ import annotations

import heapq

import pytest
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.connection import QuicConnection

from netsim.proto.http.client import Request
from netsim.proto.http.h3 import Http3ClientConnection, client_configuration, server_configuration
from netsim.proto.http.h3server import Http3Server
from netsim.proto.stream import Close, Send, SendTo
from netsim.proto.tls.certs import Pki
from tests.proto.test_http2 import sites

PKI = Pki.build(7)
CREDENTIAL = PKI.issue("web", ["www.example.com", "web"])
SERVER_ADDRESS, CLIENT_ADDRESS = ("10.0.0.2", 443), ("10.0.0.1", 50000)
ONE_WAY = 0.025                                   # a 50 ms round trip


class Wire:
    """A client engine and a server engine ONE_WAY apart; ``drop`` says which datagrams
    the wire loses (called with the direction and the datagram's number)."""

    def __init__(self, client, server, drop=lambda direction, n: False, address=CLIENT_ADDRESS,
                 now=0.0):
        self.client, self.server, self.drop = client, server, drop
        self.address = address
        self.now = now
        self.queue: list = []
        self.count = {"up": 0, "down": 0}
        self.sent: list[tuple[float, str, int]] = []    # (time, direction, size)
        self.closed = False

    def _carry(self):
        for out in self.client.outputs():
            if isinstance(out, Send):
                self._post("up", out.data)
            elif isinstance(out, Close):
                self.closed = True
        for out in self.server.outputs():
            if isinstance(out, SendTo) and out.address == self.address:
                self._post("down", out.data)

    def _post(self, direction, data):
        n = self.count[direction] = self.count[direction] + 1
        self.sent.append((self.now, direction, len(data)))
        if not self.drop(direction, n):
            heapq.heappush(self.queue, (self.now + ONE_WAY, len(self.sent), direction, data))

    def run(self, until=10.0, stop=lambda: False):
        self._carry()
        while self.now < until and not stop():
            timers = [t for t in (self.client.get_timer(), self.server.get_timer()) if t is not None]
            nxt = min([self.queue[0][0]] + timers if self.queue else timers or [until])
            self.now = max(self.now, nxt)
            if self.queue and self.queue[0][0] <= self.now:
                _t, _n, direction, data = heapq.heappop(self.queue)
                if direction == "up":
                    self.server.receive_from(data, self.address, self.now)
                else:
                    self.client.receive(data, self.now)
            else:
                for engine in (self.client, self.server):
                    t = engine.get_timer()
                    if t is not None and t <= self.now:
                        engine.handle_timer(self.now)
            self._carry()


def server():
    return Http3Server(sites(), server_configuration(CREDENTIAL.chain_pem, CREDENTIAL.key_pem))


def client(host="www.example.com", **kwargs):
    return Http3ClientConnection(client_configuration(PKI.ca_pem, host, **kwargs),
                                 host=host, address=SERVER_ADDRESS)


def test_three_requests_are_three_streams_of_one_quic_connection():
    c, s = client(), server()
    c.start(0.0)
    exchanges = [c.submit(Request("GET", p), 0.0) for p in ("/index.html", "/a.css", "/gone")]
    wire = Wire(c, s)
    wire.run(stop=lambda: all(e.done_at for e in exchanges))
    assert [e.status for e in exchanges] == [200, 200, 404]
    assert exchanges[0].body == b"<html>hi</html>" and len(exchanges[1].body) == 3072
    assert all(e.http_version == "3" for e in exchanges)
    assert c.handshake.alpn == "h3" and not c.handshake.resumed
    assert [a.target for a in s.log] == ["/index.html", "/a.css", "/gone"]
    assert s.accepted == 1


def test_the_first_request_waits_one_round_trip_for_the_handshake():
    c, s = client(), server()
    c.start(0.0)
    first = c.submit(Request("GET", "/index.html"), 0.0)
    Wire(c, s).run(stop=lambda: first.done_at is not None)
    # Initial → server's Initial+Handshake (1 RTT): the request goes with the client's
    # Finished; its answer one more RTT later.
    assert first.sent_at == pytest.approx(2 * ONE_WAY, abs=1e-3)
    assert first.done_at == pytest.approx(4 * ONE_WAY, abs=2e-3)


def test_a_resumed_connection_sends_its_request_in_0rtt():
    tickets = []
    s = server()
    first = Http3ClientConnection(client_configuration(PKI.ca_pem, "www.example.com"),
                                  host="www.example.com", address=SERVER_ADDRESS,
                                  ticket_handler=tickets.append)
    first.start(0.0)
    one = first.submit(Request("GET", "/index.html"), 0.0)
    wire = Wire(first, s)
    wire.run(stop=lambda: one.done_at is not None and tickets)
    assert tickets and tickets[0].max_early_data_size
    configuration = client_configuration(PKI.ca_pem, "www.example.com")
    configuration.session_ticket = tickets[0]
    again = Http3ClientConnection(configuration, host="www.example.com", address=SERVER_ADDRESS)
    start = wire.now
    again.start(start)
    two = again.submit(Request("GET", "/index.html"), start)
    Wire(again, s, address=("10.0.0.1", 50001), now=start).run(until=start + 5,
                                                    stop=lambda: two.done_at is not None)
    assert two.sent_at == start                          # with the ClientHello: 0-RTT
    # The answer in one round trip (a larger one would wait for the client's address to
    # be validated: a server sends at most three times what it received, RFC 9000 §8.1).
    assert two.done_at - start == pytest.approx(2 * ONE_WAY, abs=2e-3)
    assert again.handshake.resumed and again.handshake.early_data


def test_a_lost_datagram_is_repaired_by_quic_and_the_page_still_comes():
    c, s = client(), server()
    c.start(0.0)
    big = c.submit(Request("GET", "/big.bin"), 0.0)
    wire = Wire(c, s, drop=lambda direction, n: direction == "down" and n in (5, 9, 10))
    wire.run(stop=lambda: big.done_at is not None)
    assert big.status == 200 and len(big.body) == 200 * 1024


def test_a_certificate_for_another_name_fails_the_handshake_as_chrome_says():
    c, s = client(host="other.example.com"), server()
    c.start(0.0)
    exchange = c.submit(Request("GET", "/index.html"), 0.0)
    wire = Wire(c, s)
    wire.run(stop=lambda: c.finished)
    assert c.finished and exchange.status is None
    assert exchange.error.startswith("net::ERR_QUIC")


def test_an_unanswered_handshake_gives_up_so_the_browser_can_fall_back():
    c, s = client(), server()
    c.start(0.0)
    exchange = c.submit(Request("GET", "/index.html"), 0.0)
    wire = Wire(c, s, drop=lambda direction, n: direction == "up")     # UDP blocked
    wire.run(stop=lambda: c.finished)
    assert c.failure == "quic_timeout" and exchange.error == "net::ERR_QUIC_HANDSHAKE_FAILED"
    assert wire.now == pytest.approx(3.0)


def test_garbage_datagrams_to_the_server_are_ignored():
    s = server()
    s.receive_from(b"\x00" * 40, CLIENT_ADDRESS, 0.0)
    s.receive_from(b"GET / HTTP/1.1\r\n\r\n", CLIENT_ADDRESS, 0.0)
    s.receive_from(b"\xc0" + b"\xff" * 1300, CLIENT_ADDRESS, 0.0)
    assert s.accepted <= 1 and s.outputs() == [] or all(isinstance(o, SendTo) for o in s.outputs())


def test_netsims_server_against_a_client_on_aioquic_alone():
    s = server()
    quic = QuicConnection(configuration=client_configuration(PKI.ca_pem, "www.example.com"))
    h3 = H3Connection(quic)
    quic.connect(SERVER_ADDRESS, now=0.0)
    got, now = {}, 0.0
    stream = None
    for _ in range(40):
        for data, _addr in quic.datagrams_to_send(now=now):
            s.receive_from(data, CLIENT_ADDRESS, now)
        now += ONE_WAY
        for out in s.outputs():
            if isinstance(out, SendTo):
                quic.receive_datagram(out.data, SERVER_ADDRESS, now=now)
        while (event := quic.next_event()) is not None:
            for e in h3.handle_event(event):
                if isinstance(e, HeadersReceived):
                    got["headers"] = dict(e.headers)
                elif isinstance(e, DataReceived):
                    got["body"] = got.get("body", b"") + e.data
        if stream is None and quic._handshake_complete:
            stream = quic.get_next_available_stream_id()
            h3.send_headers(stream, [(b":method", b"GET"), (b":scheme", b"https"),
                                     (b":authority", b"www.example.com"),
                                     (b":path", b"/index.html")], end_stream=True)
    assert got["headers"][b":status"] == b"200"
    assert got["body"] == b"<html>hi</html>"
    assert s.log[0].version == "3"


def test_netsims_client_against_a_server_on_aioquic_alone():
    config = server_configuration(CREDENTIAL.chain_pem, CREDENTIAL.key_pem)
    peer = None
    c = client()
    c.start(0.0)
    exchange = c.submit(Request("GET", "/x"), 0.0)
    now = 0.0
    h3 = None
    for _ in range(40):
        now += ONE_WAY
        for out in c.outputs():
            if not isinstance(out, Send):
                continue
            if peer is None:
                from aioquic.buffer import Buffer
                from aioquic.quic.packet import pull_quic_header
                header = pull_quic_header(Buffer(data=out.data), host_cid_length=8)
                peer = QuicConnection(configuration=config,
                                      original_destination_connection_id=header.destination_cid)
                h3 = H3Connection(peer)
            peer.receive_datagram(out.data, CLIENT_ADDRESS, now=now)
        if peer is None:
            continue
        while (event := peer.next_event()) is not None:
            for e in h3.handle_event(event):
                if isinstance(e, HeadersReceived) and e.stream_ended:
                    h3.send_headers(e.stream_id, [(b":status", b"200"), (b"content-length", b"5")])
                    h3.send_data(e.stream_id, b"hello", end_stream=True)
        now += ONE_WAY
        for data, _addr in peer.datagrams_to_send(now=now):
            c.receive(data, now)
        if exchange.done_at is not None:
            break
    assert exchange.status == 200 and exchange.body == b"hello"
    assert H3_ALPN[0] == c.handshake.alpn

"""HTTP/3 (RFC 9114) over QUIC (RFC 9000, TLS 1.3 inside it: RFC 9001), sans-I/O, with
aioquic: a client connection with the face of the other HTTP client connections (so a
pool can hold it), and what the server (:mod:`netsim.proto.http.h3server`) shares with
it — configurations, the qlog in simulated time, timers handled past due.

Theory of operation
-------------------
QUIC's engines are aioquic's :class:`~aioquic.quic.connection.QuicConnection` — its own
loss recovery and congestion control (RFC 9002), its timers asked for with
``get_timer()`` and run at ``handle_timer(now)`` — and HTTP/3's its
:class:`~aioquic.h3.connection.H3Connection` (QPACK, RFC 9204). Datagrams in are
``receive(data, now)``; datagrams out are :class:`~netsim.proto.stream.Send` outputs,
one per datagram (the client) or :class:`~netsim.proto.stream.SendTo` (the server,
which has many peers).
Nothing here reads a clock: aioquic is handed the simulated ``now`` at every call, and
its qlog events are stamped with it (:class:`SimulatedQlog`).

The client is ready for requests once the handshake is complete — one round trip — or
at once when it holds a session ticket that allows early data: its requests then go in
0-RTT packets beside the ClientHello (RFC 9001 §4.6), and the handshake that follows
says whether the server took them. Where a real client's behaviour is the expectation,
it is Chrome's: datagrams of up to 1,350 octets, a 30 s idle timeout, CUBIC.

Failures are the peer's, never this engine's: a connection the server closes with an
error, or a handshake that fails (the certificate), fails every stream with Chrome's
``net::ERR_QUIC_PROTOCOL_ERROR`` or ``net::ERR_QUIC_HANDSHAKE_FAILED``; a handshake that
never completes fails when the client gives up (``handshake_timeout``), so that the
browser can fall back to HTTP/2, as Chrome does when UDP is blocked.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from aioquic.h3.connection import H3_ALPN, ErrorCode, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.h3.exceptions import H3Error
from aioquic.quic import events as quic_events
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.logger import QuicLogger, QuicLoggerTrace
from aioquic.quic.stream import QuicStream
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from netsim.proto.http.client import Exchange, Request
from netsim.proto.http.failures import CHROME, Wording
from netsim.proto.http.fields import encoded, request_fields
from netsim.proto.http.site import REASONS
from netsim.proto.stream import Close, Send, StreamEngine

# aioquic serves its streams in an order it keeps by extending a list with a *set* of the
# streams just served (QuicConnection._write_application), and a stream hashes by its
# address in memory: the order — which stream's data fills which packet — changed from
# run to run. Hashing a stream by its id (equality stays identity, so the hash is still
# consistent with it) makes that order the same in every run: same seed, same capture.
QuicStream.__hash__ = lambda stream: hash(stream.stream_id)

#: Chrome's QUIC: the largest datagram it sends (before path MTU discovery), its idle timeout.
CHROME_DATAGRAM = 1350
CHROME_IDLE_TIMEOUT = 30.0
#: How long Chrome waits for a QUIC handshake before it calls the origin broken and
#: uses TCP (its "QUIC job" racing the TCP one is not modelled: this is the fallback).
HANDSHAKE_TIMEOUT = 3.0

#: A timer this close to now is due: the simulated clock cannot tell the two apart (a
#: float's last bits), and waiting for it would wake at the same instant again and again.
TIMER_SLACK = 1e-9


def handled_at(timer: float, now: float) -> float:
    """The time to give aioquic's ``handle_timer`` for a timer due now: a nanosecond past
    it. aioquic's loss timer is a packet's send time plus the loss delay, and declaring
    the packet lost asks ``sent_time <= now - loss_delay`` — which float rounding can
    make false at exactly the timer's time, so the timer stays where it was and a
    simulated clock (which, unlike the wall clock, does not move on by itself) would
    fire it at that instant forever."""
    return max(timer, now) + TIMER_SLACK


@dataclass(frozen=True, slots=True)
class Handshake:
    """A QUIC handshake completed: what it agreed and how."""
    alpn: str | None
    resumed: bool
    early_data: bool             # 0-RTT requests were sent and the server took them
    at: float


class SimulatedQlog(QuicLogger):
    """aioquic's qlog logger with every event stamped by ``clock()`` — simulated time
    (aioquic's own stamps events with the wall clock)."""

    def __init__(self, clock) -> None:
        super().__init__()
        self._clock = clock

    def start_trace(self, is_client: bool, odcid: bytes) -> QuicLoggerTrace:
        trace = _SimulatedTrace(self._clock, is_client=is_client, odcid=odcid)
        self._traces.append(trace)
        return trace


class _SimulatedTrace(QuicLoggerTrace):
    def __init__(self, clock, **kwargs) -> None:
        super().__init__(**kwargs)
        self._clock = clock

    def log_event(self, *, category: str, event: str, data: dict) -> None:
        self._events.append({"data": data, "name": f"{category}:{event}",
                             "time": self.encode_time(self._clock())})


class _CountedH3(H3Connection):
    """aioquic's HTTP/3 connection, counting each stream's QPACK-encoded header blocks
    — HTTP/3's header bytes on the wire, to set against HPACK's and HTTP/1.1's."""

    def __init__(self, quic: QuicConnection) -> None:
        super().__init__(quic)
        self.head_sent: dict[int, int] = {}
        self.head_received: dict[int, int] = {}

    def _encode_headers(self, stream_id: int, headers) -> bytes:
        block = super()._encode_headers(stream_id, headers)
        self.head_sent[stream_id] = self.head_sent.get(stream_id, 0) + len(block)
        return block

    def _decode_headers(self, stream_id: int, frame_data: bytes | None):
        if frame_data is not None:
            self.head_received[stream_id] = self.head_received.get(stream_id, 0) + len(frame_data)
        return super()._decode_headers(stream_id, frame_data)


def quic_configuration(*, client: bool, **options) -> QuicConfiguration:
    """A QuicConfiguration for HTTP/3 with Chrome's datagram size, idle timeout and CUBIC
    (``options`` override, as :class:`QuicConfiguration` takes them)."""
    settings = dict(alpn_protocols=H3_ALPN, is_client=client, max_datagram_size=CHROME_DATAGRAM,
                    idle_timeout=CHROME_IDLE_TIMEOUT, congestion_control_algorithm="cubic")
    settings.update(options)
    return QuicConfiguration(**settings)


def server_configuration(chain_pem: bytes, key_pem: bytes, **options) -> QuicConfiguration:
    """A server's: its certificate chain (leaf first) and key, from PEM."""
    configuration = quic_configuration(client=False, **options)
    leaf, *chain = x509.load_pem_x509_certificates(chain_pem)
    configuration.certificate, configuration.certificate_chain = leaf, chain
    configuration.private_key = serialization.load_pem_private_key(key_pem, password=None)
    return configuration


def client_configuration(ca_pem: bytes, server_name: str, *, verify: bool = True,
                         **options) -> QuicConfiguration:
    """A client's: the CA it trusts, the name it asks for (SNI) and checks."""
    configuration = quic_configuration(client=True, server_name=server_name, **options)
    configuration.load_verify_locations(cadata=ca_pem)
    if not verify:
        configuration.verify_mode = ssl.CERT_NONE
    return configuration


class Http3ClientConnection(StreamEngine):
    """One HTTP/3 connection to ``host`` (the ``:authority``) at ``address``."""

    version = "3"

    def __init__(self, configuration: QuicConfiguration, *, host: str, address: tuple[str, int],
                 user_agent: str = "curl/8.5.0 (netsim)", accept: str = "*/*",
                 wording: Wording = CHROME, ticket_handler=None,
                 handshake_timeout: float = HANDSHAKE_TIMEOUT) -> None:
        super().__init__()
        self.configuration, self.host, self.address = configuration, host, address
        self.user_agent, self.accept, self.wording = user_agent, accept, wording
        self.ticket_handler = ticket_handler
        self.handshake_timeout = handshake_timeout
        self.quic: QuicConnection | None = None
        self.h3: _CountedH3 | None = None
        self.exchanges: list[Exchange] = []
        self._streams: dict[int, Exchange] = {}
        self._bodies: dict[int, bytearray] = {}
        self._received: dict[int, int] = {}            # stream → its octets received
        self._sent: dict[int, int] = {}
        self.error: str | None = None
        self.failure: str | None = None
        self.finished = False
        self.started = False
        self.ready = False                             # requests may go (1-RTT or 0-RTT keys)
        self.handshake: Handshake | None = None
        self.early_data = False                        # requests went as 0-RTT
        self.sent_heads: list[list[str]] = []
        self.refused: list[Exchange] = []
        self._now = 0.0
        self._deadline: float | None = None

    # -- what a pool asks of a connection ----------------------------------------------

    @property
    def idle(self) -> bool:
        return not self.finished and not self._streams

    @property
    def capacity(self) -> int:
        """How many more request streams the server's limit lets us open now."""
        if self.finished or not self.ready:
            return 0
        quic = self.quic
        limit = quic._remote_max_streams_bidi if quic is not None else 0
        return max(0, limit - (quic._local_next_stream_id_bidi // 4))

    @property
    def outstanding(self) -> int:
        return len(self._streams)

    def submit(self, request: Request, now: float) -> Exchange:
        exchange = Exchange(request)
        self.exchanges.append(exchange)
        if self.ready and not self.finished:
            self._now = now
            self._send_request(exchange, now)
            self._flush(now)
        return exchange

    def close(self) -> None:
        if not self.finished and self.quic is not None:
            self.quic.close(error_code=ErrorCode.H3_NO_ERROR)
            self._flush(self._now)

    # -- the datagram engine's contract --------------------------------------------------

    def start(self, now: float) -> None:
        self._now = now
        self.started = True
        self.quic = QuicConnection(configuration=self.configuration,
                                   session_ticket_handler=self.ticket_handler)
        self.h3 = _CountedH3(self.quic)
        self.quic.connect(self.address, now=now)
        self._deadline = now + self.handshake_timeout
        ticket = self.configuration.session_ticket
        if ticket is not None and ticket.max_early_data_size:
            self.ready = self.early_data = True       # 0-RTT: the requests go now
        self._flush(now)

    def receive(self, data: bytes, now: float) -> None:
        if self.finished:
            return
        self._now = now
        self.quic.receive_datagram(data, self.address, now=now)
        self._events(now)
        self._flush(now)

    def get_timer(self) -> float | None:
        if self.finished or self.quic is None:
            return None
        timers = [t for t in (self.quic.get_timer(), self._deadline) if t is not None]
        return min(timers) if timers else None

    def handle_timer(self, now: float) -> None:
        if self.finished:
            return
        self._now = now
        if self._deadline is not None and now >= self._deadline - TIMER_SLACK:
            self._deadline = None
            self._terminate("quic_timeout", "the QUIC handshake did not complete", now)
            return
        timer = self.quic.get_timer()
        if timer is not None and now >= timer - TIMER_SLACK:
            self.quic.handle_timer(now=handled_at(timer, now))
        self._events(now)
        self._flush(now)

    def connection_lost(self, now: float) -> None:
        """The runtime gave up on the path (the socket closed)."""
        if not self.finished:
            self._terminate("quic", "the connection closed", now)

    # -- events --------------------------------------------------------------------------

    def _events(self, now: float) -> None:
        quic = self.quic
        while (event := quic.next_event()) is not None:
            kind = type(event)
            if kind is quic_events.HandshakeCompleted:
                self._deadline = None
                self.handshake = Handshake(event.alpn_protocol, event.session_resumed,
                                           event.early_data_accepted and self.early_data, now)
                if not self.ready:
                    self.ready = True
                    for exchange in self.exchanges:
                        if exchange.sent_at is None:
                            self._send_request(exchange, now)
                elif self.early_data and not event.early_data_accepted:
                    # The server refused 0-RTT: aioquic resends the streams in 1-RTT.
                    self.early_data = False
            elif kind is quic_events.StreamDataReceived and event.stream_id in self._streams:
                self._received[event.stream_id] = \
                    self._received.get(event.stream_id, 0) + len(event.data)
            elif kind is quic_events.ConnectionTerminated:
                self._terminated(event, now)
                return
            try:
                h3_events = self.h3.handle_event(event)
            except H3Error:
                quic.close(error_code=ErrorCode.H3_GENERAL_PROTOCOL_ERROR)
                self._terminate("quic", "HTTP/3 protocol error", now)
                return
            for h3_event in h3_events:
                self._h3_event(h3_event, now)

    def _h3_event(self, event, now: float) -> None:
        exchange = self._streams.get(event.stream_id)
        if exchange is None:
            return
        if isinstance(event, HeadersReceived):
            headers = [(k.decode("ascii"), v.decode("latin-1")) for k, v in event.headers]
            status = next((v for k, v in headers if k == ":status"), "0")
            exchange.status = int(status) if status.isdigit() else 0
            exchange.reason = REASONS.get(exchange.status, "")
            exchange.headers = [(k, v) for k, v in headers if not k.startswith(":")]
            exchange.first_byte_at = exchange.first_byte_at or now
        elif isinstance(event, DataReceived):
            self._bodies.setdefault(event.stream_id, bytearray()).extend(event.data)
        if event.stream_ended:
            self._stream_done(event.stream_id, now)

    def _terminated(self, event, now: float) -> None:
        if event.error_code == 0 or event.error_code == ErrorCode.H3_NO_ERROR:
            # Closed cleanly (an idle timeout, the server's GOAWAY-less close): any
            # request still open goes again elsewhere.
            self.refused += [self._streams[s] for s in self._streams]
            self._streams.clear()
            self._finish()
            return
        kind = "quic" if self.handshake is not None else "quic_timeout"
        self._terminate(kind, event.reason_phrase or f"error {event.error_code:#x}", now)

    def _terminate(self, kind: str, why: str, now: float) -> None:
        self.error = self.wording.response(kind, why=why)
        self.failure = kind
        for stream_id, exchange in self._streams.items():
            self._account(stream_id, exchange)
            exchange.error, exchange.failure = self.error, kind
        for exchange in self.exchanges:
            if exchange.sent_at is None and exchange.error is None:
                exchange.error, exchange.failure = self.error, kind
        self._streams.clear()
        self._finish()

    # -- streams -------------------------------------------------------------------------

    def _send_request(self, exchange: Exchange, now: float) -> None:
        r = exchange.request
        stream_id = self.quic.get_next_available_stream_id()
        fields = request_fields(r, authority=self.host, scheme="https",
                                user_agent=self.user_agent, accept=self.accept)
        self.h3.send_headers(stream_id, encoded(fields), end_stream=not r.body)
        if r.body:
            self.h3.send_data(stream_id, r.body, end_stream=True)
        self._streams[stream_id] = exchange
        self._sent[stream_id] = self.h3.head_sent.get(stream_id, 0) + len(r.body)
        exchange.sent_at = now
        exchange.http_version = "3"
        self.sent_heads.append([f"{k}: {v}" for k, v in fields])
        self._account(stream_id, exchange)

    def _stream_done(self, stream_id: int, now: float) -> None:
        exchange = self._streams.pop(stream_id)
        body = self._bodies.pop(stream_id, None)
        if body:
            exchange.body = bytes(body)
        self._account(stream_id, exchange)
        exchange.done_at = now

    def _account(self, stream_id: int, exchange: Exchange) -> None:
        exchange.sent_bytes = self._sent.get(stream_id, 0)
        exchange.received_bytes = self._received.get(stream_id, 0)
        exchange.head_sent = self.h3.head_sent.get(stream_id, 0)
        exchange.head_received = self.h3.head_received.get(stream_id, 0)

    def _flush(self, now: float) -> None:
        if self.quic is None:
            return
        for data, _address in self.quic.datagrams_to_send(now=now):
            self._out.append(Send(data))

    def _finish(self) -> None:
        if not self.finished:
            self._flush(self._now)
            self.finished = True
            self._out.append(Close())

    def header_bytes(self) -> tuple[int, int]:
        return sum(self.h3.head_sent.values()), sum(self.h3.head_received.values())

"""An HTTP/2 client connection, sans-I/O, over h2 (RFC 9113, HPACK RFC 7541): a stream
engine the runtime drives, with the same face as the HTTP/1.x client
(:class:`~netsim.proto.http.client.HttpClientConnection`) so a connection pool can hold
either — but requests here are *streams*, sent as soon as they are submitted and
answered in any order, all on one connection.

Theory of operation
-------------------
At ``start`` (TCP is up and, over TLS, ALPN said ``h2``; or ``h2c`` with prior
knowledge, RFC 9113 §3.3) the connection preface and SETTINGS go out. Each
:meth:`submit` opens the next stream (1, 3, 5, …) with one HEADERS frame, and a body as
DATA. What the server sends is read by h2; the bytes of every frame are counted per
stream (:class:`~netsim.proto.http.h2frames.FrameCounter`), so an exchange knows its
bytes on the wire and how much of them were header blocks — HPACK's saving against
HTTP/1.1's text heads.

Where a real client's behaviour is the expectation, it is Chrome's: its SETTINGS
(a 64 KiB header table, no push, a 6 MiB stream window, 256 KiB of header list) and a
connection window opened to 15 MiB at once; WINDOW_UPDATE as h2 paces it. A server's
bytes h2 rejects end the connection with ``net::ERR_HTTP2_PROTOCOL_ERROR`` (a
:class:`~netsim.errors.PeerError`); a GOAWAY fails no stream the server says it did
not process — those are asked again on a new connection, as Chrome does (RFC 9113
§6.8); a stream the server resets fails alone.
"""

from __future__ import annotations

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from netsim.errors import PeerError
from netsim.proto.http.client import Done, Exchange, Request
from netsim.proto.http.failures import CHROME, Wording
from netsim.proto.http.fields import encoded, request_fields
from netsim.proto.http.h2frames import FrameCounter
from netsim.proto.http.site import REASONS
from netsim.proto.stream import Close, Failed, Send, StreamEngine

#: Chrome's SETTINGS (net/http/http_network_session.cc) and its connection window.
CHROME_SETTINGS = {
    h2.settings.SettingCodes.HEADER_TABLE_SIZE: 65536,
    h2.settings.SettingCodes.ENABLE_PUSH: 0,
    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 6 * 1024 * 1024,
    h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 256 * 1024,
}
CHROME_CONNECTION_WINDOW = 15 * 1024 * 1024


class Http2ClientConnection(StreamEngine):
    """One HTTP/2 connection to ``host`` (the ``:authority``), ``scheme`` https or http;
    ``window``: the stream flow-control window it advertises (Chrome's 6 MiB)."""

    version = "2"

    def __init__(self, *, host: str, scheme: str = "https",
                 user_agent: str = "curl/8.5.0 (netsim)", accept: str = "*/*",
                 wording: Wording = CHROME, window: int | None = None) -> None:
        super().__init__()
        self.host, self.scheme = host, scheme
        self.user_agent, self.accept, self.wording = user_agent, accept, wording
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        settings = dict(CHROME_SETTINGS)
        if window is not None:              # a stream window other than Chrome's 6 MiB
            settings[h2.settings.SettingCodes.INITIAL_WINDOW_SIZE] = window
        self.conn.local_settings = h2.settings.Settings(client=True, initial_values=settings)
        # Settings given as h2's current ones skip its SETTINGS-ACK bookkeeping, which
        # is where the HPACK decoder would learn the table it may be sent (RFC 7541 §4.2).
        self.conn.decoder.max_allowed_table_size = CHROME_SETTINGS[
            h2.settings.SettingCodes.HEADER_TABLE_SIZE]
        self.conn.decoder.max_header_list_size = CHROME_SETTINGS[
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE]
        self.exchanges: list[Exchange] = []
        self._streams: dict[int, Exchange] = {}         # open: stream id → its exchange
        self._bodies: dict[int, bytearray] = {}
        self._ids: dict[int, int] = {}                  # exchange index → stream id
        self.sent = FrameCounter(preface=True)
        self.received = FrameCounter(max_frame=self.conn.local_settings.max_frame_size,
                                     settings_first=True)
        self.error: str | None = None
        self.failure: str | None = None
        self.finished = False
        self.started = False
        self.unsolicited = False
        #: Every stream the server would not process (GOAWAY) — to ask again elsewhere.
        self.refused: list[Exchange] = []
        self.sent_heads: list[list[str]] = []

    # -- what a pool asks of a connection ----------------------------------------------

    @property
    def idle(self) -> bool:
        return not self.finished and not self._streams

    @property
    def capacity(self) -> int:
        """How many more streams the server lets us open now (its MAX_CONCURRENT_STREAMS)."""
        if self.finished or not self.started:
            return 0
        limit = self.conn.remote_settings.max_concurrent_streams
        return max(0, limit - len(self._streams))

    @property
    def outstanding(self) -> int:
        return len(self._streams)

    def submit(self, request: Request, now: float) -> Exchange:
        exchange = Exchange(request)
        self.exchanges.append(exchange)
        if self.started and not self.finished:
            self._send_request(exchange, now)
        return exchange

    def close(self) -> None:
        if not self.finished:
            self.conn.close_connection(h2.errors.ErrorCodes.NO_ERROR)
            self._flush()
            self._finish()

    # -- the stream contract -------------------------------------------------------------

    def start(self, now: float) -> None:
        self.started = True
        self.conn.initiate_connection()
        # The connection's window starts at 65,535 (RFC 9113 §6.9.2): open it to Chrome's.
        self.conn.increment_flow_control_window(CHROME_CONNECTION_WINDOW - 65535)
        for exchange in self.exchanges:
            if exchange.sent_at is None:
                self._send_request(exchange, now)
        self._flush()

    def receive(self, data: bytes, now: float) -> None:
        if self.finished:
            return
        self.received.feed(data)
        try:
            if self.received.violation:
                raise h2.exceptions.ProtocolError(self.received.violation)
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            if self.received.violation:
                self.conn.close_connection(h2.errors.ErrorCodes.PROTOCOL_ERROR)
            self._flush()                       # h2's GOAWAY goes out first
            self._fail_all("http2", now)
            self.finished = True
            raise PeerError(self.error) from exc
        for event in events:
            self._event(event, now)
        self._flush()

    def connection_lost(self, now: float) -> None:
        if self.finished:
            return
        for stream_id, exchange in self._streams.items():
            self._settle(stream_id, exchange)
            kind = "empty" if exchange.status is None else "reset"
            exchange.error, exchange.failure = self.wording.response(kind), kind
        if self._streams:
            first = next(iter(self._streams.values()))
            self.error, self.failure = first.error, first.failure
        self._streams.clear()
        self.finished = True
        self._out.append(Done())

    def tls_failed(self, error, now: float) -> None:
        if self.finished:
            return
        kind = "tls_certificate" if error.kind == "certificate" else "tls_handshake"
        self.error, self.failure = self.wording.response(kind, error=error), kind
        for exchange in self.exchanges:
            if exchange.done_at is None:
                exchange.error, exchange.failure = self.error, kind
        self.finished = True
        self._out.append(Failed(self.error))

    # -- streams -------------------------------------------------------------------------

    def _send_request(self, exchange: Exchange, now: float) -> None:
        r = exchange.request
        stream_id = self.conn.get_next_available_stream_id()
        fields = request_fields(r, authority=self.host, scheme=self.scheme,
                                user_agent=self.user_agent, accept=self.accept)
        self.conn.send_headers(stream_id, encoded(fields), end_stream=not r.body)
        if r.body:
            self.conn.send_data(stream_id, r.body, end_stream=True)
        self._streams[stream_id] = exchange
        self._ids[len(self.exchanges) - 1] = stream_id
        exchange.sent_at = now
        exchange.http_version = "2"
        self.sent_heads.append([f"{k}: {v}" for k, v in fields])
        self._flush()
        self._account(stream_id, exchange)

    def _event(self, event, now: float) -> None:
        kind = type(event)
        exchange = self._streams.get(getattr(event, "stream_id", 0) or 0)
        if kind is h2.events.ResponseReceived and exchange is not None:
            headers = [(k.decode("ascii"), v.decode("latin-1")) for k, v in event.headers]
            status = next((v for k, v in headers if k == ":status"), "0")
            exchange.status = int(status)
            exchange.reason = REASONS.get(exchange.status, "")
            exchange.headers = [(k, v) for k, v in headers if not k.startswith(":")]
            exchange.first_byte_at = now
            if event.stream_ended is not None:
                self._stream_done(event.stream_id, now)
        elif kind is h2.events.DataReceived:
            if exchange is not None:
                self._bodies.setdefault(event.stream_id, bytearray()).extend(event.data)
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif kind is h2.events.StreamEnded and exchange is not None:
            self._stream_done(event.stream_id, now)
        elif kind is h2.events.StreamReset and exchange is not None:
            self._settle(event.stream_id, exchange)
            exchange.error, exchange.failure = self.wording.response("http2"), "http2"
            exchange.done_at = now
            self._account(event.stream_id, exchange)
            del self._streams[event.stream_id]
        elif kind is h2.events.ConnectionTerminated:
            self._goaway(event, now)

    def _stream_done(self, stream_id: int, now: float) -> None:
        exchange = self._streams.pop(stream_id)
        self._settle(stream_id, exchange)
        self._account(stream_id, exchange)
        exchange.done_at = now

    def _account(self, stream_id: int, exchange: Exchange) -> None:
        exchange.received_bytes = self.received.wire.get(stream_id, 0)
        exchange.sent_bytes = self.sent.wire.get(stream_id, 0)
        exchange.head_received = self.received.header_bytes.get(stream_id, 0)
        exchange.head_sent = self.sent.header_bytes.get(stream_id, 0)

    def _settle(self, stream_id: int, exchange: Exchange) -> None:
        """The body read so far on ``stream_id`` becomes its exchange's."""
        body = self._bodies.pop(stream_id, None)
        if body:
            exchange.body = bytes(body)

    def _goaway(self, event, now: float) -> None:
        """The server is done with the connection (RFC 9113 §6.8): streams it did not
        process go again elsewhere; an error code other than NO_ERROR fails the rest."""
        last = event.last_stream_id if event.last_stream_id is not None else 2**31
        for stream_id in [s for s in self._streams if s > last]:
            self.refused.append(self._streams.pop(stream_id))
        if event.error_code != h2.errors.ErrorCodes.NO_ERROR and self._streams:
            self._fail_all("http2", now)
        self._finish()

    def _fail_all(self, kind: str, now: float) -> None:
        message = self.wording.response(kind)
        self.error, self.failure = message, kind
        for stream_id, exchange in list(self._streams.items()):
            self._settle(stream_id, exchange)
            self._account(stream_id, exchange)
            exchange.error, exchange.failure = message, kind
        self._streams.clear()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sent.feed(data)
            self._out.append(Send(data))

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            self._out += [Close(), Done()]

    def header_bytes(self) -> tuple[int, int]:
        """Octets of header blocks (HEADERS and CONTINUATION frames) sent and received."""
        return sum(self.sent.header_bytes.values()), sum(self.received.header_bytes.values())

"""One HTTP/2 server connection, sans-I/O, over h2 (RFC 9113, HPACK RFC 7541): the same
sites as the HTTP/1.x server (:class:`~netsim.proto.http.site.Site`), answered as
streams of one connection.

Theory of operation
-------------------
Requests come as streams; each is answered once its END_STREAM is in, with a HEADERS
frame and its body as DATA frames. The bodies of the streams being answered share the
connection as h2's flow control allows (RFC 9113 §5.2): each turn sends, stream by
stream in the order they were opened, one frame of at most the peer's frame size and
window; what does not fit waits for the client's WINDOW_UPDATE. What one read brings is
answered with one write, as the HTTP/1.x server does.

Where a real server's behaviour is the expectation, it is nginx's: its SETTINGS (128
concurrent streams, a 64 KiB initial window, frames up to 16 MiB) and a connection
window opened at once to 2³¹−1; no server push; an idle connection closed after
``keep_alive`` with a GOAWAY (``NO_ERROR``); a request h2 refuses (a bad header, a
stream error) reset or the connection ended with GOAWAY as h2 decides — a client's
bytes are never this engine's failure.

Each answered request is an :class:`~netsim.proto.http.server.Answered` output with
version ``2.0`` (nginx's access log writes ``HTTP/2.0``).
"""

from __future__ import annotations

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from netsim.proto.http.fields import answer
from netsim.proto.http.server import Answered
from netsim.proto.http.site import Site
from netsim.proto.stream import Close, Send, StreamEngine

#: nginx's SETTINGS (ngx_http_v2_module: concurrent streams 128, its 64 KiB window,
#: frames up to 2²⁴−1) and the connection window it opens at once.
NGINX_SETTINGS = {
    h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 128,
    h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 65536,
    h2.settings.SettingCodes.MAX_FRAME_SIZE: 16_777_215,
}
NGINX_CONNECTION_WINDOW = 2**31 - 1


class Http2ServerConnection(StreamEngine):
    """The server side of one HTTP/2 connection for ``sites`` (as
    :class:`~netsim.proto.http.server.HttpServerConnection`'s)."""

    def __init__(self, sites: dict[str, Site], *, server_name: str = "netsim",
                 keep_alive: float | None = None, alt_svc: str | None = None) -> None:
        super().__init__()
        self.sites, self.server_name, self.keep_alive = sites, server_name, keep_alive
        #: An ``Alt-Svc`` value to announce on every answer (RFC 7838: ``h3=":443"``).
        self.alt_svc = alt_svc
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.local_settings = h2.settings.Settings(client=False,
                                                        initial_values=NGINX_SETTINGS)
        self._requests: dict[int, tuple[list, bytearray]] = {}
        self._sending: dict[int, memoryview] = {}       # stream → body not yet sent
        self._idle_since = 0.0
        self._writing = False
        self.closed = False
        self.log: list[Answered] = []

    # -- the stream-engine contract ----------------------------------------------------

    def start(self, now: float) -> None:
        self._idle_since = now
        self.conn.initiate_connection()
        # The connection's window starts at 65,535 (RFC 9113 §6.9.2): nginx opens it all.
        self.conn.increment_flow_control_window(NGINX_CONNECTION_WINDOW - 65535)
        self._flush()

    def receive(self, data: bytes, now: float) -> None:
        if self.closed:
            return
        self._idle_since = now
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            # h2 has queued its GOAWAY (PROTOCOL_ERROR or the like): send it and go.
            self._end()
            return
        for event in events:
            self._event(event, now)
        self._pump()
        self._flush()

    def connection_lost(self, now: float = 0.0) -> None:
        self.closed = True

    def get_timer(self) -> float | None:
        if self.closed or self.keep_alive is None or self._writing or self._requests \
                or self._sending:
            return None
        return self._idle_since + self.keep_alive

    def handle_timer(self, now: float) -> None:
        deadline = self.get_timer()
        if deadline is not None and now >= deadline:
            self.conn.close_connection(h2.errors.ErrorCodes.NO_ERROR)
            self._end()

    def pause_writing(self, now: float) -> None:
        self._writing = True

    def resume_writing(self, now: float) -> None:
        self._writing = False
        self._idle_since = now

    # -- streams -------------------------------------------------------------------------

    def _event(self, event, now: float) -> None:
        kind = type(event)
        if kind is h2.events.RequestReceived:
            self._requests[event.stream_id] = (event.headers, bytearray())
            if event.stream_ended is not None:
                self._answer(event.stream_id, now)
        elif kind is h2.events.DataReceived:
            request = self._requests.get(event.stream_id)
            if request is not None:
                request[1].extend(event.data)
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif kind is h2.events.StreamEnded:
            if event.stream_id in self._requests:
                self._answer(event.stream_id, now)
        elif kind is h2.events.StreamReset:
            self._requests.pop(event.stream_id, None)
            self._sending.pop(event.stream_id, None)
        elif kind is h2.events.ConnectionTerminated:
            self._end()

    def _answer(self, stream_id: int, now: float) -> None:
        raw, body = self._requests.pop(stream_id)
        # nginx's access log writes HTTP/2.0.
        reply = answer(self.sites, raw, bytes(body), now, version="2.0",
                       server_name=self.server_name, alt_svc=self.alt_svc)
        self.log.append(reply.entry)
        self._out.append(reply.entry)
        self.conn.send_headers(stream_id, reply.fields, end_stream=not reply.body)
        if reply.body:
            self._sending[stream_id] = memoryview(reply.body)

    def _pump(self) -> None:
        """Every stream's body, a frame per stream per turn, as far as the windows go."""
        conn = self.conn
        while self._sending:
            moved = False
            for stream_id in list(self._sending):
                rest = self._sending[stream_id]
                room = min(conn.local_flow_control_window(stream_id),
                           conn.max_outbound_frame_size, len(rest))
                if room <= 0:
                    continue
                last = room == len(rest)
                conn.send_data(stream_id, bytes(rest[:room]), end_stream=last)
                moved = True
                if last:
                    del self._sending[stream_id]
                else:
                    self._sending[stream_id] = rest[room:]
            if not moved:
                return                          # every window is shut: WINDOW_UPDATE next

    def _end(self) -> None:
        self._flush()
        if not self.closed:
            self.closed = True
            self._out.append(Close())

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self._out.append(Send(data))

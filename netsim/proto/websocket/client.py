"""A browser's WebSocket client, sans-I/O (RFC 6455 §4.1 the handshake it sends and
checks, §5 frames, §7 the closing handshake), as Chrome does it.
"""

from __future__ import annotations

import random

import h11

from netsim.errors import PeerError
from netsim.proto.http.failures import CHROME
from netsim.proto.stream import Close, Failed, Send, StreamEngine
from netsim.proto.websocket.events import Opened, SentClose, SentPing, SentText
from netsim.proto.websocket.frames import CLOSED, Frames
from netsim.proto.websocket.keys import accept_for
from netsim.proto.websocket.rules import ChromeRules

#: What a client pings with (the payload comes back in the pong).
PING_PAYLOAD = b"netsim"


class WebSocketClient(StreamEngine):
    """A browser's WebSocket to ``ws://host/target`` (or ``wss://``, over a TLS layer the
    driver holds), as Chrome checks the handshake
    (``websocket_basic_handshake_stream.cc``) and keeps its timers
    (``websocket_stream.cc``, ``websocket_channel.cc``). ``plan``: ``(seconds after the
    opening, "send" or "ping", text)``; ``duration``: when, after the opening, it
    closes with 1000. Failures read as Chrome's console line
    ``WebSocket connection to 'ws://…' failed: …``."""

    HANDSHAKE_TIMEOUT = 240.0       # kHandshakeTimeoutIntervalInSeconds
    CLOSING_TIMEOUT = 60.0          # kClosingHandshakeTimeoutSeconds: the server's close frame
    LINGER = 2.0                    # kUnderlyingConnectionCloseTimeoutSeconds: then its FIN

    def __init__(self, host: str, target: str, *, key: str, rng: random.Random,
                 url: str | None = None, origin: str | None = None, plan=(),
                 duration: float | None = None) -> None:
        super().__init__()
        self.host, self.target, self.key, self.origin, self.rng = host, target, key, origin, rng
        self.url = url or f"ws://{host}{target}"
        self._plan = sorted(plan, key=lambda step: step[0])
        self.duration = duration
        self._http = h11.Connection(h11.CLIENT)
        self._first = b""                   # the response's first bytes (its status line)
        self.frames: Frames | None = None
        #: The handshake's two heads, for printing.
        self.request_head: list[str] = []
        self.response_head: list[str] = []
        self.opened_at: float | None = None
        self.bytes_sent = self.bytes_received = 0
        self._handshake_by: float | None = None
        self._close_by: float | None = None          # our close is waiting for the reply
        self._linger_until: float | None = None      # the handshake is over: the server's FIN
        self._over = False                           # we closed (or failed): no more timers

    def _emit(self, out) -> None:
        if type(out) is Send:
            self.bytes_sent += len(out.data)
        self._out.append(out)

    @property
    def _console(self) -> str:
        """How Chrome's console begins the line of a failed WebSocket."""
        return f"WebSocket connection to '{self.url}' failed: "

    def _failed(self, message: str) -> PeerError:
        self._over = True
        return PeerError(self._console + message)

    # -- the contract --------------------------------------------------------------------

    def start(self, now: float) -> None:
        headers = [("Host", self.host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Key", self.key), ("Sec-WebSocket-Version", "13")]
        if self.origin:
            headers.append(("Origin", self.origin))
        data = self._http.send(h11.Request(method="GET", target=self.target, headers=headers))
        self.request_head = data.decode("latin-1").split("\r\n")[:-2]
        self._handshake_by = now + self.HANDSHAKE_TIMEOUT
        self._emit(Send(data))

    def receive(self, data: bytes, now: float) -> None:
        self.bytes_received += len(data)
        if self._over:
            return
        if self.frames is None:
            self._handshake(data, now)
            return
        self.frames.receive(data)
        self._after_frames(now)

    def tls_failed(self, error, now: float) -> None:
        """The TLS under a ``wss://`` connection refused the server (RFC 6455 §4.1: a
        client MUST fail the connection when the TLS handshake fails): nothing was sent,
        and Chrome's console says which certificate fault or handshake failure it was."""
        if self._over:
            return
        kind = "tls_certificate" if error.kind == "certificate" else "tls_handshake"
        code = CHROME.response(kind, error=error).replace("NET::", "net::")
        self._over = True
        self._out.append(Failed(self._console + f"Error in connection establishment: {code}"))

    def connection_lost(self, now: float) -> None:
        if self._over:
            return
        if self.frames is None:
            raise self._failed("Connection closed before receiving a handshake response"
                               if not self._first else
                               "Error during WebSocket handshake: net::ERR_CONNECTION_CLOSED")
        self._over = True
        self.frames.connection_lost()

    def get_timer(self) -> float | None:
        if self._over or (self.frames is not None and self.frames.failed):
            return None
        if self.frames is None:
            return self._handshake_by
        times = [t for t in (self._close_by, self._linger_until) if t is not None]
        if self.frames.open:
            if self._plan:
                times.append(self.opened_at + self._plan[0][0])
            if self.duration is not None:
                times.append(self.opened_at + self.duration)
        return min(times, default=None)

    def handle_timer(self, now: float) -> None:
        if self._over:
            return
        if self.frames is None:
            if now >= self._handshake_by:
                self._over = True
                self._out.append(Failed(self._console + "WebSocket opening handshake timed out"))
            return
        frames = self.frames
        while self._plan and frames.open and self.opened_at + self._plan[0][0] <= now:
            _, what, text = self._plan.pop(0)
            if what == "send":
                frames.send_text(text)
                self._emit(SentText(text))
            else:
                frames.ping(PING_PAYLOAD)
                self._emit(SentPing(PING_PAYLOAD))
        if self.duration is not None and frames.open and now >= self.opened_at + self.duration:
            self.close(now, 1000)
            self._emit(SentClose(1000))
        if self._close_by is not None and now >= self._close_by:
            frames.connection_lost()            # no close frame came: 1006, and we close
            self._end()
        elif self._linger_until is not None and now >= self._linger_until:
            self._end()

    # -- the handshake -------------------------------------------------------------------

    def _handshake(self, data: bytes, now: float) -> None:
        self._first = (self._first + data)[:4]
        # Chrome reads a response that does not begin "HTTP" as HTTP/0.9: not a server.
        if not b"http".startswith(self._first.lower()):
            raise self._failed("Error during WebSocket handshake: Invalid status line")
        self._http.receive_data(data)
        while True:
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError:
                raise self._failed("Error during WebSocket handshake: "
                                   "net::ERR_INVALID_HTTP_RESPONSE") from None
            if event is h11.NEED_DATA:
                return
            if not (isinstance(event, h11.InformationalResponse) and event.status_code != 101):
                break                           # a 100 Continue is skipped, as Chrome does
        self.response_head = [f"HTTP/1.1 {event.status_code} {event.reason.decode('latin-1')}"] + [
            f"{k.decode('latin-1')}: {v.decode('latin-1')}" for k, v in event.headers.raw_items()]
        if event.status_code != 101:
            raise self._failed("Error during WebSocket handshake: Unexpected response code: "
                               f"{event.status_code}")
        problem = self._check_upgrade(event.headers)
        if problem:
            raise self._failed(f"Error during WebSocket handshake: {problem}")
        trailing, _closed = self._http.trailing_data
        self.frames = Frames(client=True, rules=ChromeRules(), emit=self._emit, rng=self.rng,
                             prefix=self._console)
        self.opened_at = now
        self._emit(Opened(accept_for(self.key)))
        if trailing:
            self.frames.receive(bytes(trailing))
            self._after_frames(now)

    def _check_upgrade(self, headers) -> str | None:
        """Chrome's ValidateUpgradeResponse: Upgrade, then the accept, then Connection."""
        values: dict[str, list[str]] = {}
        for name, value in headers:
            values.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        for name, label in (("upgrade", "Upgrade"), ("sec-websocket-accept", "Sec-WebSocket-Accept")):
            got = values.get(name, [])
            if not got:
                return f"'{label}' header is missing"
            if len(got) > 1:
                return f"'{label}' header must not appear more than once in a response"
            if name == "upgrade" and got[0].lower() != "websocket":
                return f"'Upgrade' header value is not 'WebSocket': {got[0]}"
            if name == "sec-websocket-accept" and got[0] != accept_for(self.key):
                return "Incorrect 'Sec-WebSocket-Accept' header value"
        if "connection" not in values:
            return "'Connection' header is missing"
        tokens = {t.strip().lower() for v in values["connection"] for t in v.split(",")}
        if "upgrade" not in tokens:
            return "'Connection' header value must contain 'Upgrade'"
        return None

    # -- the closing handshake -----------------------------------------------------------

    def _after_frames(self, now: float) -> None:
        if self.frames.state is CLOSED and self._linger_until is None:
            self._close_by = None           # §7.1.1: the server closes TCP; we give it 2 s
            self._linger_until = now + self.LINGER

    def _end(self) -> None:
        self._over = True
        self._out.append(Close())

    # -- what the application asks -------------------------------------------------------

    def send_text(self, text: str) -> None:
        if self.frames is not None:
            self.frames.send_text(text)

    def ping(self, payload: bytes = PING_PAYLOAD) -> None:
        if self.frames is not None:
            self.frames.ping(payload)

    def close(self, now: float, code: int = 1000) -> None:
        """Begin the closing handshake; the server's close frame is awaited 60 s."""
        if self.frames is not None and self.frames.open:
            self.frames.close(code)
            self._close_by = now + self.CLOSING_TIMEOUT

    @property
    def open(self) -> bool:
        return self.frames is not None and self.frames.open

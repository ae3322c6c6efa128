"""One connection of a web server that also speaks WebSocket, sans-I/O (RFC 6455 §4.2
the handshake it answers, §5 frames, §7.1.1 it closes TCP first).
"""

from __future__ import annotations

import re

import h11

from netsim.proto.stream import Close, Send, StreamEngine
from netsim.proto.websocket.events import Opened, Refused
from netsim.proto.websocket.frames import CLOSED, Frames
from netsim.proto.websocket.keys import accept_for
from netsim.proto.websocket.rules import NodeWsRules

_KEY = re.compile(r"[+/0-9A-Za-z]{22}==")     # ws's check: base64 of 16 bytes (§4.1)


class WebSocketServer(StreamEngine):
    """One accepted connection of a server that upgrades requests for ``paths`` to
    WebSocket and hands every other request to ``http`` (a plain HTTP server engine,
    which then has the connection to itself; without one, such a request gets 400).
    ``echo``: a text message is answered with ``echo + text``."""

    def __init__(self, *, paths: tuple[str, ...] = ("/",), http: StreamEngine | None = None,
                 echo: str | None = None) -> None:
        super().__init__()
        self.paths = paths
        self.echo = echo
        self._http = http
        self._handshake = h11.Connection(h11.SERVER)
        self._early = bytearray()           # what came before the first request decided
        self.mode = "deciding"              # → "websocket" or "http"
        self.frames: Frames | None = None
        self.target: str | None = None
        self.closed = False

    def _emit(self, out) -> None:
        self._out.append(out)

    # -- the contract --------------------------------------------------------------------

    def _plain(self) -> StreamEngine | None:
        """The HTTP engine, while it has (or may get) the connection."""
        return self._http if self.mode != "websocket" else None

    def start(self, now: float) -> None:
        if self._http is not None:
            self._http.start(now)

    def receive(self, data: bytes, now: float) -> None:
        if self.mode == "http":
            self._http.receive(data, now)
        elif self.mode == "websocket":
            if not self.closed:
                self.frames.receive(data)
                self._after_frames()
        elif not self.closed:
            self._decide(data, now)

    def connection_lost(self, now: float) -> None:
        if self.mode == "websocket":
            self.frames.connection_lost()
        elif self._http is not None:
            self._http.connection_lost(now)

    def get_timer(self) -> float | None:
        http = self._plain()
        return http.get_timer() if http is not None else None

    def handle_timer(self, now: float) -> None:
        http = self._plain()
        if http is not None:
            http.handle_timer(now)

    def pause_writing(self, now: float) -> None:
        http = self._plain()
        if http is not None and hasattr(http, "pause_writing"):
            http.pause_writing(now)

    def resume_writing(self, now: float) -> None:
        http = self._plain()
        if http is not None and hasattr(http, "resume_writing"):
            http.resume_writing(now)

    def outputs(self) -> list:
        out = super().outputs()
        http = self._plain()
        if http is not None:
            out += http.outputs()
        return out

    # -- the first request -----------------------------------------------------------------

    def _decide(self, data: bytes, now: float) -> None:
        self._early += data
        self._handshake.receive_data(data)
        try:
            request = self._handshake.next_event()
        except h11.RemoteProtocolError as exc:
            self._not_websocket(f"bad request: {exc}", now)
            return
        if request is h11.NEED_DATA:
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        if headers.get("upgrade", "").strip().lower() != "websocket":
            self._not_websocket("not a WebSocket version 13 upgrade (RFC 6455 §4.2.1)", now)
            return
        target = request.target.decode("latin-1")
        if target.split("?")[0] not in self.paths:
            self._refuse(404, f"no WebSocket endpoint at {target}")
            return
        if request.method != b"GET" or headers.get("sec-websocket-version") != "13" \
                or not _KEY.fullmatch(headers.get("sec-websocket-key", "")):
            self._refuse(400, "not a WebSocket version 13 upgrade (RFC 6455 §4.2.1)")
            return
        self.target = target
        accept = accept_for(headers["sec-websocket-key"])
        self._emit(Send(self._handshake.send(h11.InformationalResponse(
            status_code=101, reason=b"Switching Protocols",
            headers=[("Upgrade", "websocket"), ("Connection", "Upgrade"),
                     ("Sec-WebSocket-Accept", accept)]))))
        trailing, _closed = self._handshake.trailing_data
        self.mode = "websocket"
        self._early.clear()
        self.frames = Frames(client=False, rules=NodeWsRules(), emit=self._emit, echo=self.echo)
        self._emit(Opened(accept))
        if trailing:
            self.frames.receive(bytes(trailing))
            self._after_frames()

    def _not_websocket(self, why: str, now: float) -> None:
        """Plain HTTP: the HTTP engine gets the connection from its first byte."""
        if self._http is None:
            self._refuse(400, why)
            return
        self.mode = "http"
        early, self._early = bytes(self._early), bytearray()
        self._http.receive(early, now)

    def _refuse(self, status: int, why: str) -> None:
        body = f"{why}\n".encode()
        if self._handshake.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            self._emit(Send(self._handshake.send(h11.Response(
                status_code=status, headers=[("Content-Type", "text/plain"),
                                             ("Content-Length", str(len(body))),
                                             ("Connection", "close")]))
                + self._handshake.send(h11.Data(data=body))
                + self._handshake.send(h11.EndOfMessage())))
        self._emit(Refused(status, why))
        self._finish()

    # -- frames ------------------------------------------------------------------------------

    def _after_frames(self) -> None:
        if self.frames.state is CLOSED:
            self._finish()                  # §7.1.1: the server closes TCP first

    def _finish(self) -> None:
        if not self.closed:
            self.closed = True
            self._emit(Close())

    def send_text(self, text: str) -> None:
        """Push a message (a ticker's update) if the connection is open."""
        if self.frames is not None and not self.closed:
            self.frames.send_text(text)

    @property
    def open(self) -> bool:
        return self.frames is not None and self.frames.open and not self.closed

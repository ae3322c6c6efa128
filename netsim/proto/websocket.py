"""WebSocket (RFC 6455), sans-I/O: the opening handshake over HTTP/1.1 (h11) and then
frames (wsproto's frame-level :class:`wsproto.connection.Connection`).

The handshake (§4): the client's ``GET`` with ``Upgrade: websocket``, ``Connection:
Upgrade``, ``Sec-WebSocket-Version: 13`` and a ``Sec-WebSocket-Key``; the server's ``101
Switching Protocols`` whose ``Sec-WebSocket-Accept`` is base64(SHA-1(key + the RFC's
GUID)) — for the RFC's sample key ``dGhlIHNhbXBsZSBub25jZQ==``,
``s3pPLMBiTxaQ9kYGzzhZRbK+xOo=``. Then either side sends text, binary, ping (answered
with pong, §5.5.2) and close (answered with close, §5.5.1; the server then closes TCP).

A client masks every frame with a fresh 32-bit key (§5.3). wsproto draws masks and keys
from ``os.urandom``; netsim draws them from the run's seeded generator instead, so the
same seed gives the same bytes.
"""

from __future__ import annotations

import base64
import random
from contextlib import contextmanager
from dataclasses import dataclass

import h11
from wsproto import frame_protocol
from wsproto.connection import CLIENT, SERVER, Connection, ConnectionState
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import LocalProtocolError, RemoteProtocolError, generate_accept_token

from netsim.proto.stream import Close, Send

#: The key in RFC 6455 §1.3's example.
RFC_SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def accept_for(key: str) -> str:
    return generate_accept_token(key.encode()).decode()


# -- what an engine reports to its driver --------------------------------------------------

@dataclass(frozen=True)
class Opened:
    accept: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Binary:
    data: bytes


@dataclass(frozen=True)
class PongReceived:
    payload: bytes


@dataclass(frozen=True)
class Closed:
    code: int | None
    reason: str = ""


@dataclass(frozen=True)
class Failed:
    why: str


class _SeededOs:
    """What wsproto's frame writer calls for a mask, answered from a seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def urandom(self, n: int) -> bytes:
        return self.rng.randbytes(n)


@contextmanager
def _masks_from(rng: random.Random):
    real = frame_protocol.os
    frame_protocol.os = _SeededOs(rng)
    try:
        yield
    finally:
        frame_protocol.os = real


class _Frames:
    """What both ends share once the handshake is done."""

    def __init__(self) -> None:
        self.ws: Connection | None = None
        self._out: list = []
        self.events: list = []
        self.closed = False
        self.rng: random.Random | None = None          # the client's masks
        self.sent_messages = self.received_messages = 0

    def _write(self, event) -> None:
        if self.ws is None or self.ws.state not in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            return
        if self.rng is not None:
            with _masks_from(self.rng):
                data = self.ws.send(event)
        else:
            data = self.ws.send(event)
        if data:
            self._out.append(Send(data))

    def send_text(self, text: str) -> None:
        if self.ws is not None and self.ws.state is ConnectionState.OPEN:
            self.sent_messages += 1
            self._write(TextMessage(data=text))

    def ping(self, payload: bytes = b"") -> None:
        if self.ws is not None and self.ws.state is ConnectionState.OPEN:
            self._write(Ping(payload=payload))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.ws is not None and self.ws.state is ConnectionState.OPEN:
            self._write(CloseConnection(code=code, reason=reason))

    @property
    def open(self) -> bool:
        return self.ws is not None and self.ws.state is ConnectionState.OPEN

    def _frames(self, data: bytes) -> None:
        try:
            self.ws.receive_data(data)
            for event in self.ws.events():
                self._on_event(event)
        except (RemoteProtocolError, LocalProtocolError) as exc:
            self.events.append(Failed(f"bad frame: {exc}"))
            self._finish()

    def _on_event(self, event) -> None:
        if isinstance(event, TextMessage):
            if event.message_finished:
                self.received_messages += 1
            self.events.append(Text(event.data))
        elif isinstance(event, BytesMessage):
            self.received_messages += 1
            self.events.append(Binary(bytes(event.data)))
        elif isinstance(event, Ping):
            self._write(event.response())                    # §5.5.2: a pong, at once
        elif isinstance(event, Pong):
            self.events.append(PongReceived(bytes(event.payload)))
        elif isinstance(event, CloseConnection):
            if self.ws.state is ConnectionState.REMOTE_CLOSING:
                self._write(event.response())                # §5.5.1: echo the close
            self.events.append(Closed(int(event.code), event.reason or ""))
            if not self.ws.client:
                self._finish()          # §7.1.1: the server closes TCP; the client waits for it

    def _finish(self) -> None:
        if not self.closed:
            self.closed = True
            self._out.append(Close())

    def connection_lost(self) -> None:
        if not self.closed:
            self.closed = True
            if self.ws is None or self.ws.state is not ConnectionState.CLOSED:
                self.events.append(Closed(1006, "the connection closed without a close frame"))

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out

    def take_events(self) -> list:
        out, self.events = self.events, []
        return out


class WebSocketClient(_Frames):
    def __init__(self, host: str, target: str, *, key: str, rng: random.Random,
                 origin: str | None = None) -> None:
        super().__init__()
        self.host, self.target, self.key, self.origin = host, target, key, origin
        self.rng = rng
        self._http = h11.Connection(h11.CLIENT)
        #: The handshake's two heads, for printing.
        self.request_head: list[str] = []
        self.response_head: list[str] = []

    def start(self) -> None:
        headers = [("Host", self.host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Key", self.key), ("Sec-WebSocket-Version", "13")]
        if self.origin:
            headers.append(("Origin", self.origin))
        data = self._http.send(h11.Request(method="GET", target=self.target, headers=headers))
        self.request_head = data.decode("latin-1").split("\r\n")[:-2]
        self._out.append(Send(data))

    def receive(self, data: bytes) -> None:
        if self.ws is not None:
            self._frames(data)
            return
        self._http.receive_data(data)
        try:
            event = self._http.next_event()
        except h11.RemoteProtocolError as exc:
            self.events.append(Failed(f"bad handshake response: {exc}"))
            self._finish()
            return
        if event is h11.NEED_DATA:
            return
        status = getattr(event, "status_code", None)
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in getattr(event, "headers", [])}
        if status is not None:
            self.response_head = [f"HTTP/1.1 {status} {event.reason.decode()}"] + [
                f"{k.decode()}: {v.decode('latin-1')}" for k, v in event.headers.raw_items()]
        if status != 101:
            self.events.append(Failed(f"the server answered {status}, not 101 Switching Protocols"))
            self._finish()
            return
        if headers.get("sec-websocket-accept") != accept_for(self.key):
            self.events.append(Failed("Sec-WebSocket-Accept does not match the key (RFC 6455 §4.1)"))
            self._finish()
            return
        trailing, _closed = self._http.trailing_data
        self.ws = Connection(CLIENT)
        self.events.append(Opened(headers["sec-websocket-accept"]))
        if trailing:
            self._frames(bytes(trailing))


class WebSocketServer(_Frames):
    """One accepted connection; ``receive`` takes the upgrade request first."""

    def __init__(self, *, paths: tuple[str, ...] = ("/",)) -> None:
        super().__init__()
        self.paths = paths
        self._http = h11.Connection(h11.SERVER)
        self.target: str | None = None

    def receive(self, data: bytes) -> None:
        if self.ws is not None:
            self._frames(data)
            return
        if self.closed:
            return
        self._http.receive_data(data)
        try:
            event = self._http.next_event()
        except h11.RemoteProtocolError as exc:
            self._refuse(400, f"bad request: {exc}")
            return
        if event is h11.NEED_DATA:
            return
        if not isinstance(event, h11.Request):
            self._refuse(400, "expected an upgrade request")
            return
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
        target = event.target.decode("latin-1")
        if target.split("?")[0] not in self.paths:
            self._refuse(404, f"no WebSocket endpoint at {target}")
            return
        if headers.get("upgrade", "").lower() != "websocket" or \
                headers.get("sec-websocket-version") != "13" or "sec-websocket-key" not in headers:
            self._refuse(400, "not a WebSocket version 13 upgrade (RFC 6455 §4.2.1)")
            return
        self.target = target
        accept = accept_for(headers["sec-websocket-key"])
        self._out.append(Send(self._http.send(h11.InformationalResponse(
            status_code=101, reason=b"Switching Protocols",
            headers=[("Upgrade", "websocket"), ("Connection", "Upgrade"),
                     ("Sec-WebSocket-Accept", accept)]))))
        trailing, _closed = self._http.trailing_data
        self.ws = Connection(SERVER)
        self.events.append(Opened(accept))
        if trailing:
            self._frames(bytes(trailing))

    def _refuse(self, status: int, why: str) -> None:
        body = f"{why}\n".encode()
        try:
            self._out.append(Send(self._http.send(h11.Response(
                status_code=status, headers=[("Content-Type", "text/plain"),
                                             ("Content-Length", str(len(body))),
                                             ("Connection", "close")]))
                + self._http.send(h11.Data(data=body)) + self._http.send(h11.EndOfMessage())))
        except h11.LocalProtocolError:
            pass
        self.events.append(Failed(why))
        self._finish()


def new_key(rng: random.Random) -> str:
    """A Sec-WebSocket-Key: 16 random bytes, base64 (§4.1)."""
    return base64.b64encode(rng.randbytes(16)).decode()

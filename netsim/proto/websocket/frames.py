"""One end of a WebSocket once the handshake is done (RFC 6455 §5–7): wsproto's frame
protocol for the bytes, the closing handshake's state, and a stack's rules for what it
refuses — a refusal fails the connection after a close frame with the stack's code.

A client masks every frame with a fresh 32-bit key (§5.3). wsproto draws masks from
``os.urandom``; netsim draws them from the run's seeded generator instead, so the same
seed gives the same bytes.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

from wsproto import frame_protocol
from wsproto.connection import ConnectionState
from wsproto.frame_protocol import FrameProtocol, Opcode, ParseFailed

from netsim.errors import PeerError
from netsim.proto.stream import Send
from netsim.proto.websocket.events import (Binary, Closed, FrameRefused, PongReceived,
                                           Text)
from netsim.proto.websocket.rules import FrameScanner, Violation

OPEN, LOCAL_CLOSING, CLOSED = (ConnectionState.OPEN, ConnectionState.LOCAL_CLOSING,
                               ConnectionState.CLOSED)


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


class Frames:
    """One end once the handshake is done: the closing handshake's state (§7), wsproto
    for the bytes, and the stack's ``rules`` for what it will not take. ``emit`` takes
    each output (bytes as :class:`Send`, and the events) in order; a failure's words
    follow ``prefix`` (Chrome's ``WebSocket connection to 'ws://…' failed: ``)."""

    def __init__(self, *, client: bool, rules, emit, rng: random.Random | None = None,
                 echo: str | None = None, prefix: str = "") -> None:
        self._proto = FrameProtocol(client, [])
        self._scan = FrameScanner()
        self._rules = rules
        self._emit = emit
        self.rng = rng
        self.echo = echo                    # a server's reply to a text: echo + text
        self.prefix = prefix
        self.state = OPEN
        self._message: list = []            # pieces of the message being received
        self.failed = False                 # the rules refused a frame

    @property
    def open(self) -> bool:
        return self.state is OPEN

    # -- sending -------------------------------------------------------------------------

    def _write(self, write, *args) -> None:
        if self.rng is not None:
            with _masks_from(self.rng):
                data = write(*args)
        else:
            data = write(*args)
        self._emit(Send(bytes(data)))

    def send_text(self, text: str) -> None:
        if self.state is OPEN:
            self._write(self._proto.send_data, text, True)

    def ping(self, payload: bytes) -> None:
        if self.state is OPEN:
            self._write(self._proto.ping, payload)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.state is OPEN:
            self._write(self._proto.close, code, reason)
            self.state = LOCAL_CLOSING

    # -- receiving -----------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Frames from the peer. The frames before one the rules refuse are taken; then
        the connection fails (:meth:`fail`)."""
        bad, cut = None, len(data)
        for start, header, payload in self._scan.feed(data):
            bad = self._rules.frame(header) if payload is None else self._rules.close(payload)
            if bad is not None:
                cut = max(0, start)
                break
        if cut:
            self._take(data[:cut])
        if bad is not None:
            self.fail(bad)

    def _take(self, data: bytes) -> None:
        self._proto.receive_bytes(data)
        try:
            for frame in self._proto.received_frames():
                self._frame(frame)
        except ParseFailed as exc:
            self.fail(self._rules.library(exc))

    def _frame(self, frame) -> None:
        op = frame.opcode
        if op is Opcode.TEXT or op is Opcode.BINARY:
            self._message.append(frame.payload)
            if not frame.message_finished:
                return
            parts, self._message = self._message, []
            if op is Opcode.TEXT:
                text = "".join(parts)
                self._emit(Text(text))
                if self.echo is not None:
                    self.send_text(self.echo + text)
            else:
                self._emit(Binary(b"".join(parts)))
        elif op is Opcode.PING:
            if self.state is OPEN:
                self._write(self._proto.pong, frame.payload)          # §5.5.2: at once
        elif op is Opcode.PONG:
            self._emit(PongReceived(bytes(frame.payload)))
        elif op is Opcode.CLOSE:
            code, reason = frame.payload
            if self.state is OPEN:                                   # §5.5.1: echo it
                self._write(self._proto.close, code, reason)
            self.state = CLOSED
            self._emit(Closed(int(code), reason or ""))

    def fail(self, bad: Violation) -> None:
        """§7.1.7: a close frame with the stack's code (unless one went out already, or
        the stack sends none), then the stack's words; the connection is closed."""
        sent = bad.code is not None and self.state is OPEN
        if sent:
            self._write(self._proto.close, bad.code, bad.reason)
        self.state = CLOSED
        self.failed = True
        message = self.prefix + bad.message
        self._emit(FrameRefused(message, bad.code if sent else None))
        raise PeerError(message)

    def connection_lost(self) -> None:
        if self.state is not CLOSED:
            self.state = CLOSED
            self._emit(Closed(1006, "the connection closed without a close frame"))

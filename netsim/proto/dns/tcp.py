"""DNS over TCP (RFC 1035 §4.2.2, RFC 7766), sans-I/O: the two-byte length before each
message, one query of a client, and a server's side of a connection.

Over TCP every DNS message is preceded by its length, two bytes in network order, so
a message may arrive cut anywhere and several may arrive in one read. A client asks
over TCP when a UDP answer came back truncated (TC set, RFC 7766 §5) — ``dig``, a
resolver — or when told to (``dig +tcp``); it sends its query on a connection of its
own and closes it once the answer is in (§6.2.1). Nothing here reads a message's
content: checking what the answer says is the asker's job (dig words its own errors).

Inputs and outputs follow :mod:`netsim.proto.stream`:

- :class:`TcpQuery` sends one framed query at ``start`` and outputs :class:`Answer`
  then ``Close`` for the first whole message that comes back; the peer closing before
  that (a length cut short, a length of 65535 with fewer bytes after it) is ``Failed("end
  of file")``, and no whole answer within ``timeout`` is ``Failed("timed out")`` — the
  words dig prints after ``communications error to …:``.
- :class:`TcpSession` outputs :class:`Query` for every message a client sends; the
  server answers each with :meth:`TcpSession.reply` whenever it has the answer (a
  resolver's answer comes later), in any order (RFC 7766 §6.2.1.1). A connection with
  nothing asked or owed for ``idle`` seconds is closed, as BIND's ``tcp-idle-timeout``
  (30 s) closes it (§6.2.3), so a client that connects and says nothing holds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.proto.stream import Close, Failed, Send, StreamEngine

#: BIND's tcp-idle-timeout and tcp-initial-timeout, 30 s (RFC 7766 §6.2.3: "a few seconds"
#: to "tens of seconds").
IDLE_TIMEOUT = 30.0


def frame(wire: bytes) -> bytes:
    """A message as it goes on a TCP connection: its length first (RFC 1035 §4.2.2)."""
    if len(wire) > 0xFFFF:
        raise ValueError(f"a DNS message of {len(wire)} bytes does not fit TCP's length field")
    return len(wire).to_bytes(2, "big") + wire


@dataclass(frozen=True, slots=True)
class Answer:
    """The whole message that came back for a :class:`TcpQuery`."""
    wire: bytes


@dataclass(frozen=True, slots=True)
class Query:
    """A whole message a client sent on a :class:`TcpSession`."""
    wire: bytes


class MessageBuffer:
    """Bytes from a stream → whole messages, however the stream cut them."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < 2 + size:
                break
            messages.append(bytes(self._buffer[2:2 + size]))
            del self._buffer[:2 + size]
        return messages

    @property
    def pending(self) -> int:
        """Bytes held of a message not yet whole (its length prefix included)."""
        return len(self._buffer)


class TcpQuery(StreamEngine):
    """One query on a connection of its own, and the first whole message back."""

    def __init__(self, query: bytes, *, timeout: float) -> None:
        super().__init__()
        self.query = query
        self.timeout = timeout
        self.answered = False
        self._buffer = MessageBuffer()
        self._deadline: float | None = None

    def start(self, now: float) -> None:
        self._deadline = now + self.timeout
        self._out.append(Send(frame(self.query)))

    def receive(self, data: bytes, now: float) -> None:
        if self.answered:
            return                      # more than asked for: the connection is closing
        messages = self._buffer.feed(data)
        if messages:
            self.answered = True
            self._deadline = None
            self._out += [Answer(messages[0]), Close()]

    def connection_lost(self, now: float) -> None:
        if not self.answered:
            self._give_up("end of file")

    def get_timer(self) -> float | None:
        return self._deadline

    def handle_timer(self, now: float) -> None:
        if self._deadline is not None and now >= self._deadline:
            self._give_up("timed out")

    def _give_up(self, reason: str) -> None:
        self.answered = True            # nothing more is taken
        self._deadline = None
        self._out.append(Failed(reason))


class TcpSession(StreamEngine):
    """A server's side of one connection: queries out as :class:`Query`, answers in."""

    def __init__(self, *, idle: float = IDLE_TIMEOUT) -> None:
        super().__init__()
        self.idle = idle
        self.owed = 0                   # queries not yet answered
        self._buffer = MessageBuffer()
        self._last = 0.0

    def start(self, now: float) -> None:
        self._last = now

    def receive(self, data: bytes, now: float) -> None:
        self._last = now
        for message in self._buffer.feed(data):
            self.owed += 1
            self._out.append(Query(message))

    def reply(self, wire: bytes | None, now: float) -> None:
        """The answer to one of the queries (None: it gets none, as a server drops a
        message it cannot answer)."""
        self.owed -= 1
        self._last = now
        if wire is not None:
            self._out.append(Send(frame(wire)))

    def get_timer(self) -> float | None:
        return None if self.owed else self._last + self.idle

    def handle_timer(self, now: float) -> None:
        if not self.owed and now >= self._last + self.idle:
            self._out.append(Close("idle"))

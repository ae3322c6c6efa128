"""The contract every engine over a byte stream keeps, sans-I/O, and what text
protocols over TCP share on top of it.

Theory of operation
-------------------
A stream engine is one side of one connection (an HTTP client, an SMTP server
session, a WebSocket). It never touches a socket or a clock; the application runtime
(:mod:`netsim.sim.runtime`) owns both and calls, in simulated time:

==========================  ===========================================================
``start(now)``              the connection is up (a client speaks first here)
``receive(data, now)``      bytes the peer sent, in order, in pieces of any size
``connection_lost(now)``    the peer's end of stream (FIN) or a reset: nothing more comes
``handle_timer(now)``       the deadline ``get_timer()`` asked for has come
==========================  ===========================================================

and after each call drains ``outputs()``: :class:`Send` (bytes for the peer),
:class:`Close` (FIN once the bytes are out), :class:`Abort` (RST), :class:`Failed`
(the application's run failed, worded as the real tool words it), and whatever
engine-specific events its application wants (an HTTP exchange complete, a mail
accepted). ``get_timer()`` is the engine's next deadline, or None: keep-alive idle
times, ``--max-time``, ping plans and retries are the engine's own, as aioquic's
``QuicConnection`` keeps its loss and idle timers.

By default the driver behaves as a blocking program does: one read at a time, the next
only once the last write is in the send buffer, and our side closed once the peer's
FIN is read. An engine that wants another program's manners says so with optional
members, which the driver looks for once (an engine without them costs nothing):

==========================  ===========================================================
``pause_writing(now)``      a write waits for room in the send buffer (asyncio's name);
``resume_writing(now)``     …and is all in: an idle timer must not run meanwhile
``written(now)``            each write has returned (a bulk sender writes its next piece)
``read_size()``             what the next read() asks for: None all, n bytes, 0 not now
                            (a slow reader's pace is then its timer)
``reads_while_writing``     True: read on while a write waits (an event loop's transport)
``closes_at_eof``           False: the engine decides when to close after the peer's FIN
                            (half-close, as asyncio's ``eof_received`` allows)
``tls_ready(now, info)``    after a :class:`StartTls`: the handshake is done (``info``:
                            :class:`~netsim.proto.tls.layer.TlsInfo`); speak again
==========================  ===========================================================

A peer's bytes the engine cannot take raise :class:`~netsim.errors.PeerError` from
``receive`` (engines convert their libraries' "the remote side was wrong" errors into
it, as h11 raises ``RemoteProtocolError``); the runtime makes that the application's
failure and closes the connection. Any other exception is a bug.

Between the socket and the engine sits one *layer* slot (:class:`Passthrough` here;
TLS over ``ssl.MemoryBIO`` is the other occupant): it turns the engine's bytes into the
socket's and back, and may have bytes of its own to send (a handshake). With implicit
TLS (HTTPS, SMTPS on 465, IMAPS, POP3S) the layer is there from the first byte and the
engine starts once the handshake is done. With STARTTLS (RFC 3207, RFC 2595) the engine
asks for it: it emits :class:`StartTls` after its last cleartext bytes (a server after
its ``220 Ready to start TLS``, a client once that reply came), the driver puts a TLS
layer in the slot, drops any cleartext that came after the command (RFC 3207 §6: it
could be an attacker's injection) and calls ``tls_ready(now, info)`` once the handshake
is done.
"""

from __future__ import annotations

from dataclasses import dataclass

#: RFC 5321 §4.5.3.1.6: a command line is at most 512 octets, a text line 1000;
#: IMAP has no limit but servers set one (8 KiB is common).
MAX_LINE = 8192


# -- outputs -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Send:
    """Bytes for the peer."""
    data: bytes


@dataclass(frozen=True, slots=True)
class SendTo:
    """A datagram for one of a datagram engine's peers (a QUIC server's clients); a
    datagram engine with one peer says :class:`Send`, one datagram each."""
    data: bytes
    address: tuple[str, int]


@dataclass(frozen=True, slots=True)
class Close:
    """The session is over: close the connection (FIN) once ``Send`` data is out."""
    reason: str = "normal"


@dataclass(frozen=True, slots=True)
class Abort:
    """Reset the connection (RST), dropping what is not yet sent."""
    reason: str = "aborted"


@dataclass(frozen=True, slots=True)
class Failed:
    """The application's work failed (``message`` as the real tool prints it); the
    connection is closed after it (reset if ``reset``)."""
    message: str
    reset: bool = False


@dataclass(frozen=True, slots=True)
class StartTls:
    """Everything after this goes through TLS (RFC 3207 §4, RFC 2595 §4): the driver
    starts a TLS handshake in the layer slot as the connection's client or server."""


class StreamEngine:
    """Defaults for the contract above: no timer, nothing to do at start or at the end
    of stream. Subclasses implement :meth:`receive` and append outputs to ``_out``."""

    def __init__(self) -> None:
        self._out: list = []

    def start(self, now: float) -> None:
        """The connection is established."""

    def receive(self, data: bytes, now: float) -> None:
        raise NotImplementedError

    def connection_lost(self, now: float) -> None:
        """The peer will send nothing more."""

    def get_timer(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        """The deadline has come."""

    def outputs(self) -> list:
        out, self._out = self._out, []
        return out


# -- the layer slot ----------------------------------------------------------------------

class Passthrough:
    """The empty layer: the engine's bytes are the socket's. A layer (TLS) has the same
    four calls: bytes from the socket in, plaintext for the engine out; plaintext from
    the engine in, bytes for the socket out."""

    def start(self, now: float) -> bytes:
        """Bytes the layer itself sends first (a ClientHello); none here."""
        return b""

    def receive(self, data: bytes, now: float) -> tuple[bytes, bytes]:
        """Socket bytes → (plaintext for the engine, bytes the layer must send back)."""
        return data, b""

    def send(self, data: bytes) -> bytes:
        """Plaintext from the engine → bytes for the socket."""
        return data

    def ready(self) -> bool:
        """Whether the engine may start (a TLS layer: once the handshake is done)."""
        return True


# -- text protocols ----------------------------------------------------------------------

class LineBuffer:
    """Bytes from a stream → complete lines without their CRLF. A line longer than
    ``limit`` is dropped whole and flagged (``overlong``), whether it came in pieces or
    at once, so a peer cannot grow memory without bound and the tail of a long line
    never passes for a line of its own."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self.overlong = False
        self._skipping = False              # inside a line already flagged overlong

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        lines = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self.limit:
                    self.overlong = self._skipping = True
                    del self._buffer[:]
                return lines
            if self._skipping or end > self.limit + 1:      # + 1: its CR
                self.overlong = self.overlong or not self._skipping   # flagged once
                self._skipping = False
                del self._buffer[:end + 1]
                continue
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[:end + 1]
            lines.append(line)

    def take(self, size: int) -> bytes | None:
        """``size`` raw bytes (an IMAP literal) if that many are buffered, else None."""
        if len(self._buffer) < size:
            return None
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    @property
    def pending(self) -> int:
        return len(self._buffer)


def command_verb(line: str) -> tuple[str, str]:
    """``"RETR a.txt"`` → ``("RETR", "a.txt")``; a verb that is not ASCII letters (a
    Unicode digit, a letter with an accent) comes back as ``""``, an unknown command."""
    verb, _, arg = line.partition(" ")
    if not (verb.isascii() and verb.isalpha()):
        return "", arg
    return verb.upper(), arg


class LineServer(StreamEngine):
    """A server of command lines (FTP RFC 959 §4.2, SMTP RFC 5321 §4.1, POP3 RFC 1939
    §3): one handler per verb (``_cmd_<verb>``), errors counted, and after
    ``MAX_ERRORS`` of them a last reply (``421 …``, from :meth:`too_many_errors`) and the
    end of the session, as vsftpd, Postfix and Dovecot do against a peer that only
    sends junk. Subclasses give :meth:`line` (what to do with a line: usually
    :meth:`dispatch`), :meth:`unknown` and :meth:`too_many_errors`.
    """

    MAX_ERRORS = 10
    LINE_LIMIT = MAX_LINE

    def __init__(self) -> None:
        super().__init__()
        self._lines = LineBuffer(self.LINE_LIMIT)
        self._errors = 0
        self.closed = False
        self.now = 0.0

    def receive(self, data: bytes, now: float) -> None:
        self.now = now
        for line in self._lines.feed(data):
            if self.closed:
                return
            self.line(line)
        if self._lines.overlong and not self.closed:
            self._lines.overlong = False
            self.too_long()

    def line(self, line: bytes) -> None:
        self.dispatch(line.decode("utf-8", "replace"))

    def dispatch(self, line: str) -> None:
        verb, arg = command_verb(line)
        handler = getattr(self, f"_cmd_{verb.lower()}", None) if verb else None
        if handler is None:
            return self.unknown(verb, arg)
        self.command(verb, arg, handler)

    def command(self, verb: str, arg: str, handler) -> None:
        """Run a known command's handler; a subclass checks state (logged in?) first."""
        handler(arg)

    def unknown(self, verb: str, arg: str) -> None:
        raise NotImplementedError

    def too_long(self) -> None:
        """A line past ``LINE_LIMIT``: an error reply by default."""
        self.unknown("", "")

    def count_error(self) -> bool:
        """One more error; True (and the session ends) when that was one too many."""
        self._errors += 1
        if self._errors < self.MAX_ERRORS:
            return False
        self.too_many_errors()
        self.closed = True
        self._out.append(Close("too many errors"))
        return True

    def too_many_errors(self) -> None:
        """The last reply before the session ends (``421 …``)."""
        raise NotImplementedError

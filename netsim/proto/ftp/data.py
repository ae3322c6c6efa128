"""FTP's data connection (RFC 959 §3.2, §3.4.1): what a session engine asks of its
driver — listen, connect, send, close — and the engine that runs on the data connection
itself.

Either side's session engine (client or server) asks for a data connection with
:class:`ListenData` or :class:`ConnectData`, sends a file with :class:`SendData` and ends
it with :class:`CloseData` — in MODE S the close *is* the end of the file (§3.4.1). What
the connection does comes back to the session as calls: ``data_connected``,
``data_failed``, ``data_received``, ``data_closed`` (the peer's end of the file),
``data_broken`` (a reset) and ``data_done`` (what we sent is out and the close is on its
way).

:class:`DataStream` is the stream engine the runtime drives on the data connection:
it turns the session's sends and closes into the stream contract's ``Send``/``Close``/
``Abort`` and the connection's events into :class:`DataUp`, :class:`DataIn` and
:class:`DataEnd` outputs, which the application hands to the session engine. The data
connection thus goes through the same driver (and the same layer slot, where TLS sits
for FTPS) as the control connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from netsim.proto.stream import Abort, Close, Send, StreamEngine


# -- what a session engine asks for ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ListenData:
    """Listen on ``port`` for the peer's data connection (passive server, active client);
    one connection is taken, then the port is closed."""
    port: int


@dataclass(frozen=True, slots=True)
class ConnectData:
    """Open the data connection to ``address``:``port`` from ``local_port`` (the server's
    20 in active mode; the client's N+k in passive), giving up after ``timeout`` seconds
    without an answer (``data_failed``)."""
    address: IPv4Address
    port: int
    local_port: int
    timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class SendData:
    """Bytes of the file or listing, on the data connection that is up."""
    data: bytes


@dataclass(frozen=True, slots=True)
class CloseData:
    """Close the data connection once what was sent is out (FIN: the end of the file),
    or reset it (``abort``: ABOR), and stop listening for one. Unless ``abort`` or
    ``report`` is false (a transfer that failed lets its connection go: nothing to
    report), the driver calls the engine's ``data_done`` once the sent bytes are in the
    socket's buffer, as a server's write() returns before it replies 226."""
    abort: bool = False
    report: bool = True


# -- what the data connection's engine tells the application -----------------------------

@dataclass(frozen=True, slots=True)
class DataUp:
    """The data connection is established."""


@dataclass(frozen=True, slots=True)
class DataIn:
    """Bytes of the file or listing arrived."""
    data: bytes


@dataclass(frozen=True, slots=True)
class DataEnd:
    """The peer's end of the data stream: its FIN (the end of the file) or a reset."""


class DataStream(StreamEngine):
    """One data connection under the runtime. It holds no protocol state of its own (the
    session engine does): it closes its side as soon as the peer has closed its own, as
    the ftp program and vsftpd close the data socket once read() returned 0."""

    def start(self, now: float) -> None:
        self._out.append(DataUp())

    def receive(self, data: bytes, now: float) -> None:
        self._out.append(DataIn(data))

    def connection_lost(self, now: float) -> None:
        # Our FIN first, then the news: the session may answer at once (226, the next
        # command), and the data connection's close comes before that on the wire.
        self._out += [Close(), DataEnd()]

    # -- what the session asked for ------------------------------------------------------

    def send(self, data: bytes) -> None:
        self._out.append(Send(data))

    def close(self) -> None:
        self._out.append(Close())

    def abort(self) -> None:
        self._out.append(Abort("ABOR"))

"""The application runtime: one driver for every stream engine, and the error boundary
every application shares.

Where the SimPy clock and the sockets meet the sans-I/O engines of
:mod:`netsim.proto.stream`, for every protocol alike::

    socket  <->  [ layer: Passthrough | TLS ]  <->  engine  <->  app (thin)

:class:`StreamDriver` reads what arrives on a :class:`~netsim.sim.tcp.TcpSocket`,
passes it through the layer into the engine, writes the engine's ``Send`` outputs
back (one write per batch, as a server answers with one write of its output
buffer), closes or resets the connection when the engine says so, and keeps one
:class:`~netsim.sim.driver.Alarm` at the engine's ``get_timer()``. Like a blocking
server, it reads the next bytes only once the previous write is in the send buffer.

The boundary (:func:`contain`): a :class:`~netsim.errors.PeerError` from the engine is
the application's failure — the connection is closed (or reset), a trace note
``app-error`` gives the cause, and every other application runs on. Any other
exception is a bug: under :func:`netsim.errors.strict` it propagates (the test suite
fails); otherwise it fails just that application, loudly, as ``internal error: …``.

Everything the driver does with the socket happens from SimPy events (a read
completing, a connection established, a deadline), never from inside the TCP
engine's own processing, so an engine's reply cannot reorder the segments TCP is
still handing out.
"""

from __future__ import annotations

from typing import Callable

from netsim.errors import PeerError, strict
from netsim.proto.stream import Abort, Close, Failed, Passthrough, Send, StartTls
from netsim.sim.driver import Alarm
from netsim.sim.schedule import call_later


def app_error(app, message: str, *, cause: str) -> None:
    """The trace note every contained failure leaves (``cause``: peer or bug)."""
    node = app.node
    node.trace.note(app.env.now, node.name, "app-error", app=app.name, error=message,
                    cause=cause)


def contain(app, function, *args) -> PeerError | None:
    """Call ``function(*args)`` inside ``app``'s error boundary: None if it returned,
    the :class:`PeerError` if the peer was wrong (a bug outside strict mode comes back
    as one too, worded ``internal error: …``)."""
    try:
        function(*args)
    except PeerError as exc:
        app_error(app, exc.message, cause="peer")
        return exc
    except Exception as exc:               # noqa: BLE001 — the boundary's bug path
        if strict():
            raise
        message = f"internal error: {type(exc).__name__}: {exc}"
        app_error(app, message, cause="bug")
        return PeerError(message, reset=True)
    return None


class StreamDriver(Alarm):
    """One engine on one connection, for ``app``.

    ``on_output(out)``: the engine's own outputs (anything but Send, Close, Abort and
    Failed), in order, after the bytes before them were written. ``on_end(driver)``:
    once, when the connection is over for the engine — closed, failed, or never made;
    then ``refused`` says why a connection could not be made ("Connection refused",
    "Network is unreachable", "Connection timed out") and ``failure`` why the engine
    failed (a :class:`PeerError`'s or :class:`Failed`'s message).

    An engine may also have asyncio's flow-control calls, ``pause_writing(now)`` (a
    write is waiting for room in the send buffer) and ``resume_writing(now)`` (it is
    all in): a server's keep-alive idle timer does not run while it is still sending;
    and a blocking program's, ``written(now)`` (the last write is all in the send buffer,
    where write() returns — at once or later) and ``read_size()`` (what the next read
    asks for: None everything, a number of bytes, or 0 for not now). An event loop's
    transport (:mod:`netsim.aio`) sets ``reads_while_writing`` (reading goes on while a
    write waits for room) and clears ``closes_at_eof`` (after the peer's FIN our side stays
    open until the engine's Close: half-close, as asyncio's ``eof_received`` decides).
    Over TLS, an engine with ``negotiated(info, now)`` hears what the handshake agreed
    (the ALPN protocol) just before ``start``.
    """

    def __init__(self, app, engine, *, layer=None, starttls=None,
                 on_output: Callable[[object], None] | None = None,
                 on_end: Callable[["StreamDriver"], None] | None = None) -> None:
        super().__init__(app.env, engine.get_timer)
        self.app = app
        self.engine = engine
        self.layer = layer if layer is not None else Passthrough()
        # STARTTLS: the factory of the TLS layer the engine may ask for (StartTls).
        self.starttls = starttls
        self._upgrading = False             # a StartTls handshake is under way
        self.on_output = on_output
        self.on_end = on_end
        self.sock = None
        self.refused: str | None = None
        self.failure: str | None = None
        self.over = False                   # the engine gets nothing more
        self.ended = False                  # on_end has run
        self._started = False
        self._writing = None                # a write not yet in the send buffer
        self._reading = False
        self._closing = False               # we sent FIN (or RST): only waiting for the end
        self._in_output = False             # inside on_output: kick() is under way
        # asyncio's flow-control calls, for an engine that has them: a write is waiting
        # for room in the send buffer / it is all in (an idle timer must not run meanwhile).
        self._pause = getattr(engine, "pause_writing", None)
        self._resume = getattr(engine, "resume_writing", None)
        # A blocking program's calls, for an engine that has them: each write's return
        # (``written(now)``: a bulk sender writes its next piece then) and how much the
        # next read() asks for (``read_size()``: None all, n bytes, 0 not now — a slow
        # reader's pace is its timer).
        self._wrote = getattr(engine, "written", None)
        self._read_size = getattr(engine, "read_size", None)
        # What TLS agreed (ALPN: h2 or http/1.1), told before the engine starts.
        self._negotiated = getattr(engine, "negotiated", None)
        # An event loop's transport (netsim.aio) reads on while a write waits for room,
        # and after the peer's FIN lets the engine decide when to close (half-close):
        # asyncio's semantics, where a blocking program's are the default.
        self._duplex = getattr(engine, "reads_while_writing", False)
        self._close_at_eof = getattr(engine, "closes_at_eof", True)
        self._eof = False                   # the peer's FIN was read: nothing more to read
        #: When the connection was asked for, and when TCP had it established (a TLS
        #: handshake's round trips are counted against the SYN's).
        self.connect_at: float | None = None
        self.connected_at: float | None = None
        self.ready_at: float | None = None  # the engine started (after TLS, if any)
        # Plaintext bytes written and read through a TLS layer so far (each way), for
        # the trace's tls-sent / tls-received notes.
        self._plain_out = self._plain_in = 0

    # -- making the connection ---------------------------------------------------------

    def connect(self, address, port: int, *, local_port: int = 0,
                timeout: float | None = None, options: dict | None = None) -> "StreamDriver":
        """Open a connection from the app's node to ``address`` (a node name, an
        ``ipaddress.IPv4Address`` or a dotted quad); the engine starts once it is up.
        ``options`` are the connection's (:class:`~netsim.proto.tcp.TcpConnection`'s:
        ``recv_buffer``, ``delayed_ack``, …)."""
        self.connect_at = self.env.now
        try:
            sock = self.app.node.tcp_connect(address, port, local_port=local_port,
                                             **(options or {}))
        except OSError:
            self._refuse("Network is unreachable")
            return self
        self.sock = sock
        sock.connected.callbacks.append(self._connected)
        if timeout is not None:
            call_later(self.env, timeout, self._connect_timeout)
        return self

    def _connected(self, event) -> None:
        if self.ended:
            return
        if not event.ok:
            reason = str(event.value)
            self._refuse("Connection refused" if "refused" in reason or "reset" in reason
                         else "Connection timed out")
            return
        self.attach(self.sock)

    def _connect_timeout(self, _event) -> None:
        sock = self.sock
        if not self.ended and not sock.connected.triggered:
            sock.abort()                    # gave up waiting: no SYN-ACK came
            self._refuse("Connection timed out")

    def _refuse(self, reason: str) -> None:
        self.refused = reason
        self.over = True
        self._end()

    def attach(self, sock) -> None:
        """Drive the engine over an established socket (a server's accepted one)."""
        self.sock = sock
        sock.closed.callbacks.append(self._socket_closed)
        now = self.env.now
        self.connected_at = now
        first = self.layer.start(now)
        if first:
            sock.send(first)
        if self.layer.ready():
            self._start(now)
        self.kick()

    def _start(self, now: float) -> None:
        self._started = True
        self.ready_at = now
        info = getattr(self.layer, "info", None)
        if info is not None and self._negotiated is not None:
            self._guard(self._negotiated, info(), now)
        self._guard(self.engine.start, now)

    # -- the engine's side -------------------------------------------------------------

    def kick(self) -> None:
        """Carry out what the engine has to say (call after handing it work from outside:
        a request submitted, a data connection up)."""
        engine = self.engine
        pending = bytearray()
        while True:
            outputs = engine.outputs()
            if not outputs:
                break
            for out in outputs:
                kind = type(out)
                if kind is Send:
                    if not self._closing:
                        pending += out.data
                    continue
                if pending:
                    self._write(bytes(pending))
                    pending.clear()
                if kind is Close:
                    if not self._closing:
                        self._close()
                elif kind is Abort:
                    if not self._closing:
                        self._abort()
                elif kind is Failed:
                    self._fail(out.message, out.reset)
                elif kind is StartTls:
                    self._start_tls()
                elif self.on_output is not None:
                    inside, self._in_output = self._in_output, True
                    self.on_output(out)
                    self._in_output = inside
        if pending:
            self._write(bytes(pending))
        if self.over:
            return
        # An engine's deadlines count from its start: none while a TLS handshake runs
        # (a keep-alive idle timer would otherwise close a connection still shaking hands).
        if self._started:
            self.want(engine.get_timer())
        self._read()

    def call(self, function, *args) -> None:
        """Hand the engine work from outside — a second connection's news (FTP's data
        connection), a request submitted — inside its error boundary, then carry out what
        it says. From an ``on_output`` handler, that is done by the kick under way, after
        the outputs that came before, so the order on the wire is the engine's."""
        self._guard(function, *args)
        if not self._in_output:
            self.kick()

    def when_written(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once all the engine wrote is in the socket's send buffer —
        at once if it is: what a server does after its write() returned (FTP's 226 once
        the file is handed to TCP, not once it has arrived)."""
        if self._writing is None:
            callback()
        else:
            self._writing.callbacks.append(lambda _event: callback())

    def _due(self, now: float) -> None:
        if self.over:
            return
        self._guard(self.engine.handle_timer, now)
        self.kick()

    def _guard(self, function, *args) -> None:
        if self.over:
            return
        error = contain(self.app, function, *args)
        if error is not None:
            if not error.reset:
                # Its last words first: what the engine queued before it gave up (a
                # WebSocket close frame with 1002, replies to the commands before the
                # bad one) goes out before the FIN, as a real stack's writes do.
                self.kick()
            self._fail(error.message, error.reset)

    # -- the socket's side -------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self.sock is None or self._closing:
            return
        if data and not isinstance(self.layer, Passthrough):
            self._note_plaintext("tls-sent", data, self._plain_out)
            self._plain_out += len(data)
        event = self.sock.send(self.layer.send(data))
        if self._wrote is not None:
            # When the write returns: once its event is processed, even if it is all in
            # the buffer already — a blocking sender's next write comes after that.
            event.callbacks.append(self._write_returned)
        if not event.triggered:
            if self._writing is None and self._pause is not None:
                self._guard(self._pause, self.env.now)
            self._writing = event
            event.callbacks.append(self._written)

    def _written(self, event) -> None:
        if self._writing is event:
            self._writing = None
            if self._resume is not None and not self.over:
                self._guard(self._resume, self.env.now)
                self.kick()                 # its timer may be back
                return
            self._read()

    def _write_returned(self, _event) -> None:
        if not self.over:
            self._guard(self._wrote, self.env.now)
            self.kick()

    def _read(self) -> None:
        if self._reading or (self._writing is not None and not self._duplex) or self.over \
                or self.sock is None or self._eof:
            return
        size = self._read_size() if self._read_size is not None else None
        if size == 0:
            return                          # not now: the engine's timer will say when
        self._reading = True
        self.sock.recv(size).callbacks.append(self._arrived)

    def _arrived(self, event) -> None:
        self._reading = False
        if self.over:
            return
        data, now = event.value, self.env.now
        if not data:
            self._lost(now)
            return
        try:
            plain, back = self.layer.receive(data, now)
        except PeerError as exc:
            self._layer_failed(exc, now)
            return
        if back:
            self.sock.send(back)
        if not self._started and self.layer.ready():
            self._start(now)
        elif self._upgrading and self.layer.ready():
            self._upgrading = False
            self._guard(self.engine.tls_ready, now, self.layer.info())
        if plain:
            if not isinstance(self.layer, Passthrough):
                self._note_plaintext("tls-received", plain, self._plain_in)
                self._plain_in += len(plain)
            self._guard(self.engine.receive, plain, now)
        self.kick()

    def _note_plaintext(self, what: str, data: bytes, offset: int) -> None:
        """What went into TLS records or came out of them: the wire shows only
        ciphertext, so the application-level diagram reads the conversation from these
        notes — where in the plaintext stream, how much, the first line, and the first
        bytes (a WebSocket frame's header and text)."""
        (lip, lport), (rip, rport) = self.sock.local, self.sock.remote
        head = data.split(b"\n", 1)[0].rstrip(b"\r")[:100]
        text = head.decode("ascii") if head.isascii() and head.decode("ascii").isprintable() else ""
        self.app.node.trace.note(self.env.now, self.app.node.name, what,
                                 local=f"{lip}:{lport}", remote=f"{rip}:{rport}",
                                 offset=offset, size=len(data), head=text,
                                 lines=data.count(b"\n"), start=data[:128].hex())

    def _start_tls(self) -> None:
        """The engine's StartTls: its cleartext is written; from here on a TLS layer."""
        if self.starttls is None:
            raise RuntimeError(f"{type(self.engine).__name__} asked for STARTTLS, "
                               "but its application gave no TLS layer")
        self.layer = self.starttls()
        self._upgrading = True
        first = self.layer.start(self.env.now)
        if first and self.sock is not None and not self._closing:
            self.sock.send(first)

    def _layer_failed(self, error: PeerError, now: float) -> None:
        """The layer refused the peer (a TLS certificate, an alert, not TLS at all): the
        alert the layer queued goes out, the engine hears why (``tls_failed(error, now)``
        if it has it, to word it as its real tool does), and the connection closes."""
        alert = self.layer.pending() if hasattr(self.layer, "pending") else b""
        if alert:
            self.sock.send(alert)
        app_error(self.app, error.message, cause="peer")
        hook = getattr(self.engine, "tls_failed", None)
        if hook is not None:
            self._guard(hook, error, now)
            self.kick()
        self._fail(error.message, error.reset)

    def _lost(self, now: float) -> None:
        """The peer's end of stream: the engine hears it, says its last, and we close
        too (as a server whose read() returned 0 does)."""
        self._eof = True
        self._guard(self.engine.connection_lost, now)
        self.kick()
        if not self._closing and self._close_at_eof:
            self._close()

    def _socket_closed(self, _event) -> None:
        if not self.over:
            # Reset, or gone while we waited: the engine hears it as the end of stream.
            self._guard(self.engine.connection_lost, self.env.now)
            self._closing = self.over = True
            self.kick()
        self._end()

    # -- the end -----------------------------------------------------------------------

    def _close(self) -> None:
        self._closing = self.over = True
        closing = getattr(self.layer, "close", None)
        if closing is not None:
            last = closing()                # TLS: close_notify before the FIN
            if last:
                self.sock.send(last)
        self.sock.close()
        if self.sock.closed.triggered:
            self._end()

    def _abort(self) -> None:
        self._closing = self.over = True
        self.sock.abort()
        self._end()

    def _fail(self, message: str, reset: bool) -> None:
        if self.failure is None:
            self.failure = message
        if self.sock is None or self._closing:
            self.over = True
            self._end()
        elif reset:
            self._abort()
        else:
            self._close()
            self._end()             # the app hears of its failure now, not at the FIN

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.over = True
        if self.on_end is not None:
            self.on_end(self)


def serve(app, port: int, make_engine: Callable[[object], object], *, layer=None,
          starttls=None,
          on_output: Callable[[StreamDriver, object], None] | None = None,
          on_end: Callable[[StreamDriver], None] | None = None, options: dict | None = None):
    """Listen on ``port`` of the app's node and drive ``make_engine(sock)`` on every
    connection accepted; ``layer`` is a zero-argument factory (one layer per connection),
    ``starttls`` one for a connection whose engine asks for TLS (StartTls), ``options``
    the connections' (as :meth:`StreamDriver.connect`'s). Returns the listener."""
    listener = app.node.tcp_listen(port, **(options or {}))

    def accepted(sock) -> None:
        # After the TCP engine has finished with the segment that established it.
        call_later(app.env, 0, lambda _event: start(sock))

    def start(sock) -> None:
        engine = make_engine(sock)
        driver = StreamDriver(app, engine, layer=layer() if layer is not None else None,
                              starttls=starttls, on_end=on_end)
        if on_output is not None:
            driver.on_output = lambda out: on_output(driver, out)
        driver.attach(sock)

    listener.on_accept = accepted
    return listener

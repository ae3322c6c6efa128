"""asyncio transports and servers over netsim's TCP, on the runtime's one driver.

A :class:`TcpTransport` is what asyncio's selector transport is to a protocol —
``write``, ``close``, ``abort``, ``write_eof``, ``pause_reading``/``resume_reading``,
write-buffer limits, ``get_extra_info`` — and under it a
:class:`~netsim.sim.runtime.StreamDriver` owns the :class:`~netsim.sim.tcp.TcpSocket`
as it does for every netsim engine: the transport is that driver's engine. Two
asyncio semantics ask the driver for what a blocking program does not do: it reads on
while a write waits for room, and the peer's FIN does not close our side —
``eof_received()`` decides, as in asyncio.

Flow control is real. The driver reads only when the transport asks for bytes
(``read_size``), and the transport asks only while the protocol reads: data it has
read waits for the protocol's next loop iteration, and after ``pause_reading()`` no
read is made, so the bytes stay in TCP's receive buffer and the advertised window
closes, as the kernel's does under a paused asyncio reader. Writing the other way,
``pause_writing()`` comes when more than the high-water mark (64 KiB) is waiting for
room in TCP's send buffer, ``resume_writing()`` when all of it is in.

Every protocol callback runs in a loop iteration (a handle), never from inside
netsim's TCP processing, with the context the connection was made in — as a selector
loop's reader callbacks carry the context of the task that created the transport.

TLS is the standard library's :class:`asyncio.sslproto.SSLProtocol` between the
transport and the application's protocol, as asyncio's own loops build it (``ssl=``
on connections and servers, ``loop.start_tls``).
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import socket
import ssl as _ssl
from asyncio import constants, sslproto
from collections import deque

from netsim.aio.resolve import getaddrinfo, local_entry
from netsim.aio.stand_in import SimSocket
from netsim.proto.stream import Abort, Close, Send, StreamEngine
from netsim.sim.runtime import StreamDriver

#: One read asks for at most this much, as a selector transport's recv() does.
MAX_READ = 256 * 1024
_EOF = object()                             # in the inbox: the peer's FIN
_EPHEMERAL = (32768, 60999)                 # Linux's ip_local_port_range

#: Why the driver could not connect → the OSError asyncio's create_connection raises.
_REFUSED = {"Connection refused": (ConnectionRefusedError, errno.ECONNREFUSED),
            "Connection timed out": (TimeoutError, errno.ETIMEDOUT),
            "Network is unreachable": (OSError, errno.ENETUNREACH)}
#: How the socket ended, when it ended under us → the exception connection_lost gets.
_ENDED = {"reset": (ConnectionResetError, errno.ECONNRESET, "Connection reset by peer"),
          "timeout": (TimeoutError, errno.ETIMEDOUT, "Connection timed out"),
          "refused": (ConnectionRefusedError, errno.ECONNREFUSED, "Connection refused")}


class _Engine(StreamEngine):
    """The transport as the driver's engine: what arrives goes to the transport, which
    writes through ``_out``."""

    reads_while_writing = True
    closes_at_eof = False

    def __init__(self, transport: "TcpTransport") -> None:
        super().__init__()
        self.transport = transport

    def start(self, now: float) -> None:
        self.transport._established()

    def receive(self, data: bytes, now: float) -> None:
        self.transport._arrived(data)

    def connection_lost(self, now: float) -> None:
        self.transport._stream_ended()

    def read_size(self) -> int:
        return MAX_READ if self.transport._wants_bytes() else 0

    def pause_writing(self, now: float) -> None:
        self.transport._send_buffer_full()

    def resume_writing(self, now: float) -> None:
        self.transport._send_buffer_drained()


class TcpTransport(asyncio.Transport):
    """One TCP connection of a simulated host, as an asyncio transport."""

    _start_tls_compatible = True
    _sendfile_compatible = constants._SendfileMode.FALLBACK

    def __init__(self, loop, protocol, *, server=None, context=None) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self._server = server
        self._context = context if context is not None else contextvars.copy_context()
        self._engine = _Engine(self)
        self.driver = StreamDriver(loop.owner, self._engine, on_end=self._driver_ended)
        #: Resolved once connection_made is scheduled; fails if the connection cannot be made.
        self.established = loop.create_future()
        self._inbox: deque = deque()        # read, not yet given to the protocol
        self._delivery_pending = False
        self._paused = False                # pause_reading()
        self._closing = False
        self._lost = False                  # connection_lost has been called (or is due)
        self._eof_written = False
        self._high, self._low = 64 * 1024, 16 * 1024
        self._buffer_full = False           # a write waits for room in TCP's send buffer
        self._waiting = 0                   # bytes written since then (all, until it drains)
        self._protocol_paused = False
        if server is not None:
            server._attach(self)

    def __repr__(self) -> str:
        sock = self.driver.sock
        where = f" {sock.local}->{sock.remote}" if sock is not None else ""
        state = " closing" if self._closing else ""
        return f"<netsim.aio TcpTransport{where}{state}>"

    # -- the driver's side ------------------------------------------------------------

    def _established(self) -> None:
        sock = self.driver.sock
        self._extra.update(peername=sock.remote, sockname=sock.local,
                           socket=SimSocket(socket.SOCK_STREAM, sock.local, sock.remote,
                                            readable=self._readable))
        if self._protocol is not None:      # a server's: its protocol is made already
            self._soon(self._protocol.connection_made, self)
        self._soon(_set_result, self.established, None)

    def _made(self, protocol) -> None:
        """A client's protocol, made once the connection is (as asyncio makes it)."""
        self._protocol = protocol
        self._soon(protocol.connection_made, self)
        if self._inbox:
            self._deliver_soon()
        else:
            self.driver.kick()

    def _arrived(self, data: bytes) -> None:
        self._inbox.append(data)
        self._deliver_soon()

    def _stream_ended(self) -> None:
        sock = self.driver.sock
        reason = sock.closed.value if sock is not None and sock.closed.triggered else None
        ended = _ENDED.get(reason)
        self._inbox.append(_EOF if ended is None else ended[0](ended[1], ended[2]))
        self._deliver_soon()

    def _readable(self) -> bool:
        """Would a read return at once: bytes or the peer's FIN waiting, or the end."""
        sock = self.driver.sock
        if self._inbox or sock is None or sock.closed.triggered or self._lost:
            return True
        connection = sock.connection
        return bool(connection.available) or connection.at_eof

    def _wants_bytes(self) -> bool:
        return not (self._paused or self._inbox or self._closing or self._protocol is None)

    def _send_buffer_full(self) -> None:
        self._buffer_full = True
        self._waiting = 0

    def _send_buffer_drained(self) -> None:
        self._buffer_full = False
        self._waiting = 0
        if self._protocol_paused:
            self._soon(self._maybe_resume_protocol)

    def _driver_ended(self, driver) -> None:
        if driver.refused is not None and not self.established.done():
            kind, code = _REFUSED.get(driver.refused, (OSError, errno.EIO))
            sock = driver.sock
            where = sock.remote if sock is not None else self._extra.get("peername")
            self._soon(_set_exception, self.established,
                       kind(code, f"Connect call failed {where}" if sock is not None
                            else driver.refused))

    # -- handing the protocol what came ----------------------------------------------

    def _soon(self, callback, *args) -> None:
        self._loop.call_soon(callback, *args, context=self._context)

    def _deliver_soon(self) -> None:
        if not self._delivery_pending:
            self._delivery_pending = True
            self._soon(self._deliver)

    def _deliver(self) -> None:
        self._delivery_pending = False
        while self._inbox and not self._paused and not self._closing \
                and self._protocol is not None:
            item = self._inbox.popleft()
            if item is _EOF:
                self._eof_received()
            elif isinstance(item, BaseException):
                self._force_close(item)
            else:
                try:
                    _feed(self._protocol, item)
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:        # noqa: BLE001 — asyncio's own boundary
                    self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")
        if self._wants_bytes():
            self.driver.kick()                      # the next read

    def _eof_received(self) -> None:
        try:
            keep_open = self._protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:                # noqa: BLE001
            self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
            return
        if not keep_open:
            self.close()

    # -- asyncio's transport API ------------------------------------------------------

    def get_protocol(self):
        return self._protocol

    def set_protocol(self, protocol) -> None:
        self._protocol = protocol

    def is_closing(self) -> bool:
        return self._closing

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        if self._closing or self._paused:
            return
        self._paused = True

    def resume_reading(self) -> None:
        if self._closing or not self._paused:
            return
        self._paused = False
        if self._inbox:
            self._deliver_soon()
        else:
            self.driver.kick()

    def write(self, data) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, not {type(data).__name__!r}")
        if self._eof_written:
            raise RuntimeError("Cannot call write() after write_eof()")
        if not data or self._closing or self.driver.over:
            return
        self._engine._out.append(Send(bytes(data)))
        self.driver.kick()
        if self._buffer_full:
            self._waiting += len(data)
            self._maybe_pause_protocol()

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof_written:
            return
        self._eof_written = True
        # shutdown(SHUT_WR): FIN after what is queued, and reading goes on. The driver
        # closes only whole connections, so this one call goes to the socket itself.
        self.driver.sock.shutdown()

    def get_write_buffer_size(self) -> int:
        return self._waiting

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        if high is None:
            high = 64 * 1024 if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._maybe_pause_protocol()

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._inbox.clear()
        if not self.driver.over:
            self._engine._out.append(Close())
            self.driver.kick()
        # connection_lost once what was written is in the send buffer, as asyncio calls it
        # once its own buffer is flushed to the kernel.
        self.driver.when_written(lambda: self._soon(self._call_connection_lost, None))

    def abort(self) -> None:
        self._force_close(None)

    # -- the end ----------------------------------------------------------------------

    def _force_close(self, exc) -> None:
        if self._lost:
            return
        self._closing = True
        self._inbox.clear()
        if not self.driver.over:
            self._engine._out.append(Abort())
            self.driver.kick()
        self._lost = True
        self._soon(self._connection_lost, exc)

    def _call_connection_lost(self, exc) -> None:
        if self._lost:
            return
        self._lost = True
        self._connection_lost(exc)

    def _connection_lost(self, exc) -> None:
        try:
            if self._protocol is not None:
                self._protocol.connection_lost(exc)
        finally:
            self._protocol = None
            if self._server is not None:
                self._server._detach(self)
                self._server = None

    def _fatal_error(self, exc, message: str) -> None:
        if not isinstance(exc, OSError):
            self._loop.call_exception_handler({"message": message, "exception": exc,
                                               "transport": self, "protocol": self._protocol})
        self._force_close(exc)

    # -- write-side flow control ------------------------------------------------------

    def _maybe_pause_protocol(self) -> None:
        if self._waiting > self._high and not self._protocol_paused:
            self._protocol_paused = True
            try:
                self._protocol.pause_writing()
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:           # noqa: BLE001
                self._loop.call_exception_handler({
                    "message": "protocol.pause_writing() failed", "exception": exc,
                    "transport": self, "protocol": self._protocol})

    def _maybe_resume_protocol(self) -> None:
        if self._protocol_paused and self._waiting <= self._low and self._protocol is not None:
            self._protocol_paused = False
            try:
                self._protocol.resume_writing()
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:           # noqa: BLE001
                self._loop.call_exception_handler({
                    "message": "protocol.resume_writing() failed", "exception": exc,
                    "transport": self, "protocol": self._protocol})


def _feed(protocol, data: bytes) -> None:
    """Bytes to a protocol, a buffered one (SSLProtocol is) through its own buffers."""
    if isinstance(protocol, asyncio.BufferedProtocol):
        view = memoryview(data)
        while view:
            buffer = memoryview(protocol.get_buffer(len(view)))
            size = min(len(buffer), len(view))
            if not size:
                raise RuntimeError("get_buffer() returned an empty buffer")
            buffer[:size] = view[:size]
            protocol.buffer_updated(size)
            view = view[size:]
    else:
        protocol.data_received(data)


def _set_result(future, value) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future, exc) -> None:
    if not future.done():
        future.set_exception(exc)


# -- connecting ---------------------------------------------------------------------------

def _ssl_context(ssl, server_side: bool, server_hostname):
    if isinstance(ssl, _ssl.SSLContext):
        return ssl
    return sslproto._create_transport_context(server_side, server_hostname)


async def create_connection(loop, protocol_factory, host=None, port=None, *, ssl=None,
                            family=0, proto=0, flags=0, sock=None, local_addr=None,
                            server_hostname=None, ssl_handshake_timeout=None,
                            ssl_shutdown_timeout=None, happy_eyeballs_delay=None,
                            interleave=None, all_errors=False):
    """``loop.create_connection`` on a simulated host (asyncio's arguments and errors)."""
    if sock is not None:
        raise NotImplementedError("create_connection(sock=...): a simulated host has no real "
                                  "sockets to connect; give host and port")
    if server_hostname is not None and not ssl:
        raise ValueError("server_hostname is only meaningful with ssl")
    if server_hostname is None and ssl:
        server_hostname = host
    if host is None or port is None:
        raise ValueError("host and port was not specified and no sock specified")
    infos = await getaddrinfo(loop, host, port, family, socket.SOCK_STREAM, proto, flags)
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    local_port = 0
    if local_addr is not None:
        local_port = _check_local(loop, local_addr)
    errors = []
    for _family, _type, _proto, _canon, address in infos:
        transport = TcpTransport(loop, None)
        transport._extra["peername"] = address
        transport.driver.connect(address[0], address[1], local_port=local_port)
        try:
            await transport.established
        except OSError as exc:
            errors.append(exc)
            continue
        except BaseException:
            transport.abort()               # cancelled while connecting: give up the SYN
            raise
        break
    else:
        if len(errors) == 1 or not all_errors and len({str(e) for e in errors}) == 1:
            raise errors[0]
        if all_errors:
            raise ExceptionGroup("create_connection failed", errors)
        raise OSError(f"Multiple exceptions: {', '.join(str(e) for e in errors)}")
    app_protocol = protocol_factory()
    if not ssl:
        made = loop.create_future()
        transport._made(app_protocol)
        transport._soon(_set_result, made, None)      # after connection_made, as asyncio's waiter
        await made
        return transport, app_protocol
    waiter = loop.create_future()
    tls = sslproto.SSLProtocol(loop, app_protocol, _ssl_context(ssl, False, server_hostname),
                               waiter, False, server_hostname,
                               ssl_handshake_timeout=ssl_handshake_timeout,
                               ssl_shutdown_timeout=ssl_shutdown_timeout)
    transport._made(tls)
    try:
        await waiter
    except BaseException:
        transport.close()
        raise
    return tls._app_transport, app_protocol


def _check_local(loop, local_addr) -> int:
    """A client's bind(): its port, once the address is one the host has."""
    host, port = local_addr[0], local_addr[1]
    if host not in (None, "", "0.0.0.0"):
        address = local_entry(loop.node, host)
        if address is None or address not in loop.node.local_ips:
            raise OSError(errno.EADDRNOTAVAIL, f"error while attempting to bind on address "
                          f"{(host, port)!r}: cannot assign requested address")
    return int(port or 0)


# -- serving ------------------------------------------------------------------------------

class Server(asyncio.AbstractServer):
    """A listening port of a simulated host, as ``loop.create_server`` returns one."""

    def __init__(self, loop, protocol_factory, host: str, port: int, *, ssl=None,
                 ssl_handshake_timeout=None, ssl_shutdown_timeout=None) -> None:
        self._loop = loop
        self._factory = protocol_factory
        self._host, self._port = host, port
        self._ssl = _ssl_context(ssl, True, None) if ssl else None
        self._ssl_timeouts = (ssl_handshake_timeout, ssl_shutdown_timeout)
        self._context = contextvars.copy_context()
        self._listener = None
        self._closed = False
        self._transports: set = set()
        self._waiters: list = []
        self._serving_forever = None

    def __repr__(self) -> str:
        return f"<netsim.aio Server {self._host}:{self._port} on {self._loop.node.name}>"

    @property
    def sockets(self) -> tuple:
        if self._closed:
            return ()
        return (SimSocket(socket.SOCK_STREAM, (self._host, self._port)),)

    def get_loop(self):
        return self._loop

    def is_serving(self) -> bool:
        return self._listener is not None

    def _start_serving(self) -> None:
        if self._listener is not None or self._closed:
            return
        listener = self._loop.node.tcp_listen(self._port)

        def accepted(sock) -> None:
            # Inside TCP's processing of the handshake's last segment: the protocol hears
            # of it in a loop iteration, in the context create_server was called in.
            self._loop.call_soon(self._accept, sock, context=self._context)

        listener.on_accept = accepted
        self._listener = listener

    def _accept(self, sock) -> None:
        if self._closed or sock.closed.callbacks is None:
            sock.abort()
            return
        try:
            protocol = self._factory()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:                # noqa: BLE001 — asyncio's accept boundary
            sock.abort()
            self._loop.call_exception_handler({"message": "Error on transport creation for "
                                               "incoming connection", "exception": exc})
            return
        if self._ssl is not None:
            waiter = self._loop.create_future()
            waiter.add_done_callback(_retrieve)     # a failed handshake is that client's
            handshake, shutdown = self._ssl_timeouts
            protocol = sslproto.SSLProtocol(self._loop, protocol, self._ssl, waiter, True, None,
                                            ssl_handshake_timeout=handshake,
                                            ssl_shutdown_timeout=shutdown)
        transport = TcpTransport(self._loop, protocol, server=self)
        transport.driver.attach(sock)

    def _attach(self, transport) -> None:
        self._transports.add(transport)

    def _detach(self, transport) -> None:
        self._transports.discard(transport)
        if self._closed and not self._transports:
            self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            _set_result(waiter, None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._serving_forever is not None and not self._serving_forever.done():
            self._serving_forever.cancel()
        if not self._transports:
            self._wake()

    def close_clients(self) -> None:
        for transport in list(self._transports):
            transport.close()

    def abort_clients(self) -> None:
        for transport in list(self._transports):
            transport.abort()

    async def start_serving(self) -> None:
        self._start_serving()

    async def serve_forever(self) -> None:
        if self._serving_forever is not None:
            raise RuntimeError(f"server {self!r} is already being awaited on serve_forever()")
        if self._closed:
            raise RuntimeError(f"server {self!r} is closed")
        self._start_serving()
        self._serving_forever = self._loop.create_future()
        try:
            await self._serving_forever
        except asyncio.CancelledError:
            try:
                self.close()
                await self.wait_closed()
            finally:
                raise
        finally:
            self._serving_forever = None

    async def wait_closed(self) -> None:
        """Until the server is closed and its connections are gone (Python 3.12's meaning)."""
        if self._closed and not self._transports:
            return
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        await waiter


def _retrieve(future) -> None:
    if not future.cancelled():
        future.exception()


async def create_server(loop, protocol_factory, host=None, port=None, *, family=0,
                        flags=socket.AI_PASSIVE, sock=None, backlog=100, ssl=None,
                        reuse_address=None, reuse_port=None, keep_alive=None,
                        ssl_handshake_timeout=None, ssl_shutdown_timeout=None,
                        start_serving=True):
    """``loop.create_server`` on a simulated host. The listener takes connections to any
    of the host's addresses (netsim's listeners are per port); a ``host`` must be one
    of them."""
    if sock is not None:
        raise NotImplementedError("create_server(sock=...): a simulated host has no real "
                                  "sockets to listen on; give host and port")
    if family not in (0, socket.AF_INET):
        raise socket.gaierror(socket.EAI_FAMILY, "ai_family not supported")
    node = loop.node
    bound = "0.0.0.0"
    hosts = host if isinstance(host, (list, tuple, set)) else [host]
    for name in hosts:
        if name not in (None, "", "0.0.0.0"):
            address = local_entry(node, name)
            if address is None or address not in node.local_ips:
                raise OSError(errno.EADDRNOTAVAIL, f"error while attempting to bind on address "
                              f"{(name, port)!r}: cannot assign requested address")
            if len(hosts) == 1:
                bound = (await getaddrinfo(loop, name, 0))[0][4][0]
    number = int(port or 0)
    if number == 0:
        number = _ephemeral(node)
    elif number in node.tcp.listeners:
        raise OSError(errno.EADDRINUSE, f"error while attempting to bind on address "
                      f"{(bound, number)!r}: address already in use")
    server = Server(loop, protocol_factory, bound, number, ssl=ssl,
                    ssl_handshake_timeout=ssl_handshake_timeout,
                    ssl_shutdown_timeout=ssl_shutdown_timeout)
    if start_serving:
        server._start_serving()
        # asyncio lets the loop run once before create_server returns.
        await asyncio.sleep(0)
    return server


def _ephemeral(node) -> int:
    """Port 0: a free port drawn from the network's seeded generator, as bind() to port 0
    draws one from ip_local_port_range."""
    lo, hi = _EPHEMERAL
    port = node.network.rng.randint(lo, hi)
    while port in node.tcp.listeners:
        port = lo + (port - lo + 1) % (hi - lo + 1)
    return port


__all__ = ["Server", "TcpTransport", "create_connection", "create_server"]

"""TCP on a node: demultiplexing, connection drivers, and sockets for applications.

A :class:`TcpStack` finds the connection a segment belongs to by its four-tuple,
hands new SYNs to listeners, and answers everything else with RST (RFC 9293
§3.10.7.1). Each connection is a sans-I/O :class:`~netsim.proto.tcp.TcpConnection`
driven by an :class:`~netsim.sim.driver.EngineDriver`; its segments become frames
through the node's TCP templates, its events become socket wake-ups and trace notes
(``tcp-state``, ``tcp-metrics``, ``tcp-retransmit``).

Sockets work in simulated time. An echo server and its client, as SimPy processes::

    def echo_server(node):
        listener = node.tcp_listen(7)
        sock = yield listener.accept()
        while True:
            data = yield sock.recv()
            if not data:                      # b"" is end of file
                break
            yield sock.send(data)
        sock.close()

    def echo_client(node, server_ip):
        sock = node.tcp_connect(server_ip, 7)
        yield sock.connected
        yield sock.send(b"hello, world")
        reply = yield sock.recv()
        sock.close()
        yield sock.closed

    net.env.process(echo_server(server))
    net.env.process(echo_client(client, "10.0.2.20"))
"""

from __future__ import annotations

from collections import deque

from netsim.proto.tcp import (Closed, Connected, DataReceived, Metrics, PeerClosed, Retransmission,
                              Segment, State, StateChanged, TcpConnection)
from netsim.proto.tcp.segment import ACK, RST
from netsim.proto.tcp.profile import STACKS
from netsim.sim.driver import EngineDriver
from netsim.wire.addr import int_to_ip
from netsim.wire.headers import UNREACH_FRAG_NEEDED, parse_tcp, parse_tcp_options

_EPHEMERAL = (32768, 60999)
_CAN_SEND = frozenset({State.ESTABLISHED, State.CLOSE_WAIT})


#: The stack a node has unless the scenario says (``stack:``, ``defaults: {stack: …}``).
DEFAULT_STACK = "linux"


class TcpSocket:
    """One connection as an application sees it. Every blocking call returns a SimPy
    event; ``on_data(sock)`` may be set instead to be called when bytes arrive."""

    def __init__(self, endpoint: "TcpEndpoint") -> None:
        self._endpoint = endpoint
        env = endpoint.stack.node.env
        self._env = env
        #: Succeeds when the handshake completes; fails with ConnectionError if it cannot.
        self.connected = env.event()
        #: Succeeds when the peer has sent FIN (or the connection is gone): end of file.
        self.eof = env.event()
        #: Succeeds with the close reason ("normal", "reset", …) when the connection is over
        #: for the application: gone, or in TIME-WAIT (the kernel's business from then on,
        #: 60 s on Linux, while close() has long returned).
        self.closed = env.event()
        self.on_data = None
        self._pending = bytearray()
        self._send_waiters: deque = deque()
        self._recv_waiters: deque = deque()

    @property
    def local(self) -> tuple[str, int]:
        return int_to_ip(self._endpoint.local_ip), self._endpoint.local_port

    @property
    def remote(self) -> tuple[str, int]:
        return int_to_ip(self._endpoint.remote_ip), self._endpoint.remote_port

    @property
    def connection(self) -> TcpConnection:
        """The engine, for inspection (state, cwnd, counters)."""
        return self._endpoint.conn

    def send(self, data: bytes):
        """Queue ``data``; the event succeeds when all of it is in the send buffer."""
        event = self._env.event()
        if not data:
            event.succeed()             # nothing to queue: write(fd, "", 0) returns at once
            return event
        self._pending += data
        self._send_waiters.append((event, len(self._pending)))
        self._endpoint.flush()
        return event

    def recv(self, max_bytes: int | None = None):
        """An event yielding up to ``max_bytes`` received bytes, or ``b""`` at end of file."""
        event = self._env.event()
        self._recv_waiters.append((event, max_bytes))
        self._endpoint.wake_readers()
        return event

    def read_now(self, max_bytes: int | None = None) -> bytes:
        """What is there to read at once (no waiting)."""
        return self._endpoint.read(max_bytes)

    def close(self) -> None:
        """``close()``: FIN after the queued data, and the connection is the stack's
        (on Linux, FIN-WAIT-2 lasts ``tcp_fin_timeout``, 60 s, if the peer never closes)."""
        self._endpoint.close_when_flushed(orphan=True)

    def shutdown(self) -> None:
        """``shutdown(SHUT_WR)``: FIN after the queued data; reading goes on."""
        self._endpoint.close_when_flushed(orphan=False)

    def abort(self) -> None:
        """Reset the connection (RST)."""
        self._endpoint.abort()


class TcpListener:
    def __init__(self, stack: "TcpStack", port: int, options: dict) -> None:
        self.stack, self.port, self.options = stack, port, options
        self._ready: deque = deque()
        self._waiters: deque = deque()
        self.on_accept = None

    def accept(self):
        """An event yielding the next established :class:`TcpSocket`."""
        event = self.stack.node.env.event()
        if self._ready:
            event.succeed(self._ready.popleft())
        else:
            self._waiters.append(event)
        return event

    def _established(self, sock: TcpSocket) -> None:
        if self.on_accept is not None:
            self.on_accept(sock)
        elif self._waiters:
            self._waiters.popleft().succeed(sock)
        else:
            self._ready.append(sock)

    def close(self) -> None:
        self.stack.listeners.pop(self.port, None)


class TcpEndpoint:
    """A connection's driver: engine outputs to frames, events to the socket and trace."""

    def __init__(self, stack, local_ip, local_port, remote_ip, remote_port, conn, listener=None):
        self.stack = stack
        self.local_ip, self.local_port = local_ip, local_port
        self.remote_ip, self.remote_port = remote_ip, remote_port
        self.conn = conn
        self.listener = listener
        self.name = (f"{int_to_ip(local_ip)}:{local_port}>{int_to_ip(remote_ip)}:{remote_port}")
        self.socket = TcpSocket(self)
        self.driver = EngineDriver(stack.node.env, conn, self._on_output)
        #: The engine's close or shutdown, to call once the socket's bytes are all queued.
        self._close_requested = None
        #: (first seq, end seq, cause) of the retransmission being sent, if any.
        self._resending: tuple[int, int, str] | None = None

    # -- the application's requests ---------------------------------------------------------

    def flush(self) -> None:
        sock = self.socket
        if sock._pending and self.conn.state in _CAN_SEND:
            room = self.conn.send_room
            if room:
                taken = self.conn.send(bytes(sock._pending[:room]), self.stack.node.env._now)
                del sock._pending[:taken]
                while sock._send_waiters and sock._send_waiters[0][1] <= taken:
                    event, _ = sock._send_waiters.popleft()
                    event.succeed()
                sock._send_waiters = deque((e, n - taken) for e, n in sock._send_waiters)
        if self._close_requested is not None and not sock._pending:
            close, self._close_requested = self._close_requested, None
            close(self.stack.node.env._now)
        self.driver.kick()

    def close_when_flushed(self, orphan: bool = True) -> None:
        """Close (``orphan``) or shut down now, or once the socket's queued bytes are in
        the send buffer."""
        conn = self.conn
        self._close_requested = conn.close if orphan else conn.shutdown
        if conn.state in _CAN_SEND and self.socket._pending:
            return                                  # flush() closes when they are in
        close, self._close_requested = self._close_requested, None
        close(self.stack.node.env._now)
        self.driver.kick()

    def abort(self) -> None:
        self.conn.abort(self.stack.node.env._now)
        self.driver.kick()

    def read(self, max_bytes: int | None) -> bytes:
        data = self.conn.read(max_bytes, self.stack.node.env._now)
        self.driver.kick()                         # a window update may be due
        return data

    def wake_readers(self) -> None:
        sock = self.socket
        while sock._recv_waiters and (self.conn.available or self.conn.at_eof
                                      or self.conn.state is State.CLOSED):
            event, max_bytes = sock._recv_waiters.popleft()
            event.succeed(self.read(max_bytes))

    # -- the engine's outputs -----------------------------------------------------------------

    def _on_output(self, out) -> None:
        if type(out) is Segment:
            node = self.stack.node
            resent = self._resending
            if resent is not None and resent[0] <= _seq_offset(out.seq, resent[0]) < resent[1]:
                # A retransmission: its trigger (a timer, the third duplicate ACK) goes
                # into the trace as the frame's cause.
                trace = node.trace
                old = trace.cause
                trace.cause = (old & ~0xFF) | trace.why(resent[2])
                node.send_tcp(self.local_ip, self.remote_ip, self.local_port, self.remote_port, out)
                trace.cause = old
                return
            self._resending = None
            node.send_tcp(self.local_ip, self.remote_ip, self.local_port, self.remote_port, out)
            return
        node, now = self.stack.node, self.stack.node.env.now
        trace = node.trace
        if isinstance(out, Metrics):
            trace.note(now, node.name, "tcp-metrics", conn=self.name, cwnd=out.cwnd,
                       ssthresh=min(out.ssthresh, 1 << 30), srtt=out.srtt, rto=out.rto,
                       flight=out.flight, snd_wnd=out.snd_wnd, phase=out.phase)
        elif isinstance(out, DataReceived):
            if self.socket.on_data is not None:
                self.socket.on_data(self.socket)
            self.wake_readers()
        elif isinstance(out, StateChanged):
            trace.note(now, node.name, "tcp-state", conn=self.name, old=out.old, new=out.new)
            if out.new == str(State.TIME_WAIT) and not self.socket.closed.triggered:
                self.socket.closed.succeed("normal")
        elif isinstance(out, Retransmission):
            trace.note(now, node.name, "tcp-retransmit", conn=self.name, seq=out.seq,
                       length=out.length, cause=out.cause)
            self._resending = (out.seq, out.seq + max(1, out.length), out.cause)
        elif isinstance(out, Connected):
            self.socket.connected.succeed()
            if self.listener is not None:
                self.listener._established(self.socket)
            self.flush()
        elif isinstance(out, PeerClosed):
            if self.socket.on_data is not None:
                self.socket.on_data(self.socket)
            if not self.socket.eof.triggered:
                self.socket.eof.succeed()
            self.wake_readers()
        elif isinstance(out, Closed):
            self.stack.forget(self)
            if not self.socket.connected.triggered:
                self.socket.connected.fail(ConnectionError(f"connection {out.reason}"))
                self.socket.connected.defused = True
            if not self.socket.eof.triggered:
                self.socket.eof.succeed()
            if not self.socket.closed.triggered:
                self.socket.closed.succeed(out.reason)
            self.wake_readers()


def _seq_offset(seq: int, base: int) -> int:
    """``seq`` as a number comparable with ``base`` across the 2**32 wrap."""
    return base + ((seq - base) % (1 << 32))


class TcpStack:
    def __init__(self, node) -> None:
        self.node = node
        self.connections: dict[tuple[int, int, int, int], TcpEndpoint] = {}
        self.listeners: dict[int, TcpListener] = {}
        self.stack = DEFAULT_STACK
        self.options: dict = dict(STACKS[DEFAULT_STACK])

    def use_stack(self, name: str) -> None:
        """``linux`` or ``textbook`` (see :mod:`netsim.proto.tcp.profile`)."""
        self.stack = name
        self.options = dict(STACKS[name])

    def _iss(self) -> int:
        return self.node.network.rng.getrandbits(32)

    def _options(self, overrides: dict, iface) -> dict:
        options = {"mss": iface.mtu - 40, **self.options, **overrides}
        if options.get("timestamps"):
            options["ts_offset"] = self.node.network.rng.getrandbits(32)
        return options

    def listen(self, port: int, **options) -> TcpListener:
        if port in self.listeners:
            raise OSError(f"{self.node.name}: TCP port {port} is already listening")
        listener = self.listeners[port] = TcpListener(self, port, options)
        return listener

    def connect(self, address, port: int, *, local_port: int = 0, **options) -> TcpSocket:
        remote_ip = self.node.network.address_of(address)
        if remote_ip in self.node.local_ips:
            # To itself (127.0.0.1 or its own address): over lo, from that address, as Linux.
            iface, local_ip = self.node.loopback, remote_ip
        else:
            route = self.node.routes.lookup(remote_ip)
            if route is None or route.iface.ip is None:
                raise OSError(f"{self.node.name}: no route to {int_to_ip(remote_ip)}")
            iface, local_ip = route.iface, route.iface.ip
        if local_port == 0:
            local_port = self._ephemeral(local_ip, remote_ip, port)
        conn = TcpConnection(iss=self._iss(), **self._options(options, iface))
        endpoint = TcpEndpoint(self, local_ip, local_port, remote_ip, port, conn)
        self.connections[(local_ip, local_port, remote_ip, port)] = endpoint
        conn.connect(self.node.env.now)
        endpoint.driver.kick()
        return endpoint.socket

    def _ephemeral(self, local_ip: int, remote_ip: int, remote_port: int) -> int:
        lo, hi = _EPHEMERAL
        port = self.node.network.rng.randint(lo, hi)
        while (local_ip, port, remote_ip, remote_port) in self.connections or port in self.listeners:
            port = lo + (port - lo + 1) % (hi - lo + 1)
        return port

    def forget(self, endpoint: TcpEndpoint) -> None:
        key = (endpoint.local_ip, endpoint.local_port, endpoint.remote_ip, endpoint.remote_port)
        if self.connections.get(key) is endpoint:
            del self.connections[key]

    def receive(self, frame, iface, src: int, dst: int, segment: bytes) -> None:
        sport, dport, seq, ack, flags, window, options, payload = parse_tcp(segment)
        endpoint = self.connections.get((dst, dport, src, sport))
        if endpoint is None:
            listener = self.listeners.get(dport)
            if listener is not None and flags & 0x02 and not flags & (ACK | RST):
                conn = TcpConnection(iss=self._iss(), **self._options(listener.options, iface))
                endpoint = TcpEndpoint(self, dst, dport, src, sport, conn, listener)
                self.connections[(dst, dport, src, sport)] = endpoint
                conn.listen()
            else:
                self._refuse(frame, iface, src, dst, sport, dport, seq, ack, flags, payload)
                return
        opts = parse_tcp_options(options) if options else {}
        seg = Segment(seq, ack, flags, window, payload, opts.get("mss"), opts.get("wscale"),
                      sack_perm=opts.get("sack_perm", False), ts=opts.get("ts"),
                      sack=opts.get("sack", ()))
        conn = endpoint.conn
        acked = conn.snd_una
        conn.receive(seg, self.node.env._now)
        if conn.snd_una != acked and self.stack == "linux":
            self.node.confirm_neighbour(src)
        endpoint.flush()

    def icmp_error(self, code: int, word2: int, quoted: bytes) -> bool:
        """An ICMP destination-unreachable quoting one of our segments: "fragmentation
        needed" lowers the connection's segment size (RFC 1191). True if it was ours."""
        if len(quoted) < 28 or quoted[9] != 6:
            return False
        ihl = (quoted[0] & 0x0F) * 4
        if len(quoted) < ihl + 4:
            return False
        src, dst = int.from_bytes(quoted[12:16], "big"), int.from_bytes(quoted[16:20], "big")
        sport, dport = int.from_bytes(quoted[ihl:ihl + 2], "big"), int.from_bytes(quoted[ihl + 2:ihl + 4], "big")
        endpoint = self.connections.get((src, sport, dst, dport))
        if endpoint is None or code != UNREACH_FRAG_NEEDED:
            return False
        self.node.trace.note(self.node.env.now, self.node.name, "path-mtu", conn=endpoint.name,
                             mtu=word2)
        endpoint.conn.path_mtu(word2, self.node.env.now)
        endpoint.flush()
        return True

    def _refuse(self, frame, iface, src, dst, sport, dport, seq, ack, flags, payload) -> None:
        """RFC 9293 §3.10.7.1: a segment for no connection is answered with RST."""
        self.node.drop(frame, iface.port, "port-closed")
        if flags & RST:
            return
        if flags & ACK:
            reply = Segment(ack, 0, RST, 0)
        else:
            length = len(payload) + (1 if flags & 0x02 else 0) + (1 if flags & 0x01 else 0)
            reply = Segment(0, (seq + length) % (1 << 32), RST | ACK, 0)
        self.node.send_tcp(dst, src, dport, sport, reply)

"""asyncio datagram endpoints over netsim's UDP (RFC 768).

``loop.create_datagram_endpoint`` binds a :class:`~netsim.sim.sockets.UdpSocket` of the
host (port 0 draws an ephemeral port from the network's seeded generator); each
datagram that arrives reaches ``datagram_received`` in a loop iteration. With a
``remote_addr`` the endpoint is connected as a Linux UDP socket is: ``sendto`` needs no
address and refuses another, and datagrams from anyone else are not delivered. A
datagram the host has no route for is ``error_received(OSError(ENETUNREACH))``.
ICMP errors do not reach datagram endpoints (netsim's UDP sockets do not hear them).
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import socket

from netsim.aio.resolve import getaddrinfo, local_entry
from netsim.aio.stand_in import SimSocket
from netsim.wire.addr import int_to_ip


class UdpTransport(asyncio.DatagramTransport):
    def __init__(self, loop, protocol, sock, remote) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self._sock = sock
        self._remote = remote
        self._context = contextvars.copy_context()
        self._closing = False
        node = loop.node
        local = _local_address(node, remote)
        self._extra.update(sockname=(local, sock.port), peername=remote,
                           socket=SimSocket(socket.SOCK_DGRAM, (local, sock.port), remote))
        sock.on_receive = self._arrived

    def __repr__(self) -> str:
        return f"<netsim.aio UdpTransport {self._extra['sockname']}>"

    def _soon(self, callback, *args) -> None:
        self._loop.call_soon(callback, *args, context=self._context)

    def _arrived(self, payload: bytes, address: tuple[str, int], now: float) -> None:
        # Inside the node's processing of the frame: the protocol hears it in a loop iteration.
        if self._remote is not None and address != self._remote:
            return                          # a connected socket takes only its peer's
        self._soon(self._deliver, payload, address)

    def _deliver(self, payload: bytes, address) -> None:
        if self._closing:
            return
        try:
            self._protocol.datagram_received(payload, address)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:        # noqa: BLE001 — asyncio's own boundary
            self._loop.call_exception_handler({
                "message": "Fatal error: protocol.datagram_received() call failed.",
                "exception": exc, "transport": self, "protocol": self._protocol})
            self.abort()

    def sendto(self, data, addr=None) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be a bytes-like object, not {type(data).__name__!r}")
        if self._remote is not None:
            if addr not in (None, self._remote):
                raise ValueError(f"Invalid address: must be None or {self._remote}")
            addr = self._remote
        if self._closing:
            return
        if addr is None:
            self._soon(self._error, OSError(errno.EDESTADDRREQ, "Destination address required"))
            return
        host, port = addr[0], addr[1]
        address = local_entry(self._loop.node, host)
        if address is None:
            # sendto() takes an address, not a name to look up (asyncio's would block).
            self._soon(self._error, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
            return
        if not self._sock.sendto(bytes(data), (int_to_ip(address), port)):
            self._soon(self._error, OSError(errno.ENETUNREACH, "Network is unreachable"))

    def _error(self, exc) -> None:
        if not self._closing:
            self._protocol.error_received(exc)

    def get_write_buffer_size(self) -> int:
        return 0                            # a datagram leaves at once or not at all

    def is_closing(self) -> bool:
        return self._closing

    def get_protocol(self):
        return self._protocol

    def set_protocol(self, protocol) -> None:
        self._protocol = protocol

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._sock.close()
        self._soon(self._protocol.connection_lost, None)

    abort = close


def _local_address(node, remote) -> str:
    if remote is not None:
        address = local_entry(node, remote[0])
        if address in node.local_ips:
            return int_to_ip(address)
        route = node.routes.lookup(address) if address is not None else None
        if route is not None and route.iface.ip is not None:
            return int_to_ip(route.iface.ip)
    return "0.0.0.0"


async def create_datagram_endpoint(loop, protocol_factory, local_addr=None, remote_addr=None, *,
                                   family=0, proto=0, flags=0, reuse_address=None,
                                   reuse_port=None, allow_broadcast=None, sock=None):
    """``loop.create_datagram_endpoint`` on a simulated host."""
    if sock is not None:
        raise NotImplementedError("create_datagram_endpoint(sock=...): a simulated host has no "
                                  "real sockets; give local_addr and/or remote_addr")
    if family not in (0, socket.AF_INET):
        raise socket.gaierror(socket.EAI_FAMILY, "ai_family not supported")
    node = loop.node
    port = 0
    if local_addr is not None:
        host, port = local_addr[0], int(local_addr[1] or 0)
        if host not in (None, "", "0.0.0.0"):
            address = local_entry(node, host)
            if address is None or address not in node.local_ips:
                raise OSError(errno.EADDRNOTAVAIL, f"[Errno 99] Cannot assign requested address")
    remote = None
    if remote_addr is not None:
        infos = await getaddrinfo(loop, remote_addr[0], remote_addr[1], 0, socket.SOCK_DGRAM)
        remote = infos[0][4]
    try:
        udp = node.udp_open(port)
    except OSError:
        raise OSError(errno.EADDRINUSE, "[Errno 98] Address already in use") from None
    protocol = protocol_factory()
    transport = UdpTransport(loop, protocol, udp, remote)
    made = loop.create_future()
    transport._soon(protocol.connection_made, transport)
    transport._soon(made.set_result, None)
    await made
    return transport, protocol

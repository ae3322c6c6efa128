"""Sockets that application code on a node uses in simulated time.

UDP for now (RFC 768): ``bind``, ``connect``, ``sendto`` and ``send``, and received
datagrams either pushed to ``on_receive`` or queued for ``recvfrom`` in a SimPy process.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from netsim.wire.addr import int_to_ip


class UdpSocket:
    def __init__(self, node, port: int, *, df: bool = True) -> None:
        self.node = node
        self.port = port
        #: DF on what it sends: the kernel's default (IP_PMTUDISC_WANT); False for a
        #: socket set to IP_PMTUDISC_OMIT, as DNS software sets its sockets.
        self.df = df
        #: ``(address, port)`` after :meth:`connect`: where :meth:`send` sends.
        self.peer: tuple[int, int] | None = None
        self._ip_id = 0
        self.on_receive: Callable[[bytes, tuple[str, int], float], None] | None = None
        self._queue: deque = deque()
        self._waiters: deque = deque()
        self.closed = False
        self.received = 0
        #: The interface the latest datagram came in on (a DHCP server or relay needs it).
        self.arrived_on = None

    def connect(self, address: tuple[str | int, int]) -> None:
        """Fix the peer, as ``connect()`` on a UDP socket does; Linux then numbers the
        socket's datagrams from a counter of its own, started at random (ip4_datagram_connect)."""
        ip, port = address
        self.peer = (self.node.network.address_of(ip), port)
        self._ip_id = self.node.ip_ids.connected_start()

    def next_ip_id(self) -> int:
        ip_id, self._ip_id = self._ip_id, (self._ip_id + 1) & 0xFFFF
        return ip_id

    def send(self, payload: bytes) -> bool:
        """Send a datagram to the connected peer."""
        if self.peer is None:
            raise OSError("send on a socket that is not connected")
        return self.sendto(payload, self.peer)

    def sendto(self, payload: bytes, address: tuple[str | int, int], *, ttl: int = 64,
               df: bool | None = None) -> bool:
        """Send a datagram; False when the node has no route (the errno ENETUNREACH case).
        ``df`` overrides the socket's own setting for this datagram."""
        if self.closed:
            raise OSError("sendto on a closed socket")
        ip, port = address
        if ip.__class__ is not int:
            ip = self.node.network.address_of(ip)
        return self.node.send_udp(self.port, ip, port, payload,
                                  ttl=ttl, df=self.df if df is None else df, sock=self)

    def recvfrom(self):
        """A SimPy event that yields ``(payload, (ip, port))`` when a datagram is there."""
        event = self.node.env.event()
        if self._queue:
            event.succeed(self._queue.popleft())
        else:
            self._waiters.append(event)
        return event

    def deliver(self, payload: bytes, src: int, sport: int, now: float) -> None:
        self.received += 1
        if self.on_receive is not None:
            self.on_receive(payload, (int_to_ip(src), sport), now)
            return
        item = (payload, (int_to_ip(src), sport))
        if self._waiters:
            self._waiters.popleft().succeed(item)
        else:
            self._queue.append(item)

    def close(self) -> None:
        self.closed = True
        self.node.udp_close(self.port)

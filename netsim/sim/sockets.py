"""Sockets that application code on a node uses in simulated time.

UDP for now (RFC 768): ``bind``, ``sendto``, and received datagrams either pushed
to ``on_receive`` or queued for ``recvfrom`` in a SimPy process.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from netsim.wire.addr import int_to_ip


class UdpSocket:
    def __init__(self, node, port: int) -> None:
        self.node = node
        self.port = port
        self.on_receive: Callable[[bytes, tuple[str, int], float], None] | None = None
        self._queue: deque = deque()
        self._waiters: deque = deque()
        self.closed = False
        self.received = 0
        #: The interface the latest datagram came in on (a DHCP server or relay needs it).
        self.arrived_on = None

    def sendto(self, payload: bytes, address: tuple[str | int, int], *, ttl: int = 64,
               df: bool = True) -> bool:
        """Send a datagram; False when the node has no route (the errno ENETUNREACH case)."""
        if self.closed:
            raise OSError("sendto on a closed socket")
        ip, port = address
        return self.node.send_udp(self.port, self.node.network.address_of(ip), port, payload,
                                  ttl=ttl, df=df)

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

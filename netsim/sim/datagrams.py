"""Where the SimPy clock meets a datagram engine (QUIC): one UDP socket on the app's
node, the engine's datagrams sent from it, what arrives on it handed to the engine,
and the engine's timer as one alarm — all inside the app's error boundary, as
:class:`~netsim.sim.runtime.StreamDriver` does for a stream engine.

A client's engine (one peer) says :class:`~netsim.proto.stream.Send` for a datagram to
that peer and gets ``receive(data, now)``; a server's (many peers, one port) says
:class:`~netsim.proto.stream.SendTo` and gets ``receive_from(data, address, now)``;
either says :class:`~netsim.proto.stream.Close` when it is done.
The datagrams go through the node's UDP like any other, so links' loss, queues and
MTU and the routers' firewalls apply to them; one the node has no route for is lost,
as ``sendto`` failing with ENETUNREACH would lose it.
"""

from __future__ import annotations

from typing import Callable

from netsim.proto.stream import Close, Failed, Send, SendTo
from netsim.sim.driver import Alarm
from netsim.sim.runtime import contain


class DatagramDriver(Alarm):
    """Drives ``engine`` for ``app`` on one UDP socket. ``on_output(out)``: the engine's
    own outputs; ``on_end(driver)``: once, when the engine is done (``Close``) or failed
    (then ``failure`` says why)."""

    def __init__(self, app, engine, *, on_output: Callable[[object], None] | None = None,
                 on_end: Callable[["DatagramDriver"], None] | None = None) -> None:
        super().__init__(app.env, engine.get_timer)
        self.app, self.engine = app, engine
        self.on_output, self.on_end = on_output, on_end
        self.sock = None
        self.peer: tuple[str, int] | None = None
        self.failure: str | None = None
        self.refused: str | None = None
        self.ended = False
        self.connect_at: float | None = None
        self.ready_at: float | None = None
        self._kicking = False
        self._closing = False                 # the engine said Close: end after this batch

    def connect(self, address, port: int) -> "DatagramDriver":
        """A client: an ephemeral port, the engine started towards ``address:port``."""
        self.connect_at = self.env.now
        self.sock = self.app.node.udp_open(0)
        self.sock.on_receive = self._arrived
        self.peer = (str(address), port)
        self._guard(self.engine.start, self.env.now)
        return self

    def listen(self, port: int) -> "DatagramDriver":
        """A server: every datagram to ``port`` goes to the engine with its sender."""
        self.sock = self.app.node.udp_open(port)
        self.sock.on_receive = self._arrived_from
        return self

    def kick(self) -> None:
        """Carry out what the engine has to say, then make sure its timer will be met."""
        if self._kicking or self.ended:
            return
        self._kicking = True
        try:
            while True:
                outputs = self.engine.outputs()
                if not outputs:
                    break
                for out in outputs:
                    self._carry(out)
        finally:
            self._kicking = False
        if self._closing:
            self._end()
            return
        self.want(self.engine.get_timer())

    def _carry(self, out) -> None:
        kind = type(out)
        if kind is Send:
            self.sock.sendto(out.data, self.peer)
        elif kind is SendTo:
            self.sock.sendto(out.data, out.address)
        elif kind is Close:
            self._closing = True
        elif kind is Failed:
            self.failure = out.message
            self._closing = True
        elif self.on_output is not None:
            self.on_output(out)

    def _arrived(self, data: bytes, address, now: float) -> None:
        if not self.ended:
            self._guard(self.engine.receive, data, now)

    def _arrived_from(self, data: bytes, address, now: float) -> None:
        if not self.ended:
            self._guard(self.engine.receive_from, data, address, now)

    def _due(self, now: float) -> None:
        if not self.ended:
            self._guard(self.engine.handle_timer, now)

    def _guard(self, function, *args) -> None:
        error = contain(self.app, function, *args)
        if error is not None:
            self.failure = error.message
            self._end()
            return
        self.kick()

    def close(self) -> None:
        """The app is done with the socket (a server at the end of its run)."""
        self._end()

    def _end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.sock is not None:
            self.sock.close()
        if self.on_end is not None:
            self.on_end(self)


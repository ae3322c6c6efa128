"""A network interface: a MAC, an optional IPv4 address, and the channel it sends on."""

from __future__ import annotations

from netsim.sim.schedule import call_later
from netsim.trace import DROP, RX, TX
from netsim.wire import Frame
from netsim.wire.addr import int_to_ip
from netsim.wire.headers import ETH_HLEN, ETH_MIN_FRAME


class Interface:
    __slots__ = ("node", "name", "mac", "ip", "prefix_len", "broadcast", "mtu", "port",
                 "channel", "link", "arp", "arp_driver", "loopback", "rx_append")

    def __init__(self, node, name: str, mac: bytes | None) -> None:
        self.node = node
        self.name = name
        self.mac = mac
        self.ip: int | None = None
        self.prefix_len = 0
        self.broadcast: int | None = None
        self.mtu = 1500
        self.port = node.trace.add_port(node.name, name)
        self.channel = None          # outgoing Channel, set when a link is attached
        self.link = None
        self.arp = None              # ArpResolver, on IP nodes
        self.arp_driver = None
        #: ``lo``: what is sent comes back to this node, through no wire.
        self.loopback = False
        #: How a reception here is recorded without a call (:meth:`Trace.appender`).
        self.rx_append = node.trace.appender(RX, self.port)

    @property
    def address(self) -> str | None:
        """``'10.0.1.10/24'``, or ``None`` while unnumbered."""
        return None if self.ip is None else f"{int_to_ip(self.ip)}/{self.prefix_len}"

    @property
    def peer(self):
        """The interface at the other end of the link, if any."""
        if self.link is None:
            return None
        return self.link.b if self.link.a is self else self.link.a

    def send(self, data: bytes, verified: bool = True) -> None:
        """Put bytes on the wire, padded to 60 bytes as a NIC pads them. ``verified``:
        the bytes come whole from the template engine (see :class:`Frame`); a router
        forwarding a frame passes on the flag of the frame it received."""
        if len(data) < ETH_MIN_FRAME:
            data += bytes(ETH_MIN_FRAME - len(data))
        elif len(data) - ETH_HLEN > self.mtu:
            # Fragmentation is not modelled: a datagram too big for the link never leaves
            # (a real stack would fragment it, or refuse it with EMSGSIZE when DF is set).
            trace = self.node.trace
            trace.record(self.node.env.now, DROP, self.port, Frame(data, verified),
                         trace.reason("mtu-exceeded"))
            return
        channel = self.channel
        if channel is not None:
            channel.transmit(Frame(data, verified))
        else:
            self.send_frame(Frame(data, verified))

    def send_frame(self, frame: Frame) -> None:
        """Put a frame on the wire as it is (a switch forwarding, a test injecting)."""
        channel = self.channel
        if self.loopback:
            self._loop(frame)
            return
        if channel is None:
            trace = self.node.trace
            trace.record(self.node.env.now, DROP, self.port, frame, trace.reason("no-link"))
            return
        channel.transmit(frame)

    def _loop(self, frame: Frame) -> None:
        """Hand a frame back to this node, as Linux's ``lo`` does: at once, in no capture."""
        trace = self.node.trace
        trace.record(self.node.env.now, TX, self.port, frame)

        def arrive(_event) -> None:
            old, trace.cause = trace.cause, (frame.id + 1) << 8
            self.node.receive(frame, self)
            trace.cause = old

        call_later(self.node.env, 0.0, arrive)

    def __repr__(self) -> str:
        return f"<Interface {self.node.name}:{self.name} {self.address or 'unnumbered'}>"

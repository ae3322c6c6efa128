"""The parts every node shares: a name, interfaces, and a trace port of its own."""

from __future__ import annotations

from netsim.errors import TopologyError
from netsim.sim.interface import Interface
from netsim.trace import DROP
from netsim.wire import Frame


class Node:
    kind = "node"

    def __init__(self, network, name: str) -> None:
        self.network = network
        self.name = name
        self.env = network.env
        self.trace = network.trace
        self.interfaces: dict[str, Interface] = {}
        #: The trace port for records that belong to no interface.
        self.port = network.trace.add_port(name)

    def add_interface(self, name: str | None = None, mac: bytes | None = None) -> Interface:
        name = name or f"eth{len(self.interfaces)}"
        if name in self.interfaces:
            raise TopologyError(f"{self.name} already has an interface {name!r}")
        iface = Interface(self, name, mac)
        self.interfaces[name] = iface
        return iface

    def interface(self, name: str) -> Interface:
        try:
            return self.interfaces[name]
        except KeyError:
            raise TopologyError(f"{self.name} has no interface {name!r} "
                                f"(it has {', '.join(self.interfaces) or 'none'})") from None

    def free_interface(self) -> Interface:
        """The first interface with no link, or a new one."""
        for iface in self.interfaces.values():
            if iface.channel is None:
                return iface
        return self.add_interface()

    def receive(self, frame: Frame, iface: Interface) -> None:
        raise NotImplementedError

    def drop(self, frame: Frame | bytes, port: int, reason: str, **detail) -> None:
        """Record a drop; ``detail`` goes into a trace note (what exactly was wrong)."""
        trace = self.trace
        if isinstance(frame, bytes):
            frame = Frame(frame)
        trace.record(self.env.now, DROP, port, frame, trace.reason(reason))
        if detail:
            trace.note(self.env.now, self.name, reason, frame=frame.id, **detail)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

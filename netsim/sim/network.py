"""The network: SimPy environment, one seeded random generator, the trace, the nodes."""

from __future__ import annotations

import ipaddress
import random

from netsim.errors import AddressError, FrameBudgetExceeded, TopologyError
from netsim.sim.environment import Environment
from netsim.sim.ipnode import Host, Router
from netsim.sim.link import Link
from netsim.sim.schedule import call_later
from netsim.sim.switch import Switch
from netsim.trace import Trace
from netsim.wire.addr import ip_to_int


class Network:
    """Everything one simulation run owns.

    ``seed`` drives every random choice — MAC addresses, IP ids, ephemeral ports,
    loss, jitter — so a network built and run the same way gives the same bytes.
    """

    def __init__(self, seed: int = 0, *, name: str = "network", trace: bool | Trace = True,
                 frame_budget: int | None = None) -> None:
        self.name = name
        self.seed = seed
        self.env = Environment()
        self.rng = random.Random(seed)
        # A trace of one's own (a streaming one, say) or a fresh one, on or off.
        self.trace = trace if isinstance(trace, Trace) else Trace(enabled=trace)
        if getattr(self.trace, "streaming", False):
            self.trace.clock = lambda: self.env.now
        if frame_budget is not None:
            self.trace.budget = frame_budget
        #: Why the run stopped before ``until``, or None.
        self.stopped: str | None = None
        self.nodes: dict = {}
        self.links: dict[str, Link] = {}
        self.apps: list = []
        #: The run's TLS — PKI, key log, sessions (:mod:`netsim.apps.tls`), made by its
        #: first TLS application; None in a run without TLS.
        self.tls = None
        self._macs: set[bytes] = set()

    # -- building ---------------------------------------------------------------------

    def allocate_mac(self) -> bytes:
        """A locally administered unicast MAC (02:…), drawn from the seed, never repeated."""
        while True:
            mac = bytes((0x02, *self.rng.randbytes(5)))
            if mac not in self._macs:
                self._macs.add(mac)
                return mac

    def _add(self, node):
        if node.name in self.nodes:
            raise TopologyError(f"a node named {node.name!r} already exists")
        self.nodes[node.name] = node
        return node

    def add_host(self, name: str, **options) -> Host:
        return self._add(Host(self, name, **options))

    def add_router(self, name: str, **options) -> Router:
        return self._add(Router(self, name, **options))

    def add_switch(self, name: str, **options) -> Switch:
        return self._add(Switch(self, name, **options))

    def address_of(self, target) -> int:
        """A node name, an :mod:`ipaddress` address, a dotted quad or an int → an IPv4
        address as an int (the hosts table every node shares, as a scenario's node
        names are). Interfaces above the stack take the first three; the int is the
        stack's own currency."""
        if isinstance(target, int):
            return target
        if isinstance(target, ipaddress.IPv4Address):
            return int(target)
        if isinstance(target, ipaddress.IPv6Address):
            raise AddressError(f"{target}: IPv6 is not modelled yet")
        node = self.nodes.get(target)
        if node is not None:
            if getattr(node, "ip", None) is None:
                raise AddressError(f"{target} has no IPv4 address")
            return ip_to_int(node.ip)
        try:
            return ip_to_int(target)
        except ValueError:
            raise AddressError(f"{target!r} is neither a node nor an IPv4 address") from None

    def node(self, name: str):
        try:
            return self.nodes[name]
        except KeyError:
            raise TopologyError(f"no node named {name!r}") from None

    def connect(self, a, b, *, name: str | None = None, **params) -> Link:
        """Join two interfaces (or nodes: their first free interface) with a link.

        ``params`` are :class:`~netsim.sim.link.Link`'s: ``rate`` (bit/s), ``delay``,
        ``jitter`` (s), ``loss`` (0–1), ``queue_packets``, ``queue_bytes``, ``mtu``.
        """
        a = a.free_interface() if hasattr(a, "free_interface") else a
        b = b.free_interface() if hasattr(b, "free_interface") else b
        if a.node is b.node:
            raise TopologyError(f"a link joins two different nodes, not {a.node.name} to itself")
        for iface in (a, b):
            if iface.link is not None:
                raise TopologyError(f"{iface.node.name}:{iface.name} is already linked "
                                    f"({iface.link.name})")
        if name is None:
            name = base = f"{a.node.name}-{b.node.name}"
            n = 2
            while name in self.links:
                name, n = f"{base}-{n}", n + 1
        elif name in self.links:
            raise TopologyError(f"a link named {name!r} already exists")
        link = self.links[name] = Link(self, name, a, b, **params)
        return link

    # -- running -----------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.env.now

    def at(self, time: float, callback) -> None:
        """Call ``callback()`` at simulated ``time`` (at once if that is past)."""
        call_later(self.env, max(0.0, time - self.env.now), lambda _event: callback())

    def run(self, until: float | None = None) -> None:
        """Run to ``until``; a run that exceeds its frame budget stops there, and
        :attr:`stopped` says why (no exception: the trace up to then is kept)."""
        self.trace.meta.update(self.describe())
        try:
            self.env.run(until=until)
        except FrameBudgetExceeded as exc:
            self.stopped = (f"stopped at {self.env.now:.6g} s: the run made {exc} — a broadcast "
                            "storm? (a loop of switches without spanning tree); raise "
                            "frame_budget to go on")

    def describe(self) -> dict:
        """The topology as plain data, for the trace's readers."""
        from netsim.wire.addr import bytes_to_mac
        nodes = {}
        for name, node in self.nodes.items():
            nodes[name] = {"kind": node.kind, "interfaces": {
                i.name: {"address": i.address, "mac": bytes_to_mac(i.mac) if i.mac else None,
                         "link": i.link.name if i.link else None}
                for i in node.interfaces.values()}}
        links = {name: {"a": [l.a.node.name, l.a.name], "b": [l.b.node.name, l.b.name],
                        "rate": l.rate, "delay": l.delay, "jitter": l.jitter, "loss": l.loss,
                        "queue_packets": l.queue_packets, "queue_bytes": l.queue_bytes}
                 for name, l in self.links.items()}
        return {"name": self.name, "seed": self.seed, "nodes": nodes, "links": links}

    def __repr__(self) -> str:
        return f"<Network {self.name}: {len(self.nodes)} nodes, {len(self.links)} links>"

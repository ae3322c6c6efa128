"""A learning switch: an IEEE 802.1D transparent bridge with spanning tree.

It learns the source MAC of every frame against the port it came in on, forwards a
frame to the port its destination was learned on, and floods broadcasts, multicasts
and unknown destinations out of every other port. Entries age out after ``aging``
seconds (802.1D's default is 300 s). Frames pass unchanged — same bytes, same frame
id — so a capture on each side shows the same frame.

Spanning tree (:mod:`netsim.proto.stp`) runs on by default: ports facing other
switches start blocking, listen and learn for ``forward_delay`` each, and one port
of every loop stays blocked, so a loop of switches carries no broadcast storm. Ports
facing hosts and routers are edge ports: they forward at once and send no BPDUs.
``stp=False`` makes a switch that floods everything, BPDUs included — a loop of
those storms until the run's frame budget stops it.
"""

from __future__ import annotations

import hashlib

from netsim.errors import FrameError
from netsim.proto import stp
from netsim.sim.driver import EngineDriver
from netsim.sim.node import Node
from netsim.trace import RX
from netsim.wire import stp as bpdu_wire
from netsim.wire.addr import bytes_to_mac


class Switch(Node):
    kind = "switch"

    def __init__(self, network, name: str, *, aging: float = 300.0, stp: bool | dict = True) -> None:
        super().__init__(network, name)
        self.aging = aging
        #: MAC -> (interface, time last seen)
        self.mac_table: dict[bytes, tuple[object, float]] = {}
        self.flooded = self.forwarded = 0
        self.stp_options = {} if stp is True else dict(stp) if stp else None
        self.stp: stp.StpBridge | None = None
        self._numbers: dict[str, int] = {}
        self._templates: dict[str, bpdu_wire.BpduTemplate] = {}
        if self.stp_options is not None:
            # At time 0 the links exist: which ports face bridges is known then.
            network.at(0.0, self._start_stp)

    def add_interface(self, name: str | None = None, mac: bytes | None = None):
        name = name or f"eth{len(self.interfaces)}"
        # A port's MAC, derived from the seed and the names (a bridge's own addresses
        # must not shift every other node's MAC drawn from the shared generator).
        digest = hashlib.sha256(f"{self.network.seed}/{self.name}/{name}".encode()).digest()
        return super().add_interface(name, mac or bytes((0x02, *digest[:5])))

    # -- spanning tree -------------------------------------------------------------------------

    def _start_stp(self) -> None:
        options = dict(self.stp_options)
        priority = options.pop("priority", 32768)
        ports = {}
        for number, iface in enumerate(self.interfaces.values(), start=1):
            if iface.channel is None:
                continue
            self._numbers[iface.name] = number
            edge = getattr(iface.peer.node, "kind", "") != "switch"
            ports[number] = (stp.path_cost(iface.link.rate), edge)
        mac = min((i.mac for i in self.interfaces.values()), default=bytes(6))
        self.stp = stp.StpBridge(bpdu_wire.bridge_id(priority, mac), ports, **options)
        self._by_number = {n: self.interfaces[name] for name, n in self._numbers.items()}
        self.stp_driver = EngineDriver(self.env, self.stp, self._on_stp)
        self.stp.start(self.env.now)
        self.stp_driver.kick()

    def _on_stp(self, out) -> None:
        now = self.env.now
        if isinstance(out, stp.SendBpdu):
            iface = self._by_number[out.port]
            template = self._templates.get(iface.name)
            if template is None:
                template = self._templates[iface.name] = bpdu_wire.BpduTemplate(iface.mac)
            iface.send(template.build(out.bpdu))
        elif isinstance(out, stp.PortChanged):
            self.trace.note(now, self.name, "stp-port", port=self._by_number[out.port].name,
                            role=out.role, state=out.state)
        elif isinstance(out, stp.RootChanged):
            port = self._by_number[out.root_port].name if out.root_port else None
            self.trace.note(now, self.name, "stp-root", root=bpdu_wire.format_bridge(out.root),
                            cost=out.cost, root_port=port)

    def _state_of(self, iface) -> str:
        return self.stp.ports[self._numbers[iface.name]].state

    def _port_state(self, iface) -> tuple[bool, bool]:
        """(learns, forwards) for a port: both unless spanning tree says otherwise."""
        if self.stp is None:
            return True, True
        number = self._numbers.get(iface.name)
        return self.stp.learning(number), self.stp.forwarding(number)

    # -- frames ----------------------------------------------------------------------------------

    def receive(self, frame, iface) -> None:
        now = self.env.now
        self.trace.record(now, RX, iface.port, frame)
        data = frame.data
        if len(data) < 14:
            self.drop(frame, iface.port, "malformed", error=f"{len(data)}-byte frame")
            return
        src, dst = data[6:12], data[0:6]
        if dst == bpdu_wire.BRIDGE_GROUP and self.stp_options is not None:
            self._receive_bpdu(frame, iface)
            return
        learns, forwards = self._port_state(iface)
        if not learns:
            self.drop(frame, iface.port, f"port-{self._state_of(iface)}")
            return
        if not src[0] & 1:
            known = self.mac_table.get(src)
            if known is None or known[0] is not iface:
                self.trace.note(now, self.name, "mac-learned", mac=bytes_to_mac(src), port=iface.name)
            self.mac_table[src] = (iface, now)
        if not forwards:
            self.drop(frame, iface.port, f"port-{self._state_of(iface)}")
            return
        payload = len(data) - 14
        entry = None if dst[0] & 1 else self.mac_table.get(dst)
        if entry is not None and now - entry[1] <= self.aging:
            out = entry[0]
            if out is iface:
                self.drop(frame, iface.port, "filtered")
                return
            if payload > out.mtu:
                self.drop(frame, iface.port, "oversize", length=len(data), mtu=out.mtu)
                return
            if not self._port_state(out)[1]:
                self.drop(frame, iface.port, f"port-{self._state_of(out)}")
                return
            self.forwarded += 1
            out.send_frame(frame)
            return
        self.flooded += 1
        too_big = sent = False
        for out in self.interfaces.values():
            if out is not iface and out.channel is not None and self._port_state(out)[1]:
                if payload > out.mtu:
                    too_big = True            # a switch never fragments: that port gets nothing
                else:
                    out.send_frame(frame)
                    sent = True
        if too_big:
            self.drop(frame, iface.port, "oversize", length=len(data))
        elif not sent:
            # Every other port is blocked or still listening (spanning tree), or unwired:
            # the frame ends here, and says so.
            self.drop(frame, iface.port, "no-forwarding-port")

    def _receive_bpdu(self, frame, iface) -> None:
        """A frame to the bridge group address is the spanning tree's, never forwarded."""
        try:
            bpdu = bpdu_wire.parse_bpdu(frame.data)
        except FrameError as exc:
            self.drop(frame, iface.port, "malformed", error=str(exc))
            return
        if self.stp is None:                  # before time 0's start: nothing to tell it yet
            self.drop(frame, iface.port, "stp-not-started")
            return
        number = self._numbers.get(iface.name)
        if number is None:
            self.drop(frame, iface.port, "malformed", error="a BPDU on an unknown port")
            return
        self.stp.receive(number, bpdu, self.env.now)
        self.stp_driver.kick()

    def table(self, now: float | None = None) -> list[tuple[str, str, float]]:
        """``(mac, port, age)`` of the live entries, as ``show mac address-table`` lists them."""
        now = self.env.now if now is None else now
        return [(bytes_to_mac(mac), iface.name, now - seen)
                for mac, (iface, seen) in sorted(self.mac_table.items())
                if now - seen <= self.aging]

    def spanning_tree(self) -> list[tuple[str, str, str]]:
        """``(port, role, state)`` per port, as ``show spanning-tree`` lists them."""
        if self.stp is None:
            return []
        return [(self._by_number[n].name, p.role, p.state) for n, p in sorted(self.stp.ports.items())]

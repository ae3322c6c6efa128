"""A learning switch (IEEE 802.1D transparent bridge, without spanning tree).

It learns the source MAC of every frame against the port it came in on, forwards a
frame to the port its destination was learned on, and floods broadcasts, multicasts
and unknown destinations out of every other port. Entries age out after ``aging``
seconds (802.1D's default is 300 s). Frames pass unchanged — same bytes, same frame
id — so a capture on each side shows the same frame.
"""

from __future__ import annotations

from netsim.sim.node import Node
from netsim.trace import RX
from netsim.wire.addr import bytes_to_mac


class Switch(Node):
    kind = "switch"

    def __init__(self, network, name: str, *, aging: float = 300.0) -> None:
        super().__init__(network, name)
        self.aging = aging
        #: MAC -> (interface, time last seen)
        self.mac_table: dict[bytes, tuple[object, float]] = {}
        self.flooded = self.forwarded = 0

    def receive(self, frame, iface) -> None:
        now = self.env.now
        self.trace.record(now, RX, iface.port, frame)
        data = frame.data
        if len(data) < 14:
            self.drop(frame, iface.port, "malformed", error=f"{len(data)}-byte frame")
            return
        src, dst = data[6:12], data[0:6]
        if not src[0] & 1:
            known = self.mac_table.get(src)
            if known is None or known[0] is not iface:
                self.trace.note(now, self.name, "mac-learned", mac=bytes_to_mac(src), port=iface.name)
            self.mac_table[src] = (iface, now)
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
            self.forwarded += 1
            out.send_frame(frame)
            return
        self.flooded += 1
        too_big = False
        for out in self.interfaces.values():
            if out is not iface and out.channel is not None:
                if payload > out.mtu:
                    too_big = True            # a switch never fragments: that port gets nothing
                else:
                    out.send_frame(frame)
        if too_big:
            self.drop(frame, iface.port, "oversize", length=len(data))

    def table(self, now: float | None = None) -> list[tuple[str, str, float]]:
        """``(mac, port, age)`` of the live entries, as ``show mac address-table`` lists them."""
        now = self.env.now if now is None else now
        return [(bytes_to_mac(mac), iface.name, now - seen)
                for mac, (iface, seen) in sorted(self.mac_table.items())
                if now - seen <= self.aging]

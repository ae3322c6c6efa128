"""The neighbours of an IP node: ARP resolution through each interface's engine
(:mod:`netsim.proto.arp`), the held packets it releases or abandons, the confirmation
TCP gives it, and RFC 5227's probes and announcements.

A mixin of :class:`~netsim.sim.ipnode.IpNode`, as :mod:`netsim.sim.forwarding` is.
"""

from __future__ import annotations

from netsim.proto import arp as arp_engine
from netsim.wire import headers as h
from netsim.wire.addr import BROADCAST_MAC, ZERO_MAC, bytes_to_mac, int_to_ip
from netsim.wire.templates import ArpTemplate

_ANNOUNCE_INTERVAL = 2.0             # RFC 5227 §1.1


class Neighbours:
    def neighbour(self, iface, hop: int) -> bytes | None:
        """The MAC to send to ``hop`` through ``iface``, or None (resolve first). Using a
        stale entry (Linux) starts its delay timer, so the driver is re-armed then."""
        arp = iface.arp
        mac = arp.lookup(hop, self.env._now)
        if arp.timer_changed:
            iface.arp_driver.kick()
        return mac

    def confirm_neighbour(self, dst: int) -> None:
        """TCP saw new data acknowledged by ``dst``: the next hop toward it is alive
        (Linux's ``sk_dst_confirm``), so its ARP entry needs no probe."""
        route = self.routes.lookup(dst)
        if route is not None:
            route.iface.arp.confirm(dst if route.gateway is None else route.gateway, self.env._now)

    def send_arp_probe(self, iface, address: int) -> None:
        """RFC 5227 §2.1.1: who has ``address``? — asked from sender address 0.0.0.0."""
        key = ("arp-probe", iface)
        template = self._templates.get(key) or self._keep(key, ArpTemplate(iface.mac, 0))
        iface.send(template.build(h.ARP_REQUEST, BROADCAST_MAC, ZERO_MAC, address))

    def _hold(self, iface, hop: int, data: bytes, verified: bool) -> None:
        evicted = iface.arp.hold(hop, (data, verified), self.env.now)
        if evicted is not None:
            self.drop(evicted[0], iface.port, "arp-queue-full")
        iface.arp_driver.kick()

    def _on_arp(self, iface, out) -> None:
        """Carry out what an interface's ARP engine asks for."""
        if isinstance(out, arp_engine.SendRequest):
            iface.send(self._arp_template(iface).build(h.ARP_REQUEST,
                                                       out.unicast_mac or BROADCAST_MAC, ZERO_MAC,
                                                       out.target_ip))
        elif isinstance(out, arp_engine.SendReply):
            template = self._arp_template(iface, sender_ip=out.sender_ip)
            iface.send(template.build(h.ARP_REPLY, out.target_mac, out.target_mac, out.target_ip))
        elif isinstance(out, arp_engine.Release):
            # Caused by the ARP reply being handled now; say so, for the diagrams.
            trace = self.trace
            old = trace.cause
            trace.cause = (old & ~0xFF) | trace.why("arp-resolved")
            for data, verified in out.packets:
                iface.send(out.mac + data[6:], verified)
            trace.cause = old
        elif isinstance(out, arp_engine.Abandon):
            for data, _verified in out.packets:
                self.drop(data, iface.port, "arp-timeout", next_hop=int_to_ip(out.ip))
                self._unreachable_after_arp(data)
        elif isinstance(out, arp_engine.Learned):
            self.trace.note(self.env.now, self.name, "arp-learned", iface=iface.name,
                            ip=int_to_ip(out.ip), mac=bytes_to_mac(out.mac))
        elif isinstance(out, arp_engine.Forgot):
            self.trace.note(self.env.now, self.name, "arp-failed", iface=iface.name,
                            ip=int_to_ip(out.ip), mac=bytes_to_mac(out.mac))

    def _arp_template(self, iface, ethertype: int = h.ETHERTYPE_ARP, *,
                      sender_ip: int | None = None) -> ArpTemplate:
        sender_ip = iface.ip if sender_ip is None else sender_ip
        key = ("arp", iface, sender_ip, ethertype)
        return self._templates.get(key) or self._keep(key, ArpTemplate(iface.mac, sender_ip or 0,
                                                                       ethertype))

    #: Whether an address this node configures is announced by gratuitous ARP (the
    #: scenario's ``announce``); None leaves it to the stack: Linux sends none — the
    #: kernel has ``arp_notify=0``, so ``ip addr add`` announces nothing, and neither does
    #: ISC dhclient after a lease — while the textbook stack announces an address it
    #: learned by DHCP or RARP, as RFC 5227 §2.3 asks.
    announce_addresses: bool | None = None

    def announces_learned_address(self) -> bool:
        """Announce an address just learned by DHCP or RARP?"""
        if self.announce_addresses is not None:
            return self.announce_addresses
        return self.tcp.stack == "textbook"

    def announce(self, iface=None) -> None:
        """Announce ``iface``'s address (every interface's, without one) by gratuitous
        ARP, as RFC 5227 §2.3 asks of a host that has configured one: the Linux stack
        (where ``announce: true`` asks for it) sends ANNOUNCE_NUM (2) announcements
        ANNOUNCE_INTERVAL (2 s) apart, as NetworkManager and dhcpcd do; the textbook
        stack one."""
        ifaces = [iface] if iface else list(self.interfaces.values())
        self._announce_now(ifaces)
        if self.tcp.stack == "linux":
            self.network.at(self.env.now + _ANNOUNCE_INTERVAL, lambda: self._announce_now(ifaces))

    def _announce_now(self, ifaces) -> None:
        for i in ifaces:
            if i.ip is not None and i.channel is not None:
                i.send(self._arp_template(i).build(h.ARP_REQUEST, BROADCAST_MAC, ZERO_MAC, i.ip))

    # -- receiving ----------------------------------------------------------------------

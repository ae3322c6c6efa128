"""What a router does that a host does not: forward (RFC 1812).

Mixed into :class:`~netsim.sim.ipnode.IpNode` (which runs it when ``forwarding`` is
set): martians dropped (§5.3.7), TTL expiry answered with time-exceeded (§5.3.1), no
route with net-unreachable, the packet filter asked, directed broadcasts refused (RFC
2644), DF datagrams too big for the next link answered with fragmentation-needed (RFC
1191); then the frame patched in place — TTL and an RFC 1624 incremental checksum —
and sent, or held for ARP and answered with host-unreachable if ARP fails (§4.3.3.1).
"""

from __future__ import annotations

from netsim.wire import headers as h
from netsim.wire.addr import ZERO_MAC, int_to_ip
from netsim.wire.checksum import update_checksum

_MARTIAN_NETS = (0, 127)


class Forwarding:
    def _forward(self, frame, data, iface, hlen, total, ttl, proto, src, dst, now) -> None:
        if src >> 24 in _MARTIAN_NETS or dst >> 24 in _MARTIAN_NETS or src >> 28 >= 0xE \
                or dst >> 28 == 0xF or data[0] & 1:
            # The common case costs four shifts; the reason is worked out only for a drop.
            martian = _martian(src, dst) or \
                "a unicast datagram in a link-layer broadcast (RFC 1812 §5.3.4)"
            self.drop(frame, iface.port, "martian", error=martian)
            return
        # The route first, then the TTL, as Linux does (ip_route_input before ip_forward):
        # an unroutable destination is "network unreachable" even at the first hop.
        route = self.routes.lookup(dst)
        if route is None:
            self._icmp_error(data, hlen, total, src, iface, h.ICMP_DEST_UNREACH, h.UNREACH_NET)
            self.drop(frame, iface.port, "no-route", dst=int_to_ip(dst))
            return
        if ttl <= 1:
            self._icmp_error(data, hlen, total, src, iface, h.ICMP_TIME_EXCEEDED, 0)
            self.drop(frame, iface.port, "ttl-expired")
            return
        out = route.iface
        if self.firewall is not None:
            sport, dport, flags, quoted = h.flow_fields(data, hlen, total, proto)
            why = self.firewall.check(iface.name, out.name, proto, src, sport, dst, dport, flags,
                                      now, quoted)
            if why is not None:
                self.drop(frame, iface.port, "firewall", rule=why)
                return
        hop = dst if route.gateway is None else route.gateway
        if route.gateway is None and dst == out.broadcast:
            # RFC 2644: a router does not forward directed broadcasts by default.
            self.drop(frame, iface.port, "directed-broadcast", dst=int_to_ip(dst))
            return
        if total > out.mtu:
            if data[20] & 0x40:     # DF: RFC 1191 says "fragmentation needed", with our MTU
                self._icmp_error(data, hlen, total, src, iface, h.ICMP_DEST_UNREACH,
                                 h.UNREACH_FRAG_NEEDED, out.mtu)
            self.drop(frame, iface.port, "mtu-exceeded", mtu=out.mtu, length=total)
            return
        old_word = (ttl << 8) | proto
        checksum = update_checksum((data[24] << 8) | data[25], old_word, old_word - 256)
        mac = self.neighbour(out, hop)
        packet = b"".join(((mac or ZERO_MAC), out.mac, data[12:22], bytes((ttl - 1, proto)),
                           checksum.to_bytes(2, "big"), data[26:14 + total]))
        self._transmit(out, hop, mac, packet, frame.verified)

    def _unreachable_after_arp(self, data: bytes) -> None:
        """RFC 1812 §4.3.3.1: a router that cannot resolve the next hop says host
        unreachable. For a datagram of our own, the kernel tells the socket instead (no
        frame: Linux's error queue), which is how ping prints "From 10.0.1.10 icmp_seq=1
        Destination Host Unreachable" — its own address."""
        if len(data) < 34 or data[12:14] != b"\x08\x00":
            return
        src = int.from_bytes(data[26:30], "big")
        hlen = (data[14] & 0xF) * 4
        total = int.from_bytes(data[16:18], "big")
        if src in self.local_ips:
            quoted = data[14:14 + min(total, hlen + 8)]
            self.trace.note(self.env.now, self.name, "host-unreachable",
                            dst=int_to_ip(int.from_bytes(data[30:34], "big")))
            for listener in list(self.icmp_listeners):
                listener(src, h.ICMP_DEST_UNREACH, h.UNREACH_HOST, 0, 0, quoted, 64,
                         8 + len(quoted), self.env.now)
        elif self.forwarding:
            self._icmp_error(data, hlen, total, src, None, h.ICMP_DEST_UNREACH, h.UNREACH_HOST)


def _martian(src: int, dst: int) -> str | None:
    """Why RFC 1812 §5.3.7 forbids forwarding a datagram with these addresses, or None."""
    if src >> 24 in _MARTIAN_NETS or src >> 28 >= 0xE:
        return f"source address {int_to_ip(src)} is never forwarded"
    if dst >> 24 in _MARTIAN_NETS or dst >> 28 == 0xF:
        return f"destination address {int_to_ip(dst)} is never forwarded"
    return None

"""One line per frame, labelled the way a textbook labels it, read with :mod:`struct`.

``describe(data)`` never raises: bytes that do not parse are described as such.
Scapy's own ``summary()`` is available through ``Frame.pkt`` when more is wanted.
Which application protocol a datagram or segment carries, and its label, come from
the protocol registry (:mod:`netsim.wire.registry`) by well-known port.
"""

from __future__ import annotations

from typing import NamedTuple

from netsim.errors import FrameError
from netsim.wire import headers as h
from netsim.wire import registry, stp
from netsim.wire.addr import BROADCAST_MAC, bytes_to_mac, int_to_ip


class Description(NamedTuple):
    protocol: str        # "ARP", "RARP", "ICMP", "UDP", "TCP", "IPv4", "Ethernet"
    src: str             # IPv4 address, or MAC for ARP/RARP and other Ethernet
    dst: str
    label: str           # "ARP who-has 10.0.0.2 tell 10.0.0.1", "ICMP echo request seq=1"
    sport: int = 0
    dport: int = 0


_ICMP_TYPES = {0: "echo reply", 8: "echo request", 11: "time-exceeded", 3: "unreachable",
               5: "redirect", 4: "source-quench", 12: "parameter-problem"}
_UNREACH = {0: "net-unreachable", 1: "host-unreachable", 2: "protocol-unreachable",
            3: "port-unreachable", 4: "frag-needed", 13: "admin-prohibited"}
_TCP_FLAGS = ((0x02, "SYN"), (0x10, "ACK"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"),
              (0x20, "URG"))


def describe(data: bytes) -> Description:
    try:
        return _describe(data)
    except (FrameError, IndexError, ValueError) as exc:
        return Description("malformed", "?", "?", f"malformed frame ({exc})")


def _describe(data: bytes) -> Description:
    if len(data) < h.ETH_HLEN:
        raise FrameError(f"{len(data)} bytes is shorter than an Ethernet header")
    dst_mac, src_mac, ethertype = h.ETHER.unpack_from(data)
    if dst_mac == stp.BRIDGE_GROUP:
        return _describe_bpdu(data)
    if ethertype in (h.ETHERTYPE_ARP, h.ETHERTYPE_RARP):
        return _describe_arp(data, ethertype)
    if ethertype != h.ETHERTYPE_IPV4:
        return Description("Ethernet", bytes_to_mac(src_mac), bytes_to_mac(dst_mac),
                           f"Ethernet type {ethertype:#06x}")
    hlen, total, ttl, proto, src, dst = h.parse_ipv4(data)
    s, d = int_to_ip(src), int_to_ip(dst)
    l4 = h.ip_payload(data, hlen, total)
    if proto == h.IPPROTO_ICMP and len(l4) >= 8:
        itype, code, _c, w1, w2 = h.ICMP.unpack_from(l4)
        if itype in (0, 8):
            return Description("ICMP", s, d, f"ICMP {_ICMP_TYPES[itype]} id={w1} seq={w2}")
        name = _UNREACH.get(code, f"unreachable code {code}") if itype == 3 else \
            _ICMP_TYPES.get(itype, f"type {itype}")
        quoted = _quoted_udp_port(l4[8:])
        return Description("ICMP", s, d, f"ICMP {name}" + (f" (probe port {quoted})" if quoted else ""))
    if proto == h.IPPROTO_UDP and len(l4) >= 8:
        sport, dport, ulen, _c = h.UDP.unpack_from(l4)
        for port in (dport, sport):
            app = registry.on_port("udp", port)
            line = app.datagram_label(l4[8:ulen]) if app is not None else None
            if line is not None:
                return Description(app.name, s, d, line, sport, dport)
        return Description("UDP", s, d, f"UDP {sport} → {dport} len={ulen - 8} ttl={ttl}",
                           sport, dport)
    if proto == h.IPPROTO_TCP and len(l4) >= 20:
        sport, dport = h.UDP.unpack_from(l4)[:2]
        seq = int.from_bytes(l4[4:8], "big")
        ack = int.from_bytes(l4[8:12], "big")
        flags = l4[13]
        names = [n for bit, n in _TCP_FLAGS if flags & bit]
        payload = len(l4) - (l4[12] >> 4) * 4
        for port in (dport, sport) if payload else ():
            app = registry.on_port("tcp", port)
            name, line = _stream_line(app, l4[len(l4) - payload:]) if app is not None \
                else ("", None)
            if line is not None:
                return Description(name, s, d, line, sport, dport)
        text = "TCP " + ",".join(names or ["-"]) + f" seq={seq}"
        if flags & 0x10:
            text += f" ack={ack}"
        if payload:
            text += f" len={payload}"
        return Description("TCP", s, d, text, sport, dport)
    return Description("IPv4", s, d, f"IPv4 protocol {proto} {s} → {d}")


def _stream_line(app: registry.Protocol, payload: bytes) -> tuple[str, str | None]:
    """A TCP payload's protocol and label: the protocol's own, or for a protocol of
    lines its name and the first line (a command, a reply, a request line) — unless a
    protocol that takes its connections over knows the bytes (TLS records after SMTP's,
    POP's or IMAP's STARTTLS, RFC 3207: no text line starts with a record header)."""
    if app.stream_label is not None:
        return app.name, app.stream_label(payload)
    for other in registry.upgrades_of(app.name):
        line = other.stream_label(payload) if other.stream_label is not None else None
        if line is not None:
            return other.name, line
    first = payload.split(b"\n", 1)[0].rstrip(b"\r")
    return app.name, f"{app.name} {first[:80].decode('ascii', 'replace')}"


def _describe_arp(data: bytes, ethertype: int) -> Description:
    op, sha, spa, tha, tpa = h.parse_arp(data)
    smac, dmac = bytes_to_mac(data[6:12]), bytes_to_mac(data[0:6])
    if ethertype == h.ETHERTYPE_RARP:
        if op == h.RARP_REQUEST:
            return Description("RARP", smac, dmac, f"RARP who-am-I {bytes_to_mac(tha)}")
        return Description("RARP", smac, dmac, f"RARP {bytes_to_mac(tha)} is {int_to_ip(tpa)}")
    if op == h.ARP_REQUEST:
        if spa == tpa:
            return Description("ARP", smac, dmac, f"ARP announce {int_to_ip(spa)}")
        if spa == 0:            # RFC 5227 §2.1.1: is anyone using this address?
            return Description("ARP", smac, dmac, f"ARP probe {int_to_ip(tpa)}")
        # Sent to one MAC: a neighbour entry being checked (Linux's PROBE state).
        how = "" if data[0:6] == BROADCAST_MAC else " (unicast)"
        return Description("ARP", smac, dmac,
                           f"ARP who-has {int_to_ip(tpa)}{how} tell {int_to_ip(spa)}")
    if op == h.ARP_REPLY and data[0:6] == BROADCAST_MAC and spa == tpa:
        return Description("ARP", smac, dmac, f"ARP announce {int_to_ip(spa)} is-at {bytes_to_mac(sha)}")
    return Description("ARP", smac, dmac, f"ARP {int_to_ip(spa)} is-at {bytes_to_mac(sha)}")


def _describe_bpdu(data: bytes) -> Description:
    bpdu = stp.parse_bpdu(data)
    src = bytes_to_mac(data[6:12])
    if bpdu is None:
        return Description("STP", src, "01:80:c2:00:00:00", "STP topology change notification")
    tc = " TC" if bpdu.flags & stp.FLAG_TC else ""
    return Description("STP", src, "01:80:c2:00:00:00",
                       f"STP BPDU root {stp.format_bridge(bpdu.root)} cost {bpdu.cost} "
                       f"port {bpdu.port:#06x}{tc}")


def _quoted_udp_port(quote: bytes) -> int:
    """Destination port of the UDP datagram quoted in an ICMP error, or 0."""
    if len(quote) < 28 or quote[0] >> 4 != 4 or quote[9] != h.IPPROTO_UDP:
        return 0
    ihl = (quote[0] & 0xF) * 4
    return int.from_bytes(quote[ihl + 2:ihl + 4], "big") if len(quote) >= ihl + 4 else 0

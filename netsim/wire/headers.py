"""Fixed header layouts read with :mod:`struct` on the per-frame path.

Scapy defines the layouts (the templates are built by it and a property test holds
these readers to its dissection); this module only reads and patches them without
building Python objects per field. Offsets are from the start of the Ethernet frame.
"""

from __future__ import annotations

import struct

from netsim.errors import FrameError
from netsim.wire.checksum import fold, word_total

ETH_HLEN = 14
ETH_MIN_FRAME = 60          # without FCS; shorter frames are padded by the NIC
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_RARP = 0x8035

IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17

ARP_REQUEST, ARP_REPLY, RARP_REQUEST, RARP_REPLY = 1, 2, 3, 4

ICMP_ECHO_REPLY = 0
ICMP_DEST_UNREACH = 3
ICMP_ECHO_REQUEST = 8
ICMP_TIME_EXCEEDED = 11
UNREACH_NET, UNREACH_HOST, UNREACH_PROTOCOL, UNREACH_PORT, UNREACH_FRAG_NEEDED = 0, 1, 2, 3, 4

IP_OFF = ETH_HLEN
IP_TTL_OFF = IP_OFF + 8
IP_CSUM_OFF = IP_OFF + 10

ETHER = struct.Struct("!6s6sH")
IPV4 = struct.Struct("!BBHHHBBHII")          # ver/ihl tos len id frag ttl proto csum src dst
ARP = struct.Struct("!HHBBH6sI6sI")          # htype ptype hlen plen op sha spa tha tpa
UDP = struct.Struct("!HHHH")
ICMP = struct.Struct("!BBHHH")               # type code csum id/unused seq/mtu
U16 = struct.Struct("!H")


def parse_arp(data: bytes) -> tuple[int, bytes, int, bytes, int]:
    """``(op, sha, spa, tha, tpa)`` of an Ethernet/IPv4 ARP or RARP frame."""
    if len(data) < ETH_HLEN + 28:
        raise FrameError(f"ARP frame of {len(data)} bytes is shorter than 42")
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = ARP.unpack_from(data, ETH_HLEN)
    if htype != 1 or ptype != ETHERTYPE_IPV4 or hlen != 6 or plen != 4:
        raise FrameError(f"ARP for hardware {htype}/protocol {ptype:#06x} is not Ethernet/IPv4")
    return op, sha, spa, tha, tpa


def parse_ipv4(data: bytes) -> tuple[int, int, int, int, int, int]:
    """``(header_len, total_len, ttl, proto, src, dst)`` after the checks a router makes
    (RFC 1812 §5.2.2): version 4, header length ≥ 20, total length within the frame,
    a correct header checksum."""
    if len(data) < ETH_HLEN + 20:
        raise FrameError(f"IPv4 frame of {len(data)} bytes is too short for a header")
    vihl, _tos, total_len, _id, _frag, ttl, proto, _csum, src, dst = IPV4.unpack_from(data, IP_OFF)
    if vihl >> 4 != 4:
        raise FrameError(f"IP version {vihl >> 4} in an IPv4 frame")
    hlen = (vihl & 0xF) * 4
    if hlen < 20 or total_len < hlen or ETH_HLEN + total_len > len(data):
        raise FrameError(f"IPv4 lengths do not fit: header {hlen}, total {total_len}, frame {len(data)}")
    if fold(word_total(data[IP_OFF:IP_OFF + hlen])) != 0xFFFF:
        raise FrameError("IPv4 header checksum is wrong")
    return hlen, total_len, ttl, proto, src, dst


def ip_payload(data: bytes, hlen: int, total_len: int) -> bytes:
    """The transport bytes of an IPv4 frame (Ethernet padding cut off)."""
    return data[IP_OFF + hlen:IP_OFF + total_len]


TCP = struct.Struct("!HHIIHHHH")             # sport dport seq ack offset/flags window csum urg
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def parse_tcp(segment: bytes) -> tuple[int, int, int, int, int, int, bytes, bytes]:
    """``(sport, dport, seq, ack, flags, window, options, payload)`` of a TCP segment."""
    if len(segment) < 20:
        raise FrameError(f"TCP segment of {len(segment)} bytes is shorter than its header")
    sport, dport, seq, ack, offset_flags, window, _csum, _urg = TCP.unpack_from(segment)
    hlen = (offset_flags >> 12) * 4
    if hlen < 20 or hlen > len(segment):
        raise FrameError(f"TCP data offset {hlen} does not fit a {len(segment)}-byte segment")
    return sport, dport, seq, ack, offset_flags & 0x3F, window, segment[20:hlen], segment[hlen:]


def tcp_options(mss: int | None = None, wscale: int | None = None, sack_perm: bool = False,
                ts: tuple[int, int] | None = None, sack: tuple = ()) -> bytes:
    """TCP options (RFC 9293 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK)
    laid out as Linux lays them out: a SYN ``MSS, SACK_PERM, TS, NOP, WS`` (20 bytes),
    later segments ``NOP, NOP, TS`` then ``NOP, NOP, SACK``; padded to 32-bit words."""
    out = b""
    if mss is not None:
        out += b"\x02\x04" + mss.to_bytes(2, "big")
    if sack_perm:
        out += b"\x04\x02" if ts is not None else b"\x01\x01\x04\x02"
    if ts is not None:
        stamp = b"\x08\x0a" + ts[0].to_bytes(4, "big") + ts[1].to_bytes(4, "big")
        out += stamp if sack_perm else b"\x01\x01" + stamp
    if wscale is not None:
        out += b"\x01\x03\x03" + bytes([wscale])
    if sack:
        out += b"\x01\x01\x05" + bytes([2 + 8 * len(sack)]) + b"".join(
            left.to_bytes(4, "big") + right.to_bytes(4, "big") for left, right in sack)
    return out + b"\x00" * (-len(out) % 4)


def parse_tcp_options(options: bytes) -> dict:
    """The options netsim uses (RFC 9293 MSS, RFC 7323 window scale and timestamps,
    RFC 2018 SACK-permitted and SACK blocks); others skipped."""
    found: dict = {}
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2 or i + options[i + 1] > len(options):
            raise FrameError("TCP option length runs past the header")
        length = options[i + 1]
        if kind == 2 and length == 4:
            found["mss"] = int.from_bytes(options[i + 2:i + 4], "big")
        elif kind == 3 and length == 3:
            found["wscale"] = min(options[i + 2], 14)
        elif kind == 4 and length == 2:
            found["sack_perm"] = True
        elif kind == 8 and length == 10:
            found["ts"] = (int.from_bytes(options[i + 2:i + 6], "big"),
                           int.from_bytes(options[i + 6:i + 10], "big"))
        elif kind == 5 and length >= 10 and (length - 2) % 8 == 0:
            found["sack"] = tuple((int.from_bytes(options[j:j + 4], "big"),
                                   int.from_bytes(options[j + 4:j + 8], "big"))
                                  for j in range(i + 2, i + length, 8))
        i += length
    return found


ICMP_ERROR_TYPES = frozenset({3, 4, 5, 11, 12})


def flow_fields(data: bytes, hlen: int, total: int, proto: int):
    """``(sport, dport, tcp_flags, quoted)`` of an IPv4 datagram in an Ethernet frame, for
    a packet filter: ports for TCP and UDP, the identifier (as both ports) for ICMP
    echo, and for an ICMP error the quoted datagram's ``(proto, src, sport, dst, dport)``."""
    l4 = ETH_HLEN + hlen
    sport = dport = flags = 0
    quoted = None
    if proto in (IPPROTO_TCP, IPPROTO_UDP) and total >= hlen + 4:
        sport, dport = UDP.unpack_from(data, l4)[:2]
        if proto == IPPROTO_TCP and total >= hlen + 14:
            flags = data[l4 + 13]
    elif proto == IPPROTO_ICMP and total >= hlen + 8:
        if data[l4] in (ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST):
            sport = dport = int.from_bytes(data[l4 + 4:l4 + 6], "big")
        elif data[l4] in ICMP_ERROR_TYPES and total >= hlen + 8 + 28:
            q = l4 + 8                                        # the quoted datagram's header
            qlen, qproto = (data[q] & 0xF) * 4, data[q + 9]
            qsrc, qdst = int.from_bytes(data[q + 12:q + 16], "big"), int.from_bytes(data[q + 16:q + 20], "big")
            if qproto == IPPROTO_ICMP:                         # an echo: its identifier
                qs = qd = int.from_bytes(data[q + qlen + 4:q + qlen + 6], "big")
            else:
                qs, qd = int.from_bytes(data[q + qlen:q + qlen + 2], "big"), \
                    int.from_bytes(data[q + qlen + 2:q + qlen + 4], "big")
            quoted = (qproto, qsrc, qs, qdst, qd)
    return sport, dport, flags, quoted


"""Per-frame bytes from Scapy-built templates and a field engine (README design principle 5).

Scapy builds each header shape once — Ether/IPv4 for a protocol, DF and TOS, ARP for
an ethertype — with zero addresses, and a flow's template patches its own MACs and
addresses into a copy of those bytes (building through Scapy took about 5 ms a flow).
A template keeps the fixed parts of the bytes. ``build()`` then
packs the fields that change per frame (lengths, IP id, TTL, ICMP id/seq, ARP
target) between the fixed parts with one :class:`struct.Struct` call and computes
the checksums arithmetically (:mod:`netsim.wire.checksum`). Building with Scapy costs
hundreds of microseconds a frame; a template build costs about one.

``tests/wire/test_templates.py`` holds, for random field values, each template's
bytes equal to Scapy's own build of the same fields.
"""

from __future__ import annotations

import functools
import struct

from netsim.wire import scapy_layers
from netsim.wire.addr import ZERO_MAC, bytes_to_mac
from netsim.wire.checksum import fold, word_total
from netsim.wire.headers import ETHERTYPE_ARP, IPPROTO_ICMP, IPPROTO_UDP

_IP_DF = 0x4000


class _Ipv4Template:
    """Ether + IPv4 header of one flow; subclasses add the transport header.

    The IPv4 checksum is summed once over the header with its varying words zeroed;
    a frame's checksum is that base plus the varying words, folded (every 16-bit
    word position is worth 1 modulo 0xFFFF).
    """

    def __init__(self, eth_ip: bytes) -> None:
        # eth_ip: Scapy's bytes of Ether/IP(len=0, id=0, ttl=0, chksum=0)/...
        self._prefix = eth_ip[0:16]          # Ether + version/IHL + TOS
        self._frag = eth_ip[20:22]           # flags + fragment offset
        self._proto = eth_ip[23:24]
        self._addrs = eth_ip[26:34]          # source, destination
        self._ip_base = word_total(eth_ip[14:34])


def _eth_ip(src_mac: bytes, dst_mac: bytes, src_ip: int, dst_ip: int, proto: int, df: bool,
            tos: int = 0) -> bytes:
    """Ether/IP(len=0, id=0, ttl=0, chksum=0) bytes of one flow: its shape's, as Scapy
    built them, with the flow's MACs and addresses in their places."""
    shape = _ipv4_shape(proto, df, tos)
    return dst_mac + src_mac + shape[12:26] + struct.pack("!II", src_ip, dst_ip)


@functools.cache
def _ipv4_shape(proto: int, df: bool, tos: int) -> bytes:
    s = scapy_layers.load()
    return bytes(s.Ether(src=bytes_to_mac(ZERO_MAC), dst=bytes_to_mac(ZERO_MAC))
                 / s.IP(src="0.0.0.0", dst="0.0.0.0", proto=proto, tos=tos,
                        flags="DF" if df else 0, id=0, ttl=0, len=0, chksum=0))[:34]


class UdpTemplate(_Ipv4Template):
    """Ether/IPv4/UDP (RFC 768) datagrams of one flow."""

    _LAYOUT = struct.Struct("!16sHH2sBsH8sHHHH")

    def __init__(self, src_mac: bytes, dst_mac: bytes, src_ip: int, dst_ip: int,
                 sport: int, dport: int, *, df: bool = True, tos: int = 0) -> None:
        super().__init__(_eth_ip(src_mac, dst_mac, src_ip, dst_ip, IPPROTO_UDP, df, tos))
        self.sport, self.dport = sport, dport
        # Pseudo-header (RFC 768): addresses and protocol; ports from the UDP header.
        self._udp_base = word_total(self._addrs) + IPPROTO_UDP + sport + dport

    def build(self, payload: bytes, ip_id: int, ttl: int = 64) -> bytes:
        udp_len = 8 + len(payload)
        total = 20 + udp_len
        ip_csum = 0xFFFF - fold(self._ip_base + total + ip_id + (ttl << 8))
        udp_csum = 0xFFFF - fold(self._udp_base + 2 * udp_len + word_total(payload)) or 0xFFFF
        return self._LAYOUT.pack(self._prefix, total, ip_id, self._frag, ttl, self._proto,
                                 ip_csum, self._addrs, self.sport, self.dport,
                                 udp_len, udp_csum) + payload


class IcmpTemplate(_Ipv4Template):
    """Ether/IPv4/ICMP (RFC 792) messages of one flow and type.

    ``word1``/``word2`` are the second 32 bits of the ICMP header: identifier and
    sequence for echo, unused (0) or next-hop MTU for errors.
    """

    _LAYOUT = struct.Struct("!16sHH2sBsH8sBBHHH")

    def __init__(self, src_mac: bytes, dst_mac: bytes, src_ip: int, dst_ip: int,
                 icmp_type: int, code: int = 0, *, df: bool = True, tos: int = 0) -> None:
        super().__init__(_eth_ip(src_mac, dst_mac, src_ip, dst_ip, IPPROTO_ICMP, df, tos))
        self.type, self.code = icmp_type, code

    def build(self, word1: int, word2: int, payload: bytes, ip_id: int, ttl: int = 64) -> bytes:
        total = 28 + len(payload)
        ip_csum = 0xFFFF - fold(self._ip_base + total + ip_id + (ttl << 8))
        icmp_csum = 0xFFFF - fold((self.type << 8) + self.code + word1 + word2 + word_total(payload))
        return self._LAYOUT.pack(self._prefix, total, ip_id, self._frag, ttl, self._proto,
                                 ip_csum, self._addrs, self.type, self.code, icmp_csum,
                                 word1, word2) + payload


class ArpTemplate:
    """Ethernet ARP (RFC 826) or RARP (RFC 903, ethertype 0x8035) frames of one sender.

    The sender's hardware and protocol addresses are fixed; the destination MAC, the
    operation and the target addresses are patched per frame.
    """

    _LAYOUT = struct.Struct("!6s6s8sH10s6sI")

    def __init__(self, src_mac: bytes, src_ip: int, ethertype: int = ETHERTYPE_ARP) -> None:
        raw = _arp_shape(ethertype)
        self._src = src_mac
        self._type_and_fixed = raw[12:20]    # ethertype, htype, ptype, hlen, plen
        self._sender = src_mac + struct.pack("!I", src_ip)      # sha, spa

    def build(self, op: int, dst_mac: bytes, target_mac: bytes, target_ip: int) -> bytes:
        return self._LAYOUT.pack(dst_mac, self._src, self._type_and_fixed, op,
                                 self._sender, target_mac, target_ip)


@functools.cache
def _arp_shape(ethertype: int) -> bytes:
    s = scapy_layers.load()
    return bytes(s.Ether(src=bytes_to_mac(ZERO_MAC), dst=bytes_to_mac(ZERO_MAC), type=ethertype)
                 / s.ARP(op=1, hwsrc=bytes_to_mac(ZERO_MAC), psrc="0.0.0.0",
                         hwdst=bytes_to_mac(ZERO_MAC), pdst="0.0.0.0"))


class TcpTemplate(_Ipv4Template):
    """Ether/IPv4/TCP (RFC 9293) segments of one flow.

    The header without options is the Scapy-built shape; sequence and acknowledgment
    numbers, flags, window, options (already laid out, :func:`~netsim.wire.headers.tcp_options`)
    and payload are patched per segment. Each 32-bit number is worth its two 16-bit
    halves modulo 0xFFFF, so it enters the checksum whole.
    """

    _LAYOUT = struct.Struct("!16sHH2sBsH8sHHIIHHHH")

    def __init__(self, src_mac: bytes, dst_mac: bytes, src_ip: int, dst_ip: int,
                 sport: int, dport: int, *, df: bool = True) -> None:
        super().__init__(_eth_ip(src_mac, dst_mac, src_ip, dst_ip, 6, df))
        self.sport, self.dport = sport, dport
        self._tcp_base = word_total(self._addrs) + 6 + sport + dport

    def build(self, seq: int, ack: int, flags: int, window: int, payload: bytes,
              ip_id: int, ttl: int = 64, options: bytes = b"") -> bytes:
        tcp_len = 20 + len(options) + len(payload)
        total = 20 + tcp_len
        ip_csum = 0xFFFF - fold(self._ip_base + total + ip_id + (ttl << 8))
        offset_flags = ((5 + len(options) // 4) << 12) | flags
        tcp_csum = 0xFFFF - fold(self._tcp_base + tcp_len + seq + ack + offset_flags + window
                                 + (word_total(options) if options else 0) + word_total(payload))
        return self._LAYOUT.pack(self._prefix, total, ip_id, self._frag, ttl, self._proto, ip_csum,
                                 self._addrs, self.sport, self.dport, seq, ack, offset_flags,
                                 window, tcp_csum, 0) + options + payload

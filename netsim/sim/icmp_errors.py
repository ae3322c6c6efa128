"""ICMP errors as a host or router sends them (RFC 792, RFC 1122 §3.2.2, RFC 1812 §4.3.2),
and Linux's rate limit on them. A mixin of :class:`~netsim.sim.ipnode.IpNode`."""

from __future__ import annotations

from netsim.wire import headers as h
from netsim.wire.addr import BROADCAST_IP, int_to_ip

_ICMP_ERROR_TYPES = h.ICMP_ERROR_TYPES
#: The largest ICMP error datagram (RFC 1812 §4.3.2.3).
ICMP_ERROR_MAX = 576
#: Linux's net.ipv4.icmp_ratelimit (1000 ms) and XRLIM_BURST_FACTOR.
ICMP_RATELIMIT = 1.0
ICMP_BURST = 6


class IcmpErrors:
    def _icmp_error(self, data: bytes, hlen: int, total: int, src: int, iface, icmp_type: int,
                    code: int, word2: int = 0) -> None:
        """Answer a datagram with an ICMP error (RFC 792), unless RFC 1122 §3.2.2 forbids
        it (errors about errors, broadcasts, 0.0.0.0) or the rate limit holds it back."""
        if src == 0 or src == BROADCAST_IP or data[0] & 1:
            return
        if data[23] == h.IPPROTO_ICMP and len(data) > 14 + hlen and data[14 + hlen] in _ICMP_ERROR_TYPES:
            return
        if not self._icmp_allowed(src, icmp_type, code):
            self.trace.note(self.env.now, self.name, "icmp-rate-limited", dst=int_to_ip(src),
                            type=icmp_type, code=code)
            return
        # From the interface the error leaves by (RFC 1812 §4.3.2.4; Linux's default
        # icmp_errors_use_inbound_ifaddr=0): send_icmp picks it from the route back.
        source = None
        if iface is not None and iface.loopback:
            source = int.from_bytes(data[30:34], "big")    # the address it was sent to
        # RFC 1812 §4.3.2.3: as much of the datagram as fits in 576 bytes (Linux does so).
        self.send_icmp(src, icmp_type, code, 0, word2, data[14:14 + min(total, ICMP_ERROR_MAX - 28)],
                       src=source, error=True)

    def _icmp_allowed(self, dst: int, icmp_type: int, code: int) -> bool:
        """Linux's per-destination token bucket (inet_peer_xrlim_allow): a token every
        ``net.ipv4.icmp_ratelimit`` (1 s), at most 6 saved (XRLIM_BURST_FACTOR), for the
        error types of ``icmp_ratemask`` — never for "fragmentation needed", which path-MTU
        discovery depends on."""
        if icmp_type == h.ICMP_DEST_UNREACH and code == h.UNREACH_FRAG_NEEDED:
            return True
        now = self.env.now
        tokens, last = self._icmp_tokens.get(dst, (ICMP_BURST * ICMP_RATELIMIT, now))
        tokens = min(ICMP_BURST * ICMP_RATELIMIT, tokens + (now - last))
        allowed = tokens >= ICMP_RATELIMIT
        self._icmp_tokens[dst] = (tokens - ICMP_RATELIMIT if allowed else tokens, now)
        return allowed

"""DNS as the rest of netsim knows it (RFC 1035): port 53 over UDP and over TCP, each
message labelled in one line (``DNS query A www.example.com``, ``DNS referral: com NS
a.gtld-servers.net``) and drawn as one message at the application level."""

from __future__ import annotations

from netsim.wire.dns_text import dns_line
from netsim.wire.registry import EACH_FRAME, Protocol, register


def dns_over_tcp_line(payload: bytes) -> str | None:
    """A segment that starts a DNS message over TCP: a two-byte length, then the
    message (RFC 1035 §4.2.2)."""
    if len(payload) <= 2:
        return None
    line = dns_line(payload[2:2 + int.from_bytes(payload[:2], "big")])
    return None if line is None else line + " (TCP)"


DNS = register(Protocol("DNS", "#17a589", udp_ports=(53,), tcp_ports=(53,), datagram_label=dns_line,
                        stream_label=dns_over_tcp_line, messages=EACH_FRAME, tshark="DNS"))

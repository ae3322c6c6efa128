"""QUIC as the rest of netsim knows it (RFC 9000 §17): datagrams on UDP 443, labelled by
the packets each carries, from their cleartext headers alone — ``QUIC Initial``,
``QUIC Initial, Handshake`` (packets coalesced in one datagram, §12.2), ``QUIC 0-RTT``,
``QUIC 1-RTT (1,350 B)`` for a short-header packet, whose frames (HTTP/3's among them)
only the key log can open. The diagrams draw each datagram; tshark, given keys.log,
shows the HTTP/3 inside."""

from netsim.wire.registry import EACH_FRAME, Protocol, register

_LONG_TYPES = {0: "Initial", 1: "0-RTT", 2: "Handshake", 3: "Retry"}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A QUIC variable-length integer (RFC 9000 §16) at ``at``: (value, next offset)."""
    size = 1 << (data[at] >> 6)
    value = data[at] & 0x3F
    for byte in data[at + 1:at + size]:
        value = (value << 8) | byte
    return value, at + size


def quic_label(payload: bytes) -> str | None:
    """The packets of one datagram, or None when it is not QUIC version 1."""
    names, at = [], 0
    try:
        while at < len(payload):
            first = payload[at]
            if not first & 0x40:
                if names:
                    break                             # the datagram's padding after its packets
                return None                           # the fixed bit (RFC 9000 §17.2)
            if not first & 0x80:
                names.append(f"1-RTT ({len(payload):,} B)")
                break
            if payload[at + 1:at + 5] != b"\x00\x00\x00\x01":
                return None
            kind = _LONG_TYPES[(first >> 4) & 0x3]
            names.append(kind)
            if kind == "Retry":
                break
            at += 5
            at += 1 + payload[at]                      # destination connection ID
            at += 1 + payload[at]                      # source connection ID
            if kind == "Initial":
                token, at = _varint(payload, at)
                at += token
            length, at = _varint(payload, at)
            at += length
    except IndexError:                                # a header cut short
        return None
    return "QUIC " + ", ".join(names) if names else None


QUIC = register(Protocol("QUIC", "#7d3c98", words=("quic", "http3", "h3"), udp_ports=(443,),
                         datagram_label=quic_label, messages=EACH_FRAME, tshark="QUIC"))

"""DHCP messages in one line, as a textbook draws them: ``DHCPDISCOVER``,
``DHCPOFFER 10.0.1.50``, ``DHCPREQUEST 10.0.1.50``, ``DHCPACK 10.0.1.50``
(RFC 2131 §2: the address is ``yiaddr``, or the requested address, option 50)."""

from __future__ import annotations

from netsim.wire.addr import int_to_ip

_NAMES = {1: "DHCPDISCOVER", 2: "DHCPOFFER", 3: "DHCPREQUEST", 4: "DHCPDECLINE", 5: "DHCPACK",
          6: "DHCPNAK", 7: "DHCPRELEASE", 8: "DHCPINFORM"}
_COOKIE = b"\x63\x82\x53\x63"


def dhcp_line(payload: bytes) -> str | None:
    """The line for a DHCP message, or None when the bytes are not one."""
    if len(payload) < 240 or payload[236:240] != _COOKIE:
        return None
    options: dict[int, bytes] = {}
    i = 240
    while i + 1 < len(payload) and payload[i] != 255:
        if payload[i] == 0:
            i += 1
            continue
        options[payload[i]] = payload[i + 2:i + 2 + payload[i + 1]]
        i += 2 + payload[i + 1]
    kind = options.get(53, b"")
    if len(kind) != 1 or kind[0] not in _NAMES:
        return None
    address = int.from_bytes(payload[16:20], "big")                 # yiaddr
    if not address and len(options.get(50, b"")) == 4:
        address = int.from_bytes(options[50], "big")                # requested address
    if not address:
        address = int.from_bytes(payload[12:16], "big")             # ciaddr
    relayed = " (relayed)" if payload[24:28] != b"\0\0\0\0" else ""
    shown = f" {int_to_ip(address)}" if address else ""
    return f"{_NAMES[kind[0]]}{shown}{relayed}"

"""DHCP messages (RFC 2131 §2, Figure 1) and the options netsim uses (RFC 2132).

A message is BOOTP's fixed 236 bytes, the magic cookie 99.130.83.99, then options
as code, length, value, ending with 255. Parsing is strict: whatever does not fit
raises :class:`DhcpError`, which the caller turns into a dropped datagram.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

from netsim.wire.addr import int_to_ip

SERVER_PORT, CLIENT_PORT = 67, 68
BOOTREQUEST, BOOTREPLY = 1, 2
MAGIC = b"\x63\x82\x53\x63"
BROADCAST_FLAG = 0x8000

# Message types (option 53), RFC 2132 §9.6.
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
TYPE_NAMES = {DISCOVER: "DHCPDISCOVER", OFFER: "DHCPOFFER", REQUEST: "DHCPREQUEST",
              DECLINE: "DHCPDECLINE", ACK: "DHCPACK", NAK: "DHCPNAK", RELEASE: "DHCPRELEASE",
              INFORM: "DHCPINFORM"}

# Option codes, RFC 2132.
SUBNET_MASK, ROUTER, DNS_SERVERS, DOMAIN_NAME = 1, 3, 6, 15
REQUESTED_IP, LEASE_TIME, MESSAGE_TYPE, SERVER_ID = 50, 51, 53, 54
PARAMETER_LIST, MESSAGE, RENEWAL_T1, REBINDING_T2, CLIENT_ID = 55, 56, 58, 59, 61
PAD, END = 0, 255

_FIXED = struct.Struct("!BBBBIHHIIII16s64s128s")     # 236 bytes: op … file


class DhcpError(ValueError):
    """Bytes that are not a DHCP message."""


@dataclass(frozen=True)
class DhcpMessage:
    op: int
    xid: int
    chaddr: bytes                       # the client's MAC (6 bytes)
    msg_type: int
    ciaddr: int = 0                     # the client's address, when it has one
    yiaddr: int = 0                     # "your" address: what the server gives
    siaddr: int = 0
    giaddr: int = 0                     # the relay agent's address (RFC 1542)
    flags: int = 0
    hops: int = 0
    secs: int = 0
    #: Other options: code → raw bytes.
    options: dict[int, bytes] = field(default_factory=dict)

    # -- typed views of the options ----------------------------------------------------

    def address(self, code: int) -> int | None:
        value = self.options.get(code)
        return int.from_bytes(value[:4], "big") if value and len(value) >= 4 else None

    def addresses(self, code: int) -> list[int]:
        value = self.options.get(code, b"")
        return [int.from_bytes(value[i:i + 4], "big") for i in range(0, len(value) - 3, 4)]

    def seconds(self, code: int) -> int | None:
        value = self.options.get(code)
        return int.from_bytes(value, "big") if value and len(value) == 4 else None

    def text(self, code: int) -> str | None:
        value = self.options.get(code)
        return value.decode("ascii", "replace") if value is not None else None

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.msg_type, f"DHCP type {self.msg_type}")

    def with_(self, **changes) -> "DhcpMessage":
        return replace(self, **changes)

    # -- bytes ------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        fixed = _FIXED.pack(self.op, 1, 6, self.hops, self.xid, self.secs, self.flags,
                            self.ciaddr, self.yiaddr, self.siaddr, self.giaddr,
                            self.chaddr.ljust(16, b"\0"), b"", b"")
        opts = [bytes((MESSAGE_TYPE, 1, self.msg_type))]
        for code, value in self.options.items():
            for i in range(0, max(len(value), 1), 255):     # RFC 3396: long options split
                chunk = value[i:i + 255]
                opts.append(bytes((code, len(chunk))) + chunk)
        message = fixed + MAGIC + b"".join(opts) + bytes((END,))
        # RFC 2131 §2: BOOTP relay agents expect at least 300 bytes (RFC 1542 §2.1).
        return message.ljust(300, b"\0")

    @classmethod
    def from_bytes(cls, data: bytes) -> "DhcpMessage":
        if len(data) < _FIXED.size + 4:
            raise DhcpError(f"{len(data)} bytes is shorter than a DHCP message (240)")
        (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr,
         _sname, _file) = _FIXED.unpack_from(data)
        if op not in (BOOTREQUEST, BOOTREPLY):
            raise DhcpError(f"op {op} is neither BOOTREQUEST nor BOOTREPLY")
        if htype != 1 or hlen != 6:
            raise DhcpError(f"hardware type {htype}/length {hlen} is not Ethernet")
        if data[_FIXED.size:_FIXED.size + 4] != MAGIC:
            raise DhcpError("no DHCP magic cookie (plain BOOTP)")
        options: dict[int, bytes] = {}
        i = _FIXED.size + 4
        while i < len(data):
            code = data[i]
            if code == END:
                break
            if code == PAD:
                i += 1
                continue
            if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
                raise DhcpError(f"option {code} runs past the end of the message")
            length = data[i + 1]
            options[code] = options.get(code, b"") + data[i + 2:i + 2 + length]
            i += 2 + length
        else:
            raise DhcpError("options do not end with the END option (255)")
        kind = options.pop(MESSAGE_TYPE, b"")
        if len(kind) != 1 or kind[0] not in TYPE_NAMES:
            raise DhcpError("no valid DHCP message type (option 53)")
        return cls(op, xid, chaddr[:6], kind[0], ciaddr, yiaddr, siaddr, giaddr, flags, hops,
                   secs, options)

    def summary(self) -> str:
        """``DHCPOFFER 10.0.1.50`` — what a diagram labels it with."""
        shown = self.yiaddr or self.address(REQUESTED_IP) or self.ciaddr
        return f"{self.type_name} {int_to_ip(shown)}" if shown else self.type_name


def ip_option(*addresses: int) -> bytes:
    return b"".join(a.to_bytes(4, "big") for a in addresses)


def seconds_option(seconds: int) -> bytes:
    return int(seconds).to_bytes(4, "big")

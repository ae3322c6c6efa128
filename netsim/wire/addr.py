"""MAC and IPv4 addresses as the simulator keeps them: 6-byte ``bytes`` and ``int``."""

from __future__ import annotations

import ipaddress
import socket
import struct

BROADCAST_MAC = b"\xff" * 6
ZERO_MAC = b"\x00" * 6
BROADCAST_IP = 0xFFFFFFFF


def mac_to_bytes(mac: str | bytes) -> bytes:
    """``'02:00:00:00:00:01'`` → 6 bytes; bytes pass through after a length check."""
    if isinstance(mac, bytes):
        if len(mac) != 6:
            raise ValueError(f"a MAC address has 6 bytes, got {len(mac)}")
        return mac
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise ValueError(f"expected a MAC address such as '02:00:00:00:00:01', got {mac!r}")
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise ValueError(f"expected a MAC address such as '02:00:00:00:00:01', got {mac!r}") from None


def bytes_to_mac(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


_parsed: dict[str, int] = {}


def ip_to_int(ip: str | int) -> int:
    """``'10.0.0.1'`` → ``0x0A000001`` (strict dotted quad; parsed once per string)."""
    if isinstance(ip, int):
        return ip
    value = _parsed.get(ip)
    if value is None:
        value = struct.unpack("!I", socket.inet_aton(str(ipaddress.IPv4Address(ip))))[0]
        if len(_parsed) < 65536:
            _parsed[ip] = value
    return value


_formatted: dict[int, str] = {}


def int_to_ip(value: int) -> str:
    # A receiving socket names its peer per datagram: a run has few addresses, so each is
    # formatted once (bounded, as _parsed is).
    text = _formatted.get(value)
    if text is None or value.__class__ is not int:      # 1.0 == 1: a float is no address
        text = socket.inet_ntoa(struct.pack("!I", value))
        if len(_formatted) < 65536:
            _formatted[value] = text
    return text


def prefix_mask(prefix_len: int) -> int:
    return (0xFFFFFFFF << (32 - prefix_len)) & 0xFFFFFFFF if prefix_len else 0

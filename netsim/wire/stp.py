"""Spanning Tree BPDUs (IEEE 802.1D-1998 §9): 802.3 frames with an LLC header.

A configuration BPDU is 35 bytes behind ``DSAP 0x42 SSAP 0x42 UI``, sent to the
bridge group address 01:80:C2:00:00:00, which bridges never forward. Scapy builds
the header of each port's BPDUs once (``Dot3/LLC``); the body is packed with
:mod:`struct` per BPDU — a property test holds it equal to Scapy's ``STP`` layer.
Times travel in 1/256 s.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from netsim.errors import FrameError

BRIDGE_GROUP = bytes.fromhex("0180c2000000")
CONFIG, TCN = 0x00, 0x80
FLAG_TC, FLAG_TCA = 0x01, 0x80
_LLC = b"\x42\x42\x03"
_CONFIG = struct.Struct("!HBBBQIQHHHHH")     # 35 bytes: protocol … forward delay


class Bpdu(NamedTuple):
    """The fields of a configuration BPDU; bridge ids are priority << 48 | MAC."""
    root: int
    cost: int
    bridge: int
    port: int
    age: float = 0.0
    max_age: float = 20.0
    hello: float = 2.0
    forward_delay: float = 15.0
    flags: int = 0


def bridge_id(priority: int, mac: bytes) -> int:
    return priority << 48 | int.from_bytes(mac, "big")


def format_bridge(bid: int) -> str:
    """``32768/02:00:00:00:00:01``, as 802.1D tools print a bridge id."""
    mac = (bid & 0xFFFFFFFFFFFF).to_bytes(6, "big")
    return f"{bid >> 48}/" + ":".join(f"{b:02x}" for b in mac)


class BpduTemplate:
    """A port's BPDU frames: the 802.3 + LLC header from Scapy, the body packed per BPDU."""

    def __init__(self, src_mac: bytes) -> None:
        from netsim.wire import scapy_layers
        layers = scapy_layers.load()
        header = bytes(layers.Dot3(dst="01:80:c2:00:00:00", src=src_mac, len=3 + _CONFIG.size)
                       / layers.LLC(dsap=0x42, ssap=0x42, ctrl=3))
        self._header = header

    def build(self, bpdu: Bpdu) -> bytes:
        body = _CONFIG.pack(0, 0, CONFIG, bpdu.flags, bpdu.root, bpdu.cost, bpdu.bridge, bpdu.port,
                            _ticks(bpdu.age), _ticks(bpdu.max_age), _ticks(bpdu.hello),
                            _ticks(bpdu.forward_delay))
        frame = self._header + body
        return frame + bytes(60 - len(frame))          # padded as a NIC pads


def _ticks(seconds: float) -> int:
    return max(0, min(0xFFFF, round(seconds * 256)))


def is_bpdu(data: bytes) -> bool:
    return data[0:6] == BRIDGE_GROUP


def parse_bpdu(data: bytes) -> Bpdu | None:
    """The configuration BPDU in a frame to the bridge group address; ``None`` for a
    topology change notification; :class:`FrameError` for anything malformed."""
    if len(data) < 14 + 3 + 4:
        raise FrameError(f"a {len(data)}-byte frame is too short for a BPDU")
    length = int.from_bytes(data[12:14], "big")
    if length >= 0x600:
        raise FrameError(f"a BPDU travels in an 802.3 frame, not under EtherType {length:#06x}")
    if data[14:17] != _LLC:
        raise FrameError(f"LLC {data[14:17].hex()} is not the spanning tree's 42 42 03")
    protocol, _version, kind = struct.unpack_from("!HBB", data, 17)
    if protocol != 0:
        raise FrameError(f"BPDU protocol identifier {protocol} is not 0")
    if kind == TCN:
        return None
    if kind != CONFIG or len(data) < 17 + _CONFIG.size or length < 3 + _CONFIG.size:
        raise FrameError(f"BPDU type {kind:#04x} of {len(data)} bytes is not a configuration BPDU")
    (_p, _v, _t, flags, root, cost, bridge, port, age, max_age, hello,
     delay) = _CONFIG.unpack_from(data, 17)
    return Bpdu(root, cost, bridge, port, age / 256, max_age / 256, hello / 256, delay / 256, flags)

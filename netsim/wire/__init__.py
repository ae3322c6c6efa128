"""Frames: the bytes that cross a link, and the only package that imports Scapy.

Scapy defines every header layout; it is imported lazily (``scapy_layers.load()``)
so that ``import netsim`` and ``netsim --help`` stay fast. Per-frame bytes come from
Scapy-built templates patched by a field engine (:mod:`netsim.wire.templates`);
forwarding reads fixed headers with :mod:`struct` (:mod:`netsim.wire.headers`).
"""

from netsim.wire.addr import BROADCAST_MAC, ip_to_int, int_to_ip, mac_to_bytes, bytes_to_mac
from netsim.wire.frame import Frame

__all__ = ["BROADCAST_MAC", "Frame", "bytes_to_mac", "int_to_ip", "ip_to_int", "mac_to_bytes"]

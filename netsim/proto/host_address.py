"""Whether an address a server hands out (DHCP's yiaddr, RARP's reply) can be a host's
own: RFC 1122 §3.2.1.3 and RFC 3021.

A host cannot take 0.0.0.0/8 ("this network"), 127.0.0.0/8 (loopback), a class D or E
address (multicast, reserved, the limited broadcast), nor — on a subnet with room for
hosts (a prefix up to /30) — its subnet's network or broadcast address; and a subnet
mask must be ones then zeros, or it is no prefix. A client given such an address by a
misconfigured or forged server refuses it instead of configuring it.
"""

from __future__ import annotations


def mask_prefix(mask: int) -> int | None:
    """The prefix length of a subnet mask, or None for one that is not ones then zeros."""
    inverted = ~mask & 0xFFFFFFFF
    if inverted & (inverted + 1):
        return None
    return 32 - inverted.bit_length()


def unusable(address: int, prefix_len: int) -> str | None:
    """Why ``address``/``prefix_len`` cannot be a host's address, or None."""
    if address >> 24 in (0, 127) or address >> 28 >= 0xE:
        return "not a unicast host address"
    host_bits = (1 << (32 - prefix_len)) - 1
    if prefix_len < 31 and (address & host_bits) in (0, host_bits):
        return f"it is the network or broadcast address of its /{prefix_len}"
    return None

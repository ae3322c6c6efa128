"""The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

The ones'-complement sum of 16-bit words is congruent to the whole big-endian byte
string read as one integer, modulo 0xFFFF, because 2**16 ≡ 1 (mod 0xFFFF). So
``int.from_bytes(data) % 0xFFFF`` computes the sum in C, far faster than a Python
loop over words; :func:`fold` restores the one case where the two differ (a nonzero
sum that is a multiple of 0xFFFF folds to 0xFFFF, not 0).
"""

from __future__ import annotations


def fold(total: int) -> int:
    """The end-around-carry folded ones'-complement sum of ``total``."""
    folded = total % 0xFFFF
    if folded == 0 and total:
        return 0xFFFF
    return folded


def word_total(data: bytes) -> int:
    """An integer whose fold equals the 16-bit word sum of ``data`` (odd length padded)."""
    total = int.from_bytes(data, "big")
    return total << 8 if len(data) & 1 else total


def internet_checksum(data: bytes) -> int:
    """RFC 1071 checksum of ``data`` (checksum field already zero)."""
    return 0xFFFF - fold(word_total(data))


def update_checksum(checksum: int, old_word: int, new_word: int) -> int:
    """RFC 1624 eqn. 3: ``HC' = ~(~HC + ~m + m')`` when one 16-bit word changes."""
    s = (~checksum & 0xFFFF) + (~old_word & 0xFFFF) + new_word
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

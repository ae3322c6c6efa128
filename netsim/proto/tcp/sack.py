"""Selective acknowledgments: the blocks a receiver reports (RFC 2018 §4) and the
sender's scoreboard with RFC 6675's loss detection and pipe.

Sequence numbers are the connection's unwrapped ones.
"""

from __future__ import annotations

#: RFC 6675's DupThresh.
DUP_THRESH = 3


def receiver_blocks(held: list[tuple[int, int]], latest: int | None, limit: int) -> list[tuple[int, int]]:
    """The SACK blocks for an ACK: the contiguous ranges held beyond a gap (``held``:
    (start, end) pairs), the one holding the most recently received segment first
    (RFC 2018 §4), then the others highest first, at most ``limit``."""
    merged: list[list[int]] = []
    for start, end in sorted(held):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    blocks = [tuple(b) for b in merged]
    first = next((b for b in blocks if latest is not None and b[0] <= latest < b[1]), None)
    ordered = ([first] if first else []) + sorted((b for b in blocks if b != first), reverse=True)
    return ordered[:limit]


class Scoreboard:
    """What the peer has SACKed above SND.UNA, and the retransmissions of one recovery."""

    def __init__(self) -> None:
        self.sacked: list[tuple[int, int]] = []          # disjoint, sorted
        self.high_rxt = 0                                 # RFC 6675's HighRxt

    def clear(self) -> None:
        self.sacked.clear()
        self.high_rxt = 0

    def update(self, blocks, snd_una: int, snd_max: int) -> bool:
        """Add reported blocks (unwrapped, D-SACKs and blocks outside the window ignored);
        drop what SND.UNA passed. True if anything new was SACKed."""
        before = self.sacked_bytes
        for start, end in blocks:
            if snd_una < end <= snd_max and start < end:
                self._add(max(start, snd_una), end)
        self.sacked = [(max(a, snd_una), b) for a, b in self.sacked if b > snd_una]
        return self.sacked_bytes > before

    def _add(self, start: int, end: int) -> None:
        out, placed = [], False
        for a, b in self.sacked:
            if b < start or a > end:
                out.append((a, b))
            else:
                start, end = min(a, start), max(b, end)
        for i, (a, _b) in enumerate(out):
            if a > start:
                out.insert(i, (start, end))
                placed = True
                break
        if not placed:
            out.append((start, end))
        self.sacked = out

    @property
    def sacked_bytes(self) -> int:
        return sum(b - a for a, b in self.sacked)

    @property
    def highest_sacked(self) -> int | None:
        return self.sacked[-1][1] if self.sacked else None

    def sacked_above(self, seq: int) -> int:
        return sum(b - max(a, seq) for a, b in self.sacked if b > seq)

    def is_lost(self, seq: int, smss: int) -> bool:
        """RFC 6675 §4 IsLost: DupThresh segments' worth SACKed above it."""
        return self.sacked_above(seq) >= DUP_THRESH * smss

    def holes(self, snd_una: int, snd_max: int):
        """The unSACKed ranges between SND.UNA and SND.MAX, in order."""
        at = snd_una
        for a, b in self.sacked:
            if a > at:
                yield at, a
            at = max(at, b)
        if at < snd_max:
            yield at, snd_max

    def pipe(self, snd_una: int, snd_max: int, smss: int) -> int:
        """RFC 6675 §4 SetPipe: bytes still in the network — unSACKed and not lost, plus
        lost ones already sent again."""
        total = 0
        for a, b in self.holes(snd_una, snd_max):
            if self.is_lost(a, smss):
                total += max(0, min(b, self.high_rxt) - a)
            else:
                total += b - a
        return total

    def next_lost(self, snd_una: int, snd_max: int, smss: int) -> tuple[int, int] | None:
        """RFC 6675 NextSeg rule 1: the first lost, unSACKed, not yet resent range
        (at most one segment) below the highest SACKed byte."""
        highest = self.highest_sacked
        for a, b in self.holes(snd_una, snd_max):
            start = max(a, self.high_rxt)
            if highest is None or start >= min(b, highest):
                continue
            if self.is_lost(start, smss):
                return start, min(b, highest, start + smss)
        return None

"""Grammar-aware mutations of a recorded exchange: what broken and malicious peers send.

Each mutation takes one side's bytes of one turn and a random source (Hypothesis's, so
failures shrink and replay) and returns new bytes — or changes the turns themselves
(a reply sent twice, two replies swapped, the conversation cut short). They know the
shapes the text protocols share: numbers (status codes, lengths, sizes, ports),
lines and their CRLF, brackets and nesting, header fields.
"""

from __future__ import annotations

import re

NUMBERS = [b"0", b"-1", b"65536", b"4294967296", b"9" * 30, b"9" * 400, b"1e9", b"0x1f", b"",
           "²²²".encode(), "٣٤".encode(), b"+5", b" 7", b"1.5"]
NESTING = [b"(" * 3000, b"[" * 3000, b"{" * 3000, b"<a>" * 3000, b'{"a":' * 3000, b"((" + b")" * 5]
JUNK = [b"\x00", b"\xff\xfe\xfd", b"\r", b"\n", b"\r\n", b"\r\n\r\n", b"\x1b[2J", "é∞".encode(),
        b"%s%n", b"\x80" * 40, b" " * 5000, b"A" * 100_000]
_NUMBER = re.compile(rb"\d+")
_LINE_END = re.compile(rb"\r?\n")


def change_number(data: bytes, draw) -> bytes:
    spots = list(_NUMBER.finditer(data))
    if not spots:
        return data + draw.sampled(NUMBERS)
    spot = draw.sampled(spots)
    return data[:spot.start()] + draw.sampled(NUMBERS) + data[spot.end():]


def nest(data: bytes, draw) -> bytes:
    at = draw.index(len(data) + 1)
    return data[:at] + draw.sampled(NESTING) + data[at:]


def junk(data: bytes, draw) -> bytes:
    at = draw.index(len(data) + 1)
    how = draw.sampled(["insert", "replace", "append"])
    piece = draw.sampled(JUNK)
    if how == "insert":
        return data[:at] + piece + data[at:]
    if how == "replace":
        return data[:at] + piece + data[at + len(piece):]
    return data + piece


def line_ends(data: bytes, draw) -> bytes:
    how = draw.sampled(["bare LF", "none", "bare CR", "doubled"])
    new = {"bare LF": b"\n", "none": b"", "bare CR": b"\r", "doubled": b"\r\n\r\n"}[how]
    return _LINE_END.sub(new, data)


def truncate(data: bytes, draw) -> bytes:
    return data[:draw.index(len(data) + 1)]


def long_field(data: bytes, draw) -> bytes:
    """One header or argument made very long (no line end inside)."""
    lines = data.split(b"\n")
    k = draw.index(len(lines))
    lines[k] = lines[k].rstrip(b"\r") + b"x" * draw.sampled([300, 5000, 70_000]) + (
        b"\r" if lines[k].endswith(b"\r") else b"")
    return b"\n".join(lines)


def swap_lines(data: bytes, draw) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 3:
        return data + data
    i, j = draw.index(len(lines) - 1), draw.index(len(lines) - 1)
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


BYTE_MUTATIONS = {"number": change_number, "nesting": nest, "junk": junk, "line-ends": line_ends,
                  "truncate": truncate, "long-field": long_field, "swap-lines": swap_lines}
TURN_MUTATIONS = ("repeat", "swap", "stop-early", "unsolicited")


def mutate(turns: list, side: str, draw) -> tuple[list, str]:
    """``turns`` with one of ``side``'s turns mutated; returns (turns, what was done)."""
    mine = [k for k, (who, _data) in enumerate(turns) if who == side]
    if not mine:
        return turns, "nothing of this side to mutate"
    turns = list(turns)
    k = draw.sampled(mine)
    kind = draw.sampled(sorted(BYTE_MUTATIONS) + list(TURN_MUTATIONS))
    if kind in BYTE_MUTATIONS:
        turns[k] = (side, BYTE_MUTATIONS[kind](turns[k][1], draw))
    elif kind == "repeat":
        turns.insert(k, turns[k])
    elif kind == "swap" and len(mine) > 1:
        j = draw.sampled(mine)
        turns[k], turns[j] = turns[j], turns[k]
    elif kind == "stop-early":
        turns = turns[:k + 1]
    elif kind == "unsolicited":
        # The same bytes again, long after the exchange, on a quiet connection.
        turns.append(("pause", b""))
        turns.append((side, turns[k][1]))
    return turns, f"{kind} in turn {k}"


class Draw:
    """Hypothesis's ``data.draw`` behind two small verbs."""

    def __init__(self, data, strategies) -> None:
        self.data, self.st = data, strategies

    def sampled(self, items):
        return self.data.draw(self.st.sampled_from(list(items)))

    def index(self, size: int) -> int:
        return self.data.draw(self.st.integers(0, max(0, size - 1)))

"""IMAP's data syntax (RFC 3501 §4, §9): atoms, quoted strings, literals, NIL and
parenthesized lists — read into Python values and written back out."""

from __future__ import annotations

import re

_ATOM = re.compile(rb"[^\s()\"{]+(?:\[[^\]]*\](?:<[0-9.]+>)?)?")


class ImapSyntaxError(ValueError):
    pass


def parse(data: bytes) -> list:
    """``b'1 FETCH (FLAGS (\\\\Seen) BODY[] {5}\\r\\nhello)'`` → ``['1', 'FETCH',
    ['FLAGS', ['\\\\Seen'], 'BODY[]', b'hello']]``: atoms and quoted strings as str,
    literals as bytes, NIL as None."""
    values, i = _parse_list(data, 0, None)
    return values


def _parse_list(data: bytes, i: int, closer: bytes | None) -> tuple[list, int]:
    out: list = []
    while i < len(data):
        c = data[i:i + 1]
        if c in (b" ", b"\r", b"\n"):
            i += 1
        elif c == b"(":
            inner, i = _parse_list(data, i + 1, b")")
            out.append(inner)
        elif c == b")":
            if closer != b")":
                raise ImapSyntaxError("unbalanced ')'")
            return out, i + 1
        elif c == b'"':
            j, text = i + 1, bytearray()
            while j < len(data) and data[j:j + 1] != b'"':
                if data[j:j + 1] == b"\\":
                    j += 1
                text += data[j:j + 1]
                j += 1
            if j >= len(data):
                raise ImapSyntaxError("unterminated quoted string")
            out.append(text.decode("utf-8", "replace"))
            i = j + 1
        elif c == b"{":
            end = data.find(b"}", i)
            if end < 0 or not data[i + 1:end].isdigit():
                raise ImapSyntaxError("bad literal")
            size = int(data[i + 1:end])
            start = end + 1
            if data[start:start + 2] == b"\r\n":
                start += 2
            out.append(bytes(data[start:start + size]))
            i = start + size
        else:
            match = _ATOM.match(data, i)
            if match is None:
                raise ImapSyntaxError(f"unexpected {c!r}")
            atom = match.group().decode("utf-8", "replace")
            out.append(None if atom.upper() == "NIL" else atom)
            i = match.end()
    if closer is not None:
        raise ImapSyntaxError("unbalanced '('")
    return out, i


def quote(value) -> bytes:
    """A Python value as IMAP data: None → NIL, str → quoted, bytes → literal, list → ( )."""
    if value is None:
        return b"NIL"
    if isinstance(value, bytes):
        return b"{%d}\r\n" % len(value) + value
    if isinstance(value, (list, tuple)):
        return b"(" + b" ".join(quote(v) for v in value) + b")"
    if isinstance(value, int):
        return str(value).encode()
    text = str(value)
    if "\r" in text or "\n" in text:
        return quote(text.encode())
    return b'"' + text.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


def sequence_set(spec: str, count: int) -> list[int]:
    """``'1:3,5'``, ``'2:*'`` → message numbers that exist (RFC 3501 §9 sequence-set)."""
    numbers: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition(":")
        try:
            a = count if first == "*" else int(first)
            b = a if not last else (count if last == "*" else int(last))
        except ValueError:
            raise ImapSyntaxError(f"bad sequence set {spec!r}") from None
        lo, hi = min(a, b), max(a, b)
        if lo < 1:
            raise ImapSyntaxError(f"bad sequence set {spec!r}")
        numbers += [n for n in range(lo, min(hi, count) + 1) if n not in numbers]
    return numbers


def complete(buffer: bytearray) -> bytes | None:
    """Take one whole response or command from ``buffer`` — a line, and with each
    literal it announces, the literal's bytes and the rest of the line — or None."""
    i = 0
    while True:
        end = buffer.find(b"\r\n", i)
        if end < 0:
            return None
        line = buffer[i:end]
        match = re.search(rb"\{(\d+)\}$", line)
        if match is None:
            data = bytes(buffer[:end + 2])
            del buffer[:end + 2]
            return data
        i = end + 2 + int(match.group(1))
        if len(buffer) < i:
            return None

"""IMAP's data syntax (RFC 3501 §4, §9): atoms, quoted strings, literals, NIL and
parenthesized lists — cut from a stream, read into Python values and written back out.

Both are a peer's bytes, so both are bounded: :class:`ImapReader` keeps at most
``line_limit`` bytes of a line and ``literal_limit`` of a literal, and :func:`parse` is
a loop with an explicit stack (three thousand ``(`` are a syntax error, not Python's
recursion limit) that refuses more than ``max_lists`` lists, as Dovecot's parser does
(``Too many '('``; before LOGIN it allows one). The error texts are Dovecot's.
"""

from __future__ import annotations

import re

#: An atom, with any bracketed parts whole: ``\\Seen``, ``[Gmail]/Sent``, and a FETCH
#: attribute such as ``BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>`` whose section holds
#: spaces and parentheses (RFC 3501 §9: section, partial).
_ATOM = re.compile(rb"(?:[^\s()\"{\[]|\[[^\]]*\])+(?:<[0-9.]+>)?")
_LITERAL = re.compile(rb"\{([0-9]+)(\+?)\}", re.ASCII)
_LITERAL_AT_END = re.compile(rb"\{([0-9]+)(\+?)\}\r?$", re.ASCII)
#: More digits than any limit here: ``int()`` is not asked to read them.
_MAX_DIGITS = 12
#: A command whose literal is a message (RFC 3501 §6.3.11).
_APPEND = re.compile(rb"[^ \r\n]+ (?:APPEND) ", re.IGNORECASE)


class ImapSyntaxError(ValueError):
    """Bytes that are not IMAP's syntax; the message is Dovecot's wording."""


class LiteralTooBig(ImapSyntaxError):
    """A literal past the reader's limit: the connection cannot go on (Dovecot ends it)."""


#: An item :meth:`ImapReader.feed` gives when the peer waits to be told to send a
#: synchronizing literal (RFC 3501 §7.5: the server answers ``+ …``).
CONTINUE = object()


class ImapReader:
    """A stream → whole commands (or responses): a line, and with each literal it
    announces, the literal's bytes and the rest of the line. :meth:`feed` gives them in
    order, with an :class:`ImapSyntaxError` in place of a line that was too long (the
    rest of it is skipped), :data:`CONTINUE` when a synchronizing literal is awaited,
    and a :class:`LiteralTooBig` after which it reads nothing more. A literal in an
    APPEND command (a whole message) may be up to ``append_limit``."""

    overlong = False                    # what LineServer asks of its line buffer

    def __init__(self, *, line_limit: int, literal_limit: int, append_limit: int = 0) -> None:
        self.line_limit = line_limit
        self.literal_limit = literal_limit
        self.append_limit = max(append_limit, literal_limit)
        self._buffer = bytearray()
        self._scan = 0                  # where the part of the line after a literal begins
        self._skipping = False
        self._announced = -1            # the literal a continuation was asked for
        self.broken = False

    def feed(self, data: bytes) -> list:
        if self.broken:
            return []
        buffer = self._buffer
        buffer += data
        out: list = []
        while True:
            if self._skipping:
                end = buffer.find(b"\n")
                if end < 0:
                    buffer.clear()
                    return out
                del buffer[:end + 1]
                self._skipping = False
                continue
            end = buffer.find(b"\n", self._scan)
            if end < 0:
                if len(buffer) - self._scan > self.line_limit:
                    out.append(ImapSyntaxError("IMAP command line too large"))
                    self._restart()
                    self._skipping = True
                return out
            if end - self._scan > self.line_limit + 1:
                out.append(ImapSyntaxError("IMAP command line too large"))
                del buffer[:end + 1]
                self._scan = 0
                continue
            match = _LITERAL_AT_END.search(buffer, self._scan, end)
            if match is None:
                out.append(bytes(buffer[:end + 1]))
                del buffer[:end + 1]
                self._scan = 0
                continue
            digits = match.group(1)
            limit = self.append_limit if _APPEND.match(buffer) else self.literal_limit
            size = int(digits) if len(digits) <= _MAX_DIGITS else limit + 1
            if size > limit or end + 1 + size > self.line_limit + limit:
                out.append(LiteralTooBig("Literal size too large"))
                self.broken = True
                self._restart()
                return out
            need = end + 1 + size
            if len(buffer) < need:
                if not match.group(2) and self._announced != end:
                    self._announced = end
                    out.append(CONTINUE)
                return out
            self._scan = need

    def _restart(self) -> None:
        self._buffer.clear()
        self._scan = 0
        self._announced = -1


def parse(data: bytes, *, max_lists: int | None = None) -> list:
    """``b'1 FETCH (FLAGS (\\\\Seen) BODY[] {5}\\r\\nhello)'`` → ``['1', 'FETCH',
    ['FLAGS', ['\\\\Seen'], 'BODY[]', b'hello']]``: atoms and quoted strings as str,
    literals as bytes, NIL as None."""
    root: list = []
    stack = [root]
    lists = 0
    i, size = 0, len(data)
    while i < size:
        c = data[i]
        if c in b" \r\n":
            i += 1
        elif c == 0x28:                                   # (
            lists += 1
            if max_lists is not None and lists > max_lists:
                raise ImapSyntaxError("Too many '('")
            inner: list = []
            stack[-1].append(inner)
            stack.append(inner)
            i += 1
        elif c == 0x29:                                   # )
            if len(stack) == 1:
                raise ImapSyntaxError("Unexpected ')'")
            stack.pop()
            i += 1
        elif c == 0x22:                                   # "
            j, text = i + 1, bytearray()
            while j < size and data[j] != 0x22:
                if data[j] == 0x5C:                       # \
                    j += 1
                text += data[j:j + 1]
                j += 1
            if j >= size:
                raise ImapSyntaxError("Missing '\"'")
            stack[-1].append(text.decode("utf-8", "replace"))
            i = j + 1
        elif c == 0x7B:                                   # {
            match = _LITERAL.match(data, i)
            if match is None or len(match.group(1)) > _MAX_DIGITS:
                raise ImapSyntaxError("Invalid literal size")
            start = match.end()
            if data[start:start + 2] == b"\r\n":
                start += 2
            elif data[start:start + 1] == b"\n":
                start += 1
            length = int(match.group(1))
            stack[-1].append(bytes(data[start:start + length]))
            i = start + length
        else:
            match = _ATOM.match(data, i)
            if match is None:
                raise ImapSyntaxError("Invalid characters in atom")
            atom = match.group().decode("utf-8", "replace")
            stack[-1].append(None if atom.upper() == "NIL" else atom)
            i = match.end()
    if len(stack) > 1:
        raise ImapSyntaxError("Missing ')'")
    return root


def text_of(value) -> str:
    """An astring argument (atom, quoted string or literal) as text; a list or NIL
    where a string belongs is a syntax error."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise ImapSyntaxError("Invalid arguments.")


def arguments(args: list, least: int, most: int | None = None) -> list:
    """A command's arguments, if there are ``least`` to ``most`` of them."""
    if len(args) < least:
        raise ImapSyntaxError("Missing arguments.")
    if most is not None and len(args) > most:
        raise ImapSyntaxError("Invalid arguments.")
    return args


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
    try:
        data = str(value).encode("utf-8", "surrogateescape")    # a header's 8-bit bytes
    except UnicodeEncodeError:                                  # a lone surrogate of its own
        data = str(value).encode("utf-8", "replace")
    if not data.isascii() or any(c in data for c in b"\r\n\0"):
        return quote(data)              # §4.3: a quoted string is 7-bit, without CR or LF
    return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


_SEQUENCE = re.compile(r"(\*|[0-9]{1,10})(?::(\*|[0-9]{1,10}))?", re.ASCII)


def sequence_set(spec: str, count: int) -> list[int]:
    """``'1:3,5'``, ``'2:*'`` → message numbers that exist (RFC 3501 §9 sequence-set)."""
    numbers: list[int] = []
    seen: set[int] = set()
    for part in spec.split(","):
        match = _SEQUENCE.fullmatch(part)
        if match is None:
            raise ImapSyntaxError("Invalid messageset")
        first, last = match.group(1), match.group(2)
        a = count if first == "*" else int(first)
        b = a if last is None else (count if last == "*" else int(last))
        lo, hi = min(a, b), max(a, b)
        if lo < 1:                      # 0, or * in an empty mailbox (Dovecot: BAD)
            raise ImapSyntaxError("Invalid messageset")
        for n in range(lo, min(hi, count) + 1):
            if n not in seen:
                seen.add(n)
                numbers.append(n)
    return numbers


class SequenceSet:
    """A sequence-set (RFC 3501 §9) read once and asked about numbers: message numbers
    or UIDs, ``*`` standing for the largest in use, a range in either order. Unlike
    :func:`sequence_set` it lists nothing, so ``1:4294967295`` costs no more than ``1``."""

    def __init__(self, spec: str) -> None:
        self.ranges: list[tuple[int | None, int | None]] = []
        for part in spec.split(","):
            match = _SEQUENCE.fullmatch(part)
            if match is None:
                raise ImapSyntaxError("Invalid messageset")
            first, last = match.group(1), match.group(2) or match.group(1)
            a, b = (None if x == "*" else int(x) for x in (first, last))
            if a == 0 or b == 0:
                raise ImapSyntaxError("Invalid messageset")
            self.ranges.append((a, b))

    def __contains__(self, pair: tuple[int, int]) -> bool:
        """``(number, largest) in set``: whether ``number`` is in it when ``*`` is ``largest``."""
        number, largest = pair
        for a, b in self.ranges:
            a, b = largest if a is None else a, largest if b is None else b
            if min(a, b) <= number <= max(a, b):
                return True
        return False

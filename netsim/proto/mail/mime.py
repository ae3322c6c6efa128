"""A message's MIME structure as its bytes stand (RFC 2045 §5, RFC 2046 §5.1.1, §5.2.1):
each part's header and body exactly as they travel, so IMAP can give a client a part
(``BODY[2]``), its MIME header (``BODY[2.MIME]``) and their sizes in octets and lines
(BODYSTRUCTURE), as RFC 3501 §6.4.5 and §7.4.2 count them.

A message is a peer's bytes: nesting deeper than :data:`MAX_DEPTH` and parts past
:data:`MAX_PARTS` are read as plain bodies (Dovecot's ``mail_max_mime_parts``-like
limits), never as a recursion without end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from netsim.proto.mail.headers import parse_header

MAX_DEPTH = 20
MAX_PARTS = 1000


@dataclass(eq=False)
class Part:
    """One MIME entity: ``header`` with its blank line, ``body`` after it; ``parts`` of a
    multipart, ``message`` the entity a message/rfc822 body holds."""
    header: bytes
    body: bytes
    parts: list[Part] = field(default_factory=list)
    message: Part | None = None
    _fields: Message | None = field(default=None, repr=False)

    @property
    def fields(self) -> Message:
        if self._fields is None:
            self._fields = parse_header(self.header)
        return self._fields

    @property
    def content_type(self) -> str:
        """``text/plain`` (RFC 2045 §5.2's default; a multipart/digest's parts default to
        message/rfc822, RFC 2046 §5.1.5, which :func:`parse` sets)."""
        return self.fields.get_content_type()

    @property
    def is_multipart(self) -> bool:
        return self.content_type.startswith("multipart/")


def split_header(data: bytes) -> tuple[bytes, bytes]:
    """An entity → (header with its blank line, body). An entity with no blank line is
    all header; one that begins with a blank line has an empty header."""
    if data.startswith(b"\r\n"):
        return b"\r\n", data[2:]
    end = data.find(b"\r\n\r\n")
    return (data, b"") if end < 0 else (data[:end + 4], data[end + 4:])


def parse(data: bytes) -> Part:
    """A whole message → its tree of parts."""
    budget = [MAX_PARTS]
    return _entity(data, 0, budget)


def _entity(data: bytes, depth: int, budget: list[int], default: str | None = None) -> Part:
    header, body = split_header(data)
    part = Part(header, body)
    if default is not None and "content-type" not in part.fields:
        part.fields.set_default_type(default)
    if depth >= MAX_DEPTH or budget[0] <= 0:
        return part
    ctype = part.content_type
    if ctype.startswith("multipart/"):
        boundary = part.fields.get_boundary()
        inner = "message/rfc822" if ctype == "multipart/digest" else None
        if boundary:
            for piece in _pieces(body, boundary.encode("utf-8", "surrogateescape")):
                if budget[0] <= 0:
                    break
                budget[0] -= 1
                part.parts.append(_entity(piece, depth + 1, budget, inner))
    elif ctype == "message/rfc822":
        budget[0] -= 1
        part.message = _entity(body, depth + 1, budget)
    return part


def _pieces(body: bytes, boundary: bytes) -> list[bytes]:
    """A multipart body → its parts' bytes (RFC 2046 §5.1.1: the CRLF before a boundary
    line belongs to the boundary; the preamble and the epilogue are no part)."""
    delimiter = re.compile(rb"(?:^|\r\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?:\r\n|$)")
    pieces, start = [], None
    for match in delimiter.finditer(body):
        if start is not None:
            pieces.append(body[start:match.start()])
        if match.group(1):                            # the close delimiter
            return pieces
        start = match.end()
    if start is not None:                             # no close delimiter: the rest is one
        pieces.append(body[start:])
    return pieces


def lines(data: bytes) -> int:
    """A body's size in text lines (RFC 3501 §7.4.2 body-fld-lines)."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)

"""Reading and writing a message's header fields (RFC 5322), robustly.

A delivered message's header is a peer's bytes: CPython's structured header parser
(``email.policy.default``) raises ``IndexError``, ``AttributeError`` or
``RecursionError`` on fields such as ``From: x <`` or three thousand ``(``. What a
mail program shows of a field is its text — unfolded, RFC 2047 encoded-words decoded
where they decode — so the fields are read with ``compat32`` (raw strings, never
parsed as addresses) and an encoded-word that does not decode is shown as it was sent,
as mutt and Thunderbird do.
"""

from __future__ import annotations

import datetime
import email.errors
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import format_datetime

from netsim.proto.wallclock import EPOCH


def mail_date(seconds: float) -> str:
    """RFC 5322 date of a simulated instant (the run starts 2024-01-01 00:00 UTC)."""
    return format_datetime(datetime.datetime.fromtimestamp(EPOCH + seconds,
                                                           datetime.timezone.utc))


def parse_header(data: bytes) -> Message:
    """A message's header fields, read without interpreting them (``compat32``)."""
    return message_from_bytes(data, policy=policy.compat32)


def field_text(value) -> str:
    """A header field's value as a person reads it: folding undone (RFC 5322 §2.2.3),
    encoded-words decoded (RFC 2047); bytes (an IMAP literal) read as UTF-8."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\r\n ", " ").replace("\r\n\t", "\t")
    try:
        decoded = str(make_header(decode_header(text)))
    except (ValueError, LookupError, email.errors.MessageError):
        return text                  # a malformed encoded-word, an unknown charset: as sent
    # The standard library drops what is not base64 in a B word (=?utf-8?b?!!!?=): a
    # field that decodes to nothing is shown as it was sent too.
    return decoded if decoded.strip() or not text.strip() else text


def fields(data: bytes, name: str) -> list[str]:
    """Every ``name:`` field of a message, as text."""
    return [field_text(v) for v in parse_header(data).get_all(name, [])]


def first(data: bytes, name: str) -> str:
    values = fields(data, name)
    return values[0] if values else ""


def hop_count(data: bytes) -> int:
    """How many MTAs a message has passed: its Received: fields (RFC 5321 §6.3). Only
    the header is read (a server counts them on every message it takes)."""
    end = data.find(b"\r\n\r\n")
    return len(parse_header(data if end < 0 else data[:end + 4]).get_all("Received", []))


def without_comments(text: str) -> str:
    """An address field without its RFC 5322 §3.2.2 comments (``(…)``, nested, outside
    quoted strings), removed in one pass."""
    out, depth, quoted, escaped = [], 0, False, False
    for char in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
        elif char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
        elif quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def _elements(text: str) -> list[str]:
    """An address list cut at its commas — not those in quotes or in ``<…>``."""
    parts, current, quoted, escaped, angle = [], [], False, False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == "<":
            angle = True
        elif char == ">":
            angle = False
        elif char == "," and not angle:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquoted(name: str) -> str:
    name = " ".join(name.split())
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def addresses(values) -> list[tuple[str, str]]:
    """``(display name, address)`` of each mailbox in address fields (RFC 5322 §3.4):
    comments left out, a group's members without its name, a route (``<@a,@b:x@y>``)
    without the route. A loop over the characters, read leniently as mail programs read
    addresses: the standard library's parser recurses on comments, groups and routes,
    and a peer's three thousand ``(`` or ``g:`` exhaust Python's stack."""
    out = []
    for element in _elements(without_comments(", ".join(str(v) for v in values))):
        element = element.strip().rstrip(";").strip()
        head, colon, rest = element.partition(":")
        if colon and "<" not in head and "@" not in head and '"' not in head:
            element = rest.strip()               # "friends: a@b" → "a@b"
        if not element:
            continue
        start = element.find("<")
        if start < 0:
            out.append(("", "".join(element.split())))
            continue
        end = element.find(">", start)
        address = element[start + 1:end if end > 0 else None]
        address = "".join(address.rpartition(":")[2].split())      # drop a route
        out.append((_unquoted(element[:start]), address))
    return out

"""What the mail protocols share beyond :mod:`netsim.proto.stream`: dot-stuffing,
CRLF line endings (RFC 5321 §4.5.2, RFC 5322 §2.1) and how a peer's line is shown."""

from __future__ import annotations


def dot_stuff(data: bytes) -> bytes:
    """RFC 5321 §4.5.2 / RFC 1939 §3: a line starting with '.' gets another; the
    message ends with CRLF.CRLF."""
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    lines = data.split(b"\r\n")[:-1]
    return b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines) + b".\r\n"


def crlf(text: str | bytes) -> bytes:
    """A message's lines with CRLF endings, as they travel (RFC 5322 §2.1)."""
    data = text.encode() if isinstance(text, str) else text
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def shown(text: str, limit: int = 100) -> str:
    """A peer's line as a transcript shows it: cut at ``limit`` characters, so a
    100 KB line cannot flood a tool's output."""
    return text if len(text) < limit else text[:limit] + "…"

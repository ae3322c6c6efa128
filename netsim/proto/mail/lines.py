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


#: What :class:`SmtpLines` gives in place of a line longer than its limit.
TOO_LONG = object()


class SmtpLines:
    """Bytes from an SMTP client → ``(line, crlf)`` pairs in order, ``crlf`` False for a
    line that ended in a bare LF, and :data:`TOO_LONG` *in its place* for a line past
    ``limit`` (dropped whole, whether it came in pieces or at once), so the server
    answers it where it stood — never after the lines that followed it.

    Where a line ended is what keeps DATA safe from SMTP smuggling (RFC 5321 §2.3.8,
    §4.1.1.4): only ``CRLF . CRLF`` ends a message, so ``LF . LF`` inside one cannot
    end it early and start a second message from another sender."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._skipping = False              # inside a line already given as TOO_LONG

    def feed(self, data: bytes) -> list:
        buffer = self._buffer
        buffer += data
        out: list = []
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                if len(buffer) > self.limit:
                    if not self._skipping:
                        out.append(TOO_LONG)
                        self._skipping = True
                    buffer.clear()
                return out
            if self._skipping:
                self._skipping = False
                del buffer[:end + 1]
            elif end > self.limit + 1:                          # + 1: its CR
                out.append(TOO_LONG)
                del buffer[:end + 1]
            else:
                crlf = end > 0 and buffer[end - 1] == 0x0D
                out.append((bytes(buffer[:end - 1 if crlf else end]), crlf))
                del buffer[:end + 1]

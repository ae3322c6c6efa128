"""What text protocols over TCP share, sans-I/O: CRLF lines in, bytes out (RFC 5321
§2.3.8, RFC 1939 §3, RFC 3501 §2.2, RFC 959 §4.2), and the outputs a session gives
the driver that owns its connection."""

from __future__ import annotations

from dataclasses import dataclass

#: RFC 5321 §4.5.3.1.6: a command line is at most 512 octets, a text line 1000;
#: IMAP has no limit but servers set one (8 KiB is common).
MAX_LINE = 8192


@dataclass(frozen=True, slots=True)
class Send:
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """The session is over: close the connection once ``Send`` data is out."""
    reason: str = "normal"


class LineBuffer:
    """Bytes from a stream → complete lines without their CRLF. A line longer than
    ``limit`` is cut off and flagged, so a peer cannot grow memory without bound."""

    def __init__(self, limit: int = MAX_LINE) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self.overlong = False

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        lines = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self.limit:
                    self.overlong = True
                    del self._buffer[:]
                return lines
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[:end + 1]
            lines.append(line)

    def take(self, size: int) -> bytes | None:
        """``size`` raw bytes (an IMAP literal) if that many are buffered, else None."""
        if len(self._buffer) < size:
            return None
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    @property
    def pending(self) -> int:
        return len(self._buffer)

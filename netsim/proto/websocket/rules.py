"""What a WebSocket stack will not take from its peer (RFC 6455 §5.1–5.5, §7.1.7).

:class:`FrameScanner` reads each frame's header (RFC 6455 §5.2) and each close frame's
payload as the bytes stream past; a stack's rules judge them before wsproto takes the
frame — :class:`ChromeRules` for a browser's client, :class:`NodeWsRules` for a Node
server (the ``ws`` library) — each in its own order, words and close codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from wsproto.frame_protocol import CloseReason, Opcode, ParseFailed


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """One frame's header as it came (RFC 6455 §5.2)."""
    fin: bool
    #: RSV1, RSV2, RSV3: zero unless an extension says what they mean.
    rsv: tuple[bool, bool, bool]
    opcode: int
    masked: bool
    #: The payload length the header declares.
    length: int
    #: The 7-bit length field: the length itself, or 126/127 for 2/8 more bytes of it.
    length_field: int
    mask: bytes = b""

    @property
    def minimal(self) -> bool:
        """§5.2: "the minimal number of bytes MUST be used to encode the length"."""
        if self.length_field == 126:
            return self.length > 125
        if self.length_field == 127:
            return self.length > 0xFFFF
        return True


def _header_size(head: bytearray) -> int:
    if len(head) < 2:
        return 2
    field = head[1] & 0x7F
    return 2 + (2 if field == 126 else 8 if field == 127 else 0) + (4 if head[1] & 0x80 else 0)


def _parse_header(head: bytearray) -> FrameHeader:
    first, second = head[0], head[1]
    field = second & 0x7F
    at = {126: 4, 127: 10}.get(field, 2)
    length = int.from_bytes(head[2:at], "big") if at > 2 else field
    masked = bool(second & 0x80)
    return FrameHeader(bool(first & 0x80), (bool(first & 0x40), bool(first & 0x20),
                                            bool(first & 0x10)),
                       first & 0x0F, masked, length, field, bytes(head[at:at + 4]) if masked else b"")


class FrameScanner:
    """Where each frame of a stream starts and what its header says, and each close
    frame's payload (unmasked): what a stack judges before it takes a frame. Other
    payloads are skipped, never copied."""

    def __init__(self) -> None:
        self._head = bytearray()            # the header being read
        self._start = 0                     # stream offset of the frame being read
        self._seen = 0                      # stream offset of the next byte fed
        self._left = 0                      # payload bytes of this frame still to come
        self._close: tuple[FrameHeader, bytearray] | None = None

    def feed(self, data: bytes) -> list[tuple[int, FrameHeader, bytes | None]]:
        """``(start, header, None)`` for each header completed in ``data`` and ``(start,
        header, payload)`` for each close frame completed; ``start`` is where the frame
        begins in ``data`` (negative: in an earlier piece)."""
        found: list = []
        base, i, n = self._seen, 0, len(data)
        while i < n:
            if self._left:
                take = min(self._left, n - i)
                if self._close is not None:
                    self._close[1].extend(data[i:i + take])
                self._left -= take
                i += take
                if not self._left and self._close is not None:
                    self._closed(found, base)
                continue
            if not self._head:
                self._start = base + i
            want = _header_size(self._head) - len(self._head)
            self._head += data[i:i + want]
            i = min(n, i + want)
            if len(self._head) < _header_size(self._head):
                continue
            header = _parse_header(self._head)
            self._head.clear()
            found.append((self._start - base, header, None))
            self._left = header.length
            if header.opcode == Opcode.CLOSE and header.length <= 125:
                self._close = (header, bytearray())
                if not header.length:
                    self._closed(found, base)
        self._seen += n
        return found

    def _closed(self, found: list, base: int) -> None:
        header, payload = self._close
        self._close = None
        if header.masked:
            payload = bytearray(b ^ header.mask[k % 4] for k, b in enumerate(payload))
        found.append((self._start - base, header, bytes(payload)))


# -- what each stack refuses -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Violation:
    """A frame a stack refuses: its words, the close code it sends (None: it drops
    the connection without a close frame) and the close frame's reason."""
    message: str
    code: int | None
    reason: str = ""


def _close_code(payload: bytes) -> int:
    return int.from_bytes(payload[:2], "big")


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_KIND = {Opcode.PING: "Ping", Opcode.PONG: "Pong", Opcode.CLOSE: "Close"}


def _kind(opcode: int) -> str:
    """Chrome's GetFrameTypeForOpcode."""
    if opcode in (Opcode.CONTINUATION, Opcode.TEXT, Opcode.BINARY):
        return "Data frame"
    return _KIND.get(opcode, "Unknown frame type")


class ChromeRules:
    """What Chrome's WebSocket client refuses from a server, in its order and words
    (net/websockets: ``websocket_frame_parser.cc``, ``websocket_basic_stream.cc``,
    ``websocket_channel.cc``). ``FailChannel`` sends close 1002 for all of them; a frame
    longer than 2³¹−1 bytes is ``ERR_MSG_TOO_BIG``, the channel dropped without one."""

    INVALID_HEADER = Violation("Invalid frame header", 1002, "WebSocket Protocol Error")

    def __init__(self) -> None:
        self._continuing = False            # inside a fragmented message
        self._closed = False                # the server's close frame has come

    def frame(self, h: FrameHeader) -> Violation | None:
        if self._closed:                    # CLOSE_WAIT: nothing more may come
            return Violation(f"{_kind(h.opcode)} received after close", None)
        if not h.minimal or h.length > 2**63 - 1:
            return self.INVALID_HEADER
        if h.length > 2**31 - 1:
            return Violation("net::ERR_MSG_TOO_BIG", None)
        if h.opcode in _KIND and (not h.fin or h.length > 125):
            return self.INVALID_HEADER
        if h.masked:
            return Violation("A server must not mask any frames that it sends to the client.",
                             1002, "Masked frame from server")
        if any(h.rsv):
            r1, r2, r3 = (int(bit) for bit in h.rsv)
            return Violation(f"One or more reserved bits are on: reserved1 = {r1}, "
                             f"reserved2 = {r2}, reserved3 = {r3}", 1002, "Invalid reserved bit")
        if h.opcode in (Opcode.CONTINUATION, Opcode.TEXT, Opcode.BINARY):
            continuation = h.opcode == Opcode.CONTINUATION
            if continuation != self._continuing:
                if continuation:
                    return Violation("Received unexpected continuation frame.", 1002,
                                     "Unexpected continuation")
                return Violation("Received start of new message but previous message is "
                                 "unfinished.", 1002, "Previous data frame unfinished")
            self._continuing = not h.fin
        elif h.opcode not in _KIND:
            return Violation(f"Unrecognized frame opcode: {h.opcode}", 1002, "Unknown opcode")
        return None

    def close(self, payload: bytes) -> Violation | None:
        if len(payload) == 1:
            return Violation("Received a broken close frame containing an invalid size body.", 1002)
        if len(payload) >= 2 and _close_code(payload) in (1005, 1006, 1015):
            return Violation("Received a broken close frame containing a reserved status code.", 1002)
        if not _utf8(payload[2:]):
            return Violation("Received a broken close frame containing invalid UTF-8.", 1002,
                             "Invalid UTF-8 in Close frame")
        self._closed = True
        return None

    def library(self, exc: ParseFailed) -> Violation:
        """What wsproto refused once these rules had passed the frame."""
        if exc.code == CloseReason.INVALID_FRAME_PAYLOAD_DATA:
            return Violation("Could not decode a text frame as UTF-8.", 1002,
                             "Invalid UTF-8 in text frame")
        if "CLOSE" in str(exc):             # a close code Chrome takes and wsproto does not
            return Violation("Received a broken close frame containing a reserved status code.", 1002)
        return self.INVALID_HEADER


def _ws(text: str, code: int = 1002) -> Violation:
    return Violation(f"Invalid WebSocket frame: {text}", code)


class NodeWsRules:
    """What the ``ws`` library (Node.js, ``lib/receiver.js``) refuses from a client, in
    its order and words, with the close code it sends: 1002, 1007 for invalid UTF-8,
    1009 for a frame or message too big (``maxPayload``, 100 MiB by default)."""

    MAX_PAYLOAD = 100 * 1024 * 1024

    def __init__(self) -> None:
        self._fragmented = 0                # the opcode of the message being continued
        self._total = 0                     # its length so far
        self._closed = False                # ws reads nothing after a close frame

    def frame(self, h: FrameHeader) -> Violation | None:
        if self._closed:
            return None
        if h.rsv[1] or h.rsv[2]:
            return _ws("RSV2 and RSV3 must be clear")
        if h.rsv[0]:
            return _ws("RSV1 must be clear")
        op = h.opcode
        if op == Opcode.CONTINUATION:
            if not self._fragmented:
                return _ws("invalid opcode 0")
        elif op in (Opcode.TEXT, Opcode.BINARY):
            if self._fragmented:
                return _ws(f"invalid opcode {op}")
        elif op in _KIND:
            if not h.fin:
                return _ws("FIN must be set")
            if h.length_field > 125:
                return _ws(f"invalid payload length {h.length_field}")
        else:
            return _ws(f"invalid opcode {op}")
        if op < 8 and not h.fin and not self._fragmented:
            self._fragmented = op
        if not h.masked:
            return _ws("MASK must be set")
        if h.length > 2**53 - 1:
            return Violation("Unsupported WebSocket frame: payload length > 2^53 - 1", 1009)
        if op < 8:
            self._total += h.length
            if self._total > self.MAX_PAYLOAD:
                return Violation("Max payload size exceeded", 1009)
            if h.fin:
                self._fragmented = self._total = 0
        return None

    def close(self, payload: bytes) -> Violation | None:
        if len(payload) == 1:
            return _ws("invalid payload length 1")
        if len(payload) >= 2:
            code = _close_code(payload)
            if not (1000 <= code <= 1014 and code not in (1004, 1005, 1006)
                    or 3000 <= code <= 4999):
                return _ws(f"invalid status code {code}")
            if not _utf8(payload[2:]):
                return _ws("invalid UTF-8 sequence", 1007)
        self._closed = True
        return None

    def library(self, exc: ParseFailed) -> Violation:
        """What wsproto refused once these rules had passed the frame: invalid UTF-8 in a
        text message, or what ws would take (a length in more bytes than it needs)."""
        if exc.code == CloseReason.INVALID_FRAME_PAYLOAD_DATA:
            return _ws("invalid UTF-8 sequence", 1007)
        return _ws(str(exc), int(exc.code))

"""HTTP/1.x and WebSocket messages read back from a connection's segments, for the
application-level diagram: one arrow per request and per response — however many
segments it took, and however many messages one segment carried (pipelined requests
go out in one) — labelled as textbooks write them: ``GET /index.html HTTP/1.1``,
``HTTP/1.1 304 Not Modified``, ``101 Switching Protocols``, ``WS text "AAPL 190.2"``.

Each direction's payload is put back in sequence order and framed as RFC 9112 §6
says (``Content-Length``, chunked, or to the close; no body for HEAD, 1xx, 204, 304);
after a ``101`` both directions are RFC 6455 §5.2 frames.
"""

from __future__ import annotations

import re
from dataclasses import replace

from netsim.errors import FrameError
from netsim.viz.http2_stream import http2_units, is_preface
from netsim.wire import headers as h

REQUEST_LINE = re.compile(rb"[A-Z]+ \S+ HTTP/1\.[01]\r\n")
#: The headers that carry a lesson, shown beside the start line of the message that has
#: them: the cookie handed out and sent back (RFC 6265), where a redirect leads (RFC 9110
#: §10.2.2), what a revalidation asks about (§13.1), which SOAP operation is called.
LESSON_HEADERS = ("set-cookie", "cookie", "location", "if-none-match", "if-modified-since",
                  "soapaction")
#: A short text body is shown too (an HTTPDNS answer, the tick a poll returned).
SHORT_BODY = 40
_TEXTUAL = ("text/plain", "application/json", "application/dns")
HEADER_VALUE_MAX = 36
WS_OPCODES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
LABEL_TEXT_MAX = 40


def is_http_request(payload: bytes) -> bool:
    return REQUEST_LINE.match(payload) is not None


class _Stream:
    """One direction's bytes in sequence order, and which segment carried which bytes:
    where a segment was lost, the copy that arrived (a retransmission) is the carrier."""

    def __init__(self, segments: list, trace) -> None:
        found = []                                  # (offset, payload, message)
        base = None
        for m in segments:
            seq, payload = _seq_payload(m, trace)
            if not payload:
                continue
            base = seq if base is None else base
            found.append(((seq - base) % (1 << 32), payload, m))
        delivered = sorted((x for x in found if x[2].received is not None),
                           key=lambda x: (x[0], x[2].sent))
        self.data = bytearray()
        self.pieces: list[tuple[int, int, object]] = []     # (start, end, segment message)
        for off, payload, m in delivered:
            at = len(self.data)
            if off > at:
                break                               # a gap nothing filled
            if off + len(payload) > at:
                self.data += payload[at - off:]
                self.pieces.append((at, len(self.data), m))

    def carriers(self, start: int, end: int) -> list:
        return [m for a, b, m in self.pieces if a < end and b > start]


def _seq_payload(m, trace) -> tuple[int, bytes]:
    frame = trace.frame_bytes(m.frame)
    if len(frame) < 34 or frame[23] != 6:
        return 0, b""
    hlen = (frame[14] & 0xF) * 4
    total = int.from_bytes(frame[16:18], "big")
    try:
        _sp, _dp, seq, _ack, _flags, _win, _opts, payload = h.parse_tcp(frame[14 + hlen:14 + total])
    except FrameError:
        return 0, b""
    return seq, payload


def _head(data: bytes, at: int) -> tuple[list[str], int] | None:
    end = data.find(b"\r\n\r\n", at)
    if end < 0:
        return None
    return data[at:end].decode("latin-1").split("\r\n"), end + 4


def _header(lines: list[str], name: str) -> str | None:
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _body_end(data: bytes, at: int, lines: list[str], bodiless: bool) -> int | None:
    """Where a message whose head ended at ``at`` ends; None if it is not all there."""
    if bodiless:
        return at
    if (_header(lines, "transfer-encoding") or "").lower().endswith("chunked"):
        i = at
        while True:
            eol = data.find(b"\r\n", i)
            if eol < 0:
                return None
            try:
                size = int(data[i:eol].split(b";")[0], 16)
            except ValueError:
                return None
            i = eol + 2 + size + 2
            if size == 0:
                trailer = data.find(b"\r\n", eol + 2)        # no trailers in practice
                return eol + 4 if trailer == eol + 2 else (None if trailer < 0 else trailer + 2)
            if i > len(data):
                return None
    length = _header(lines, "content-length")
    if length is not None and length.isdigit():
        end = at + int(length)
        return end if end <= len(data) else None
    if lines[0].startswith("HTTP/"):
        return len(data)                    # read until the close (RFC 9112 §6.3 rule 8)
    return at                               # a request with no length has no body


def ws_frames(data: bytes, at: int, out: list) -> None:
    """RFC 6455 §5.2 frames from ``at`` on: (start, end, label)."""
    i = at
    while i + 2 <= len(data):
        b0, b1 = data[i], data[i + 1]
        length, j = b1 & 0x7F, i + 2
        if length == 126:
            length, j = int.from_bytes(data[j:j + 2], "big"), j + 2
        elif length == 127:
            length, j = int.from_bytes(data[j:j + 8], "big"), j + 8
        mask = data[j:j + 4] if b1 & 0x80 else b""
        j += len(mask)
        if j + length > len(data):
            out.append((i, len(data), "WS frame (incomplete)"))
            return
        payload = bytes(data[j:j + length])
        if mask:
            payload = bytes(c ^ mask[k % 4] for k, c in enumerate(payload))
        opcode = WS_OPCODES.get(b0 & 0x0F, f"opcode {b0 & 0x0F}")
        if opcode == "text":
            text = payload.decode("utf-8", "replace")
            shown = text if len(text) <= LABEL_TEXT_MAX else text[:LABEL_TEXT_MAX - 1] + "…"
            label = f'WS text "{shown}"'
        elif opcode == "close":
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
            label = "WS close" + (f" {code}" if code else "")
        elif opcode in ("ping", "pong"):
            label = f"WS {opcode}"
        else:
            label = f"WS {opcode} ({length} B)"
        out.append((i, j + length, label))
        i = j + length


def _with_headers(lines: list[str], wanted: tuple[str, ...], body: bytes = b"") -> str:
    """The start line, then each wanted header it has (``· Location: /new``), then a
    short text body (``· body "10.0.2.80"``)."""
    label = lines[0]
    for name in wanted:
        for line in lines[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name:
                value = value.strip()
                if name == "set-cookie":
                    value = value.split(";")[0]              # the cookie, not its attributes
                elif name == "soapaction":
                    value = value.strip('"').rstrip("/").rsplit("/", 1)[-1]   # the operation
                if len(value) > HEADER_VALUE_MAX:
                    value = value[:HEADER_VALUE_MAX - 1] + "…"
                label += f" · {key.strip()}: {value}"
    kind = (_header(lines, "content-type") or "").lower()
    if body and len(body) <= SHORT_BODY and kind.startswith(_TEXTUAL):
        text = body.decode("utf-8", "replace").strip()
        if text and text.isprintable():
            label += f' · body "{text}"'
    return label


def _frame_requests(data: bytes, wanted: tuple[str, ...] = LESSON_HEADERS
                    ) -> tuple[list, list[str], int | None]:
    """(start, end, label) of each request, their methods and targets, and where an
    Upgrade request ended (the WebSocket frames start there once the server agrees)."""
    out, methods, upgrade_at, i = [], [], None, 0
    while i < len(data):
        head = _head(data, i)
        if head is None:
            out.append((i, len(data), data[i:i + 60].split(b"\r\n")[0].decode("latin-1") + " (incomplete)"))
            break
        lines, body_at = head
        end = _body_end(data, body_at, lines, False)
        if end is None:
            out.append((i, len(data), lines[0] + " (incomplete)"))
            break
        out.append((i, end, _with_headers(lines, wanted, data[body_at:end])))
        methods.append(lines[0].split(" ", 2)[:2])
        if (_header(lines, "upgrade") or "").lower() == "websocket":
            upgrade_at = end
            break
        i = end
    return out, methods, upgrade_at


def _frame_responses(data: bytes, methods: list, wanted: tuple[str, ...] = LESSON_HEADERS
                     ) -> tuple[list, bool]:
    """(start, end, label) of each response — with the target it answers (which of the
    objects came back 200 among the 304s) —; True if the last switched protocols."""
    out, i, n = [], 0, 0
    while i < len(data):
        head = _head(data, i)
        if head is None:
            out.append((i, len(data), data[i:i + 60].split(b"\r\n")[0].decode("latin-1") + " (incomplete)"))
            return out, False
        lines, body_at = head
        parts = lines[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        method, target = (methods[n] + [""])[:2] if n < len(methods) else ("GET", "")
        bodiless = method == "HEAD" or 100 <= status < 200 or status in (204, 304)
        end = _body_end(data, body_at, lines, bodiless)
        if end is None:
            out.append((i, len(data), lines[0] + " (incomplete)"))
            return out, False
        label = _with_headers(lines, wanted, data[body_at:end])
        if target and status >= 200:
            label = label.replace(lines[0], f"{lines[0]} ({target})", 1)
        out.append((i, end, label))
        if status == 101:
            ws_frames(data, end, out)
            return out, True
        if status >= 200:
            n += 1
        i = end
    return out, False


def http_messages(segments: list, trace, headers: tuple[str, ...] = LESSON_HEADERS) -> list:
    """The HTTP (and WebSocket) messages of one connection, from its segments that carry
    data (``Message`` objects in the order they were sent, retransmitted copies too);
    ``headers``: the header names (lower case) shown beside each start line."""
    client = next(m for m in segments if is_http_request(_seq_payload(m, trace)[1])
                  or is_preface(_seq_payload(m, trace)[1]))
    mine = [m for m in segments if (m.src, m.sport) == (client.src, client.sport)]
    theirs = [m for m in segments if (m.src, m.sport) != (client.src, client.sport)]
    streams = {True: _Stream(mine, trace), False: _Stream(theirs, trace)}
    http2 = is_preface(bytes(streams[True].data[:24]))
    if http2:
        requests = http2_units(bytes(streams[True].data), client=True)
        responses = http2_units(bytes(streams[False].data), client=False)
    else:
        requests, methods, upgrade_at = _frame_requests(bytes(streams[True].data), headers)
        responses, upgraded = _frame_responses(bytes(streams[False].data), methods, headers)
        if upgraded and upgrade_at is not None:
            ws_frames(bytes(streams[True].data), upgrade_at, requests)
    out = []
    for from_client, units in ((True, requests), (False, responses)):
        stream = streams[from_client]
        for start, end, label in units:
            carriers = stream.carriers(start, end)
            if not carriers:
                continue
            first, last = carriers[0], carriers[-1]
            if len(carriers) > 1:
                label += f" ({len(carriers)} segments)"
            protocol = "HTTP2" if http2 else "WebSocket" if label.startswith("WS ") else "HTTP"
            out.append(replace(first, label=label, protocol=protocol, kind="text",
                               length=end - start, received=last.received,
                               dropped=last.dropped, dropped_at=last.dropped_at,
                               frames=tuple(f for m in carriers for f in m.frames)))
    return out

"""HTTP/2 frames read back from one direction of a connection, for the
application-level diagram (RFC 9113 §4, header blocks decoded by HPACK, RFC 7541):
one unit per frame, labelled as Wireshark lists them — ``HEADERS[3]: GET /site.css``,
``HEADERS[3]: 200 OK``, ``DATA[3] 4,096 B`` — with the stream id in brackets.

The connection's own frames that come together (the preface, SETTINGS, WINDOW_UPDATE
on stream 0, a SETTINGS acknowledgement) are one unit, and so are the DATA frames of
one stream that follow each other: what a reader of the diagram wants is which stream
carried what, not every 16 KiB frame.
"""

from __future__ import annotations

import hpack

from netsim.wire.http2 import FRAME_TYPES, PREFACE, frame_headers

_DATA, _HEADERS, _RST, _SETTINGS, _GOAWAY, _WINDOW, _CONTINUATION = 0, 1, 3, 4, 7, 8, 9
_END_HEADERS, _PADDED, _PRIORITY, _ACK = 0x4, 0x8, 0x20, 0x1
_ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
           5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL",
           9: "COMPRESSION_ERROR", 11: "ENHANCE_YOUR_CALM"}


def is_preface(payload: bytes) -> bool:
    return payload.startswith(PREFACE)


def http2_units(data: bytes, *, client: bool) -> list[tuple[int, int, str]]:
    """(start, end, label) of each unit of one direction's bytes (``client``: the
    direction that starts with the preface)."""
    decoder = hpack.Decoder()
    decoder.max_allowed_table_size = 1 << 16       # as much as any client advertises
    units: list[list] = []                        # [start, end, label, kind, stream, size]
    at = len(PREFACE) if client and data.startswith(PREFACE) else 0
    if at:
        units.append([0, at, "Magic", "control", 0, 0])
    block, block_stream, block_start = b"", None, 0
    for start, end, kind, flags, stream in frame_headers(data, at):
        payload = data[start + 9:min(end, len(data))]
        complete = end <= len(data)
        name = FRAME_TYPES[kind]
        if kind in (_HEADERS, _CONTINUATION):
            if kind == _HEADERS:
                block, block_stream, block_start = _header_fragment(payload, flags), stream, start
            else:
                block += payload
            if not complete:
                units.append([block_start, len(data), f"HEADERS[{stream}] (incomplete)",
                              "headers", stream, 0])
                break
            if flags & _END_HEADERS:
                units.append([block_start, end, f"HEADERS[{block_stream}]: "
                              f"{_summary(decoder, block)}", "headers", block_stream, 0])
            continue
        if kind == _DATA:
            size = end - start - 9
            last = units[-1] if units else None
            if last is not None and last[3] == "data" and last[4] == stream:
                last[1], last[5] = end, last[5] + size
            else:
                units.append([start, end, "", "data", stream, size])
            continue
        if kind == _SETTINGS and flags & _ACK:
            label = "SETTINGS[0] ACK"
        elif kind == _RST and len(payload) >= 4:
            label = f"RST_STREAM[{stream}] {_error(payload[:4])}"
        elif kind == _GOAWAY and len(payload) >= 8:
            label = (f"GOAWAY[0] last stream {int.from_bytes(payload[:4], 'big') & 0x7FFFFFFF}, "
                     f"{_error(payload[4:8])}")
        else:
            label = f"{name}[{stream}]"
        last = units[-1] if units else None
        if last is not None and last[3] == "control" and last[1] == start:
            last[1], last[2] = end, f"{last[2]}, {label}"
        else:
            units.append([start, end, label, "control", stream, 0])
    out = []
    for start, end, label, kind, stream, size in units:
        if kind == "data":
            label = f"DATA[{stream}] {size:,} B"
        if end > len(data):
            end, label = len(data), f"{label} (incomplete)"
        out.append((start, end, label))
    return out


def _header_fragment(payload: bytes, flags: int) -> bytes:
    """A HEADERS frame's header block fragment, without padding and priority (§6.2)."""
    pad = payload[0] if flags & _PADDED and payload else 0
    at = 1 if flags & _PADDED else 0
    at += 5 if flags & _PRIORITY else 0
    return payload[at:len(payload) - pad]


def _summary(decoder: hpack.Decoder, block: bytes) -> str:
    """``GET /site.css`` or ``200 OK`` from a header block (``?`` if it will not decode,
    as when the capture began after the table was filled)."""
    try:
        fields = dict(decoder.decode(block, raw=False))
    except (hpack.HPACKError, IndexError, ValueError, UnicodeDecodeError):
        return "?"
    if ":status" in fields:
        return f"{fields[':status']} {_REASONS.get(fields[':status'], '')}".rstrip()
    return f"{fields.get(':method', '?')} {fields.get(':path', '')}".rstrip()


def _error(code: bytes) -> str:
    value = int.from_bytes(code, "big")
    return _ERRORS.get(value, f"error {value}")


_REASONS = {"200": "OK", "204": "No Content", "206": "Partial Content",
            "301": "Moved Permanently", "302": "Found", "303": "See Other",
            "304": "Not Modified", "307": "Temporary Redirect", "308": "Permanent Redirect",
            "400": "Bad Request", "403": "Forbidden", "404": "Not Found",
            "405": "Method Not Allowed", "500": "Internal Server Error",
            "503": "Service Unavailable"}

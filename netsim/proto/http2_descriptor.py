"""HTTP/2 as the rest of netsim knows it (RFC 9113): it has no port of its own — it
runs over TLS after ALPN chose ``h2`` (and is TLS's there), or in cleartext on HTTP's
port with prior knowledge (``h2c``, §3.3), where a segment that starts with the client
preface or a frame header is labelled as tshark lists it: ``HTTP2 Magic, SETTINGS[0],
WINDOW_UPDATE[0]``, ``HTTP2 HEADERS[3], HEADERS[5]``, ``HTTP2 DATA[13]``. The
application-level diagram reads each connection's frames back in order, header blocks
decoded (HPACK), one arrow per frame: ``HEADERS[3]: GET /site.css``, ``DATA[3] 4,096 B``."""

from netsim.wire.http2 import FRAME_TYPES, PREFACE, frame_headers
from netsim.wire.registry import HTTP_MESSAGES, Protocol, register


def h2_label(payload: bytes) -> str | None:
    """The frames a segment starts with, or None when it does not start with the
    preface or a frame (the middle of a long DATA frame, or not HTTP/2 at all)."""
    names, at = [], 0
    if payload.startswith(PREFACE):
        names.append("Magic")
        at = len(PREFACE)
    elif len(payload) < 9:
        return None
    for _start, _end, kind, _flags, stream in frame_headers(payload, at):
        names.append(f"{FRAME_TYPES[kind]}[{stream}]")
    if not names or (names[0] != "Magic" and not _starts_cleanly(payload)):
        return None
    return "HTTP2 " + ", ".join(names)


def _starts_cleanly(payload: bytes) -> bool:
    """A segment's first frame header must be followed by further frames that parse, up
    to the segment's end or a frame continuing past it — text rarely does."""
    ends = [end for _s, end, _k, _f, _id in frame_headers(payload)]
    return bool(ends) and (ends[-1] >= len(payload) or len(payload) - ends[-1] < 9)


HTTP2 = register(Protocol("HTTP2", "#1f618d", words=("http2", "h2"), stream_label=h2_label,
                          messages=HTTP_MESSAGES, tshark="HTTP2", upgrades_from="HTTP"))

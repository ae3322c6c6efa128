"""HTTP/2's framing as the readers of captures need it (RFC 9113 §3.4, §4.1): the
client preface, the frame types by name, and a walk over the 9-octet frame headers of
a byte stream. No engine here — h2 is the engine; this is what labels, diagrams and the
engines' byte counts read."""

#: The client connection preface (RFC 9113 §3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: Frame type names (RFC 9113 §6), as Wireshark shows them.
FRAME_TYPES = {0x0: "DATA", 0x1: "HEADERS", 0x2: "PRIORITY", 0x3: "RST_STREAM",
               0x4: "SETTINGS", 0x5: "PUSH_PROMISE", 0x6: "PING", 0x7: "GOAWAY",
               0x8: "WINDOW_UPDATE", 0x9: "CONTINUATION"}
#: Frames larger than this are not taken for HTTP/2 by a reader (2²⁴: the largest
#: SETTINGS_MAX_FRAME_SIZE a peer may allow).
_PLAUSIBLE = 1 << 24


def frame_headers(data: bytes, at: int = 0):
    """(start, end, type, flags, stream id) of each frame from ``at`` on, as far as the
    bytes look like HTTP/2 frames; ``end`` may lie past the data (a frame continued in
    the next segment)."""
    while at + 9 <= len(data):
        length = int.from_bytes(data[at:at + 3], "big")
        kind, flags = data[at + 3], data[at + 4]
        if kind not in FRAME_TYPES or data[at + 5] & 0x80 or length >= _PLAUSIBLE:
            return
        yield at, at + 9 + length, kind, flags, int.from_bytes(data[at + 5:at + 9], "big")
        at += 9 + length

"""What HTTP/2 frames a byte stream carries, counted per stream (RFC 9113 §4.1).

h2 turns bytes into events and events into bytes, but does not say how many bytes of
the wire each stream took, nor how many were header blocks — which is what a network
panel's "received" column and HPACK's saving (RFC 7541) are measured in. This walks
the 9-octet frame headers of the same bytes h2 is given or gives, and keeps the count.
"""

from __future__ import annotations

from netsim.wire.http2 import FRAME_TYPES, PREFACE

DATA, HEADERS, SETTINGS, CONTINUATION = 0x0, 0x1, 0x4, 0x9
FRAME_HEADER = 9


class FrameCounter:
    """Feed it one direction's bytes in order; it counts, per stream id, the octets of
    every frame (header included) and of the header-block frames alone.

    It also judges each frame header as it arrives, where h2 waits for the whole frame
    (and would buffer megabytes of an HTTP/1.1 answer first): with ``max_frame``, a
    frame longer than that is a FRAME_SIZE_ERROR (RFC 9113 §4.2), and with
    ``settings_first`` the peer's first frame must be SETTINGS (§3.4) — ``violation``
    says which, and the engine ends the connection.
    """

    def __init__(self, preface: bool = False, *, max_frame: int | None = None,
                 settings_first: bool = False) -> None:
        self._skip = len(PREFACE) if preface else 0
        self._max_frame, self._settings_first = max_frame, settings_first
        self.violation: str | None = None
        self._buffer = bytearray()
        self._left = 0                      # payload octets of the frame being passed
        self._stream = 0
        self._headers = False
        #: stream id → octets of its frames on the wire (stream 0: the connection's).
        self.wire: dict[int, int] = {}
        #: stream id → octets of its HEADERS and CONTINUATION frames.
        self.header_bytes: dict[int, int] = {}
        #: (frame type name, stream id) → how many such frames.
        self.frames: dict[tuple[str, int], int] = {}

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        if self._skip:
            taken = min(self._skip, len(view))
            self._skip -= taken
            view = view[taken:]
        while view:
            if self._left:
                taken = min(self._left, len(view))
                self._count(taken)
                self._left -= taken
                view = view[taken:]
                continue
            need = FRAME_HEADER - len(self._buffer)
            self._buffer += view[:need]
            view = view[need:]
            if len(self._buffer) < FRAME_HEADER:
                return
            head = bytes(self._buffer)
            self._buffer.clear()
            self._left = int.from_bytes(head[:3], "big")
            self._stream = int.from_bytes(head[5:9], "big") & 0x7FFF_FFFF
            self._headers = head[3] in (HEADERS, CONTINUATION)
            if self._settings_first and head[3] != SETTINGS:
                self.violation = "the first frame is not SETTINGS"
            self._settings_first = False
            if self._max_frame is not None and self._left > self._max_frame:
                self.violation = self.violation or f"a frame of {self._left} octets"
            key = (FRAME_TYPES.get(head[3], f"0x{head[3]:02x}"), self._stream)
            self.frames[key] = self.frames.get(key, 0) + 1
            self._count(FRAME_HEADER)

    def _count(self, octets: int) -> None:
        self.wire[self._stream] = self.wire.get(self._stream, 0) + octets
        if self._headers:
            self.header_bytes[self._stream] = self.header_bytes.get(self._stream, 0) + octets

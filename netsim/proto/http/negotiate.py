"""Which HTTP a server connection speaks, decided by its first bytes: HTTP/2's client
preface (RFC 9113 §3.4) — sent over TLS after ALPN chose ``h2``, or in cleartext by a
client with prior knowledge (``h2c``, §3.3) — or else HTTP/1.x.

Until the first 24 octets are in (or one differs from the preface) nothing is answered;
then everything that came goes to the chosen engine, which speaks from there on.
"""

from __future__ import annotations

from typing import Callable

from netsim.proto.http.h2frames import PREFACE
from netsim.proto.stream import StreamEngine


class ServerByPreface(StreamEngine):
    """A server connection that becomes ``http1()`` or ``http2()`` (engine factories)."""

    def __init__(self, http1: Callable[[], StreamEngine], http2: Callable[[], StreamEngine]):
        super().__init__()
        self._make = (http1, http2)
        self._seen = bytearray()
        self._started_at: float | None = None
        #: The engine chosen, once the first bytes said which.
        self.engine: StreamEngine | None = None

    @property
    def log(self) -> list:
        return self.engine.log if self.engine is not None else []

    def start(self, now: float) -> None:
        self._started_at = now

    def receive(self, data: bytes, now: float) -> None:
        if self.engine is not None:
            return self.engine.receive(data, now)
        self._seen += data
        seen = bytes(self._seen[:len(PREFACE)])
        if PREFACE.startswith(seen) and len(seen) < len(PREFACE):
            return                              # could still be the preface: read on
        self.engine = self._make[1 if seen == PREFACE else 0]()
        self.engine.start(self._started_at if self._started_at is not None else now)
        first, self._seen = bytes(self._seen), bytearray()
        self.engine.receive(first, now)

    def connection_lost(self, now: float) -> None:
        if self.engine is not None:
            self.engine.connection_lost(now)

    def get_timer(self) -> float | None:
        return self.engine.get_timer() if self.engine is not None else None

    def handle_timer(self, now: float) -> None:
        if self.engine is not None:
            self.engine.handle_timer(now)

    def pause_writing(self, now: float) -> None:
        hook = getattr(self.engine, "pause_writing", None)
        if hook is not None:
            hook(now)

    def resume_writing(self, now: float) -> None:
        hook = getattr(self.engine, "resume_writing", None)
        if hook is not None:
            hook(now)

    def outputs(self) -> list:
        return self.engine.outputs() if self.engine is not None else []

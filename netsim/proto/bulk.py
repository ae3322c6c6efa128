"""A bulk transfer's two ends as stream engines: what ``iperf``'s client and server, or
``nc < file`` and ``nc -l > /dev/null``, do with a TCP connection (RFC 9293 gives the
rest: the window, the probes of a closed one).

:class:`BulkSource` writes ``size`` bytes — or, without a size, for as long as ``until``
allows — in writes of ``chunk`` bytes, each once the one before is all in the socket's
send buffer (a blocking ``write()`` loop: the runtime calls :meth:`BulkSource.written`
where that ``write()`` returns), then closes. The bytes are drawn from ``randbytes``
and hashed, so the receiver's hash can prove they arrived intact.

:class:`BulkSink` reads whatever arrives and hands it on as :class:`Received`. Given a
``rate`` it is a slow reader: ``piece`` bytes at a time (the payload of a full-sized
segment), then nothing until the time reading them takes at ``rate`` bits/s has passed;
given a ``pause`` (start, end) it stops reading when a read ends inside it, until its
end. Its receive buffer fills, the window it advertises closes, and the sender probes
it (RFC 9293 §3.8.6.1) — the reading pace is this engine's timer, and the runtime asks
:meth:`BulkSink.read_size` before each read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

from netsim.proto.stream import Close, Send, StreamEngine

#: A full-sized segment's payload on Ethernet (1500 − 40): what a slow reader takes at once.
PIECE = 1460


@dataclass(frozen=True, slots=True)
class Started:
    """The connection is up and the source has begun."""


@dataclass(frozen=True, slots=True)
class Received:
    """Bytes the sink read."""
    data: bytes


class BulkSource(StreamEngine):
    def __init__(self, *, size: int | None, until: float | None, chunk: int,
                 randbytes: Callable[[int], bytes]) -> None:
        super().__init__()
        self.size, self.until, self.chunk = size, until, chunk
        self._randbytes = randbytes
        self._hash = hashlib.sha256()
        self.sent = 0
        self.done = False               # it closed, or the connection went away

    @property
    def digest(self) -> str:
        """SHA-256 of everything written so far."""
        return self._hash.hexdigest()

    def start(self, now: float) -> None:
        self._out.append(Started())
        self._next(now)

    def written(self, now: float) -> None:
        """The last write is all in the send buffer: the next one, or the close."""
        self._next(now)

    def receive(self, data: bytes, now: float) -> None:
        """A sink has nothing to say; what it says anyway is discarded (as iperf does)."""

    def connection_lost(self, now: float) -> None:
        self.done = True

    def _next(self, now: float) -> None:
        if self.done:
            return
        size = self.size
        if (size is None or self.sent < size) and (self.until is None or now < self.until):
            n = self.chunk if size is None else min(self.chunk, size - self.sent)
            data = self._randbytes(n)
            self._hash.update(data)
            self.sent += n
            self._out.append(Send(data))
            return
        self.done = True
        self._out.append(Close())


class BulkSink(StreamEngine):
    def __init__(self, *, rate: float | None = None, pause: tuple[float, float] | None = None,
                 piece: int = PIECE) -> None:
        super().__init__()
        self.rate, self.pause, self.piece = rate, pause, piece
        self._ready = True              # a read may be made now
        self._resume_at: float | None = None
        self._pausing = False           # resting for the pause, not for the rate

    def start(self, now: float) -> None:
        self._check_pause(now)

    def read_size(self) -> int | None:
        """How much the next read takes: 0 (not now), ``piece`` (a slow reader), or None
        (everything there is)."""
        if not self._ready:
            return 0
        return self.piece if self.rate else None

    def receive(self, data: bytes, now: float) -> None:
        self._out.append(Received(data))
        if self.rate:
            self._rest(now + len(data) * 8 / self.rate, pausing=False)
        else:
            self._check_pause(now)

    def get_timer(self) -> float | None:
        return None if self._ready else self._resume_at

    def handle_timer(self, now: float) -> None:
        if self._ready or now < self._resume_at:
            return
        if self._pausing:
            self._ready = True          # the pause is over: read, whatever the clock says
        else:
            self._check_pause(now)

    def _check_pause(self, now: float) -> None:
        pause = self.pause
        if pause is not None and pause[0] <= now < pause[1]:
            # The wait is computed from now, as a reader sleeping (end − now) seconds.
            self._rest(now + (pause[1] - now), pausing=True)
        else:
            self._ready = True

    def _rest(self, until: float, *, pausing: bool) -> None:
        self._ready = False
        self._resume_at = until
        self._pausing = pausing

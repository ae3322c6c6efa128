"""Queue ids as Postfix gives them: one per message a server takes, the id its SMTP
server names in ``250 2.0.0 Ok: queued as 4F9D195432`` and its log and ``Received:``
line use ever after."""

from __future__ import annotations

import hashlib


class QueueIds:
    """A server's queue ids: hexadecimal, unique per server (its name's hash first) and
    the same in every run (a counter, not the clock Postfix uses)."""

    def __init__(self, hostname: str) -> None:
        self._prefix = hashlib.sha256(hostname.encode()).hexdigest()[:6].upper()
        self._count = 0

    def next(self) -> str:
        self._count += 1
        return f"{self._prefix}{self._count:04X}"

"""A one-line progress bar on a terminal; nothing at all when output is not one."""

from __future__ import annotations

import sys
import time


class Progress:
    """``done/total`` runs or simulated seconds, failures, what is running, time left."""

    def __init__(self, total: float, *, unit: str = "runs", stream=None, min_wall: float = 0.0) -> None:
        self.total, self.unit = total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        #: Say nothing until this much wall time has passed (a quick run stays quiet).
        self.min_wall = min_wall
        self._shown = False
        self._last = 0.0

    def update(self, done: float, *, failed: int = 0, running: int = 0, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        elapsed = now - self.started
        if elapsed < self.min_wall or (not force and now - self._last < 0.2):
            return
        self._last = now
        fraction = min(1.0, done / self.total) if self.total else 1.0
        bar = "#" * int(fraction * 30)
        left = f", ~{_duration(elapsed / fraction * (1 - fraction))} left" if 0 < fraction < 1 else ""
        count = f"{done:.0f}/{self.total:.0f} {self.unit}" if self.unit == "runs" else \
            f"{done:.1f}/{self.total:.1f} {self.unit}"
        extra = (f", {failed} failed" if failed else "") + (f", {running} running" if running else "")
        self.stream.write(f"\r[{bar:<30}] {count}{extra}{left}\x1b[K")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

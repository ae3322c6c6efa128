"""A client that makes HTTP calls one after another on one persistent connection — a
REST or SOAP client, an HTTPDNS lookup, a poller — sans-I/O.

What to call is the client's *plan*, a function ``step(previous, now)`` asked after each
answer (``previous``: its :class:`~netsim.proto.http.client.Exchange`; None at the start
and after a pause): it returns the next :class:`~netsim.proto.http.client.Request`, a
:class:`Pause` until a time (a poller's interval — the engine's timer), or None when the
plan is done, and the idle connection is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from netsim.proto.http.client import Exchange, Request
from netsim.proto.http.failures import LIBRARY, Wording
from netsim.proto.http.pool import Job, PoolClient


@dataclass(frozen=True, slots=True)
class Pause:
    """Ask the plan again at ``until``."""
    until: float


@dataclass(frozen=True, slots=True)
class PlanDone:
    """The plan has no more calls (an output, for the application)."""


Step = Callable[[Exchange | None, float], "Request | Pause | None"]


class Caller(PoolClient):
    """Calls ``step`` asks for, in turn, on one kept-alive connection to ``address:port``."""

    def __init__(self, host: str, address, port: int, step: Step, *, user_agent: str,
                 accept: str = "application/json, text/xml, */*",
                 wording: Wording = LIBRARY) -> None:
        super().__init__(user_agent=user_agent, accept=accept, wording=wording, limit=1)
        self.step = step
        self._origin = self.origin(host, address, port)
        self._wake: float | None = None
        self.finished = False

    def start(self, now: float) -> None:
        self._ask(None, now)

    def job_done(self, job: Job, now: float) -> None:
        self._ask(job.exchange, now)

    def get_timer(self) -> float | None:
        return self._wake

    def handle_timer(self, now: float) -> None:
        if self._wake is not None and now >= self._wake:
            self._wake = None
            self._ask(None, now)

    def _ask(self, previous: Exchange | None, now: float) -> None:
        action = self.step(previous, now)
        if isinstance(action, Request):
            self._origin.fetch(action, now)
        elif isinstance(action, Pause):
            self._wake = action.until
        else:
            self._origin.close_idle()
            self.finished = True
            self._out.append(PlanDone())

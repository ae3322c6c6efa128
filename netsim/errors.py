"""The errors netsim raises.

Everything netsim raises on purpose derives from :class:`NetsimError`, so a caller
can catch one class::

    NetsimError
     ├── ScenarioError      a scenario file is wrong; knows the key path and line
     ├── TopologyError      a network built in Python is wired wrongly
     │    └── AddressError  an address is malformed, clashes or cannot be assigned
     ├── FrameError        bytes that do not parse as the frame they claim to be
     ├── PeerError         a peer's bytes break its protocol: that app fails, the run goes on
     └── FrameBudgetExceeded  a run sent more frames than it was allowed (a storm)

A :class:`FrameError` never escapes a node: the receive boundary converts it into a
``drop`` trace record with reason ``malformed``, as a real stack drops a bad frame
(the h11 pattern: local errors inside, converted at the boundary).

A :class:`PeerError` never escapes an application: protocol engines raise it (or
convert their libraries' "the remote side was wrong" errors into it) where they read
a peer's bytes, and the application runtime (:mod:`netsim.sim.runtime`) turns it into
that application's failure, worded as the real tool words it. Any *other* exception
from an engine is a bug in netsim: under :func:`strict` (the test suite turns it on
with ``NETSIM_STRICT=1``) it propagates and fails the test; otherwise the runtime
fails the one application loudly (``internal error: …``) and the run goes on.
"""

from __future__ import annotations

import os


class NetsimError(Exception):
    """Base class of every error netsim raises on purpose."""


class ScenarioError(NetsimError):
    """A scenario file does not describe a runnable network.

    ``path`` is the key path in the file (``links[2].endpoints[1]``), ``line`` the
    1-based line it sits on (``None`` when the file has no such key), ``source``
    the file name.
    """

    def __init__(self, message: str, *, path: str = "", line: int | None = None,
                 source: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class TopologyError(NetsimError):
    """A network is wired in a way that cannot work (unknown node, busy interface, …)."""


class AddressError(TopologyError):
    """An address is malformed, used twice, or cannot be assigned."""


class FrameError(NetsimError):
    """Bytes that do not parse as the header they claim to carry."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class PeerError(NetsimError):
    """The peer sent what its protocol does not allow (a reply line that is not a reply,
    a response nobody asked for, a number that does not fit).

    ``message`` is what the real tool prints (``net::ERR_INVALID_RESPONSE``, ``Passive
    mode address scan failure``, ``;; Got bad packet: FORMERR``); ``reset`` asks for the
    connection to be reset (RST) rather than closed (FIN), as some tools do.
    """

    def __init__(self, message: str, *, reset: bool = False) -> None:
        self.message = message
        self.reset = reset
        super().__init__(message)


def strict() -> bool:
    """True when any exception from an engine that is not a :class:`PeerError` must
    propagate (a bug fails the test) instead of failing just its application."""
    return os.environ.get("NETSIM_STRICT", "") not in ("", "0")


class FrameBudgetExceeded(NetsimError):
    """The run put more frames on its wires than its budget allows (each transmission
    on each link counts, as a capture would count it).

    Raised from inside the simulation, caught by :meth:`netsim.sim.Network.run`,
    which stops the run there and says so: a broadcast storm (a loop of switches
    without spanning tree) must end with a message, not by exhausting memory.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        super().__init__(f"more than {budget:,} frame transmissions")

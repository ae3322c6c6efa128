"""The errors netsim raises.

Everything netsim raises on purpose derives from :class:`NetsimError`, so a caller
can catch one class::

    NetsimError
     ├── ScenarioError      a scenario file is wrong; knows the key path and line
     ├── TopologyError      a network built in Python is wired wrongly
     │    └── AddressError  an address is malformed, clashes or cannot be assigned
     ├── FrameError        bytes that do not parse as the frame they claim to be
     └── FrameBudgetExceeded  a run sent more frames than it was allowed (a storm)

A :class:`FrameError` never escapes a node: the receive boundary converts it into a
``drop`` trace record with reason ``malformed``, as a real stack drops a bad frame
(the h11 pattern: local errors inside, converted at the boundary).
"""

from __future__ import annotations


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

"""The Python versions netsim.aio runs on, and a loud refusal on any other.

The bridge subclasses :class:`asyncio.BaseEventLoop` and runs its ``_run_once`` with no
selector; it reads the loop's ``_ready``, ``_scheduled`` and ``_timer_cancelled_count``
and builds TLS from ``asyncio.sslproto.SSLProtocol``. Those are internals, and they
change between minor versions (3.12 changed the order tasks run in; 3.14 moves the
current task into the thread state), so each supported version is tested, and byte
identity of a run holds per minor version.
"""

from __future__ import annotations

import platform
import sys

#: Every minor version the test suite has run netsim.aio on (README: how each was tested).
SUPPORTED = ((3, 11), (3, 12), (3, 13))


def check(version: tuple[int, ...] = tuple(sys.version_info[:2])) -> None:
    """Refuse, naming the version, to run on a Python netsim.aio was not tested on."""
    if tuple(version[:2]) not in SUPPORTED:
        running = platform.python_version() if tuple(version[:2]) == tuple(sys.version_info[:2]) \
            else ".".join(map(str, version))
        first, last = SUPPORTED[0], SUPPORTED[-1]
        raise RuntimeError(
            f"netsim.aio runs on Python {first[0]}.{first[1]}–{last[0]}.{last[1]}, not on "
            f"Python {running}: it builds on asyncio internals that change between "
            "versions, and this one has not been tested")

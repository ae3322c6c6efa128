"""No real socket while a simulated host's code runs (DESIGN principle 9).

An audit hook (PEP 578) sees every socket the interpreter is asked for — creating one
(``socket.__new__``), ``connect``, ``bind``, ``sendto``, ``getaddrinfo``,
``gethostbyname`` and the rest — before it happens. While a host's event loop runs an
iteration it refuses them all with :class:`RealNetworkError`: user code that reaches
for the real network fails loudly instead of reaching it. Nothing global is patched,
and outside those iterations (a notebook's own loop, the test suite's guard) it does
nothing. An audit hook cannot be removed; this one is added once, on first use, and
costs one string comparison per audited event.
"""

from __future__ import annotations

import sys
import threading

from netsim.errors import NetsimError


class RealNetworkError(NetsimError):
    """Code on a simulated host asked for a real socket."""


#: The thread whose host loop is running an iteration now, or None.
active_thread: int | None = None
#: The host it runs for (a name, for the message).
active_host: str | None = None
#: How many real socket operations were refused, ever (the test suite expects 0 from
#: every library it runs through the bridge).
refused = 0

_installed = False


def install() -> None:
    global _installed
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True


def _audit(event: str, args: tuple) -> None:
    if active_thread is None or not event.startswith("socket."):
        return
    if threading.get_ident() != active_thread:
        return
    global refused
    refused += 1
    raise RealNetworkError(
        f"{event} on simulated host {active_host}: netsim.aio never opens a real socket "
        "(use asyncio's streams, transports and loop.getaddrinfo, which reach the "
        "simulated network)")

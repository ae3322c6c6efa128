"""What is true while a host's event loop runs one iteration, and only then.

* asyncio's running loop is the host's (``asyncio.get_running_loop()`` in library code
  finds its own host), and so are the async-generator hooks; the caller's — a notebook's
  own running loop — are back afterwards.
* :mod:`netsim.aio.guard` refuses real sockets.
* ``socket.gethostname()`` and ``socket.getfqdn()`` answer the host's name (aiosmtpd and
  aiosmtplib greet with it).
* Opt-in (:attr:`HostLoop.simulated_clock`): ``time.time()``, ``time.time_ns()`` and
  ``datetime.datetime.now()``/``utcnow()``/``today()`` read the simulated clock, from
  2024-01-01 00:00:00 UTC at time 0 (as netsim's own Date: headers do). Only names looked
  up at call time change: a library that did ``from time import time`` keeps the real one.
* Opt-in (:attr:`HostLoop.seeded_random`): the :mod:`random` module's functions draw from
  the host's own generator, seeded from the network's seed and the host's name.
* Print output of a ``run: python`` app goes to that app's output (a context variable
  names the app; tasks it starts inherit it).

``time.monotonic`` and ``time.perf_counter`` are never touched: asyncio's own code uses
them, and a loop whose clock is patched globally hangs in ``asyncio.sleep``.
"""

from __future__ import annotations

import contextvars
import datetime as _datetime
import random
import socket
import sys
import threading
import time
from asyncio import events

from netsim.aio import guard
from netsim.proto.wallclock import EPOCH

_real_gethostname = socket.gethostname
_real_getfqdn = socket.getfqdn
_real_time = time.time
_real_datetime = _datetime.datetime

#: The ``run: python`` app whose code is running (its print() lines go to its output).
console: contextvars.ContextVar = contextvars.ContextVar("netsim_aio_console", default=None)

_current = None                             # the HostLoop inside an iteration, or None


def current_loop():
    """The host loop running an iteration now, or None."""
    return _current


class _SimulatedDatetime(_real_datetime):
    """datetime whose "now" is the simulated clock's (a subclass, so isinstance holds)."""

    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(_real_time() if _current is None else EPOCH + _current.time(),
                                 tz)

    @classmethod
    def utcnow(cls):
        stamp = _real_time() if _current is None else EPOCH + _current.time()
        return cls.fromtimestamp(stamp, _datetime.timezone.utc).replace(tzinfo=None)

    @classmethod
    def today(cls):
        return cls.now()


def _gethostname() -> str:
    return _current.node.name if _current is not None else _real_gethostname()


def _getfqdn(name: str = "") -> str:
    if _current is None:
        return _real_getfqdn(name)
    node = _current.node
    if not name or name in ("0.0.0.0", "::", node.name):
        domain = getattr(node, "domain", None)
        return f"{node.name}.{domain}" if domain else node.name
    # An address of a node: its name, as the hosts table says; anything else as given.
    for other in node.network.nodes.values():
        if name in (getattr(other, "ip", None), other.name):
            return other.name
    return name


def _time() -> float:
    return EPOCH + _current.time()


def _time_ns() -> int:
    return int(round((EPOCH + _current.time()) * 1e9))


class _Console:
    """sys.stdout while a python app's code may print: its lines go to the app."""

    def __init__(self, real) -> None:
        self.real = real

    def write(self, text: str) -> int:
        app = console.get()
        if app is None:
            return self.real.write(text)
        app.console_write(text)
        return len(text)

    def flush(self) -> None:
        if console.get() is None:
            self.real.flush()

    def __getattr__(self, name):
        return getattr(self.real, name)


class Iteration:
    """Enter with :meth:`enter`, leave with :meth:`leave` (a try/finally in the loop:
    this runs once per loop iteration, so it is a pair of calls, not a context manager)."""

    __slots__ = ("loop", "saved")

    def __init__(self, loop) -> None:
        self.loop = loop
        self.saved = None

    def enter(self) -> None:
        global _current
        loop = self.loop
        saved = [events._get_running_loop(), sys.get_asyncgen_hooks(), _current,
                 guard.active_thread, guard.active_host, None, None,
                 (socket.gethostname, socket.getfqdn, time.time, time.time_ns,
                  _datetime.datetime)]
        events._set_running_loop(loop)
        sys.set_asyncgen_hooks(firstiter=loop._asyncgen_firstiter_hook,
                               finalizer=loop._asyncgen_finalizer_hook)
        _current = loop
        guard.active_thread = threading.get_ident()
        guard.active_host = loop.node.name
        socket.gethostname, socket.getfqdn = _gethostname, _getfqdn
        if loop.simulated_clock:
            time.time, time.time_ns = _time, _time_ns
            _datetime.datetime = _SimulatedDatetime
        if loop.seeded_random:
            saved[5] = random.getstate()
            random.setstate(loop.random_state)
        if loop.consoles:
            saved[6] = sys.stdout
            sys.stdout = _Console(sys.stdout)
        self.saved = saved

    def leave(self) -> None:
        global _current
        loop = self.loop
        saved = self.saved
        if saved[6] is not None:
            sys.stdout = saved[6]
        if saved[5] is not None:
            loop.random_state = random.getstate()
            random.setstate(saved[5])
        # What was there before (a test's monkeypatch, or the real functions).
        socket.gethostname, socket.getfqdn, time.time, time.time_ns, _datetime.datetime = saved[7]
        _current = saved[2]
        guard.active_thread, guard.active_host = saved[3], saved[4]
        firstiter, finalizer = saved[1]
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
        events._set_running_loop(saved[0])

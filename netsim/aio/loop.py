"""One asyncio event loop per simulated host, in simulated time.

:class:`HostLoop` is an :class:`asyncio.BaseEventLoop` with no selector. Its ``time()``
is the simulated clock (exact seconds, ``env.now``); ``call_soon`` asks SimPy for a
callback at the present instant and ``call_at`` for one at the timer's time, and each
such callback runs one iteration of asyncio's own ``_run_once`` (the due timers, then
the ready handles) with this host's loop as the running loop. Nothing waits on a
selector: I/O reaches the loop as handles its transports schedule when netsim's TCP
and UDP sockets have news, so a loop with only I/O pending asks SimPy for nothing, and
the clock moves only through SimPy.

Timers SimPy cannot forget: a cancelled asyncio timer's SimPy callback would still
move the clock to its time and keep ``net.run()`` going (the prototype ran 300 s past
the last byte for aiosmtpd's idle timer). The loop keeps at most a few callbacks armed
(one at or before its earliest live timer, as :class:`netsim.sim.driver.Alarm` does)
and withdraws them from SimPy's queue once no live timer is left.

Threads cannot follow a clock that jumps: ``run_in_executor`` (and so ``to_thread``)
runs the function at once, in zero simulated time. What needs a file descriptor —
``sock_*``, ``add_reader``, Unix sockets, pipes, subprocesses, signals — raises
NotImplementedError naming the call.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import random
import threading

from netsim.aio import datagram, guard, resolve, stream, version
from netsim.aio.inside import Iteration
from netsim.errors import strict
from netsim.sim.schedule import call_later, withdraw


class _NoSelector:
    """asyncio's _run_once asks its selector for I/O; a host's I/O comes as handles."""

    def select(self, timeout):
        return ()

    def close(self) -> None:
        pass


class Owner:
    """Whom the runtime's driver notes a host's connections for (``app-error`` notes):
    the host's asyncio code as one application."""

    def __init__(self, node, name: str = "asyncio") -> None:
        self.node, self.env, self.name = node, node.env, name


def _unsupported(name: str, why: str):
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"loop.{name}() is not supported on a simulated host ({why}); "
                                  "netsim.aio supports streams, transports, servers, datagram "
                                  "endpoints and TLS")
    method.__name__ = name
    return method


class HostLoop(asyncio.BaseEventLoop):
    """The event loop of ``node``; made by :func:`netsim.aio.loop_for`."""

    def __init__(self, node) -> None:
        version.check()
        guard.install()
        self._iterating = False
        super().__init__()
        self.node = node
        self.env = node.env
        self.owner = Owner(node)
        self._selector = _NoSelector()
        self._iteration = Iteration(self)
        self._thread = threading.get_ident()
        self._wake_pending = False
        self._alarms: dict = {}             # armed SimPy callbacks → their times
        self._iterating = False
        self._tidy_pending = False
        #: Opt-in: time.time()/datetime.now() read the simulated clock during iterations.
        self.simulated_clock = False
        #: Opt-in: the random module draws from this host's own seeded generator.
        self.seeded_random = False
        self.random_state = random.Random(f"{node.network.seed}:aio:{node.name}").getstate()
        #: How many ``run: python`` apps print through this loop (stdout is redirected then).
        self.consoles = 0
        #: Exception contexts no handler took (the test suite checks there are none).
        self.unhandled: list[dict] = []

    def __repr__(self) -> str:
        return f"<HostLoop {self.node.name} t={self.time():g}>"

    def __del__(self) -> None:
        pass                                # no descriptor, no executor: nothing to warn of

    # -- the clock -------------------------------------------------------------------------

    def time(self) -> float:
        return self.env.now

    # -- scheduling: asyncio's handles become SimPy callbacks ------------------------------

    def call_soon(self, callback, *args, context=None):
        handle = super().call_soon(callback, *args, context=context)
        if not self._wake_pending:
            self._wake_pending = True
            call_later(self.env, 0.0, self._iterate)
        return handle

    def call_at(self, when, callback, *args, context=None):
        timer = super().call_at(when, callback, *args, context=context)
        self._arm(when)
        return timer

    def call_soon_threadsafe(self, callback, *args, context=None):
        if threading.get_ident() != self._thread:
            raise RuntimeError(
                f"call_soon_threadsafe() from another thread on simulated host {self.node.name}: "
                "a host's loop runs only in simulated time, which no thread can follow")
        return self.call_soon(callback, *args, context=context)

    def _timer_handle_cancelled(self, handle) -> None:
        super()._timer_handle_cancelled(handle)
        # Called before the handle is marked cancelled: look again once it is.
        if not self._iterating and not self._tidy_pending:
            self._tidy_pending = True
            call_later(self.env, 0.0, self._tidy)

    def _arm(self, when: float) -> None:
        for at in self._alarms.values():
            if at <= when:
                return                      # one fires by then, and looks again
        now = self.env.now
        delay = max(0.0, when - now)
        while now + delay < when:           # SimPy's now + delay must reach the timer's when
            delay = math.nextafter(delay, math.inf)
        alarm = call_later(self.env, delay, self._ring)
        self._alarms[alarm] = now + delay

    def _ring(self, alarm) -> None:
        self._alarms.pop(alarm, None)
        self._iterate()

    def _tidy(self, _event=None) -> None:
        """After an iteration (or a cancellation outside one): keep an alarm by the earliest
        live timer, and withdraw every alarm when no live timer is left."""
        self._tidy_pending = False
        scheduled = self._scheduled
        while scheduled and scheduled[0]._cancelled:      # as _run_once drops them
            self._timer_cancelled_count -= 1
            heapq.heappop(scheduled)._scheduled = False
        if scheduled:
            self._arm(scheduled[0]._when)
        elif self._alarms:
            for alarm in self._alarms:
                withdraw(self.env, alarm)
            self._alarms.clear()

    def _iterate(self, _event=None) -> None:
        self._wake_pending = False
        if self.is_closed():
            return
        iteration = self._iteration
        self._iterating = True
        iteration.enter()
        try:
            self._run_once()
        finally:
            iteration.leave()
            self._iterating = False
        if self._ready and not self._wake_pending:
            self._wake_pending = True
            call_later(self.env, 0.0, self._iterate)
        self._tidy()

    def _process_events(self, event_list) -> None:
        pass                                # no selector, no events: see _NoSelector

    # -- what the loop runs ----------------------------------------------------------------

    def is_running(self) -> bool:
        return self._iterating

    def run_forever(self):
        raise RuntimeError(f"the loop of simulated host {self.node.name} runs inside the "
                           "simulation: use node.run_async(coro), or node.start_async(coro) "
                           "and net.run()")

    def run_until_complete(self, future):
        if asyncio.iscoroutine(future):
            future.close()                  # never to run: no "never awaited" warning
        self.run_forever()

    def run_in_executor(self, executor, func, *args):
        """Run ``func(*args)`` now, in zero simulated time: a thread could not keep up with
        a clock that jumps from one event to the next."""
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:        # noqa: BLE001 — the caller awaits it
            future.set_exception(exc)
        return future

    def set_default_executor(self, executor) -> None:
        pass                                # no executor runs here: see run_in_executor

    async def shutdown_default_executor(self, timeout=None) -> None:
        pass

    def call_exception_handler(self, context) -> None:
        """As asyncio's, and under netsim's strict mode (the test suite) an exception a
        callback or a transport raised propagates, as :func:`netsim.sim.runtime.contain`
        lets a bug propagate; a task's unretrieved exception is only reported."""
        if self._exception_handler is None:
            self.unhandled.append(context)
            exc = context.get("exception")
            if exc is not None and strict() and "future" not in context \
                    and not isinstance(exc, OSError):
                raise exc
        super().call_exception_handler(context)

    # -- name resolution -------------------------------------------------------------------

    async def getaddrinfo(self, host, port, *, family=0, type=0, proto=0, flags=0):
        return await resolve.getaddrinfo(self, host, port, family, type, proto, flags)

    async def getnameinfo(self, sockaddr, flags=0):
        return resolve.getnameinfo(self, sockaddr, flags)

    # -- connections -----------------------------------------------------------------------

    async def create_connection(self, protocol_factory, host=None, port=None, **options):
        return await stream.create_connection(self, protocol_factory, host, port, **options)

    async def create_server(self, protocol_factory, host=None, port=None, **options):
        return await stream.create_server(self, protocol_factory, host, port, **options)

    async def create_datagram_endpoint(self, protocol_factory, local_addr=None,
                                       remote_addr=None, **options):
        return await datagram.create_datagram_endpoint(self, protocol_factory, local_addr, remote_addr,
                                              **options)

    _no_fd = "it needs a file descriptor, and a simulated host has none"
    sock_recv = _unsupported("sock_recv", _no_fd)
    sock_recv_into = _unsupported("sock_recv_into", _no_fd)
    sock_recvfrom = _unsupported("sock_recvfrom", _no_fd)
    sock_recvfrom_into = _unsupported("sock_recvfrom_into", _no_fd)
    sock_sendall = _unsupported("sock_sendall", _no_fd)
    sock_sendto = _unsupported("sock_sendto", _no_fd)
    sock_connect = _unsupported("sock_connect", _no_fd)
    sock_accept = _unsupported("sock_accept", _no_fd)
    sock_sendfile = _unsupported("sock_sendfile", _no_fd)
    add_reader = _unsupported("add_reader", _no_fd)
    remove_reader = _unsupported("remove_reader", _no_fd)
    add_writer = _unsupported("add_writer", _no_fd)
    remove_writer = _unsupported("remove_writer", _no_fd)
    connect_accepted_socket = _unsupported("connect_accepted_socket", _no_fd)
    connect_read_pipe = _unsupported("connect_read_pipe", _no_fd)
    connect_write_pipe = _unsupported("connect_write_pipe", _no_fd)
    create_unix_connection = _unsupported("create_unix_connection", "Unix sockets are not modelled")
    create_unix_server = _unsupported("create_unix_server", "Unix sockets are not modelled")
    subprocess_exec = _unsupported("subprocess_exec", "a simulated host runs no processes")
    subprocess_shell = _unsupported("subprocess_shell", "a simulated host runs no processes")
    add_signal_handler = _unsupported("add_signal_handler", "a simulated host gets no signals")
    remove_signal_handler = _unsupported("remove_signal_handler",
                                         "a simulated host gets no signals")
    del _no_fd

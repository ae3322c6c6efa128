"""A coroutine on a simulated host: :func:`start_async` beside everything else in a
run, :func:`run_async` to run the network until it is done.

Neither touches the caller's own event loop, so both work where one is already
running — a Jupyter notebook's — and ``await``-style code inside the coroutine runs on
the host's loop (:class:`~netsim.aio.loop.HostLoop`), in simulated time.
"""

from __future__ import annotations

import asyncio
import math

from netsim.aio.inside import current_loop
from netsim.aio.loop import HostLoop
from netsim.sim.schedule import call_later, withdraw


class StillWaiting(RuntimeError):
    """run_async's coroutine was not done when nothing more could happen (a read no
    peer will answer, a server never reached) or the time limit came."""


def loop_for(node) -> HostLoop:
    """The host's event loop, made on first use."""
    loop = getattr(node, "aio_loop", None)
    if loop is None:
        loop = node.aio_loop = HostLoop(node)
    return loop


def start_async(node, coro, *, at: float | None = None, name: str | None = None) -> asyncio.Task:
    """Run ``coro`` on ``node`` as the simulation runs (from ``at``, simulated seconds,
    if given): an :class:`asyncio.Task` of the host's loop, returned at once."""
    loop = loop_for(node)
    if at is not None and at > loop.time():
        coro = _later(at, coro)
    return loop.create_task(coro, name=name)


async def _later(at: float, coro):
    await asyncio.sleep(at - asyncio.get_running_loop().time())
    return await coro


def run_async(node, coro, *, until: float | None = None):
    """Run ``coro`` on ``node``, and the whole network with it, until it is done; return
    its result or raise its exception. :class:`StillWaiting` if it cannot finish: the
    network ran out of events (or reached ``until``, simulated seconds) first."""
    if current_loop() is not None:
        if asyncio.iscoroutine(coro):
            coro.close()                    # never to run: no "never awaited" warning
        raise RuntimeError("run_async() inside a simulated host's coroutine: await the "
                           "coroutine (or start_async it) instead of running the network again")
    net = node.network
    env = net.env
    task = start_async(node, coro)
    done = env.event()

    def finished(_event=None) -> None:
        if not done.triggered:
            done.succeed()

    task.add_done_callback(finished)
    limit = None if until is None else call_later(env, max(0.0, until - env.now), finished)
    try:
        net.run(until=done)
    except RuntimeError:
        # SimPy's way of saying the queue ran dry before `done`: StillWaiting, below.
        if done.triggered or env.peek() != math.inf:
            raise
    finally:
        if limit is not None and not done.processed:
            withdraw(env, limit)
    if not task.done():
        why = net.stopped or ("nothing more was going to happen" if until is None or env.now < until
                              else f"the time limit ({until:g} s) came")
        raise StillWaiting(f"{task.get_coro().__qualname__} on {node.name} was still waiting at "
                           f"{env.now:g} s: {why} ({task!r})")
    return task.result()

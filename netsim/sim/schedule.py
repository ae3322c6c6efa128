"""Calling a function at a simulated time, at the least cost SimPy allows.

A channel schedules one arrival per frame and a traffic source one send per packet,
so what a scheduled call costs bounds the simulator's speed. A :class:`Callback` is
an entry in SimPy's event queue that netsim's :class:`~netsim.sim.environment.Environment`
calls directly: no list of callbacks, no ``_ok``, less than a third of a
:class:`simpy.Timeout`. Nothing ever waits on one; code that needs to ``yield`` uses
``env.timeout`` as usual.
"""

from __future__ import annotations

import heapq

from simpy.events import NORMAL


class Callback:
    """``function(event)``, called at the time it was scheduled for (most ignore the event)."""
    __slots__ = ("function",)

    def __init__(self, function) -> None:
        self.function = function


def call_later(env, delay: float, function) -> Callback:
    """Call ``function(event)`` ``delay`` seconds of simulated time from now."""
    event = Callback(function)
    env.schedule(event, NORMAL, delay)
    return event


def call_again(env, event: Callback, delay: float) -> None:
    """Schedule ``event`` once more, ``delay`` from now: a timer that fires over and over
    (a traffic source's next send) needs only the one Callback."""
    env.schedule(event, NORMAL, delay)


def withdraw(env, event: Callback) -> None:
    """Take a scheduled call out of the queue before it happens. SimPy cannot cancel an
    event, and one nobody wants any more would still move the clock to its time and keep
    a run going to it (an asyncio idle timer cancelled long before: netsim.aio). Linear in
    the queue's length, so for the rare timer that is given up, not for every one. It
    takes out one entry of ``event``, not the earliest: not for a Callback scheduled more
    than once at a time (a channel's arrivals)."""
    queue = env._queue
    for i, entry in enumerate(queue):
        if entry[3] is event:               # (time, priority, id, event), as SimPy keeps them
            queue[i] = queue[-1]
            queue.pop()
            heapq.heapify(queue)
            return

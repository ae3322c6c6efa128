"""Calling a function at a simulated time, at the least cost SimPy allows.

A channel schedules one arrival per frame and a traffic source one send per packet,
so what a scheduled call costs bounds the simulator's speed. :class:`Callback` is
the least :meth:`simpy.Environment.step` needs of an event — its ``callbacks`` list
and ``_ok`` — and costs a third of a :class:`simpy.Timeout`. Nothing ever waits on
one; code that needs to ``yield`` uses ``env.timeout`` as usual.
"""

from __future__ import annotations

import heapq

from simpy.events import NORMAL


class Callback:
    __slots__ = ("callbacks", "_ok")

    def __init__(self, function) -> None:
        # step() calls each callback with the event (most ignore it).
        self.callbacks = [function]
        self._ok = True


def call_later(env, delay: float, function) -> Callback:
    """Call ``function(event)`` ``delay`` seconds of simulated time from now."""
    event = Callback(function)
    env.schedule(event, NORMAL, delay)
    return event


def withdraw(env, event: Callback) -> None:
    """Take a scheduled call out of the queue before it happens. SimPy cannot cancel an
    event, and one nobody wants any more would still move the clock to its time and keep
    a run going to it (an asyncio idle timer cancelled long before: netsim.aio). Linear in
    the queue's length, so for the rare timer that is given up, not for every one."""
    queue = env._queue
    for i, entry in enumerate(queue):
        if entry[3] is event:               # (time, priority, id, event), as SimPy keeps them
            queue[i] = queue[-1]
            queue.pop()
            heapq.heapify(queue)
            return

"""Calling a function at a simulated time, at the least cost SimPy allows.

A channel schedules one arrival per frame and a traffic source one send per packet,
so what a scheduled call costs bounds the simulator's speed. :class:`Callback` is
the least :meth:`simpy.Environment.step` needs of an event — its ``callbacks`` list
and ``_ok`` — and costs a third of a :class:`simpy.Timeout`. Nothing ever waits on
one; code that needs to ``yield`` uses ``env.timeout`` as usual.
"""

from __future__ import annotations

from simpy.events import NORMAL


class Callback:
    __slots__ = ("callbacks", "_ok")

    def __init__(self, function) -> None:
        # step() calls each callback with the event (most ignore it).
        self.callbacks = [function]
        self._ok = True


def call_later(env, delay: float, function) -> None:
    """Call ``function(event)`` ``delay`` seconds of simulated time from now."""
    env.schedule(Callback(function), NORMAL, delay)

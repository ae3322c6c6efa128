"""SimPy's environment with the event loop written out once, for the per-frame path.

A forwarded frame costs three events (the sender's timer, an arrival on each link) and
a TCP segment with its share of ACKs about as many; SimPy's :meth:`~simpy.Environment.run`
calls :meth:`~simpy.Environment.step` for each, and ``step`` walks the event's list of
callbacks. :meth:`Environment.run` here is the same loop with ``step`` inlined, and it
calls a :class:`~netsim.sim.schedule.Callback` — the event the channels and traffic
sources schedule, which nothing waits on — without the list. Everything else is
SimPy's own: the order of events (time, priority, insertion), ``until`` as a time or
an event, :class:`~simpy.exceptions.StopSimulation`, and a failed event that nobody
defused crashing the run with a copy of its exception. (One difference no netsim code
meets: a Callback that raises StopSimulation is not put back in the queue, as SimPy puts
back an event whose callbacks were cut short — a Callback has nothing left to call.)
"""

from __future__ import annotations

from heapq import heappop
from typing import Any

import simpy
from simpy.core import BoundClass, EmptySchedule, StopSimulation
from simpy.events import URGENT, Event

from netsim.sim.schedule import Callback


class Environment(simpy.Environment):

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        # SimPy binds env.process, env.timeout, env.event, … to the instance once, but looks
        # for them only in the instance's own class: without this, every env.event() (a
        # socket's read, a lookup) would build a bound method.
        for name, attribute in simpy.Environment.__dict__.items():
            if type(attribute) is BoundClass:
                setattr(self, name, getattr(self, name))

    def run(self, until: float | Event | None = None) -> Any:
        """As :meth:`simpy.Environment.run`: to a time, to an event, or until no event is left."""
        if until is not None:
            if not isinstance(until, Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self._now:
                    raise ValueError(f"until ({at}) must be greater than the current simulation time")
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self._now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        try:
            self._loop()
        except StopSimulation as exc:
            return exc.args[0]
        except EmptySchedule:
            if until is not None:
                assert not until.triggered
                raise RuntimeError(f'No scheduled events left but "until" event was not '
                                   f"triggered: {until}") from None
        return None

    def step(self) -> None:
        """As :meth:`simpy.Environment.step`, for the one who steps by hand."""
        try:
            event = self._queue[0][3]
        except IndexError:
            raise EmptySchedule from None
        if event.__class__ is Callback:
            self._now = heappop(self._queue)[0]
            event.function(event)
        else:
            super().step()

    def _loop(self) -> None:
        queue = self._queue
        callback_type = Callback
        while queue:
            self._now, _, _, event = heappop(queue)
            if event.__class__ is callback_type:
                event.function(event)
                continue
            # What simpy.Environment.step does with any other event.
            callbacks, event.callbacks = event.callbacks, None
            try:
                for callback in callbacks:
                    callback(event)
            except StopSimulation:
                event.callbacks = callbacks[callbacks.index(callback) + 1:]
                self.schedule(event, -1)
                raise
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        raise EmptySchedule

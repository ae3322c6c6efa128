"""Where the SimPy clock meets a sans-I/O engine (README design principle 2).

Modelled on aioquic's ``asyncio/protocol.py``: after anything is fed to an engine,
``kick()`` drains its outputs to a handler and makes sure a SimPy event will wake
the engine at its next deadline.

A TCP connection pushes its retransmission deadline later with every ACK, so
arming a new SimPy event per deadline would cost an event per segment. As the
kernel's timers do (``sk_reset_timer`` only moves a pending timer), the driver
keeps the event it armed while the deadline moves *later*: when that event fires
early it arms one more for the deadline as it is then. Only a deadline that moves
*earlier* arms a new event, and an event that is no longer the armed one is
ignored when it fires, so the engine never sees a timer it no longer wants, and
``handle_timer`` runs at the deadline exactly as before.
"""

from __future__ import annotations

from typing import Callable

from simpy.events import NORMAL

from netsim.sim.schedule import Callback


#: How many times one alarm may come due at the same instant before it is a livelock.
LIVELOCK = 100_000


class Alarm:
    """One SimPy event that wakes its owner at a deadline which may move: the lazy
    re-arming described above. ``deadline()`` is asked again when the event fires;
    ``_due(now)`` runs when it has really come."""

    def __init__(self, env, deadline: Callable[[], float | None]) -> None:
        self.env = env
        self._deadline = deadline
        self._armed: Callback | None = None     # the event that will wake the owner
        self._armed_at = 0.0                    # …and when
        self._fired_at = -1.0                   # the instant it last came due
        self._fired_again = 0                   # …and how many times in a row since

    def __repr__(self) -> str:
        engine = getattr(self, "engine", None)
        return f"{type(self).__name__}({type(engine).__name__ if engine is not None else ''})"

    def want(self, deadline: float | None) -> None:
        """Make sure the owner is woken by ``deadline`` (None: no wish)."""
        if deadline is not None and (self._armed is None or deadline < self._armed_at):
            self._arm(deadline)

    def _arm(self, deadline: float) -> None:
        event = self._armed = Callback(self._fire)
        env = self.env
        now = env._now
        self._armed_at = deadline if deadline > now else now
        env.schedule(event, NORMAL, self._armed_at - now)

    def _fire(self, event) -> None:
        if event is not self._armed:
            return                              # an earlier deadline replaced it
        self._armed = None
        deadline = self._deadline()
        if deadline is None:
            return
        now = self.env._now
        # A deadline later than now by less than now's float can express (now + delay
        # rounds back to now) is due: waiting for it would wake at this instant forever.
        if deadline > now and now + (deadline - now) > now:
            self._arm(deadline)                 # the deadline moved on since we armed
            return
        if now == self._fired_at:
            self._fired_again += 1
            if self._fired_again > LIVELOCK:
                # An engine that asks for a timer at an instant and does nothing with it
                # would hold the clock there forever: a bug to report, not a hang.
                raise RuntimeError(f"{self!r}: its timer came due {LIVELOCK} times at "
                                   f"t={now!r} without the engine moving on")
        else:
            self._fired_at, self._fired_again = now, 0
        self._due(now)

    def _due(self, now: float) -> None:
        raise NotImplementedError


class EngineDriver(Alarm):
    """Drives one engine whose outputs are handled one by one (TCP, ARP, DHCP, …)."""

    def __init__(self, env, engine, handle: Callable[[object], None]) -> None:
        super().__init__(env, engine.get_timer)
        self.engine = engine
        self.handle = handle

    def kick(self) -> None:
        """Drain the engine's outputs, then make sure its next deadline will be met."""
        engine = self.engine
        while True:
            outputs = engine.outputs()
            if not outputs:
                break
            for output in outputs:
                self.handle(output)
        deadline = engine.get_timer()
        # want(), inlined: this runs once per TCP segment.
        if deadline is not None and (self._armed is None or deadline < self._armed_at):
            self._arm(deadline)

    def _due(self, now: float) -> None:
        self.engine.handle_timer(now)
        self.kick()

"""Where the SimPy clock meets a sans-I/O engine (README design principle 2).

Modelled on aioquic's ``asyncio/protocol.py``: after anything is fed to an engine,
``kick()`` drains its outputs to a handler and arms one SimPy timeout for the
engine's next deadline. A timeout that a newer deadline replaced is ignored when it
fires (its generation is stale), so an engine never sees a timer it no longer wants.
"""

from __future__ import annotations

from typing import Callable


class EngineDriver:
    def __init__(self, env, engine, handle: Callable[[object], None]) -> None:
        self.env = env
        self.engine = engine
        self.handle = handle
        self._deadline: float | None = None
        self._generation = 0

    def kick(self) -> None:
        """Drain the engine's outputs, then (re-)arm its timer."""
        engine = self.engine
        while True:
            outputs = engine.outputs()
            if not outputs:
                break
            for output in outputs:
                self.handle(output)
        deadline = engine.get_timer()
        if deadline == self._deadline:
            return
        self._deadline = deadline
        self._generation += 1
        if deadline is not None:
            generation = self._generation
            timeout = self.env.timeout(max(0.0, deadline - self.env.now))
            timeout.callbacks.append(lambda _event: self._fire(generation))

    def _fire(self, generation: int) -> None:
        if generation != self._generation:
            return
        self._deadline = None
        self.engine.handle_timer(self.env.now)
        self.kick()

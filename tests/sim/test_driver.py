"""The driver where the SimPy clock meets an engine: deadlines met exactly, and an
engine that would hold the clock at one instant is a loud error, not a hang."""

import pytest

from netsim.sim.driver import LIVELOCK, EngineDriver
from netsim.sim.environment import Environment


class Timer:
    """An engine that wants waking at ``at`` and, if ``stuck``, never moves on."""

    def __init__(self, at: float, stuck: bool = False) -> None:
        self.at, self.stuck, self.woken = at, stuck, []

    def outputs(self) -> list:
        return []

    def get_timer(self):
        return self.at

    def handle_timer(self, now: float) -> None:
        self.woken.append(now)
        if not self.stuck:
            self.at = None


def test_the_engine_is_woken_at_its_deadline_exactly():
    env = Environment()
    engine = Timer(1.2550690257394217 + 0.0123)
    EngineDriver(env, engine, handle=lambda out: None).kick()
    env.run()
    assert engine.woken == [1.2550690257394217 + 0.0123]


def test_an_engine_that_never_moves_past_its_timer_stops_the_run_naming_itself():
    env = Environment()
    engine = Timer(0.5, stuck=True)
    EngineDriver(env, engine, handle=lambda out: None).kick()
    with pytest.raises(RuntimeError, match=r"EngineDriver\(Timer\).*t=0\.5 without the engine moving on"):
        env.run(until=1.0)
    assert len(engine.woken) == LIVELOCK + 1

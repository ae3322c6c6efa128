"""netsim's Environment runs SimPy's events in SimPy's order, and its own Callbacks too."""

import pytest
import simpy

from netsim.sim.environment import Environment
from netsim.sim.schedule import Callback, call_later


def _story(env_type):
    """Processes, timeouts, callbacks at equal times and an until: what happened, in order."""
    env = env_type()
    seen = []

    def proc(name, delay):
        yield env.timeout(delay)
        seen.append((env.now, name))
        yield env.timeout(delay)
        seen.append((env.now, name + "'"))

    env.process(proc("a", 1.0))
    env.process(proc("b", 0.5))
    if env_type is Environment:
        call_later(env, 1.0, lambda _e: seen.append((env.now, "call")))
    else:
        env.timeout(1.0).callbacks.append(lambda _e: seen.append((env.now, "call")))
    env.run(until=1.75)
    seen.append((env.now, "stopped"))
    env.run(until=3)
    return seen


def test_processes_timeouts_and_calls_run_in_simpys_order():
    assert _story(Environment) == _story(simpy.Environment)


def test_until_an_event_returns_its_value():
    env = Environment()
    done = env.timeout(2.0, value="ok")
    assert env.run(until=done) == "ok"
    assert env.now == 2.0
    assert env.run(until=done) == "ok"          # already processed


def test_until_the_past_is_refused_and_an_untriggered_until_event_is_an_error():
    env = Environment()
    env.run(until=1)
    with pytest.raises(ValueError, match="must be greater"):
        env.run(until=0.5)
    with pytest.raises(RuntimeError, match="No scheduled events left"):
        env.run(until=env.event())


def test_a_failed_event_nobody_defused_crashes_the_run():
    env = Environment()

    def fails():
        yield env.timeout(1)
        raise KeyError("boom")

    env.process(fails())
    with pytest.raises(KeyError, match="boom"):
        env.run()


def test_a_callback_scheduled_twice_runs_twice_and_step_by_hand_calls_it():
    env = Environment()
    times = []
    tick = Callback(lambda _e: times.append(env.now))
    env.schedule(tick, delay=1.0)
    env.schedule(tick, delay=2.0)
    env.step()
    assert times == [1.0]
    env.run()
    assert times == [1.0, 2.0]
    with pytest.raises(simpy.core.EmptySchedule):
        env.step()


def test_simpys_methods_are_bound_once_as_on_simpys_own_class():
    # SimPy binds env.event, env.timeout, … to the instance (BoundClass.bind_early) so that
    # each call does not build a bound method; a subclass must keep that.
    bound = {"event", "timeout", "process", "all_of", "any_of"}
    assert bound <= set(vars(simpy.Environment()))
    assert bound <= set(vars(Environment()))

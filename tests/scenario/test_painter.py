"""The pictures drawn by a painter process beside the run are those drawn in this one,
a long trace is drawn by a fork after the run instead, and a failing run leaves no
process behind."""

import os
import pickle

import pytest

from netsim import load_scenario, run_scenario
from netsim.scenario import painter
from tests.conftest import SCENARIOS

PICTURES = ("timeline.png", "topology.png", "sequence.png", "sequence.svg")


def pictures(folder):
    return {name: (folder / name).read_bytes() for name in PICTURES}


@pytest.fixture(scope="module")
def drawn_here(tmp_path_factory):
    folder = tmp_path_factory.mktemp("here")
    saved = painter.can_fork
    painter.can_fork = lambda: False
    try:
        run_scenario(load_scenario(SCENARIOS / "router-chain.yaml"), folder)
    finally:
        painter.can_fork = saved
    return pictures(folder)


@pytest.mark.skipif(not painter.can_fork(), reason="needs fork and two cores")
def test_the_painter_draws_what_this_process_draws(drawn_here, tmp_path, monkeypatch):
    started = []
    real = painter.Painter.start
    monkeypatch.setattr(painter.Painter, "start",
                        classmethod(lambda cls, p: started.append(1) or real.__func__(cls, p)))
    result = run_scenario(load_scenario(SCENARIOS / "router-chain.yaml"), tmp_path)
    assert started and pictures(tmp_path) == drawn_here
    assert {p.name for p in result.files} >= set(PICTURES)


@pytest.mark.skipif(not painter.can_fork(), reason="needs fork and two cores")
def test_a_long_trace_is_drawn_after_the_run_instead(drawn_here, tmp_path, monkeypatch):
    monkeypatch.setattr(painter, "COPY_LIMIT", 10)
    run_scenario(load_scenario(SCENARIOS / "router-chain.yaml"), tmp_path)
    assert pictures(tmp_path) == drawn_here
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)                     # no painter left behind


@pytest.mark.skipif(not painter.can_fork(), reason="needs fork and two cores")
def test_a_run_that_fails_stops_its_painter(tmp_path):
    scenario = load_scenario(SCENARIOS / "router-chain.yaml")
    scenario.build = lambda **_: (_ for _ in ()).throw(RuntimeError("the build broke"))
    with pytest.raises(RuntimeError, match="the build broke"):
        run_scenario(scenario, tmp_path)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_trace_copied_to_another_process_reads_the_same():
    trace = run_scenario(load_scenario(SCENARIOS / "router-chain.yaml")).trace
    copy = pickle.loads(pickle.dumps(trace))
    assert list(copy.records()) == list(trace.records())
    assert copy.notes == trace.notes and copy.meta == trace.meta
    assert [copy.cause_of(f) for f in range(copy.frame_count)] == \
        [trace.cause_of(f) for f in range(trace.frame_count)]

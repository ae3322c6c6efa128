"""The pictures drawn by a painter process beside the run are those drawn in this one,
a long trace is drawn by a fork after the run instead, and a failing run leaves no
process behind.

The runs happen in a fresh interpreter: a pytest-xdist worker has a thread of its own,
and netsim forks no process that has other threads (it draws everything in-process).
"""

import pickle
import subprocess
import sys

from netsim import load_scenario, run_scenario
from tests.conftest import ROOT, SCENARIOS

SCRIPT = r"""
import os, sys
from pathlib import Path
from netsim import load_scenario, run_scenario
from netsim.scenario import painter

out = Path(sys.argv[1])
PICTURES = ("timeline.png", "topology.png", "sequence.png", "sequence.svg")
def pictures(folder):
    return {name: (folder / name).read_bytes() for name in PICTURES}
def scenario():
    return load_scenario(Path(sys.argv[2]) / "router-chain.yaml")
def no_child_left():
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False

assert painter.can_fork()
saved = painter.can_fork
painter.can_fork = lambda: False
run_scenario(scenario(), out / "here")
painter.can_fork = saved
here = pictures(out / "here")

started = []
real = painter.Painter.start
painter.Painter.start = classmethod(lambda cls, p: started.append(1) or real.__func__(cls, p))
result = run_scenario(scenario(), out / "painted")
assert started and pictures(out / "painted") == here, "the painter drew other pictures"
assert {p.name for p in result.files} >= set(PICTURES)
assert no_child_left()

painter.COPY_LIMIT = 10                            # too long a trace to copy: a fork after
run_scenario(scenario(), out / "forked")
assert pictures(out / "forked") == here and no_child_left()

broken = scenario()
broken.build = lambda **_: (_ for _ in ()).throw(RuntimeError("the build broke"))
try:
    run_scenario(broken, out / "broken")
except RuntimeError:
    pass
assert no_child_left(), "a failing run left its painter"
print("ok")
"""


def test_the_painter_draws_what_one_process_draws_and_leaves_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(SCENARIOS)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_a_trace_copied_to_another_process_reads_the_same():
    trace = run_scenario(load_scenario(SCENARIOS / "router-chain.yaml")).trace
    copy = pickle.loads(pickle.dumps(trace))
    assert list(copy.records()) == list(trace.records())
    assert copy.notes == trace.notes and copy.meta == trace.meta
    assert [copy.cause_of(f) for f in range(copy.frame_count)] == \
        [trace.cause_of(f) for f in range(trace.frame_count)]

"""The progress bar: on a terminal only, and never a change to what it measures."""

import io
import sys

from netsim.progress import Progress
from tests.conftest import TWO_HOSTS_PING as TINY


def test_progress_shows_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    screen, pipe = Terminal(), io.StringIO()
    for stream in (screen, pipe):
        bar = Progress(30, stream=stream)
        bar.started -= 10                          # ten seconds in
        bar.update(10, failed=1, running=2, force=True)
        bar.close()
    assert "10/30 runs, 1 failed, 2 running, ~20 s left" in screen.getvalue()
    assert pipe.getvalue() == ""


def test_a_long_run_shows_simulated_time_on_a_terminal(monkeypatch):
    """`netsim run`'s bar: simulated seconds done, and nothing changed in the run."""
    from netsim import parse_scenario
    from netsim.scenario.runner import _run_with_progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    shown, plain = parse_scenario(TINY).build(), parse_scenario(TINY).build()
    _run_with_progress(shown, 3.0, True, min_wall=0.0)
    _run_with_progress(plain, 3.0, False)
    assert "3.0/3.0 s simulated" in screen.getvalue()
    assert [shown.trace.frame_bytes(i) for i in range(shown.trace.frame_count)] == \
        [plain.trace.frame_bytes(i) for i in range(plain.trace.frame_count)]

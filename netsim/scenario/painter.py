"""Pictures drawn beside the run, in a second process, on a machine with two cores.

matplotlib takes about 0.4 s to import and a small run about as long to load and
simulate, so :class:`Painter` forks before the network is built: the child imports
matplotlib while the parent simulates, then receives the trace (pickled, through a
pipe) and draws the matplotlib pictures — timelines and topology — while the parent
writes the captures, the trace and the sequence diagram, which need no matplotlib.
A long run's trace is not copied: :func:`write_in_parallel` forks after the run
instead, sharing its memory. Where fork is missing or other threads run (a Jupyter
kernel: forking those is unsafe), or a child fails, everything is drawn in this
process, in order.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import threading
from pathlib import Path

#: Records beyond which the trace is not pickled to the painter (a copy would cost
#: more than the import it saves): the pictures are then drawn by a fork after the run.
COPY_LIMIT = 200_000


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


class Painter:
    """A forked process waiting, matplotlib imported, for a trace to draw."""

    def __init__(self, pid: int, requests: int, reports: int) -> None:
        self.pid, self._requests, self._reports = pid, requests, reports
        self._done = False

    @classmethod
    def start(cls, pictures: dict) -> Painter | None:
        """Fork a painter for ``pictures``: name → function(trace, *arguments) returning
        the paths it wrote (the child has them as this process has them now)."""
        if not can_fork():
            return None
        request_r, request_w = os.pipe()
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(request_w)
            os.close(report_r)
            _serve(pictures, request_r, report_w)   # never returns
        os.close(request_r)
        os.close(report_w)
        return cls(pid, request_w, report_r)

    def draw(self, trace, jobs: dict[str, tuple]) -> bool:
        """Hand over ``jobs``: picture name → its arguments after the trace. False, and
        the painter gone, when the trace is too long to copy."""
        if len(trace) > COPY_LIMIT:
            self.cancel()
            return False
        data = pickle.dumps((trace, jobs), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(self._requests, "wb") as pipe:
            pipe.write(data)
        return True

    def result(self) -> dict[str, list[Path]] | None:
        """Name → the paths each job wrote; None when the painter failed."""
        with os.fdopen(self._reports, "rb") as pipe:
            report = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self._done = True
        if status != 0 or not report:
            return None
        return {name: [Path(p) for p in paths] for name, paths in json.loads(report).items()}

    def cancel(self) -> None:
        """Stop the painter (it has nothing to draw, or this process is failing);
        nothing once its result was read."""
        if self._done:
            return
        self._done = True
        os.kill(self.pid, signal.SIGKILL)          # it writes nothing but its pictures
        for fd in (self._requests, self._reports):
            try:
                os.close(fd)
            except OSError:                        # already closed by draw()
                pass
        os.waitpid(self.pid, 0)


def _serve(pictures: dict, requests: int, reports: int) -> None:
    code = 0
    try:
        # What the pictures import, while the parent builds and runs the network.
        import matplotlib.figure  # noqa: F401
        from matplotlib import font_manager
        from matplotlib.backends import backend_agg  # noqa: F401
        font_manager.get_font(font_manager.findfont(font_manager.FontProperties()))
        with os.fdopen(requests, "rb") as pipe:
            data = pipe.read()
        if data:                                   # nothing when the parent cancelled
            trace, jobs = pickle.loads(data)
            paths = {name: [str(p) for p in pictures[name](trace, *args)]
                     for name, args in jobs.items()}
            with os.fdopen(reports, "wb") as pipe:
                pipe.write(json.dumps(paths).encode())
    except BaseException:                          # noqa: BLE001  (the parent redraws and raises)
        code = 1
    finally:
        os._exit(code)


def write_in_parallel(here: dict, there: dict) -> dict:
    """Run writing jobs (name → a function returning the paths it wrote): ``here`` in
    this process and ``there`` in one forked now, sharing this one's memory."""
    if not there or not can_fork():
        return {name: job() for name, job in {**here, **there}.items()}
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:                                  # the child: write its share, report, leave
        code = 0
        try:
            os.close(reader)
            paths = {name: [str(p) for p in job()] for name, job in there.items()}
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(json.dumps(paths).encode())
        except BaseException:                     # noqa: BLE001  (the parent redoes it and raises)
            code = 1
        finally:
            os._exit(code)
    os.close(writer)
    done = {name: job() for name, job in here.items()}
    with os.fdopen(reader, "rb") as pipe:
        report = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not report:
        return {**done, **{name: job() for name, job in there.items()}}
    return {**done, **{name: [Path(p) for p in paths] for name, paths in json.loads(report).items()}}

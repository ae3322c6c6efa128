"""``run: python`` — a scenario runs a student's own asyncio code on a host.

::

    apps:
      - {node: mx, run: python, module: smtp_demo.py, function: server, service: true}
      - {node: alice, at: 1s, run: python, module: smtp_demo.py, args: {server: mx}}

``module`` is a Python file in the scenario's folder or below it (never elsewhere: the
loader checks, and reads it at load time so a sweep's workers need no files), and
``function`` (default ``main``) an ``async def main(host, **args)`` in it: ``host`` is the
netsim host it runs on, ``args`` the scenario's ``args:``. It runs on the host's event
loop (:mod:`netsim.aio`) in simulated time; what it prints is the app's output, its
return value the app's result, and an exception the app's failure — the traceback in
its output and an ``app-error`` note, as the runtime treats every app — while the
network and every other app run on. Each app runs the module afresh, as each process
of a program would. ``service: true`` marks a server that runs until the end.
``deterministic: true`` puts ``time.time()``/``datetime.now()`` on the simulated clock and
seeds ``random`` from the scenario's seed while the host's code runs.
"""

from __future__ import annotations

import contextvars
import inspect
import traceback
from pathlib import Path

from netsim.apps.base import App
from netsim.sim.runtime import app_error


def check_module(folder: Path, name: str) -> tuple[Path, str]:
    """``(path, source)`` of a scenario's module, or ValueError saying why it cannot be
    one: outside the scenario's folder, unreadable, or not Python."""
    wanted = (folder / name).resolve()
    if Path(name).is_absolute() or not wanted.is_relative_to(folder.resolve()):
        raise ValueError(f"{name!r}: a module must be in the scenario's folder or below it")
    if wanted.suffix != ".py":
        raise ValueError(f"{name!r}: a module is a .py file")
    try:
        source = wanted.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        compile(source, str(wanted), "exec")
    except SyntaxError as exc:
        raise ValueError(f"{name}, line {exc.lineno}: {exc.msg}") from None
    return wanted, source


class PythonApp(App):
    """Your own asyncio program: an async def from a module beside the scenario, on the host.

    Its print() is the app's output, its return value the result, an exception its failure
    with the traceback (see the module's docstring)."""

    name = "python"
    SCHEMA = {
        "module": {"type": "string", "description": "a .py file in the scenario's folder or "
                                                    "below it"},
        "function": {"type": "string", "default": "main",
                     "description": "the async def to run: main(host, **args)"},
        "args": {"type": "object", "description": "keyword arguments for the function"},
        "service": {"type": "boolean", "default": False,
                    "description": "a server: it runs until the end of the run"},
        "deterministic": {"type": "boolean", "default": False,
                          "description": "time.time()/datetime.now() on the simulated clock "
                                         "and random seeded from the scenario's seed"},
    }
    REQUIRED = ["module"]
    # (Run from the project's folder: a module is found from the scenario's own folder.)
    EXAMPLE = {"node": "alice", "at": "1s", "run": "python", "module": "scenarios/asyncio_smtp.py",
               "function": "client", "args": {"server": "mx", "messages": 3},
               "deterministic": True}

    def __init__(self, node, *, module: str, function: str = "main", args: dict | None = None,
                 service: bool = False, deterministic: bool = False, at: float = 0.0) -> None:
        super().__init__(node, at=at)
        self.module = module
        self.function = function
        self.args = dict(args or {})
        self.SERVICE = service
        self.deterministic = deterministic
        self.task = None
        self.value = None
        self._partial = ""                  # printed text not yet ended by a newline

    def start(self) -> None:
        # netsim.aio resolves names through netsim.apps: imported when first needed, since
        # importing netsim.apps (whose registry lists this app) must not import it.
        from netsim.aio import inside, loop_for

        path = Path(self.module)
        namespace = {"__name__": f"scenario_{path.stem}", "__file__": str(path)}
        try:
            code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
            exec(code, namespace)           # noqa: S102 — the scenario's own program
        except Exception as exc:            # noqa: BLE001 — the program's failure, not ours
            self._failed(exc)
            return
        function = namespace.get(self.function)
        if not inspect.iscoroutinefunction(function):
            self.error = f"{path.name} has no async def {self.function}(host, **args)"
            self.say(f"python: {self.error}")
            return
        loop = loop_for(self.node)
        if self.deterministic:
            loop.simulated_clock = loop.seeded_random = True
        loop.consoles += 1
        context = contextvars.copy_context()
        context.run(inside.console.set, self)
        try:
            coro = context.run(function, self.node, **self.args)
        except TypeError as exc:            # arguments the function does not take
            loop.consoles -= 1
            self._failed(exc)
            return
        self.task = loop.create_task(coro, name=f"{self.function} on {self.node.name}",
                                     context=context)
        self.task.add_done_callback(self._finished)

    def console_write(self, text: str) -> None:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        self.lines.extend(lines)

    def _flush(self) -> None:
        if self._partial:
            self.lines.append(self._partial)
            self._partial = ""

    def _finished(self, task) -> None:
        task.get_loop().consoles -= 1
        self._flush()
        if task.cancelled():
            self.error = "cancelled"
            self.say(f"python: {self.function}() was cancelled")
            return
        exc = task.exception()
        if exc is not None:
            self._failed(exc)
            return
        self.value = task.result()

    def _failed(self, exc: BaseException) -> None:
        self._flush()
        # The program's frames only: from its module down, as python prints a traceback.
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [i for i, f in enumerate(frames) if f.filename == str(Path(self.module))]
        tb = exc.__traceback__
        for _ in range(ours[0] if ours else 0):
            tb = tb.tb_next
        self.lines.append("Traceback (most recent call last):")
        self.lines.extend(line for chunk in traceback.format_tb(tb) for line in chunk.rstrip("\n").split("\n"))
        self.lines.extend(traceback.format_exception_only(type(exc), exc)[-1].rstrip("\n").split("\n"))
        self.error = f"{type(exc).__name__}: {exc}"
        app_error(self, self.error, cause="program")

    @property
    def status(self) -> str:
        if self.SERVICE and self.error is not None:
            return "failed"                 # a server whose program raised
        return super().status

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done() and self.error is None

    def progress(self) -> str:
        if self.task is None:
            return "it had not started"
        return f"{self.function}() was still waiting"

    def wrap_up(self) -> None:
        self._flush()
        if self.task is not None and not self.task.done():
            # The run is over and the program with it: a server still serving is no leak
            # for asyncio to warn of when its task is collected.
            self.task._log_destroy_pending = False
        super().wrap_up()

    def result(self) -> dict:
        value = self.value
        if not isinstance(value, (str, int, float, bool, type(None), list, dict)):
            value = repr(value)
        return {"returned": value}

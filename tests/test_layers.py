"""The layers of ``netsim/``, checked whole (DESIGN: "a folder is a layer, and imports only
point down"; "no import circles between modules").

Every module under ``netsim/`` is read with :mod:`ast` — new modules are picked up as they
appear. Its imports are taken at module level *and* inside functions (a lazy import is still
a dependency: it runs the moment the function does), absolute and relative (``from .x import
y`` is resolved against the importing module's package), and each is resolved to the deepest
module it names (``from netsim.trace import summary`` is an edge to ``netsim.trace.summary``).
From that module graph come three checks:

* **levels** — each package sits on a level (``LEVELS``), and a module imports only modules
  of its own level or below;
* **DESIGN's rules** — what proto and viz never import, and which packages alone import
  Scapy, SimPy and matplotlib;
* **circles** — the graph has no cycle; each one found is printed as its path of modules.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import netsim

ROOT = Path(netsim.__file__).parent

#: Lowest first; the packages (and top-level modules) of one tuple share a level and may
#: import each other. A module may import only from its own level or below.
LEVELS = (
    # Top-level modules that import nothing of netsim (only the standard library), so they
    # sit under everything: the NetsimError tree, quantities with units ("10Mbps", "2ms"),
    # and the terminal progress bar that scenario/runner and sweeps draw.
    ("errors", "units", "progress"),
    ("wire",),            # frames; the only package that imports Scapy
    ("proto",),           # sans-I/O engines
    # The trace sits under sim, not beside viz: every model records into it (DESIGN: "every
    # model emits records here"), so links, interfaces and nodes import its recorder and
    # record kinds. It needs only wire (to describe frames) — see NEVER for what it may not.
    ("trace",),           # records, recorder, pcap, JSON Lines, tables
    ("sim",),             # SimPy: nodes, links, sockets, the application runtime
    # applications on nodes; building networks; users' own asyncio code on hosts (aio
    # resolves names as every app does, and the `python` app runs its loop)
    ("apps", "topo", "aio"),
    ("viz", "check"),     # what is drawn from the trace; what is checked in it (netsim check)
    ("scenario",),        # YAML in, a built network and its run out
    ("sweeps", "classroom"),  # many scenario runs: a sweep's, a class's
    ("cli",),             # `netsim …`
)
LEVEL = {name: rank for rank, names in enumerate(LEVELS) for name in names}

#: ``netsim/__init__.py`` re-exports the public API of every layer, so it sits above all of
#: them (it loads them by name on first use, PEP 562, and so has no import statement to
#: check); no module inside netsim may import it.
PACKAGE_LEVEL = len(LEVELS)

#: What an ``importlib.import_module``/``__import__`` call imports, as far as ast can tell.
DYNAMIC = "<dynamic>"

#: DESIGN's rules beyond the order: what a package never imports (a name or its submodules).
NEVER = {
    "proto": ("netsim.sim", "netsim.apps", "netsim.viz", "simpy", "matplotlib"),  # sans-I/O
    "viz": ("netsim.sim", "netsim.proto", "netsim.apps"),      # renderers read only the trace
    # What viz reads must not pull in the engines viz never imports.
    "trace": ("netsim.proto",),
}
#: Third-party packages only these netsim packages may import.
ONLY = {
    "scapy": ("wire",),
    "simpy": ("sim",),
    # scenario/runner loads it and its font once, before it forks a process to draw in.
    "matplotlib": ("viz", "scenario"),
}


def _module_name(path: Path) -> str:
    parts = ("netsim",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "__pycache__" not in p.parts}


def _deepest(name: str, known: dict[str, Path]) -> str:
    """The module ``name`` runs last: itself, or the nearest enclosing module that exists."""
    probe = name
    while probe and probe not in known:
        probe = probe.rpartition(".")[0]
    return probe or name


def _imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """``(imported module, line)`` for every import statement in the module, lazy ones too;
    a call of ``importlib.import_module`` or ``__import__`` is ``("<dynamic>", line)``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = ".".join(base[:len(base) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module
            for alias in node.names:
                # `from pkg import mod` imports the module pkg.mod when there is one.
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in known else base, node.lineno))
        elif isinstance(node, ast.Call) and _called(node) in ("import_module", "__import__"):
            found.append((DYNAMIC, node.lineno))
    return [(_deepest(target, known) if target.split(".")[0] == "netsim" else target, line)
            for target, line in found]


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _graph() -> tuple[dict[str, Path], dict[str, dict[str, int]]]:
    known = _modules()
    edges: dict[str, dict[str, int]] = {}
    for name, path in known.items():
        edges[name] = {}
        for target, line in _imports(name, path, known):
            if target != name:      # a package naming itself is no circle between modules
                edges[name].setdefault(target, line)
    return known, edges


def _level(module: str) -> tuple[str, int | None]:
    parts = module.split(".")
    if len(parts) == 1:
        return "netsim", PACKAGE_LEVEL
    return parts[1], LEVEL.get(parts[1])


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_every_package_has_a_level():
    """A new top-level package or module must be placed in LEVELS before it can be checked."""
    known, _ = _graph()
    unplaced = sorted({_level(m)[0] for m in known if _level(m)[1] is None})
    assert unplaced == [], f"give these a level in LEVELS: {unplaced}"


def _violations(known: dict[str, Path], edges: dict[str, dict[str, int]]) -> list[str]:
    bad = []
    for module, targets in sorted(edges.items()):
        layer, rank = _level(module)
        where = known[module].relative_to(ROOT.parent)
        for target, line in sorted(targets.items()):
            top = target.split(".")[0]
            if target == DYNAMIC and module != "netsim":
                bad.append(f"{where}:{line} imports a module by name, which this check cannot see")
            if top == "netsim":
                target_layer, target_rank = _level(target)
                if rank is not None and target_rank is not None and target_rank > rank:
                    bad.append(f"{where}:{line} ({layer}) imports {target} ({target_layer}, a higher level)")
            if any(_within(target, never) for never in NEVER.get(layer, ())):
                bad.append(f"{where}:{line} imports {target}: {layer} never imports it (DESIGN)")
            if top in ONLY and layer not in ONLY[top]:
                bad.append(f"{where}:{line} imports {target}: only {', '.join(ONLY[top])} may")
    return bad


def test_imports_point_down():
    bad = _violations(*_graph())
    assert bad == [], "\n" + "\n".join(bad)


def _cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """A circle through every import edge that lies on one — for each edge a → b, the
    shortest way back b → … → a — each circle once (rotations are the same circle). Every
    edge that closes a circle is thus shown in one."""
    inner = {a: [b for b in bs if b in edges] for a, bs in edges.items()}
    cycles, seen = [], set()
    for a in sorted(inner):
        for b in sorted(inner[a]):
            back = _shortest_path(inner, b, a)
            if back is None:
                continue
            cycle = [a] + back[:-1] if a != b else [a]
            start = cycle.index(min(cycle))
            key = tuple(cycle[start:] + cycle[:start])
            if key not in seen:
                seen.add(key)
                cycles.append(list(key) + [key[0]])
    return cycles


def _shortest_path(graph: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    before = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        if here == goal:
            path = []
            while here is not None:
                path.append(here)
                here = before[here]
            return path[::-1]
        for there in graph[here]:
            if there not in before:
                before[there] = here
                queue.append(there)
    return None


def test_no_import_circles():
    known, edges = _graph()
    shown = []
    for cycle in _cycles(edges):
        steps = [f"{a} ({known[a].relative_to(ROOT.parent)}:{edges[a][b]})"
                 for a, b in zip(cycle, cycle[1:])]
        shown.append(" → ".join(steps + [cycle[-1]]))
    assert shown == [], "\n" + "\n".join(shown)


def test_the_checks_see_relative_and_lazy_imports(tmp_path):
    """The checker itself: a relative import inside a function is resolved and counted."""
    pkg = tmp_path / "netsim" / "sim"
    pkg.mkdir(parents=True)
    (pkg / "a.py").write_text("def f():\n    from ..trace import table\n    from . import b\n")
    known = {"netsim.sim.a": pkg / "a.py", "netsim.sim.b": pkg / "b.py",
             "netsim.trace": pkg, "netsim.trace.table": pkg}
    assert _imports("netsim.sim.a", pkg / "a.py", known) == [("netsim.trace.table", 2), ("netsim.sim.b", 3)]
    graph = {"x": {"y": 1}, "y": {"z": 1, "x": 2}, "z": {"z": 1}}
    assert _cycles(graph) == [["x", "y", "x"], ["z", "z"]]


def test_the_checks_flag_what_they_forbid():
    """The checker itself: an upward import, a DESIGN rule, a foreign library, a dynamic import."""
    known = {m: ROOT / "x.py" for m in ("netsim", "netsim.proto.a", "netsim.sim.b", "netsim.viz.c")}
    edges = {"netsim": {DYNAMIC: 1, "netsim.sim.b": 2},
             "netsim.proto.a": {"netsim.sim.b": 3, "netsim.errors": 4},
             "netsim.sim.b": {"simpy": 5, "scapy.all": 6},
             "netsim.viz.c": {"netsim.proto.a": 7, "netsim.trace": 8, DYNAMIC: 9}}
    found = [line.split(" ", 1)[1] for line in _violations(known, edges)]
    assert found == [
        "(proto) imports netsim.sim.b (sim, a higher level)",
        "imports netsim.sim.b: proto never imports it (DESIGN)",
        "imports scapy.all: only wire may",
        "imports a module by name, which this check cannot see",
        "imports netsim.proto.a: viz never imports it (DESIGN)",
    ]

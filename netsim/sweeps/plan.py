"""What a sweep runs: the product of the varied values, times the seeds.

A variation names a key path as the error messages write it — ``links[1].loss``,
``nodes.r1.stack``, ``apps[0].size``, ``defaults.link.loss`` — and its values, as
they would be written in the file (``1%``, ``10``, ``textbook``). Every combination is
checked as a scenario of its own before anything runs, so a value the schema refuses
is an error naming the path, the value and the file's line, not a failed run later.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from dataclasses import dataclass

import yaml

from netsim.errors import ScenarioError
from netsim.scenario.loader import check_scenario
from netsim.scenario.paths import format_path
from netsim.scenario.yamlpos import load_with_lines

_PART = re.compile(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[\]]+)')


@dataclass(frozen=True)
class Variation:
    path: tuple
    values: tuple

    @property
    def name(self) -> str:
        return format_path(self.path)


@dataclass(frozen=True)
class Job:
    """One run of a sweep: everything a worker needs, and nothing it must share."""
    index: int
    text: str                   # the scenario file as written
    source: str
    settings: tuple             # ((path, value), ...) applied to it
    seed: int
    outdir: str | None
    outputs: tuple | None

    @property
    def columns(self) -> dict:
        return {format_path(path): value for path, value in self.settings}


def parse_vary(spec: str) -> tuple[str, list]:
    """``'links[1].loss=0%,1%,2%'`` → ``('links[1].loss', ['0%', '1%', '2%'])``; each value
    read as YAML reads it (``10`` a number, ``1%`` text)."""
    path, sep, values = spec.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise ScenarioError(f"--vary {spec!r}: write it as PATH=VALUE,VALUE,…")
    return path.strip(), [_value(v.strip()) for v in values.split(",")]


def _value(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def resolve_path(data, text: str) -> tuple:
    """The key path ``text`` names in ``data``; a dotted node name (``ns.example``) is
    one key where the file has it so."""
    parts = []
    quoted = set()                          # parts written ["…"]: one key, dots and all
    for match in _PART.finditer(text):
        index, literal, key = match.groups()
        if literal is not None:
            quoted.add(len(parts))
            parts.append(json.loads(literal))
        else:
            parts.append(int(index) if index is not None else key)
    path, node, i = [], data, 0
    while i < len(parts):
        part = parts[i]
        if isinstance(part, int) or not isinstance(node, dict) or i in quoted:
            path.append(part)
            node = node[part] if isinstance(node, list) and isinstance(part, int) \
                and part < len(node) else node.get(part) if isinstance(node, dict) else None
            i += 1
            continue
        # The longest run of parts that is one key of this mapping (node names may hold dots).
        for j in range(len(parts), i, -1):
            if all(isinstance(p, str) for p in parts[i:j]) and ".".join(parts[i:j]) in node:
                key = ".".join(parts[i:j])
                break
        else:
            key, j = part, i + 1
        path.append(key)
        node = node.get(key)
        i = j
    return tuple(path)


def apply(data: dict, settings) -> dict:
    """A copy of ``data`` with each ``(path, value)`` set; the parent must exist."""
    out = copy.deepcopy(data)
    for path, value in settings:
        parent = out
        for k, part in enumerate(path[:-1]):
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                raise ScenarioError(f"the scenario has no {format_path(path[:k + 1])} to vary",
                                    path=format_path(path)) from None
        last = path[-1]
        if isinstance(parent, list):
            if not isinstance(last, int) or last >= len(parent):
                raise ScenarioError(f"the scenario has no {format_path(path)} to vary",
                                    path=format_path(path))
        elif not isinstance(parent, dict):
            raise ScenarioError(f"{format_path(path[:-1])} is not a mapping", path=format_path(path))
        parent[last] = value
    return out


def plan(text: str, source: str, vary: dict[str, list], seeds: int, *,
         outdir: str | None = None, outputs=None) -> tuple[list[Variation], list[Job]]:
    """Check every combination and return the jobs, in a stable order: combinations in
    the order the values were given, then seeds from the scenario's own."""
    data, lines = load_with_lines(text, source)
    base = check_scenario(copy.deepcopy(data), lines, source)
    variations = [Variation(resolve_path(data, path), tuple(values)) for path, values in vary.items()]
    combos = list(itertools.product(*(v.values for v in variations))) if variations else [()]
    for combo in combos:
        settings = tuple(zip((v.path for v in variations), combo))
        described = ", ".join(f"{format_path(p)}={v}" for p, v in settings)
        try:
            check_scenario(apply(data, settings), lines, source)
        except ScenarioError as exc:
            exc.message = f"{exc.message} (with {described})" if described else exc.message
            exc.source = exc.source or source
            raise
    jobs = []
    for c, combo in enumerate(combos):
        settings = tuple(zip((v.path for v in variations), combo))
        for k in range(seeds):
            index = c * seeds + k
            folder = None if outdir is None else f"{outdir}/runs/{index:04d}"
            jobs.append(Job(index, text, source, settings, base.seed + k, folder,
                            None if outputs is None else tuple(outputs)))
    return variations, jobs

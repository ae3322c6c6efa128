"""The bundled scenarios (``scenarios/*.yaml``): where they are, and a scenario by name.

``netsim run router-chain``, ``netsim.sweep("tcp-goodput-vs-loss")`` and the notebooks all
name scenarios this way.
"""

from __future__ import annotations

import os
from pathlib import Path

from netsim.errors import ScenarioError


def bundled_dir() -> Path:
    """Where the bundled scenarios live (``$NETSIM_SCENARIOS`` overrides)."""
    env = os.environ.get("NETSIM_SCENARIOS")
    return Path(env) if env else Path(__file__).resolve().parent.parent.parent / "scenarios"


def find_scenario(name: str) -> Path:
    """A path as given, or a bundled scenario by name (``router-chain``), or a file among
    the bundled ones (``labs/mail-mx/expect.yaml``; a lab's folder names its
    ``start.yaml``); a name that is none of these is a
    :class:`~netsim.errors.ScenarioError` with the nearest bundled names."""
    path = Path(name)
    if not path.exists() and not path.is_absolute():
        inside = bundled_dir() / name               # labs/mail-mx/expect.yaml
        if inside.is_dir() and (inside / "start.yaml").exists():
            return inside / "start.yaml"            # a lab's starting scenario: labs/mail-mx
        if inside.is_file():
            return inside
    if path.exists() or path.suffix in (".yaml", ".yml") or os.sep in name:
        return path
    for candidate in (bundled_dir() / f"{name}.yaml", bundled_dir() / f"{name}.yml"):
        if candidate.exists():
            return candidate
    import difflib
    known = sorted(p.stem for p in bundled_dir().glob("*.y*ml"))
    hint = difflib.get_close_matches(name, known, n=1)
    raise ScenarioError(f"no scenario file {name!r} and no bundled scenario of that name"
                        + (f"; did you mean {hint[0]}?" if hint else
                           f" (bundled: {', '.join(known)})"), source="command line")

"""``netsim``: run, validate and list scenarios; print the scenario schema.

Imports stay inside the commands so that ``netsim --help`` starts in a blink.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_SCENARIO_ERROR = 2


def bundled_dir() -> Path:
    """Where the bundled scenarios live (``$NETSIM_SCENARIOS`` overrides)."""
    env = os.environ.get("NETSIM_SCENARIOS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "scenarios"


def find_scenario(name: str) -> Path:
    """A path as given, or a bundled scenario by name (``router-chain``)."""
    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml") or os.sep in name:
        return path
    for candidate in (bundled_dir() / f"{name}.yaml", bundled_dir() / f"{name}.yml"):
        if candidate.exists():
            return candidate
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="netsim",
        description="A packet-level network simulator: real frames on simulated links, "
                    "captures, summaries.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario and write its outputs")
    run.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    run.add_argument("-o", "--outdir", help="where outputs go (default: out/<scenario name>)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--until", help="override how long to run, e.g. 30s")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")

    validate = sub.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario")

    sub.add_parser("list", help="list the bundled scenarios")
    sub.add_parser("schema", help="print the scenario JSON Schema")

    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from netsim.errors import ScenarioError
    try:
        return {"run": _run, "validate": _validate, "list": _list, "schema": _schema}[args.command](args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SCENARIO_ERROR


def _run(args) -> int:
    from netsim.errors import ScenarioError
    from netsim.scenario import load_scenario, run_scenario
    from netsim.units import parse_time

    scenario = load_scenario(find_scenario(args.scenario))
    until = None
    if args.until is not None:
        try:
            until = parse_time(args.until)
        except ValueError as exc:
            raise ScenarioError(str(exc), path="--until", source="command line") from None
    outdir = Path(args.outdir) if args.outdir else Path("out") / scenario.name
    result = run_scenario(scenario, outdir, seed=args.seed, until=until)
    if not args.quiet:
        print(result.text())
    return 0


def _validate(args) -> int:
    from netsim.scenario import load_scenario
    scenario = load_scenario(find_scenario(args.scenario))
    print(f"{scenario.source}: ok ({len(scenario.data['nodes'])} nodes, "
          f"{len(scenario.data.get('links', []))} links, {len(scenario.data.get('apps', []))} apps)")
    return 0


def _list(args) -> int:
    import yaml
    for path in sorted(bundled_dir().glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            data = {}
        print(f"{path.stem:22} {str(data.get('description', '')).strip().splitlines()[0] if data.get('description') else ''}")
    return 0


def _schema(args) -> int:
    import json
    from netsim.scenario.schema import scenario_schema
    print(json.dumps(scenario_schema(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

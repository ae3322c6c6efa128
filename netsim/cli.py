"""``netsim``: run, validate and list scenarios; print the scenario schema.

Imports stay inside the commands so that ``netsim --help`` starts in a blink.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_SCENARIO_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """A command's parser, whose description may be a function called when its help is
    printed: ``netsim diagram --help`` lists the protocol registry's words, and no other
    command (``netsim --help`` least of all) loads the registry for it."""

    def format_help(self) -> str:
        if callable(self.description):
            self.description = self.description()
        return super().format_help()


def _diagram_description() -> str:
    import netsim.proto  # noqa: F401 — every protocol's descriptor (no engine is loaded)
    from netsim.wire import registry
    app_level = [p.name for p in registry.protocols() if p.messages]
    return ("Draw a sequence diagram from OUTDIR/trace.jsonl without re-running. "
            f"Filter terms, comma-separated: a protocol ({', '.join(registry.filter_words())}), "
            "node=NAME, flow=PORT or flow=A:P-B:P, from=TIME, to=TIME. "
            f"--level app draws what applications said: {', '.join(app_level[:-1])} and "
            f"{app_level[-1]} messages.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="netsim",
        description="A packet-level network simulator: real frames on simulated links, "
                    "captures, summaries.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run a scenario and write its outputs")
    run.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    run.add_argument("-o", "--outdir", help="where outputs go (default: out/<scenario name>)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument("--until", help="override how long to run, e.g. 30s")
    run.add_argument("--outputs", help="what to write, comma-separated (default: the scenario's "
                     "'outputs:', else all: pcap,jsonl,summary,sequence,timeline,topology)")
    run.add_argument("--stream", action="store_true",
                     help="write captures and trace.jsonl as the run goes: flat memory for "
                          "long runs (no diagrams; netsim diagram draws them afterwards)")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")

    validate = sub.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario")

    diagram = sub.add_parser(
        "diagram", help="draw a sequence diagram again from a saved run (its trace.jsonl)",
        description=_diagram_description)
    diagram.add_argument("outdir", help="a folder written by netsim run")
    diagram.add_argument("--filter", default="", help="e.g. 'tcp,node=server,from=0.8s'")
    diagram.add_argument("--format", choices=["svg", "png", "mermaid", "plantuml"], default="svg")
    diagram.add_argument("--level", choices=["end-to-end", "link", "app"], default="end-to-end",
                         help="app: only what applications said (the protocols named above)")
    diagram.add_argument("--scale", choices=["compressed", "time"], default="compressed")
    diagram.add_argument("--limit", type=_positive, default=60,
                         help="at most this many messages, chosen to tell the story (default 60)")
    diagram.add_argument("--ports", action="store_true", help="one lane per host:port")
    diagram.add_argument("--header", action="append", default=[], metavar="NAME",
                         help="an HTTP header to show beside each start line at --level app "
                              "(repeat; Set-Cookie, Cookie, Location, If-None-Match, "
                              "If-Modified-Since and SOAPAction are always shown)")
    diagram.add_argument("-o", "--output", help="file to write (default: OUTDIR/diagram.<ext>)")

    from netsim.sweeps.command import add_arguments as sweep_arguments
    sweep = sub.add_parser("sweep", help="run a scenario many times, varying keys and seeds",
                           description="Run every combination of the varied values with each "
                                       "seed — here on every core, or on a Dask cluster — and "
                                       "write one table (CSV and Parquet) of what each run "
                                       "measured, and plots of it.")
    sweep_arguments(sweep)

    from netsim.classroom.command import add_arguments as check_arguments
    check = sub.add_parser("check", help="run a scenario and say which of its expectations hold",
                           description="Run a scenario and check its 'expect:' (or a teacher's "
                                       "--expect FILE): pass or fail each, with the frames or "
                                       "values that decided it. Exit 0: all hold; 1: one does "
                                       "not; 2: nothing could be checked.")
    check_arguments(check)

    sub.add_parser("list", help="list the bundled scenarios")
    apps = sub.add_parser("apps", help="the applications a scenario can run, with their keys")
    apps.add_argument("name", nargs="?", help="one application (default: all)")
    sub.add_parser("schema", help="print the scenario JSON Schema")

    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from netsim.errors import ScenarioError
    try:
        return {"run": _run, "validate": _validate, "list": _list, "schema": _schema,
                "diagram": _diagram, "apps": _apps, "sweep": _sweep,
                "check": _check}[args.command](args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SCENARIO_ERROR
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(args) -> int:
    from netsim.errors import ScenarioError
    from netsim.scenario import load_scenario, run_scenario
    from netsim.scenario.bundled import find_scenario
    from netsim.scenario.outputs import parse_outputs
    from netsim.units import parse_interval

    scenario = load_scenario(find_scenario(args.scenario))
    if scenario.data.get("sweep", {}).get("always") and args.seed is None and args.until is None:
        return _run_sweep(args)
    until = None
    if args.until is not None:
        try:
            until = parse_interval(args.until)
        except ValueError as exc:
            raise ScenarioError(str(exc), path="--until", source="command line") from None
    outputs = parse_outputs(args.outputs)
    outdir = Path(args.outdir) if args.outdir else Path("out") / scenario.name
    _check_outdir(outdir)
    try:
        result = run_scenario(scenario, outdir, seed=args.seed, until=until, outputs=outputs,
                              stream=args.stream, progress=not args.quiet)
    except OSError as exc:
        if exc.errno is None:
            raise           # not the file system's: a fault of the simulation, shown as one
        raise ScenarioError(f"cannot write the outputs: {exc.strerror or exc} "
                            f"({exc.filename or outdir})", path="-o", source="command line") from None
    if not args.quiet:
        print(result.text())
    return 0


def _run_sweep(args) -> int:
    """``netsim run`` of a scenario whose sweep is the lesson (``sweep: {always: true}``):
    the sweep its section describes, into the run's output folder."""
    import argparse
    from netsim.sweeps.command import sweep_command
    outdir = args.outdir or str(Path("out") / Path(args.scenario).stem)
    sweep_args = argparse.Namespace(scenario=args.scenario, vary=None, seeds=None, plot=None,
                                    scheduler=None, workers=None, outdir=outdir,
                                    outputs=args.outputs, quiet=args.quiet)
    return sweep_command(sweep_args, check_outdir=_check_outdir)


def _check(args) -> int:
    from netsim.classroom.command import check_command
    return check_command(args, check_outdir=_check_outdir)


def _sweep(args) -> int:
    from netsim.sweeps.command import sweep_command
    return sweep_command(args, check_outdir=_check_outdir)


def _diagram(args) -> int:
    import netsim.proto  # noqa: F401 — every protocol's descriptor, for the filter and labels
    from netsim.trace.jsonl import load_jsonl
    from netsim.viz import sequence_diagram
    from netsim.viz.filters import parse_filter

    source = Path(args.outdir) / "trace.jsonl"
    if not source.exists():
        print(f"error: {source} not found: run the scenario with 'jsonl' in its outputs",
              file=sys.stderr)
        return EXIT_SCENARIO_ERROR
    try:
        options = parse_filter(args.filter)
    except ValueError as exc:
        print(f"error: --filter: {exc}", file=sys.stderr)
        return EXIT_SCENARIO_ERROR
    try:
        trace = load_jsonl(source)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SCENARIO_ERROR
    diagram = sequence_diagram(trace, level=args.level, scale=args.scale,
                               limit=args.limit, ports=args.ports, headers=args.header, **options)
    if not diagram.messages:
        print(f"error: no message matches --filter {args.filter!r}" if args.filter else
              "error: the trace holds no messages", file=sys.stderr)
        return 1
    suffix = {"svg": ".svg", "png": ".png", "mermaid": ".mmd", "plantuml": ".puml"}[args.format]
    output = Path(args.output) if args.output else Path(args.outdir) / f"diagram{suffix}"
    if output.suffix.lower() != suffix:
        output = output.with_suffix(suffix)
    diagram.save(output)
    shown = f"{len(diagram)} of {diagram.total}" if diagram.total > len(diagram) else str(len(diagram))
    print(f"wrote {output} ({shown} messages, lanes: {', '.join(diagram.lanes) or 'none'})")
    return 0


def _check_outdir(outdir: Path) -> None:
    """A folder we can write into, or a clear error before any simulation runs."""
    from netsim.errors import ScenarioError
    if outdir.exists() and not outdir.is_dir():
        raise ScenarioError(f"{outdir} exists and is not a folder", path="-o", source="command line")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"cannot make the folder {outdir}: {exc.strerror or exc}", path="-o",
                            source="command line") from None
    if not os.access(outdir, os.W_OK | os.X_OK):
        raise ScenarioError(f"cannot write into {outdir}: permission denied", path="-o",
                            source="command line")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _apps(args) -> int:
    from netsim.apps.docs import describe_apps
    try:
        print(describe_apps(args.name))
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_SCENARIO_ERROR
    return 0


def _validate(args) -> int:
    from netsim.scenario import load_scenario
    from netsim.scenario.bundled import find_scenario
    scenario = load_scenario(find_scenario(args.scenario))
    # Build it too (no run): whatever building would refuse — a DHCP pool outside its
    # subnet, a dns-server with nothing to serve, an unknown IMAP action — validate refuses.
    scenario.build(trace=False)
    print(f"{scenario.source}: ok ({len(scenario.data['nodes'])} nodes, "
          f"{len(scenario.data.get('links', []))} links, {len(scenario.data.get('apps', []))} apps)")
    return 0


def _list(args) -> int:
    import yaml
    from netsim.scenario.bundled import bundled_dir
    for path in sorted(bundled_dir().glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            data = {}
        print(f"{path.stem:22} {str(data.get('description', '')).strip().splitlines()[0] if data.get('description') else ''}")
    labs = sorted(p.parent.name for p in bundled_dir().glob("labs/*/start.yaml"))
    if labs:
        print("\nlabs (netsim check labs/NAME/start.yaml --expect labs/NAME/expect.yaml):")
        for name in labs:
            print(f"  labs/{name}")
    return 0


def _schema(args) -> int:
    import json
    from netsim.scenario.schema import scenario_schema
    print(json.dumps(scenario_schema(), indent=2))
    return 0


def entry() -> None:
    """The ``netsim`` command. It leaves without the interpreter's teardown — freeing
    every module and object of a run one by one takes a fifth of a second, and the
    operating system frees a process faster; every file is closed by then."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()

"""``netsim sweep``: the command line of :func:`netsim.sweeps.sweep`."""

from __future__ import annotations

import time
from pathlib import Path

from netsim.errors import ScenarioError


def sweep_command(args, *, check_outdir) -> int:
    from netsim.scenario import load_scenario
    from netsim.scenario.bundled import find_scenario
    from netsim.scenario.outputs import parse_outputs
    from netsim.sweeps import parse_vary, sweep

    scenario = load_scenario(find_scenario(args.scenario))
    section = scenario.data.get("sweep", {})
    vary = dict(parse_vary(spec) for spec in args.vary) if args.vary else section.get("vary", {})
    if not vary:
        raise ScenarioError("nothing to vary: give --vary PATH=V1,V2 (or a 'sweep:' section)",
                            path="--vary", source="command line")
    seeds = args.seeds if args.seeds is not None else section.get("seeds", 1)
    if seeds < 1:
        raise ScenarioError("--seeds must be at least 1", path="--seeds", source="command line")
    if args.workers is not None and args.workers < 1:
        raise ScenarioError("--workers must be at least 1", path="--workers", source="command line")
    plots = args.plot or section.get("plot", [])
    compares = section.get("compare", []) if not args.plot else []
    reference = _reference(section.get("reference"))
    outputs = parse_outputs(args.outputs)
    outdir = Path(args.outdir) if args.outdir else Path("out") / f"{scenario.name}-sweep"
    check_outdir(outdir)
    started = time.monotonic()
    check = _plot_checker(plots, list(vary)) if plots else None
    frame = sweep(scenario, vary, seeds, outdir=outdir, outputs=outputs, scheduler=args.scheduler,
                  workers=args.workers, progress=not args.quiet, check_first=check)
    wall = time.monotonic() - started
    files = list(frame.attrs.get("files", []))
    for spec in plots:
        files.append(_plot(frame, spec, reference, outdir))
    tables = []
    for spec in compares:
        text, path = _compare(frame, spec, outdir)
        tables.append(text)
        files.append(path)
    failed = frame[frame["status"] == "failed"]
    if not args.quiet:
        where = args.scheduler or "this machine"
        print(f"== {scenario.name}: {len(frame)} runs on {where} in {wall:.1f} s"
              + (f", {len(failed)} FAILED" if len(failed) else ""))
        for spec in plots:
            print(_medians(frame, spec, reference))
        for text in tables:
            print(text)
        for _, row in failed.iterrows():
            print(f"run {row['run']} (seed {row['seed']}) failed: {row['error']}")
        print(f"wrote {', '.join(str(f) for f in files)}")
    return 1 if len(failed) else 0


def _reference(section):
    if not section:
        return None
    from netsim.units import parse_interval
    return {"model": section["model"], "mss": section["mss"], "rtt": parse_interval(section["rtt"])}


def _plot(frame, spec: str, reference, outdir: Path) -> Path:
    from netsim.viz.sweep_plot import sweep_figure
    metric, _, parameter = spec.partition("~")
    if not parameter:
        raise ScenarioError(f"--plot {spec!r}: write it as METRIC~PARAMETER, e.g. goodput~loss",
                            path="--plot", source="command line")
    try:
        figure = sweep_figure(frame, metric.strip(), parameter.strip(), reference=reference)
    except ValueError as exc:
        raise ScenarioError(str(exc), path="--plot", source="command line") from None
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{metric}-{parameter}")
    path = outdir / f"sweep-{safe.strip('-')}.png"
    from netsim.trace.outfiles import write_into_place
    return write_into_place(path, lambda part: figure.savefig(part, dpi=110))


def _compare(frame, spec: str, outdir: Path) -> tuple[str, Path]:
    """A ``compare`` entry: its table (text) and its picture."""
    from netsim.sweeps.compare import compare_table, series
    from netsim.trace.outfiles import write_into_place
    from netsim.viz.sweep_plot import compare_figure
    metric, x, names = series(frame, spec)
    figure = compare_figure(frame, metric, x, names)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in
                   f"{metric.rsplit('.', 1)[-1]}-{x}")
    path = outdir / f"compare-{safe.strip('-')}.png"
    return compare_table(frame, spec), write_into_place(path, lambda part: figure.savefig(part, dpi=110))


def _medians(frame, spec: str, reference) -> str:
    """The plotted metric's median per value (and the model's), as a few lines of text."""
    from netsim.viz.sweep_plot import find_column, find_columns, mathis, quantity
    metric, _, parameter = spec.partition("~")
    ok = frame[frame["status"] == "ok"]
    varied = frame.attrs.get("varied") or []
    x = find_column(ok, parameter.strip(), among=varied)
    lines = []
    for y in find_columns(ok, metric.strip()):
        rate = y.endswith("_bps")
        lines.append(f"{y} by {x}, median over seeds:")
        for value, group in ok.groupby(x, sort=False):
            median = group[y].median()
            text = f"{median / 1e6:.2f} Mbit/s" if rate else f"{median:.6g}"
            if reference and reference["model"] == "mathis" and quantity(value) > 0:
                model = mathis(quantity(value), mss=reference["mss"], rtt=reference["rtt"])
                text += f"  (Mathis et al. {model / 1e6:.2f} Mbit/s, ratio {median / model:.2f})"
            lines.append(f"  {x}={value}: {text}")
    return "\n".join(lines)


def _plot_checker(plots: list[str], varied: list[str]):
    """Check every ``--plot`` before the runs: its form and its parameter at once (the
    varied keys are known), its metric against the first run's row — so a misspelt
    column costs one run, not the whole sweep."""
    import pandas as pd
    from netsim.viz.sweep_plot import find_column, find_columns
    for spec in plots:
        metric, _, parameter = spec.partition("~")
        if not parameter.strip() or not metric.strip():
            raise ScenarioError(f"--plot {spec!r}: write it as METRIC~PARAMETER, e.g. goodput~loss",
                                path="--plot", source="command line")
        try:
            find_column(pd.DataFrame(columns=varied), parameter.strip(), among=varied)
        except ValueError as exc:
            raise ScenarioError(f"--plot {spec!r}: {exc} (the varied keys: {', '.join(varied)})",
                                path="--plot", source="command line") from None

    def check(row: dict) -> None:
        if row.get("status") != "ok":
            return                          # the sweep reports the failure itself
        columns = pd.DataFrame(columns=list(row))
        for spec in plots:
            try:
                find_columns(columns, spec.partition("~")[0].strip())
            except ValueError as exc:
                raise ScenarioError(f"--plot {spec!r}: {exc} in the first run's summary",
                                    path="--plot", source="command line") from None
    return check


def add_arguments(parser) -> None:
    parser.add_argument("scenario", help="a scenario file, or the name of a bundled one")
    parser.add_argument("--vary", action="append", metavar="PATH=V1,V2,…",
                        help="a key path and its values, e.g. 'links[1].loss=0%%,1%%,2%%' "
                             "(repeat: the product is run; default: the scenario's sweep: section)")
    parser.add_argument("--seeds", type=int, help="runs per combination, seeds from the scenario's own")
    parser.add_argument("--plot", action="append", metavar="METRIC~PARAMETER",
                        help="draw a metric against a varied key, e.g. 'goodput~loss'")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="run on this Dask cluster (pip install 'netsim[cluster]')")
    parser.add_argument("--workers", type=int, help="local processes (default: one per core)")
    parser.add_argument("-o", "--outdir", help="where the table and each run's folder go "
                                               "(default: out/<scenario name>-sweep)")
    parser.add_argument("--outputs", help="what each run writes (default: the scenario's outputs:)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


__all__ = ["add_arguments", "sweep_command"]

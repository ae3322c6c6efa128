"""Parameter sweeps: many runs of one scenario, one table of what each measured.

``netsim.sweep("tcp-goodput-vs-loss", vary={"links[1].loss": ["0.5%", "1%", "2%"]},
seeds=10)`` runs every combination of the varied values with each seed — on this
machine's cores, or on a Dask cluster with ``scheduler="tcp://host:8786"`` — and
returns a pandas DataFrame: a row per run, the varied values and the seed, the run's
status, then every number its ``summary.json`` holds (see :mod:`netsim.sweeps.flatten`).
"""

from __future__ import annotations

from pathlib import Path


def sweep(scenario, vary: dict | None = None, seeds: int | None = None, *,
          outdir: str | Path | None = None, outputs=None, scheduler: str | None = None,
          workers: int | None = None, progress: bool = False, check_first=None):
    """Run the sweep and return its table; ``scenario`` is a file, a bundled name or a
    loaded :class:`~netsim.scenario.Scenario`. ``vary`` and ``seeds`` default to the
    scenario's ``sweep:`` section, and so do the ``outputs`` each run writes. With
    ``outdir``, each run writes them to
    ``outdir/runs/NNNN/`` and the table goes to ``outdir/sweep.{csv,parquet}``.
    ``check_first``: called with the first run's row before the others start (it raises
    to stop the sweep: a plot asking for a column no run has)."""
    # Imported here: `netsim --help` reads this package for its arguments only.
    from netsim.sweeps.execute import run_jobs
    from netsim.sweeps.plan import plan
    from netsim.progress import Progress
    from netsim.sweeps.table import to_frame, write_table

    text, source, section = _source(scenario)
    vary = {k: list(v) for k, v in (vary if vary is not None else section.get("vary", {})).items()}
    seeds = seeds if seeds is not None else section.get("seeds", 1)
    outputs = outputs if outputs is not None else section.get("outputs")
    out = None if outdir is None else Path(outdir)
    variations, jobs = plan(text, source, vary, seeds, outdir=None if out is None else str(out),
                            outputs=outputs)
    bar = Progress(len(jobs)) if progress else None
    try:
        rows = []
        if check_first is not None and jobs:
            rows = run_jobs(jobs[:1], scheduler=scheduler, workers=1)
            check_first(rows[0])
        rows += run_jobs(jobs[len(rows):], scheduler=scheduler, workers=workers, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    frame = to_frame(rows, [v.name for v in variations])
    if out is not None:
        frame.attrs["files"] = write_table(frame, out)
    return frame


def _source(scenario) -> tuple[str, str, dict]:
    """The scenario's text, where it came from, and its ``sweep:`` section."""
    from netsim.scenario import Scenario, load_scenario
    if not isinstance(scenario, Scenario):
        from netsim.scenario.bundled import find_scenario
        scenario = load_scenario(find_scenario(str(scenario)))
    return scenario.text, scenario.source, scenario.data.get("sweep", {})


def parse_vary(spec: str):
    from netsim.sweeps.plan import parse_vary as parse
    return parse(spec)


__all__ = ["parse_vary", "sweep"]

"""One run of a sweep, where it runs: a local worker process or a Dask worker.

Only the job crosses to the worker (the scenario's text, its settings, the seed) and
only the row comes back, so a run gives the same row wherever it ran.
"""

from __future__ import annotations

from netsim.scenario.loader import check_scenario
from netsim.scenario.runner import run_scenario
from netsim.scenario.yamlpos import load_with_lines
from netsim.sweeps.flatten import flatten_summary
from netsim.sweeps.plan import Job, apply


def run_job(job: Job) -> dict:
    """Run ``job`` as ``netsim run`` would, into its own folder; a run that fails is a
    row that says why, never an exception."""
    row = {"run": job.index, **job.columns, "seed": job.seed}
    try:
        data, lines = load_with_lines(job.text, job.source)
        scenario = check_scenario(apply(data, job.settings), lines, job.source)
        result = run_scenario(scenario, job.outdir, seed=job.seed,
                              outputs=list(job.outputs) if job.outputs is not None else None)
    except Exception as exc:                 # noqa: BLE001 — reported in the row, and on
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        return row
    row.update(status="ok", error="", **flatten_summary(result.summary))
    return row

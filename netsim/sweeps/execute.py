"""Where a sweep's runs go: this machine's cores, or a Dask cluster.

Locally the runs go to a process pool, one run per core at a time (a simulation is one
process; many run side by side). With a scheduler address they go to that Dask
cluster (``dask.distributed``, the optional ``netsim[cluster]`` extra) — the workers
need netsim installed; each gets the job, runs it and sends back only the row.
"""

from __future__ import annotations

import os

from netsim.progress import Progress
from netsim.sweeps.worker import run_job


def run_jobs(jobs, *, scheduler: str | None = None, workers: int | None = None,
             progress: Progress | None = None) -> list[dict]:
    """Every job's row, in job order; a failed run is a row with ``status: failed``."""
    if not jobs:
        return []
    if scheduler is not None:
        rows = _on_dask(jobs, scheduler, progress)
    elif (workers or os.cpu_count() or 1) == 1 or len(jobs) == 1:
        rows = _here(jobs, progress)
    else:
        rows = _on_pool(jobs, workers or os.cpu_count() or 1, progress)
    return sorted(rows, key=lambda row: row["run"])


def _tick(progress, rows, total, running):
    if progress is not None:
        progress.update(len(rows), failed=sum(r["status"] == "failed" for r in rows),
                        running=running, force=len(rows) == total)


def _here(jobs, progress) -> list[dict]:
    rows: list[dict] = []
    for job in jobs:
        _tick(progress, rows, len(jobs), 1)
        rows.append(run_job(job))
    _tick(progress, rows, len(jobs), 0)
    return rows


def _on_pool(jobs, workers: int, progress) -> list[dict]:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    rows: list[dict] = []
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        pending = {pool.submit(run_job, job) for job in jobs}
        while pending:
            _tick(progress, rows, len(jobs), min(workers, len(pending)))
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            rows.extend(future.result() for future in done)
    _tick(progress, rows, len(jobs), 0)
    return rows


def _on_dask(jobs, scheduler: str, progress) -> list[dict]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        from netsim.errors import ScenarioError
        raise ScenarioError("--scheduler needs Dask: pip install 'netsim[cluster]'",
                            path="--scheduler", source="command line") from None
    rows: list[dict] = []
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        from netsim.errors import ScenarioError
        raise ScenarioError(f"cannot reach a Dask scheduler at {scheduler}: {exc}",
                            path="--scheduler", source="command line") from None
    with client:
        # pure=False: a key of its own for every run, so two sweeps sharing a cluster
        # never mistake one's run for the other's.
        futures = [client.submit(run_job, job, pure=False) for job in jobs]
        for future in as_completed(futures):
            rows.append(future.result())
            _tick(progress, rows, len(jobs), len(jobs) - len(rows))
    return rows

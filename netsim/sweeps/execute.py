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

#: How long a scheduler has to accept the connection, do Dask's handshake and say who it
#: is, before the sweep gives up on it (a peer that accepts and says nothing hung it).
SCHEDULER_TIMEOUT = 10.0


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
    check_scheduler(scheduler)
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


def check_scheduler(address: str, timeout: float | None = None) -> None:
    """That a Dask scheduler answers at ``address``: connect, do Dask's handshake and
    ask its ``identity``, all within ``timeout`` seconds — else a clear error, where
    ``Client(address)`` waited for ever on a peer that accepts and says nothing. The
    asking runs in a thread of its own (a Jupyter kernel already runs an event loop)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect

    from netsim.errors import ScenarioError

    timeout = SCHEDULER_TIMEOUT if timeout is None else timeout

    async def identity():
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            await comm.close()

    def ask():
        return asyncio.run(asyncio.wait_for(identity(), timeout))

    def fail(why: str) -> ScenarioError:
        return ScenarioError(f"no Dask scheduler at {address}: {why}", path="--scheduler",
                             source="command line")

    with ThreadPoolExecutor(1, thread_name_prefix="netsim-scheduler-check") as pool:
        try:
            reply = pool.submit(ask).result()
        except TimeoutError:
            raise fail(f"nothing answered Dask's handshake within {timeout:g} s") from None
        except (OSError, ValueError) as exc:
            raise fail(str(exc) or type(exc).__name__) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        kind = reply.get("type") if isinstance(reply, dict) else type(reply).__name__
        raise fail(f"the peer says it is {kind!r}, not a Scheduler")

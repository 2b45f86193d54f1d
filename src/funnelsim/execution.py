"""Running a sweep's replications: serially, on local processes, or on a Dask cluster.

Every run is a pure function of its scenario and seed, so whichever executor runs it, the
tables are identical. The executor only decides where runs happen: ``serial`` in this process,
``processes`` (the default) on a local process pool, ``dask`` on a Dask cluster, either a
LocalCluster started for the run or an existing scheduler given by address, which is how a
team outgrows one machine.

Results come back to this process as each run finishes and are saved at once (see
``results.py``); a progress bar shows runs done, runs per second and time left. Ctrl-C, or a
worker that dies, loses at most the runs in flight: ``--resume`` runs what is missing.
"""

from __future__ import annotations

import os
import platform
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from funnelsim.experiment import run_replication
from funnelsim.params import Scenario
from funnelsim.results import ResultStore
from funnelsim.sweeps import Sweep

__all__ = ["RunTask", "RunOutcome", "run_sweep", "SweepInterrupted", "ResumeMismatch", "EXECUTORS"]

Executor = Literal["serial", "processes", "dask"]
EXECUTORS = ("serial", "processes", "dask")


@dataclass(frozen=True)
class RunTask:
    point: int
    replication: int
    scenario: Scenario
    seed: np.random.SeedSequence
    keep_leads: bool


@dataclass
class RunOutcome:
    point: int
    replication: int
    kpis: dict[str, Any]
    daily: pd.DataFrame
    leads: pd.DataFrame | None
    seconds: float


def execute_task(task: RunTask) -> RunOutcome:
    """Run one replication of one point (a top-level function, so any executor can ship it)."""
    rep = run_replication(task.scenario, task.seed, task.replication)
    kpis = {
        "point": task.point,
        "replication": task.replication,
        "seed": rep.seed,
        "spawn_key": rep.spawn_key,
        **rep.kpis,
        "seconds": rep.seconds,
    }
    return RunOutcome(
        point=task.point,
        replication=task.replication,
        kpis=kpis,
        daily=rep.daily.drop(columns="replication"),
        leads=rep.leads.drop(columns="replication") if task.keep_leads else None,
        seconds=rep.seconds,
    )


class SweepInterrupted(Exception):
    """The sweep stopped early (Ctrl-C or a failed worker); finished runs are saved."""

    def __init__(self, reason: str, saved: int, total: int):
        super().__init__(f"{reason}: {saved} of {total} runs are saved; run again with --resume to finish")
        self.saved, self.total = saved, total


class ResumeMismatch(Exception):
    """The results folder holds another sweep (or results exist and --resume was not given)."""


def _serial(tasks: list[RunTask], workers: int, scheduler: str | None) -> Iterator[RunOutcome]:
    for task in tasks:
        yield execute_task(task)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which stops the sweep cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _processes(tasks: list[RunTask], workers: int, scheduler: str | None) -> Iterator[RunOutcome]:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts)
    pending: set[Future] = set()
    queue = list(reversed(tasks))
    try:
        # Keep a couple of tasks per worker in flight, so an interruption loses little.
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                pending.add(pool.submit(execute_task, queue.pop()))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _dask(tasks: list[RunTask], workers: int, scheduler: str | None) -> Iterator[RunOutcome]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(execute_task, task, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_RUNNERS: dict[str, Callable[[list[RunTask], int, str | None], Iterator[RunOutcome]]] = {
    "serial": _serial,
    "processes": _processes,
    "dask": _dask,
}


def _points_table(sweep: Sweep) -> pd.DataFrame:
    rows = [{"point": p.index, "scenario": p.scenario.name, **p.factors} for p in sweep.points]
    frame = pd.DataFrame(rows)
    for column in sweep.factor_names:  # mixed types (e.g. a list of names and numbers) as text
        if frame[column].map(type).nunique() > 1:
            frame[column] = frame[column].astype(str)
    return frame


def _manifest(sweep: Sweep, executor: str, workers: int, keep_leads: bool) -> dict[str, Any]:
    return {
        "sweep": sweep.name,
        "source_file": sweep.source,
        "design": sweep.design,
        "definition": sweep.definition,
        "factor_names": sweep.factor_names,
        "points": len(sweep.points),
        "replications": sweep.replications,
        "seed": sweep.seed,
        "common_random_numbers": sweep.common_random_numbers,
        "fingerprint": sweep.fingerprint(),
        "save_leads": keep_leads,
        "parameters": {p.scenario.name: p.scenario.model_dump(mode="json", by_alias=True) for p in sweep.points},
        "versions": {
            "funnelsim": version("funnelsim"),
            "python": platform.python_version(),
            **{lib: version(lib) for lib in ("simpy", "numpy", "pandas")},
        },
        "sessions": [],
    }


def run_sweep(
    sweep: Sweep,
    store: ResultStore,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    keep_leads: bool = False,
    progress: bool = True,
) -> int:
    """Run every missing run of ``sweep`` into ``store``; return how many ran now."""
    workers = workers or os.cpu_count() or 1
    if store.exists():
        manifest = store.read_manifest()
        if not resume:
            raise ResumeMismatch(
                f"{store.folder} already holds results: add --resume to finish them, or choose another --out"
            )
        if manifest.get("fingerprint") != sweep.fingerprint():
            raise ResumeMismatch(
                f"{store.folder} holds results of a different sweep (its parameters, seed or "
                f"replications differ): choose another --out"
            )
        keep_leads = manifest.get("save_leads", keep_leads)
    else:
        manifest = _manifest(sweep, executor, workers, keep_leads)
        store.write_points(_points_table(sweep))
        store.write_manifest(manifest)

    done = store.finished()
    tasks = [
        RunTask(p.index, r, p.scenario, sweep.seed_for(p.index, r), keep_leads)
        for r in range(sweep.replications)
        for p in sweep.points
        if (p.index, r) not in done
    ]
    started = time.perf_counter()
    saved = 0
    run_seconds: list[float] = []
    bar = tqdm(total=sweep.runs, initial=len(done), unit="run", desc=sweep.name, disable=not progress)
    reason = None
    try:
        for outcome in _RUNNERS[executor](tasks, workers, scheduler):
            store.save_run(outcome.point, outcome.replication, outcome.kpis, outcome.daily, outcome.leads)
            saved += 1
            run_seconds.append(outcome.seconds)
            bar.update(1)
    except KeyboardInterrupt:
        reason = "interrupted"
    except Exception as exc:  # a worker died or a run failed: keep what is saved
        reason = f"stopped by {type(exc).__name__}: {exc}"
    finally:
        bar.close()
        manifest["sessions"].append(
            {
                "executor": executor,
                "workers": workers,
                "scheduler": scheduler,
                "runs": saved,
                "wall_seconds": round(time.perf_counter() - started, 3),
                "run_seconds": round(float(np.sum(run_seconds)), 3),
            }
        )
        store.write_manifest(manifest)
    if reason:
        raise SweepInterrupted(reason, len(done) + saved, sweep.runs)
    return saved

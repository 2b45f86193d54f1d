"""Running a sweep's replications: serially, on local processes, or on a Dask cluster.

Every run is a pure function of its scenario and seed, so whichever executor runs it, the
tables are identical. The executor (``executors.py``) only decides where runs happen: ``serial``
in this process, ``processes`` (the default) on a local process pool, ``dask`` on a Dask
cluster, either a LocalCluster started for the run or an existing scheduler given by address,
which is how a team outgrows one machine.

Results come back to this process as each run finishes and are saved at once (see
``results.py``); a progress bar shows runs done, runs per second and time left. Ctrl-C, or a
worker that dies, loses at most the runs in flight: ``--resume`` runs what is missing.

Only one process writes a results folder at a time (a second is refused). Pool workers end
when the process that started them dies, even by ``kill -9``. A Dask scheduler address is
checked first, within CONNECT_SECONDS, and a session that saved nothing into a folder it
created leaves no manifest behind, so the next attempt starts afresh.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import platform
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from funnelsim.config.errors import InputError, MachineError
from funnelsim.config.files import folder_lock
from funnelsim.config.schema import Scenario
from funnelsim.experiments.executors import CONNECT_SECONDS, EXECUTORS, RUNNERS
from funnelsim.experiments.experiment import run_replication
from funnelsim.experiments.results import ResultStore, SweepResults, load_results
from funnelsim.experiments.sweeps import Sweep

__all__ = [
    "EXECUTORS",
    "ResumeMismatch",
    "RunOutcome",
    "RunTask",
    "SchedulerUnreachable",
    "SweepInterrupted",
    "check_scheduler",
    "run_sweep",
    "run_sweep_into",
]


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


class SweepInterrupted(MachineError):
    """The sweep stopped early (Ctrl-C or a failed worker); finished runs are saved.

    ``interrupted`` is true when the user pressed Ctrl-C (exit status 130, as a shell gives),
    false when a worker or run failed (exit status 1)."""

    def __init__(self, reason: str, saved: int, total: int, interrupted: bool = False):
        super().__init__(f"{reason}: {saved} of {total} runs are saved; run again with --resume to finish")
        self.saved, self.total, self.interrupted = saved, total, interrupted
        self.exit_status = 130 if interrupted else 1


class ResumeMismatch(InputError):
    """The results folder holds another sweep (or results exist and --resume was not given)."""


class SchedulerUnreachable(InputError):
    """No Dask scheduler answers at the address given."""


def check_scheduler(address: str, seconds: float | None = None) -> None:
    """Raise ``SchedulerUnreachable`` unless a Dask scheduler answers at ``address`` in time.

    Anything else listening there (a web or SSH server) gets a clear message instead of a hang
    or a "cannot allocate 3 EiB" from reading its greeting as a Dask message.
    """
    from dask.distributed import Client

    seconds = seconds or CONNECT_SECONDS

    async def probe() -> None:
        async with Client(address, asynchronous=True, timeout=seconds):  # connects and greets the scheduler
            pass

    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    problem = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a half-made client warns when it is collected
            try:
                asyncio.run(asyncio.wait_for(probe(), seconds + 1))
            except Exception as exc:  # a timeout, a refusal, a bad address, a greeting read as a 3 EiB message
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            gc.collect()
    finally:
        quiet.setLevel(level)
    if problem:
        raise SchedulerUnreachable(
            f"--scheduler {address}: not a Dask scheduler, or none answered within {seconds:g} s "
            f"({problem[:200]}); give the address of a running scheduler, e.g. tcp://host:8786"
        )


# The sweep's runs on each executor (tests replace one to simulate an interruption or a failure).
_RUNNERS: dict[str, Callable[[list[RunTask], int, str | None], Iterator[RunOutcome]]] = {
    name: partial(runner, execute_task) for name, runner in RUNNERS.items()
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
    notify: Callable[[str], None] | None = None,
) -> int:
    """Run every missing run of ``sweep`` into ``store``; return how many ran now.

    Raises ``files.FolderBusy`` if another process writes ``store``, ``ResumeMismatch`` if it
    holds other results, ``results.DamagedResults`` if its manifest does not read,
    ``SchedulerUnreachable`` for a Dask address where no scheduler answers, and
    ``SweepInterrupted`` when runs stop early. ``notify`` receives notes worth telling (a
    lock taken over from a dead process, damaged runs to run again).
    """
    workers = workers or os.cpu_count() or 1
    tell = notify or (lambda message: None)
    if executor == "dask" and scheduler:
        check_scheduler(scheduler)
    with folder_lock(store.folder) as note:
        if note:
            tell(note)
        return _run_locked(sweep, store, executor, workers, scheduler, resume, keep_leads, progress, tell)


def _run_locked(sweep: Sweep, store: ResultStore, executor: str, workers: int, scheduler: str | None, resume: bool,
                keep_leads: bool, progress: bool, tell: Callable[[str], None]) -> int:
    fresh = not store.exists()
    if not fresh:
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

    tables = ("kpis", "daily", "leads") if keep_leads else ("kpis", "daily")
    damaged = store.drop_damaged(tables)
    if damaged:
        tell(f"{len(damaged)} saved runs do not read (e.g. {damaged[0].relative_to(store.folder)}): running them again")
    done = store.finished(tables)
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
    interrupted = False
    try:
        for outcome in _RUNNERS[executor](tasks, workers, scheduler):
            store.save_run(outcome.point, outcome.replication, outcome.kpis, outcome.daily, outcome.leads)
            saved += 1
            run_seconds.append(outcome.seconds)
            bar.update(1)
    except KeyboardInterrupt:
        reason, interrupted = "interrupted", True
    except Exception as exc:  # a worker died, a run failed or the cluster went away: keep what is saved
        reason = f"stopped by {type(exc).__name__}: {exc}"
    finally:
        bar.close()
        if fresh and saved == 0 and reason:
            store.clear()  # nothing to resume: the next attempt starts afresh instead of needing --resume
        else:
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
            try:
                store.write_manifest(manifest)
            except OSError as exc:  # a full disk: the saved runs stand, only this session's log is lost
                tell(f"{store.manifest_path}: could not record this session: {exc.strerror}")
    if reason:
        raise SweepInterrupted(reason, len(done) + saved, sweep.runs, interrupted=interrupted)
    return saved


def run_sweep_into(
    sweep: Sweep,
    folder: str | Path | None,
    name: str = "sweep",
    executor: str = "processes",
    workers: int | None = None,
    resume: bool = True,
    notify: Callable[[str], None] | None = None,
    progress: bool = False,
    scheduler: str | None = None,
) -> SweepResults:
    """Run ``sweep`` into ``folder/name`` (a progress bar with ``progress``) and return its results.

    The studies' sweeps go through here. With ``resume`` (the default) the runs already saved
    there are reused and only the missing ones run, so a report or plan run again finishes an
    interrupted sweep; with no ``folder`` (an empty string or None) the runs go to a new
    temporary folder. Raises what ``run_sweep`` raises.
    """
    where = Path(folder) / name if folder else Path(tempfile.mkdtemp(prefix=f"{name}-"))
    run_sweep(sweep, ResultStore(where), executor=executor, workers=workers, scheduler=scheduler, progress=progress,
              resume=resume, notify=notify)
    return load_results(where)

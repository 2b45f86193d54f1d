"""Where runs happen: in this process, on local processes, or on a Dask cluster.

Every run is a pure function of its scenario and seed, so the executor only decides where it
happens, never what it gives. ``run_each(job, tasks, executor, workers, scheduler)`` hands each
task to ``job`` on the executor and yields the results as they finish (not in task order):

* ``serial``: one after another in this process;
* ``processes`` (the default of every study): a pool of ``workers`` local processes, a couple
  of tasks per worker in flight, so an interruption loses little. The workers leave Ctrl-C to
  this process and end when it is gone, even by ``kill -9``;
* ``dask``: a Dask cluster, the running scheduler at ``scheduler`` (how a team outgrows one
  machine) or a LocalCluster of ``workers`` processes started for the call.

``in_order`` yields the same results in the order of the tasks, each as soon as those before it
are done (a run that writes each replication's leads as it goes); ``run_in_order`` returns them
all as a list in that order.

Sweeps (``execution.py``, which adds results folders and resuming), the studies' scenario runs
(``experiment.run_scenarios``), staffing pilots, the evidence's firms and the ensemble's points
all go through here.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from functools import partial
from typing import Any, Literal, TypeVar

__all__ = ["CONNECT_SECONDS", "EXECUTORS", "Executor", "PARENT_CHECK_SECONDS", "in_order", "run_each", "run_in_order"]

Executor = Literal["serial", "processes", "dask"]
EXECUTORS = ("serial", "processes", "dask")

CONNECT_SECONDS = 10.0  # how long to wait for a Dask scheduler to answer
PARENT_CHECK_SECONDS = 0.5  # how often a pool worker checks that the process that started it lives

Task = TypeVar("Task")
Result = TypeVar("Result")


def serial(job: Callable[[Task], Result], tasks: list[Task], workers: int, scheduler: str | None) -> Iterator[Result]:
    for task in tasks:
        yield job(task)


def _worker_start(parent: int) -> None:
    """In each pool worker: leave Ctrl-C to the main process, and end when it is gone.

    A worker whose parent died (``kill -9`` gives it no chance to stop its pool) is adopted by
    another process; it notices within PARENT_CHECK_SECONDS and exits instead of running on.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def processes(job: Callable[[Task], Result], tasks: list[Task], workers: int, scheduler: str | None) -> Iterator[Result]:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_start, initargs=(os.getpid(),))
    pending: set[Future[Result]] = set()
    queue = list(reversed(tasks))
    try:
        # Keep a couple of tasks per worker in flight, so an interruption loses little.
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                pending.add(pool.submit(job, queue.pop()))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def dask(job: Callable[[Task], Result], tasks: list[Task], workers: int, scheduler: str | None) -> Iterator[Result]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout=CONNECT_SECONDS)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(job, task, pure=False) for task in tasks]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


RUNNERS: dict[str, Callable[..., Iterator[Any]]] = {"serial": serial, "processes": processes, "dask": dask}


def _numbered(job: Callable[[Task], Result], numbered: tuple[int, Task]) -> tuple[int, Result]:
    number, task = numbered
    return number, job(task)


def in_order(job: Callable[[Task], Result], tasks: list[Task], executor: str | None = None, workers: int = 1,
             scheduler: str | None = None, finished: Callable[[], None] | None = None) -> Iterator[Result]:
    """``run_each``'s results in the order of the tasks, each as soon as it and every task before
    it are done: a result that finishes early waits only for those before it, so a consumer that
    writes each to disk holds few at a time. ``finished`` is told each time a task is done,
    whatever its place (a progress bar)."""
    waiting: dict[int, Result] = {}
    following = 0
    for number, result in run_each(partial(_numbered, job), list(enumerate(tasks)), executor, workers, scheduler):
        if finished is not None:
            finished()
        waiting[number] = result
        while following in waiting:
            yield waiting.pop(following)
            following += 1


def run_in_order(job: Callable[[Task], Result], tasks: list[Task], executor: str | None = None, workers: int = 1,
                 scheduler: str | None = None, finished: Callable[[], None] | None = None) -> list[Result]:
    """``in_order``'s results as a list, once every task is done."""
    return list(in_order(job, tasks, executor, workers, scheduler, finished))


def run_each(job: Callable[[Task], Result], tasks: list[Task], executor: str | None = None, workers: int = 1,
             scheduler: str | None = None) -> Iterator[Result]:
    """``job(task)`` for every task on the ``executor``, yielded as each finishes; without one, on
    ``workers`` local processes (in this process for one worker or one task). ``job`` must be a
    top-level function (picklable) for ``processes`` and ``dask``."""
    workers = max(1, min(workers, len(tasks)))
    executor = executor or ("processes" if workers > 1 else "serial")
    if executor not in RUNNERS:
        raise ValueError(f"executor {executor!r}: allowed are {', '.join(EXECUTORS)}")
    if scheduler and executor != "dask":  # it would be ignored: the runs would not go where asked
        raise ValueError(f"a Dask scheduler ({scheduler}) needs the dask executor, not {executor!r}")
    return RUNNERS[executor](job, tasks, workers, scheduler)

"""Benchmark of "what it takes": why options are ranked on a response surface, not simulated.

Run: ``python benchmarks/bench_planning.py`` (``make bench`` runs it). It prints, and asserts
nothing:

* the time to predict every combination of levers in ``params/plans/grow-revenue.yaml``
  (1,458 options, with CIs) from a fitted surface, per option;
* the time of one simulated replication of the same company;
* both as ratios to a bare SimPy M/M/5 queue (seconds per customer) run in the same process,
  and how many options the surface ranks in the time of one simulation.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from simpy_baseline import seconds_per_customer

from funnelsim.experiments.execution import run_sweep
from funnelsim.experiments.experiment import run_replication
from funnelsim.experiments.results import ResultStore, load_results
from funnelsim.stats.response import ResponseSurface
from funnelsim.studies.plan_file import load_plan
from funnelsim.studies.planning import plan_sweep, rank_options

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["simulation.horizon_days=180", "simulation.warmup_days=30"]


def main() -> None:
    unit = seconds_per_customer()
    plan = load_plan(ROOT / "params" / "plans" / "grow-revenue.yaml", SHORT)
    folder = Path(tempfile.mkdtemp(prefix="bench-plan-"))
    try:
        run_sweep(plan_sweep(plan, points=16, replications=1), ResultStore(folder), executor="processes", progress=False)
        runs = load_results(folder).runs
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    surface = ResponseSurface.fit(runs, "revenue", plan.levers)

    started = time.perf_counter()
    options = rank_options(plan, surface)
    ranking = time.perf_counter() - started

    started = time.perf_counter()
    run_replication(plan.today, 1)
    one_run = time.perf_counter() - started

    per_option = ranking / len(options)
    print(f"bare SimPy M/M/5: {unit * 1e6:.2f} us per customer (the unit below)")
    print(f"rank {len(options):,} options on the surface: {ranking:.3f} s = {per_option * 1e6:.0f} us per option "
          f"= {per_option / unit:,.0f} SimPy customers")
    print(f"one replication of today's company ({SHORT[0]}): {one_run:.2f} s = {one_run / unit:,.0f} SimPy customers")
    print(f"the surface ranks {one_run / per_option:,.0f} options in the time of one simulated replication")


if __name__ == "__main__":
    main()

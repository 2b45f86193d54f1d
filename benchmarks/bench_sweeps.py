"""Benchmark of sweep execution: parallel efficiency, Dask overhead, common random numbers.

Run: ``python benchmarks/bench_sweeps.py [--quick]`` (``make bench`` runs it). It prints, and
asserts nothing:

* parallel efficiency of 2 local processes against serial on a 16-run sweep
  (serial time / (2 x process time); 100% is perfect, target >= 85%, issue 14). The machine's
  speed drifts (the same serial sweep took 4.8 s and 7.5 s minutes apart), so serial and
  processes alternate for a few rounds after a warm-up run and the median of the rounds is
  printed beside each round; so is the share of the wall time the two workers spent running
  (the runs' own seconds / (2 x wall)), which the drift between rounds does not touch;
* the Dask executor (a LocalCluster of 2 workers started for the run) against local processes;
* every timing also as a ratio to a bare SimPy M/M/5 queue run in the same process, so the
  figures can be compared across machines;
* the variance reduction from common random numbers: the variance of the paired difference in
  revenue between two close scenarios with shared seeds, against independent seeds (target >= 5x).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from simpy_baseline import seconds_per_customer

from funnelsim import load_scenario, run_replication
from funnelsim.experiments.execution import run_sweep
from funnelsim.experiments.results import ResultStore, load_results
from funnelsim.experiments.sweeps import load_sweep

ROOT = Path(__file__).resolve().parents[1]


def write_sweep(folder: Path, runs: int, horizon: int) -> Path:
    base = folder / "base.yaml"
    base.write_text(f"extends: {ROOT / 'params' / 'baseline.yaml'}\nsimulation: {{horizon_days: {horizon}, warmup_days: 30}}\n")
    sweep = folder / "bench.yaml"
    sweep.write_text(
        "name: bench\ndesign: full_factorial\nbase: base.yaml\n"
        f"factors:\n  sdr_team.reps: [4, 6, 8, 10]\nreplications: {runs // 4}\nseed: 3\n"
    )
    return sweep


def timed_sweep(sweep_file: Path, folder: Path, executor: str, workers: int) -> tuple[float, float]:
    """Wall seconds of the sweep on ``executor``, and the seconds its runs took themselves."""
    store = folder / executor
    shutil.rmtree(store, ignore_errors=True)
    sweep = load_sweep(sweep_file)
    started = time.perf_counter()
    run_sweep(sweep, ResultStore(store), executor=executor, workers=workers, progress=False)
    wall = time.perf_counter() - started
    return wall, float(load_results(store).runs["seconds"].sum())


def crn_variance_reduction(replications: int, horizon: int) -> dict[str, float]:
    from funnelsim.experiments.experiment import replication_seeds

    base = ROOT / "params" / "baseline.yaml"
    short = [f"simulation.horizon_days={horizon}", "simulation.warmup_days=60"]
    a = load_scenario(base, short + ["follow_up.follow_up_rate=0.80"])
    b = load_scenario(base, short + ["follow_up.follow_up_rate=0.85"])
    seeds = replication_seeds(11, replications)
    other = replication_seeds(12, replications)
    ra = np.array([run_replication(a, s).kpis["revenue"] for s in seeds])
    rb = np.array([run_replication(b, s).kpis["revenue"] for s in seeds])
    rb_independent = np.array([run_replication(b, s).kpis["revenue"] for s in other])
    paired = np.var(rb - ra, ddof=1)
    independent = np.var(rb_independent - ra, ddof=1)
    return {"paired": paired, "independent": independent, "reduction": independent / paired}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (about a minute)")
    args = parser.parse_args()
    horizon = 120 if args.quick else 270
    baseline = seconds_per_customer(50_000) * 50_000
    print(f"bare SimPy M/M/5, 50,000 customers: {baseline:.3f} s  (the unit of the ratios below)")

    rounds = 2 if args.quick else 3
    folder = Path(tempfile.mkdtemp(prefix="funnelsim-bench-"))
    try:
        sweep_file = write_sweep(folder, runs=16, horizon=horizon)
        run_replication(load_sweep(sweep_file).points[0].scenario, 0)  # warm-up: lazy imports, caches
        pairs = [(timed_sweep(sweep_file, folder, "serial", 1), timed_sweep(sweep_file, folder, "processes", 2))
                 for _ in range(rounds)]
        dask, _ = timed_sweep(sweep_file, folder, "dask", 2)
        mean_run = float(load_results(folder / "serial").runs["seconds"].mean())
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    efficiencies = [serial / (2 * processes) for (serial, _), (processes, _) in pairs]
    busy = [run_seconds / (2 * processes) for _, (processes, run_seconds) in pairs]
    serial = statistics.median(s for (s, _), _ in pairs)
    processes = statistics.median(p for _, (p, _) in pairs)
    print(f"\n16-run sweep, horizon {horizon} days ({mean_run:.2f} s per run = {mean_run / baseline:.1f} x bare SimPy), "
          f"medians of {rounds} rounds")
    print(f"{'executor':<12}{'wall s':>9}{'x bare SimPy':>14}{'speed-up':>10}")
    for name, seconds in (("serial", serial), ("processes", processes), ("dask", dask)):
        print(f"{name:<12}{seconds:>9.2f}{seconds / baseline:>14.1f}{serial / seconds:>10.2f}")
    print(f"parallel efficiency, 2 processes vs serial: {statistics.median(efficiencies):.0%} (rounds: "
          + ", ".join(f"{e:.0%}" for e in efficiencies) + "; target >= 85%, issue 14)")
    print(f"share of the wall time the 2 workers spent running: {statistics.median(busy):.0%} (rounds: "
          + ", ".join(f"{b:.0%}" for b in busy) + ")")
    print(f"Dask LocalCluster overhead vs local processes: {dask / processes - 1:+.0%} wall time")

    crn = crn_variance_reduction(replications=10 if args.quick else 20, horizon=horizon + 60)
    print(
        f"\ncommon random numbers, revenue difference (follow-up 0.80 vs 0.85): variance "
        f"{crn['paired']:.3g} paired vs {crn['independent']:.3g} independent = "
        f"{crn['reduction']:.1f}x reduction (target >= 5x)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

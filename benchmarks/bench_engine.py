"""Benchmark of the funnel engine, in units of a bare SimPy queue timed in the same process.

Run from anywhere: ``python benchmarks/bench_engine.py [--quick]`` (``make bench`` runs it).
It prints figures and asserts nothing about timings. ``--quick`` takes about 30 seconds, the
default about a minute and a half (well under 3 minutes on a 2-core machine).

The unit
    A bare SimPy M/M/5 queue (Poisson arrivals at rate 4, exponential service at rate 1, a
    ``simpy.Resource`` of capacity 5: utilisation 0.8, about 8 SimPy events per customer),
    from ``simpy_baseline.py``, the unit shared with ``bench_sweeps.py``. Its wall time per
    customer is the median of several repeats (``time.perf_counter``), measured once before and
    once after the funnel runs; the unit is the mean of the two, and their difference ("drift")
    says how steady the machine was.

What is measured
    * ``funnelsim.run_replication(load_scenario('params/baseline.yaml'), seed)`` over a few
      seeds: leads per second (``len(result.leads) / seconds``, median over seeds);
    * the same with the closed loop on (``closed_loop.enabled=true``: more leads, as budget
      moves toward the channels that make SQLs) and under high load (``sdr_team.reps=3``:
      SDRs are saturated, attempts queue for days);
    * the time split of a replication: ``simulate()`` (the SimPy model plus building its
      tables) against ``funnelsim.experiments.kpis.replication_kpis``, as shares of their sum;
    * the peak memory of one baseline replication (``tracemalloc``, which also sees numpy
      buffers) in MB and bytes per lead. Tracing slows Python down several times, so this run
      is not timed;
    * at scale (the full run only): a company 1.8 and 18 times the baseline (every channel's
      leads and both teams scaled alike, so the queues stay as they are), about 100,000 and
      1,000,000 leads in one replication, each in a fresh Python process (the smaller three
      times, the run with the median time kept, as it takes about a second): the growth of its
      peak resident memory during ``run_replication`` (the operating system's high-water mark,
      which sees everything) in MiB and bytes per lead, and its cost per lead, the larger
      against the smaller;
    * a run written to disk (the full run only): ``funnelsim run -w 1`` of the baseline with 4
      and with 16 replications, each in a fresh Python process: its peak resident memory, the larger
      against the smaller (each replication's leads go to the file as it ends, so it should
      not grow with the replications).

How to read the ratios
    "x bare" = (seconds per funnelsim lead) / (seconds per bare-SimPy customer). A ratio of
    3.0 means one simulated lead (its whole life: arrival, scoring, nurture, handoff, contact
    attempts, deal, churn, plus the tables and KPIs at the end) costs as much wall time as three
    customers of the bare queue. The ratio cancels most of the machine's speed, so it can be
    compared across machines and Python versions; leads/s cannot. A lead is a row of the leads
    table; only a little over half of the leads ever reach SimPy (the rest are booked in bulk
    with numpy and stay in nurture), so "x bare" is cost per lead, not per SimPy process.
    The variants' "x the baseline's cost per lead" lines compare funnelsim with itself.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy
from simpy_baseline import seconds_per_customer

import funnelsim
from funnelsim import Scenario, load_scenario
from funnelsim.experiments.kpis import replication_kpis
from funnelsim.model import simulate

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "params" / "baseline.yaml"

VARIANTS: dict[str, list[str]] = {
    "funnelsim baseline": [],
    "baseline + closed loop": ["closed_loop.enabled=true"],
    "high load (3 SDRs)": ["sdr_team.reps=3"],
}


@dataclass(frozen=True)
class Settings:
    """How much to measure: the bare queue's size and repeats, and seeds per figure."""

    customers: int
    bare_repeats: int
    seeds: int
    variant_seeds: int
    split_seeds: int


QUICK = Settings(customers=20_000, bare_repeats=3, seeds=2, variant_seeds=2, split_seeds=1)
FULL = Settings(customers=50_000, bare_repeats=7, seeds=7, variant_seeds=5, split_seeds=3)


@dataclass(frozen=True)
class Timing:
    """Medians over seeds of one funnelsim variant."""

    name: str
    runs: int
    leads: float
    seconds: float
    leads_per_second: float

    @property
    def seconds_per_lead(self) -> float:
        return 1.0 / self.leads_per_second


@dataclass(frozen=True)
class Split:
    """Where a replication's time goes, summed over seeds."""

    simulate_seconds: float
    kpi_seconds: float

    @property
    def simulate_share(self) -> float:
        return self.simulate_seconds / (self.simulate_seconds + self.kpi_seconds)

    @property
    def kpi_share(self) -> float:
        return self.kpi_seconds / (self.simulate_seconds + self.kpi_seconds)


def timed(call: Callable[[], object]) -> tuple[float, object]:
    """Wall seconds of one call, and what it returned."""
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def time_variant(name: str, scenario: Scenario, seeds: Sequence[int]) -> Timing:
    """Time ``run_replication`` for each seed; medians of leads, seconds and leads/s."""
    seconds, leads = [], []
    for seed in seeds:
        elapsed, result = timed(lambda: funnelsim.run_replication(scenario, seed))
        seconds.append(elapsed)
        leads.append(len(result.leads))
    return Timing(
        name=name,
        runs=len(seeds),
        leads=statistics.median(leads),
        seconds=statistics.median(seconds),
        leads_per_second=statistics.median(n / s for n, s in zip(leads, seconds)),
    )


def time_split(scenario: Scenario, seeds: Sequence[int]) -> Split:
    """Seconds in ``simulate()`` and in ``replication_kpis``, summed over seeds."""
    model = kpis = 0.0
    for seed in seeds:
        sim_s, output = timed(lambda: simulate(scenario, np.random.SeedSequence(seed)))
        kpi_s, _ = timed(lambda: replication_kpis(output.leads, output.daily, scenario))
        model += sim_s
        kpis += kpi_s
    return Split(model, kpis)


def peak_memory(scenario: Scenario, seed: int) -> tuple[float, int]:
    """Peak traced memory of one replication in bytes, and its number of leads."""
    gc.collect()
    tracemalloc.start()
    try:
        result = funnelsim.run_replication(scenario, seed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak), len(result.leads)


SCALES = (1.8, 18.0)  # about 100,000 and 1,000,000 leads
SCALE_REPEATS = (3, 1)  # fresh processes at each scale: the smaller takes about a second, so one run of it is noisy


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """The same company ``factor`` times as big: every channel's leads and both teams."""
    channels = {
        name: channel.model_copy(update={"leads_per_week": channel.leads_per_week * factor})
        for name, channel in scenario.channels.items()
    }
    sdr = scenario.sdr_team.model_copy(update={"reps": max(1, round(scenario.sdr_team.reps * factor))})
    ae_team = scenario.opportunity.ae_team
    ae = ae_team.model_copy(update={"reps": max(1, round(ae_team.reps * factor))})
    opportunity = scenario.opportunity.model_copy(update={"ae_team": ae})
    return scenario.model_copy(update={"channels": channels, "sdr_team": sdr, "opportunity": opportunity})


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_at_scale(factor: float) -> dict[str, float]:
    """In this process: one baseline replication ``factor`` times as big, its leads, seconds and
    peak resident memory growth (run it in a fresh process)."""
    scenario = scaled(load_scenario(BASELINE), factor)
    funnelsim.run_replication(load_scenario(BASELINE, ["simulation.horizon_days=40", "simulation.warmup_days=5"]), 0)
    gc.collect()
    before = _resident_bytes()
    started = time.perf_counter()
    result = funnelsim.run_replication(scenario, 1)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {"leads": float(len(result.leads)), "seconds": seconds, "growth": float(max(peak - before, 0))}


def at_scale(factor: float) -> dict[str, float]:
    """``measure_at_scale`` in a fresh Python process, so earlier runs do not hide its peak."""
    code = f"import json, bench_engine; print(json.dumps(bench_engine.measure_at_scale({factor!r})))"
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


RUN_REPLICATIONS = (4, 16)  # a run written to disk: its memory should not grow with these


def run_to_disk(replications: int) -> dict[str, float]:
    """``funnelsim run`` of the baseline with ``replications`` on one worker (so the process's own
    peak is the run's) in a fresh Python process, writing to a temporary folder: its wall
    seconds and peak resident memory in bytes."""
    code = (
        "import json, resource, sys, tempfile\n"
        "from funnelsim.cli import main\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        f"    main(['run', {str(BASELINE)!r}, '-r', '{replications}', '-w', '1', '--out', folder + '/run'], standalone_mode=False)\n"
        "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))"  # Linux reports KiB
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {"seconds": time.perf_counter() - started, "peak": float(done.stdout.strip().splitlines()[-1])}


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Of several runs at one scale, the one with the median seconds (its memory with it)."""
    return sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]


def bare_row(per_customer: float, settings: Settings) -> str:
    return row(
        "bare SimPy M/M/5 (customers)",
        settings.bare_repeats,
        settings.customers,
        per_customer * settings.customers,
        1.0 / per_customer,
        per_customer,
        1.0,
    )


def row(name: str, runs: int, count: float, seconds: float, rate: float, per_item: float, ratio: float) -> str:
    return (
        f"{name:<30}{runs:>5}{count:>9,.0f}{seconds:>8.2f}{rate:>11,.0f}"
        f"{per_item * 1e6:>9.2f}{ratio:>8.2f}"
    )


def header() -> str:
    return f"{'measurement':<30}{'runs':>5}{'items':>9}{'s/run':>8}{'items/s':>11}{'us/item':>9}{'x bare':>8}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and seeds (about 30 s)")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    seeds = list(range(1, settings.seeds + 1))
    variant_seeds = list(range(1, settings.variant_seeds + 1))
    split_seeds = list(range(1, settings.split_seeds + 1))
    wall_start = time.perf_counter()

    print(
        f"bench_engine{' --quick' if args.quick else ''}: Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}, funnelsim {funnelsim.__version__}, {platform.machine()}"
    )
    scenarios = {name: load_scenario(BASELINE, overrides) for name, overrides in VARIANTS.items()}
    funnelsim.run_replication(scenarios["funnelsim baseline"], 0)  # warm-up: lazy imports, caches

    before = seconds_per_customer(settings.customers, settings.bare_repeats)
    timings = [
        time_variant(name, scenario, seeds if name == "funnelsim baseline" else variant_seeds)
        for name, scenario in scenarios.items()
    ]
    split = time_split(scenarios["funnelsim baseline"], split_seeds)
    after = seconds_per_customer(settings.customers, settings.bare_repeats)
    per_customer = (before + after) / 2
    peak, peak_leads = peak_memory(scenarios["funnelsim baseline"], 1)

    print(
        f"unit: bare SimPy M/M/5 at utilisation 0.8, {settings.customers:,} customers, median of "
        f"{settings.bare_repeats}: {per_customer * 1e6:.2f} us/customer "
        f"(before {before * 1e6:.2f}, after {after * 1e6:.2f}, drift {after / before - 1:+.1%})"
    )
    print("items = customers (bare SimPy) or leads (funnelsim); medians over seeds/repeats\n")
    print(header())
    print(bare_row(per_customer, settings))
    for t in timings:
        print(row(t.name, t.runs, t.leads, t.seconds, t.leads_per_second, t.seconds_per_lead, t.seconds_per_lead / per_customer))

    base = timings[0]
    print(
        f"\ntime split (baseline, {len(split_seeds)} seed{'s' if len(split_seeds) > 1 else ''}): "
        f"simulate() {split.simulate_share:.1%} ({split.simulate_seconds / len(split_seeds):.3f} s), "
        f"replication_kpis {split.kpi_share:.1%} ({split.kpi_seconds / len(split_seeds):.3f} s)"
    )
    print(
        f"peak memory (tracemalloc, one baseline replication, {peak_leads:,} leads): "
        f"{peak / 2**20:.1f} MB = {peak / peak_leads:,.0f} bytes per lead"
    )
    for t in timings[1:]:
        print(f"{t.name}: {t.seconds_per_lead / base.seconds_per_lead:.2f} x the baseline's cost per lead")
    if not args.quick:
        sizes = [median_run([at_scale(factor) for _ in range(repeats)]) for factor, repeats in zip(SCALES, SCALE_REPEATS)]
        for factor, size in zip(SCALES, sizes):
            print(
                f"at scale ({factor:g} x the baseline, {size['leads']:,.0f} leads, fresh process): peak resident "
                f"memory grew {size['growth'] / 2**20:,.0f} MiB = {size['growth'] / size['leads']:,.0f} bytes per lead; "
                f"{size['seconds']:.1f} s, {size['seconds'] / size['leads'] * 1e6:.2f} us per lead"
            )
        small, large = sizes
        print(
            f"cost per lead at {large['leads']:,.0f} leads: "
            f"{(large['seconds'] / large['leads']) / (small['seconds'] / small['leads']):.2f} x that at {small['leads']:,.0f}"
        )
        runs = [run_to_disk(replications) for replications in RUN_REPLICATIONS]
        for replications, run in zip(RUN_REPLICATIONS, runs):
            print(
                f"funnelsim run -w 1 of the baseline, {replications} replications written to disk (fresh process): "
                f"peak resident memory {run['peak'] / 2**20:,.0f} MiB, {run['seconds']:.1f} s"
            )
        print(
            f"peak memory of a run of {RUN_REPLICATIONS[1]} replications: "
            f"{runs[1]['peak'] / runs[0]['peak']:.2f} x that of {RUN_REPLICATIONS[0]} (the leads go to disk as each ends)"
        )
    print(f"(benchmark wall time {time.perf_counter() - wall_start:.0f} s)\n")
    print(
        f"funnelsim baseline: {base.leads_per_second:,.0f} leads/s = "
        f"{base.seconds_per_lead / per_customer:.2f} x the cost per customer of a bare SimPy M/M/5"
    )


if __name__ == "__main__":
    sys.exit(main())

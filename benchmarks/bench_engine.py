"""Benchmark of the funnel engine against a bare SimPy queue run in the same process.

Run: ``python benchmarks/bench_engine.py [--quick]`` (``make bench`` runs it). It prints, and
asserts nothing. The unit is the cost of one customer in a bare SimPy M/M/5 queue at 80% load
(about 8 events per customer): "cost per lead = 3.0 x" means simulating one lead of the funnel
takes three times as long as one customer of that queue. Figures:

* funnelsim leads per second on the baseline, on the baseline with the closed loop, and with
  overloaded SDRs (3 reps), each as cost per lead in bare-SimPy units;
* the share of a replication spent in the SimPy model versus computing the KPIs;
* peak memory of one replication (tracemalloc) and bytes per lead.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np
from simpy_baseline import seconds_per_customer

from funnelsim import load_scenario
from funnelsim.kpis import replication_kpis
from funnelsim.model import simulate

BASELINE = Path(__file__).resolve().parents[1] / "params" / "baseline.yaml"


def funnel_timing(overrides: list[str], seeds: int) -> dict[str, float]:
    scenario = load_scenario(BASELINE, overrides)
    model, kpis, leads = [], [], []
    for seed in range(seeds):
        started = time.perf_counter()
        out = simulate(scenario, np.random.SeedSequence(seed))
        middle = time.perf_counter()
        replication_kpis(out.leads, out.daily, scenario)
        model.append(middle - started)
        kpis.append(time.perf_counter() - middle)
        leads.append(len(out.leads))
    total = [m + k for m, k in zip(model, kpis)]
    return {
        "leads": statistics.median(leads),
        "seconds": statistics.median(total),
        "per_lead": statistics.median(t / n for t, n in zip(total, leads)),
        "model_share": sum(model) / sum(total),
    }


def peak_memory(overrides: list[str]) -> tuple[float, float]:
    scenario = load_scenario(BASELINE, overrides)
    tracemalloc.start()
    out = simulate(scenario, np.random.SeedSequence(0))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, peak / len(out.leads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 30 seconds)")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    per_customer = seconds_per_customer(50_000, repeats)
    print(f"bare SimPy M/M/5 (rho 0.8): {1 / per_customer:,.0f} customers/s = the unit below\n")
    print(f"{'variant':<34}{'leads':>8}{'s/rep':>8}{'leads/s':>10}{'cost/lead':>11}{'model %':>9}")
    variants = {
        "baseline": [],
        "baseline + closed loop": ["closed_loop.enabled=true"],
        "overloaded SDRs (3 reps)": ["sdr_team.reps=3"],
    }
    results = {}
    for name, overrides in variants.items():
        r = funnel_timing(overrides, seeds=repeats)
        results[name] = r
        print(
            f"{name:<34}{r['leads']:>8,.0f}{r['seconds']:>8.2f}{1 / r['per_lead']:>10,.0f}"
            f"{r['per_lead'] / per_customer:>10.2f}x{r['model_share']:>8.1%}"
        )
    megabytes, per_lead = peak_memory([])
    print(f"\npeak memory of one baseline replication: {megabytes:.0f} MB ({per_lead:,.0f} bytes per lead)")
    base = results["baseline"]
    print(
        f"funnelsim baseline: {1 / base['per_lead']:,.0f} leads/s = {base['per_lead'] / per_customer:.2f} x "
        f"the cost per customer of a bare SimPy M/M/5"
    )


if __name__ == "__main__":
    main()

"""Benchmark of a probabilistic sensitivity analysis (``funnelsim uncertainty``): its cost, and the cheapest honest settings.

Run: ``python benchmarks/bench_uncertainty.py [--quick] [--draws N]`` (``make bench`` runs it).
It prints, and asserts nothing.

What is run
    The four maturity levels (``params/scenarios/{fully-misaligned,somewhat-misaligned,
    somewhat-aligned,fully-aligned}.yaml``) against the somewhat misaligned company (as in the
    alignment impact report) over ``--draws`` members
    of the evidence ensemble, 2 replications each, as ``funnelsim uncertainty`` runs them (a
    sweep on 2 local processes), once per horizon: each file's own (540 days, 90 of warm-up)
    and shorter ones.

What is printed
    * runs per second and seconds per run of each level, also as a ratio to a bare SimPy M/M/5
      queue timed in the same process (``simpy_baseline.py``, the unit of every benchmark);
    * the projected wall time of 4 scenarios x 100 draws x 2 replications on this machine (the
      measured seconds per run of each level x 200, over the measured parallel speed-up);
    * per horizon, for the revenue effect of each level against the reference: the simulation
      noise of one replication's effect (``sigma``, pooled within draws), the spread of the
      effect across plausible models (``tau``, the draws' effects net of their noise), the share
      of the PSA range that is simulation noise with 1, 2 and 4 replications per draw
      (``sigma^2/R / (tau^2 + sigma^2/R)``), and the mean effect's shift against the full
      horizon, paired by draw, in percentage points with a 2-standard-error margin (a shorter
      window must not move the answer, only its noise).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from simpy_baseline import seconds_per_customer

from funnelsim.experiments.execution import run_sweep
from funnelsim.stats.psa import draw_means, paired_effects
from funnelsim.experiments.results import ResultStore, load_results
from funnelsim.studies.uncertainty import build_study

ROOT = Path(__file__).resolve().parents[1]
LEVELS = ["somewhat-misaligned", "fully-misaligned", "somewhat-aligned", "fully-aligned"]  # the first: the reference
FILES = [str(ROOT / "params" / "scenarios" / f"{level}.yaml") for level in LEVELS]
SETTINGS = [(None, None), (365.0, 90.0), (240.0, 90.0), (180.0, 60.0)]  # (horizon, warm-up); None: the files'


def run_setting(folder: Path, draws: int, horizon: float | None, warmup: float | None, workers: int) -> tuple[pd.DataFrame, float]:
    study = build_study(FILES, draws=draws, replications=2, seed=20261122, horizon_days=horizon, warmup_days=warmup)
    store = folder / f"h{horizon or 'own'}"
    shutil.rmtree(store, ignore_errors=True)
    started = time.perf_counter()
    run_sweep(study.sweep, ResultStore(store), executor="processes", workers=workers, progress=False)
    wall = time.perf_counter() - started
    return load_results(store).runs, wall


def noise_and_spread(runs: pd.DataFrame) -> pd.DataFrame:
    frame = runs.drop(columns="scenario").rename(columns={"option": "scenario"})
    effects = paired_effects(frame, LEVELS[0], ["revenue"])
    per_draw = draw_means(effects)
    rows = []
    for scenario, group in per_draw.groupby("scenario", sort=False):
        df = float((group["n"] - 1).sum())
        sigma2 = float(((group["n"] - 1) * group["variance"]).sum() / df)
        between = float(group["effect"].var(ddof=1))
        tau2 = max(0.0, between - sigma2 * float(np.mean(1 / group["n"])))
        rows.append({"scenario": scenario, "sigma": np.sqrt(sigma2), "tau": np.sqrt(tau2), "mean": group["effect"].mean(),
                     **{f"noise_share_R{r}": sigma2 / r / (tau2 + sigma2 / r) for r in (1, 2, 4)}})
    return pd.DataFrame(rows), per_draw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 draws and two horizons (a few minutes)")
    parser.add_argument("--draws", type=int, help="ensemble members per horizon [default: 8, --quick 3]")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    draws = args.draws or (3 if args.quick else 8)
    settings = SETTINGS[::2] if args.quick else SETTINGS
    unit = seconds_per_customer(50_000) * 50_000
    print(f"bare SimPy M/M/5, 50,000 customers: {unit:.3f} s  (the unit of the ratios below)")
    print(f"PSA of the four maturity levels (reference: {LEVELS[0]}), {draws} draws x 2 replications per horizon, "
          f"{args.workers} local processes\n")

    folder = Path(tempfile.mkdtemp(prefix="funnelsim-bench-psa-"))
    results = {}
    try:
        for horizon, warmup in settings:
            results[(horizon, warmup)] = run_setting(folder, draws, horizon, warmup, args.workers)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    full = None
    print(f"{'horizon / warm-up':<20}{'level':<22}{'s per run':>10}{'x bare':>8}{'runs/s':>8}{'sigma':>8}{'tau':>8}"
          f"{'noise R=1':>10}{'R=2':>6}{'R=4':>6}{'mean':>9}{'shift vs full':>20}")
    for (horizon, warmup), (runs, wall) in results.items():
        label = "540 / 90 (files')" if horizon is None else f"{horizon:.0f} / {warmup:.0f}"
        seconds = runs.groupby("option")["seconds"].mean()
        speedup = float(runs["seconds"].sum()) / wall
        spread, per_draw = noise_and_spread(runs)
        if full is None:
            full = per_draw
        shifted = per_draw.merge(full, on=["scenario", "kpi", "draw"], suffixes=("", "_full"))
        for level in LEVELS:
            row = spread[spread["scenario"] == level]
            text = f"{label:<20}{level:<22}{seconds[level]:>10.2f}{seconds[level] / unit:>8.1f}{1 / seconds[level]:>8.2f}"
            if len(row):
                r = row.iloc[0]
                diff = shifted.loc[shifted["scenario"] == level, "effect"] - shifted.loc[shifted["scenario"] == level, "effect_full"]
                shift = "-" if horizon is None else f"{diff.mean():+.1%} ± {2 * diff.std(ddof=1) / np.sqrt(len(diff)):.1%}"
                text += (f"{r['sigma']:>8.1%}{r['tau']:>8.1%}{r['noise_share_R1']:>10.0%}{r['noise_share_R2']:>6.0%}"
                         f"{r['noise_share_R4']:>6.0%}{r['mean']:>+9.0%}{shift:>20}")
            print(text)
        per_run = float(seconds.mean())
        projected = 4 * 100 * 2 * per_run / speedup
        print(f"{'':<20}all four: {len(runs) / wall:.2f} runs/s on {args.workers} processes (speed-up {speedup:.2f} "
              f"over serial); 4 scenarios x 100 draws x 2 replications: about {projected / 60:.0f} min\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

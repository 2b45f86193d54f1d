"""The evidence ensemble: every set of uncertain parameters the published figures leave standing.

The model has parameters nobody has measured directly: how long a web inquirer stays at the
desk, how fast interest cools, how much quality and one consistent message move a deal's odds
(the uncertain parameters of the lever registry, ``funnelsim.config.levers``, each with the range it
may take before any evidence). The published figures (``params/targets/published.yaml``)
constrain them only together: no single study pins one down. So they are fitted together, by **history matching** (Craig et al. 1997;
Vernon, Goldstein & Bower 2010), the method of choice when each simulation is costly:

1. **Wave 1**: simulate the typical company at points spread over the parameters' ranges (a
   Latin hypercube), each point with its own staffing, a short run and HBR's population of firms,
   and measure every target the way its study measured it.
2. **Emulate**: for every target, a statsmodels OLS response surface (linear and squared terms
   of the parameters, on the scale each is searched on) predicts the measurement at any point,
   with a variance: the surface's own uncertainty plus the residual (simulation noise and what
   the surface misses).
3. **Rule out**: a point is *implausible* when some target's predicted value lies more than 3
   emulator standard deviations outside the range the published figure implies. Tens of
   thousands of candidate points are screened in seconds; the rest is "not ruled out yet".
4. **Further waves** simulate points drawn from what is left and refit the surfaces there, where
   they can be more accurate, and rule out more.
5. **Confirm**: points drawn from the final region are simulated in full; those whose every
   measurement is consistent with its range (the range reached within the measurement's 95% CI)
   form the ensemble. The member whose measurements lie closest to their ranges (in units of
   their CIs) is the baseline's.

The ensemble (``params/ensemble/evidence.csv``) is what "the range across plausible models"
means in the uncertainty analysis; the baseline is one point inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from pydantic import BaseModel, ConfigDict
from scipy.special import logit
from scipy.stats import qmc
from tqdm.auto import tqdm

from funnelsim.config.levers import uncertain_parameters
from funnelsim.config.paths import PARAMS_DIR
from funnelsim.config.schema import Scenario, with_settings
from funnelsim.experiments.executors import run_in_order
from funnelsim.experiments.experiment import run_scenarios
from funnelsim.experiments.staffing import staff
from funnelsim.stats.measures import replication_measures
from funnelsim.studies.evidence import (
    firm_population,
    first_dial_odds,
    hbr_ratios,
    run_firms,
)
from funnelsim.studies.targets import Target, Targets

__all__ = [
    "Parameter",
    "load_uncertain",
    "calibration_targets",
    "central_member",
    "measure_point",
    "Emulator",
    "implausibility",
    "prior_sample",
    "HistoryMatch",
    "history_match",
    "confirm",
    "consistent",
    "refit",
    "NothingLeft",
    "DEFAULT_ENSEMBLE",
]

DEFAULT_ENSEMBLE = PARAMS_DIR / "ensemble" / "evidence.csv"
CUTOFF = 3.0  # emulator standard deviations outside a range that rule a point out


class Parameter(BaseModel):
    """One uncertain parameter: its key path, the range it may take, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"
    why: str
    at_most: str | None = None  # another parameter's key this one may not exceed

    def to_unit(self, value: np.ndarray) -> np.ndarray:
        """Values as positions 0..1 in the range, on the scale the parameter is searched on."""
        if self.scale == "log":
            return (np.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (np.asarray(value) - self.low) / (self.high - self.low)

    def from_unit(self, unit: np.ndarray) -> np.ndarray:
        if self.scale == "log":
            return np.exp(math.log(self.low) + np.asarray(unit) * (math.log(self.high) - math.log(self.low)))
        return self.low + np.asarray(unit) * (self.high - self.low)


def load_uncertain() -> list[Parameter]:
    """The uncertain parameters of the lever registry, each with the range it may take before the
    evidence is seen, in the registry's order."""
    parameters = []
    for entry in uncertain_parameters():
        prior = entry.prior
        assert prior is not None
        parameters.append(Parameter(key=entry.key, low=prior.low, high=prior.high, scale=prior.scale, why=prior.why,
                                    at_most=prior.at_most))
    return parameters


def calibration_targets(targets: Targets) -> list[Target]:
    """The benchmarks the typical company is fitted to: comparable ones with a range, except
    those the targets file marks as not used for fitting (with its reason)."""
    return [
        t for t in targets.benchmarks if t.comparable and t.range is not None and "typical" in t.applies_to and t.calibrate
    ]


def _transform(metric_values: np.ndarray, target: Target) -> np.ndarray:
    """Measurements on the scale they are emulated on: log-odds for shares, log otherwise."""
    v = np.asarray(metric_values, float)
    if target.high <= 1 and target.low >= 0:
        return logit(np.clip(v, 1e-6, 1 - 1e-6))
    return np.log(np.clip(v, 1e-9, None))


def _transform_bound(value: float, target: Target) -> float:
    if math.isinf(value):
        return value
    return float(_transform(np.array([value]), target)[0])


@dataclass(frozen=True)
class PointJob:
    """One point of parameter space to simulate (picklable for a process pool)."""

    values: dict[str, float]
    base: Scenario
    seed: int
    replications: int
    horizon_days: float
    firms: int


def measure_point(job: PointJob) -> dict[str, float]:
    """Simulate the typical company at one point and measure every calibration metric.

    Each metric comes with its 95% CI as ``metric:low`` and ``metric:high``."""
    company = staff(with_settings(job.base, job.values), job.seed)
    short = with_settings(company, {"simulation.horizon_days": job.horizon_days})
    run = run_scenarios([short], job.replications, job.seed)[short.name]
    measures = replication_measures(run.replications)
    dials = first_dial_odds(run.leads, short.simulation.warmup_days)
    measures["mit_contact_odds_5_vs_30_minutes"] = dials["contact"]
    measures["mit_qualify_odds_5_vs_30_minutes"] = dials["qualify"]
    ratios = hbr_ratios(run_firms(firm_population(company, points=job.firms), job.seed))
    measures["hbr_qualify_ratio_first_vs_second_hour"] = ratios["first_vs_second_hour"]
    measures["hbr_qualify_ratio_first_hour_vs_day"] = ratios["first_hour_vs_day"]
    values: dict[str, float] = {}
    for metric, m in measures.items():
        values[metric], values[f"{metric}:low"], values[f"{metric}:high"] = m.value, m.low, m.high
    values["sdr_team.reps"] = float(company.sdr_team.reps)
    values["opportunity.ae_team.reps"] = float(company.opportunity.ae_team.reps)
    return values


def measure_points(points: pd.DataFrame, base: Scenario, seed: int, replications: int, horizon_days: float,
                   firms: int, workers: int, progress: bool = True) -> pd.DataFrame:
    """Measure every row of ``points`` (columns: parameter keys); one row of metrics each."""
    jobs = [PointJob({str(key): value for key, value in row.items()}, base, seed, replications, horizon_days, firms)
            for row in points.to_dict("records")]
    bar = tqdm(total=len(jobs), unit="point", desc="simulating points", disable=not progress)
    measured = run_in_order(measure_point, jobs, workers=workers, finished=bar.update)
    bar.close()
    return pd.concat([points.reset_index(drop=True), pd.DataFrame(measured)], axis=1)


def refit(previous: Emulator, parameters: list[Parameter], targets: list[Target], runs: pd.DataFrame) -> Emulator:
    """A new wave's emulators, fitted on the runs inside the region the previous wave left
    standing (where a quadratic surface can be accurate), or on every run when too few are."""
    if previous.fits:
        inside = runs[implausibility(previous, runs)["max"] <= CUTOFF]
        if len(inside) >= 4 * (2 * len(parameters) + 1):
            return Emulator(parameters, targets).fit(inside)
    return Emulator(parameters, targets).fit(runs)


def _points(parameters: list[Parameter], unit: np.ndarray) -> pd.DataFrame:
    """Positions 0..1 on each parameter's search scale as parameter values, respecting ``at_most``."""
    table = pd.DataFrame({p.key: p.from_unit(unit[:, j]) for j, p in enumerate(parameters)})
    for p in parameters:
        if p.at_most:
            table[p.key] = np.minimum(table[p.key], table[p.at_most])
    return table


def prior_sample(parameters: list[Parameter], n: int, seed: int) -> pd.DataFrame:
    """``n`` points spread over the parameters' ranges (Latin hypercube), respecting ``at_most``."""
    return _points(parameters, qmc.LatinHypercube(d=len(parameters), seed=seed).random(n))


def _design(parameters: list[Parameter], points: pd.DataFrame, squares: bool = True) -> np.ndarray:
    unit = np.column_stack([p.to_unit(points[p.key].to_numpy(float)) for p in parameters]) - 0.5
    return sm.add_constant(np.hstack([unit, unit**2]) if squares else unit, has_constant="add")


class Emulator:
    """One response surface per target: linear and squared terms of the parameters (OLS)."""

    def __init__(self, parameters: list[Parameter], targets: list[Target]):
        self.parameters = parameters
        self.targets = targets
        self.fits: dict[str, sm.regression.linear_model.RegressionResultsWrapper] = {}
        self.squares = True

    def fit(self, runs: pd.DataFrame) -> "Emulator":
        # squared terms only with enough points to estimate them and the noise (two per term)
        self.squares = len(runs) >= 2 * (2 * len(self.parameters) + 1)
        x = _design(self.parameters, runs, self.squares)
        for t in self.targets:
            y = _transform(runs[t.metric].to_numpy(float), t)
            ok = np.isfinite(y)
            self.fits[t.id] = sm.OLS(y[ok], x[ok]).fit()
        return self

    def predict(self, points: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per target: predicted value (on the emulation scale) and its variance."""
        x = _design(self.parameters, points, self.squares)
        out = {}
        for t in self.targets:
            fit = self.fits[t.id]
            mean = x @ fit.params
            mean_var = np.einsum("ij,jk,ik->i", x, fit.cov_params(), x)
            out[t.id] = (mean, mean_var + fit.scale)
        return out

    def quality(self) -> pd.DataFrame:
        """How well each surface explains its measurements (R squared, residual sd)."""
        return pd.DataFrame(
            [{"target": k, "r_squared": f.rsquared, "residual_sd": math.sqrt(f.scale), "n": int(f.nobs)} for k, f in self.fits.items()]
        )


def implausibility(emulator: Emulator, points: pd.DataFrame) -> pd.DataFrame:
    """For each point and target: how many emulator standard deviations the prediction lies
    outside the range (0 inside it); ``max`` over targets rules points out."""
    predicted = emulator.predict(points)
    table = pd.DataFrame(index=points.index)
    for t in emulator.targets:
        mean, var = predicted[t.id]
        low, high = _transform_bound(t.low, t), _transform_bound(t.high, t)
        gap = np.maximum(low - mean, 0) + np.maximum(mean - high, 0)
        table[t.id] = gap / np.sqrt(var)
    table["max"] = table.max(axis=1)
    return table


class NothingLeft(Exception):
    """History matching ruled out every point: the model cannot reproduce the evidence together."""


def consistent(measured: pd.DataFrame, targets: list[Target], within_ci: bool = True) -> pd.Series:
    """Points whose every measurement is consistent with its range: inside it, or (``within_ci``)
    with a 95% CI that reaches it."""
    ok = pd.Series(True, index=measured.index)
    for t in targets:
        low = measured[f"{t.metric}:low"] if within_ci else measured[t.metric]
        high = measured[f"{t.metric}:high"] if within_ci else measured[t.metric]
        ok &= (high >= t.low) & (low <= t.high)
    return ok


def confirm(
    match: "HistoryMatch", base: Scenario, parameters: list[Parameter], targets: list[Target], size: int, seed: int,
    workers: int = 1, replications: int = 3, firms: int = 21, folder: Path | None = None,
) -> pd.DataFrame:
    """Simulate ``size`` points of the region left standing, in full, and mark the members of the
    ensemble (``member``: consistent with every target; ``misfit`` says how far each point's
    measurements lie outside their ranges) and the baseline's point (``baseline``: the most
    central member, ``central_member``)."""
    saved = folder / "confirm.parquet" if folder else None
    done = pd.read_parquet(saved) if saved is not None and saved.exists() else pd.DataFrame()
    if len(done) < size:
        pool = match.candidates
        if pool.empty:
            raise NothingLeft("no point of the parameter space is consistent with every published figure")
        order = np.random.default_rng(seed).permutation(len(pool))  # a fixed order: a larger size keeps the first points
        keys = [p.key for p in parameters]
        while len(done) < size:  # in chunks, each saved, so an interrupted confirmation resumes
            chosen = pool.iloc[order[len(done) : min(size, len(done) + 10)]].reset_index(drop=True)
            more = measure_points(chosen[keys], base, seed, replications, base.simulation.horizon_days, firms, workers)
            done = pd.concat([done, more], ignore_index=True)
            if saved is not None:
                done.to_parquet(saved)
    measured = done.iloc[:size].copy()
    measured["member"] = consistent(measured, targets, within_ci=True)
    measured["misfit"] = misfit(measured, targets)
    measured["baseline"] = False
    if measured["member"].any():
        measured.loc[central_member(measured[measured["member"]], parameters), "baseline"] = True
    return measured


def central_member(members: pd.DataFrame, parameters: list[Parameter]) -> int:
    """The member closest to the members' median on every parameter's search scale: a typical
    company of the ensemble rather than its best fit, which tends to sit at an edge of the region."""
    unit = np.column_stack([p.to_unit(members[p.key].to_numpy(float)) for p in parameters])
    distance = np.sqrt(((unit - np.median(unit, axis=0)) ** 2).sum(axis=1))
    return int(members.index[int(np.argmin(distance))])


def misfit(measured: pd.DataFrame, targets: list[Target]) -> pd.Series:
    """How far each point's measurements lie outside their ranges, in units of their own CI
    half-widths, summed in squares (0: every measurement inside its range)."""
    total = pd.Series(0.0, index=measured.index)
    for t in targets:
        v = measured[t.metric]
        half = ((measured[f"{t.metric}:high"] - measured[f"{t.metric}:low"]) / 2).clip(lower=1e-12)
        gap = (t.low - v).clip(lower=0) + (v - t.high).clip(lower=0)
        total += (gap / half).fillna(0) ** 2
    return total


@dataclass
class HistoryMatch:
    """The waves' runs, the final emulator and the share of the prior left at each wave."""

    runs: list[pd.DataFrame]
    emulator: Emulator
    remaining: list[float]
    candidates: pd.DataFrame  # the points not ruled out by the last wave


def history_match(
    base: Scenario,
    parameters: list[Parameter],
    targets: list[Target],
    waves: list[int],
    seed: int,
    workers: int = 1,
    replications: int = 2,
    horizon_days: float = 360.0,
    firms: int = 11,
    candidates: int = 20_000,
    folder: Path | None = None,
) -> HistoryMatch:
    """Run the waves (``waves`` = points simulated in each) and return what is left standing.

    Each wave's runs are saved in ``folder`` as they finish a wave, and a saved wave is reused,
    so an interrupted fit resumes where it stopped."""
    pool = prior_sample(parameters, candidates, seed)
    runs: list[pd.DataFrame] = []
    remaining = [1.0]
    emulator = Emulator(parameters, targets)
    for k, size in enumerate(waves):
        rng = np.random.default_rng(seed + k)
        chosen = pool.iloc[rng.choice(len(pool), size=min(size, len(pool)), replace=False)].reset_index(drop=True)
        saved = folder / f"wave{k + 1}.parquet" if folder else None
        if saved is not None and saved.exists():
            measured = pd.read_parquet(saved)
        else:
            measured = measure_points(chosen, base, seed + 1000 * (k + 1), replications, horizon_days, firms, workers)
            if saved is not None:
                saved.parent.mkdir(parents=True, exist_ok=True)
                measured.to_parquet(saved)
        runs.append(measured)
        emulator = refit(emulator, parameters, targets, pd.concat(runs, ignore_index=True))
        screened = implausibility(emulator, pool)
        pool = pool[screened["max"] <= CUTOFF].reset_index(drop=True)
        remaining.append(remaining[-1] * len(pool) / max(len(screened), 1))
        if len(pool) < candidates // 20:
            # a small region in many dimensions is rarely hit at random: start from the point the
            # emulators find least implausible and walk around inside the region
            start = _least_implausible(emulator, parameters, seed + k)
            if implausibility(emulator, start)["max"].iloc[0] <= CUTOFF:
                pool = pd.concat([pool, _walk(emulator, parameters, start, candidates // 4, rng)], ignore_index=True)
        if len(pool) < 20:
            break
    return HistoryMatch(runs, emulator, remaining, pool)


def _least_implausible(emulator: Emulator, parameters: list[Parameter], seed: int) -> pd.DataFrame:
    """The point whose worst implausibility the emulators predict smallest (differential evolution)."""
    from scipy.optimize import differential_evolution

    def worst(unit: np.ndarray) -> np.ndarray:
        return implausibility(emulator, _points(parameters, np.atleast_2d(unit.T)))["max"].to_numpy()

    found = differential_evolution(worst, [(0.0, 1.0)] * len(parameters), seed=seed, maxiter=300, popsize=20,
                                   polish=False, vectorized=True, updating="deferred")
    return _points(parameters, found.x[None, :])


def _walk(emulator: Emulator, parameters: list[Parameter], start: pd.DataFrame, n: int, rng: np.random.Generator,
          step: float = 0.05, walkers: int = 50) -> pd.DataFrame:
    """Points spread over the region not ruled out: ``walkers`` random walks from ``start`` that
    take a step (on each parameter's search scale) only where it stays inside the region."""
    unit = np.tile(np.column_stack([p.to_unit(start[p.key].to_numpy(float)) for p in parameters]), (walkers, 1))
    kept: list[np.ndarray] = []
    while sum(len(k) for k in kept) < n:
        proposal = np.clip(unit + rng.normal(0.0, step, unit.shape), 0.0, 1.0)
        inside = implausibility(emulator, _points(parameters, proposal))["max"].to_numpy() <= CUTOFF
        unit[inside] = proposal[inside]
        kept.append(unit.copy())
    return _points(parameters, np.vstack(kept)[:n])

"""Replications: running a scenario many times with controlled luck, and summarising it.

One simulated run is one possible 18 months; a decision needs many. ``run_scenario`` runs
``replications`` independent runs whose seeds are spawned from one root seed with numpy's
``SeedSequence``. Replication *i* of two scenarios run with the same root seed gets the same
random streams (common random numbers), so comparing scenarios replication by replication
isolates the effect of the levers from the luck of the draw.

``run_replication(scenario, seed)`` is a pure function of its arguments and can be pickled to
any executor: the same scenario and seed give identical tables wherever they run. A run that
cannot fit in this computer's memory is refused before it starts (``preflight``), and one that
ends with an infinite KPI, or NaN where a KPI is always defined, raises ``NonFiniteKPI``.

A run can hand each replication's leads table on as soon as it is done (``leads_to``, in the
order of the replications) instead of keeping them all: ``funnelsim run`` writes them to disk
that way, so its memory does not grow with the number of replications.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim.config.errors import MachineError
from funnelsim.config.schema import Scenario
from funnelsim.experiments.executors import in_order
from funnelsim.experiments.kpis import replication_kpis
from funnelsim.experiments.preflight import ensure_fits
from funnelsim.model import simulate
from funnelsim.model.records import REPLICATION_COLUMNS
from funnelsim.model.stages import HEADLINE_STAGES

__all__ = [
    "Comparison",
    "LeadsSink",
    "NonFiniteKPI",
    "Replication",
    "ScenarioRun",
    "compare_runs",
    "local_workers",
    "run_replication",
    "run_scenario",
    "run_scenarios",
    "summarise",
]


def _seed_label(seed: np.random.SeedSequence) -> str:
    return "/".join(str(k) for k in seed.spawn_key) or "root"


def _root_seed(seed: np.random.SeedSequence) -> int:
    """The integer a run was seeded with (a spawned sequence keeps its root's)."""
    entropy = seed.entropy
    if not isinstance(entropy, (int, np.integer)):
        raise TypeError(f"a run is seeded by an integer, not {entropy!r}")
    return int(entropy)


# KPIs that count or add up leads and money are defined for every run. The others are ratios,
# NaN by design when their denominator is zero (no wins, no lead touched: see kpis.py).
ALWAYS_DEFINED = (*(stage.count for stage in HEADLINE_STAGES), "bookings", "revenue", "marketing_spend")


class NonFiniteKPI(MachineError, ArithmeticError):
    """A replication ended with an infinite KPI, or NaN where a KPI is always defined: a number
    overflowed or went undefined, so the run's results cannot be trusted."""


def _check_finite(kpis: dict[str, float], scenario: Scenario, replication: int) -> None:
    bad = {name: value for name, value in kpis.items()
           if np.isinf(value) or (np.isnan(value) and name in ALWAYS_DEFINED)}
    if bad:
        shown = ", ".join(f"{name} = {value}" for name, value in bad.items())
        raise NonFiniteKPI(
            f"{scenario.name}: replication {replication} ended with {shown}: a number overflowed or went "
            "undefined; check the scenario's volumes and amounts"
        )


@dataclass
class Replication:
    """One run: the leads and daily tables, its KPIs, and where its randomness came from."""

    replication: int
    seed: int
    spawn_key: str
    leads: pd.DataFrame
    daily: pd.DataFrame
    kpis: dict[str, float]
    seconds: float


def run_replication(
    scenario: Scenario, seed: int | np.random.SeedSequence, replication: int = 0
) -> Replication:
    """Simulate ``scenario`` once; ``seed`` is a root seed or a spawned ``SeedSequence``."""
    ensure_fits(scenario)
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    started = time.perf_counter()
    output = simulate(scenario, sequence)
    kpis = replication_kpis(output.leads, output.daily, scenario)
    _check_finite(kpis, scenario, replication)
    seconds = time.perf_counter() - started
    for table in (output.leads, output.daily):
        table.insert(0, "replication", replication)
    return Replication(
        replication=replication,
        seed=_root_seed(sequence),
        spawn_key=_seed_label(sequence),
        leads=output.leads,
        daily=output.daily,
        kpis=kpis,
        seconds=seconds,
    )


@dataclass
class ScenarioRun:
    """All replications of one scenario, as tidy tables."""

    scenario: Scenario
    seed: int
    leads: pd.DataFrame
    daily: pd.DataFrame
    replications: pd.DataFrame
    seconds: list[float] = field(default_factory=list)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        return summarise(self.replications, confidence)


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The spawned seed of each replication: the same for every scenario run with ``seed``."""
    return np.random.SeedSequence(seed).spawn(replications)


# One replication to run: the scenario, its seed and number, and whether its leads table is sent back.
_Job = tuple[Scenario, np.random.SeedSequence, int, bool]


def _replication_job(job: _Job) -> Replication:
    scenario, seed, number, leads = job
    replication = run_replication(scenario, seed, number)
    if not leads:  # not sent back: the largest table by far, and the study reads none of it
        replication.leads = replication.leads.iloc[:0].copy()  # a copy: a view would keep every row alive
    return replication


def _collect(scenario: Scenario, seed: int, runs: list[Replication]) -> ScenarioRun:
    rows = [
        {
            "scenario": scenario.name,
            "replication": r.replication,
            "seed": r.seed,
            "spawn_key": r.spawn_key,
            **r.kpis,
        }
        for r in runs
    ]
    return ScenarioRun(
        scenario=scenario,
        seed=seed,
        leads=pd.concat([r.leads for r in runs], ignore_index=True),
        daily=pd.concat([r.daily for r in runs], ignore_index=True),
        replications=pd.DataFrame(rows),
        seconds=[r.seconds for r in runs],
    )


def local_workers() -> int:
    """Processes a study uses on this machine when not told: one per CPU."""
    return os.cpu_count() or 1


# Told each replication's leads table, with the name of its scenario, in the order of the runs.
LeadsSink = Callable[[str, pd.DataFrame], None]


def run_scenario(scenario: Scenario, replications: int, seed: int, workers: int = 1,
                 executor: str | None = None, scheduler: str | None = None,
                 leads_to: LeadsSink | None = None) -> ScenarioRun:
    """Run ``replications`` replications of ``scenario`` with seeds spawned from ``seed``
    (on ``workers`` local processes, or the ``executor`` as in ``run_scenarios``; the tables
    are the same wherever they run; ``leads_to`` as in ``run_scenarios``)."""
    return run_scenarios([scenario], replications, seed, workers, executor=executor, scheduler=scheduler,
                         leads_to=leads_to)[scenario.name]


def run_scenarios(scenarios: list[Scenario], replications: int, seed: int, workers: int = 1,
                  leads: bool = True, executor: str | None = None, scheduler: str | None = None,
                  leads_to: LeadsSink | None = None) -> dict[str, ScenarioRun]:
    """Every scenario with the same spawned seeds (common random numbers), by name. With
    ``leads=False`` the leads tables are left empty (the KPIs and daily tables are kept): for a
    study that reads no lead, they are most of what a replication sends back. With ``leads_to``,
    each replication's leads table is handed to it as soon as that replication and those before
    it are done (scenario by scenario, replication by replication) and not kept: the results'
    leads tables are empty, and the memory held does not grow with the replications.

    The runs happen on the ``executor`` (``executors.py``: serial, processes or dask, with the
    Dask ``scheduler`` at that address or a local cluster); without one, on ``workers`` local
    processes, or in this process for one worker. The tables are the same wherever they run."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    keeps_leads = leads and leads_to is None
    for scenario in scenarios:
        ensure_fits(scenario, replications if keeps_leads else 1)
    seeds = replication_seeds(seed, replications)
    jobs = [(s, child, i, leads) for s in scenarios for i, child in enumerate(seeds)]
    done: list[Replication] = []
    for k, replication in enumerate(in_order(_replication_job, jobs, executor, workers, scheduler)):
        if leads_to is not None:
            leads_to(jobs[k][0].name, replication.leads)
            replication.leads = replication.leads.iloc[:0].copy()  # a copy: a view would keep every row alive
        done.append(replication)
    return {
        s.name: _collect(s, seed, done[k * replications : (k + 1) * replications]) for k, s in enumerate(scenarios)
    }


def summarise(replications: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t-based confidence interval of every KPI across replications."""
    rows = []
    for kpi, (_, unit, _) in REPLICATION_COLUMNS.items():
        if unit == "-" or kpi not in replications:
            continue  # identifiers, not KPIs
        values = replications[kpi].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if len(values) == 0:
            mean = low = high = float("nan")
        elif len(values) == 1 or np.ptp(values) == 0:
            mean = low = high = float(values.mean())
        else:
            stats = DescrStatsW(values)
            mean = float(stats.mean)
            low, high = (float(v) for v in stats.tconfint_mean(alpha=1 - confidence))
        rows.append({"kpi": kpi, "unit": unit, "mean": mean, "ci_low": low, "ci_high": high, "n": len(values)})
    return pd.DataFrame(rows)


@dataclass
class Comparison:
    """Several scenarios run with the same seeds, as tidy tables with a ``scenario`` column."""

    runs: dict[str, ScenarioRun]

    @property
    def replications(self) -> pd.DataFrame:
        return pd.concat([r.replications for r in self.runs.values()], ignore_index=True)

    @property
    def daily(self) -> pd.DataFrame:
        return pd.concat([r.daily.assign(scenario=name) for name, r in self.runs.items()], ignore_index=True)

    @property
    def leads(self) -> pd.DataFrame:
        return pd.concat([r.leads.assign(scenario=name) for name, r in self.runs.items()], ignore_index=True)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """KPI means and CIs, one column block per scenario."""
        return pd.concat({name: r.summary(confidence).set_index("kpi") for name, r in self.runs.items()}, axis=1)


def compare_runs(scenarios: list[Scenario], replications: int, seed: int, workers: int = 1,
                 leads: bool = True, executor: str | None = None, scheduler: str | None = None) -> Comparison:
    """Run every scenario with the same seeds (common random numbers); ``leads`` and where
    they run as in ``run_scenarios``."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared: {names}")
    return Comparison(run_scenarios(scenarios, replications, seed, workers, leads=leads, executor=executor, scheduler=scheduler))

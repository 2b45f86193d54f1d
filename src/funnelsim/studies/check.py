"""``funnelsim check``: is each scenario a company that could exist, and does it match the evidence?

For every scenario given, the check simulates it (common random numbers across scenarios) and
sets each published figure that applies to it (``params/targets/published.yaml``) beside the
model's value, measured the way the study measured it, with a 95% CI and a verdict:

* ``inside``: the model's value lies in the range the figure implies for this company (for a
  maturity level, the range widened in the direction and by the factor alignment supports);
* ``consistent``: the value lies outside, but its 95% CI reaches the range: simulation noise
  cannot tell the model from the figure;
* ``outside``: the whole CI lies outside the range (a high-trust figure outside fails the check);
* ``not comparable``: the figure measures something the model cannot (the reason is printed);
* ``not measured``: too few leads or firms in a group to measure it.

Then the plausibility checks (``plausibility``) run on every scenario, and when several
maturity levels are given, their order: fully aligned earns more than somewhat aligned, which
earns more than somewhat misaligned, which earns more than fully misaligned. Alignment claims
are compared where both companies they compare are among the scenarios.

The check passes when no high-trust figure that applies is outside (or not measured), every
plausibility check passes and the levels keep their order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from funnelsim.config.schema import MATURITY_LEVELS, Scenario
from funnelsim.experiments.experiment import ScenarioRun, run_scenarios
from funnelsim.stats.analysis import compare_scenarios
from funnelsim.stats.measures import Measure, add_rates, replication_measures
from funnelsim.studies.evidence import (
    firm_population,
    first_dial_odds,
    hbr_ratios,
    run_firms,
    transition_growth,
)
from funnelsim.studies.plausibility import plausibility_checks
from funnelsim.studies.targets import Target, Targets

__all__ = ["CheckResult", "check_scenarios", "benchmark_table", "role_of", "ORDERED_KPIS"]

ORDERED_KPIS = ("revenue", "wins", "lead_to_customer_rate")
_HBR = {
    "hbr_qualify_ratio_first_vs_second_hour": "first_vs_second_hour",
    "hbr_qualify_ratio_first_hour_vs_day": "first_hour_vs_day",
}
_MIT = {"mit_contact_odds_5_vs_30_minutes": "contact", "mit_qualify_odds_5_vs_30_minutes": "qualify"}


def role_of(scenario: Scenario) -> str:
    """The company a scenario stands for: its maturity level, a what-if variant, or the typical company."""
    return scenario.maturity or ("what-if" if scenario.what_if else "typical")


@dataclass
class CheckResult:
    """Every verdict of a check, and whether it passed."""

    targets: pd.DataFrame  # one row per scenario and target
    plausibility: pd.DataFrame  # one row per scenario and check
    order: pd.DataFrame  # one row per KPI compared across maturity levels (may be empty)
    claims: pd.DataFrame  # one row per claim whose two companies were both checked
    firms: pd.DataFrame = field(default_factory=pd.DataFrame)  # HBR's population of firms, if measured
    runs: dict[str, ScenarioRun] = field(default_factory=dict)  # the simulations behind every verdict

    @property
    def failures(self) -> list[str]:
        """What fails the check, one line each."""
        out = []
        gated = self.targets[self.targets["gates"] & self.targets["verdict"].isin(["outside", "not measured"])]
        out += [f"{r.scenario}: {r.target} is {r.verdict} ({r.statement})" for r in gated.itertuples()]
        failed = self.plausibility[~self.plausibility["passes"]]
        out += [f"{r.scenario}: {r.check}: {r.measured} ({r.limit})" for r in failed.itertuples()]
        if len(self.order):
            out += [f"maturity levels out of order on {r.kpi}: {r.values}" for r in self.order[~self.order["in_order"]].itertuples()]
        return out

    @property
    def passed(self) -> bool:
        return not self.failures


def _verdict(measure: Measure, band: tuple[float, float]) -> str:
    if not math.isfinite(measure.value):
        return "not measured"
    low, high = band
    if low <= measure.value <= high:
        return "inside"
    return "consistent" if measure.high >= low and measure.low <= high else "outside"


def _band_text(low: float, high: float) -> str:
    if math.isinf(high):
        return f"{_number(low)} or more"
    return f"{_number(low)} to {_number(high)}"


def _number(value: float) -> str:
    if abs(value) < 1:
        return f"{value:.1%}" if value else "0"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def _measures(run: ScenarioRun, targets: list[Target], seed: int, workers: int, firms_points: int) -> tuple[dict[str, Measure], pd.DataFrame]:
    values = replication_measures(run.replications)
    metrics = {t.metric for t in targets}
    firms = pd.DataFrame()
    if metrics & set(_MIT):
        for metric, part in _MIT.items():
            values[metric] = first_dial_odds(run.leads, run.scenario.simulation.warmup_days)[part]
    if metrics & set(_HBR):
        firms = run_firms(firm_population(run.scenario, points=firms_points), seed, workers)
        ratios = hbr_ratios(firms)
        values.update({metric: ratios[part] for metric, part in _HBR.items()})
    return values, firms


def benchmark_table(run: ScenarioRun, targets: Targets, seed: int, workers: int = 1, firms_points: int = 21) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every benchmark that applies to the run's company beside the model's value, measured as
    its study measured it, with the verdict; and HBR's population of firms if it was measured."""
    rows, firms = _target_rows(run, targets, seed, workers, firms_points)
    return pd.DataFrame(rows), firms


def _target_rows(run: ScenarioRun, targets: Targets, seed: int, workers: int, firms_points: int) -> tuple[list[dict], pd.DataFrame]:
    role = role_of(run.scenario)
    applying = [t for t in targets.benchmarks if role in t.applies_to or t.band_for(role) is not None]
    values, firms = _measures(run, applying, seed, workers, firms_points)
    rows = []
    for t in applying:
        band = t.band_for(role)
        measure = values.get(t.metric, Measure.missing())
        rows.append({
            "scenario": run.scenario.name,
            "role": role,
            "target": t.id,
            "statement": t.statement,
            "source": t.source,
            "trust": t.trust,
            "published": _band_text(t.low, t.high) if t.range is not None else "",
            "for_this_company": _band_text(*band) if band is not None else "",
            "metric": t.metric,
            "model": measure.value,
            "ci_low": measure.low,
            "ci_high": measure.high,
            "verdict": _verdict(measure, band) if band is not None else "not comparable",
            "gates": t.gates and band is not None and role in t.applies_to,
            "measured": t.measured,
        })
    return rows, firms


def _order(runs: dict[str, ScenarioRun]) -> pd.DataFrame:
    levels = sorted(
        ((MATURITY_LEVELS.index(role_of(r.scenario)), name) for name, r in runs.items() if r.scenario.maturity),
    )
    if len(levels) < 2:
        return pd.DataFrame(columns=["kpi", "values", "in_order", "scenarios", "means"])
    rows = []
    for kpi in ORDERED_KPIS:
        means = [float(runs[name].replications[kpi].mean()) for _, name in levels]
        rows.append({
            "kpi": kpi,
            "values": ", ".join(f"{name} {m:,.4g}" for (_, name), m in zip(levels, means)),
            "in_order": all(a > b for a, b in zip(means, means[1:])),
            "scenarios": [name for _, name in levels],  # best first
            "means": means,
        })
    return pd.DataFrame(rows)


def _claim_rows(runs: dict[str, ScenarioRun], targets: Targets) -> list[dict]:
    by_role = {role_of(r.scenario): r for r in runs.values()}
    rows = []
    for claim in targets.claims:
        assert claim.compare is not None  # every claim compares two companies (Target._shape)
        company, reference = claim.compare
        if company not in by_role or reference not in by_role:
            continue
        a, b = by_role[company], by_role[reference]
        if not claim.comparable:
            measure, verdict = Measure.missing(), "not comparable"
        elif claim.metric == "transition_growth":
            measure = transition_growth(a.replications, b.replications)
            verdict = _claim_verdict(claim.figure, measure)
        else:
            data = add_rates(pd.concat([a.replications, b.replications], ignore_index=True))
            table = compare_scenarios(data, claim.metric, b.scenario.name, paired=True).table.iloc[0]
            measure = Measure(float(table.relative), float(table.relative_ci_low), float(table.relative_ci_high), len(a.replications))
            verdict = _claim_verdict(claim.figure, measure)
        rows.append({
            "claim": claim.id, "statement": claim.statement, "source": claim.source, "trust": claim.trust,
            "comparison": f"{a.scenario.name} vs {b.scenario.name}", "claimed": claim.figure,
            "model": measure.value, "ci_low": measure.low, "ci_high": measure.high, "verdict": verdict,
            "measured": claim.measured,
        })
    return rows


def _claim_verdict(claimed: float | None, measure: Measure) -> str:
    if claimed is None or not math.isfinite(measure.value):
        return "not comparable"
    if measure.low <= claimed <= measure.high:
        return "claim inside the model's CI"
    if (claimed > 0) != (measure.value > 0) and not measure.low <= 0 <= measure.high:
        return "model points the other way"
    return "model gives a larger effect" if abs(measure.value) > abs(claimed) else "model gives a smaller effect"


def check_scenarios(
    scenarios: list[Scenario], targets: Targets, replications: int = 3, seed: int = 20261122, workers: int = 1, firms: int = 21
) -> CheckResult:
    """Simulate every scenario and check it against the targets and the plausibility limits."""
    runs = run_scenarios(scenarios, replications, seed, workers)
    target_rows: list[dict] = []
    checks = []
    population = pd.DataFrame()
    for name, run in runs.items():
        rows, measured_firms = _target_rows(run, targets, seed, workers, firms)
        target_rows += rows
        if len(measured_firms):
            population = measured_firms.assign(scenario=name)
        checks.append(plausibility_checks(run, targets.plausibility).assign(scenario=name))
    return CheckResult(
        targets=pd.DataFrame(target_rows),
        plausibility=pd.concat(checks, ignore_index=True),
        order=_order(runs),
        claims=pd.DataFrame(_claim_rows(runs, targets)),
        firms=population,
        runs=runs,
    )

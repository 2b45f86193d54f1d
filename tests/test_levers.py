"""Each lever moves its KPI the right way.

Every check runs the same seeded replications of a "worse" and a "better" setting of one lever
(common random numbers) and asserts that the 99% confidence interval of the paired difference
lies entirely on the expected side of zero. The checks are the effects the lever registry
(``funnelsim.config.levers``) states for each lever.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from conftest import paired_difference_ci, scenario

from funnelsim import run_replication
from funnelsim.config.levers import REGISTRY
from funnelsim.config.lever_values import as_overrides
from funnelsim.experiments.experiment import replication_seeds

SHORT = ("simulation.horizon_days=180", "simulation.warmup_days=45")
REPLICATIONS = 4  # paired with common random numbers: differences are far less noisy than levels
Metric = Callable[[object], float]


def after_warmup(leads: pd.DataFrame, column: str) -> pd.Series:
    return (leads[column] >= 45) & (leads[column] < 180)


def kpi(name: str) -> Metric:
    return lambda rep: rep.kpis[name]


def contacted(rep) -> float:
    return float(after_warmup(rep.leads, "contacted_at").sum())


def mql_precision(rep) -> float:
    """Share of MQLs in the last third of the run whose true quality clears sales' bar."""
    leads = rep.leads
    late = leads[(leads.mql_at == leads.created_at) & (leads.created_at >= 120)]
    return float((late.quality >= scenario().sales_acceptance.threshold).mean())


def paired(worse: list[str], better: list[str], metric: Metric, seed: int) -> tuple[float, float, float]:
    a, b = scenario(*SHORT, *worse), scenario(*SHORT, *better)
    values_a, values_b = [], []
    for i, child in enumerate(replication_seeds(seed, REPLICATIONS)):
        values_a.append(metric(run_replication(a, child, i)))
        values_b.append(metric(run_replication(b, child, i)))
    return paired_difference_ci(pd.Series(values_a), pd.Series(values_b), alpha=0.01)


MEASURES: dict[str, Metric] = {"contacts": contacted, "mql_precision": mql_precision}  # others: KPIs
EFFECTS = [(entry, effect) for entry in REGISTRY for effect in entry.effects]


def settings(key: str, value: object, also: tuple[str, ...]) -> list[str]:
    return [*as_overrides({key: value}), *also]


@pytest.mark.parametrize("entry, effect", EFFECTS, ids=[f"{entry.key}: {effect.says}" for entry, effect in EFFECTS])
def test_lever_moves_its_kpi_the_right_way(entry, effect):
    """Every effect the lever registry states, from its worse to its better setting."""
    worse = settings(entry.key, effect.worse, effect.worse_with)
    better = settings(entry.key, effect.better, effect.better_with)
    mean, low, high = paired(worse, better, MEASURES.get(effect.measure, kpi(effect.measure)), seed=2026)
    if effect.direction > 0:
        assert low > 0, f"{entry.key}: difference {mean:.4g}, 99% CI [{low:.4g}, {high:.4g}]"
    else:
        assert high < 0, f"{entry.key}: difference {mean:.4g}, 99% CI [{low:.4g}, {high:.4g}]"


def test_priority_routing_serves_the_best_scored_leads_first():
    def top_quartile_speed(rep) -> float:
        touched = rep.leads[after_warmup(rep.leads, "first_touch_at")]
        top = touched[touched.score >= touched.score.quantile(0.75)]
        return float(top.speed_to_lead_hours.mean())

    load = ["sdr_team.reps=3"]  # about as much work as three reps can do in business hours
    mean, low, high = paired(
        [*load, "follow_up.priority_routing=false"],
        [*load, "follow_up.priority_routing=true"],
        top_quartile_speed,
        seed=7,
    )
    assert high < 0, f"difference {mean:.3g} h, 99% CI [{low:.3g}, {high:.3g}]"


def test_closed_loop_learns_and_keeps_the_budget():
    sc = scenario(*SHORT, "closed_loop.enabled=true", "closed_loop.meeting_every_days=21")
    daily = run_replication(sc, 3).daily
    noise = daily.score_noise_sd.to_numpy()
    assert noise[-1] < noise[0] and (np.diff(noise) <= 0).all()
    weights = daily[[f"budget_weight_{name}" for name in sc.channels]].iloc[-1].to_numpy()
    assert not np.allclose(weights, 1.0)
    loop = sc.closed_loop
    assert (weights >= loop.min_budget_weight - 1e-9).all() and (weights <= loop.max_budget_weight + 1e-9).all()
    planned = np.array([c.leads_per_week * c.cost_per_lead for c in sc.channels.values()])
    assert np.dot(planned, weights) == pytest.approx(planned.sum(), rel=1e-6)

    off = run_replication(scenario(*SHORT), 3).daily
    assert (off.score_noise_sd == sc.scoring.noise_sd).all()
    assert (off.filter(like="budget_weight_") == 1.0).all().all()

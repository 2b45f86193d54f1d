"""Each alignment lever moves its KPI the right way.

Every check runs the same seeded replications of a "worse" and a "better" setting of one lever
(common random numbers) and asserts that the 99% confidence interval of the paired difference
lies entirely on the expected side of zero.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from funnelsim import run_replication
from funnelsim.experiment import replication_seeds

from conftest import paired_difference_ci, scenario

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


LEVERS = {
    # lever: (worse setting, better setting, metric, +1 if "better" raises the metric else -1)
    "faster handoff, more contacts": (
        ["handoff.mode=batch", "handoff.batch_every_days=7", "handoff.batch_at_hour=17"],
        ["handoff.latency_hours={dist: lognormal, median: 0.1, sigma: 0.5}"],
        contacted,
        +1,
    ),
    "higher follow-up rate, more SQLs": (
        ["follow_up.follow_up_rate=0.5"],
        ["follow_up.follow_up_rate=0.95"],
        kpi("sqls"),
        +1,
    ),
    "more attempts, more contacts": (
        ["follow_up.max_attempts=1"],
        ["follow_up.max_attempts=6"],
        contacted,
        +1,
    ),
    "more SDRs under load, faster first touch": (
        ["sdr_team.reps=1"],
        ["sdr_team.reps=6"],
        kpi("median_speed_to_lead_hours"),
        -1,
    ),
    "reps around the clock, faster first touch": (
        [],
        ["sdr_team.business_hours=null"],
        kpi("median_speed_to_lead_hours"),
        -1,
    ),
    "one lead definition, more accepted leads": (
        ["sales_acceptance.threshold=70"],
        ["sales_acceptance.threshold=60.5"],
        kpi("sals"),
        +1,
    ),
    "less score noise, more precise MQLs": (
        ["scoring.noise_sd=25"],
        ["scoring.noise_sd=5"],
        mql_precision,
        +1,
    ),
    "closed loop, more precise MQLs over time": (
        ["closed_loop.enabled=false"],
        ["closed_loop.enabled=true", "closed_loop.meeting_every_days=21"],
        mql_precision,
        +1,
    ),
    "consistent message, higher win rate": (
        ["opportunity.message_consistency=0.1"],
        ["opportunity.message_consistency=1.0"],
        kpi("win_rate"),
        +1,
    ),
    "content for every stage, higher win rate": (
        ["opportunity.content_coverage=0.1"],
        ["opportunity.content_coverage=1.0"],
        kpi("win_rate"),
        +1,
    ),
    "more AEs when deals queue, more wins": (
        ["opportunity.ae_team.reps=1", "opportunity.ae_team.deals_per_rep=10"],
        ["opportunity.ae_team.reps=6", "opportunity.ae_team.deals_per_rep=20"],
        kpi("opportunities"),
        +1,
    ),
    "first touch inside the shopping window, more SQLs": (
        ["handoff.mode=batch", "handoff.batch_every_days=3"],
        ["handoff.latency_hours={dist: lognormal, median: 0.1, sigma: 0.5}"],
        kpi("sqls"),
        +1,
    ),
    "more AEs when SQLs wait, fewer buy elsewhere": (
        ["opportunity.ae_team.reps=4"],
        ["opportunity.ae_team.reps=20"],
        kpi("share_sqls_lapsed"),
        -1,
    ),
    "better retention, more revenue": (
        ["customers.monthly_churn=0.06"],
        ["customers.monthly_churn=0.005"],
        kpi("revenue"),
        +1,
    ),
}


@pytest.mark.parametrize("lever", list(LEVERS))
def test_lever_moves_its_kpi_the_right_way(lever):
    worse, better, metric, sign = LEVERS[lever]
    mean, low, high = paired(worse, better, metric, seed=2026)
    if sign > 0:
        assert low > 0, f"{lever}: difference {mean:.4g}, 99% CI [{low:.4g}, {high:.4g}]"
    else:
        assert high < 0, f"{lever}: difference {mean:.4g}, 99% CI [{low:.4g}, {high:.4g}]"


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

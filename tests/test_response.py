"""Response surfaces recover configured effects, on every lever scale, with honest intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from funnelsim.stats.response import Lever, ResponseSurface

LEVERS = [Lever("handoff.latency_hours.median", "log"), Lever("follow_up.follow_up_rate"), Lever("handoff.mode", "switch", on="continuous")]
# Ground truth: log(revenue) = 10 - 0.2 log(latency) + 1.0 rate + 0.3 [continuous] + replication effect + noise
TRUE = {"latency": -0.2, "rate": 1.0, "mode": 0.3}


def synthetic_runs(seed: int, n: int = 80, noise: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    runs = pd.DataFrame(
        {
            "handoff.latency_hours.median": np.exp(rng.uniform(math.log(0.1), math.log(10), n)),
            "follow_up.follow_up_rate": rng.uniform(0.4, 1.0, n),
            "handoff.mode": rng.choice(["batch", "continuous"], n),
            "replication": np.tile([0, 1], n // 2),
        }
    )
    log_revenue = (
        10
        + TRUE["latency"] * np.log(runs["handoff.latency_hours.median"])
        + TRUE["rate"] * runs["follow_up.follow_up_rate"]
        + TRUE["mode"] * (runs["handoff.mode"] == "continuous")
        + 0.1 * runs["replication"]
        + rng.normal(0, noise, n)
    )
    return runs.assign(revenue=np.exp(log_revenue))


def test_a_switch_alone_changes_the_kpi_by_its_configured_effect():
    surface = ResponseSurface.fit(synthetic_runs(1), "revenue", LEVERS)
    today = {"handoff.latency_hours.median": 1.0, "follow_up.follow_up_rate": 0.6, "handoff.mode": "batch"}
    change = surface.change(pd.DataFrame([{**today, "handoff.mode": "continuous"}]), today).iloc[0]
    assert change.ci_low < math.expm1(TRUE["mode"]) < change.ci_high
    assert surface.r_squared > 0.9


def test_a_log_lever_multiplies_the_kpi_by_a_power_of_the_ratio():
    surface = ResponseSurface.fit(synthetic_runs(2), "revenue", LEVERS)
    today = {"handoff.latency_hours.median": 8.0, "follow_up.follow_up_rate": 0.6, "handoff.mode": "batch"}
    change = surface.change(pd.DataFrame([{**today, "handoff.latency_hours.median": 0.5}]), today).iloc[0]
    truth = (0.5 / 8.0) ** TRUE["latency"] - 1  # +74%
    assert change.ci_low < truth < change.ci_high


def test_no_change_from_the_reference_is_exactly_zero():
    surface = ResponseSurface.fit(synthetic_runs(3), "revenue", LEVERS)
    today = {"handoff.latency_hours.median": 2.0, "follow_up.follow_up_rate": 0.7, "handoff.mode": "continuous"}
    change = surface.change(pd.DataFrame([today]), today).iloc[0]
    assert change.estimate == pytest.approx(0.0, abs=1e-12)
    assert change.ci_low == pytest.approx(0.0, abs=1e-12) and change.ci_high == pytest.approx(0.0, abs=1e-12)


def test_changes_of_several_grids_at_once_are_each_grid_s_own():
    """Design rows are built for several grids in one go (the slow part); each grid's change is
    exactly what it is alone, a log lever, a rate and a switch each moved on its own."""
    surface = ResponseSurface.fit(synthetic_runs(5), "revenue", LEVERS)
    today = {"handoff.latency_hours.median": 3.0, "follow_up.follow_up_rate": 0.5, "handoff.mode": "batch"}
    grids = [pd.DataFrame([{**today, "handoff.latency_hours.median": v} for v in np.geomspace(0.2, 9, 37)]),
             pd.DataFrame([{**today, "follow_up.follow_up_rate": v} for v in np.linspace(0.4, 1.0, 23)]),
             pd.DataFrame([{**today, "handoff.mode": v} for v in ("batch", "continuous")])]
    together = surface.change_each(grids, today)
    assert [len(t) for t in together] == [37, 23, 2]
    for grid, table in zip(grids, together):
        pd.testing.assert_frame_equal(table, surface.change(grid, today), check_exact=True)
    assert together[2]["estimate"].iloc[0] == 0.0 and together[2]["estimate"].iloc[1] > 0


def test_the_level_is_predicted_at_the_average_replication():
    surface = ResponseSurface.fit(synthetic_runs(4, noise=0.01), "revenue", LEVERS)
    at = {"handoff.latency_hours.median": 1.0, "follow_up.follow_up_rate": 0.5, "handoff.mode": "batch"}
    level = surface.predict(pd.DataFrame([at])).iloc[0]
    truth = math.exp(10 + TRUE["rate"] * 0.5 + 0.05)  # replication effects 0 and 0.1, equally often
    assert level.ci_low < truth < level.ci_high


def test_interval_coverage_is_close_to_nominal():
    """Over 200 seeded data sets, the 95% CI of the switch effect covers the truth 95% of the time
    (within the 99% binomial interval around 0.95)."""
    from statsmodels.stats.proportion import proportion_confint

    today = {"handoff.latency_hours.median": 1.0, "follow_up.follow_up_rate": 0.6, "handoff.mode": "batch"}
    switched = pd.DataFrame([{**today, "handoff.mode": "continuous"}])
    covered = 0
    trials = 200
    for seed in range(trials):
        row = ResponseSurface.fit(synthetic_runs(100 + seed, n=40), "revenue", LEVERS).change(switched, today).iloc[0]
        covered += row.ci_low < math.expm1(TRUE["mode"]) < row.ci_high
    low, high = proportion_confint(round(0.95 * trials), trials, alpha=0.01, method="wilson")
    assert low <= covered / trials <= high


def test_an_absolute_surface_reports_differences():
    runs = synthetic_runs(5)
    runs["growth"] = np.log(runs["revenue"]) - 10
    surface = ResponseSurface.fit(runs, "growth", LEVERS, transform="absolute")
    today = {"handoff.latency_hours.median": 1.0, "follow_up.follow_up_rate": 0.5, "handoff.mode": "batch"}
    change = surface.change(pd.DataFrame([{**today, "follow_up.follow_up_rate": 0.9}]), today).iloc[0]
    assert change.ci_low < TRUE["rate"] * 0.4 < change.ci_high


def test_a_log_lever_refuses_zero():
    with pytest.raises(ValueError, match="handoff.latency_hours.median"):
        Lever("handoff.latency_hours.median", "log").coordinate([0.0, 1.0])

"""How sure are we: the PSA statistics on toys with known answers, then the study on the model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from funnelsim.psa import paired_effects, payback_effects, summarise_effects
from funnelsim.voi import evpi, evppi, first_order_indices


def toy_runs(draws: int, replications: int, beta: float, mu: float, noise: float, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of a reference and an option whose relative effect is ``mu + beta * x1 + noise``.

    x1 ~ N(0, 1); x2 and x3 are uniform and do nothing. The reference's KPI varies with the
    replication's luck, shared by the option (common random numbers)."""
    rng = np.random.default_rng(seed)
    params = pd.DataFrame({"x1": rng.normal(size=draws), "x2": rng.uniform(size=draws), "x3": rng.uniform(size=draws)})
    rows = []
    for d in range(draws):
        luck = 100 * np.exp(rng.normal(0, 0.3, replications))
        effect = mu + beta * params.x1[d] + rng.normal(0, noise, replications)
        for r in range(replications):
            rows.append({"draw": d, "scenario": "today", "replication": r, "revenue": luck[r], "gross_margin": 0.8})
            rows.append({"draw": d, "scenario": "option", "replication": r, "revenue": luck[r] * (1 + effect[r]),
                         "gross_margin": 0.8})
    return pd.DataFrame(rows), params


def test_paired_effects_are_relative_changes_within_a_draw_and_replication():
    runs = pd.DataFrame({
        "draw": [0, 0, 0, 0], "replication": [0, 1, 0, 1], "scenario": ["a", "a", "b", "b"],
        "revenue": [100.0, 0.0, 110.0, 5.0],
    })
    effects = paired_effects(runs, "a", ["revenue"])
    assert effects["effect"].iloc[0] == pytest.approx(0.10)
    assert math.isnan(effects["effect"].iloc[1])  # nothing to divide by
    absolute = paired_effects(runs, "a", ["revenue"], relative=False)
    assert list(absolute["effect"]) == [10.0, 5.0]


def test_the_psa_range_recovers_a_known_spread_of_effects():
    draws, reps, beta, mu, noise = 4000, 2, 0.1, 0.05, 0.02
    runs, _ = toy_runs(draws, reps, beta, mu, noise)
    row = summarise_effects(paired_effects(runs, "today", ["revenue"]), {"revenue": 0.10}).iloc[0]
    # Each draw's mean carries noise/sqrt(R); the mixture adds it once more: sd^2 = beta^2 + noise^2.
    sd = math.sqrt(beta**2 + noise**2)
    z = stats.norm.ppf(0.975)
    quantile_se = math.sqrt(0.025 * 0.975 / draws) / stats.norm.pdf(z) * sd  # of an empirical 2.5% quantile
    assert row["mean"] == pytest.approx(mu, abs=4 * sd / math.sqrt(draws))
    assert row["range_low"] == pytest.approx(mu - z * sd, abs=4 * quantile_se)
    assert row["range_high"] == pytest.approx(mu + z * sd, abs=4 * quantile_se)
    p = stats.norm.sf(-mu / sd)
    assert row["p_positive"] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws))
    p10 = stats.norm.sf((0.10 - mu) / sd)
    assert row["p_above"] == pytest.approx(p10, abs=4 * math.sqrt(p10 * (1 - p10) / draws))
    # The simulation-noise CI is about the mean over draws: noise / sqrt(R * D), pooled df = D (R - 1).
    half = (row["noise_high"] - row["noise_low"]) / 2
    expected = stats.t.ppf(0.975, draws * (reps - 1)) * noise / math.sqrt(reps * draws)
    assert half == pytest.approx(expected, rel=4 * math.sqrt(1 / (2 * draws)))
    assert row["noise_df"] == draws * (reps - 1)
    assert row["noise_share"] == pytest.approx(noise**2 / reps / (beta**2 + noise**2 / reps), rel=0.2)


def test_one_draw_the_range_is_the_simulation_noise_ci():
    runs, _ = toy_runs(1, 6, 0.1, 0.05, 0.02)
    row = summarise_effects(paired_effects(runs, "today", ["revenue"])).iloc[0]
    assert row["range_low"] == row["noise_low"] and row["range_high"] == row["noise_high"]
    assert row["draws"] == 1 and row["noise_low"] < row["mean"] < row["noise_high"]


def test_one_replication_per_draw_gives_the_plain_percentiles():
    runs, _ = toy_runs(400, 1, 0.1, 0.05, 0.02)
    effects = paired_effects(runs, "today", ["revenue"])
    row = summarise_effects(effects).iloc[0]
    assert math.isnan(row["noise_low"]) and row["noise_df"] == 0
    assert row["range_low"] == pytest.approx(np.quantile(effects["effect"], 0.025))


def test_payback_is_the_gross_margin_gain_a_year_against_the_cost():
    runs = pd.DataFrame({
        "draw": [0, 0, 1, 1], "replication": [0, 0, 0, 0], "scenario": ["today", "option"] * 2,
        "revenue": [1000.0, 1500.0, 1000.0, 1100.0], "gross_margin": [0.8, 0.8, 0.8, 0.8],
    })
    effects = payback_effects(runs, "today", {"option": 100.0}, years_per_window=2.0)
    # (1500 - 1000) * 0.8 / 2 - 100 = 100; (1100 - 1000) * 0.8 / 2 - 100 = -60
    assert list(effects["effect"]) == pytest.approx([100.0, -60.0])
    row = summarise_effects(effects).iloc[0]
    assert row["p_positive"] == 0.5 and row["kpi"] == "net benefit per year"


def test_sensitivity_indices_rank_the_parameter_the_effect_depends_on():
    runs, params = toy_runs(200, 2, 0.1, 0.05, 0.01, seed=3)
    means = paired_effects(runs, "today", ["revenue"]).groupby("draw")["effect"].mean()
    table = first_order_indices(means.to_numpy(), params, bootstrap=50)
    assert list(table["parameter"])[0] == "x1"
    first = table.iloc[0]
    # Noise keeps 0.01^2 / 2 of a variance of 0.1^2 + that unexplained.
    assert first["index"] == pytest.approx(1 / (1 + 0.005), abs=0.03) and first["low"] <= first["index"] <= first["high"] + 1e-9
    assert (table.iloc[1:]["index"] < 0.05).all()


def test_sensitivity_indices_see_a_curve_a_straight_line_would_miss():
    rng = np.random.default_rng(5)
    params = pd.DataFrame({"x1": rng.uniform(size=300), "x2": rng.uniform(size=300)})
    effect = (params.x1 - 0.5) ** 2 + rng.normal(0, 0.01, 300)  # no linear trend at all
    table = first_order_indices(effect, params, bootstrap=0).set_index("parameter")
    assert table.loc["x1", "index"] > 0.9 and table.loc["x1", "size"] > 1
    assert table.loc["x2", "index"] < 0.05


def test_evppi_of_the_parameter_that_decides_is_the_evpi_and_of_the_others_nothing():
    draws, slope, noise = 2000, 1000.0, 50.0
    rng = np.random.default_rng(7)
    params = pd.DataFrame({"x1": rng.uniform(-1, 1, draws), "x2": rng.uniform(-1, 1, draws), "x3": rng.uniform(size=draws)})
    net_benefit = pd.DataFrame({"do nothing": 0.0, "option": slope * params.x1 + rng.normal(0, noise, draws)})
    # Analytic: EVPI = E[max(0, slope * x1)] - max(0, E[slope * x1]) = slope / 4 for x1 ~ U(-1, 1).
    analytic = slope / 4
    se = slope * math.sqrt(1 / 6 - 1 / 16) / math.sqrt(draws)  # Monte Carlo error of a mean of max(0, slope x1)
    assert evpi(net_benefit) == pytest.approx(analytic, abs=4 * se + noise**2 / slope)
    table = evppi(net_benefit, params, {"x1": ["x1"], "x2 and x3": ["x2", "x3"]}).set_index("group")
    assert table.loc["x1", "evppi"] == pytest.approx(analytic, abs=4 * se)
    assert table.loc["x1", "evppi"] == pytest.approx(table.attrs["evpi"], abs=4 * se)
    assert table.loc["x2 and x3", "evppi"] < 4 * se
    assert list(table.index)[0] == "x1"


def test_evppi_is_nothing_when_one_option_is_always_best():
    rng = np.random.default_rng(2)
    params = pd.DataFrame({"x1": rng.uniform(size=300)})
    net_benefit = pd.DataFrame({"a": 0.0, "b": 1000 + 100 * params.x1})
    assert evpi(net_benefit) == 0
    assert evppi(net_benefit, params, {"x1": ["x1"]})["evppi"].iloc[0] == 0

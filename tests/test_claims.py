"""The claims check: the path from misaligned to aligned is faithful, and the searches find
the crossing points a known effect implies."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from funnelsim import load_scenario, load_sweep, run_replication
from funnelsim.config.levers import lever, staffing_levers
from funnelsim.config.lever_values import lever_settings
from funnelsim.experiments.experiment import run_scenario
from funnelsim.stats.response import Lever, ResponseSurface
from funnelsim.studies.claims import (
    ALIGNMENT_LEVERS,
    CLAIMS,
    Claim,
    _status,
    claims_summary,
    lever_bounds,
    path_needed,
    path_settings,
    path_sweep,
    single_lever_needed,
)

SHORT = ["simulation.horizon_days=100", "simulation.warmup_days=20"]


def scenario(name: str, overrides=SHORT):
    return load_scenario(ROOT / "params" / name, list(overrides))


@pytest.fixture(scope="module")
def ends():
    misaligned = scenario("scenarios/fully-misaligned.yaml")
    aligned = scenario("scenarios/fully-aligned.yaml")
    bounds = lever_bounds(load_sweep(ROOT / "params/sweeps/alignment-box.yaml"))
    return misaligned, aligned, bounds


def test_the_levers_are_exactly_what_separates_the_maturity_levels(ends):
    misaligned, aligned, _ = ends
    a = misaligned.model_dump(mode="json")
    b = aligned.model_dump(mode="json")
    differing = set()

    def walk(x, y, prefix=""):
        for key in x:
            if isinstance(x[key], dict):
                walk(x[key], y[key], f"{prefix}{key}.")
            elif x[key] != y[key]:
                differing.add(prefix + key)

    walk(a, b)
    levers = {entry.key for entry in ALIGNMENT_LEVERS} | {entry.key for entry in staffing_levers()}
    assert differing - {"name", "description", "maturity"} <= levers  # nothing but the levers separates them
    # a lever may be equal at both ends only where both round to the same head count or number of attempts
    assert all(lever(key).whole for key in levers - differing), levers - differing


def test_the_path_starts_and_ends_at_the_two_scenarios(ends):
    misaligned, aligned, bounds = ends
    keys = [lever.key for lever in ALIGNMENT_LEVERS]
    start, end = lever_settings(misaligned, keys), lever_settings(aligned, keys)
    settings = path_settings(start, end, np.array([0.0, 0.5, 1.0, 10.0]), ALIGNMENT_LEVERS, bounds)
    assert settings.iloc[0].to_dict() == start
    assert settings.iloc[2].to_dict() == end
    # a latency moves geometrically: half-way is the geometric mean
    yes, no = aligned.handoff.latency_hours.median, misaligned.handoff.latency_hours.median
    assert settings.loc[1, "handoff.latency_hours.median"] == pytest.approx(math.sqrt(no * yes))
    # a switch flips half-way, as "partly" does in the assessment
    assert settings.loc[1, "handoff.mode"] == "continuous"
    # far beyond 1, every numeric lever stops at the end of its swept range
    assert settings.loc[3, "follow_up.follow_up_rate"] == 1.0
    assert settings.loc[3, "handoff.latency_hours.median"] == bounds["handoff.latency_hours.median"][0]
    assert settings.loc[3, "customers.monthly_churn"] == bounds["customers.monthly_churn"][0]


def test_the_path_point_one_simulates_exactly_like_the_aligned_scenario(ends):
    misaligned, aligned, bounds = ends
    typical = scenario("baseline.yaml")
    sweep = path_sweep(typical, misaligned, aligned, bounds, [0, 1], replications=1, seed=5)
    by_t = {p.factors["t"]: p.scenario for p in sweep.points[1:]}
    for t, reference in ((0.0, misaligned), (1.0, aligned)):
        got = run_replication(by_t[t], 5).kpis
        want = run_replication(reference, 5).kpis
        assert got == want


def test_the_path_needs_both_ends(ends):
    misaligned, aligned, bounds = ends
    with pytest.raises(ValueError, match="must include 0"):
        path_sweep(misaligned, misaligned, aligned, bounds, [0.5, 1], 1, 1)


def test_path_needed_interpolates_the_crossing_and_admits_when_it_is_never_reached():
    rows = []
    for claim in CLAIMS:
        for t in (0.0, 0.5, 1.0, 2.0):
            if claim.change is None:
                change = 0.1 * t
            elif claim.id == "infographic_closing":
                change = 0.2 * t  # never reaches +67%
            else:
                change = 2 * claim.change * t  # reaches the claim at t = 0.5 exactly... then beyond
            rows.append({"claim": claim.id, "kpi": claim.kpi, "t": t, "change": change,
                         "ci_low": change - 0.01, "ci_high": change + 0.01})
    needed = path_needed(pd.DataFrame(rows)).set_index("claim")
    assert needed.loc["mathmarketing_wins", "t_needed"] == pytest.approx(0.5)
    assert needed.loc["survey2025_cac", "t_needed"] == pytest.approx(0.5)  # a reduction crosses downward
    assert math.isnan(needed.loc["infographic_closing", "t_needed"])
    assert needed.loc["infographic_closing", "most_on_path"] == pytest.approx(0.4)
    assert "survey2025_growth" not in needed.index  # not comparable: no search
    text = " ".join(claims_summary(pd.DataFrame({"verdict": ["model gives a larger effect"]}), needed.reset_index()))
    assert "'infographic_closing' (+67%) is not reached" in text


def test_interpolation_between_simulated_points():
    claim = next(c for c in CLAIMS if c.id == "mathmarketing_wins")  # +38%
    table = pd.DataFrame({"claim": claim.id, "kpi": "wins", "t": [0.0, 1.0], "change": [0.0, 0.76],
                          "ci_low": [0.0, 0.5], "ci_high": [0.0, 1.0]})
    other = [pd.DataFrame({"claim": c.id, "kpi": c.kpi, "t": [0.0, 1.0], "change": [0.0, 0.0], "ci_low": 0.0, "ci_high": 0.0})
             for c in CLAIMS if c.id != claim.id]
    row = path_needed(pd.concat([table, *other])).set_index("claim").loc[claim.id]
    assert row.t_needed == pytest.approx(0.5)
    assert row.t_low == 1.0 and row.t_high == 1.0


@pytest.mark.parametrize(
    "claimed, low, high, verdict",
    [
        (0.38, 0.2, 0.5, "claim inside the model's CI"),
        (0.38, 1.0, 3.0, "model gives a larger effect"),
        (0.38, 0.05, 0.2, "model gives a smaller effect"),
        (0.38, -0.5, -0.1, "model points the other way"),
        (-0.32, -0.7, -0.5, "model gives a larger effect"),
    ],
)
def test_verdicts(claimed, low, high, verdict):
    assert _status(claimed, low, high) == verdict


def test_growth_claims_become_ratios_of_growth_factors():
    claims = {c.id: c for c in CLAIMS}
    assert claims["aberdeen_growth"].change == pytest.approx(1.20 / 0.96 - 1)
    assert (1 + claims["sirius_growth"].change) ** 3 == pytest.approx(1.24, rel=1e-5)
    assert all(c.source and c.trust and c.statement and c.reading for c in CLAIMS)
    assert {c.kpi for c in CLAIMS if "growth" in c.id} == {"transition_growth"}


def test_single_lever_search_finds_the_value_a_known_effect_implies():
    levers = [Lever("follow_up.follow_up_rate"), Lever("opportunity.content_coverage")]
    rng = np.random.default_rng(0)
    n = 60
    runs = pd.DataFrame({"follow_up.follow_up_rate": rng.uniform(0.4, 1.0, n), "opportunity.content_coverage": rng.uniform(0, 1, n),
                         "replication": np.tile([0, 1], n // 2)})
    # wins = exp(5 + 1.0 * rate + 0.1 * coverage): +38% needs rate to rise by log(1.38) = 0.322
    runs["wins"] = np.exp(5 + runs["follow_up.follow_up_rate"] + 0.1 * runs["opportunity.content_coverage"] + rng.normal(0, 0.01, n))
    surface = ResponseSurface.fit(runs, "wins", levers)
    claim = Claim("x", "s", "t", "38% more", "wins", 0.38, "misaligned", "r")
    start = {"follow_up.follow_up_rate": 0.5, "opportunity.content_coverage": 0.2}
    end = {"follow_up.follow_up_rate": 0.9, "opportunity.content_coverage": 0.8}
    bounds = {"follow_up.follow_up_rate": (0.4, 1.0), "opportunity.content_coverage": (0.0, 1.0)}
    table = single_lever_needed(claim, surface, start, end, bounds).set_index("lever")
    assert table.loc["follow_up.follow_up_rate", "needed"] == pytest.approx(0.5 + math.log(1.38), abs=0.01)
    assert pd.isna(table.loc["opportunity.content_coverage", "needed"])
    assert table.loc["opportunity.content_coverage", "best_alone"] == pytest.approx(math.expm1(0.08), abs=0.01)


def test_growth_after_a_change_moves_a_share_of_the_way_to_the_new_steady_state():
    # A year at 1.5% churn a month replaces 1 - exp(-12 h) of the customers: revenue moves that
    # share of the way from the old steady state to the new one.
    from funnelsim.stats.measures import growth_after_change

    share = -math.expm1(12 * math.log1p(-0.015))
    assert growth_after_change(np.array([150.0]), np.array([100.0]), np.array([0.015]))[0] == pytest.approx(0.5 * share)
    assert growth_after_change(np.array([100.0]), np.array([100.0]), np.array([0.02]))[0] == 0.0


def test_the_benchmark_table_measures_the_typical_company_as_the_studies_did():
    from funnelsim.studies.check import benchmark_table
    from funnelsim.studies.targets import load_targets

    typical = scenario("baseline.yaml", ["simulation.horizon_days=200", "simulation.warmup_days=30"])
    run = run_scenario(typical, 2, 3)
    targets = load_targets()
    no_firms = targets.model_copy(update={"targets": [t for t in targets.targets if not t.metric.startswith("hbr_")]})
    table, firms = benchmark_table(run, no_firms, seed=3)
    table = table.set_index("target")
    assert firms.empty
    rates = run.replications
    assert table.loc["inquiry_to_mql", "model"] == pytest.approx((rates.mqls / rates.leads).mean())
    assert table.loc["marketingsherpa_long_cycles", "verdict"] == "not comparable"
    # contact at 5 minutes can be so sure in a short run that its odds ratio is not measurable
    assert np.isfinite(table.loc["mit_qualify_5_vs_30", "model"])
    assert np.isfinite(table.loc["mit_contact_5_vs_30", "model"]) or table.loc["mit_contact_5_vs_30", "verdict"] == "not measured"
    assert (table.trust != "").all() and (table.measured != "").all()

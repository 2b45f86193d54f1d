"""The model's maths (``funnelsim.model.maths``) and its stage table (``funnelsim.model.stages``).

Calibration inverts what the model does, so each inverse is checked against the model's own
forward formula: forward then back gives the value we started from. The scalar and vectorised
forms of a formula must agree, and the stage table must agree with the scenario schema and the
data dictionary.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import scenario

from funnelsim.config.schema import STAGE_NAMES, Stages
from funnelsim.model import maths
from funnelsim.model.context import Funnel
from funnelsim.model.maths import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    MONTHS_PER_YEAR,
    DecayCurve,
    QualityShift,
    alignment_log_odds,
    base_logit_for,
    base_probability_for,
    churn_hazard_per_day,
    contact_chance,
    customer_lifetime,
    customer_lifetimes,
    decay_basis,
    decay_log_multiplier_array,
    decay_slopes,
    highest_lead_score,
    lead_score,
    logistic,
    logistic_array,
    logit,
    mean_chance,
    monthly_churn_for,
    quality_mix,
    share_lost_within_months,
    stage_pass_logits,
)
from funnelsim.model.records import DAILY_COLUMNS, LEAD_COLUMNS, REPLICATION_COLUMNS
from funnelsim.model.stages import (
    DEAL_STAGE_NAMES,
    DEAL_STAGES,
    FUNNEL_STAGES,
    HEADLINE_STAGES,
    TIMELINE,
)
from funnelsim.studies.calibration import _LeadModel
from funnelsim.studies.calibration_fits import PresenceCurve


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(15)


# --- units -------------------------------------------------------------------------------------


def test_a_month_is_a_twelfth_of_the_year_everywhere():
    assert DAYS_PER_MONTH * MONTHS_PER_YEAR == DAYS_PER_YEAR == 365.25
    assert maths.HOURS * HOURS_PER_DAY == 1.0
    assert maths.MINUTES * maths.MINUTES_PER_HOUR * HOURS_PER_DAY == pytest.approx(1.0)


# --- odds --------------------------------------------------------------------------------------


def test_logistic_inverts_logit_and_its_array_form_agrees(rng):
    for p in rng.uniform(1e-6, 1 - 1e-6, 200):
        assert logistic(logit(p)) == pytest.approx(p, rel=1e-12)
    x = rng.normal(0, 8, 500)
    np.testing.assert_allclose(logistic_array(x), [logistic(v) for v in x], rtol=1e-13)
    assert logistic(-800) == 0.0 and logistic_array(-800.0) == 0.0  # no overflow


def test_quality_shift_is_the_same_for_one_lead_and_many(rng):
    shift = QualityShift(2.2)
    quality = rng.normal(50, 15, 100)
    assert shift(50.0) == 0.0
    assert shift(60.0) == pytest.approx(math.log(2.2))
    np.testing.assert_array_equal(shift(quality), [shift(float(q)) for q in quality])


def test_the_base_logit_inverts_the_average_chance_over_a_mix(rng):
    shifts = QualityShift(1.8)(rng.normal(55, 14, 5000))
    for base in (-4.0, -0.3, 0.0, 1.7, 5.0):
        assert base_logit_for(mean_chance(base, shifts), shifts) == pytest.approx(base, abs=1e-9)


def test_calibration_recovers_the_qualification_chance_the_model_uses(rng):
    """Forward: the model's chance that a reached lead of quality q qualifies at age 0 is
    logistic(logit(p50) + shift(q)); calibration reads p50 back off the mix's average."""
    sc = scenario()
    q = sc.qualification
    quality = rng.normal(60, 12, 20_000)
    shifts = QualityShift(q.quality_odds_ratio_per_10_points)(quality)
    observed = float(np.mean([logistic(logit(q.probability_at_quality_50) + s) for s in shifts]))
    assert base_probability_for(observed, shifts) == pytest.approx(q.probability_at_quality_50, abs=1e-9)


@pytest.mark.parametrize("overrides", [[], ["opportunity.message_consistency=0.3", "opportunity.content_coverage=0.5"]])
def test_calibration_recovers_each_deal_stage_pass_probability(rng, overrides):
    """Forward: the model passes a deal stage with logistic(stage_pass_logits + quality shift);
    calibration reads each stage's pass_probability back off the average, net of alignment."""
    opp = scenario(*overrides).opportunity
    quality = rng.normal(58, 13, 20_000)
    shifts = QualityShift(opp.quality_odds_ratio_per_10_points)(quality)
    for base_logit, (_, stage) in zip(stage_pass_logits(opp), opp.stages.in_order()):
        observed = float(np.mean(logistic_array(base_logit + shifts)))
        assert base_probability_for(observed, shifts, alignment_log_odds(opp)) == pytest.approx(stage.pass_probability, abs=1e-9)


def test_alignment_is_zero_when_fully_aligned_and_lowers_every_stage_otherwise():
    full = scenario("opportunity.message_consistency=1", "opportunity.content_coverage=1").opportunity
    assert alignment_log_odds(full) == 0.0
    assert stage_pass_logits(full) == [logit(s.pass_probability) for _, s in full.stages.in_order()]
    half = scenario("opportunity.message_consistency=0.5", "opportunity.content_coverage=0.5").opportunity
    expected = -0.5 * math.log(half.message_consistency_odds_ratio) - 0.5 * math.log(half.content_coverage_odds_ratio)
    assert alignment_log_odds(half) == pytest.approx(expected)


# --- decay curves ------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", ["contact_decay", "qualification_decay"])
def test_the_decay_curve_its_array_form_and_its_regression_basis_agree(curve, rng):
    decay = getattr(scenario().follow_up, curve)
    knots, multipliers = list(decay.age_hours), list(decay.odds_multiplier)
    ages = np.concatenate([[0.0], rng.uniform(0, knots[-1] * 1.5, 300), knots])
    scalar = [DecayCurve(decay)(a / HOURS_PER_DAY) for a in ages]
    np.testing.assert_allclose(decay_log_multiplier_array(knots, multipliers, ages), scalar, atol=1e-12)
    if len(knots) > 1:  # calibration fits the slopes on this basis; the curve is their sum
        np.testing.assert_allclose(decay_basis(ages, knots) @ decay_slopes(knots, multipliers), scalar, atol=1e-12)


def test_calibrations_presence_curve_is_the_models_contact_chance():
    """The likelihood calibration maximises on first dials is the model's own contact chance."""
    fu = scenario().follow_up
    knots = list(fu.contact_decay.age_hours)
    ages_hours = np.array([0.001, 0.05, 0.1, 0.148, 0.2, 0.5, 1, 3, 12, 24, 30, 100, 168, 400])
    curve = PresenceCurve(np.ones(len(ages_hours)), ages_hours[:, None], fu.presence_minutes.log_sigma, knots)
    params = np.array([logit(fu.contact_probability_present), math.log(fu.presence_minutes.median),
                       logit(fu.contact_probability), *decay_slopes(knots, fu.contact_decay.odds_multiplier)])
    fitted = np.exp(curve.loglikeobs(params))  # every dial reached: the log-likelihood is log p
    model = [contact_chance(fu, a / HOURS_PER_DAY) for a in ages_hours]
    np.testing.assert_allclose(fitted, model, rtol=1e-9)


# --- the score ---------------------------------------------------------------------------------


def test_the_score_keeps_the_quality_scale_of_the_mix(rng):
    sc = scenario()
    channels = list(sc.channels.values())
    volumes = [c.leads_per_week for c in channels]
    mean, variance = quality_mix(volumes, [c.quality.mean for c in channels], [c.quality.variance for c in channels])
    counts = rng.multinomial(400_000, np.array(volumes) / sum(volumes))
    quality = np.concatenate([c.quality.sample(rng, n) for c, n in zip(channels, counts)])
    assert quality.mean() == pytest.approx(mean, abs=0.1) and quality.var() == pytest.approx(variance, rel=0.01)
    score = lead_score(quality, rng.standard_normal(len(quality)), mean, variance, sc.scoring.noise_sd)
    assert score.mean() == pytest.approx(mean, abs=0.1) and score.var() == pytest.approx(variance, rel=0.01)
    assert lead_score(64.0, 0.0, mean, variance, 0.0) == 64.0  # no noise: the score is the quality


def test_calibrations_score_bars_let_the_same_shares_through_in_the_model(rng):
    """Forward: the model scores leads (``Funnel.score``) and lets through those at or above the
    bars; calibration reads the bars back off the shares that pass."""
    sc = scenario()
    channels = list(sc.channels.values())
    volumes = np.array([c.leads_per_week for c in channels])
    counts = rng.multinomial(400_000, volumes / volumes.sum())
    quality = np.concatenate([c.quality.sample(rng, n) for c, n in zip(channels, counts)])
    score = Funnel(sc, np.random.SeedSequence(1)).score(quality, rng.standard_normal(len(quality)))
    mql = score >= sc.scoring.mql_threshold
    accepted = score[mql] >= sc.sales_acceptance.threshold
    lead_model = _LeadModel.draw(sc, dict(zip(sc.channels, volumes / volumes.sum())))
    mql_bar = lead_model.threshold_for_share(float(mql.mean()))
    assert mql_bar == pytest.approx(sc.scoring.mql_threshold, abs=0.15)
    above = lead_model.score >= mql_bar
    assert lead_model.threshold_for_share(float(accepted.mean()), above) == pytest.approx(sc.sales_acceptance.threshold, abs=0.2)


# --- churn -------------------------------------------------------------------------------------


@pytest.mark.parametrize("monthly", [0.0, 0.001, 0.015, 0.2, 0.9])
def test_churn_round_trips_between_the_monthly_share_and_the_daily_hazard(monthly):
    hazard = churn_hazard_per_day(monthly)
    assert monthly_churn_for(hazard) == pytest.approx(monthly, abs=1e-15)
    assert float(share_lost_within_months(1, monthly)) == pytest.approx(monthly, abs=1e-15)
    year = float(share_lost_within_months(MONTHS_PER_YEAR, monthly))
    assert year == pytest.approx(-math.expm1(-hazard * DAYS_PER_YEAR), abs=1e-12)
    assert churn_hazard_per_day(1.0) == math.inf and monthly_churn_for(math.inf) == 1.0


def test_customer_lifetimes_follow_the_hazard(rng):
    hazard = churn_hazard_per_day(0.02)
    u = rng.uniform(size=200_000)
    lifetimes = customer_lifetimes(u, hazard)
    np.testing.assert_array_equal(lifetimes[:100], [customer_lifetime(float(x), hazard) for x in u[:100]])
    assert lifetimes.mean() == pytest.approx(1 / hazard, rel=0.01)
    # the share gone within a month is the monthly churn
    assert np.mean(lifetimes <= DAYS_PER_MONTH) == pytest.approx(0.02, abs=0.002)
    assert (customer_lifetimes(u[:5], 0.0) == math.inf).all() and customer_lifetime(0.5, 0.0) == math.inf


# --- the stage table ---------------------------------------------------------------------------


def test_the_deal_stages_are_the_schemas():
    assert tuple(Stages.model_fields) == DEAL_STAGE_NAMES == tuple(STAGE_NAMES)
    assert [name for name, _ in scenario().opportunity.stages.in_order()] == list(DEAL_STAGE_NAMES)
    assert DEAL_STAGES[0].entered_at == "opportunity_at"  # a deal's first stage starts when it opens


def test_the_stage_table_names_real_columns():
    for stage in FUNNEL_STAGES:
        assert stage.reached_at in LEAD_COLUMNS and stage.count in DAILY_COLUMNS
    for stage in HEADLINE_STAGES:
        assert stage.count in REPLICATION_COLUMNS
    assert set(TIMELINE) <= set(LEAD_COLUMNS)
    timestamps = {name for name, (dtype, unit, _) in LEAD_COLUMNS.items() if unit == "day" and name.endswith("_at")}
    assert timestamps - set(TIMELINE) == {"sla_deadline_at"}  # a deadline, not an event
    order = [TIMELINE.index(stage.reached_at) for stage in FUNNEL_STAGES if stage.status is None]
    assert order == sorted(order)


def test_the_highest_score_over_noise_levels_is_the_highest_of_any_level_between():
    """The closed loop's meetings move the score's noise level, so the highest score a lead can
    get is bounded over the whole range of levels: at an end, or where the score turns."""
    rng = np.random.default_rng(3)
    quality, noise = rng.normal(50, 12, 4000), rng.standard_normal(4000)
    low, high = 2.0, 15.0
    levels = np.linspace(low, high, 2001)
    on_grid = np.max([lead_score(quality, noise, 50.0, 144.0, sd) for sd in levels], axis=0)
    highest = highest_lead_score(quality, noise, 50.0, 144.0, low, high)
    assert np.all(highest >= on_grid - 1e-9)  # never below any level's score
    assert np.max(highest - on_grid) < 1e-3  # and no higher than the grid allows between its points
    ends = np.maximum(lead_score(quality, noise, 50.0, 144.0, low), lead_score(quality, noise, 50.0, 144.0, high))
    assert np.sum(highest > ends + 1e-6) > 100  # the turn inside the range matters for many leads
    flat = highest_lead_score(quality, noise, 50.0, 0.0, low, high)  # no spread: straight in the level
    assert np.allclose(flat, np.maximum(quality + low * noise, quality + high * noise))

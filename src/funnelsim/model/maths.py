"""The model's maths in one place: units, odds, the effects on them, decay curves, the score, churn.

Sales studies speak in odds ratios ("7x the odds of qualifying within the first hour"), so the
model does too: every chance starts from a base probability, turned into log-odds, and each
influence adds its log odds ratio. This keeps any combination of influences a valid
probability and lets each lever be stated the way the literature states it.

Everything outside the model that needs one of these formulas (calibration inverting them,
plots drawing them, the KPIs, the preflight, the evidence) calls them here instead of writing
them again, so the model and what is said about it cannot drift apart. Each formula comes in
the form its callers need: a scalar form (plain ``math``, for the simulation's hot path) and,
where arrays are needed, a vectorised form (named ``..._array`` when the two differ); a formula
that is plain arithmetic works on both. Where calibration inverts a formula, the inverse is
here too, beside it, and ``tests/test_model_maths.py`` checks that the two round-trip.

* units: ``DAYS_PER_YEAR``, ``DAYS_PER_MONTH`` (a twelfth of a year), ``HOURS_PER_DAY``, ...
  (time inside the model is in days);
* odds: ``logit``, ``logistic``, ``logistic_array``;
* lead quality: ``QualityShift`` (the log odds ratio of a lead's quality against quality 50);
* alignment: ``alignment_log_odds`` (message consistency and content coverage) and
  ``stage_pass_logits`` (each deal stage's log-odds for a quality-50 lead);
* a chance over a mix of leads: ``mean_chance`` and its inverses ``base_logit_for`` and
  ``base_probability_for`` (a base probability from an observed rate);
* decay curves: ``DecayCurve`` (scalar, age in days), ``decay_log_multiplier_array`` (ages in
  hours), and the curve as a regression basis, ``decay_basis`` with ``decay_slopes``;
* contact: ``presence_mix`` and ``contact_chance`` (the presence window and cold calls);
* marketing's score: ``quality_mix``, ``score_scale``, ``lead_score`` and ``highest_lead_score``
  (its highest over a range of noise levels);
* churn: ``churn_hazard_per_day``, its inverse ``monthly_churn_for``, ``customer_lifetime`` /
  ``customer_lifetimes`` and ``share_lost_within_months``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import optimize

from funnelsim.config.value_rules import HOURS, MINUTES

if TYPE_CHECKING:
    from funnelsim.config.response_decay import ResponseDecay
    from funnelsim.config.schema import FollowUp, Opportunity

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_WEEK",
    "DAYS_PER_YEAR",
    "HOURS",
    "HOURS_PER_DAY",
    "MINUTES",
    "MINUTES_PER_HOUR",
    "MONTHS_PER_YEAR",
    "REFERENCE_QUALITY",
    "QUALITY_STEP",
    "DecayCurve",
    "QualityShift",
    "alignment_log_odds",
    "base_logit_for",
    "base_probability_for",
    "churn_hazard_per_day",
    "contact_chance",
    "customer_lifetime",
    "customer_lifetimes",
    "decay_basis",
    "decay_log_multiplier_array",
    "decay_slopes",
    "lead_score",
    "highest_lead_score",
    "logistic",
    "logistic_array",
    "logit",
    "mean_chance",
    "monthly_churn_for",
    "presence_mix",
    "quality_mix",
    "score_scale",
    "share_lost_within_months",
    "stage_pass_logits",
]

FloatArray = npt.NDArray[np.float64]
Number = TypeVar("Number", float, FloatArray)

# --- units: time inside the model is in days ---------------------------------------------------

DAYS_PER_YEAR = 365.25
MONTHS_PER_YEAR = 12
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR  # 30.4375: a month is a twelfth of a year
DAYS_PER_WEEK = 7.0
HOURS_PER_DAY = 24.0
MINUTES_PER_HOUR = 60.0
# HOURS and MINUTES (days in an hour, in a minute) are the factors with which the scenario
# schema turns every ``*_hours`` and ``*_minutes`` field into days; re-exported from there.

# --- odds --------------------------------------------------------------------------------------


def logit(p: float) -> float:
    """Log-odds of a probability; 0 and 1 map to minus and plus infinity."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p / (1.0 - p))


def logistic(x: float) -> float:
    """The probability whose log-odds is ``x`` (numerically safe for any ``x``)."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def logistic_array(x: npt.ArrayLike) -> FloatArray:
    """``logistic`` of every element (``1 / (1 + exp(-x))``; an overflow of ``exp`` gives 0)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


# --- lead quality ------------------------------------------------------------------------------

REFERENCE_QUALITY = 50.0  # points: the quality at which a chance is its base probability
QUALITY_STEP = 10.0  # points: odds ratios of quality are stated per 10 points


class QualityShift:
    """The log-odds shift of a lead's quality: ``log(odds ratio per 10 points) x (quality - 50) / 10``.

    Called with one quality (the simulation) or an array of them (calibration): the same
    arithmetic either way. The model has two, for qualifying a reached lead
    (``qualification.quality_odds_ratio_per_10_points``) and for passing a deal stage
    (``opportunity.quality_odds_ratio_per_10_points``)."""

    def __init__(self, odds_ratio_per_10_points: float):
        self.log_odds_ratio = math.log(odds_ratio_per_10_points)

    def __call__(self, quality: Number) -> Number:
        return self.log_odds_ratio * (quality - REFERENCE_QUALITY) / QUALITY_STEP


# --- alignment: one message and content for every stage, on every deal stage's odds ---------------


def alignment_log_odds(opportunity: Opportunity) -> float:
    """The log odds ratio messaging and content give every deal stage, against full alignment.

    A stage's ``pass_probability`` is for fully consistent messaging and full content coverage;
    each lever below 1 lowers the log-odds by ``(1 - level) x log(its odds ratio)``."""
    return (opportunity.message_consistency - 1.0) * math.log(opportunity.message_consistency_odds_ratio) + (
        opportunity.content_coverage - 1.0
    ) * math.log(opportunity.content_coverage_odds_ratio)


def stage_pass_logits(opportunity: Opportunity) -> list[float]:
    """Each deal stage's log-odds of passing for a quality-50 lead, alignment included, in order."""
    alignment = alignment_log_odds(opportunity)
    return [logit(stage.pass_probability) + alignment for _, stage in opportunity.stages.in_order()]


# --- a chance over a mix of leads, and its inverse ----------------------------------------------


def mean_chance(base_logit: float, shifts: npt.ArrayLike) -> float:
    """The average chance over leads whose log-odds are ``base_logit`` plus their own shift."""
    return float(np.mean(logistic_array(base_logit + np.asarray(shifts, dtype=float))))


def base_logit_for(rate: float, shifts: npt.ArrayLike) -> float:
    """The inverse of ``mean_chance``: the base log-odds whose average over the shifts is ``rate``
    (kept within 1e-6 of 0 and 1)."""
    rate = min(max(rate, 1e-6), 1 - 1e-6)
    shifts = np.asarray(shifts, dtype=float)
    return float(optimize.brentq(lambda b: mean_chance(b, shifts) - rate, -30, 30))


def base_probability_for(rate: float, shifts: npt.ArrayLike, offset: float = 0.0) -> float:
    """The inverse of a chance averaged over a mix of leads, on the probability scale: the base
    probability ``p`` (a quality-50 lead's, with no other influence) such that leads whose
    log-odds are ``logit(p) + offset + shift`` pass with an average chance of ``rate``.

    Calibration reads the qualification chance (``offset`` 0) and each deal stage's
    ``pass_probability`` (``offset`` = ``alignment_log_odds``) off observed rates this way."""
    return float(logistic_array(base_logit_for(rate, shifts) - offset))


# --- decay curves: how the odds fall as a lead waits ------------------------------------------


class DecayCurve:
    """The log odds multiplier for a lead of a given age (days), from a ``ResponseDecay``: linear
    in the logarithm between the listed ages, flat after the last."""

    def __init__(self, decay: ResponseDecay):
        self._ages = decay.age_days
        self._logs = decay.log_multiplier

    def __call__(self, age_days: float) -> float:
        ages, logs = self._ages, self._logs
        if age_days >= ages[-1]:
            return logs[-1]
        if age_days <= 0.0:
            return logs[0]
        j = bisect.bisect_right(ages, age_days)
        a0, a1 = ages[j - 1], ages[j]
        w = (age_days - a0) / (a1 - a0)
        return logs[j - 1] + w * (logs[j] - logs[j - 1])


def decay_log_multiplier_array(knots_hours: npt.ArrayLike, odds_multiplier: npt.ArrayLike,
                               age_hours: npt.ArrayLike) -> FloatArray:
    """``DecayCurve`` at every age in hours, for a curve given by its knots and multipliers."""
    return np.interp(np.asarray(age_hours, dtype=float), np.asarray(knots_hours, dtype=float),
                     np.log(np.asarray(odds_multiplier, dtype=float)))


def decay_slopes(knots_hours: Sequence[float], odds_multiplier: Sequence[float]) -> list[float]:
    """The per-hour slope of the log odds multiplier on each segment between two knots."""
    logs = [math.log(m) for m in odds_multiplier]
    return [(b - a) / (k1 - k0) for a, b, k0, k1 in zip(logs, logs[1:], knots_hours, knots_hours[1:])]


def decay_basis(age_hours: npt.ArrayLike, knots_hours: Sequence[float]) -> FloatArray:
    """The decay curve as a regression basis: one column per segment between knots, the hours
    of it a lead of this age has lived through, so ``decay_basis(a, knots) @ decay_slopes(...)``
    is the curve's log multiplier at ``a`` (flat after the last knot). Calibration fits the
    slopes as logit coefficients on it."""
    age = np.asarray(age_hours, dtype=float)
    columns = [np.clip(age - a, 0.0, b - a) for a, b in zip(knots_hours[:-1], knots_hours[1:])]
    return np.column_stack(columns)


# --- contact: the presence window and cold calls --------------------------------------------


def presence_mix(staying: Number, present_chance: Number, cold_chance: Number) -> Number:
    """The chance a dial reaches the lead when the inquirer is still at the desk with chance
    ``staying`` (then reached with ``present_chance``), and is otherwise a cold call."""
    return present_chance * staying + cold_chance * (1.0 - staying)


def contact_chance(follow_up: FollowUp, age_days: float) -> float:
    """The chance an attempt at a lead of age ``age_days`` reaches it, before knowing whether
    the inquirer is still at the desk: present with the presence window's survival (then the
    chance of contact when present), else a cold call at the lead's age."""
    cold = logistic(logit(follow_up.contact_probability) + DecayCurve(follow_up.contact_decay)(age_days))
    presence = follow_up.presence_days
    present = follow_up.contact_probability_present
    if presence is None or present is None:
        return cold
    if age_days <= 0:
        return float(present)
    staying = 1.0 - float(presence.cdf(np.array([age_days]))[0])
    return presence_mix(staying, float(present), cold)


# --- marketing's score ---------------------------------------------------------------------------


def quality_mix(volumes: npt.ArrayLike, means: npt.ArrayLike, variances: npt.ArrayLike) -> tuple[float, float]:
    """Mean and variance of lead quality over channels mixed in proportion to their volumes."""
    volume = np.asarray(volumes, dtype=float)
    mean_by_channel = np.asarray(means, dtype=float)
    share = volume / volume.sum()
    mean = float(share @ mean_by_channel)
    variance = float(share @ (np.asarray(variances, dtype=float) + (mean_by_channel - mean) ** 2))
    return mean, variance


def score_scale(quality_variance: float, noise_sd: float) -> float:
    """The factor that puts quality plus noise back on the quality scale (same spread)."""
    variance = quality_variance
    return math.sqrt(variance / (variance + noise_sd * noise_sd)) if variance > 0 else 1.0  # no spread: no scale to keep


def lead_score(quality: Number, noise: Number, quality_mean: float, quality_variance: float, noise_sd: float) -> Number:
    """Marketing's score of leads of this quality with standard-normal noise draws ``noise``.

    The score is the quality plus noise at ``noise_sd``, expressed on the quality scale of the
    lead mix (same mean and spread as the true quality): a lead scoring 64 ranks where a lead of
    true quality 64 would rank if nobody erred. So a threshold passes about the same share of
    leads whatever the noise; less noise only ranks them better."""
    scale = score_scale(quality_variance, noise_sd)
    return quality_mean + (quality - quality_mean + noise_sd * noise) * scale


def highest_lead_score(quality: np.ndarray, noise: np.ndarray, quality_mean: float, quality_variance: float,
                       noise_sd_low: float, noise_sd_high: float) -> np.ndarray:
    """The highest ``lead_score`` each lead can get at any noise level from ``noise_sd_low`` to
    ``noise_sd_high``: at one of the two, or where the score stops rising or falling with the
    noise level (at noise level variance x noise / (quality - mean), when that lies between)."""
    def at(sd: float | np.ndarray) -> np.ndarray:
        scale = np.sqrt(quality_variance / (quality_variance + sd * sd)) if quality_variance > 0 else 1.0
        return np.asarray(quality_mean + (quality - quality_mean + sd * noise) * scale)

    ends = np.maximum(at(noise_sd_low), at(noise_sd_high))
    if quality_variance <= 0:  # no scale: the score is straight in the noise level, highest at an end
        return ends
    gap = quality - quality_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        turn = np.where(gap != 0, quality_variance * noise / gap, np.nan)
    between = (turn > noise_sd_low) & (turn < noise_sd_high)
    return np.where(between, np.maximum(ends, at(np.where(between, turn, noise_sd_low))), ends)


# --- churn: a constant hazard ----------------------------------------------------------------


def churn_hazard_per_day(monthly_churn: float) -> float:
    """The constant daily hazard at which ``monthly_churn`` of customers leave in a month."""
    return math.inf if monthly_churn >= 1 else -math.log1p(-monthly_churn) / DAYS_PER_MONTH


def monthly_churn_for(hazard_per_day: float) -> float:
    """The inverse of ``churn_hazard_per_day``: the share of customers lost in a month."""
    return float(-math.expm1(-hazard_per_day * DAYS_PER_MONTH))


def customer_lifetime(u: float, hazard_per_day: float) -> float:
    """Days a customer stays, from a uniform draw ``u``, at a constant churn hazard."""
    if hazard_per_day <= 0 or u <= 0:
        return math.inf
    return -math.log(u) / hazard_per_day


def customer_lifetimes(u: FloatArray, hazard_per_day: float) -> FloatArray:
    """``customer_lifetime`` of every uniform draw in ``u`` (all draws strictly inside (0, 1))."""
    if hazard_per_day <= 0:
        return np.full(len(u), math.inf)
    return -np.log(u) / hazard_per_day


def share_lost_within_months(months: float, monthly_churn: npt.ArrayLike) -> FloatArray:
    """The share of customers lost within ``months`` at a constant ``monthly_churn``,
    ``1 - (1 - monthly_churn) ** months`` (monthly churn of 1 kept just below 1)."""
    churn = np.clip(np.asarray(monthly_churn, dtype=float), 0, 1 - 1e-12)
    return -np.expm1(np.log1p(-churn) * months)

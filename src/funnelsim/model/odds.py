"""Chances expressed as odds: how quality, alignment and a lead's age move a probability.

Sales studies speak in odds ratios ("7x the odds of qualifying within the first hour"), so the
model does too: every chance starts from a base probability, turned into log-odds, and each
influence adds its log odds ratio. This keeps any combination of influences a valid
probability and lets each lever be stated the way the literature states it.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from funnelsim.schema import FollowUp, ResponseDecay

__all__ = ["logit", "logistic", "DecayCurve", "quality_shift", "contact_chance"]


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


def quality_shift(quality: float, odds_ratio_per_10_points: float) -> float:
    """Log-odds shift for a lead's quality relative to a reference quality of 50 points."""
    return math.log(odds_ratio_per_10_points) * (quality - 50.0) / 10.0


class DecayCurve:
    """The log odds multiplier for a lead of a given age (days), from a ``ResponseDecay``."""

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


def contact_chance(follow_up: FollowUp, age_days: float) -> float:
    """The chance an attempt at a lead of age ``age_days`` reaches it, before knowing whether
    the inquirer is still at the desk: present with the presence window's survival (then the
    chance of contact when present), else a cold call at the lead's age."""
    cold = logistic(logit(follow_up.contact_probability) + DecayCurve(follow_up.contact_decay)(age_days))
    presence = follow_up.presence_days
    if presence is None or age_days <= 0:
        return cold if presence is None else float(follow_up.contact_probability_present)
    staying = 1.0 - float(presence.cdf(np.array([age_days]))[0])
    return float(follow_up.contact_probability_present) * staying + cold * (1.0 - staying)

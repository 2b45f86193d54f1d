"""Closed-loop reporting: marketing learns from what sales did with its leads.

With the closed loop on, the two teams meet at a fixed cadence (the seeds: at least every six
weeks). At each meeting, if enough lead outcomes came back since the last one, marketing
(1) scores better: the noise of its lead score shrinks by a fraction, down to a floor, while
the score keeps its agreed scale, so the thresholds pass the same share of leads but the right
ones more often; and
(2) moves budget toward the channels that produce the most sales-qualified leads per unit of
spend, within bounds, keeping the total marketing budget the same. With the loop off, no
meeting happens and nothing is learned.
"""

from __future__ import annotations

import math

import numpy as np

from funnelsim.model.context import Funnel

__all__ = ["hold_meeting"]


def hold_meeting(funnel: Funnel) -> None:
    loop = funnel.scenario.closed_loop
    now = funnel.env.now
    later = [t for t in funnel.outcomes_at if t >= now]  # calls still under way
    if len(funnel.outcomes_at) - len(later) < loop.min_outcomes:
        return
    funnel.outcomes_at = later
    funnel.score_noise_sd = max(
        loop.noise_floor, funnel.score_noise_sd * (1.0 - loop.noise_reduction_per_meeting)
    )
    _shift_budget(funnel)


def _shift_budget(funnel: Funnel) -> None:
    loop = funnel.scenario.closed_loop
    rec = funnel.records
    n = rec.size
    now = funnel.env.now
    channel_code = rec.channel_code[:n]
    qualified = rec.sql_at[:n] <= now
    channels = funnel.scenario.channels
    names = [name for name, ch in channels.items() if ch.leads_per_week > 0]
    if len(names) < 2 or loop.budget_shift_strength == 0:
        return
    codes = [funnel.channels.index(name) for name in names]
    leads = np.array([np.count_nonzero(channel_code == c) for c in codes], float)
    sqls = np.array([np.count_nonzero(qualified & (channel_code == c)) for c in codes], float)
    cost = np.array([max(channels[name].cost_per_lead, 1e-9) for name in names])
    # SQLs per unit of spend, with one pseudo-observation each way so small channels stay finite.
    efficiency = (sqls + 1.0) / (leads + 2.0) / cost
    base_spend = np.array([channels[name].leads_per_week for name in names]) * cost
    weights = np.array([funnel.budget_weight[name] for name in names])
    mean_efficiency = np.dot(base_spend * weights, efficiency) / np.dot(base_spend, weights)
    # weights * (efficiency / mean) ** strength, in logarithms: the power overflows for a strong shift.
    log_weights = np.log(weights) + loop.budget_shift_strength * np.log(efficiency / mean_efficiency)
    weights = _rescale_within_bounds(log_weights, base_spend, loop.min_budget_weight, loop.max_budget_weight)
    for name, w in zip(names, weights):
        funnel.budget_weight[name] = float(w)


def _rescale_within_bounds(log_weights: np.ndarray, spend: np.ndarray, low: float, high: float) -> np.ndarray:
    """Weights in proportion to ``exp(log_weights)``, scaled so planned spend is unchanged, each
    clipped to ``[low, high]``.

    Spend after clipping grows monotonically with the scale, so bisection on the scale's
    logarithm finds it, between the scale that puts every weight at ``low`` and the one that
    puts every weight at ``high``; the bounds always allow it because ``low <= 1 <= high``.
    Working in logarithms keeps every step finite however far apart the weights are.
    """
    target = spend.sum()
    log_low, log_high = math.log(low), math.log(high)

    def weights_at(log_scale: float) -> np.ndarray:
        return np.exp(np.clip(log_weights + log_scale, log_low, log_high))

    lo, hi = log_low - log_weights.max(), log_high - log_weights.min()
    for _ in range(100):
        mid = (lo + hi) / 2
        if np.dot(spend, weights_at(mid)) < target:
            lo = mid
        else:
            hi = mid
    return weights_at(hi)

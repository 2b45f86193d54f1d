"""The customers a company already has, and what they pay until they leave.

A SaaS company does not start from zero: its existing customers pay their annual contract
value month by month and churn at the same monthly hazard as new ones. They are not leads, so
they appear in the daily revenue, churn and customer counts but not in the leads table.

By default the company is in its own *steady state*: at the end of the warm-up it has as many
customers as its own funnel wins a day divided by the daily churn hazard (a Poisson number with
that mean), the customers the simulation itself won by then included. This is what years of
running the same funnel with the same retention leave behind, so a company's revenue neither
grows nor shrinks merely because of the size it happened to start with, and two companies
compared with each other each carry the installed base their own way of working built. Their
contract values are drawn from the deals the company wins, and their remaining lifetimes from
the churn hazard (which has no memory, so how long they have been customers does not matter).

A scenario may instead give the number of customers on day 0 and their contract values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from funnelsim.config.schema import Scenario
from funnelsim.model.maths import (
    DAYS_PER_YEAR,
    churn_hazard_per_day,
    customer_lifetimes,
)
from funnelsim.model.randomness import element_key, uniforms

__all__ = ["InstalledBase", "installed_base", "recurring_revenue_per_day"]


def recurring_revenue_per_day(
    start: np.ndarray, end: np.ndarray, annual_amount: np.ndarray, days: int, horizon: float
) -> np.ndarray:
    """Revenue recognised in each day of customers paying ``annual_amount`` from start to end."""
    rate = annual_amount / DAYS_PER_YEAR
    grid = np.minimum(np.arange(days + 1, dtype=float), horizon)
    cumulative = np.zeros(days + 1)
    for lo in range(0, len(start), 2048):  # chunks keep the grid product small
        s, e, r = start[lo : lo + 2048], end[lo : lo + 2048], rate[lo : lo + 2048]
        cumulative += (np.clip(grid[:, None] - s[None, :], 0.0, (e - s)[None, :]) * r).sum(axis=1)
    return np.diff(cumulative)


class InstalledBase:
    """Day-by-day revenue, churn and head count of the customers the company already had."""

    def __init__(self, revenue: np.ndarray, churned: np.ndarray, customers: np.ndarray):
        self.revenue = revenue
        self.churned = churned
        self.customers = customers

    @classmethod
    def empty(cls, days: int) -> "InstalledBase":
        return cls(np.zeros(days), np.zeros(days, dtype=np.int64), np.zeros(days, dtype=np.int64))


def _draws(seed: np.random.SeedSequence, element: str, n: int) -> np.ndarray:
    return uniforms(element_key(seed, f"installed_base/{element}"), np.arange(n))


def _steady_state_size(scenario: Scenario, leads: pd.DataFrame, hazard: float, seed: np.random.SeedSequence) -> tuple[int, np.ndarray]:
    """How many customers the company has besides those the simulation won, and the won amounts."""
    start = scenario.simulation.warmup_days
    horizon = scenario.simulation.horizon_days
    won = (leads["status"] == "won").to_numpy()
    closed = leads["closed_at"].to_numpy()
    amounts = leads["amount"].to_numpy()[won]
    wins_per_day = np.count_nonzero(won & (closed >= start) & (closed < horizon)) / (horizon - start)
    churned = leads["churned_at"].to_numpy()
    alive_at_start = int(np.count_nonzero(won & (closed < start) & ~(churned < start)))
    expected = wins_per_day / hazard if hazard > 0 else 0.0
    total = int(poisson.ppf(_draws(seed, "count", 1)[0], expected)) if expected > 0 else 0
    return max(0, total - alive_at_start), amounts


def installed_base(
    scenario: Scenario, seed: np.random.SeedSequence, days: int, leads: pd.DataFrame
) -> InstalledBase:
    """The installed base of one replication, given its leads table (for the steady state)."""
    customers = scenario.customers
    horizon = scenario.simulation.horizon_days
    if customers.revenue_model != "recurring":
        return InstalledBase.empty(days)
    hazard = churn_hazard_per_day(customers.monthly_churn)
    if customers.installed_base == "steady_state":
        n, pool = _steady_state_size(scenario, leads, hazard, seed)
        if n == 0 or len(pool) == 0:
            return InstalledBase.empty(days)
        amount = pool[np.minimum((_draws(seed, "deal", n) * len(pool)).astype(np.int64), len(pool) - 1)]
        since = scenario.simulation.warmup_days  # remaining lifetimes count from the end of warm-up
    else:
        n = int(customers.installed_base)
        if n == 0:
            return InstalledBase.empty(days)
        assert customers.initial_deal_size is not None, "validated: a counted installed base has a deal size"
        amount = customers.initial_deal_size.quantile(_draws(seed, "deal", n))
        since = 0.0
    u = _draws(seed, "lifetime", n)
    lifetime = customer_lifetimes(u, hazard)
    leaves = since + lifetime
    end = np.minimum(leaves, horizon)
    churn_day = np.floor(leaves[leaves < horizon]).astype(np.int64)
    churned = np.bincount(churn_day, minlength=days)[:days]
    revenue = recurring_revenue_per_day(np.zeros(n), end, amount, days, horizon)
    return InstalledBase(revenue, churned, n - np.cumsum(churned))

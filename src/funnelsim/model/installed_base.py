"""The customers a company already has on day 0, and what they pay until they leave.

A growing SaaS company does not start from zero: its existing customers pay their annual
contract value month by month and churn at the same monthly hazard as new ones. They are not
leads, so they appear in the daily revenue, churn and customer counts but not in the leads
table. Their contract values and lifetimes come from their own random streams.
"""

from __future__ import annotations

import math

import numpy as np

from funnelsim.model.randomness import stream
from funnelsim.params import Scenario

__all__ = ["InstalledBase", "installed_base", "recurring_revenue_per_day"]

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


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
    """Day-by-day revenue, churn and head count of the day-0 customers."""

    def __init__(self, revenue: np.ndarray, churned: np.ndarray, customers: np.ndarray):
        self.revenue = revenue
        self.churned = churned
        self.customers = customers


def installed_base(scenario: Scenario, seed: np.random.SeedSequence, days: int) -> InstalledBase:
    customers = scenario.customers
    n = customers.initial_customers
    horizon = scenario.simulation.horizon_days
    if n == 0:
        return InstalledBase(np.zeros(days), np.zeros(days, dtype=np.int64), np.zeros(days, dtype=np.int64))
    amount = customers.initial_deal_size.sample(stream(seed, "installed_base/deal_size"), n)
    u = stream(seed, "installed_base/lifetime").random(n)
    monthly = customers.monthly_churn
    if monthly <= 0:
        lifetime = np.full(n, math.inf)
    elif monthly >= 1:
        lifetime = np.zeros(n)
    else:
        lifetime = -np.log(u) / (-math.log1p(-monthly) / DAYS_PER_MONTH)
    end = np.minimum(lifetime, horizon)
    churn_day = np.floor(lifetime[lifetime < horizon]).astype(np.int64)
    churned = np.bincount(churn_day, minlength=days)[:days]
    revenue = recurring_revenue_per_day(np.zeros(n), end, amount, days, horizon)
    return InstalledBase(revenue, churned, n - np.cumsum(churned))

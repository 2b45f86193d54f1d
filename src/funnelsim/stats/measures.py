"""Measures: a value with its confidence interval, the funnel's stage rates, and growth after a change.

Every published figure is compared with a *measure*: the model's value over replications with
its 95% t interval (``mean_ci``), on the replications table with each stage's conversion rate
added (``add_rates``). ``growth_after_change`` turns two steady states into the first year's
revenue growth of a company that moves from one to the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim.model.maths import MONTHS_PER_YEAR, FloatArray, share_lost_within_months

__all__ = ["Measure", "add_rates", "mean_ci", "replication_measures", "growth_after_change"]


@dataclass(frozen=True)
class Measure:
    """A measured value with its 95% CI and the number of observations behind it."""

    value: float
    low: float
    high: float
    n: int

    @classmethod
    def missing(cls, n: int = 0) -> "Measure":
        return cls(math.nan, math.nan, math.nan, n)


def add_rates(runs: pd.DataFrame) -> pd.DataFrame:
    """The replications table plus each stage's conversion rate."""
    out = runs.copy()

    def share(a: str, b: str) -> pd.Series:
        return out[a] / out[b].where(out[b] > 0)

    out["mql_rate"] = share("mqls", "leads")
    out["sal_rate"] = share("sals", "mqls")
    out["sql_rate"] = share("sqls", "sals")
    out["win_per_sql"] = share("wins", "sqls")
    out["lead_to_opportunity_rate"] = share("opportunities", "leads")
    return out


def mean_ci(values: pd.Series | np.ndarray, confidence: float = 0.95) -> Measure:
    """Mean over replications with a t interval."""
    data = np.asarray(values, float)
    data = data[np.isfinite(data)]
    if len(data) == 0:
        return Measure.missing()
    if len(data) == 1 or np.ptp(data) == 0:
        return Measure(float(data.mean()), float(data.mean()), float(data.mean()), len(data))
    stats = DescrStatsW(data)
    low, high = stats.tconfint_mean(alpha=1 - confidence)
    return Measure(float(stats.mean), float(low), float(high), len(data))


def replication_measures(runs: pd.DataFrame) -> dict[str, Measure]:
    """Every replications-table KPI and stage rate as a mean with its 95% t interval."""
    table = add_rates(runs)
    numeric = [c for c in table.columns if table[c].dtype.kind in "fi" and c not in ("replication", "seed", "point")]
    return {c: mean_ci(table[c]) for c in numeric}


def growth_after_change(revenue_new: npt.ArrayLike, revenue_old: npt.ArrayLike, monthly_churn: npt.ArrayLike) -> FloatArray:
    """Revenue growth in the year after a company in one steady state (revenue ``revenue_old``)
    takes on another company's funnel and retention (steady-state revenue ``revenue_new``,
    monthly churn ``monthly_churn``).

    From the change on, the old customers leave at the new churn hazard ``h`` while the new
    funnel adds customers, so revenue moves from the old steady state ``R0`` toward the new one
    ``R1`` along ``R(t) = R1 + (R0 - R1) exp(-h t)``: the first year's growth is
    ``(1 - exp(-h * 1 year)) * (R1 / R0 - 1)``."""
    first_year = share_lost_within_months(MONTHS_PER_YEAR, monthly_churn)  # 1 - exp(-h x 1 year)
    return first_year * (np.asarray(revenue_new, float) / np.asarray(revenue_old, float) - 1.0)

"""Could this company exist? The checks a sceptical sales leader would make of any scenario.

A scenario can sit inside every published range and still describe a company nobody could run:
a queue of leads that grows every day until the horizon, account executives with every deal
slot full for a year, a cost of acquiring a customer that years of that customer's payments
never earn back. Every shipped scenario must pass these checks; ``funnelsim check`` runs them
on any scenario. The limits live in the targets file (``plausibility:``).

* **No queue grows without bound**: the contact attempts waiting for an SDR and the SQLs
  waiting for an account executive, at the end of each day after warm-up. A straight line
  fitted over the window (every replication pooled) may not rise by more than
  ``max_queue_growth`` of the queue's mean level (or 10, for queues that are nearly empty).
* **Customers are worth winning**: CAC at most ``max_cac_to_deal_size`` times the average won
  deal's annual contract value.
* **Teams are not overloaded**: SDR call time and AE deal slots in use below
  ``max_utilisation`` of what is available, on average.
* **Qualified buyers are not turned away**: at most ``max_sqls_lapsed`` of SQLs buy elsewhere
  while waiting for an account executive (a company losing more hires).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from funnelsim.experiments.experiment import ScenarioRun
from funnelsim.studies.targets import Plausibility

__all__ = ["plausibility_checks", "queue_growth"]

_SMALL_QUEUE = 10.0


def queue_growth(daily: pd.DataFrame, column: str, warmup_days: float) -> tuple[float, float]:
    """The fitted rise of an end-of-day queue over the window after warm-up, and its mean level."""
    window = daily[daily["day"] >= math.ceil(warmup_days)]
    if len(window) < 2:
        return 0.0, float(window[column].mean()) if len(window) else 0.0
    day = window["day"].to_numpy(float)
    level = window[column].to_numpy(float)
    slope = np.polyfit(day, level, 1)[0]
    return float(slope * (day.max() - day.min())), float(level.mean())


def plausibility_checks(run: ScenarioRun, limits: Plausibility) -> pd.DataFrame:
    """One row per check: what was measured, the limit, and whether the company passes."""
    scenario = run.scenario
    warmup = scenario.simulation.warmup_days
    reps = run.replications
    rows = []
    for column, what in (("sdr_queue", "contact attempts waiting for an SDR"), ("awaiting_ae", "SQLs waiting for an account executive")):
        growth, level = queue_growth(run.daily, column, warmup)
        allowed = max(limits.max_queue_growth * level, _SMALL_QUEUE)
        rows.append({
            "check": f"no queue grows without bound: {what}",
            "measured": f"rises by {growth:,.0f} over the window (mean {level:,.0f})",
            "limit": f"at most {allowed:,.0f}",
            "passes": bool(growth <= allowed),
        })
    deal_size = (reps["bookings"] / reps["wins"].where(reps["wins"] > 0)).mean()
    cac = reps["cac"].mean()
    ratio = cac / deal_size if deal_size and np.isfinite(deal_size) else math.inf
    rows.append({
        "check": "customers are worth winning: CAC against the average deal",
        "measured": f"CAC {cac:,.0f} = {ratio:.2f} x the average deal ({deal_size:,.0f} a year)" if np.isfinite(ratio) else "no customers won",
        "limit": f"at most {limits.max_cac_to_deal_size:g} x",
        "passes": bool(ratio <= limits.max_cac_to_deal_size),
    })
    for kpi, what in (("sdr_utilisation", "SDR call time"), ("ae_utilisation", "AE deal slots in use")):
        value = float(reps[kpi].mean())
        rows.append({
            "check": f"teams are not overloaded: {what}",
            "measured": f"{value:.0%} of what is available",
            "limit": f"below {limits.max_utilisation:.0%}",
            "passes": bool(value < limits.max_utilisation),
        })
    lapsed = float(reps["share_sqls_lapsed"].mean())
    rows.append({
        "check": "qualified buyers are not turned away: SQLs that buy elsewhere waiting for an AE",
        "measured": f"{lapsed:.1%} of SQLs" if np.isfinite(lapsed) else "no SQLs",
        "limit": f"at most {limits.max_sqls_lapsed:.0%}",
        "passes": bool(not lapsed > limits.max_sqls_lapsed),
    })
    return pd.DataFrame(rows)

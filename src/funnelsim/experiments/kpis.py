"""The KPIs both teams report, computed from one replication's leads and daily tables.

Counts are of first-time events that happen after the warm-up (the model's first weeks, while
the pipeline fills, are simulated but not reported). Rates divide counts from the same window:
for example the lead-to-customer rate is wins after warm-up over leads after warm-up. The data
dictionary in ``records.REPLICATION_COLUMNS`` defines each KPI and its unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelsim.config.schema import Scenario
from funnelsim.model.maths import DAYS_PER_MONTH, MONTHS_PER_YEAR
from funnelsim.model.stages import HEADLINE_STAGES, FunnelStage

__all__ = ["replication_kpis"]


def _ratio(numerator: float | np.number, denominator: float | np.number) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def replication_kpis(leads: pd.DataFrame, daily: pd.DataFrame, scenario: Scenario) -> dict[str, float]:
    """One replication's KPIs over the window from the end of warm-up to the horizon."""
    start = scenario.simulation.warmup_days
    horizon = scenario.simulation.horizon_days
    months = (horizon - start) / DAYS_PER_MONTH

    def after_warmup(column: str) -> np.ndarray:
        values = leads[column].to_numpy()
        return (values >= start) & (values < horizon)

    def reached(stage: FunnelStage) -> np.ndarray:  # leads reaching the stage after warm-up
        now = after_warmup(stage.reached_at)
        return now if stage.status is None else now & (leads["status"] == stage.status).to_numpy()

    counts = {stage.count: int(np.count_nonzero(reached(stage))) for stage in HEADLINE_STAGES}
    won = (leads["status"] == "won").to_numpy()
    lost = (leads["status"] == "lost").to_numpy()
    closed = after_warmup("closed_at")
    new_leads = after_warmup("created_at")
    accepted = after_warmup("sal_at")
    wins = counts["wins"]
    losses = int(np.count_nonzero(closed & lost))
    won_now = leads[closed & won]

    deadline = leads["sla_deadline_at"].to_numpy()
    sla_due = (deadline >= start) & leads["sla_breached"].notna().to_numpy()
    breached = leads["sla_breached"].fillna(False).to_numpy(dtype=bool)

    marketing_spend = float(leads.loc[new_leads, "acquisition_cost"].sum())
    sales_cost = months * (
        scenario.sdr_team.reps * scenario.sdr_team.cost_per_rep_month
        + scenario.opportunity.ae_team.reps * scenario.opportunity.ae_team.cost_per_rep_month
    )

    window = daily[daily["day"] >= int(np.ceil(start))]
    churned = int(window["churned"].sum())
    customer_months = float(window["customers"].sum()) / DAYS_PER_MONTH
    monthly_churn = _ratio(churned, customer_months)
    margin = scenario.customers.gross_margin
    mean_amount = float(won_now["amount"].mean()) if wins else float("nan")
    if scenario.customers.revenue_model == "recurring":
        clv = _ratio(mean_amount / MONTHS_PER_YEAR * margin, monthly_churn) if churned else float("nan")
    else:
        clv = mean_amount * margin

    ae_slots = scenario.opportunity.ae_team.reps * scenario.opportunity.ae_team.deals_per_rep
    touched = after_warmup("first_touch_at")
    handed = after_warmup("handed_off_at")
    worked = accepted & (leads["attempts"].to_numpy() > 0)
    sql_now = after_warmup("sql_at")
    lapsed = after_warmup("lapsed_at")
    return {
        **counts,  # leads, mqls, sals, sqls, opportunities, wins
        "win_rate": _ratio(wins, wins + losses),
        "lead_to_customer_rate": _ratio(wins, counts["leads"]),
        "median_speed_to_lead_hours": float(np.median(leads.loc[touched, "speed_to_lead_hours"]))
        if touched.any()
        else float("nan"),
        "median_handoff_hours": float(np.median(leads.loc[handed, "handoff_hours"])) if handed.any() else float("nan"),
        "share_never_contacted": _ratio(
            np.count_nonzero(worked & leads["contacted_at"].isna().to_numpy()), np.count_nonzero(worked)
        ),
        "share_sqls_lapsed": _ratio(np.count_nonzero(lapsed), np.count_nonzero(sql_now)),
        "share_never_followed_up": _ratio(
            np.count_nonzero(accepted & (leads["status"] == "never_followed_up").to_numpy()),
            np.count_nonzero(accepted),
        ),
        "sla_breach_rate": _ratio(np.count_nonzero(sla_due & breached), np.count_nonzero(sla_due)),
        "sales_cycle_days": float((won_now["closed_at"] - won_now["sql_at"]).mean()) if wins else float("nan"),
        "bookings": float(won_now["amount"].sum()),
        "revenue": float(window["revenue"].sum()),
        "marketing_spend": marketing_spend,
        "cpl": _ratio(marketing_spend, counts["leads"]),
        "cac": _ratio(marketing_spend + sales_cost, wins),
        "monthly_churn": monthly_churn,
        "clv": clv,
        "sdr_utilisation": _ratio(window["sdr_busy_hours"].sum(), window["sdr_available_hours"].sum()),
        "ae_utilisation": _ratio(window["open_opportunities"].mean(), ae_slots),
    }

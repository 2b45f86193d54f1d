"""The calibration report in words a sales leader uses: what the export says about the funnel.

Calibration (``funnelsim.studies.calibration``) estimates each value of a scenario from a CRM
export. For people, an estimate is named as the business names it ("Paid search: leads per
week", "Handoff latency"), its value and range are shown in their units, and the scenario
file's key paths, the raw intervals and the fitted curves stay in the appendix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pandas.io.formats.style import Styler

from funnelsim.config.levers import REGISTRY
from funnelsim.config.lever_values import format_value
from funnelsim.present.vocabulary import people_table, percent
from funnelsim.studies.calibration_run import CalibrationRun

__all__ = ["estimate_name", "estimate_value", "estimates_table", "bad_rows_table", "comparison_table", "funnel_table"]

_REGISTERED = {entry.key: entry for entry in REGISTRY}
_CHANNEL_FIELDS = {"leads_per_week": "leads a week", "cost_per_lead": "cost per lead", "deal_size": "deal size (a year)"}
_NAMES = {
    "seasonality.hour": "Inquiries by hour of day",
    "seasonality.weekday": "Inquiries by weekday",
    "seasonality.month": "Inquiries by month",
    "handoff.latency_hours": "Handoff latency (MQL to sales)",
    "follow_up.presence_minutes": "Time a new inquirer stays at the desk",
    "follow_up.contact_decay": "Odds a cold call gets through, by the lead's age",
    "follow_up.qualification_decay": "Odds a reached lead qualifies, by its age",
}
_STAGE_FIELDS = {"pass_probability": "Deals that pass {stage}", "duration_days": "Days a deal spends in {stage}"}


def _words(key: str) -> str:
    return key.replace("_", " ")


def estimate_name(key: str) -> str:
    """An estimate's name as people say it, from the scenario file's key path."""
    parts = key.split(".")
    if parts[0] == "channels" and len(parts) == 3:
        return f"{_words(parts[1]).capitalize()}: {_CHANNEL_FIELDS.get(parts[2], _words(parts[2]))}"
    if parts[:2] == ["opportunity", "stages"] and len(parts) == 4 and parts[3] in _STAGE_FIELDS:
        return _STAGE_FIELDS[parts[3]].format(stage=_words(parts[2]))
    if key in _NAMES:
        return _NAMES[key]
    if key in _REGISTERED:
        return _REGISTERED[key].name
    return _words(key).replace(".", ": ").capitalize()


def _number(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def estimate_value(key: str, value: Any, currency: str = "$") -> str:
    """An estimate's value in its unit: a number, a fitted distribution, a profile or a decay curve."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, dict) and "dist" in value:
        shown = ", ".join(f"{name} {_number(float(v))}" for name, v in value.items() if name != "dist" and isinstance(v, (int, float)))
        return f"{value['dist']}" + (f" ({shown})" if shown else "")
    if isinstance(value, dict) and "odds_multiplier" in value:
        steps = [f"×{_number(float(m))} at {_number(float(h))} h" for h, m in zip(value.get("age_hours", []), value["odds_multiplier"])]
        return ", ".join(steps)
    if isinstance(value, (list, tuple, np.ndarray)):
        values = np.asarray(value, float)
        return f"{len(values)} multipliers, ×{values.min():.2f} to ×{values.max():.2f}"
    if key in _REGISTERED and isinstance(value, (int, float)):
        return format_value(key, value, currency)
    if key.endswith(("cost_per_lead",)) and isinstance(value, (int, float)):
        return f"{currency}{_number(float(value))}"
    if key.endswith("pass_probability") and isinstance(value, (int, float)):
        return f"{float(value):.0%}"
    return _number(float(value)) if isinstance(value, (int, float)) else str(value)


def _interval(key: str, value: Any, low: Any, high: Any, currency: str) -> str:
    """The 95% range in the value's unit (a fitted distribution's: of its median or mean)."""
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        return "–"
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{estimate_value(key, low, currency)} to {estimate_value(key, high, currency)}"
    return f"{_number(low)} to {_number(high)}"


def estimates_table(study: CalibrationRun, currency: str = "$") -> Styler:
    """Each estimate by its business name: value, 95% range, the leads it rests on, how, from where."""
    rows = study.calibration.estimates
    rows = rows.assign(
        name=[estimate_name(k) for k in rows["key"]],
        shown=[estimate_value(k, v, currency) for k, v in zip(rows["key"], rows["value"])],
        interval=[_interval(k, v, lo, hi, currency) for k, v, lo, hi in zip(rows["key"], rows["value"], rows["ci_low"], rows["ci_high"])],
        where=rows["source"].map({"export": "your export", "baseline": "kept at the baseline"}).fillna(rows["source"]),
    )
    return people_table(rows, {
        "name": ("Estimate", "text"),
        "shown": ("Value", "text"),
        "interval": ("95% range", "text"),
        "n": ("Leads it rests on", "count"),
        "method": ("How", "text"),
        "where": ("From", "text"),
    }, currency)


def bad_rows_table(study: CalibrationRun) -> Styler | None:
    """The rows left out, by row number, with the column, the value and the problem."""
    rows = study.export.bad_rows
    if rows.empty:
        return None
    return people_table(rows.astype({"value": str, "lead_id": str}), {
        "row": ("Row", "count"),
        "lead_id": ("Lead", "text"),
        "column": ("Column in the export", "text"),
        "value": ("Value", "text"),
        "problem": ("Problem", "text"),
    })


def comparison_table(study: CalibrationRun, currency: str = "$") -> Styler | None:
    """The calibrated company simulated against the export's own KPIs, with the prediction range."""
    table = study.comparison
    if table is None:
        return None
    money = table["kpi"].str.contains("bookings|revenue|cost", regex=True)
    share = table["kpi"].str.contains("share|rate", regex=True)

    def show(value: float, is_money: bool, is_share: bool) -> str:
        if not math.isfinite(value):
            return "–"
        return percent(value) if is_share else f"{currency}{_number(value)}" if is_money else _number(value)

    rows = table.assign(
        export_shown=[show(v, m, s) for v, m, s in zip(table["export"], money, share)],
        simulated_shown=[show(v, m, s) for v, m, s in zip(table["simulated"], money, share)],
        range_shown=[f"{show(lo, m, s)} to {show(hi, m, s)}"
                     for lo, hi, m, s in zip(table["prediction_low"], table["prediction_high"], money, share)],
    )
    return people_table(rows, {
        "kpi": ("KPI", "text"),
        "export_shown": ("Your export", "text"),
        "simulated_shown": ("The calibrated company, simulated", "text"),
        "range_shown": ("95% prediction range (one more run)", "text"),
        "export_inside_prediction": ("Export inside the range", "text"),
    })


def funnel_table(study: CalibrationRun) -> Styler:
    """The export's funnel: each stage's count and the share of the stage before that reached it."""
    return people_table(study.calibration.observed["funnel"], {
        "stage": ("Stage", "text"),
        "count": ("Leads", "count"),
        "conversion": ("Of the stage before", "percent"),
    })

"""The scenario report as a sales leader reads it: one company's numbers, in business words."""

from __future__ import annotations

from funnelsim.present.vocabulary import format_kpi, period, scenario_name
from funnelsim.studies.scenario_report import ScenarioReport

__all__ = ["headline"]


def headline(report: ScenarioReport, currency: str = "$") -> str:
    """Two sentences: what the company earns over the window and how its funnel gets there."""
    simulation = report.scenario.simulation
    mean = report.runs.mean(numeric_only=True)

    def show(key: str) -> str:
        return format_kpi(key, mean.get(key, float("nan")), currency)

    return (
        f"**{scenario_name(report.scenario.name)}**: over {period(simulation.horizon_days - simulation.warmup_days)}, "
        f"the company earns {show('revenue')} of revenue and books {show('bookings')} of new deals. "
        f"Its {show('leads')} leads become {show('sqls')} sales-qualified leads and {show('wins')} customers "
        f"(win rate {show('win_rate')}); sales first reaches a lead after {show('median_speed_to_lead_hours')} (median)."
    )

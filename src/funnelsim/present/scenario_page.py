"""The scenario report as a sales leader reads it: one company's numbers, in business words."""

from __future__ import annotations

from funnelsim.present.vocabulary import format_kpi, money, percent, period, scenario_name, signed_percent
from funnelsim.studies.scenario_report import ScenarioReport

__all__ = ["appendix", "headline"]


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


def appendix(report: ScenarioReport, currency: str = "$") -> str:
    """The appendix's opening lines: the scenario's description and settings, its revenue trend
    and how precise the revenue figure is (Markdown)."""
    simulation = report.scenario.simulation
    trend = report.growth.table.iloc[0]
    steady = trend["ci_low"] <= 0 <= trend["ci_high"]
    precision = report.precision.table.iloc[0]
    target = precision["target_half_width"] / report.runs["revenue"].mean()
    return (
        f"**{scenario_name(report.scenario.name)}** (`{report.scenario.name}`): {report.scenario.description.strip()}  \n"
        f"{report.replications} replications, seed {report.seed}; KPIs over days {simulation.warmup_days:g} to "
        f"{simulation.horizon_days:g} (the days before are the warm-up).  \n"
        f"Monthly revenue after the warm-up changes by {signed_percent(trend['annual_growth'])} a year "
        f"(95% CI {signed_percent(trend['ci_low'])} to {signed_percent(trend['ci_high'])}, {trend['method']})"
        + (": no trend beyond simulation noise, the company is in its steady state.  \n" if steady else ".  \n")
        + f"Revenue is known to ±{money(precision['half_width_now'], currency)} (95% CI) with "
        f"{int(precision['replications_now'])} replications; ±{money(precision['target_half_width'], currency)} "
        f"({percent(target)} of it) would take {int(precision['replications_needed'])}."
    )

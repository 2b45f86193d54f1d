"""The alignment impact report as a sales leader reads it: the answer first, in business words.

``headline`` gives the answer in two or three sentences with formatted numbers and the period;
the ``*_table`` functions give the decision detail as tables for people (``present.vocabulary``);
``for_people`` renames the scenarios in a table for the figures. The regression tables,
per-unit coefficients, p-values and the ANOVA stay as they are for the appendix for analysts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from funnelsim.config.lever_values import format_value
from funnelsim.present import plots
from funnelsim.present.vocabulary import (
    format_kpi,
    format_kpi_change,
    in_sentence,
    kpi,
    people_table,
    percent,
    period,
    scenario_name,
    signed_percent,
    signed_ranges,
)
from funnelsim.studies.alignment_impact import AlignmentImpact
from funnelsim.studies.reach import alignment_reach
from funnelsim.studies.targets import load_targets

__all__ = [
    "against_the_surveys", "analyst_notes", "effects_table", "for_people", "gap_figure", "gap_sentence", "gap_table", "growth_table", "headline",
    "leans_on", "level", "lever_table", "ranges_table", "window",
]


def window(impact: AlignmentImpact) -> str:
    """The simulated window the KPIs are counted over, in words ("11 months")."""
    simulation = impact.scenarios[0].simulation
    return period(simulation.horizon_days - simulation.warmup_days)


def _company(name: str) -> str:
    return f"a {in_sentence(scenario_name(name))} company"


def _one(name: str) -> str:
    return f"a {in_sentence(scenario_name(name))} one"


def _gap(key: str, estimate: float, currency: str) -> str:
    """"$4.9M more revenue", "2.3 points less win rate"."""
    term = kpi(key)
    amount = format_kpi_change(key, abs(estimate), currency).lstrip("+")
    more = "more" if estimate >= 0 else "less"
    return f"{amount} {more} {in_sentence(term.name)}" if term.format == "currency" else f"{in_sentence(term.name)} {format_kpi_change(key, estimate, currency)}"


def headline(impact: AlignmentImpact, currency: str = "$") -> str:
    """The answer in two or three sentences (Markdown): the best scenario against the baseline
    over the window, with its relative change and the range across plausible models when
    measured; the worst scenario; the first-year growth of a company that moves up."""
    table = impact.effects.table
    if table.empty:
        return f"Only {scenario_name(impact.effects.sentence)} was simulated: nothing to compare."
    key = impact.kpi
    baseline = str(table["baseline"].iloc[0])
    best = table.iloc[table["estimate"].argmax()]
    worst = table.iloc[table["estimate"].argmin()]
    relative = f" ({signed_percent(best['relative'])})" if np.isfinite(best["relative"]) else ""
    first = (f"Over {window(impact)}, {_company(best['scenario'])} earns {_gap(key, best['estimate'], currency)} "
             f"than {_one(baseline)}{relative}")
    ranges = _range_row(impact, str(best["scenario"]))
    if ranges is not None:
        first += (f"; across the plausible models of the market the gain lies between {signed_percent(ranges['range_low'])} "
                  f"and {signed_percent(ranges['range_high'])}")
    sentences = [first + "."]
    if worst["scenario"] != best["scenario"] and worst["estimate"] < 0:
        rel = f" ({signed_percent(worst['relative'])})" if np.isfinite(worst["relative"]) else ""
        sentences.append(f"{_company(worst['scenario']).capitalize()} earns {_gap(key, worst['estimate'], currency)}{rel}.")
    growth = impact.growth.table
    if not growth.empty and best["scenario"] in set(growth["scenario"]):
        row = growth.set_index("scenario").loc[best["scenario"]]
        sentences.append(f"{_company(str(row['from'])).capitalize()} that changes to working {in_sentence(scenario_name(best['scenario']))} "
                         f"grows its revenue by {signed_percent(row['first_year_growth'])} in the first year.")
    return " ".join(sentences)


# The survey figures that compare aligned with misaligned firms by deals and conversion, the
# way a sales leader would check the answer (params/targets/published.yaml).
_SURVEY_METRICS = ("wins", "lead_to_opportunity_rate")


def against_the_surveys(impact: AlignmentImpact) -> str:
    """What the maturity levels are calibrated to, when they are compared: the surveys of real firms
    (the medium-trust claims on deals won and lead conversion, from the published targets) and the
    reach fitted to them (``funnelsim.studies.reach``)."""
    if not any(s.maturity for s in impact.scenarios):
        return ""
    claims = [t for t in load_targets().targets
              if t.kind == "claim" and t.trust in ("high", "medium") and t.metric in _SURVEY_METRICS and t.figure is not None]
    if not claims:
        return ""
    said = "; ".join(f"{t.source.split('(')[0].strip()}: {in_sentence(t.statement.rstrip('.'))}" for t in claims)
    return (f"The maturity levels are calibrated to surveys of real firms ({said}): each sign of alignment moves its "
            f"levers {alignment_reach():.0%} of the way from the typical company toward what the seeds describe for "
            "the least or most aligned firms, the share at which the fully aligned and fully misaligned companies "
            "differ as the surveys report. The surveys compared firms that call themselves aligned with the rest "
            "(self-reported and observational), so the gaps above are what such firms achieve, not the result of "
            "a controlled experiment.")


def _range_row(impact: AlignmentImpact, scenario: str) -> pd.Series | None:
    if impact.uncertainty is None:
        return None
    summary = impact.uncertainty.summary
    rows = summary[(summary["scenario"] == scenario) & (summary["kpi"] == impact.kpi) & (summary["scale"] != "absolute")]
    return None if rows.empty else rows.iloc[0]


def leans_on(impact: AlignmentImpact) -> str:
    """What the answer leans on most, by the registry's business name, and how to measure it."""
    report = impact.uncertainty
    if report is None or report.sensitivity.empty:
        return ""
    top = report.sensitivity[report.sensitivity["kpi"] == impact.kpi].dropna(subset=["index"])
    if top.empty:
        return ""
    lead = top.sort_values("index", ascending=False, kind="stable").iloc[0]
    entry = next(p for p in report.parameters if p.key == lead["parameter"])
    how = ("a company can measure it from its own CRM export (`funnelsim calibrate`)" if entry.measure
           else "no CRM export informs it: only better published evidence narrows it")
    return (f"The answer leans most on *{in_sentence(entry.name)}* ({lead['group']}): alone it explains "
            f"{lead['index']:.0%} of the spread of {in_sentence(scenario_name(lead['scenario']))}'s effect across the "
            f"plausible models; {how}.")


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the scenarios by their business names (for figures)."""
    out = frame.copy()
    for column in ("scenario", "baseline", "from"):
        if column in out:
            out[column] = out[column].map(scenario_name)
    return out


def effects_table(impact: AlignmentImpact, currency: str = "$") -> Styler:
    """Each scenario against the baseline: the change in the KPI, in money and in percent, with its range."""
    key = impact.kpi
    table = impact.effects.table.assign(
        level=lambda t: t["baseline_mean"] + t["estimate"],
        interval=lambda t: [f"{format_kpi_change(key, lo, currency)} to {format_kpi_change(key, hi, currency)}"
                            for lo, hi in zip(t["ci_low"], t["ci_high"])],
    )
    name = kpi(key).name
    return people_table(table, {
        "scenario": ("Company", "scenario"),
        "level": (f"{name} over {window(impact)}", key),
        "estimate": (f"Against {in_sentence(scenario_name(str(table['baseline'].iloc[0])))}", lambda v: format_kpi_change(key, v, currency)),
        "relative": ("Change", "signed percent"),
        "interval": ("95% range (simulation noise)", "text"),
    }, currency)


def ranges_table(impact: AlignmentImpact) -> Styler | None:
    """Each scenario's relative effect: the range across plausible models and simulation noise alone."""
    if impact.uncertainty is None:
        return None
    summary = impact.uncertainty.summary
    rows = summary[(summary["kpi"] == impact.kpi) & (summary["scale"] != "absolute")]
    failing = impact.uncertainty.plausibility.set_index("option")["share_failing"]
    rows = rows.assign(
        plausible=signed_ranges(rows["range_low"], rows["range_high"]),
        noise=signed_ranges(rows["noise_low"], rows["noise_high"]),
        failing=[failing.get(s, np.nan) for s in rows["scenario"]],
    )
    return people_table(rows, {
        "scenario": ("Company", "scenario"),
        "mean": ("Change on average", "signed percent"),
        "plausible": ("Range across plausible models (95%)", "text"),
        "noise": ("Simulation noise alone (95%)", "text"),
        "p_positive": ("Chance the change is positive", "chance"),
        "failing": ("Models where the company fails a plausibility check", "percent"),
    })


def growth_table(impact: AlignmentImpact) -> Styler:
    """First-year revenue growth of a company that changes from the first scenario to each other."""
    table = impact.growth.table.assign(
        interval=lambda t: signed_ranges(t["ci_low"], t["ci_high"]))
    return people_table(table, {
        "from": ("From", "scenario"),
        "scenario": ("To", "scenario"),
        "first_year_growth": ("Revenue growth in the first year", "signed percent"),
        "interval": ("95% range", "text"),
    })


def lever_table(impact: AlignmentImpact, currency: str = "$") -> Styler | None:
    """Each lever of the sweep by its business name: its range in the sweep and what moving it
    across that range does to the KPI (the metamodel's estimate, 95% CI)."""
    if impact.levers is None:
        return None
    key = impact.kpi
    table = impact.levers.table.assign(
        span=lambda t: [f"{format_value(k, lo, currency)} to {format_value(k, hi, currency)}"
                        for k, lo, hi in zip(t["lever"], t["low"], t["high"])],
        interval=lambda t: [f"{format_kpi_change(key, lo, currency)} to {format_kpi_change(key, hi, currency)}"
                            for lo, hi in zip(t["swing_ci_low"], t["swing_ci_high"])],
    )
    return people_table(table, {
        "lever": ("Lever", "lever"),
        "span": ("Range in the sweep", "text"),
        "swing": (f"Change in {in_sentence(kpi(key).name)} over that range", lambda v: format_kpi_change(key, v, currency)),
        "interval": ("95% range", "text"),
    })


def level(impact: AlignmentImpact, scenario: str, currency: str = "$") -> str:
    """A scenario's mean KPI over the window, formatted."""
    runs = impact.runs
    return format_kpi(impact.kpi, float(runs.loc[runs["scenario"] == scenario, impact.kpi].mean()), currency)



def analyst_notes(impact: AlignmentImpact) -> str:
    """The uncertainty study's own sentences (key paths, per-unit wording) as a Markdown list."""
    if impact.uncertainty is None:
        return "Not measured here (uncertainty_draws is 0): every interval is simulation noise only."
    return "\n".join("- " + sentence for sentence in impact.uncertainty.sentences)


def gap_sentence(impact: AlignmentImpact, currency: str = "$") -> str:
    """Where the gap between a fully misaligned and a fully aligned company comes from, in words."""
    split = impact.gap
    if split is None:
        return "The gap was not split by sign (gap_replications is 0)."
    key = split.kpi
    rows = split.table
    top = rows.iloc[0]
    # names in quotes, not Markdown emphasis: a pair of "$" amounts around it is read as math and left raw
    then = " and ".join(f"“{name}” ({percent(share)})" for name, share in zip(rows["name"].iloc[1:3], rows["share"].iloc[1:3]))
    return (f"Over {window(impact)}, a fully aligned company earns {_gap(key, split.gap, currency)} than a fully "
            f"misaligned one like it. “{top['name']}” buys the largest part of it, "
            f"{format_kpi_change(key, top['part'], currency).lstrip('+')} ({percent(top['share'])}); then {then}. "
            "Each part is what the sign adds, averaged over the orders in which a company could adopt the eleven "
            f"(its Shapley value where signs interact at most in pairs); the interplay of three or more signs is "
            f"{format_kpi_change(key, split.interplay, currency)}, so the bars add up to the whole gap.")


def gap_figure(impact: AlignmentImpact) -> Figure | None:
    """The waterfall from the fully misaligned company to the fully aligned one, sign by sign."""
    if impact.gap is None:
        return None
    term = kpi(impact.gap.kpi)
    return plots.gap_waterfall(impact.gap.waterfall(), term.name, "currency" if term.format == "currency" else term.format)


def gap_table(impact: AlignmentImpact, currency: str = "$") -> Styler | None:
    """Each sign's part in the gap: added alone, removed alone, its part and its share."""
    if impact.gap is None:
        return None
    key = impact.gap.kpi
    change = lambda v: format_kpi_change(key, v, currency)  # noqa: E731
    return people_table(impact.gap.table, {
        "name": ("Sign of alignment", "text"),
        "added_alone": ("Added alone to fully misaligned", change),
        "removed_alone": ("Removed alone from fully aligned", change),
        "part": ("Its part of the gap", change),
        "share": ("Share of the gap", "percent"),
    }, currency)


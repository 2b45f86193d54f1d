"""One vocabulary for people: every KPI and shipped scenario with a business name, a unit and a format.

The lever registry (``funnelsim.config.levers``) names the levers and formats their values;
this module does the same for the KPIs of the replications table (``model.records.
REPLICATION_COLUMNS``) and for the scenarios shipped in ``params/``, and formats tables for
people: business names as headers, numbers formatted in their unit (money with a configurable
currency symbol, shares as percentages, hours and days, whole counts), words instead of
True/False, no index column. Key paths and column names stay in the data files and in a
report's appendix for analysts.

Money is shown to three significant digits with k/M/B ("$4.91M"): a reader compares sizes,
and the simulation is not more precise than that.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from funnelsim.config.levers import REGISTRY, Format
from funnelsim.config.lever_values import format_as, plain_number
from funnelsim.model.maths import DAYS_PER_MONTH
from funnelsim.model.records import REPLICATION_COLUMNS

__all__ = [
    "KPIS",
    "SCENARIOS",
    "Term",
    "chance",
    "format_kpi",
    "format_kpi_change",
    "analyst_number",
    "in_sentence",
    "kpi",
    "kpi_name",
    "kpi_summary_text",
    "kpi_table",
    "lever_name",
    "money",
    "people_frame",
    "people_table",
    "percent",
    "period",
    "scenario_name",
    "scenario_names",
    "signed_money",
    "signed_percent",
    "signed_ranges",
    "words_for",
    "as_markdown",
    "source_name",
    "sourced",
]

MINUS = "−"  # the typographic minus people read in a table


@dataclass(frozen=True)
class Term:
    """A KPI as people read it: its name, its unit in words and how a value is shown."""

    key: str
    name: str
    unit: str
    format: Format
    more_is_better: bool = True


# The KPIs of the replications table, in the order a report lists them.
KPIS: dict[str, Term] = {term.key: term for term in (
    Term("revenue", "Revenue", "currency", "currency"),
    Term("bookings", "New bookings", "currency", "currency"),
    Term("leads", "Leads", "leads", "count"),
    Term("mqls", "Marketing-qualified leads (MQLs)", "leads", "count"),
    Term("sals", "Sales-accepted leads (SALs)", "leads", "count"),
    Term("sqls", "Sales-qualified leads (SQLs)", "leads", "count"),
    Term("opportunities", "Deals opened", "deals", "count"),
    Term("wins", "Deals won", "deals", "count"),
    Term("win_rate", "Win rate", "share of closed deals", "percent"),
    Term("lead_to_customer_rate", "Leads that become customers", "share of leads", "percent"),
    Term("median_speed_to_lead_hours", "Speed to lead (median)", "hours", "hours", more_is_better=False),
    Term("median_handoff_hours", "MQL handoff time (median)", "hours", "hours", more_is_better=False),
    Term("share_never_contacted", "Worked leads never reached", "share of worked leads", "percent", more_is_better=False),
    Term("share_sqls_lapsed", "SQLs lost waiting for an account executive", "share of SQLs", "percent",
         more_is_better=False),
    Term("share_never_followed_up", "Accepted leads never worked", "share of accepted leads", "percent",
         more_is_better=False),
    Term("sla_breach_rate", "Leads touched after the SLA deadline", "share of accepted leads", "percent",
         more_is_better=False),
    Term("sales_cycle_days", "Sales cycle (SQL to close)", "days", "days", more_is_better=False),
    Term("marketing_spend", "Marketing spend", "currency", "currency", more_is_better=False),
    Term("cpl", "Cost per lead", "currency per lead", "currency", more_is_better=False),
    Term("cac", "Customer acquisition cost", "currency per customer", "currency", more_is_better=False),
    Term("monthly_churn", "Customers lost per month (churn)", "share of customers a month", "percent",
         more_is_better=False),
    Term("clv", "Customer lifetime value", "currency", "currency"),
    Term("sdr_utilisation", "SDR utilisation", "share of SDR hours", "percent"),
    Term("ae_utilisation", "Account executive utilisation", "share of deal slots", "percent"),
)}

# The scenarios shipped in params/ (their ``name``), in maturity order first.
SCENARIOS: dict[str, str] = {
    "fully-misaligned": "Fully misaligned",
    "somewhat-misaligned": "Somewhat misaligned",
    "somewhat-aligned": "Somewhat aligned",
    "fully-aligned": "Fully aligned",
    "baseline": "Today's company (baseline)",
    "closed-loop": "Closed-loop reporting",
    "daily-export": "Daily MQL export",
    "realtime-routing": "Real-time lead routing",
}

_LEVERS = {entry.key: entry for entry in REGISTRY}


def kpi(key: str) -> Term:
    """The vocabulary's entry for a KPI; a column it does not know gets its name in words."""
    if key in KPIS:
        return KPIS[key]
    unit = REPLICATION_COLUMNS.get(key, ("", "", ""))[1]
    fmt: Format = "currency" if unit.startswith("currency") else "percent" if unit.startswith("share") else "number"
    return Term(key, key.replace("_", " ").capitalize(), unit, fmt)


def kpi_name(key: str) -> str:
    return kpi(key).name


def scenario_name(name: str) -> str:
    """A scenario in business words: the shipped ones by their vocabulary name, any other
    by its name with hyphens and underscores read as spaces ("my-company" → "My company")."""
    if name in SCENARIOS:
        return SCENARIOS[name]
    words = str(name).replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else str(name)


def analyst_number(value: float) -> str:
    """A number in an analyst's table (``pd.set_option("display.float_format", analyst_number)``):
    whole numbers from a thousand up with separators ("8,963", "45,115"), four significant digits
    below ("0.4709", "656.2"), an exponent only for the very small ("1.918e-141", a p-value)."""
    return plain_number(value, digits=4)


def in_sentence(name: str) -> str:
    """A name as it reads inside a sentence: its first letter in lower case ("Revenue" ->
    "revenue"), unless it starts with an abbreviation ("SDR utilisation", "SQLs", "HBR")."""
    if len(name) > 1 and name[:2].isupper():
        return name
    return name[:1].lower() + name[1:]


def scenario_names(names: Iterable[str]) -> dict[str, str]:
    return {name: scenario_name(name) for name in names}


def lever_name(key: str) -> str:
    """A lever by the registry's business name (the key itself when the registry lacks it)."""
    return _LEVERS[key].name if key in _LEVERS else key


def _finite(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


def money(value: float, currency: str = "$") -> str:
    """An amount to three significant digits: "$845", "$12.3k", "$4.91M" ("–" when unknown)."""
    if not _finite(value):
        return "–"
    number = float(value)
    size = abs(number)
    if size < 0.5:  # less than one unit of money is nothing to a company
        return f"{currency}0"
    sign = MINUS if number < 0 else ""
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if float(f"{size / threshold:.3g}") >= 1:
            return f"{sign}{currency}{float(f'{size / threshold:.3g}'):g}{suffix}"
    return f"{sign}{currency}{float(f'{size:.3g}'):g}"


def signed_money(value: float, currency: str = "$") -> str:
    text = money(value, currency)
    return text if not _finite(value) or text.startswith(MINUS) else "+" + text


def percent(share: float) -> str:
    """A share as a percentage to at most three significant digits: "47%", "4.7%", "0.35%";
    below a hundredth of a percent, "0%" (never an exponent)."""
    if not _finite(share):
        return "–"
    if abs(float(share)) < 5e-5:
        return "0%"
    if abs(float(share)) >= 1:  # 100% and more: whole percents, never an exponent
        return f"{float(share) * 100:,.0f}%".replace("-", MINUS)
    return format_as("percent", share).replace("-", MINUS)


def chance(probability: float) -> str:
    """A probability as people read it: "<1%", "37%", ">99%"."""
    if not _finite(probability):
        return "–"
    if probability < 0.005:
        return "<1%"
    if probability > 0.995:
        return ">99%" if probability < 1 else "100%"
    return f"{float(probability):.0%}"


def signed_percent(share: float) -> str:
    """A relative change: "+47%", "−12%"."""
    if not _finite(share):
        return "–"
    text = percent(share)
    return text if text.startswith(MINUS) else "+" + text


def signed_ranges(lows: Iterable[float], highs: Iterable[float]) -> list[str]:
    """Ranges of relative changes as people read them: "+12% to +31%", one per pair."""
    return [f"{signed_percent(low)} to {signed_percent(high)}" for low, high in zip(lows, highs)]


def format_kpi(key: str, value: Any, currency: str = "$") -> str:
    """A KPI's value in its unit: "$4.91M", "47%", "35 min", "12,345"."""
    if not _finite(value):
        return "–"
    term = kpi(key)
    if term.format == "currency":
        return money(value, currency)
    if term.format == "percent":
        return percent(value)
    return format_as(term.format, value, currency).replace("-", MINUS)


def format_kpi_change(key: str, value: Any, currency: str = "$") -> str:
    """A difference in a KPI: money signed, a share in percentage points, others signed."""
    if not _finite(value):
        return "–"
    term = kpi(key)
    if term.format == "currency":
        return signed_money(value, currency)
    sign = "+" if value >= 0 else MINUS
    if term.format == "percent":
        return f"{sign}{abs(float(value)) * 100:.3g} points"
    return sign + format_as(term.format, abs(float(value)), currency)


def period(days: float) -> str:
    """A simulated window in words: "11 months", "6 weeks", "2 years"."""
    months = days / DAYS_PER_MONTH
    if months >= 23.5 and abs(months / 12 - round(months / 12)) < 0.05:
        return f"{round(months / 12)} years"
    if months >= 1.5:
        return f"{round(months)} months"
    weeks = days / 7
    return f"{round(weeks)} weeks" if weeks >= 1.5 else f"{round(days)} days"


def source_name(text: str) -> str:
    """A published source as a reader names it: "HBR 2011", "MathMarketing survey", "Aberdeen Group 2010"."""
    return text.split("(")[0].split(":")[0].split(",")[0].strip()


def sourced(sources: Iterable[str], trusts: Iterable[str]) -> list[str]:
    """Each source by its short name with its trust level: "HBR 2011 (high)"."""
    return [f"{source_name(s)} ({t})" for s, t in zip(sources, trusts)]


def as_markdown(text: str) -> Markdown:
    """Words for a report cell, with every "$" escaped: the notebook renderer reads the text
    between two dollar amounts as mathematics and leaves the Markdown inside it raw."""
    return Markdown(text.replace("$", r"\$"))


def words_for(value: Any) -> str:
    """True/False as people say it."""
    return "yes" if value else "no"


Formatter = Callable[[Any], str]


def people_frame(
    frame: pd.DataFrame,
    columns: Mapping[str, tuple[str, Formatter | str]],
    currency: str = "$",
) -> pd.DataFrame:
    """A table of text for people: only ``columns`` (column → (header, how to show a value)),
    in that order, each value already formatted. How to show a value is a function, a KPI key
    (its format), ``"scenario"`` (business name), ``"lever"`` (registry name), ``"percent"``,
    ``"signed percent"``, ``"money"``, ``"signed money"``, ``"count"`` or ``"text"``; a
    True/False value is always shown as yes/no."""
    named: dict[str, Formatter] = {
        "scenario": scenario_name,
        "lever": lever_name,
        "percent": percent,
        "chance": chance,
        "signed percent": signed_percent,
        "money": lambda v: money(v, currency),
        "signed money": lambda v: signed_money(v, currency),
        "count": lambda v: f"{round(float(v)):,}" if _finite(v) else "–",
        "text": str,
    }
    out = {}
    for column, (header, how) in columns.items():
        if callable(how):
            show = how
        elif how in named:
            show = named[how]
        else:
            show = partial(format_kpi, how, currency=currency)
        out[header] = [words_for(v) if isinstance(v, bool) or type(v).__name__ == "bool_" else show(v)
                       for v in frame[column]]
    return pd.DataFrame(out)


def people_table(
    frame: pd.DataFrame,
    columns: Mapping[str, tuple[str, Formatter | str]] | None = None,
    currency: str = "$",
    caption: str = "",
) -> Styler:
    """``people_frame`` as a pandas Styler: no index column, text left and numbers right,
    ready to display in a report. Without ``columns`` every column is shown, a KPI column by
    its business name and format, ``scenario`` by business names."""
    if columns is None:
        columns = {c: (kpi_name(c) if c in KPIS else ("Scenario" if c == "scenario" else str(c).replace("_", " ").capitalize()),
                       c if c in KPIS else ("scenario" if c == "scenario" else "text")) for c in frame.columns}
    shown = people_frame(frame, columns, currency)
    numeric: list[Hashable] = [c for c in shown.columns if shown[c].map(_looks_numeric).all()]
    words: list[Hashable] = [c for c in shown.columns if c not in numeric]
    # Classes for the exported page (its sanitiser keeps classes, not style sheets: see
    # reports.PEOPLE_TABLE_CSS); the properties for a live notebook.
    text_columns = " ".join(f"words-{shown.columns.get_loc(c)}" for c in words)
    styler = shown.style.hide(axis="index").set_table_attributes(f'class="dataframe people {text_columns}"')
    styler = styler.set_td_classes(pd.DataFrame([["words" if c in words else "number" for c in shown.columns]] * len(shown),
                                                index=shown.index, columns=shown.columns))
    styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    styler = styler.set_properties(subset=words, **{"text-align": "left"})
    if caption:
        styler = styler.set_caption(caption)
    return styler


def _looks_numeric(text: str) -> bool:
    stripped = text.lstrip("+" + MINUS + "-×$€£")
    return bool(stripped) and (stripped[0].isdigit() or stripped == "–")


def kpi_table(summary: pd.DataFrame, currency: str = "$") -> Styler:
    """A KPI summary (``kpi``, ``mean``, ``ci_low``, ``ci_high`` per row) for people: each KPI by
    its business name, its mean and its 95% range in its unit, in the vocabulary's order."""
    order = {key: number for number, key in enumerate(KPIS)}
    rows = summary[summary["kpi"].isin(list(KPIS))].copy()
    rows = rows.assign(order=rows["kpi"].map(order)).sort_values("order", kind="stable")
    rows["name"] = rows["kpi"].map(kpi_name)
    rows["value"] = [format_kpi(k, v, currency) for k, v in zip(rows["kpi"], rows["mean"])]
    rows["range"] = [f"{format_kpi(k, lo, currency)} to {format_kpi(k, hi, currency)}"
                     if _finite(lo) and _finite(hi) else "–" for k, lo, hi in zip(rows["kpi"], rows["ci_low"], rows["ci_high"])]
    return people_table(rows, {"name": ("Measure", "text"), "value": ("Average", "text"), "range": ("95% range", "text")})


def kpi_summary_text(summary: pd.DataFrame, heading: str, currency: str = "$") -> str:
    """The KPI table of a run as the command line prints it: each KPI by its business name, its
    mean over the replications and the 95% range, in its unit (``summary``: ``ScenarioRun.summary``)."""
    width = max([len("KPI"), *(len(kpi_name(k)) for k in summary["kpi"])]) + 2
    lines = [heading, f"{'KPI':<{width}}{'mean':>14}{'95% range':>30}"]
    for key, mean, low, high in zip(summary["kpi"].astype(str), summary["mean"], summary["ci_low"], summary["ci_high"]):
        interval = f"{format_kpi(key, low, currency)} to {format_kpi(key, high, currency)}"
        lines.append(f"{kpi_name(key):<{width}}{format_kpi(key, mean, currency):>14}{interval:>30}")
    return "\n".join(lines)


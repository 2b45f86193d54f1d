"""The "what it takes" report in words a sales leader uses: the decision first, then the evidence.

A plan's options are combinations of levers with an annual cost and a predicted change in the
target KPI (``funnelsim.studies.planning``). For a decision, three things matter: which option
is the cheapest that reaches the target, confirmed by direct simulation (the figure to quote);
which options are *efficient*, buying more than any cheaper option (the cost-effectiveness
frontier); and what each changes, named in business words ("Handoff latency (median): 44.3 min →
3 min"), with the money in the report's currency. The analyst's tables (lever key paths, the
response surface) stay in the appendix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from funnelsim.config.lever_values import describe_change
from funnelsim.present import plots
from funnelsim.present.vocabulary import in_sentence, kpi, money, people_table, signed_percent, signed_ranges
from funnelsim.studies.planning import PlanResult

__all__ = [
    "changes_in_words", "headline", "frontier_figure", "frontier_table", "confirmed_table", "ranges_table",
    "worth_measuring_table",
]


def changes_in_words(result: PlanResult, row: Any, currency: str = "$") -> str:
    """What an option changes from today, lever by lever, in business words."""
    levers = result.plan.spec.levers
    changed = [describe_change(key, lever.values[0], row[key], currency) for key, lever in levers.items()
               if row[key] != lever.values[0]]
    return "; ".join(changed) or "nothing: today's company"


def _target_words(result: PlanResult) -> str:
    target = result.plan.spec.target
    return f"{signed_percent(target.change)} {in_sentence(kpi(target.kpi).name)}"


def headline(result: PlanResult, currency: str = "$") -> str:
    """The decision in two or three sentences (Markdown)."""
    target = _target_words(result)
    reaching = result.options[result.options["reaches_target"]]
    if reaching.empty:
        best = result.options.iloc[int((result.options["predicted_change"] * result.plan.spec.target.direction).argmax())]
        return (f"No combination of the levers on offer is predicted to reach {target}. The most any gives is "
                f"{signed_percent(best['predicted_change'])}, for {money(best['annual_cost'], currency)} a year: "
                f"{changes_in_words(result, best, currency)}.")
    ok = result.confirmed[result.confirmed["confirmed"]] if len(result.confirmed) else result.confirmed
    count = f"{len(reaching):,} of the {len(result.options):,} combinations on offer are predicted to reach {target}."
    if ok.empty:
        return (f"**{count}** None of the cheapest was confirmed by direct simulation: treat the ranking below as a "
                "shortlist to test, not an answer.")
    first = ok.iloc[0]
    return (f"**The cheapest way to {target}: {changes_in_words(result, first, currency)}, for "
            f"{money(first['annual_cost'], currency)} a year.** Simulated directly, it gives "
            f"{signed_percent(first['simulated_change'])} (95% range {signed_percent(first['simulated_ci_low'])} to "
            f"{signed_percent(first['simulated_ci_high'])}, simulation noise); quote this figure, not the prediction. "
            f"{_worth(result, first, currency)}{count}")


def _worth(result: PlanResult, row: Any, currency: str) -> str:
    """What a money KPI's simulated change is worth a year against the option's annual cost."""
    key = result.plan.spec.target.kpi
    if kpi(key).format != "currency" or "simulated_gain_a_year" not in row or not np.isfinite(row["simulated_gain_a_year"]):
        return ""
    name, gain, cost = in_sentence(kpi(key).name), float(row["simulated_gain_a_year"]), float(row["annual_cost"])
    text = f"That is about {money(abs(gain), currency)} {'more' if gain >= 0 else 'less'} {name} a year"
    if cost > 0 and gain > 0:
        ratio = gain / cost
        times = f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"
        text += f", {times} times its annual cost (of {name}, not margin: weigh it against the margin the company keeps)"
    return text + ". "


def frontier_figure(result: PlanResult, currency: str = "$") -> Figure:
    """Every option's cost against its predicted change, the efficient frontier drawn, the
    confirmed options marked, the target dashed."""
    target = result.plan.spec.target
    return plots.frontier_chart(result.options, result.frontier(), result.confirmed, target.change,
                                kpi(target.kpi).name, currency)


def frontier_table(result: PlanResult, currency: str = "$", show: int = 10) -> Styler:
    """The efficient options around the target, in words: the best that falls short of it, then
    the first ``show`` that reach it; what each changes, its cost and its predicted change."""
    rows = result.frontier()
    short = np.flatnonzero(~rows["reaches_target"].to_numpy())
    rows = rows.iloc[(int(short.max()) if len(short) else 0):].head(show + 1)
    rows = rows.assign(
        words=[changes_in_words(result, row, currency) for row in rows.to_dict("records")],
        interval=signed_ranges(rows["ci_low"], rows["ci_high"]),
    )
    return people_table(rows, {
        "words": ("What changes", "text"),
        "annual_cost": ("Cost a year", "money"),
        "predicted_change": ("Predicted change", "signed percent"),
        "interval": ("95% range (prediction)", "text"),
        "reaches_target": ("Reaches the target", "text"),
    }, currency)


def confirmed_table(result: PlanResult, currency: str = "$") -> Styler | None:
    """The shortlisted options simulated directly: the figures to quote."""
    if result.confirmed.empty:
        return None
    rows = result.confirmed.assign(
        words=[changes_in_words(result, row, currency) for row in result.confirmed.to_dict("records")],
        interval=signed_ranges(result.confirmed["simulated_ci_low"], result.confirmed["simulated_ci_high"]),
    )
    return people_table(rows, {
        "option": ("Option", "text"),
        "words": ("What changes", "text"),
        "annual_cost": ("Cost a year", "money"),
        "predicted_change": ("Predicted", "signed percent"),
        "simulated_change": ("Simulated (quote this)", "signed percent"),
        "interval": ("95% range (simulation noise)", "text"),
        **({"simulated_gain_a_year": (f"{kpi(result.plan.spec.target.kpi).name} a year", "signed money")}
           if kpi(result.plan.spec.target.kpi).format == "currency" else {}),
        "confirmed": ("Reaches the target", "text"),
    }, currency)


def ranges_table(result: PlanResult, currency: str = "$") -> Styler | None:
    """Each confirmed option over plausible models (``PlanResult.ranges``), its levers in words."""
    ranges = result.ranges()
    if ranges is None:
        return None
    words = {row["option"]: changes_in_words(result, row, currency) for row in result.confirmed.to_dict("records")}
    costs = result.confirmed.set_index("option")["annual_cost"]
    table = ranges.assign(levers_changed=ranges["option"].map(words), annual_cost=ranges["option"].map(costs))
    columns: dict[str, tuple[str, str]] = {"option": ("Option", "text"), "levers_changed": ("What changes", "text"),
                                           "annual_cost": ("Cost a year", "money")}
    for name in ranges.columns[3:]:
        columns[name] = (name[:1].upper() + name[1:].replace(f"{result.plan.spec.target.kpi}: ", ""), "text")
    return people_table(table, columns, currency)


def worth_measuring_table(result: PlanResult) -> Styler | None:
    """What is worth measuring before the decision (``PlanResult.worth_measuring``), without an index."""
    table = result.worth_measuring()
    if table is None:
        return None
    return people_table(table, {column: (column[:1].upper() + column[1:], "text") for column in table.columns})


"""The sensitivity report in words a sales leader uses: which lever moves the KPI most, and how sure.

A sensitivity study (``funnelsim.studies.sensitivity``) fits a metamodel over a sweep of lever
combinations. For people, each lever is its business name and the range the sweep moved it
over ("Handoff latency (median): 4.8 min to 8 h"), its effect is the change in the KPI over
that range in the KPI's unit, with its 95% range; and the report says plainly what the
design cannot tell apart, so that a screening design is read as a shortlist, not a price list.
Per-unit coefficients, the ANOVA table and p-values stay in the appendix for analysts.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from funnelsim.config.levers import REGISTRY
from funnelsim.config.lever_values import format_value
from funnelsim.present import plots
from funnelsim.present.vocabulary import format_kpi_change, in_sentence, kpi, lever_name, people_table, period
from funnelsim.studies.sensitivity import Sensitivity

__all__ = ["headline", "design_sentence", "effects_figure", "effects_table", "confounding_table", "fit_note"]

_SWITCHES = {entry.key for entry in REGISTRY if entry.format == "switch"}


def _value(key: str, value: float, currency: str) -> str:
    return format_value(key, bool(value) if key in _SWITCHES else value, currency)


def _span(key: str, low: float, high: float, currency: str) -> str:
    return f"{_value(key, low, currency)} to {_value(key, high, currency)}"


def _interplay(model_term: str) -> str:
    """"a × b" in the levers' business names."""
    return " × ".join(lever_name(part) for part in model_term.split(" × "))


def _clear_of_zero(row: Any) -> bool:
    return bool(row.swing_ci_low > 0 or row.swing_ci_high < 0)


def headline(study: Sensitivity, currency: str = "$") -> str:
    """The answer in two or three sentences (Markdown)."""
    table, key = study.effects.table, study.kpi
    name = in_sentence(kpi(key).name)
    change = lambda v: format_kpi_change(key, v, currency)  # noqa: E731
    top = table.iloc[0]
    text = (f"**Over {period(study.counted_days)}, {in_sentence(lever_name(top.lever))} moves {name} the most of the "
            f"{len(table)} levers in this sweep: taking it from {_span(top.lever, top.low, top.high, currency)} "
            f"changes {name} by {change(top.swing)} (95% range {change(top.swing_ci_low)} to "
            f"{change(top.swing_ci_high)}).**")
    if len(table) > 1:
        rest = [f"{in_sentence(lever_name(r.lever))} ({change(r.swing)})" for r in table.iloc[1:3].itertuples()]
        text += f" Next come {' and '.join(rest)}."
    unclear = [r for r in table.itertuples() if not _clear_of_zero(r)]
    if unclear:
        text += (f" For {len(unclear)} of the {len(table)} levers the 95% range includes no change at all: "
                 "over these ranges the sweep cannot tell their effect from simulation noise.")
    return text + " " + design_sentence(study)


def design_sentence(study: Sensitivity) -> str:
    """What the sweep's design can and cannot tell apart, and how well the metamodel fits, in words."""
    model = study.model
    design = model.design
    confounding = model.confounding()
    points = design.points if design else len(study.results.points)
    levers = len(study.effects.table)
    own = confounding[~confounding["term"].str.contains(" × ")]
    if len(own):
        text = (f"This is a screening design: {points} combinations of {levers} levers, too few to tell a lever's own "
                "effect from the interplay of two others, so each effect above also carries the interplays listed "
                "under “What this design cannot tell apart”. Use it to find the few levers worth a closer study, "
                "not to price them.")
    elif len(confounding):
        text = (f"The design ({points} combinations of {levers} levers) tells every lever's own effect apart from "
                "the interplay of any two, but some interplays only from each other in groups (listed below).")
    else:
        text = f"The design ({points} combinations of {levers} levers) tells every effect fitted here apart."
    if model.lack_of_fit is None:
        text += " The fit uses every combination, so how well it describes the KPI between them is not tested."
    elif model.lack_of_fit < 0.05:
        text += (" The metamodel misses part of the pattern between the combinations (a lack-of-fit test rejects "
                 "it at the 5% level): read each effect as an average over the sweep.")
    else:
        text += " A lack-of-fit test finds no pattern between the combinations that the metamodel misses."
    return text


def _named(study: Sensitivity) -> pd.DataFrame:
    return study.effects.table.assign(label=lambda t: [
        f"{lever_name(k)}  ({_span(k, lo, hi, '$')})" for k, lo, hi in zip(t["lever"], t["low"], t["high"])])


def effects_figure(study: Sensitivity) -> Figure:
    """The levers ranked by the change they make over the sweep's range, with 95% ranges."""
    term = kpi(study.kpi)
    return plots.tornado_chart(_named(study), in_sentence(term.name), "currency" if term.format == "currency" else term.unit)


def effects_table(study: Sensitivity, currency: str = "$") -> Styler:
    """Each lever by its business name: its range in the sweep and what moving it across that
    range does to the KPI (the metamodel's estimate and 95% range)."""
    key = study.kpi
    change = lambda v: format_kpi_change(key, v, currency)  # noqa: E731
    table = study.effects.table.assign(
        span=lambda t: [_span(k, lo, hi, currency) for k, lo, hi in zip(t["lever"], t["low"], t["high"])],
        interval=lambda t: [f"{change(lo)} to {change(hi)}" for lo, hi in zip(t["swing_ci_low"], t["swing_ci_high"])],
    )
    return people_table(table, {
        "lever": ("Lever", "lever"),
        "span": ("Range in the sweep", "text"),
        "swing": (f"Change in {in_sentence(kpi(key).name)} over that range", change),
        "interval": ("95% range (simulation noise)", "text"),
    }, currency)


def confounding_table(study: Sensitivity) -> Styler | None:
    """Each fitted effect and the interplays the design cannot tell it apart from; None when
    the design tells everything fitted apart."""
    confounding = study.model.confounding()
    if confounding.empty:
        return None
    shown = confounding.assign(
        effect=[_interplay(t) for t in confounding["term"]],
        hidden_names=[", ".join(_interplay(h) for h in hidden) for hidden in confounding["hidden"]],
    )
    return people_table(shown, {
        "effect": ("The effect of", "text"),
        "hidden_names": ("Also carries the interplay of", "text"),
    })


def fit_note(study: Sensitivity) -> str:
    """For analysts: the design, the terms fitted (key paths) and the lack-of-fit test."""
    model = study.model
    design = model.design
    terms = ", ".join(model.readable(":".join(term)) for term in design.terms) if design else "–"
    lack = model.lack_of_fit
    test = "Lack of fit: not testable (saturated)." if lack is None else f"Lack-of-fit F-test p = {lack:.3g}."
    return f"Design: {study.design}, {design.points if design else len(study.results.points)} distinct points; terms fitted: {terms}. {test}"

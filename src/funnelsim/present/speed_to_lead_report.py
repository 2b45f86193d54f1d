"""The speed-to-lead report in words a sales leader uses: the published findings, measured as their studies did.

Two studies shape what sales believes about speed, and each measured something different: HBR
2011 compared *firms* by how soon they tried to contact a web lead; MIT / InsideSales 2007
compared *first dials* by how soon after the inquiry they came. The report opens with each
figure beside the model's, measured the same way, then what speed is worth *within* this
company, lead by lead. Figures are ratios ("2.1×") and shares; the logit's terms, p-values and
the targets' measurement notes stay in the appendix for analysts.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from funnelsim.present.vocabulary import people_table, percent, scenario_name, sourced
from funnelsim.stats.analysis import AGE_GROUPS
from funnelsim.studies.speed_to_lead import SpeedToLead

__all__ = ["headline", "published_table", "odds_table", "rates_table"]

_AGE_WORDS = {"under 1 h": "within the first hour", "1-2 h": "in the second hour", "2-24 h": "between 2 and 24 hours",
              "24 h or more": "after a day or more"}


def _figure(metric: str, value: float) -> str:
    """A study's figure as it reads: a share as a percentage, a ratio as "2.1×"."""
    if value is None or not math.isfinite(value):
        return "–"
    return percent(value) if metric.startswith("share") else f"{value:.2g}×" if value < 10 else f"{value:,.0f}×"


def _reading(row: Any) -> str:
    if not (isinstance(row.model, float) and math.isfinite(row.model)):
        return "not measurable on this company"
    return f"{_figure(row.metric, row.model)} ({_figure(row.metric, row.ci_low)} to {_figure(row.metric, row.ci_high)})"


def headline(study: SpeedToLead) -> str:
    """The answer in two or three sentences (Markdown)."""
    published = study.published.set_index("target") if len(study.published) else pd.DataFrame()
    company = scenario_name(study.scenario.name)
    sentences = []
    if "hbr_first_hour_vs_day" in published.index:
        day = published.loc["hbr_first_hour_vs_day"]
        hour = published.loc["hbr_first_hour_vs_second"] if "hbr_first_hour_vs_second" in published.index else None
        text = (f"**Measured as HBR 2011 measured it, across firms: in the model, firms that try to reach a web lead "
                f"within the first hour qualify {_figure(day.metric, day.model)} as many leads as firms that wait a "
                f"day or more")
        if hour is not None:
            text += f", and {_figure(hour.metric, hour.model)} as many as firms that try in the second hour"
        text += (f" (HBR: more than 60× and nearly 7×; the model's verdicts against the ranges they imply: "
                 f"{day.verdict}{'' if hour is None else ', ' + hour.verdict}).**")
        sentences.append(text)
    if "mit_qualify_5_vs_30" in published.index:
        mit = published.loc["mit_qualify_5_vs_30"]
        if pd.notna(mit.model):
            sentences.append(f"On this company's first dials ({company}), as MIT / InsideSales measured it, a call within "
                             f"5 minutes of the inquiry has {_figure(mit.metric, mit.model)} the odds of qualifying the lead "
                             f"of a call after 30 minutes (published: 21×; {mit.verdict}).")
        else:
            sentences.append(f"This company ({company}) makes too few first dials within 5 and around 30 minutes of the "
                             "inquiry for MIT / InsideSales' comparison to be measured on it.")
    sentences.append(_within(study))
    return " ".join(sentences)


def _within(study: SpeedToLead) -> str:
    """What speed is worth inside the company, lead by lead, in one sentence."""
    table = study.odds.table
    groups = table[table["term"].str.startswith("age_group = ")]
    if groups.empty:
        return "Within the company, every touched lead falls in one age group: there is no lead-by-lead comparison to make."
    fitted = set(groups["term"])
    reference = _reference(study)
    group = [g for g in AGE_GROUPS if f"age_group = {g}" in fitted][-1]  # the oldest leads
    last = groups.set_index("term").loc[f"age_group = {group}"]
    outcome = "qualify" if study.odds_outcome == "qualified" else "be won"
    return (f"Within the company, lead by lead and holding quality and channel equal, a lead first touched "
            f"{_AGE_WORDS[group]} has {last.odds_ratio:.2g}× the odds to {outcome} of one touched "
            f"{_AGE_WORDS[reference]} (95% range {last.ci_low:.2g}× to {last.ci_high:.2g}×). This compares the "
            "leads of one company, not firms: it is not HBR's figure and should not be read against it.")


def _reference(study: SpeedToLead) -> str:
    """The age group the logit's odds are against: present among the touched leads, yet no term."""
    fitted = set(study.odds.table["term"])
    present = set(study.rates.loc[study.rates["leads"] > 0, "age_group"])
    return next(g for g in AGE_GROUPS if f"age_group = {g}" not in fitted and g in present)


def published_table(study: SpeedToLead) -> Styler:
    """Each lead-response figure, its source and trust, the range it implies and the model's value measured the same way."""
    rows = study.published.assign(
        who=sourced(study.published["source"], study.published["trust"]),
        reading=[_reading(r) for r in study.published.itertuples()],
        implied=[text.replace("inf", "no upper limit") for text in study.published["published"]],
    )
    return people_table(rows, {
        "statement": ("Published figure", "text"),
        "who": ("Source (trust)", "text"),
        "implied": ("Range it implies", "text"),
        "reading": ("The model, measured as the study did (95% range)", "text"),
        "verdict": ("Verdict", "text"),
    })


def odds_table(study: SpeedToLead) -> Styler:
    """The lead-by-lead odds ratios in words: each age group against the reference, quality and channel."""
    table = study.odds.table
    names = {f"age_group = {g}": f"First touched {_AGE_WORDS[g]}" for g in AGE_GROUPS}
    reference = _reference(study)
    order = {f"age_group = {g}": i for i, g in enumerate(AGE_GROUPS)}
    names[f"age_group = {reference}"] = f"First touched {_AGE_WORDS[reference]} (the reference)"
    table = pd.concat([pd.DataFrame([{"term": f"age_group = {reference}", "odds_ratio": 1.0, "ci_low": 1.0, "ci_high": 1.0}]),
                       table], ignore_index=True)
    table = table.assign(order=[order.get(t, len(order)) for t in table["term"]]).sort_values("order", kind="stable")
    rows = table.assign(
        what=[names.get(t, str(t).replace("channel = ", "Channel: ").replace("_", " ").replace("quality (per 10 points)",
                                                                                                 "Lead quality, 10 points higher"))
              for t in table["term"]],
        ratio=[f"{v:.2g}×" for v in table["odds_ratio"]],
        interval=["–" if t == f"age_group = {reference}" else f"{lo:.2g}× to {hi:.2g}×"
                  for t, lo, hi in zip(table["term"], table["ci_low"], table["ci_high"])],
    )
    return people_table(rows, {"what": ("Lead", "text"), "ratio": ("Odds against the reference", "text"),
                               "interval": ("95% range", "text")})


def rates_table(study: SpeedToLead) -> Styler:
    """The share of touched leads with the outcome in each age group, with its 95% range."""
    rates = study.rates.assign(
        when=[f"First touched {_AGE_WORDS[g]}" for g in study.rates["age_group"]],
        interval=[f"{percent(lo)} to {percent(hi)}" if pd.notna(lo) else "–" for lo, hi in zip(study.rates["ci_low"], study.rates["ci_high"])],
    )
    return people_table(rates, {"when": ("Lead", "text"), "leads": ("Touched leads", "count"),
                                "share": ("Share that qualified" if study.odds_outcome == "qualified" else "Share won", "percent"),
                                "interval": ("95% range", "text")})

"""The claims check in words a sales leader uses: each published figure beside the model's.

The claims check (``funnelsim.studies.claims_check``) puts every published alignment claim
beside the model's effect for the same comparison. For people, a claim is its statement and
its source with a trust level, not an id; effects are signed percentages with their range; and
the verdict comes first. The paths, single-lever searches and raw tables stay in the
appendix.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from funnelsim.present import plots
from funnelsim.present.vocabulary import in_sentence, people_table, percent, signed_ranges, source_name, sourced
from funnelsim.studies.claims_check import ClaimsCheck

__all__ = ["headline", "claims_figure", "claims_table", "ranges_table", "benchmarks_table"]

_INSIDE = "claim inside the model's CI"


def headline(check: ClaimsCheck) -> str:
    """The answer in two or three sentences (Markdown)."""
    claims = check.claims[check.claims["verdict"] != "not comparable"]
    inside = claims[claims["verdict"] == _INSIDE]
    trusted = claims[claims["trust"].isin(["high", "medium"])]
    weak = claims[~claims["trust"].isin(["high", "medium"])]
    named = "; ".join(f"{source_name(r.source)}: {in_sentence(r.statement.rstrip('.'))}" for r in inside.itertuples())
    text = (f"**Of the {len(claims)} published alignment claims the model can be set beside, {len(inside)} lie inside "
            f"its 95% range for the same comparison**" + (f" ({named})." if named else "."))
    if len(trusted):
        text += (f" Of the {len(trusted)} from surveys and analyst firms (medium trust or better), "
                 f"{int((trusted['verdict'] == _INSIDE).sum())} lie inside.")
    if len(weak):
        smaller = int((weak["verdict"] == "model gives a smaller effect").sum())
        text += (f" For {smaller} of the {len(weak)} folklore and unsourced figures the model gives a smaller effect "
                 "than the claim, as their trust level would lead one to expect.")
    return text


def _for_people(check: ClaimsCheck) -> pd.DataFrame:
    return check.claims.assign(claim=[source_name(s) for s in check.claims["source"]])


def claims_figure(check: ClaimsCheck) -> Figure:
    """Each claim (cross) beside the model's effect with its range, labelled by source and statement."""
    return plots.claims_chart(_for_people(check))


def claims_table(check: ClaimsCheck) -> Styler:
    """Each claim in words: the statement, its source and trust, the claim and the model's effect."""
    rows = check.claims.assign(
        who=sourced(check.claims["source"], check.claims["trust"]),
        interval=signed_ranges(check.claims["ci_low"], check.claims["ci_high"]),
    )
    return people_table(rows, {
        "statement": ("Published claim", "text"),
        "who": ("Source (trust)", "text"),
        "claimed": ("Claimed", "signed percent"),
        "model": ("Model", "signed percent"),
        "interval": ("95% range (simulation noise)", "text"),
        "verdict": ("Verdict", "text"),
    })


def ranges_table(check: ClaimsCheck) -> Styler | None:
    """Each claim over plausible models (``ClaimsCheck.ranges``), named by its statement."""
    ranges = check.ranges()
    if ranges is None:
        return None
    statements = dict(zip(check.claims["claim"], check.claims["statement"]))
    table = ranges.assign(claim=ranges["claim"].map(statements).fillna(ranges["claim"]))
    columns = {name: (name[:1].upper() + name[1:], "text") for name in table.columns}
    columns["claim"] = ("Published claim", "text")
    return people_table(table, columns)


def _figure(value: float) -> str:
    if pd.isna(value):
        return "–"
    return percent(value) if abs(value) < 1 else f"{value:,.3g}"


def benchmarks_table(check: ClaimsCheck) -> Styler:
    """The funnel and speed-to-lead figures beside the typical company, measured as each study did."""
    rows = check.benchmarks.assign(
        who=sourced(check.benchmarks["source"], check.benchmarks["trust"]),
        measured_value=[f"{_figure(v)} ({_figure(lo)} to {_figure(hi)})"
                        for v, lo, hi in zip(check.benchmarks["model"], check.benchmarks["ci_low"], check.benchmarks["ci_high"])],
    )
    return people_table(rows, {
        "statement": ("Published figure", "text"),
        "who": ("Source (trust)", "text"),
        "published": ("Range it implies", "text"),
        "measured_value": ("The typical company, measured as the study did (95% range)", "text"),
        "verdict": ("Verdict", "text"),
    })

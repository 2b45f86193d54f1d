"""Estimates a strategist can trust: what a scenario or a lever is worth, with its uncertainty.

Every function takes the tidy tables (one row per replication, per lead, or per day) and
returns an ``Estimate``: a tidy DataFrame (estimate, 95% CI, p-value, n) and one plain-language
sentence a report can print as it is. All statistics come from statsmodels, each model's design
from its formula API:

* ``compare_scenarios``: each scenario against a baseline, absolute and relative, paired by
  replication when the runs share seeds (replication fixed effects), unpaired otherwise;
* ``speed_to_lead_odds``: a logit of qualifying (or winning) on the lead's age at first touch,
  its quality and channel, in odds ratios;
* ``revenue_growth``: the monthly revenue trend per scenario as an annual growth rate, from
  log-linear regressions (across replications, or with HAC errors for a single series), and
  ``growth_per_run``: that trend per run, as a column to compare or model like a KPI;
* ``replications_needed``: how many replications a target CI half-width needs.

The metamodels over a sweep (which lever matters) are in ``funnelsim.stats.metamodel``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim.config.lever_values import plain_number
from funnelsim.model.maths import DAYS_PER_MONTH, MONTHS_PER_YEAR
from funnelsim.model.records import REPLICATION_COLUMNS

__all__ = [
    "Estimate",
    "compare_scenarios",
    "kpi_unit",
    "signed_change",
    "speed_to_lead_odds",
    "rates_by_age_group",
    "revenue_growth",
    "growth_per_run",
    "replications_needed",
    "AGE_GROUPS",
    "MIN_REFERENCE_LEADS",
]

AGE_GROUPS = ["under 1 h", "1-2 h", "2-24 h", "24 h or more"]
MIN_REFERENCE_LEADS = 30  # leads the reference age group of the speed-to-lead logit needs at least
_AGE_EDGES = [0, 1, 2, 24, np.inf]


@dataclass
class Estimate:
    """A tidy table of estimates and the sentence that says what they mean."""

    table: pd.DataFrame
    sentence: str

    def _repr_html_(self) -> str:  # shown as a table in notebooks
        return f"<p>{self.sentence}</p>" + self.table.to_html(index=False, float_format=lambda v: f"{v:,.4g}")


def kpi_unit(kpi: str) -> str:
    """The unit of a KPI as the data dictionary gives it (``currency``, ``share``, ``count``...)."""
    return REPLICATION_COLUMNS.get(kpi, ("", "", ""))[1]


def signed_change(value: float, unit: str) -> str:
    """A signed difference in the KPI's unit."""
    if unit.startswith("currency"):
        return f"{value:+,.0f}"
    if unit.startswith("share"):
        return f"{value * 100:+.2f} points"
    if unit == "count" or abs(value) >= 1000:
        return f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+,.1f}"
    return f"{value:+,.3g}"


def _level(value: float, unit: str) -> str:
    """A KPI's level in its unit (a share as a percentage)."""
    return f"{value:.1%}" if unit.startswith("share") else signed_change(value, unit).lstrip("+")


_ACRONYMS = {"mqls": "MQLs", "sals": "SALs", "sqls": "SQLs", "sdr": "SDR", "ae": "AE", "cac": "CAC", "cpl": "CPL",
             "clv": "CLV", "sla": "SLA"}


def _label(kpi: str) -> str:
    """A KPI name as a sentence starts it: 'SQLs', 'CAC', 'Median speed to lead hours'."""
    words = [_ACRONYMS.get(w, w) for w in kpi.split("_")]
    return " ".join(words)[0].upper() + " ".join(words)[1:]


def compare_scenarios(
    runs: pd.DataFrame,
    kpi: str = "revenue",
    baseline: str | None = None,
    paired: bool = True,
    confidence: float = 0.95,
) -> Estimate:
    """Each scenario's difference from ``baseline`` in ``kpi``, absolute and relative.

    ``runs`` has one row per scenario and replication (columns ``scenario``, ``replication``
    and the KPI). With ``paired`` (common random numbers), replication fixed effects remove
    the luck shared by replication *r* of every scenario; without, the comparison is a plain
    regression on scenario with heteroscedasticity-robust (HC3) errors. The relative effect
    comes from the same model on the log of the KPI (exp(coefficient) - 1).
    """
    data = runs[["scenario", "replication", kpi]].dropna().rename(columns={kpi: "y"})
    data["scenario"] = data["scenario"].astype(str)
    baseline = baseline or data["scenario"].iloc[0]
    if baseline not in set(data["scenario"]):
        raise ValueError(f"baseline scenario {baseline!r} is not in the runs")
    alpha = 1 - confidence
    term = f"C(scenario, Treatment(reference={baseline!r}))"
    rhs = term + (" + C(replication)" if paired else "")
    fit_kw = {} if paired else {"cov_type": "HC3"}
    model = smf.ols(f"y ~ {rhs}", data)
    absolute = model.fit(**fit_kw)
    positive = bool((data["y"] > 0).all())
    # the same design rows on the log of the KPI (building a formula's design is most of the time)
    relative = sm.OLS(np.log(model.endog), model.exog).fit(**fit_kw) if positive else None

    unit = kpi_unit(kpi)
    base_mean = float(data.loc[data["scenario"] == baseline, "y"].mean())
    rows = []
    for scenario in [s for s in pd.unique(data["scenario"]) if s != baseline]:
        name = f"{term}[T.{scenario}]"
        low, high = absolute.conf_int(alpha).loc[name]
        row = {
            "scenario": scenario,
            "baseline": baseline,
            "kpi": kpi,
            "unit": unit,
            "baseline_mean": base_mean,
            "estimate": float(absolute.params[name]),
            "ci_low": float(low),
            "ci_high": float(high),
            "p_value": float(absolute.pvalues[name]),
            "relative": np.nan,
            "relative_ci_low": np.nan,
            "relative_ci_high": np.nan,
            "n": int((data["scenario"] == scenario).sum()),
            "paired": paired,
        }
        if relative is not None:
            column = model.exog_names.index(name)
            rlow, rhigh = relative.conf_int(alpha)[column]
            row["relative"] = math.expm1(relative.params[column])
            row["relative_ci_low"] = math.expm1(rlow)
            row["relative_ci_high"] = math.expm1(rhigh)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return Estimate(table, f"Only the baseline '{baseline}' is present: nothing to compare.")
    level = f"{confidence:.0%}"
    parts = []
    for r in table.itertuples():
        if np.isfinite(r.relative):
            parts.append(f"'{r.scenario}' {r.relative:+.1%} ({level} CI {r.relative_ci_low:+.1%} to {r.relative_ci_high:+.1%})")
        else:
            parts.append(f"'{r.scenario}' {signed_change(r.estimate, unit)} ({level} CI {signed_change(r.ci_low, unit)} to {signed_change(r.ci_high, unit)})")
    sentence = (
        f"{_label(kpi)} against '{baseline}' ({_level(base_mean, unit)}): "
        + "; ".join(parts)
        + f"; {'paired by replication' if paired else 'independent runs'}, n = {int(table.n.iloc[0])} per scenario."
    )
    return Estimate(table, sentence)


# --- lead-level models ---------------------------------------------------------------------


def speed_to_lead_odds(leads: pd.DataFrame, outcome: str = "qualified", confidence: float = 0.95) -> Estimate:
    """Odds ratios of ``outcome`` ('qualified' or 'won') by the lead's age at first touch.

    A logit on the age group at first touch, the lead's quality (per 10 points) and its
    channel, over every lead that sales touched at least once. The reference is the earliest
    age group with at least ``MIN_REFERENCE_LEADS`` leads (under an hour, unless the company
    rarely answers that fast), so that every ratio is against a group measured well enough.
    """
    touched = _touched_leads(leads, outcome)
    touched["quality_10"] = touched["quality"] / 10.0
    touched["channel"] = touched["channel"].astype(str)
    sizes = touched["age_group"].value_counts()
    present = [g for g in AGE_GROUPS if sizes.get(g, 0) > 0]
    reference = next((g for g in present if sizes[g] >= MIN_REFERENCE_LEADS), max(present, key=lambda g: sizes[g]))
    present = [reference, *(g for g in present if g != reference)]
    touched = touched[touched["age_group"].isin(present)]
    formula = f"y ~ C(age_group, Treatment(reference={reference!r})) + quality_10"
    if touched["channel"].nunique() > 1:
        formula += " + C(channel)"
    fit = smf.logit(formula, touched).fit(disp=0)
    ci = fit.conf_int(1 - confidence)
    rows = []
    for term in fit.params.index:
        if term == "Intercept":
            continue
        label = re.sub(r"C\((\w+).*?\)\[T\.(.*)\]", r"\1 = \2", term)
        rows.append(
            {
                "term": label.replace("quality_10", "quality (per 10 points)"),
                "odds_ratio": float(np.exp(fit.params[term])),  # inf, not an error, where a group all but separates
                "ci_low": float(np.exp(ci.loc[term, 0])),
                "ci_high": float(np.exp(ci.loc[term, 1])),
                "p_value": float(fit.pvalues[term]),
                "n": int(fit.nobs),
            }
        )
    table = pd.DataFrame(rows)
    parts = []
    for group in present[1:]:
        row = table[table["term"] == f"age_group = {group}"]
        if len(row):
            r = row.iloc[0]
            parts.append(f"{1 / r.odds_ratio:.1f}x the odds of one first touched {group} after inquiry "
                         f"({confidence:.0%} CI {1 / r.ci_high:.1f} to {1 / r.ci_low:.1f})")
    sentence = (
        f"Within this company, a lead first touched {present[0]} after its inquiry has " + "; ".join(parts)
        + f" of being {outcome}, holding quality and channel equal (logit, n = {int(fit.nobs):,}). "
        "This compares leads of one company; HBR 2011 compared firms, so its figures are checked "
        "across simulated firms instead (funnelsim check)."
        if parts
        else f"All touched leads fall in one age group ({present[0]}): no odds ratio to estimate."
    )
    return Estimate(table, sentence)


def _touched_leads(leads: pd.DataFrame, outcome: str) -> pd.DataFrame:
    touched = leads[leads["first_touch_at"].notna()].copy()
    if outcome == "qualified":
        touched["y"] = touched["sql_at"].notna().astype(int)
    elif outcome == "won":
        touched["y"] = (touched["status"] == "won").astype(int)
    else:
        raise ValueError("outcome must be 'qualified' or 'won'")
    touched["age_group"] = pd.cut(
        touched["speed_to_lead_hours"], _AGE_EDGES, right=False, labels=AGE_GROUPS
    ).astype(str)
    return touched


def rates_by_age_group(leads: pd.DataFrame, outcome: str = "qualified", confidence: float = 0.95) -> pd.DataFrame:
    """Share of touched leads reaching ``outcome`` per age group at first touch, with Wilson CIs."""
    touched = _touched_leads(leads, outcome)
    rows = []
    for group in AGE_GROUPS:
        y = touched.loc[touched["age_group"] == group, "y"]
        if len(y):
            low, high = proportion_confint(int(y.sum()), len(y), alpha=1 - confidence, method="wilson")
            rows.append({"age_group": group, "leads": len(y), "share": float(y.mean()), "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


# --- revenue over time ---------------------------------------------------------------------


def monthly_revenue(daily: pd.DataFrame, warmup_days: float = 0.0) -> pd.DataFrame:
    """Revenue per month, per scenario (or sweep point) and replication, after warm-up.

    A month is the model's, a twelfth of a year (``DAYS_PER_MONTH``, 30.4375 days), counted from
    the first day after warm-up, so twelve months make the year the KPIs and the churn hazard
    use. A day's revenue accrues evenly over the day: a day a month's end cuts in two counts in
    both months in proportion. Whole months only."""
    data = daily[daily["day"] >= warmup_days]
    keys = [k for k in ("scenario", "point", "replication") if k in data]
    runs = data.groupby(keys) if keys else [((), data)]
    frames = []
    for key, run in runs:
        run = run.sort_values("day")
        days = run["day"].to_numpy(float)
        ends = days + 1.0 - days[0] if len(days) else days  # the end of each day, from the first day's start
        months = int(ends[-1] // DAYS_PER_MONTH) if len(ends) else 0
        if months == 0:
            continue
        cumulative = np.concatenate([[0.0], np.cumsum(run["revenue"].to_numpy(float))])
        at_month_ends = np.interp(np.arange(months + 1) * DAYS_PER_MONTH, np.concatenate([[0.0], ends]), cumulative)
        run_keys = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        frames.append(pd.DataFrame({**run_keys, "month": np.arange(months), "revenue": np.diff(at_month_ends)}))
    if not frames:
        return pd.DataFrame({**{k: pd.Series(dtype=data[k].dtype) for k in keys},
                             "month": pd.Series(dtype=int), "revenue": pd.Series(dtype=float)})
    return pd.concat(frames, ignore_index=True)


def _monthly_log_trend(monthly: pd.DataFrame) -> float:
    """OLS slope of log(revenue) on the month number of one run."""
    return float(smf.ols("np.log(revenue) ~ month", monthly).fit().params["month"])


def growth_per_run(daily: pd.DataFrame, warmup_days: float = 0.0) -> pd.DataFrame:
    """Each run's revenue trend as ``annual_log_growth`` (12 x the slope of log monthly revenue;
    ``monthly_revenue``'s months are a twelfth of a year).

    One row per run (per scenario or sweep point, and replication), ready to merge into the
    runs table and be compared or modelled like any KPI; ``exp(annual_log_growth) - 1`` is the
    annual growth rate, and a difference between two runs is the log of their growth factors' ratio.
    """
    monthly = monthly_revenue(daily, warmup_days)
    monthly = monthly[monthly["revenue"] > 0]
    keys = [k for k in ("scenario", "point", "replication") if k in monthly]
    rows = [
        {**dict(zip(keys, key if isinstance(key, tuple) else (key,))), "annual_log_growth": MONTHS_PER_YEAR * _monthly_log_trend(g)}
        for key, g in monthly.groupby(keys, sort=False)
        if len(g) >= 3
    ]
    return pd.DataFrame(rows, columns=[*keys, "annual_log_growth"])


def revenue_growth(daily: pd.DataFrame, warmup_days: float = 0.0, confidence: float = 0.95) -> Estimate:
    """Annualised growth of monthly revenue per scenario, from log(revenue) ~ month.

    With several replications, each replication's trend is fitted by OLS and the CI comes from
    the spread of those trends across replications (independent runs: a t interval with
    replications - 1 degrees of freedom). A single series gets Newey-West (HAC) errors with
    3 months of lags, which allow for the autocorrelation of revenue but are known to run a
    little narrow on short series.
    """
    monthly = monthly_revenue(daily, warmup_days)
    monthly = monthly[monthly["revenue"] > 0]
    if "scenario" not in monthly:
        monthly = monthly.assign(scenario="scenario")
    if "replication" not in monthly:
        monthly = monthly.assign(replication=0)
    alpha = 1 - confidence
    rows = []
    for scenario, data in monthly.groupby("scenario", sort=False):
        series = [g.sort_values("month") for _, g in data.groupby("replication")]
        if len(series) > 1:
            slopes = [_monthly_log_trend(g) for g in series]
            summary = DescrStatsW(np.asarray(slopes))
            slope = float(summary.mean)
            low, high = summary.tconfint_mean(alpha=alpha)
            p_value = float(summary.ttest_mean(0.0)[1])
            method = f"trend per replication, t interval over {len(series)} replications"
        else:
            fit = smf.ols("np.log(revenue) ~ month", series[0]).fit(cov_type="HAC", cov_kwds={"maxlags": 3})
            slope = float(fit.params["month"])
            low, high = fit.conf_int(alpha).loc["month"]
            p_value = float(fit.pvalues["month"])
            method = "one series, HAC errors"
        rows.append(
            {
                "scenario": scenario,
                "monthly_growth": math.expm1(slope),
                "annual_growth": math.expm1(MONTHS_PER_YEAR * slope),
                "ci_low": math.expm1(MONTHS_PER_YEAR * low),
                "ci_high": math.expm1(MONTHS_PER_YEAR * high),
                "p_value": p_value,
                "n": len(data),
                "method": method,
            }
        )
    table = pd.DataFrame(rows)
    parts = [
        f"'{r.scenario}' {r.annual_growth:+.1%} a year ({confidence:.0%} CI {r.ci_low:+.1%} to {r.ci_high:+.1%})"
        for r in table.itertuples()
    ]
    return Estimate(table, "Trend of monthly revenue, as a yearly rate: " + "; ".join(parts) + ".")


def growth_after_changes(runs: pd.DataFrame, stayed: str, confidence: float = 0.95) -> Estimate:
    """First-year revenue growth of a company in ``stayed``'s steady state that changes to each
    other scenario, paired by replication (``measures.growth_after_change``).

    Every simulated company sits in its own steady state and neither grows nor shrinks, so
    growth is what a company sees on its way from one way of working to another: its old
    customers leave at the new churn while the new funnel brings customers in."""
    from funnelsim.stats.measures import growth_after_change, mean_ci

    old = runs.loc[runs["scenario"] == stayed].set_index("replication")["revenue"]
    rows = []
    for scenario, data in runs[runs["scenario"] != stayed].groupby("scenario", sort=False):
        growth = growth_after_change(data["revenue"], data["replication"].map(old), data["monthly_churn"])
        m = mean_ci(growth, confidence)
        rows.append({"scenario": scenario, "from": stayed, "first_year_growth": m.value, "ci_low": m.low, "ci_high": m.high, "n": m.n})
    table = pd.DataFrame(rows)
    parts = [f"to '{r.scenario}' {r.first_year_growth:+.0%} ({confidence:.0%} CI {r.ci_low:+.0%} to {r.ci_high:+.0%})"
             for r in table.itertuples()]
    return Estimate(table, f"A company in the '{stayed}' steady state that changes grows its revenue in the first year: "
                    + "; ".join(parts) + ".")


# --- precision -----------------------------------------------------------------------------


def replications_needed(
    runs: pd.DataFrame, kpi: str, half_width: float, confidence: float = 0.95, paired_with: pd.Series | None = None
) -> Estimate:
    """How many replications give a ``confidence`` CI on the mean of ``kpi`` no wider than ±half_width.

    Uses the replications' standard deviation (or that of the paired differences with
    ``paired_with``) and the t quantile, solved for the smallest n.
    """
    values = runs[kpi].to_numpy(float)
    if paired_with is not None:
        values = values - np.asarray(paired_with, float)
    values = values[np.isfinite(values)]
    sd = float(np.std(values, ddof=1))
    n = 2
    while stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n) > half_width and n < 1_000_000:
        n += 1
    current = stats.t.ppf(1 - (1 - confidence) / 2, len(values) - 1) * sd / math.sqrt(len(values))
    table = pd.DataFrame(
        [{"kpi": kpi, "sd": sd, "replications_now": len(values), "half_width_now": current,
          "target_half_width": half_width, "replications_needed": n}]
    )
    unit = kpi_unit(kpi)
    sentence = (
        f"With {len(values)} replications the {confidence:.0%} CI of {kpi} is ±{plain_number(abs(current))} {unit}; "
        f"±{plain_number(half_width)} needs {n} replications."
    )
    return Estimate(table, sentence)

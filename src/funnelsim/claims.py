"""The claims check: what the published alignment figures would take, lever by lever.

The figures quoted for sales and marketing alignment ("aligned firms grow 20% a year, laggards
shrink 4%", "38% more proposals won", "67% better at closing deals") are observational and
mostly self-reported. A simulation cannot confirm them, but it can say two useful things:

1. what the model produces for the same comparison (fully aligned against fully misaligned,
   or against a typical company), with a confidence interval, and whether the claim falls
   inside it, above it or below it;
2. how large the alignment levers would have to be to produce the claimed effect: how far
   along the path from "fully misaligned" to "fully aligned" (and beyond) a company would
   have to move, or how far one lever alone would have to move, read off a response surface
   fitted over a sweep of the levers, and then confirmed by direct simulation.

Each claim carries its source and a trust level, as ``shared/domain.md`` asks. The funnel and
speed-to-lead figures are listed separately (``BENCHMARKS``): they calibrate the model rather
than test alignment, and second-hand ranges are defaults, not validation targets.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim.analysis import compare_scenarios, growth_per_run, speed_to_lead_odds
from funnelsim.model.odds import DecayCurve
from funnelsim.params import Scenario
from funnelsim.response import Lever, ResponseSurface
from funnelsim.params import parse_override, scenario_from_dict, set_path
from funnelsim.sweeps import Sweep, SweepPoint, expects_integer

__all__ = [
    "Claim",
    "CLAIMS",
    "BENCHMARKS",
    "ALIGNMENT_LEVERS",
    "Role",
    "add_claim_kpis",
    "lever_bounds",
    "lever_settings",
    "path_settings",
    "claims_against_model",
    "benchmarks_against_model",
    "fit_surfaces",
    "path_sweep",
    "path_effects",
    "path_needed",
    "single_lever_needed",
    "as_overrides",
    "claims_summary",
    "single_lever_summary",
]

Role = Literal["aligned", "misaligned", "typical"]


@dataclass(frozen=True)
class Claim:
    """A published alignment effect, stated as a relative change in one KPI."""

    id: str
    source: str
    trust: str
    statement: str
    kpi: str  # a replications-table KPI, or a derived one (see add_claim_kpis)
    change: float | None  # claimed relative change (+0.38 = 38% more); None: not comparable
    reference: Role  # what the aligned company is compared with
    reading: str  # how the statement was turned into that change, and caveats

    @property
    def direction(self) -> int:
        return 1 if (self.change or 0) >= 0 else -1


_SELF_REPORTED = "survey, self-reported; observational"
CLAIMS: list[Claim] = [
    Claim(
        "aberdeen_growth", "Aberdeen Group 2010 (453 firms)", "survey; observational (original not read)",
        "Aligned firms grow revenue 20% a year; laggards shrink 4%.", "annual_log_growth",
        1.20 / 0.96 - 1, "misaligned",
        "As the ratio of annual growth factors, 1.20 / 0.96 = +25%, fully aligned against fully misaligned.",
    ),
    Claim(
        "sirius_growth", "SiriusDecisions", "analyst firm; observational (original not read)",
        "24% faster three-year revenue growth.", "annual_log_growth",
        1.24 ** (1 / 3) - 1, "misaligned",
        "Read as three-year revenue 24% higher, i.e. a growth factor 1.24^(1/3) = +7.4% a year higher.",
    ),
    Claim(
        "mathmarketing_wins", "MathMarketing survey (1,400 respondents; often credited to MarketingProfs)",
        _SELF_REPORTED, "38% more proposals won.", "wins", 0.38, "misaligned",
        "Deals won after warm-up, fully aligned against fully misaligned.",
    ),
    Claim(
        "mathmarketing_churn", "MathMarketing survey (1,400 respondents; often credited to MarketingProfs)",
        _SELF_REPORTED, "36% fewer customers lost.", "monthly_churn", -0.36, "misaligned",
        "Monthly churn. The model sets churn directly (the shared-revenue-goal lever), so it repeats its input here.",
    ),
    Claim(
        "miller_heiman_conversion", "Miller Heiman / Northern Illinois University 2010", _SELF_REPORTED,
        "Lead conversion 29% against 24%.", "lead_to_opportunity_rate", 0.29 / 0.24 - 1, "misaligned",
        "'Lead conversion' is not defined in our sources; read as leads becoming opportunities, +21% relative. "
        "The model's absolute rates are far lower (a few percent), as every inquiry counts as a lead.",
    ),
    Claim(
        "infographic_closing", "Infographic; no original study found", "folklore: shown and labelled, not evidence",
        "67% better at closing deals.", "win_rate", 0.67, "misaligned",
        "Win rate (won / closed), fully aligned against fully misaligned.",
    ),
    Claim(
        "infographic_marketing_revenue", "Infographic; no original study found", "folklore: shown and labelled, not evidence",
        "208% more revenue from marketing.", "bookings", 2.08, "misaligned",
        "Bookings (new deals won): every lead in the model comes from marketing's channels.",
    ),
    Claim(
        "survey2025_cac", "2025 survey quoted by seed 002; no source given", "unsourced",
        "Customer acquisition cost 32% lower.", "cac", -0.32, "typical",
        "CAC, fully aligned against the typical company (the baseline).",
    ),
    Claim(
        "survey2025_conversion", "2025 survey quoted by seed 002; no source given", "unsourced",
        "Lead conversion 41% higher.", "lead_to_customer_rate", 0.41, "typical",
        "Leads becoming customers, fully aligned against the typical company (the baseline).",
    ),
    Claim(
        "survey2025_growth", "2025 survey quoted by seed 002; no source given", "unsourced",
        "Growth 57% above the industry average.", "annual_log_growth", None, "typical",
        "Not comparable: a ratio of growth rates needs the industry's growth rate, which is not given, "
        "and is meaningless when that rate is near zero or negative. The model's growth gap is shown.",
    ),
]


@dataclass(frozen=True)
class Benchmark:
    """A published funnel or speed-to-lead figure the model can be set beside."""

    source: str
    trust: str
    statement: str
    metric: str
    low: float
    high: float  # a point figure has low == high; "over 60x" has high = inf
    measured: str  # how the model's value is measured


_SECOND_HAND = "second-hand: a default, not a validation target"
_FIRST_TOUCH = "logit of qualifying on the lead's age at its first touch, quality and channel (first touches after warm-up)"
_CURVES = "read off the configured decay curves for one attempt (no simulation noise)"
_REPS = "mean over replications, 95% t interval"
BENCHMARKS: list[Benchmark] = [
    Benchmark("HBR 2011 (2,241 firms, 1.25M leads)", "original read", "~7x the odds of qualifying: first hour vs an hour later",
              "qualify_odds_first_vs_second_hour", 6.0, 8.0, _FIRST_TOUCH),
    Benchmark("HBR 2011 (2,241 firms, 1.25M leads)", "original read", "over 60x the odds: first hour vs 24 h or more",
              "qualify_odds_first_hour_vs_day", 60.0, math.inf,
              _FIRST_TOUCH + "; later attempts still qualify some late first touches, which dilutes the ratio"),
    Benchmark("MIT / InsideSales 2007 (15,000+ leads)", "original read", "100x the odds of contact: 5 vs 30 minutes",
              "contact_odds_5_vs_30_minutes", 100.0, 100.0, _CURVES),
    Benchmark("MIT / InsideSales 2007 (15,000+ leads)", "original read", "21x the odds of qualifying: 5 vs 30 minutes",
              "qualify_odds_5_vs_30_minutes", 21.0, 21.0, _CURVES + ": contact and qualification odds multiplied"),
    Benchmark("MIT / InsideSales 2007 (15,000+ leads)", "original read", "more than 30% of leads are never contacted",
              "share_sal_never_contacted", 0.30, 1.0, "sales-accepted leads never reached, " + _REPS),
    Benchmark("InsideSales audit, reported by HubSpot", "second-hand", "median first call 3 h 08 min",
              "median_speed_to_lead_hours", 3 + 8 / 60, 3 + 8 / 60, "median hours from handoff to first touch, " + _REPS),
    Benchmark("MarketingSherpa 2009 (1,000+ B2B marketers)", "survey", "about 5 customers per 100 leads",
              "lead_to_customer_rate", 0.05, 0.05, "wins / leads, " + _REPS),
    Benchmark("vendor blogs", _SECOND_HAND, "inquiry to MQL 10-25%", "mql_rate", 0.10, 0.25, "MQLs / leads, " + _REPS),
    Benchmark("vendor blogs", _SECOND_HAND, "MQL to SAL 40-60%", "sal_rate", 0.40, 0.60, "SALs / MQLs, " + _REPS),
    Benchmark("vendor blogs", _SECOND_HAND, "SAL to SQL 50-70%", "sql_rate", 0.50, 0.70, "SQLs / SALs, " + _REPS),
    Benchmark("vendor blogs", _SECOND_HAND, "SQL to won 20-30%", "win_per_sql", 0.20, 0.30, "wins / SQLs, " + _REPS),
    Benchmark("vendor blogs", _SECOND_HAND, "mid-market SaaS sales cycle 60-90 days", "sales_cycle_days", 60.0, 90.0,
              "mean SQL-to-close days of won deals, " + _REPS),
]

# The levers the assessment moves, on the scale their effect is modelled on.
ALIGNMENT_LEVERS: list[Lever] = [
    Lever("handoff.mode", "switch", on="continuous"),
    Lever("handoff.latency_hours.median", "log"),
    Lever("follow_up.follow_up_rate"),
    Lever("follow_up.max_attempts"),
    Lever("follow_up.priority_routing", "switch"),
    Lever("sales_acceptance.threshold"),
    Lever("scoring.noise_sd"),
    Lever("closed_loop.enabled", "switch"),
    Lever("closed_loop.meeting_every_days"),
    Lever("closed_loop.noise_reduction_per_meeting"),
    Lever("opportunity.message_consistency"),
    Lever("opportunity.content_coverage"),
    Lever("customers.monthly_churn"),
]


def add_claim_kpis(runs: pd.DataFrame, daily: pd.DataFrame, warmup_days: float) -> pd.DataFrame:
    """The runs table plus the KPIs the claims need: lead-to-opportunity rate and revenue growth."""
    keys = [k for k in ("scenario", "point", "replication") if k in runs and k in daily]
    out = runs.copy()
    out["lead_to_opportunity_rate"] = out["opportunities"] / out["leads"].where(out["leads"] > 0)
    growth = growth_per_run(daily, warmup_days)
    return out.merge(growth, on=keys, how="left")


_INSIDE = "claim inside the model's CI"


def _status(claimed: float, low: float, high: float) -> str:
    if low <= claimed <= high:
        return _INSIDE
    if np.sign(claimed) != np.sign((low + high) / 2) and not low <= 0 <= high:
        return "model points the other way"
    return "model gives a larger effect" if abs((low + high) / 2) > abs(claimed) else "model gives a smaller effect"


def claims_against_model(effects: pd.DataFrame, runs: pd.DataFrame, typical: str, misaligned: str) -> pd.DataFrame:
    """Each claim beside the model's effect for the same comparison, with its CI and a verdict.

    The model's effect is the path's point ``t = 1`` (the fully aligned settings) against the
    claim's reference (``path_effects``); growth claims also show both growth rates.
    """
    growth = runs.groupby("scenario")["annual_log_growth"].mean().map(math.expm1)
    aligned = runs.loc[np.isclose(runs["t"], 1.0), "scenario"].iloc[0]
    rows = []
    for claim in CLAIMS:
        model = effects[(effects["claim"] == claim.id) & np.isclose(effects["t"], 1.0)].iloc[0]
        reference = typical if claim.reference == "typical" else misaligned
        comparison = f"fully aligned vs {'the typical company' if claim.reference == 'typical' else 'fully misaligned'}"
        if claim.kpi == "annual_log_growth":
            comparison += f" (revenue growth {growth[aligned]:+.0%} vs {growth[reference]:+.0%} a year)"
        rows.append(
            {
                "claim": claim.id,
                "statement": claim.statement,
                "source": claim.source,
                "trust": claim.trust,
                "kpi": claim.kpi,
                "claimed": claim.change if claim.change is not None else np.nan,
                "model": model.change,
                "ci_low": model.ci_low,
                "ci_high": model.ci_high,
                "comparison": comparison,
                "verdict": "not comparable" if claim.change is None else _status(claim.change, model.ci_low, model.ci_high),
                "reading": claim.reading,
            }
        )
    return pd.DataFrame(rows)


def _decay_ratio(scenario: Scenario, young_hours: float, old_hours: float, curves: tuple[str, ...]) -> float:
    """Odds ratio the configured decay curves give a single attempt at two lead ages."""
    total = 0.0
    for name in curves:
        curve = DecayCurve(getattr(scenario.follow_up, name))
        total += curve(young_hours / 24) - curve(old_hours / 24)
    return math.exp(total)


def benchmarks_against_model(runs: pd.DataFrame, leads: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Each funnel and speed-to-lead figure beside the typical company's simulated value.

    Rates are means over replications with a 95% t interval; the HBR odds ratios come from
    the logit of qualifying on the lead's age at first touch (``speed_to_lead_odds``); the MIT
    5-versus-30-minute figures are read off the configured decay curves (a single attempt).
    """
    own = runs[runs["scenario"] == scenario.name]
    warm = leads[leads["created_at"] >= scenario.simulation.warmup_days]
    values: dict[str, tuple[float, float, float]] = {}

    def mean_ci(series: pd.Series) -> tuple[float, float, float]:
        data = DescrStatsW(series.dropna().to_numpy(float))
        low, high = data.tconfint_mean() if data.nobs > 1 else (data.mean, data.mean)
        return float(data.mean), float(low), float(high)

    values["mql_rate"] = mean_ci(own["mqls"] / own["leads"])
    values["sal_rate"] = mean_ci(own["sals"] / own["mqls"])
    values["sql_rate"] = mean_ci(own["sqls"] / own["sals"])
    values["win_per_sql"] = mean_ci(own["wins"] / own["sqls"])
    for kpi in ("lead_to_customer_rate", "sales_cycle_days", "median_speed_to_lead_hours"):
        values[kpi] = mean_ci(own[kpi])
    accepted = warm[warm["sal_at"].notna()]
    never = accepted.groupby("replication")["contacted_at"].apply(lambda s: s.isna().mean())
    values["share_sal_never_contacted"] = mean_ci(never)
    odds = speed_to_lead_odds(warm).table.set_index("term")
    for metric, group in (("qualify_odds_first_vs_second_hour", "1-2 h"), ("qualify_odds_first_hour_vs_day", "24 h or more")):
        term = f"age_group = {group}"
        if term in odds.index:
            r = odds.loc[term]
            values[metric] = (1 / r.odds_ratio, 1 / r.ci_high, 1 / r.ci_low)
    contact = _decay_ratio(scenario, 5 / 60, 0.5, ("contact_decay",))
    values["contact_odds_5_vs_30_minutes"] = (contact, contact, contact)
    qualify = _decay_ratio(scenario, 5 / 60, 0.5, ("contact_decay", "qualification_decay"))
    values["qualify_odds_5_vs_30_minutes"] = (qualify, qualify, qualify)
    rows = []
    for b in BENCHMARKS:
        model, low, high = values.get(b.metric, (np.nan, np.nan, np.nan))
        if not np.isfinite(model):
            verdict = "not measured (too few leads in that group)"
        elif high < b.low:
            verdict = "model below the published figure"
        elif low > b.high:
            verdict = "model above the published figure"
        else:
            verdict = "published figure inside the model's CI" if b.low == b.high else "model inside the published range"
        rows.append(
            {
                "statement": b.statement, "source": b.source, "trust": b.trust, "metric": b.metric,
                "published_low": b.low, "published_high": b.high,
                "model": model, "ci_low": low, "ci_high": high, "verdict": verdict, "measured": b.measured,
            }
        )
    return pd.DataFrame(rows)


# --- how large the levers would have to be -------------------------------------------------


def lever_bounds(sweep: Sweep) -> dict[str, tuple[Any, Any] | list[Any]]:
    """Each lever's swept range (low, high), or its list of values: where the surface is valid."""
    bounds: dict[str, tuple[Any, Any] | list[Any]] = {}
    for key, factor in sweep.definition["factors"].items():
        bounds[key] = (factor["low"], factor["high"]) if isinstance(factor, dict) else list(factor)
    return bounds


def lever_settings(scenario: Scenario, levers: list[Lever]) -> dict[str, Any]:
    """The scenario's value of each lever."""
    data = scenario.model_dump(mode="json", by_alias=True)
    settings = {}
    for lever in levers:
        node: Any = data
        for part in lever.key.split("."):
            node = node[part]
        settings[lever.key] = node
    return settings


def path_settings(
    start: dict[str, Any],
    end: dict[str, Any],
    t: np.ndarray,
    levers: list[Lever],
    bounds: dict[str, tuple[Any, Any] | list[Any]],
) -> pd.DataFrame:
    """Lever settings a share ``t`` of the way from ``start`` (0) to ``end`` (1), and beyond.

    Numeric levers move in a straight line on their modelling scale (a latency geometrically)
    and stop at the edge of the swept range; a switch flips half-way, as "partly" does in the
    assessment. Beyond 1 every lever keeps going in the same direction until its range ends.
    """
    t = np.asarray(t, float)
    columns: dict[str, Any] = {}
    for lever in levers:
        a, b = start[lever.key], end[lever.key]
        if lever.scale == "switch" or a == b:
            columns[lever.key] = np.where(t >= 0.5, b, a) if lever.scale == "switch" else np.full(len(t), a)
            continue
        low, high = bounds[lever.key]
        if lever.scale == "log":
            values = np.exp(np.log(a) + t * (np.log(b) - np.log(a)))
        else:
            values = a + t * (b - a)
        values = np.where(t == 0, a, np.where(t == 1, b, values))  # the two scenarios exactly, no rounding
        columns[lever.key] = np.clip(values, low, high)
    return pd.DataFrame(columns)


def fit_surfaces(sweep_runs: pd.DataFrame, levers: list[Lever], interactions: bool = False) -> dict[str, ResponseSurface]:
    """One response surface per KPI the claims use (relative KPIs on the log scale)."""
    surfaces = {}
    for kpi in sorted({c.kpi for c in CLAIMS}):
        transform = "absolute" if kpi == "annual_log_growth" else "relative"
        surfaces[kpi] = ResponseSurface.fit(sweep_runs, kpi, levers, transform, interactions)
    return surfaces


def _target(claim: Claim, surface: ResponseSurface) -> float:
    """The claimed change on the surface's scale."""
    assert claim.change is not None
    return math.log1p(claim.change) if surface.transform == "absolute" else claim.change


def _reached(change: np.ndarray, target: float) -> np.ndarray:
    return change >= target if target >= 0 else change <= target


def path_sweep(
    typical: Scenario,
    misaligned: Scenario,
    aligned: Scenario,
    bounds: dict[str, tuple[Any, Any] | list[Any]],
    t_values: list[float],
    replications: int,
    seed: int,
    levers: list[Lever] = ALIGNMENT_LEVERS,
) -> Sweep:
    """The typical company, then the misaligned company moved a share ``t`` of the way to the
    aligned one (0 = fully misaligned, 1 = fully aligned, beyond: further in the same direction
    until each lever's range ends), as one sweep with common random numbers."""
    if not {0.0, 1.0} <= {float(t) for t in t_values}:
        raise ValueError(f"the path's points {list(t_values)} must include 0 (fully misaligned) and 1 (fully aligned)")
    start, end = lever_settings(misaligned, levers), lever_settings(aligned, levers)
    settings = path_settings(start, end, np.asarray(t_values, float), levers, bounds)
    base = misaligned.model_dump(mode="json", by_alias=True)
    points = [SweepPoint(0, {"scenario": typical.name, "t": float("nan")}, typical)]
    for i, (t, row) in enumerate(zip(t_values, settings.to_dict("records")), start=1):
        data = copy.deepcopy(base)
        for override in as_overrides(row):
            key, value = parse_override(override)
            data = set_path(data, key, value)
        data["name"] = f"{misaligned.name}+{t:g}"
        points.append(SweepPoint(i, {"scenario": data["name"], "t": float(t)}, scenario_from_dict(data, data["name"])))
    return Sweep(
        name="alignment-path",
        source=f"{misaligned.name} to {aligned.name}",
        design="scenarios",
        factor_names=["scenario", "t"],
        points=points,
        replications=replications,
        seed=seed,
        common_random_numbers=True,
        definition={"t": list(t_values), "bounds": {k: list(v) for k, v in bounds.items()}},
    )


def path_effects(runs: pd.DataFrame, typical: str, misaligned: str, confidence: float = 0.95) -> pd.DataFrame:
    """Each claim's KPI change at every point of the path, against the claim's reference.

    ``runs`` are the path sweep's runs (``add_claim_kpis`` applied); changes are paired by
    replication, relative (growth: the ratio of growth factors), with their CIs.
    """
    rows = []
    path = runs[runs["t"].notna()]
    for claim in CLAIMS:
        reference = typical if claim.reference == "typical" else misaligned
        data = pd.concat([runs[runs["scenario"] == reference], path[path["scenario"] != reference]])
        table = compare_scenarios(data, claim.kpi, reference, paired=True, confidence=confidence).table
        t_of = path.drop_duplicates("scenario").set_index("scenario")["t"]
        for r in table.itertuples():
            if claim.kpi == "annual_log_growth":
                estimate, low, high = (math.expm1(v) for v in (r.estimate, r.ci_low, r.ci_high))
            else:
                estimate, low, high = r.relative, r.relative_ci_low, r.relative_ci_high
            rows.append({"claim": claim.id, "kpi": claim.kpi, "t": float(t_of[r.scenario]), "change": estimate,
                         "ci_low": low, "ci_high": high})
        if reference == misaligned:
            rows.append({"claim": claim.id, "kpi": claim.kpi, "t": 0.0, "change": 0.0, "ci_low": 0.0, "ci_high": 0.0})
    return pd.DataFrame(rows).sort_values(["claim", "t"]).reset_index(drop=True)


def path_needed(effects: pd.DataFrame) -> pd.DataFrame:
    """How far along the path each claim's effect is first reached, by direct simulation.

    ``t_needed`` interpolates linearly between the two simulated points around the crossing
    (1 = the fully aligned settings; NaN: not reached even where every lever's range ends);
    ``t_range`` brackets it with the points where the CI first and last straddles the claim.
    """
    rows = []
    for claim in CLAIMS:
        if claim.change is None:
            continue
        data = effects[effects["claim"] == claim.id].sort_values("t")
        t, change = data["t"].to_numpy(), data["change"].to_numpy()
        reached = _reached(change, claim.change)
        possible = _reached(np.where(claim.direction > 0, data["ci_high"], data["ci_low"]), claim.change)
        certain = _reached(np.where(claim.direction > 0, data["ci_low"], data["ci_high"]), claim.change)
        t_needed = np.nan
        if reached.any():
            i = int(np.flatnonzero(reached)[0])
            t_needed = float(t[0]) if i == 0 else float(np.interp(claim.change * claim.direction,
                                                                     [change[i - 1] * claim.direction, change[i] * claim.direction],
                                                                     [t[i - 1], t[i]]))
        at_one = data.loc[np.isclose(data["t"], 1.0), "change"]
        rows.append(
            {
                "claim": claim.id,
                "claimed": claim.change,
                "model_at_fully_aligned": float(at_one.iloc[0]) if len(at_one) else np.nan,
                "t_needed": t_needed,
                "t_low": float(t[np.flatnonzero(possible)[0]]) if possible.any() else np.nan,
                "t_high": float(t[np.flatnonzero(certain)[0]]) if certain.any() else np.nan,
                "most_on_path": float(change.max() if claim.direction > 0 else change.min()),
            }
        )
    return pd.DataFrame(rows)


def _as_change(value: float, surface: ResponseSurface) -> float:
    """A surface change as the claim's relative change (growth: the growth factors' ratio)."""
    return math.expm1(value) if surface.transform == "absolute" else float(value)


def single_lever_needed(
    claim: Claim,
    surface: ResponseSurface,
    start: dict[str, Any],
    end: dict[str, Any],
    bounds: dict[str, tuple[Any, Any] | list[Any]],
    steps: int = 201,
) -> pd.DataFrame:
    """For each lever moved alone from ``start`` toward ``end`` and on to the end of its range:
    the value at which the claim's effect is reached (NaN if never), and the most it gives."""
    target = _target(claim, surface)
    rows = []
    for lever in surface.levers:
        a, b = start[lever.key], end[lever.key]
        if lever.scale == "switch":
            values = [a, b] if a != b else [a]
        else:
            low, high = bounds[lever.key]
            edge = high if (b if b != a else high) >= a else low
            if lever.scale == "log":
                values = list(np.exp(np.linspace(np.log(a), np.log(edge), steps)))
            else:
                values = list(np.linspace(a, edge, steps))
        grid = pd.DataFrame([{**start, lever.key: v} for v in values])
        change = surface.change(grid, start)["estimate"].to_numpy()
        hit = np.flatnonzero(_reached(change, target))
        best = change.max() if target >= 0 else change.min()
        rows.append(
            {
                "claim": claim.id,
                "lever": lever.key,
                "from": a,
                "needed": values[hit[0]] if len(hit) else None,
                "best_alone": _as_change(best, surface),
                "range_end": values[-1],
            }
        )
    table = pd.DataFrame(rows)
    order = table["needed"].notna().astype(int) * 10 + table["best_alone"].abs() / (1 + table["best_alone"].abs())
    return table.loc[order.sort_values(ascending=False).index].reset_index(drop=True)


def as_overrides(settings: dict[str, Any]) -> list[str]:
    """Lever settings as ``--set`` overrides (whole numbers where the scenario wants them)."""
    out = []
    for key, value in settings.items():
        if isinstance(value, (bool, np.bool_)):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = value
        elif expects_integer(key):
            text = str(int(round(float(value))))
        else:
            text = f"{float(value):.6g}"
        out.append(f"{key}={text}")
    return out


def claims_summary(table: pd.DataFrame, needed: pd.DataFrame) -> list[str]:
    """Plain-language sentences for the top of the report, one per finding."""
    comparable = table[table["verdict"] != "not comparable"]
    counts = comparable["verdict"].value_counts()
    lines = [
        f"Of {len(comparable)} comparable published claims, {counts.get(_INSIDE, 0)} fall inside "
        f"the model's 95% CI for the same comparison, the model gives a larger effect for "
        f"{counts.get('model gives a larger effect', 0)}, a smaller one for {counts.get('model gives a smaller effect', 0)} "
        f"and points the other way for {counts.get('model points the other way', 0)}."
    ]
    reached = needed[needed["t_needed"].notna()]
    if len(reached):
        r = reached.sort_values("t_needed")
        lines.append(
            "Moving every alignment lever together, the claimed effects are reached between "
            f"{r['t_needed'].min():.2f} and {r['t_needed'].max():.2f} of the way from fully misaligned to fully aligned "
            f"(1 = fully aligned): first '{r['claim'].iloc[0]}', last '{r['claim'].iloc[-1]}'."
        )
    missing = needed[needed["t_needed"].isna()]
    for row in missing.itertuples():
        lines.append(
            f"'{row.claim}' ({row.claimed:+.0%}) is not reached anywhere on the path, not even where every lever's "
            f"range ends: the most the path gives is {row.most_on_path:+.0%}."
        )
    return lines


def single_lever_summary(single: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: the levers that reach it alone (with the value needed), else the strongest."""
    rows = []
    for claim, data in single.groupby("claim", sort=False):
        able = [r for r in data.to_dict("records") if pd.notna(r["needed"])]
        strongest = data.loc[data["best_alone"].abs().idxmax()]
        rows.append(
            {
                "claim": claim,
                "levers_that_reach_it_alone": "; ".join(
                    f"{r['lever']} {_short(r['from'])}→{_short(r['needed'])}" for r in able
                ) or "none",
                "strongest_lever_alone": strongest["lever"],
                "its_most": strongest["best_alone"],
            }
        )
    return pd.DataFrame(rows)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)

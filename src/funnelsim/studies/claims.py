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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from funnelsim.config.levers import alignment_levers, staffing_levers
from funnelsim.config.lever_values import as_overrides, lever_settings, value_between
from funnelsim.config.loading import parse_override, set_path
from funnelsim.config.schema import Scenario, scenario_from_dict
from funnelsim.experiments.sweeps import Sweep, SweepPoint
from funnelsim.model.maths import MONTHS_PER_YEAR, share_lost_within_months
from funnelsim.stats.analysis import compare_scenarios
from funnelsim.stats.measures import add_rates, growth_after_change, mean_ci
from funnelsim.stats.response import Lever, ResponseSurface
from funnelsim.studies.targets import DEFAULT_TARGETS, Target, load_targets

__all__ = [
    "Claim",
    "CLAIMS",
    "load_claims",
    "ALIGNMENT_LEVERS",
    "Role",
    "add_claim_kpis",
    "lever_bounds",
    "path_settings",
    "claims_against_model",
    "fit_surfaces",
    "path_sweep",
    "path_effects",
    "path_needed",
    "single_lever_needed",
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

    @classmethod
    def from_target(cls, target: Target) -> "Claim":
        reference: Role = "typical" if target.compare and target.compare[1] == "typical" else "misaligned"
        trust = target.trust + (f": {target.trust_note}" if target.trust_note else "")
        change = target.figure if target.comparable else None
        return cls(target.id, target.source, trust, target.statement, target.metric, change, reference, target.measured)


def load_claims(path: str | Path = DEFAULT_TARGETS) -> list[Claim]:
    """The alignment claims of a targets file (``params/targets/published.yaml`` by default)."""
    return [Claim.from_target(t) for t in load_targets(path).claims]


CLAIMS: list[Claim] = load_claims()

# The levers the assessment moves, on the scale their effect is modelled on (the lever registry),
# then the team sizes: each maturity level is staffed for its own lead flow (capacity, not alignment).
ALIGNMENT_LEVERS: list[Lever] = [Lever(entry.key, entry.scale, entry.on) for entry in (*alignment_levers(), *staffing_levers())]


def add_claim_kpis(runs: pd.DataFrame, stayed: str | None = None) -> pd.DataFrame:
    """The runs table plus the KPIs the claims need: the stage rates and, given the ``stayed``
    company, ``transition_growth``: each run's first-year revenue growth had the stayed company
    (same replication) changed to it (``measures.growth_after_change``)."""
    out = add_rates(runs)
    if stayed is None:
        return out
    old = out.loc[out["scenario"] == stayed].set_index("replication")["revenue"]
    out["transition_growth"] = growth_after_change(out["revenue"], out["replication"].map(old), out["monthly_churn"])
    return out


_INSIDE = "claim inside the model's CI"


def _status(claimed: float, low: float, high: float) -> str:
    if low <= claimed <= high:
        return _INSIDE
    if np.sign(claimed) != np.sign((low + high) / 2) and not low <= 0 <= high:
        return "model points the other way"
    return "model gives a larger effect" if abs((low + high) / 2) > abs(claimed) else "model gives a smaller effect"


def claims_against_model(effects: pd.DataFrame) -> pd.DataFrame:
    """Each claim beside the model's effect for the same comparison, with its CI and a verdict.

    The model's effect is the path's point ``t = 1`` (the fully aligned settings) against the
    claim's reference (``path_effects``); growth claims, the first year of a company that changes.
    """
    rows = []
    for claim in CLAIMS:
        model = effects[(effects["claim"] == claim.id) & np.isclose(effects["t"], 1.0)].iloc[0]
        comparison = f"fully aligned vs {'the typical company' if claim.reference == 'typical' else 'fully misaligned'}"
        if claim.kpi == "transition_growth":
            comparison = "a fully misaligned company that becomes fully aligned, its first year"
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


# --- how large the levers would have to be -------------------------------------------------


def lever_bounds(sweep: Sweep) -> dict[str, tuple[Any, Any] | list[Any]]:
    """Each lever's swept range (low, high), or its list of values: where the surface is valid."""
    bounds: dict[str, tuple[Any, Any] | list[Any]] = {}
    for key, factor in sweep.definition["factors"].items():
        bounds[key] = (factor["low"], factor["high"]) if isinstance(factor, dict) else list(factor)
    return bounds


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
    shares = [float(share) for share in np.asarray(t, float)]
    columns: dict[str, Any] = {}
    for lever in levers:
        a, b = start[lever.key], end[lever.key]
        values = [value_between(a, b, share, lever.scale) for share in shares]  # the two scenarios exactly
        if lever.scale == "switch" or a == b:
            columns[lever.key] = values
            continue
        low, high = bounds[lever.key]
        columns[lever.key] = np.clip(np.array(values, float), low, high)
    return pd.DataFrame(columns)


def fit_surfaces(sweep_runs: pd.DataFrame, levers: list[Lever], interactions: bool = False) -> dict[str, ResponseSurface]:
    """One response surface per KPI the claims use, on the log scale. Growth after a change is
    read off the revenue surface (``growth_after_change`` is a multiple of the revenue ratio)."""
    surfaces = {}
    for kpi in sorted({c.kpi for c in CLAIMS}):
        surfaces[kpi] = ResponseSurface.fit(sweep_runs, "revenue" if kpi == "transition_growth" else kpi, levers, "relative", interactions)
    return surfaces


def first_year_share(monthly_churn: float) -> float:
    """The share of the way to a new steady state a company's revenue moves in a year."""
    return float(share_lost_within_months(MONTHS_PER_YEAR, monthly_churn))


def _target(claim: Claim, surface: ResponseSurface, growth_share: float) -> float:
    """The claimed change on the surface's scale (growth: the revenue change it takes)."""
    assert claim.change is not None
    return claim.change / growth_share if claim.kpi == "transition_growth" else claim.change


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
    keys = [lever.key for lever in levers]
    start, end = lever_settings(misaligned, keys), lever_settings(aligned, keys)
    settings = path_settings(start, end, np.asarray(t_values, float), levers, bounds)
    base = misaligned.model_dump(mode="json", by_alias=True)
    points = [SweepPoint(0, {"scenario": typical.name, "t": float("nan")}, typical)]
    for i, (t, row) in enumerate(zip(t_values, settings.to_dict("records")), start=1):
        data = copy.deepcopy(base)
        for override in as_overrides({key: row[key] for key in keys}):
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
    t_of = path.drop_duplicates("scenario").set_index("scenario")["t"]
    for claim in CLAIMS:
        reference = typical if claim.reference == "typical" else misaligned
        if claim.kpi == "transition_growth":  # already a change from the misaligned company
            for name, group in path[path["scenario"] != misaligned].groupby("scenario", sort=False):
                m = mean_ci(group["transition_growth"], confidence)
                rows.append({"claim": claim.id, "kpi": claim.kpi, "t": float(t_of[name]), "change": m.value,
                             "ci_low": m.low, "ci_high": m.high})
            rows.append({"claim": claim.id, "kpi": claim.kpi, "t": 0.0, "change": 0.0, "ci_low": 0.0, "ci_high": 0.0})
            continue
        data = pd.concat([runs[runs["scenario"] == reference], path[path["scenario"] != reference]])
        table = compare_scenarios(data, claim.kpi, reference, paired=True, confidence=confidence).table
        for r in table.itertuples():
            rows.append({"claim": claim.id, "kpi": claim.kpi, "t": float(t_of[r.scenario]), "change": r.relative,
                         "ci_low": r.relative_ci_low, "ci_high": r.relative_ci_high})
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


def _as_change(value: float, claim: Claim, growth_share: float) -> float:
    """A surface change as the claim's change (growth after a change: from the revenue change)."""
    return float(value) * growth_share if claim.kpi == "transition_growth" else float(value)


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
    growth_share = first_year_share(start.get("customers.monthly_churn", 0.0)) if claim.kpi == "transition_growth" else 1.0
    target = _target(claim, surface, growth_share)
    paths = {}  # each lever's values, moved alone
    for lever in surface.levers:
        a, b = start[lever.key], end[lever.key]
        if lever.scale == "switch":
            paths[lever.key] = [a, b] if a != b else [a]
        else:
            low, high = bounds[lever.key]
            edge = high if (b if b != a else high) >= a else low
            if lever.scale == "log":
                paths[lever.key] = list(np.exp(np.linspace(np.log(a), np.log(edge), steps)))
            else:
                paths[lever.key] = list(np.linspace(a, edge, steps))
    grids = [pd.DataFrame([{**start, key: v} for v in values]) for key, values in paths.items()]
    changes = surface.change_each(grids, start)
    rows = []
    for lever, changed in zip(surface.levers, changes):
        a, values = start[lever.key], paths[lever.key]
        change = changed["estimate"].to_numpy()
        hit = np.flatnonzero(_reached(change, target))
        best = change.max() if target >= 0 else change.min()
        rows.append(
            {
                "claim": claim.id,
                "lever": lever.key,
                "from": a,
                "needed": values[hit[0]] if len(hit) else None,
                "best_alone": _as_change(best, claim, growth_share),
                "range_end": values[-1],
            }
        )
    table = pd.DataFrame(rows)
    order = table["needed"].notna().astype(int) * 10 + table["best_alone"].abs() / (1 + table["best_alone"].abs())
    return table.loc[order.sort_values(ascending=False).index].reset_index(drop=True)


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
        strongest = data.iloc[data["best_alone"].abs().argmax()]
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

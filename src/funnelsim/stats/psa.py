"""How sure are we? An effect's range across plausible models, beside its simulation noise.

Every simulated effect carries two kinds of doubt, and decision modellers keep them apart:

* **Simulation noise** (stochastic uncertainty): with the model's parameters fixed, another seed
  gives another answer. More replications shrink it; the confidence intervals in every other
  table of funnelsim measure only this.
* **Parameter uncertainty**: the published evidence leaves many parameter sets standing (the
  evidence ensemble, ``params/ensemble/evidence.csv``), and each gives a different effect. More
  replications do not shrink it; only better evidence (or a company's own measurements) does.

A probabilistic sensitivity analysis (PSA) simulates every option under many *draws* of the
parameters (ensemble members), a few replications each. This module turns those runs into the
numbers a decision needs; it is pure statistics on a tidy table and knows nothing of the model.

The input is one row per (draw, scenario, replication) with a column per KPI. Within a draw
and replication every scenario shares its random numbers with the reference (common random
numbers), so effects are *paired*: for each draw ``d`` and replication ``r`` the effect is
``y[s, d, r] / y[ref, d, r] - 1`` (a relative change) or ``y[s, d, r] - y[ref, d, r]``.

For each scenario and KPI, ``summarise_effects`` gives:

* ``mean``: the mean over draws of each draw's mean effect (every draw weighs the same);
* ``noise_low``/``noise_high``: the simulation-noise confidence interval of that mean. The
  noise variance is the within-draw variance of the paired effects pooled over draws
  (``s²``, with ``sum(n_d - 1)`` degrees of freedom), so the interval is
  ``mean ± t(df) · sqrt(s² · mean(1/n_d) / D)``: what more replications would shrink;
* ``range_low``/``range_high``: the 95% range across plausible models: the 2.5th and 97.5th
  percentiles of the mixture, over draws, of each draw's effect with its simulation noise
  (a t distribution centred on the draw's mean effect, scale ``s / sqrt(n_d)``, ``df`` as
  above). With **one** draw the mixture is that one t distribution, and the range **equals the
  simulation-noise CI exactly**; with many draws it widens by how much the draws disagree. Each
  draw's mean already carries its noise once, so the range counts noise twice and errs on the
  wide side by at most the noise (``noise_share`` says how much of the spread that is);
* ``p_positive`` and ``p_above``: the probability, across plausible models and with each draw's
  simulation noise, that the effect is above zero and above a given threshold (the same
  mixture). ``share_of_draws_positive`` is the plain share of draws whose mean effect is
  positive, without the noise.

With one replication per draw there is no within-draw noise estimate: the noise interval is
left empty and the range is the plain percentiles of the draws' effects (noise included once).

``payback_effects`` turns the same runs into a yearly net benefit: what a scenario earns a year
over the reference (the gross margin on its revenue, say), less its annual cost; its
``p_positive`` is the probability that the option pays back its cost within a year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "EFFECT_COLUMNS",
    "draw_means",
    "mixture_exceedance",
    "mixture_quantiles",
    "paired_effects",
    "payback_effects",
    "reach_probability",
    "summarise_effects",
]

# The columns of the table ``summarise_effects`` returns, with what each means.
EFFECT_COLUMNS: dict[str, str] = {
    "scenario": "the option compared with the reference",
    "kpi": "the KPI (or 'net benefit per year' for the payback)",
    "scale": "relative: effect as a share of the reference's value; absolute: a difference in the KPI's unit",
    "mean": "mean effect over the draws (each draw's mean over its replications)",
    "noise_low": "simulation-noise 95% CI of the mean: low end",
    "noise_high": "simulation-noise 95% CI of the mean: high end",
    "range_low": "95% range across plausible models (2.5th percentile, simulation noise included)",
    "range_high": "95% range across plausible models (97.5th percentile, simulation noise included)",
    "p_positive": "probability the effect is above zero, across plausible models",
    "threshold": "the threshold given for this KPI (empty: none)",
    "p_above": "probability the effect is above the threshold, across plausible models",
    "share_of_draws_positive": "share of draws whose mean effect is above zero (noise left out)",
    "noise_share": "share of the spread of the draws' effects that is simulation noise",
    "draws": "draws with at least one valid paired effect",
    "replications": "paired effects in all (over draws and replications)",
    "noise_df": "degrees of freedom of the pooled simulation-noise variance",
}


def paired_effects(
    runs: pd.DataFrame,
    reference: str,
    kpis: Sequence[str],
    relative: bool = True,
    draw: str = "draw",
    scenario: str = "scenario",
    replication: str = "replication",
) -> pd.DataFrame:
    """One row per (draw, scenario, replication, kpi): the effect of the scenario against
    ``reference`` in the same draw and replication (common random numbers).

    ``relative`` gives ``y / y_ref - 1`` (undefined, so NaN, where the reference is zero or
    either value is missing); otherwise ``y - y_ref``. The reference's own rows are left out.
    """
    missing = [c for c in (draw, scenario, replication, *kpis) if c not in runs.columns]
    if missing:
        raise KeyError(f"the runs table has no column {missing[0]!r}")
    if reference not in set(runs[scenario]):
        raise KeyError(f"no runs of the reference scenario {reference!r}")
    keys = [draw, replication]
    ref = runs.loc[runs[scenario] == reference, [*keys, *kpis]]
    if ref.duplicated(keys).any():
        raise ValueError(f"the reference {reference!r} has more than one run per draw and replication")
    others = runs.loc[runs[scenario] != reference, [*keys, scenario, *kpis]]
    paired = others.merge(ref, on=keys, how="inner", suffixes=("", "__ref"))
    frames = []
    for kpi in kpis:
        y = paired[kpi].to_numpy(float)
        y_ref = paired[f"{kpi}__ref"].to_numpy(float)
        if relative:
            with np.errstate(divide="ignore", invalid="ignore"):
                effect = np.where(y_ref != 0, y / y_ref - 1.0, np.nan)
        else:
            effect = y - y_ref
        frames.append(pd.DataFrame({
            "draw": paired[draw].to_numpy(),
            "scenario": paired[scenario].to_numpy(),
            "replication": paired[replication].to_numpy(),
            "kpi": kpi,
            "scale": "relative" if relative else "absolute",
            "effect": effect,
        }))
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["scenario", "kpi", "draw", "replication"], kind="stable").reset_index(drop=True)


def payback_effects(
    runs: pd.DataFrame,
    reference: str,
    annual_cost: Mapping[str, float],
    value: str = "value_per_year",
    draw: str = "draw",
    scenario: str = "scenario",
    replication: str = "replication",
) -> pd.DataFrame:
    """The yearly net benefit of each scenario over ``reference``, per draw and replication:
    ``value - value_ref - annual_cost``.

    ``value`` is a column of what a run earns a year (say, the gross margin on its revenue less
    what its teams and leads cost, per year of the window after warm-up); ``annual_cost`` is what
    choosing the scenario costs a year beyond that (missing scenarios: nothing). Same layout as
    ``paired_effects``, with ``kpi`` 'net benefit per year'; its ``p_positive`` in
    ``summarise_effects`` is the probability that the option pays back its cost within a year.
    """
    effects = paired_effects(runs, reference, [value], relative=False, draw=draw, scenario=scenario,
                             replication=replication)
    costs = effects["scenario"].map(lambda s: float(annual_cost.get(s, 0.0)))
    effects["effect"] = effects["effect"] - costs
    effects["kpi"] = "net benefit per year"
    return effects


def draw_means(effects: pd.DataFrame) -> pd.DataFrame:
    """Each draw's mean effect, per scenario and KPI (``n``: its valid replications)."""
    valid = effects[np.isfinite(effects["effect"].to_numpy(float))]
    grouped = valid.groupby(["scenario", "kpi", "draw"], sort=True)["effect"]
    return grouped.agg(effect="mean", variance="var", n="count").reset_index()


def _t_cdf(x: float, centres: np.ndarray, scales: np.ndarray, df: float) -> float:
    return float(np.mean(stats.t.cdf((x - centres) / scales, df)))


def mixture_quantiles(centres: np.ndarray, scales: np.ndarray, df: float, probabilities: Sequence[float]) -> list[float]:
    """Quantiles of an equal-weight mixture of t distributions (``df``) at ``centres`` with ``scales``.

    One component gives its own t quantiles exactly (``centre + t.ppf(p, df) * scale``); more
    are solved for numerically (Brent's method, to 1e-12 of the mixture's spread).
    """
    centres = np.asarray(centres, float)
    scales = np.asarray(scales, float)
    if len(centres) == 1:
        return [float(centres[0] + stats.t.ppf(p, df) * scales[0]) for p in probabilities]
    out = []
    for p in probabilities:
        reach = stats.t.ppf(max(p, 1 - p), df) * scales.max()
        low, high = centres.min() - 2 * reach - 1e-300, centres.max() + 2 * reach + 1e-300
        spread = max(high - low, 1e-300)
        out.append(float(optimize.brentq(lambda x, p=p: _t_cdf(x, centres, scales, df) - p, low, high,
                                         xtol=1e-12 * spread, rtol=1e-14)))
    return out


def mixture_exceedance(centres: np.ndarray, scales: np.ndarray, df: float, value: float) -> float:
    """P(X > value) for the equal-weight mixture of t distributions of ``mixture_quantiles``."""
    return 1.0 - _t_cdf(value, np.asarray(centres, float), np.asarray(scales, float), df)


def _summary_row(draws: pd.DataFrame, threshold: float | None, level: float) -> dict[str, float]:
    centres = draws["effect"].to_numpy(float)
    n = draws["n"].to_numpy(float)
    variance = draws["variance"].to_numpy(float)
    df = float(np.sum(n - 1))
    count = len(centres)
    mean = float(np.mean(centres))
    tail = (1 - level) / 2
    row: dict[str, float] = {"mean": mean, "draws": count, "replications": int(n.sum()), "noise_df": df,
                             "share_of_draws_positive": float(np.mean(centres > 0))}
    if df > 0:
        pooled = float(np.nansum((n - 1) * variance) / df)
        se = math.sqrt(pooled * float(np.mean(1 / n)) / count)
        half = float(stats.t.ppf(1 - tail, df)) * se
        row["noise_low"], row["noise_high"] = mean - half, mean + half
        scales = np.sqrt(pooled / n)
        if pooled > 0:
            row["range_low"], row["range_high"] = mixture_quantiles(centres, scales, df, [tail, 1 - tail])
            row["p_positive"] = mixture_exceedance(centres, scales, df, 0.0)
            if threshold is not None:
                row["p_above"] = mixture_exceedance(centres, scales, df, threshold)
        else:  # no noise at all (a deterministic KPI): the plain draws
            row.update(_plain(centres, threshold, tail))
        spread = float(np.var(centres, ddof=1)) if count > 1 else float("nan")
        row["noise_share"] = min(1.0, pooled * float(np.mean(1 / n)) / spread) if spread and spread > 0 else float("nan")
    else:
        row["noise_low"] = row["noise_high"] = row["noise_share"] = float("nan")
        row.update(_plain(centres, threshold, tail))
    return row


def _plain(centres: np.ndarray, threshold: float | None, tail: float) -> dict[str, float]:
    """Percentiles and shares of the draws' effects themselves (no separate noise estimate)."""
    low, high = np.quantile(centres, [tail, 1 - tail])
    row = {"range_low": float(low), "range_high": float(high), "p_positive": float(np.mean(centres > 0))}
    if threshold is not None:
        row["p_above"] = float(np.mean(centres > threshold))
    return row


def summarise_effects(
    effects: pd.DataFrame, thresholds: Mapping[str, float] | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Per scenario and KPI: mean effect, simulation-noise CI, range across plausible models,
    and the probabilities of a positive effect and of one above ``thresholds[kpi]``.

    ``effects`` is the table of ``paired_effects`` or ``payback_effects``; ``level`` sets both the
    CI and the range (0.95: the 2.5th to 97.5th percentiles). See the module's docstring.
    """
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    thresholds = dict(thresholds or {})
    per_draw = draw_means(effects)
    firsts = effects.drop_duplicates(["scenario", "kpi"])
    scales = {(str(s), str(k)): str(v) for s, k, v in zip(firsts["scenario"], firsts["kpi"], firsts["scale"])}
    rows = []
    for (scenario, kpi), draws in per_draw.groupby(["scenario", "kpi"], sort=False):
        threshold = thresholds.get(str(kpi))
        row = {"scenario": scenario, "kpi": kpi, "scale": scales[(str(scenario), str(kpi))],
               "threshold": np.nan if threshold is None else float(threshold)}
        row.update(_summary_row(draws, threshold, level))
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    return table


def reach_probability(effects: pd.DataFrame, target: float, level: float = 0.95) -> pd.DataFrame:
    """Per scenario and KPI of ``effects`` (``paired_effects``): the probability, across plausible
    models and with each draw's simulation noise (the mixture of ``summarise_effects``), that the
    effect reaches ``target``: is at least ``target`` when it is 0 or more (a rise), at most
    ``target`` when it is below 0 (a cut, e.g. -0.2 for 20% lower CAC)."""
    kpis = effects["kpi"].unique()
    summary = summarise_effects(effects, {str(k): float(target) for k in kpis}, level)
    above = summary["p_above"].to_numpy(float)
    return pd.DataFrame({"scenario": summary["scenario"], "kpi": summary["kpi"],
                         "target": float(target), "p_reach": above if target >= 0 else 1.0 - above})

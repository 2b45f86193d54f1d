"""Which lever matters: a metamodel of one KPI over a sweep of lever settings.

* ``fit_metamodel``: an OLS (or Poisson GLM for counts) over a sweep with each lever's own
  effect and the two-way interplays the design can tell apart (``design_terms``), replication
  fixed effects, robust standard errors (HC3; HC1 for counts), and (worked out when first read)
  an ANOVA table and a lack-of-fit test;
* ``lever_effects``: each lever's effect in business units, per unit and over its range in the
  sweep, ranked for a tornado chart, as an ``Estimate``.

Every statistic comes from statsmodels, the design from its formula API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

from funnelsim.stats.analysis import Estimate, kpi_unit, signed_change
from funnelsim.stats.design_terms import DesignTerms, estimable_terms

__all__ = ["Metamodel", "fit_metamodel", "lever_effects"]


def _alias(names: list[str]) -> dict[str, str]:
    """Formula-safe names (x0, x1, ...) for factor columns like ``sdr_team.reps``."""
    return {name: f"x{i}" for i, name in enumerate(names)}


@dataclass
class Metamodel:
    """A fitted response surface of one KPI over a sweep's factors.

    The ANOVA table and the lack-of-fit test are worked out the first time they are read: a
    surface used only to predict (the claims check, a plan's ranking) never needs them."""

    kpi: str
    factors: list[str]
    aliases: dict[str, str]
    fit: Any  # statsmodels' results (OLS or GLM): statsmodels ships no types
    ols: Any  # the plain OLS fit (the same as ``fit`` but for its errors) the ANOVA and lack of fit come from
    data: pd.DataFrame
    family: str
    design: DesignTerms  # the terms the sweep's design can tell apart (in formula names)
    paired: bool  # each replication has a fixed effect of its own (the pairing)

    @cached_property
    def anova(self) -> pd.DataFrame:
        """Type II ANOVA of the OLS fit, a row per term in the factors' own names."""
        anova = sm.stats.anova_lm(self.ols, typ=2).reset_index().rename(columns={"index": "term"})
        anova["term"] = anova["term"].map(self._named)
        return anova

    @cached_property
    def lack_of_fit(self) -> float | None:
        """p-value of the F-test against one mean per point; None: not testable."""
        return _lack_of_fit(self.ols, self.data, list(self.aliases.values()), self.design,
                            " + C(replication)" if self.paired else "")

    def _named(self, term: str) -> str:
        """A formula term in the factors' own names (an interplay stays "a:b")."""
        back = {v: k for k, v in self.aliases.items()}
        return re.sub(r"\bx\d+\b", lambda m: back[m.group(0)], term)

    def readable(self, term: str) -> str:
        """A formula term in the factors' own names, an interplay as "a × b"."""
        return self._named(term).replace(":", " × ")

    def coefficients(self) -> pd.DataFrame:
        ci = self.fit.conf_int()
        rows = []
        for term in self.fit.params.index:
            rows.append(
                {
                    "term": self.readable(term),
                    "estimate": float(self.fit.params[term]),
                    "ci_low": float(ci.loc[term, 0]),
                    "ci_high": float(ci.loc[term, 1]),
                    "p_value": float(self.fit.pvalues[term]),
                }
            )
        return pd.DataFrame(rows)

    def confounding(self) -> pd.DataFrame:
        """Each fitted term the design cannot tell apart from others: ``term``, ``also_contains``
        (the hidden terms, each "+" or "−" and its weight on the −1..+1 coded scale when not 1)
        and ``hidden`` (the hidden terms' names)."""
        rows = []
        for term, hidden in (self.design.confounded if self.design else {}).items():
            parts = []
            for weight, other in hidden:
                size = "" if abs(abs(weight) - 1) < 1e-6 else f"{abs(weight):.2g} "
                parts.append(f"{'+' if weight > 0 else '−'} {size}{self.readable(':'.join(other))}")
            rows.append({"term": self.readable(":".join(term)), "also_contains": ", ".join(parts),
                         "hidden": [self.readable(":".join(other)) for _, other in hidden]})
        return pd.DataFrame(rows, columns=["term", "also_contains", "hidden"])


def fit_metamodel(
    runs: pd.DataFrame,
    kpi: str,
    factors: list[str],
    interactions: bool = True,
    family: str = "auto",
) -> Metamodel:
    """Regress ``kpi`` on the factors (and the two-way interactions the design can tell apart)
    over a sweep.

    The terms come from the design (``design_terms.estimable_terms``): a term the design
    aliases with another is not fitted, and ``Metamodel.confounding`` says which fitted term it
    hides in. Replication *r* of every point shares its random numbers, so each replication gets
    a fixed effect (the pairing), and standard errors are heteroscedasticity-robust (HC3; HC1
    for the GLM). ``family='auto'`` uses a Poisson GLM (log link) for count KPIs and OLS
    otherwise; the ANOVA table (type II) and the lack-of-fit test (against one mean per point,
    when the design has points to spare) always come from the OLS fit.
    """
    aliases = _alias(factors)
    data = runs[[*factors, "replication", kpi]].dropna().rename(columns={**aliases, kpi: "y"})
    for alias in aliases.values():
        if data[alias].dtype == bool or data[alias].dtype == object:
            data[alias] = data[alias].astype(float)
    design = estimable_terms(data[list(aliases.values())], interactions)
    rhs = design.formula()
    replications = " + C(replication)" if data["replication"].nunique() > 1 else ""
    if family == "auto":
        family = "poisson" if kpi_unit(kpi) == "count" else "ols"
    model = smf.ols(f"y ~ {rhs}{replications}", data)
    ols = model.fit()
    if ols.df_resid < 1:
        raise ValueError(
            f"the metamodel of {kpi} has {len(ols.params)} coefficients but only {int(ols.nobs)} runs: "
            "add sweep points or replications, or drop interactions"
        )
    if family == "poisson":
        fit = smf.glm(f"y ~ {rhs}{replications}", data, family=sm.families.Poisson()).fit(cov_type="HC1")
    else:
        fit = model.fit(cov_type="HC3")
    return Metamodel(kpi, factors, aliases, fit, ols, data, family, design, paired=bool(replications))


def _lack_of_fit(ols: Any, data: pd.DataFrame, levers: list[str], design: DesignTerms, replications: str) -> float | None:
    """The classic lack-of-fit F-test: the metamodel against one free mean per point (same
    replication effects). None when the design has no point to spare or nothing is left to
    measure the noise by."""
    if design.saturated:
        return None
    point = data.groupby(levers, sort=False).ngroup()
    if len(data) <= point.nunique() + (data["replication"].nunique() - 1 if replications else 0):
        return None  # one mean per point leaves nothing to measure the noise by
    full = smf.ols(f"y ~ C(point){replications}", data.assign(point=point.to_numpy())).fit()
    if full.df_resid < 1 or full.df_model <= ols.df_model:
        return None
    table = sm.stats.anova_lm(ols, full)
    return float(table["Pr(>F)"].iloc[1])


def lever_effects(model: Metamodel, confidence: float = 0.95) -> Estimate:
    """Each lever's effect on the KPI in business units, ranked by swing (for a tornado chart).

    ``per_unit`` is the change in the KPI per unit of the lever, at the average setting of the
    other levers (their interactions included). ``swing`` is the change from the lowest to
    the highest value of the lever in the sweep. For a Poisson metamodel the effects are on
    the KPI's scale, at the average prediction.
    """
    data, fit = model.data, model.fit
    means = {alias: float(data[alias].mean()) for alias in model.aliases.values()}
    names = list(fit.params.index)
    scale = float(np.mean(fit.predict(data))) if model.family == "poisson" else 1.0
    rows = []
    for factor, alias in model.aliases.items():
        contrast = np.zeros(len(names))
        for i, term in enumerate(names):
            parts = term.split(":")  # replication effects never contain a factor alias
            if alias not in parts:
                continue
            others = [p for p in parts if p != alias]
            contrast[i] = np.prod([means[o] for o in others]) if others else 1.0
        test = fit.t_test(contrast)
        low, high = np.asarray(test.conf_int(alpha=1 - confidence)).ravel()
        per_unit = float(np.asarray(test.effect).ravel()[0])
        span = float(data[alias].max() - data[alias].min())
        rows.append(
            {
                "lever": factor,
                "per_unit": per_unit * scale,
                "ci_low": low * scale,
                "ci_high": high * scale,
                "p_value": float(np.asarray(test.pvalue).ravel()[0]),
                "low": float(data[alias].min()),
                "high": float(data[alias].max()),
                "swing": per_unit * scale * span,
                "swing_ci_low": low * scale * span,
                "swing_ci_high": high * scale * span,
                "n": len(data),
            }
        )
    table = pd.DataFrame(rows)
    table = table.reindex(table["swing"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    top = table.iloc[0]
    unit = kpi_unit(model.kpi)
    sentence = (
        f"Across the sweep, '{top.lever}' moves {model.kpi} the most: {signed_change(top.swing, unit)} from "
        f"{top.low:.3g} to {top.high:.3g} ({confidence:.0%} CI {signed_change(top.swing_ci_low, unit)} to "
        f"{signed_change(top.swing_ci_high, unit)}), i.e. {signed_change(top.per_unit, unit)} per unit."
    )
    return Estimate(table, sentence)

"""Fitting the reach: how far the signs of alignment go for the model to differ as the surveys do.

Two surveys of real firms measured what alignment is worth in the funnel (the targets file's
medium-trust claims that compare fully aligned with fully misaligned firms on deals and lead
conversion): MathMarketing, 38% more proposals won; Miller Heiman, lead conversion 29% against
24%. For each reach on a grid, the model's two ends are built as the assessment builds them
(every answer "no", every answer "yes", each lever that share of the way from the typical
company, each company staffed for its own lead flow) and compared with common random numbers:
one paired log ratio per replication and figure. A quadratic in the reach is fitted to those
ratios (statsmodels OLS) for each figure; the reach that meets a figure is where the fitted
curve crosses it, and the reaches simulation noise cannot rule out are those where the curve's
95% confidence band contains it. The reach the assessment uses is the one closest to both
figures at once (least squares on the log ratios). See ``funnelsim.studies.reach``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from funnelsim.config.schema import Scenario, with_settings
from funnelsim.experiments.experiment import compare_runs
from funnelsim.experiments.staffing import team_sizes
from funnelsim.stats.measures import add_rates
from funnelsim.studies.assessment import QUESTIONS, Assessment
from funnelsim.studies.reach import ReachFit, TargetReach
from funnelsim.studies.targets import Targets

__all__ = ["FITTED_TO", "GRID", "company_at", "paired_gaps", "fit_reach"]

FITTED_TO = ("mathmarketing_wins", "miller_heiman_conversion")  # the surveys' figures on the funnel
GRID = (0.0, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15)
_FINE = 601  # points on which the fitted curves are searched


def company_at(typical: Scenario, answer: float, reach: float, name: str) -> Scenario:
    """The company answering every question ``answer`` (0 = no, 1 = yes) at ``reach``, staffed for its flow."""
    settings = Assessment(name, {q: answer for q in QUESTIONS}).lever_settings(typical, reach)
    scenario = with_settings(typical, settings, name=name)
    return with_settings(scenario, team_sizes(scenario))


def paired_gaps(
    typical: Scenario, reach: float, metrics: list[str], replications: int, seed: int, workers: int = 1
) -> pd.DataFrame:
    """Fully aligned against fully misaligned at ``reach``: one row per replication and metric,
    with the log of the ratio aligned / misaligned (common random numbers, paired by replication)."""
    ends = [company_at(typical, 0.0, reach, "misaligned"), company_at(typical, 1.0, reach, "aligned")]
    runs = add_rates(compare_runs(ends, replications, seed, workers).replications)
    wide = runs.pivot(index="replication", columns="scenario", values=metrics)
    rows = [
        {"reach": reach, "metric": m, "replication": int(rep), "log_ratio": math.log(wide.loc[rep, (m, "aligned")] / wide.loc[rep, (m, "misaligned")])}
        for m in metrics
        for rep in wide.index
    ]
    return pd.DataFrame(rows)


def _crossing(grid: np.ndarray, curve: np.ndarray, level: float) -> float | None:
    """The first reach on ``grid`` where ``curve`` reaches ``level`` (linear between grid points)."""
    above = np.nonzero(np.diff(np.sign(curve - level)) != 0)[0]
    if (curve == level).any():
        return float(grid[np.argmax(curve == level)])
    if not len(above):
        return None
    i = int(above[0])
    return float(grid[i] + (level - curve[i]) * (grid[i + 1] - grid[i]) / (curve[i + 1] - curve[i]))


def fit_reach(
    typical: Scenario,
    targets: Targets,
    replications: int,
    seed: int,
    workers: int = 1,
    grid: tuple[float, ...] = GRID,
    command: str = "",
) -> tuple[ReachFit, pd.DataFrame]:
    """The reach that brings the model's two ends closest to the surveys; and every paired gap simulated."""
    claims = {t: targets.by_id(t) for t in FITTED_TO}
    figures = {t: c.figure for t, c in claims.items() if c.figure is not None}
    if len(figures) < len(claims):
        raise ValueError(f"the reach is fitted to published figures; these targets have none: {sorted(set(claims) - set(figures))}")
    metrics = [c.metric for c in claims.values()]
    gaps = pd.concat([paired_gaps(typical, r, metrics, replications, seed, workers) for r in grid], ignore_index=True)
    fine = np.linspace(min(grid), max(grid), _FINE)
    curves, fits = {}, {}
    for target_id, claim in claims.items():
        model = smf.ols("log_ratio ~ reach + I(reach ** 2)", data=gaps[gaps.metric == claim.metric]).fit()
        band = model.get_prediction(pd.DataFrame({"reach": fine})).summary_frame(alpha=0.05)
        level = math.log1p(figures[target_id])
        curves[target_id] = band["mean"].to_numpy() - level
        inside = fine[(band["mean_ci_lower"] <= level) & (level <= band["mean_ci_upper"])]
        fits[target_id] = TargetReach(
            figure=figures[target_id],
            reach=_rounded(_crossing(fine, band["mean"].to_numpy(), level)),
            low=_rounded(float(inside.min())) if len(inside) else None,
            high=_rounded(float(inside.max())) if len(inside) else None,
        )
    misfit = sum(c**2 for c in curves.values())
    fit = ReachFit(
        reach=_rounded(float(fine[int(np.argmin(misfit))])) or 0.0,
        method=(
            "the reach (one share for every sign) at which fully aligned against fully misaligned comes closest "
            "to the surveys' figures: per figure, a quadratic in the reach fitted by OLS to the paired log ratios "
            "of the two ends (each staffed for its flow, common random numbers), then least squares across the "
            "figures; per figure, the reach its fitted curve meets and the reaches inside its 95% confidence band"
        ),
        command=command,
        seed=seed,
        replications=replications,
        grid=list(grid),
        targets=fits,
    )
    return fit, gaps


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)

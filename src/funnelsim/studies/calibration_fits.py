"""The statistical fits behind a calibration: durations, response-decay logits, the presence window.

Each fit turns columns of a CRM export into a parameter of the model with its 95% confidence
interval: how long a stage takes (lognormal, gamma or exponential, chosen by AIC), how the
chance of reaching or qualifying a lead falls with its age (a logit on the model's own decay
basis), and how long a new inquirer stays at the desk (a likelihood for the presence window).
When the data cannot pin a value down, a fit raises ``CannotEstimate`` saying why.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.base.model import GenericLikelihoodModel
from statsmodels.stats.weightstats import DescrStatsW
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from funnelsim.config.distributions import Lognormal
from funnelsim.config.schema import Scenario
from funnelsim.model.maths import (
    MINUTES_PER_HOUR,
    decay_basis,
    decay_slopes,
    logistic_array,
    presence_mix,
)

__all__ = ["CannotEstimate", "Centre", "FIT_WARNINGS", "PresenceCurve", "PresenceFit", "days_between", "decay_logit", "decay_multipliers", "fit_duration", "fitted_distribution", "null_loglike", "presence_fit", "safe_logit"]


def days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.total_seconds() / 86400.0


class CannotEstimate(Exception):
    """The data cannot pin a value down (no spread, a singular or separated fit); says why."""


FIT_WARNINGS = (ConvergenceWarning, HessianInversionWarning, PerfectSeparationWarning)


@dataclass(frozen=True)
class Centre:
    """The centre of fitted durations (their median or mean, or the one value) with its 95% CI."""

    what: str  # "median", "mean" or "value"
    value: float
    ci_low: float
    ci_high: float


def fit_duration(values: np.ndarray) -> tuple[dict[str, Any], str, Centre]:
    """The best of lognormal, gamma and exponential by AIC, with its KS test; the distribution
    as scenario settings, a fit note, and the mean with its CI. Values that never vary are a
    constant."""
    values = values[np.isfinite(values) & (values > 0)]
    if np.ptp(values) == 0:
        value = float(values[0])
        return ({"dist": "constant", "value": value}, f"every one of the {len(values)} values is {value:.4g}",
                Centre("value", value, value, value))
    candidates = {
        "lognormal": stats.lognorm, "gamma": stats.gamma, "exponential": stats.expon,
    }
    best = None
    for name, family in candidates.items():
        try:
            params = family.fit(values, floc=0)
        except (ValueError, RuntimeError, FloatingPointError):  # a family that cannot fit these values
            continue
        loglik = float(np.sum(family.logpdf(values, *params)))
        aic = 2 * (len(params) - 1) - 2 * loglik  # the location is fixed at 0
        if np.isfinite(aic) and (best is None or aic < best[2]):
            best = (name, params, aic)
    if best is None:
        raise CannotEstimate("no duration distribution fits these values")
    name, params, aic = best
    family = candidates[name]
    ks = stats.kstest(values, family.cdf, args=params)
    if name == "lognormal":
        logs = DescrStatsW(np.log(values))
        low, high = logs.tconfint_mean()
        median = float(np.exp(logs.mean))
        spec: dict[str, Any] = {"dist": "lognormal", "median": median, "sigma": float(logs.std)}
        centre = Centre("median", median, float(np.exp(low)), float(np.exp(high)))
    else:
        data = DescrStatsW(values)
        low, high = data.tconfint_mean()
        mean = float(data.mean)
        spec = (
            {"dist": "gamma", "mean": mean, "cv": float(1 / math.sqrt(params[0]))}
            if name == "gamma"
            else {"dist": "exponential", "mean": mean}
        )
        centre = Centre("mean", mean, float(low), float(high))
    fit = f"{name} by AIC among lognormal, gamma, exponential; KS D = {ks.statistic:.3f}, p = {ks.pvalue:.2g}"
    return spec, fit, centre


def decay_logit(age_hours: np.ndarray, outcome: np.ndarray, knots: list[float],
                 keep: np.ndarray | None = None) -> dict[str, Any]:
    """Logit of an outcome on the lead's age: the rate at age 0 and the odds multiplier at each knot.

    With ``keep`` (the chance each lead is still shopping; the rest have chosen a competitor and
    never qualify), the outcome's chance is keep(a) x logistic(b + curve(a))."""
    if len(age_hours) < 2:
        raise CannotEstimate("fewer than two leads to estimate from")
    if np.ptp(age_hours) == 0:
        raise CannotEstimate(f"every lead has the same age ({age_hours[0]:.3g} h; stages stamped at the same "
                              "instant?): the decay needs leads of different ages")
    if outcome.all() or not outcome.any():
        raise CannotEstimate(f"every one of the {len(outcome)} leads had the same outcome")
    basis = sm.add_constant(decay_basis(age_hours, knots), has_constant="add")
    try:
        with warnings.catch_warnings():
            for failure in FIT_WARNINGS:  # perfect separation and non-convergence are failures
                warnings.simplefilter("error", failure)
            if keep is None:
                fit = sm.Logit(outcome.astype(float), basis).fit(disp=0)
            else:
                start = np.zeros(basis.shape[1])
                start[0] = safe_logit(float(np.clip(outcome.mean() / max(keep.mean(), 1e-6), 0.01, 0.99)))
                fit = WindowedLogit(outcome.astype(float), basis, keep).fit(start_params=start, method="bfgs",
                                                                              maxiter=1000, disp=0)
                if not fit.mle_retvals.get("converged", False):
                    raise ValueError("the maximum-likelihood search did not converge")
    except (np.linalg.LinAlgError, PerfectSeparationError, ValueError, *FIT_WARNINGS) as exc:
        raise CannotEstimate(f"the logit fit failed ({str(exc)[:120] or type(exc).__name__}); the leads' ages "
                              "may not spread over the curve's knots") from None
    multipliers, lows, highs = decay_multipliers(fit, knots, first_slope=1)
    ci = np.asarray(fit.conf_int())
    if not (np.isfinite([*multipliers, *lows, *highs, fit.params[0], *ci[0]]).all() and min(lows) > 0):
        raise CannotEstimate("the logit fit gave no finite estimate (too few leads at some ages)")
    return {
        "intercept": float(fit.params[0]),
        "intercept_ci": (float(ci[0][0]), float(ci[0][1])),
        "multipliers": multipliers,
        "lows": lows,
        "highs": highs,
        "n": int(len(outcome)),
        "pseudo_r2": float(1 - fit.llf / null_loglike(outcome)),
    }


def decay_multipliers(fit: Any, knots: list[float], first_slope: int) -> tuple[list[float], list[float], list[float]]:
    """Odds multiplier (with 95% CI) at each knot of a fit whose per-hour slopes of the log odds,
    one per segment between knots, start at parameter ``first_slope``."""
    multipliers, lows, highs = [1.0], [1.0], [1.0]
    for j in range(1, len(knots)):
        contrast = np.zeros(len(fit.params))
        for i in range(j):
            contrast[first_slope + i] = knots[i + 1] - knots[i]
        test = fit.t_test(contrast)
        low, high = np.asarray(test.conf_int()).ravel()
        multipliers.append(float(np.exp(np.asarray(test.effect).ravel()[0])))
        lows.append(float(np.exp(low)))
        highs.append(float(np.exp(high)))
    return multipliers, lows, highs


class PresenceCurve(GenericLikelihoodModel):
    """The chance a first dial at age ``a`` reaches the lead, as the model has it: the inquirer
    is still at the desk with the presence window's survival S(a) and is then reached with
    ``p_present``; otherwise the dial is a cold call whose log odds are piecewise linear in age
    between the knots (the model's decay curve). Parameters: logit p_present, log median
    minutes, logit p_cold at age 0, then the log-odds slope of each segment (per hour)."""

    def __init__(self, endog: np.ndarray, exog: np.ndarray, sigma: float, knots: list[float], **kwargs: Any):
        super().__init__(endog, exog, **kwargs)
        self.sigma = sigma
        self.segments = decay_basis(exog[:, 0], knots)

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        present_p, log_median, cold_logit, *slopes = params
        minutes = np.maximum(self.exog[:, 0] * MINUTES_PER_HOUR, 1e-9)
        staying = stats.norm.sf((np.log(minutes) - log_median) / self.sigma)
        cold = logistic_array(cold_logit + self.segments @ np.asarray(slopes))
        p = np.clip(presence_mix(staying, logistic_array(present_p), cold), 1e-12, 1 - 1e-12)
        return self.endog * np.log(p) + (1 - self.endog) * np.log1p(-p)


@dataclass(frozen=True)
class PresenceFit:
    """The presence window and the cold-call curve, fitted together on first dials."""

    n: int
    contact_probability_present: tuple[float, float, float]  # estimate, 95% CI
    presence_median: tuple[float, float, float]  # minutes: estimate, 95% CI
    presence_sigma: float  # the window's spread, kept at the baseline's
    cold: dict[str, Any]  # the cold-call curve, in the shape of ``decay_logit``


def presence_fit(age_hours: np.ndarray, reached: np.ndarray, baseline: Scenario) -> PresenceFit | None:
    """Maximum likelihood of the presence window and the cold-call curve on first dials.

    Returns the estimates with 95% CIs (None when the fit does not converge, or when the
    baseline has no lognormal presence window, the curve this fit is written for), and the cold
    part in the shape of ``decay_logit`` so it is written like any decay curve."""
    fu = baseline.follow_up
    knots = list(fu.contact_decay.age_hours)
    window = fu.presence_minutes
    if not isinstance(window, Lognormal) or len(knots) < 2:
        return None
    slopes = decay_slopes(knots, fu.contact_decay.odds_multiplier)
    start = np.array([safe_logit(fu.contact_probability_present), math.log(window.median or 10.0),
                      safe_logit(fu.contact_probability), *slopes])
    model = PresenceCurve(reached.astype(float), age_hours[:, None], window.log_sigma, knots)
    try:
        fit = model.fit(start_params=start, method="bfgs", maxiter=1000, disp=0)
        ci = np.asarray(fit.conf_int())
    except (np.linalg.LinAlgError, ValueError):
        return None
    if not fit.mle_retvals.get("converged", False) or not np.isfinite(ci).all():
        return None
    multipliers, lows, highs = decay_multipliers(fit, knots, first_slope=3)
    n = int(len(reached))
    return PresenceFit(
        n=n,
        contact_probability_present=(float(logistic_array(fit.params[0])), float(logistic_array(ci[0, 0])),
                                     float(logistic_array(ci[0, 1]))),
        presence_median=(float(np.exp(fit.params[1])), float(np.exp(ci[1, 0])), float(np.exp(ci[1, 1]))),
        presence_sigma=window.log_sigma,
        cold={
            "intercept": float(fit.params[2]), "intercept_ci": (float(ci[2, 0]), float(ci[2, 1])),
            "multipliers": multipliers, "lows": lows, "highs": highs,
            "n": n, "pseudo_r2": float(1 - fit.llf / null_loglike(reached)),
        },
    )


def safe_logit(p: float | None) -> float:
    p = min(max(p if p is not None else 0.5, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def null_loglike(outcome: np.ndarray) -> float:
    rate = min(max(float(outcome.mean()), 1e-12), 1 - 1e-12)
    k = float(outcome.sum())
    return k * math.log(rate) + (len(outcome) - k) * math.log1p(-rate)


class WindowedLogit(GenericLikelihoodModel):
    """A logit on the model's decay curve for leads still shopping with chance ``keep`` (the
    rest have chosen a competitor and never qualify): p(a) = keep(a) * logistic(b + curve(a))."""

    def __init__(self, endog: np.ndarray, exog: np.ndarray, keep: np.ndarray, **kwargs: Any):
        super().__init__(endog, exog, **kwargs)
        self.keep = np.clip(keep, 1e-12, 1.0)

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        p = np.clip(self.keep * logistic_array(self.exog @ params), 1e-12, 1 - 1e-12)
        return self.endog * np.log(p) + (1 - self.endog) * np.log1p(-p)


def fitted_distribution(spec: dict[str, Any]) -> Any:
    """A fitted duration distribution (as written to the scenario) as a scipy distribution."""
    if spec["dist"] == "lognormal":
        return stats.lognorm(s=spec["sigma"], scale=spec["median"])
    if spec["dist"] == "gamma":
        shape = 1 / spec["cv"] ** 2
        return stats.gamma(shape, scale=spec["mean"] / shape)
    return stats.expon(scale=spec["mean"])

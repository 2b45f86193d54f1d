"""What drives the uncertainty, and which of your own numbers is worth measuring before you decide.

Two questions follow a probabilistic sensitivity analysis (``psa.py``), both answered from the
runs it already made, one value per draw of the uncertain parameters:

**Which parameter does the answer lean on?** ``first_order_indices`` gives each parameter's
first-order sensitivity index: the share of the variance of the effect across draws that
knowing that parameter alone would remove, ``S_i = Var(E[effect | x_i]) / Var(effect)``. It is
estimated by a *regression metamodel* on the given draws: ``S_i`` is the R² of a smooth
regression of the draws' effects on ``x_i`` alone (statsmodels OLS on a patsy natural cubic
spline ``cr(x_i, df=k)``, with ``k`` chosen among a straight line and 3 to 5 degrees of freedom
by generalised cross-validation, so few draws get a simple curve). Reported: the adjusted R²
(floored at 0; a plain R² rises with every added term even on noise), the plain R², and a
bootstrap interval over the draws.

Why not Sobol indices (SALib)? Sobol's estimators need their own design: a Saltelli sample of
independent inputs, ``N (2p + 2)`` runs for ``p`` parameters. The evidence ensemble is a
*history-matched* set: its members are what the published figures left standing, so the
parameters are correlated (a short presence window goes with a high chance of reaching the
inquirer in it), and it cannot be resampled to a design without leaving the region the evidence
allows. The regression estimator needs no design and stays well defined with correlated
inputs, where it measures what a parameter explains *together with what travels with it*
(so the indices may add up to more than 1). SALib's given-data methods (``delta``, RBD-FAST)
were not used: they also assume independent inputs, and with tens of draws their kernel and
spectral estimates are noisier than a GCV-chosen spline.

Each draw's effect also carries simulation noise, which no parameter explains: the indices add
up to at most ``1 - noise_share`` (see ``psa.summarise_effects``).

**What is worth measuring?** When the question is a choice between options with costs,
``evppi`` gives the *expected value of partial perfect information* of each group of parameters
(Strong, Oakley & Brennan 2014, the approach of the R packages dampack and voi): how much more
net benefit a year a decision-maker could expect by learning the group's true values before
choosing. For options ``k`` with net benefit ``NB_k`` per draw:

* ``EVPI = mean_d max_k NB_k[d] - max_k mean_d NB_k[d]``: what knowing everything is worth;
* ``EVPPI(group) = mean_d max_k g_k[d] - max_k mean_d g_k[d]``, where ``g_k`` are the fitted
  values of a regression of option ``k``'s net benefit over the first option's on the group's
  parameters (additive natural cubic splines, one per parameter, their size chosen by
  generalised cross-validation: a GAM without penalties). The fit averages out whatever the
  group does not explain, other parameters and simulation noise alike.

EVPPI is at most EVPI up to estimation error, and zero when learning the group could not change
the choice. With few draws the regression also fits noise and counts it as value; each group's
``floor`` (its EVPPI with its values shuffled across the draws) says how much, so a group is
worth measuring only as far as its EVPPI stands above its floor. Simulation noise in ``NB`` inflates the plain EVPI a little (the maximum of noisy
values is biased up); the regression protects the EVPPI from it. In plain words:
"measuring *how fast interest cools* before you decide is worth up to 40,000 a year; measuring
*how quality moves deal odds* is worth nothing: it would not change the choice".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm

__all__ = ["SPLINE_SIZES", "evpi", "evppi", "first_order_indices", "spline_formula"]

# The sizes a parameter's curve may take: 1 is a straight line, 3..5 a natural cubic spline's
# degrees of freedom. Generalised cross-validation picks one; fewer draws allow fewer.
SPLINE_SIZES = (1, 3, 4, 5)
_MIN_DRAWS_PER_TERM = 4  # a size needs at least this many draws per fitted coefficient
_MIN_BOOTSTRAP_DRAWS = 10  # fewer draws resample too few distinct values to say anything


def spline_formula(columns: Sequence[str], size: int) -> str:
    """The right-hand side of an additive metamodel: one term per column (``Q()``-quoted)."""
    terms = [f'Q("{c}")' if size == 1 else f'cr(Q("{c}"), df={size}, constraints="center")' for c in columns]
    return " + ".join(terms)


def _design(data: pd.DataFrame, columns: Sequence[str], size: int) -> np.ndarray:
    return np.asarray(patsy.dmatrix(spline_formula(columns, size), data, return_type="matrix"))


def _gcv(y: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray, int]:
    """Generalised cross-validation score, fitted values and rank of a least-squares fit."""
    fit = sm.OLS(y, x).fit()
    p = int(np.linalg.matrix_rank(x))
    n = len(y)
    score = n * float(np.sum(fit.resid**2)) / max(n - p, 1) ** 2
    return score, np.asarray(fit.fittedvalues), p


def _designs(data: pd.DataFrame, columns: Sequence[str]) -> list[tuple[int, np.ndarray]]:
    """The design matrix of each size the draws allow: a straight line needs two draws per
    coefficient, a spline four (none at all when the draws are too few even for lines)."""
    n = len(data)
    out = []
    for size in SPLINE_SIZES:
        coefficients = 1 + size * len(columns)
        if n < (_MIN_DRAWS_PER_TERM if size > 1 else 2) * coefficients:
            break
        try:
            out.append((size, _design(data, columns, size)))
        except (patsy.PatsyError, ValueError, np.linalg.LinAlgError):  # too few distinct values for the knots
            break
    return out


def _choose(y: np.ndarray, designs: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The fit with the lowest GCV among ``designs``: its design matrix, fitted values and size."""
    best: tuple[float, np.ndarray, np.ndarray, int] | None = None
    for size, x in designs:
        score, fitted, _ = _gcv(y, x)
        if best is None or score < best[0]:
            best = (score, x, fitted, size)
    return None if best is None else (best[1], best[2], best[3])


def _best_fit(y: np.ndarray, data: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The additive fit of ``y`` on ``columns`` with the lowest GCV among the allowed sizes:
    its design matrix, fitted values and size; None when the draws are too few even for
    straight lines (fewer than two per coefficient), which would only reproduce the noise."""
    return _choose(y, _designs(data, columns))


def _r_squared(y: np.ndarray, fitted: np.ndarray, p: int) -> tuple[float, float]:
    n = len(y)
    total = float(np.sum((y - y.mean()) ** 2))
    if total <= 0:
        return float("nan"), float("nan")
    r2 = 1 - float(np.sum((y - fitted) ** 2)) / total
    adjusted = 1 - (1 - r2) * (n - 1) / max(n - p, 1)
    return r2, adjusted


def first_order_indices(
    effect: Sequence[float] | pd.Series,
    parameters: pd.DataFrame,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each parameter's first-order sensitivity index for ``effect`` (one value per draw, in the
    order of ``parameters``' rows), by a spline regression on that parameter alone.

    Columns: ``parameter``, ``index`` (adjusted R², at least 0), ``r_squared``, ``low``/``high``
    (a percentile bootstrap over draws of the adjusted R², ``bootstrap`` resamples, with the
    curve's size kept; empty under 10 draws), ``size`` (1: a line; 3-5: spline degrees of freedom) and ``draws``.
    Sorted by index, largest first; a parameter with too few draws for even a straight line
    (fewer than two per coefficient) gets an empty index. Parameters that do not vary across the draws (fixed, e.g.
    measured by the company itself) get no row. Give parameters on the scale their effect is
    smooth on (the logarithm of an odds multiplier, say).
    """
    y = np.asarray(effect, float)
    if len(y) != len(parameters):
        raise ValueError(f"{len(y)} effects for {len(parameters)} draws of the parameters")
    keep = np.isfinite(y)
    y, data = y[keep], parameters.loc[keep].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    n = len(y)
    resamples = [rng.integers(0, n, n) for _ in range(bootstrap)] if n >= _MIN_BOOTSTRAP_DRAWS else []
    tail = (1 - level) / 2
    rows = []
    for column in data.columns:
        x = data[column].to_numpy(float)
        if np.ptp(x) <= 0 or np.ptp(y) <= 0:
            continue
        fit = _best_fit(y, data[[column]], [column])
        if fit is None:
            rows.append({"parameter": column, "index": np.nan, "r_squared": np.nan, "low": np.nan, "high": np.nan,
                         "size": 0, "draws": n})
            continue
        design, fitted, size = fit
        p = int(np.linalg.matrix_rank(design))
        r2, adjusted = _r_squared(y, fitted, p)
        boot = []
        for index in resamples:
            yb, xb = y[index], design[index]
            if np.ptp(yb) <= 0:
                continue
            coef, *_ = np.linalg.lstsq(xb, yb, rcond=None)
            boot.append(_r_squared(yb, xb @ coef, int(np.linalg.matrix_rank(xb)))[1])
        low, high = (np.quantile(np.clip(boot, 0, 1), [tail, 1 - tail]) if boot else (np.nan, np.nan))
        rows.append({"parameter": column, "index": max(0.0, adjusted), "r_squared": r2,
                     "low": float(low), "high": float(high), "size": size, "draws": n})
    table = pd.DataFrame(rows, columns=["parameter", "index", "r_squared", "low", "high", "size", "draws"])
    return table.sort_values("index", ascending=False, kind="stable", na_position="last").reset_index(drop=True)


def evpi(net_benefit: pd.DataFrame) -> float:
    """Expected value of perfect information: ``mean max_k NB_k - max_k mean NB_k``.

    ``net_benefit`` has one row per draw and one column per option."""
    values = net_benefit.to_numpy(float)
    return float(np.mean(values.max(axis=1)) - values.mean(axis=0).max())


def _group_value(incremental: np.ndarray, designs: list[tuple[int, np.ndarray]] | None, best_mean: float
                 ) -> tuple[float, list[str], list[float]]:
    """The regression EVPPI of one group (``designs``: its design matrices; None: nothing
    varies): its value, the spline sizes and the R² per option."""
    fitted = np.zeros_like(incremental)
    sizes: list[str] = []
    r2s: list[float] = []
    for k in range(incremental.shape[1]):
        y = incremental[:, k]
        if designs is None or np.ptp(y) <= 0:
            fitted[:, k] = y.mean()
            sizes.append("-")
            r2s.append(0.0)
            continue
        fit = _choose(y, designs)
        if fit is None:
            return float("nan"), ["too few draws"], [float("nan")]
        design, fit_values, size = fit
        fitted[:, k] = fit_values
        sizes.append(str(size))
        r2s.append(_r_squared(y, fit_values, int(np.linalg.matrix_rank(design)))[0])
    return max(0.0, float(np.mean(np.maximum(fitted.max(axis=1), 0.0))) - best_mean), sizes, r2s


def evppi(
    net_benefit: pd.DataFrame,
    parameters: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    permutations: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """Expected value of partial perfect information of each parameter group, by regression.

    ``net_benefit``: one row per draw, one column per option (the first is the comparator,
    e.g. doing nothing); ``parameters``: the draws' parameter values, same rows; ``groups``:
    a name for each group and its parameter columns. Columns returned: ``group``,
    ``parameters``, ``evppi`` (in the net benefit's unit), ``share_of_evpi``, ``floor``,
    ``size`` (the spline size chosen, per option, as text) and ``r_squared`` (how much of the
    incremental net benefit the group explains, per option). Sorted by ``evppi``, largest first.

    With few draws a regression also fits some noise, which the EVPPI counts as value: the
    ``floor`` is the mean EVPPI of the same group with its values shuffled across the draws
    (``permutations`` times), what the method finds in parameters that cannot matter. Only an
    EVPPI well above its floor says the group is worth measuring. Columns of a group that do not
    vary are left out of its fit; a group with none left is worth 0, one with fewer than two
    draws per coefficient of a straight-line fit gets an empty value.
    """
    if len(net_benefit) != len(parameters):
        raise ValueError(f"{len(net_benefit)} draws of net benefit for {len(parameters)} draws of the parameters")
    if net_benefit.shape[1] < 2:
        raise ValueError("EVPPI needs at least two options")
    values = net_benefit.to_numpy(float)
    keep = np.isfinite(values).all(axis=1)
    values, data = values[keep], parameters.loc[keep].reset_index(drop=True)
    incremental = values[:, 1:] - values[:, [0]]
    total = evpi(pd.DataFrame(values))
    best_mean = max(0.0, float(incremental.mean(axis=0).max()))
    rng = np.random.default_rng(seed)
    rows = []
    for name, columns in groups.items():
        unknown = [c for c in columns if c not in data.columns]
        if unknown:
            raise KeyError(f"group {name!r}: no parameter column {unknown[0]!r}")
        varying = [c for c in columns if np.ptp(data[c].to_numpy(float)) > 0]
        designs = _designs(data[varying], varying) if varying else None
        value, sizes, r2s = _group_value(incremental, designs, best_mean)
        floor = float("nan")
        if np.isfinite(value) and designs and permutations > 0:
            shuffled = []
            for _ in range(permutations):  # the same designs, their rows shuffled across the draws
                order = rng.permutation(len(data))
                shuffled.append(_group_value(incremental, [(size, x[order]) for size, x in designs], best_mean)[0])
            floor = float(np.mean(shuffled))
        elif np.isfinite(value):
            floor = 0.0
        rows.append({
            "group": name,
            "parameters": ", ".join(columns),
            "evppi": value,
            "share_of_evpi": value / total if total > 0 and np.isfinite(value) else float("nan"),
            "floor": floor,
            "size": ", ".join(sizes),
            "r_squared": ", ".join(f"{r:.2f}" for r in r2s),
        })
    table = pd.DataFrame(rows, columns=["group", "parameters", "evppi", "share_of_evpi", "floor", "size", "r_squared"])
    table.attrs["evpi"] = total
    return table.sort_values("evppi", ascending=False, kind="stable", na_position="last").reset_index(drop=True)

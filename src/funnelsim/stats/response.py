"""What a KPI would be at lever settings nobody simulated: a response surface over a sweep.

A sweep simulates a few dozen combinations of levers. A response surface (an OLS metamodel,
see ``metamodel.fit_metamodel``) turns those runs into a formula that predicts the KPI at any
setting inside the swept ranges, with a confidence interval, in a millisecond. That is what
makes it possible to ask "how far would these levers have to move to give +38% wins?" or
"which is the cheapest mix of levers that reaches the revenue target?" over thousands of
combinations, and then confirm the few answers that matter by direct simulation.

Each lever is used on the scale where its effect is closest to straight: ``linear`` (a rate,
a head count), ``log`` (a latency: going from 8 hours to 4 matters about as much as from 1 hour
to 30 minutes), or ``switch`` (on/off, coded 1 when the lever equals its ``on`` value). A KPI is
modelled on the log scale (``relative``), so effects multiply along the funnel and a change is
a percentage, or as it is (``absolute``), e.g. for a growth rate that can be negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, cast

import numpy as np
import pandas as pd
from patsy import build_design_matrices

from funnelsim.stats.metamodel import Metamodel, fit_metamodel

__all__ = ["Lever", "ResponseSurface"]

Scale = Literal["linear", "log", "switch"]


@dataclass(frozen=True)
class Lever:
    """One lever: its key path in the scenario and the scale its effect is modelled on."""

    key: str
    scale: Scale = "linear"
    on: Any = True  # for a switch: the value that means "on" (e.g. handoff.mode: continuous)

    def coordinate(self, values: pd.Series | np.ndarray | list[Any]) -> np.ndarray:
        """The lever's values on the modelling scale."""
        series = pd.Series(values)
        if self.scale == "switch":
            return (series == self.on).to_numpy(float)
        numbers = series.to_numpy(float)
        if self.scale == "log":
            if (numbers <= 0).any():
                raise ValueError(f"{self.key}: a log-scale lever needs values above 0, got {numbers.min()}")
            return np.log(numbers)
        return numbers


@dataclass
class ResponseSurface:
    """A KPI as a function of levers, fitted over a sweep's runs."""

    kpi: str
    levers: list[Lever]
    transform: Literal["relative", "absolute"]
    metamodel: Metamodel

    @classmethod
    def fit(
        cls,
        runs: pd.DataFrame,
        kpi: str,
        levers: list[Lever],
        transform: Literal["relative", "absolute"] = "relative",
        interactions: bool = False,
    ) -> "ResponseSurface":
        """Fit the surface on ``runs`` (one row per run: lever columns, ``replication``, the KPI).

        Runs whose KPI is missing (or, for ``relative``, not positive) are left out.
        """
        data = runs[[lever.key for lever in levers] + ["replication", kpi]].copy()
        for lever in levers:
            data[lever.key] = lever.coordinate(data[lever.key])
        values = data[kpi].astype(float)
        if transform == "relative":
            data[kpi] = np.log(values.where(values > 0))
        metamodel = fit_metamodel(
            data, kpi, [lever.key for lever in levers], interactions=interactions, family="ols"
        )
        return cls(kpi, levers, transform, metamodel)

    @property
    def r_squared(self) -> float:
        """Share of the KPI's variation across runs that the surface explains (OLS R²)."""
        return float(self.metamodel.fit.rsquared)

    def _design(self, settings: pd.DataFrame) -> np.ndarray:
        """Design-matrix rows for ``settings``, at the average replication."""
        frame = pd.DataFrame(
            {
                self.metamodel.aliases[lever.key]: lever.coordinate(settings[lever.key].to_numpy())
                for lever in self.levers
            }
        )
        frame["replication"] = self.metamodel.data["replication"].iloc[0]
        info = self.metamodel.fit.model.data.model_spec  # patsy DesignInfo of the fitted formula
        (matrix,) = build_design_matrices([info], frame, return_type="dataframe")
        exog = self.metamodel.fit.model.exog
        for i, name in enumerate(info.column_names):
            if name.startswith("C(replication)"):
                matrix[name] = exog[:, i].mean()
        return matrix.to_numpy(float)

    def _linear(self, rows: np.ndarray, confidence: float) -> pd.DataFrame:
        prediction = self.metamodel.fit.get_prediction(exog=rows, transform=False)
        frame = prediction.summary_frame(alpha=1 - confidence)
        return pd.DataFrame(
            {
                "estimate": frame["mean"].to_numpy(),
                "ci_low": frame["mean_ci_lower"].to_numpy(),
                "ci_high": frame["mean_ci_upper"].to_numpy(),
            }
        )

    def predict(self, settings: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
        """The KPI at each row of lever settings (for ``relative``: the geometric mean level)."""
        table = self._linear(self._design(settings), confidence)
        # a ufunc on a DataFrame gives a DataFrame (__array_ufunc__); numpy's stubs say ndarray
        return cast(pd.DataFrame, np.exp(table)) if self.transform == "relative" else table

    def change(
        self, settings: pd.DataFrame, reference: Mapping[str, Any], confidence: float = 0.95
    ) -> pd.DataFrame:
        """The change in the KPI from the ``reference`` settings to each row of ``settings``.

        ``relative``: a proportion (+0.38 = 38% more); ``absolute``: a difference in the KPI's
        units. The confidence interval is that of the difference, so the uncertainty the two
        predictions share (the intercept, the replication effects) cancels.
        """
        return self.change_each([settings], reference, confidence)[0]

    def change_each(
        self, grids: list[pd.DataFrame], reference: Mapping[str, Any], confidence: float = 0.95
    ) -> list[pd.DataFrame]:
        """``change`` for each of several tables of settings against the same ``reference``:
        their design rows are built in one go (building them is most of the cost), and each
        table's change is worked out on its own rows, as ``change`` would."""
        rows = self._design(pd.concat(grids, ignore_index=True))
        base = self._design(pd.DataFrame([{lever.key: reference[lever.key] for lever in self.levers}]))
        ends = np.cumsum([len(grid) for grid in grids])
        tables = [self._linear(rows[end - len(grid):end] - base, confidence) for grid, end in zip(grids, ends)]
        if self.transform != "relative":
            return tables
        # A change whose log is beyond 709 (far outside a small design) is inf: no bound the fit can give.
        with np.errstate(over="ignore"):
            return [cast(pd.DataFrame, np.expm1(table)) for table in tables]  # as in predict

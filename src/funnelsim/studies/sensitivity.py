"""The sensitivity study: how much each lever of a sweep moves a KPI.

``run_sensitivity`` runs a sweep file (or reads the results folder of one already run), fits a
metamodel of the KPI on the sweep's factors (an OLS or Poisson GLM with replication fixed
effects, with the two-way interactions the design can tell apart) and ranks the levers by their
effect. What the design cannot tell apart (a screening fraction confounds a lever with the
interplay of two others) is kept beside the effects, so a report can say it. The
``sensitivity`` notebook calls it; ``funnelsim.present.sensitivity_report`` puts it in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from funnelsim.config.paths import locate
from funnelsim.experiments.execution import run_sweep_into
from funnelsim.experiments.results import SweepResults, load_results
from funnelsim.experiments.sweeps import load_sweep
from funnelsim.stats.analysis import Estimate
from funnelsim.stats.metamodel import Metamodel, fit_metamodel, lever_effects

__all__ = ["Sensitivity", "run_sensitivity"]


@dataclass
class Sensitivity:
    """A sweep's runs, the metamodel fitted on them and each lever's effect."""

    results: SweepResults
    kpi: str
    model: Metamodel
    effects: Estimate

    @property
    def counted_days(self) -> float:
        """The days the KPIs are counted over (horizon less warm-up) in the sweep's first point."""
        simulation = next(iter(self.results.manifest["parameters"].values()))["simulation"]
        return float(simulation["horizon_days"]) - float(simulation.get("warmup_days", 0.0))

    @property
    def design(self) -> str:
        """The sweep's design as its file names it (``fractional_factorial``, ...)."""
        return str(self.results.manifest["design"])

    def by_point(self) -> pd.DataFrame:
        """The KPI's mean, standard deviation and number of runs at every point."""
        return self.results.runs.groupby(self.results.factors)[self.kpi].agg(["mean", "std", "count"]).reset_index()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the report."""
        return {"runs": self.results.runs, "lever_effects": self.effects.table, "anova": self.model.anova,
                "coefficients": self.model.coefficients(),
                "confounding": self.model.confounding().drop(columns="hidden")}


def run_sensitivity(
    sweep_file: str | Path,
    results_dir: str | Path = "",
    replications: int = 0,
    kpi: str = "revenue",
    interactions: bool = True,
    overrides: list[str] | None = None,
    output_dir: str | Path | None = None,
    executor: str = "processes",
) -> Sensitivity:
    """Fit ``kpi`` on the levers of ``sweep_file``: the runs are read from ``results_dir`` when it
    is given, otherwise the sweep (``replications`` per point, 0: as in the file) is run here on
    ``executor`` into ``output_dir/sweep`` (reused from there; a temporary folder without it)."""
    if results_dir:
        results = load_results(locate(results_dir))
    else:
        sweep = load_sweep(locate(sweep_file), overrides or []).with_options(replications=replications or None)
        results = run_sweep_into(sweep, output_dir, "sweep", executor=executor)
    model = fit_metamodel(results.runs, kpi, results.factors, interactions=interactions)
    return Sensitivity(results, kpi, model, lever_effects(model))

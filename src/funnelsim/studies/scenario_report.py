"""The scenario report: one scenario file, simulated for several replications.

``run_scenario_report`` loads the file (with any ``--set`` overrides), runs its replications
and estimates the KPIs with their CIs, the growth of monthly revenue and how many replications
a tighter CI would need. The ``scenario_report`` notebook calls it and shows the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from funnelsim.config.paths import locate
from funnelsim.config.schema import Scenario, load_scenario
from funnelsim.experiments.experiment import ScenarioRun, local_workers, run_scenario
from funnelsim.stats.analysis import Estimate, replications_needed, revenue_growth

__all__ = ["ScenarioReport", "run_scenario_report"]


@dataclass
class ScenarioReport:
    """One scenario's replications and what they say."""

    scenario: Scenario
    run: ScenarioRun
    replications: int
    seed: int
    summary: pd.DataFrame  # each KPI's mean and CI across replications
    growth: Estimate  # the trend of monthly revenue
    precision: Estimate  # replications needed for a CI of revenue within 1% of its mean

    @property
    def runs(self) -> pd.DataFrame:
        """The replications table with the scenario's name in a ``scenario`` column."""
        return self.run.replications.assign(scenario=self.scenario.name)

    @property
    def daily(self) -> pd.DataFrame:
        """The daily table with the scenario's name in a ``scenario`` column."""
        return self.run.daily.assign(scenario=self.scenario.name)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the report."""
        return {"kpi_summary": self.summary, "replications": self.run.replications, "daily": self.run.daily}


def run_scenario_report(scenario_file: str | Path, overrides: list[str] | None = None, replications: int = 10,
                        seed: int = 20261122, workers: int | None = None) -> ScenarioReport:
    """Simulate ``scenario_file`` (overrides as in ``--set``) and estimate its KPIs, the
    replications on ``workers`` local processes (default: one per CPU; the same tables)."""
    scenario = load_scenario(locate(scenario_file), overrides or [])
    run = run_scenario(scenario, replications, seed, workers or local_workers())
    growth = revenue_growth(run.daily.assign(scenario=scenario.name), scenario.simulation.warmup_days)
    precision = replications_needed(run.replications, "revenue", half_width=0.01 * run.replications["revenue"].mean())
    return ScenarioReport(scenario, run, replications, seed, run.summary(), growth, precision)

"""The speed-to-lead study: the lead-response findings, measured the way the studies measured them.

``run_speed_to_lead`` simulates one scenario, measures it against the lead-response figures of
the targets file (HBR 2011 across firms, MIT / InsideSales on first dials) the way each study
measured them, and fits within the company the odds of qualifying (or winning) on the lead's
age at first touch. The ``speed_to_lead`` notebook calls it; ``funnelsim.present.
speed_to_lead_report`` puts it in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from funnelsim.config.paths import locate
from funnelsim.config.schema import Scenario, load_scenario
from funnelsim.experiments.experiment import ScenarioRun, run_scenario
from funnelsim.stats.analysis import Estimate, rates_by_age_group, speed_to_lead_odds
from funnelsim.studies.check import benchmark_table, role_of
from funnelsim.studies.targets import DEFAULT_TARGETS, Targets, load_targets

__all__ = ["LEAD_RESPONSE_TARGETS", "SpeedToLead", "lead_response_targets", "run_speed_to_lead"]

LEAD_RESPONSE_TARGETS = ("hbr_first", "mit_")  # the targets file's lead-response figures: their ids start so


def lead_response_targets(targets: Targets, role: str = "typical") -> Targets:
    """Only the lead-response figures of ``targets``, each measured on a company in ``role``
    too: the study measures its own company whatever it stands for, against the published
    range (a what-if or a maturity level outside it is a finding, not a failed check)."""
    chosen = [t.model_copy(update={"applies_to": sorted({*t.applies_to, role})})
              for t in targets.targets if t.id.startswith(LEAD_RESPONSE_TARGETS)]
    return targets.model_copy(update={"targets": chosen})


@dataclass
class SpeedToLead:
    """One company's leads, measured as the studies measured them and within the company."""

    scenario: Scenario
    run: ScenarioRun
    odds: Estimate  # the odds of the outcome by age at first touch, within the company
    rates: pd.DataFrame  # the share with the outcome by age group
    published: pd.DataFrame  # each lead-response figure beside the model's value, with a verdict
    firms: pd.DataFrame  # HBR's population of firms, as simulated
    odds_outcome: str = "qualified"  # what the odds and rates are of: qualified (became an SQL) or won

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the report."""
        return {"odds_ratios": self.odds.table, "rates_by_age": self.rates, "published": self.published, "firms": self.firms}


def run_speed_to_lead(
    scenario_file: str | Path,
    overrides: list[str] | None = None,
    replications: int = 4,
    seed: int = 20261122,
    outcome: str = "qualified",
    workers: int = 2,
    targets_file: str | Path = DEFAULT_TARGETS,
) -> SpeedToLead:
    """Simulate ``scenario_file`` and measure its speed to lead (``outcome``: qualified or won)."""
    scenario = load_scenario(locate(scenario_file), overrides or [])
    run = run_scenario(scenario, replications, seed, workers=workers)
    odds = speed_to_lead_odds(run.leads, outcome)
    rates = rates_by_age_group(run.leads, outcome)
    published, firms = benchmark_table(run, lead_response_targets(load_targets(targets_file), role_of(scenario)), seed,
                                       workers=workers)
    return SpeedToLead(scenario, run, odds, rates, published, firms, outcome)

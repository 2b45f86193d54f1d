"""The alignment impact study: what is each way of working worth, and which lever matters?

``run_alignment_impact`` simulates several scenario files (by default the four maturity levels)
with common random numbers, compares a KPI of each with a baseline scenario paired by
replication, estimates the first-year growth of a company that changes from the first scenario
to each other, splits the gap between a fully misaligned and a fully aligned company by sign
of alignment (``funnelsim.studies.gap``), and (with a lever sweep) fits a metamodel that ranks
the levers. With
``uncertainty_draws``, a small probabilistic sensitivity analysis (``funnelsim.studies.uncertainty``)
runs every scenario over that many members of the evidence ensemble, so the report can lead
with the range across plausible models, show simulation noise beside it, and name the
assumption the answer leans on most and how a company would measure it from its CRM export.
The ``alignment_impact`` notebook calls it and shows the tables and figures.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from funnelsim.config.paths import locate
from funnelsim.config.schema import Scenario, load_scenario
from funnelsim.experiments.execution import run_sweep_into
from funnelsim.experiments.experiment import Comparison, compare_runs
from funnelsim.experiments.sweeps import load_sweep
from funnelsim.stats.analysis import Estimate, compare_scenarios, growth_after_changes
from funnelsim.stats.metamodel import Metamodel, fit_metamodel, lever_effects
from funnelsim.studies.gap import GapSplit, sign_contributions
from funnelsim.studies.uncertainty import build_study, run_uncertainty
from funnelsim.studies.uncertainty_results import UncertaintyReport, analyse, range_table

__all__ = ["AlignmentImpact", "run_alignment_impact"]


@dataclass
class AlignmentImpact:
    """The scenarios compared, and the levers ranked when a sweep was run."""

    scenarios: list[Scenario]
    comparison: Comparison
    kpi: str
    effects: Estimate  # each scenario against the baseline, paired by replication
    growth: Estimate  # first-year growth of a company that leaves the first scenario for each other
    metamodel: Metamodel | None = None  # the KPI over the lever sweep (None: no sweep)
    levers: Estimate | None = None  # each lever's effect on the KPI (None: no sweep)
    uncertainty: UncertaintyReport | None = None  # over the evidence ensemble (None: not asked for)
    gap: GapSplit | None = None  # the fully misaligned to fully aligned gap split by sign (None: not asked for)

    @property
    def runs(self) -> pd.DataFrame:
        """One row per scenario and replication."""
        return self.comparison.replications

    @property
    def warmup_days(self) -> float:
        return self.scenarios[0].simulation.warmup_days

    def brief(self) -> str:
        """The answer in brief (Markdown): the range across plausible models first, when measured."""
        sentences = self.uncertainty.sentences if self.uncertainty is not None else []
        sentences = sentences + [self.effects.sentence, self.growth.sentence] + ([self.levers.sentence] if self.levers else [])
        return "  \n".join("- " + sentence for sentence in sentences)

    def ranges(self) -> pd.DataFrame | None:
        """Each scenario's effect: range across plausible models, then simulation noise alone."""
        return None if self.uncertainty is None else range_table(self.uncertainty, self.kpi)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the report."""
        out = {"replications": self.runs, "effects": self.effects.table, "growth": self.growth.table}
        if self.levers is not None and self.metamodel is not None:
            out.update(lever_effects=self.levers.table, anova=self.metamodel.anova)
        if self.gap is not None:
            out.update(gap_by_sign=self.gap.table, gap_waterfall=self.gap.waterfall())
        if self.uncertainty is not None:
            out.update(uncertainty=self.uncertainty.summary, drivers=self.uncertainty.sensitivity,
                       worth_measuring=self.uncertainty.evppi, plausibility=self.uncertainty.plausibility)
        return out


def run_alignment_impact(
    scenario_files: list[str],
    baseline: str,
    kpi: str = "revenue",
    replications: int = 8,
    seed: int = 20261122,
    sweep_file: str = "",
    sweep_points: int = 0,
    sweep_replications: int = 2,
    overrides: list[str] | None = None,
    output_dir: str | Path | None = None,
    workers: int = 2,
    uncertainty_draws: int = 0,
    uncertainty_replications: int = 2,
    typical_file: str = "",
    gap_replications: int = 0,
    executor: str = "processes",
    scheduler: str | None = None,
) -> AlignmentImpact:
    """Compare the scenario files' ``kpi`` with the scenario named ``baseline``; with a
    ``sweep_file`` (``sweep_points`` Latin hypercube points, 0: as in the file), rank its levers.
    The sweep is saved in ``output_dir/sweep`` and reused from there (a temporary folder without
    ``output_dir``). With ``uncertainty_draws`` > 0, every scenario also runs over that many
    members of the evidence ensemble (``uncertainty_replications`` each, the same overrides),
    saved in ``output_dir/uncertainty`` and reused from there. With ``typical_file`` and
    ``gap_replications`` > 0, the gap between a fully misaligned and a fully aligned company
    like the typical one is split by sign of alignment (``funnelsim.studies.gap``).

    Every run happens on the ``executor`` (serial, processes or dask: ``experiments.executors``),
    with ``workers`` local processes, or the Dask ``scheduler`` at that address (a local cluster
    without one); the tables are the same wherever they run."""
    overrides = overrides or []
    scenarios = [load_scenario(locate(f), overrides) for f in scenario_files]
    scheduler = scheduler or None  # the notebook's empty text: a local cluster
    comparison = compare_runs(scenarios, replications, seed, workers=workers, leads=False,  # the report reads no lead
                              executor=executor, scheduler=scheduler)
    runs = comparison.replications
    result = AlignmentImpact(
        scenarios, comparison, kpi,
        effects=compare_scenarios(runs, kpi, baseline, paired=True),
        growth=growth_after_changes(runs, scenarios[0].name),
    )
    if sweep_file:
        sweep = load_sweep(locate(sweep_file), overrides, points=sweep_points or None).with_options(replications=sweep_replications)
        swept = run_sweep_into(sweep, output_dir, "sweep", executor, workers, scheduler=scheduler)
        result.metamodel = fit_metamodel(swept.runs, kpi, swept.factors, interactions=False)
        result.levers = lever_effects(result.metamodel)
    if typical_file and gap_replications > 0:
        typical = load_scenario(locate(typical_file), overrides)
        result.gap = sign_contributions(typical, gap_replications, seed, workers, (kpi,), executor, scheduler)[kpi]
    if uncertainty_draws > 0:
        files = [str(locate(f)) for f in scenario_files]
        reference = next((f for f, sc in zip(files, scenarios) if sc.name == baseline), files[0])
        study = build_study(files, reference, uncertainty_draws, uncertainty_replications, seed, overrides=overrides)
        folder = Path(output_dir) / "uncertainty" if output_dir else Path(tempfile.mkdtemp(prefix="uncertainty-"))
        run_uncertainty(study, folder, executor, workers, scheduler, resume=True)
        result.uncertainty = analyse(folder, [kpi], bootstrap=100)
    return result

"""The claims-check study: every step from the scenario files to the tables of the report.

``run_claims_check`` simulates the path from fully misaligned to fully aligned (and beyond),
sets each published claim of the targets file beside the model's effect for the same
comparison, finds how far along the path each claim is reached, measures the typical company
against every published benchmark the way its study measured it, and (with a lever sweep)
asks which lever could produce each claim alone. With ``uncertainty_draws``, a small
probabilistic sensitivity analysis (``funnelsim.studies.uncertainty``) runs the typical, fully
misaligned and fully aligned companies over that many members of the evidence ensemble, so the
report leads with each claim's range across plausible models (simulation noise beside it), the
probability that the model's effect points the claim's way, whether the claim lies inside the
range, and the assumption the answer leans on most with how a company would measure it from its
CRM export. The ``claims_check`` notebook and any script call it; the tables are those the
report shows.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from funnelsim.config.lever_values import lever_settings
from funnelsim.config.paths import locate
from funnelsim.config.schema import load_scenario
from funnelsim.experiments.execution import run_sweep_into
from funnelsim.experiments.experiment import run_scenario
from funnelsim.experiments.sweeps import load_sweep
from funnelsim.stats.response import ResponseSurface
from funnelsim.studies.check import benchmark_table
from funnelsim.studies.claims import (
    ALIGNMENT_LEVERS,
    CLAIMS,
    add_claim_kpis,
    claims_against_model,
    claims_summary,
    fit_surfaces,
    lever_bounds,
    path_effects,
    path_needed,
    path_sweep,
    single_lever_needed,
)
from funnelsim.studies.claims_over_models import claim_effects_over_draws, claims_over_models, claims_range_summary
from funnelsim.studies.targets import DEFAULT_TARGETS, load_targets
from funnelsim.studies.uncertainty import build_study, run_uncertainty
from funnelsim.studies.uncertainty_results import draw_parameters, sensitivity_table, study_runs

__all__ = ["ClaimsCheck", "run_claims_check"]


@dataclass
class ClaimsCheck:
    """The claims check's tables."""

    claims: pd.DataFrame  # each claim beside the model's effect, with a verdict
    effects: pd.DataFrame  # each claim's effect at every point of the path
    needed: pd.DataFrame  # how far along the path each claim is reached
    benchmarks: pd.DataFrame  # the typical company against every published benchmark
    single: pd.DataFrame | None = None  # which lever could do it alone (None: no lever sweep)
    surfaces: dict[str, ResponseSurface] = field(default_factory=dict)
    over_models: pd.DataFrame | None = None  # each claim over the evidence ensemble (None: not asked for)
    drivers: pd.DataFrame | None = None  # per claim and uncertain parameter: first-order index
    range_sentences: list[str] = field(default_factory=list)  # the ranges and what they lean on most

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the report."""
        out = {"claims": self.claims, "path_effects": self.effects, "path_needed": self.needed, "benchmarks": self.benchmarks}
        if self.single is not None:
            out["single_lever"] = self.single.astype({"from": str, "needed": str, "range_end": str})
        if self.over_models is not None and self.drivers is not None:
            out.update(claims_over_models=self.over_models, claim_drivers=self.drivers)
        return out

    def brief(self) -> str:
        """The answer in brief (Markdown): the ranges across plausible models first, when measured."""
        return "\n".join("- " + line for line in [*self.range_sentences, *claims_summary(self.claims, self.needed)])

    def ranges(self) -> pd.DataFrame | None:
        """Each claim beside the model's effect over plausible models, as the report shows it: the
        range first, simulation noise alone beside it (None: not measured)."""
        if self.over_models is None:
            return None
        t = self.over_models
        pct = lambda v: "-" if pd.isna(v) else f"{v:+.1%}" if abs(v) < 1 else f"{v:+.0%}"  # at most 3 significant digits
        share = lambda v: "-" if pd.isna(v) else f"{v:.0%}"
        return pd.DataFrame({
            "claim": t["claim"],
            "claimed": t["claimed"].map(pct),
            "model: mean effect": t["mean"].map(pct),
            "range across plausible models (95%)": [f"{pct(a)} to {pct(b)}" for a, b in zip(t["range_low"], t["range_high"])],
            "simulation noise alone (95% CI)": [f"{pct(a)} to {pct(b)}" for a, b in zip(t["noise_low"], t["noise_high"])],
            "P(effect in the claim's direction)": t["p_claim_direction"].map(share),
            "P(at least the claim)": t["p_at_least_claim"].map(share),
            "claim against the range": t["claim_vs_range"],
        })

    def readings(self) -> str:
        """How each claim was read as a relative change of a KPI (Markdown)."""
        return "\n".join(f"- **{r.claim}**: {r.reading}" for r in self.claims.itertuples())

    @staticmethod
    def claimed() -> dict[str, float]:
        """Each claim's relative change by its id (NaN: not comparable), as ``plots.path_chart`` takes it."""
        return {c.id: (c.change if c.change is not None else float("nan")) for c in CLAIMS}

    def surface_fits(self) -> pd.DataFrame:
        """How well each KPI's response surface over the lever sweep fits: R² and runs."""
        fits = {kpi: cast(Any, surface.metamodel.fit) for kpi, surface in self.surfaces.items()}  # a statsmodels result
        return pd.DataFrame([{"kpi": k, "r_squared": s.r_squared, "runs": int(fits[k].nobs)} for k, s in self.surfaces.items()])


def run_claims_check(
    typical_file: str,
    misaligned_file: str,
    aligned_file: str,
    path_points: list[float],
    replications: int,
    box_sweep: str,
    box_points: int,
    box_replications: int,
    executor: str = "processes",
    seed: int = 20261122,
    overrides: list[str] | None = None,
    output_dir: str | None = None,
    targets_file: str | Path = DEFAULT_TARGETS,
    uncertainty_draws: int = 0,
    uncertainty_replications: int = 2,
) -> ClaimsCheck:
    """Run the whole claims check (see the module's docstring); sweeps are saved in
    ``output_dir`` (and reused from there) when it is given. With ``uncertainty_draws`` > 0 the
    three companies also run over that many members of the evidence ensemble
    (``uncertainty_replications`` each, the same overrides), saved in ``output_dir/uncertainty``."""
    overrides = overrides or []
    typical = load_scenario(locate(typical_file), overrides)
    misaligned = load_scenario(locate(misaligned_file), overrides)
    aligned = load_scenario(locate(aligned_file), overrides)
    box = load_sweep(locate(box_sweep), overrides, points=box_points or None).with_options(replications=box_replications, seed=seed)
    bounds = lever_bounds(box)

    path = run_sweep_into(path_sweep(typical, misaligned, aligned, bounds, path_points, replications, seed), output_dir, "path", executor)
    start = path.runs.loc[path.runs["t"] == 0, "scenario"].iloc[0]
    runs = add_claim_kpis(path.runs, stayed=start)
    effects = path_effects(runs, typical.name, start)
    claims = claims_against_model(effects)
    needed = path_needed(effects)

    workers = 1 if executor == "serial" else 2
    typical_run = run_scenario(typical, replications, seed, workers)
    benchmarks, _ = benchmark_table(typical_run, load_targets(targets_file), seed, workers)

    result = ClaimsCheck(claims, effects, needed, benchmarks)
    if box_points:
        box_runs = add_claim_kpis(run_sweep_into(box, output_dir, "levers", executor).runs)
        result.surfaces = fit_surfaces(box_runs, ALIGNMENT_LEVERS)
        keys = [lever.key for lever in ALIGNMENT_LEVERS]
        starts = {"misaligned": lever_settings(misaligned, keys), "typical": lever_settings(typical, keys)}
        end = lever_settings(aligned, keys)
        result.single = pd.concat(
            [single_lever_needed(c, result.surfaces[c.kpi], starts[c.reference], end, bounds) for c in CLAIMS if c.change is not None],
            ignore_index=True,
        )
    if uncertainty_draws > 0:
        files = [str(locate(f)) for f in (typical_file, misaligned_file, aligned_file)]
        study = build_study(files, files[1], uncertainty_draws, uncertainty_replications, seed, overrides=overrides)
        folder = Path(output_dir) / "uncertainty" if output_dir else Path(tempfile.mkdtemp(prefix="uncertainty-"))
        run_uncertainty(study, folder, executor=executor, workers=workers, resume=True)
        _, runs, parameters = study_runs(folder)
        per_claim = claim_effects_over_draws(runs, typical.name, misaligned.name, aligned.name)
        result.over_models = claims_over_models(per_claim)
        result.drivers = sensitivity_table(per_claim, draw_parameters(runs, parameters), parameters, bootstrap=100)
        result.range_sentences = claims_range_summary(result.over_models, result.drivers, parameters,
                                                      int(runs["draw"].nunique()))
    return result

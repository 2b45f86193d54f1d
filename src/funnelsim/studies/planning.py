"""What it takes: the cheapest mix of levers that reaches a revenue target.

A plan file names the company as it is today (a scenario file), a target ("+20% revenue"),
and the levers management could pull, each with the values on offer and what each costs a
year: another SDR's salary, routing software that cuts the handoff to minutes, a content
budget that covers more deal stages, the time closed-loop reporting takes. ``what_it_takes``

1. simulates a Latin hypercube over those levers (the sweep machinery, any executor);
2. fits a response surface of the KPI on the levers (``response.ResponseSurface``);
3. predicts every combination of the offered values, with a confidence interval, and ranks
   the combinations that reach the target by their cost;
4. simulates the cheapest few directly, paired with today's company, to confirm them;
5. with ``uncertainty_draws``, runs today's company and the confirmed options over that many
   members of the evidence ensemble (``funnelsim.studies.uncertainty``): the recommended option's
   gain across plausible models, the chance it reaches the target and pays back its annual cost
   within a year, what the answer leans on most, and which of the company's own numbers is
   worth measuring before deciding (EVPPI per parameter group, a year).

``run_plan`` does all of it from a loaded plan, saving the lever sweep and the tables in a
folder; ``funnelsim plan`` and the ``what_it_takes`` notebook call it.

The plan file is read and validated by ``plan_file.load_plan``.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from funnelsim.config.files import folder_lock
from funnelsim.config.lever_values import as_overrides
from funnelsim.config.errors import ParameterError
from funnelsim.config.loading import apply_overrides
from funnelsim.config.schema import Scenario, scenario_from_dict
from funnelsim.experiments.execution import run_sweep_into
from funnelsim.experiments.experiment import compare_runs, local_workers
from funnelsim.experiments.outputs import write_tables
from funnelsim.experiments.sweeps import Sweep, sweep_from_dict
from funnelsim.model.maths import DAYS_PER_YEAR
from funnelsim.stats.analysis import compare_scenarios
from funnelsim.stats.response import ResponseSurface
from funnelsim.studies.plan_file import Plan
from funnelsim.studies.uncertainty import build_study_from_scenarios, own_measurements, run_uncertainty, team_cost_per_year
from funnelsim.studies.uncertainty_results import UncertaintyReport, analyse, leaning_sentence, study_runs, value_table

__all__ = ["PlanResult", "plan_sweep", "rank_options", "confirm_options", "what_it_takes", "option_scenarios",
           "plan_uncertainty", "run_plan"]


def plan_sweep(plan: Plan, points: int | None = None, replications: int | None = None) -> Sweep:
    """A Latin hypercube over the levers on offer, from today's company (enough runs to fit
    the response surface, or a ``ParameterError``)."""
    factors: dict[str, Any] = {}
    for key, lever in plan.spec.levers.items():
        if lever.lever(key).scale == "switch":
            factors[key] = list(lever.values)
        else:
            numbers = [float(v) for v in lever.values]
            factors[key] = {"low": min(numbers), "high": max(numbers)}
    points, replications = points or plan.spec.points, replications or plan.spec.replications
    coefficients = 1 + len(plan.spec.levers) + (replications - 1)  # intercept, levers, replication effects
    if points * replications <= coefficients:
        raise ParameterError([
            f"{plan.source}: points: {points}: {points} points x {replications} replications give too few runs "
            f"for a surface with {coefficients} coefficients; allowed: more than {coefficients} runs in all"
        ])
    definition = {
        "name": f"{plan.name}-levers",
        "design": "latin_hypercube",
        "points": points,
        "base": plan.spec.scenario,
        "factors": factors,
        "replications": replications,
        "seed": plan.spec.seed,
    }
    return sweep_from_dict(definition, plan.source, f"{plan.source} (lever sweep)", plan.overrides)


def rank_options(plan: Plan, surface: ResponseSurface, confidence: float = 0.95) -> pd.DataFrame:
    """Every combination of the values on offer: annual cost, predicted change with its CI,
    and whether it reaches the target; cheapest first among those that do."""
    keys = list(plan.spec.levers)
    grids = [list(zip(plan.spec.levers[k].values, plan.spec.levers[k].annual_costs())) for k in keys]
    combos = list(itertools.product(*grids))
    settings = pd.DataFrame([{k: value for k, (value, _) in zip(keys, combo)} for combo in combos])
    cost = np.array([sum(c for _, c in combo) for combo in combos])
    change = surface.change(settings, plan.today_settings(), confidence)
    target, direction = plan.spec.target.change, plan.spec.target.direction
    table = settings.assign(
        annual_cost=cost,
        predicted_change=change["estimate"].to_numpy(),
        ci_low=change["ci_low"].to_numpy(),
        ci_high=change["ci_high"].to_numpy(),
    )
    table["reaches_target"] = table["predicted_change"] * direction >= target * direction
    sure_end = table["ci_low"] if direction > 0 else table["ci_high"]
    table["reaches_with_confidence"] = sure_end * direction >= target * direction
    table["levers_changed"] = [
        ", ".join(f"{k} {plan.spec.levers[k].values[0]}→{row[k]}" for k in keys if row[k] != plan.spec.levers[k].values[0]) or "(none)"
        for row in settings.to_dict("records")
    ]
    return table.sort_values(
        ["reaches_target", "annual_cost", "predicted_change"], ascending=[False, True, direction < 0]
    ).reset_index(drop=True)


def option_scenarios(plan: Plan, options: pd.DataFrame, names: list[str] | None = None) -> list[Scenario]:
    """Today's company with each option's lever values (rows of ``rank_options``), named
    ``names`` (default: option 1, option 2, ... in row order)."""
    keys = list(plan.spec.levers)
    today = plan.today.model_dump(mode="json", by_alias=True)
    out = []
    for i, row in enumerate(options.to_dict("records")):
        data = apply_overrides(today, as_overrides({k: row[k] for k in keys}))
        data["name"] = names[i] if names else f"option {i + 1}"
        out.append(scenario_from_dict(data, f"{plan.source}: {data['name']}"))
    return out


def _confirmations(plan: Plan, asked: int | None) -> int:
    """Replications of each direct confirmation: as asked, else the sweep's and at least 3."""
    return asked or max(plan.spec.replications, 3)


def confirm_options(plan: Plan, options: pd.DataFrame, replications: int, seed: int, confidence: float = 0.95,
                    workers: int | None = None) -> pd.DataFrame:
    """Simulate today's company and each option directly, paired by replication (on ``workers``
    local processes, default one per CPU), and report the simulated change beside the predicted one."""
    scenarios = [plan.today, *option_scenarios(plan, options)]
    comparison = compare_runs(scenarios, replications, seed, workers or local_workers())
    kpi = plan.spec.target.kpi
    effects = compare_scenarios(comparison.replications, kpi, plan.today.name, paired=True, confidence=confidence).table
    target, direction = plan.spec.target.change, plan.spec.target.direction
    out = options.reset_index(drop=True).copy()
    out.insert(0, "option", [f"option {i + 1}" for i in range(len(out))])
    simulated = effects.set_index("scenario").loc[out["option"]]
    out["simulated_change"] = simulated["relative"].to_numpy()
    out["simulated_ci_low"] = simulated["relative_ci_low"].to_numpy()
    out["simulated_ci_high"] = simulated["relative_ci_high"].to_numpy()
    out["confirmed"] = out["simulated_change"] * direction >= target * direction
    # the same change in the KPI's own unit over the simulated window, and over a year
    window = plan.today.simulation.horizon_days - plan.today.simulation.warmup_days
    out["simulated_gain"] = simulated["estimate"].to_numpy()
    out["simulated_gain_ci_low"] = simulated["ci_low"].to_numpy()
    out["simulated_gain_ci_high"] = simulated["ci_high"].to_numpy()
    out["simulated_gain_a_year"] = out["simulated_gain"] * DAYS_PER_YEAR / window
    return out


@dataclass
class PlanResult:
    """Everything a plan produced: the surface, every option ranked, and the confirmed few."""

    plan: Plan
    surface: ResponseSurface
    options: pd.DataFrame
    confirmed: pd.DataFrame
    uncertainty: UncertaintyReport | None = None  # today and the confirmed options over plausible models
    reach: pd.DataFrame | None = None  # per confirmed option: P(reaches the target) over plausible models
    uncertainty_sentences: list[str] = field(default_factory=list)  # the range, what it leans on, what to measure

    def cheapest(self, n: int | None = None) -> pd.DataFrame:
        """The options predicted to reach the target, cheapest first (the first ``n``)."""
        reaching = self.options[self.options["reaches_target"]]
        return reaching if n is None else reaching.head(n)

    def frontier(self) -> pd.DataFrame:
        """The efficient options: cheapest first, each predicted to buy more than every cheaper
        one (of two at the same cost, the better). Every other option costs more for less."""
        direction = self.plan.spec.target.direction
        options = self.options.assign(_gain=self.options["predicted_change"] * direction)
        options = options.sort_values(["annual_cost", "_gain"], ascending=[True, False], kind="stable")
        better = options["_gain"] > options["_gain"].cummax().shift(fill_value=-np.inf)
        return options[better].drop(columns="_gain").reset_index(drop=True)

    def surface_terms(self) -> pd.DataFrame:
        """The response surface's coefficients, without the replications' fixed effects."""
        coefficients = self.surface.metamodel.coefficients()
        return coefficients[~coefficients["term"].str.startswith("C(replication)")]

    def surface_fit(self) -> str:
        """How well the response surface fits (Markdown)."""
        fit = cast(Any, self.surface.metamodel.fit)  # a statsmodels result
        return f"R² = {self.surface.r_squared:.3f} over {int(fit.nobs)} runs."

    def brief(self) -> str:
        """The answer in brief (Markdown): the target and what it takes."""
        target = self.plan.spec.target
        lines = [f"Target: {target.change:+.0%} {target.kpi} over '{self.plan.today.name}' ({self.plan.source}).",
                 *self.uncertainty_sentences, self.sentence]
        return "\n".join("- " + line for line in lines)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the plan: every option, the confirmed ones, the surface, and
        (when measured) the options over plausible models and what is worth measuring."""
        out = {"options": self.options, "frontier": self.frontier(), "confirmed": self.confirmed,
               "coefficients": self.surface.metamodel.coefficients()}
        if self.uncertainty is not None and self.reach is not None:
            out.update(uncertainty=self.uncertainty.summary, reach=self.reach, drivers=self.uncertainty.sensitivity,
                       worth_measuring=self.uncertainty.evppi, plausibility=self.uncertainty.plausibility)
        return out

    def ranges(self) -> pd.DataFrame | None:
        """Each confirmed option over plausible models, as the report shows it: the range of its
        change first, simulation noise alone beside it, P(reaches the target), P(pays back its
        annual cost within a year). None when not measured."""
        report, reach = self.uncertainty, self.reach
        if report is None or reach is None:
            return None
        kpi = self.plan.spec.target.kpi
        pct = lambda v: "-" if pd.isna(v) else f"{v:+.1%}" if abs(v) < 1 else f"{v:+.0%}"  # at most 3 significant digits
        change = report.summary[report.summary["kpi"] == kpi].set_index("scenario")
        payback = report.summary[report.summary["scale"] == "absolute"].set_index("scenario")
        ok = self.confirmed[self.confirmed["confirmed"]].set_index("option")
        names = [n for n in change.index if n in ok.index]
        failing = report.plausibility.set_index("option")["share_failing"]
        return pd.DataFrame({
            "option": names,
            "levers_changed": [ok.loc[n, "levers_changed"] for n in names],
            "annual_cost": [f"{ok.loc[n, 'annual_cost']:,.0f}" for n in names],
            f"{kpi}: mean change": [pct(change.loc[n, "mean"]) for n in names],
            "range across plausible models (95%)": [f"{pct(change.loc[n, 'range_low'])} to {pct(change.loc[n, 'range_high'])}"
                                                    for n in names],
            "simulation noise alone (95% CI)": [f"{pct(change.loc[n, 'noise_low'])} to {pct(change.loc[n, 'noise_high'])}"
                                                for n in names],
            "P(reaches the target)": [f"{reach.set_index('scenario').loc[n, 'p_reach']:.0%}" for n in names],
            "P(pays back its annual cost within a year)": [f"{payback.loc[n, 'p_positive']:.0%}" for n in names],
            "draws failing a plausibility check": [f"{failing.get(n, float('nan')):.0%}" for n in names],
        })

    def worth_measuring(self) -> pd.DataFrame | None:
        """Which of your own numbers is worth measuring before you choose between today and the
        confirmed options: EVPPI per parameter group, a year (None when not measured)."""
        return None if self.uncertainty is None else value_table(self.uncertainty)

    @property
    def sentence(self) -> str:
        target = self.plan.spec.target
        kpi = target.kpi
        reaching = self.options[self.options["reaches_target"]]
        if reaching.empty:
            best = self.options.iloc[(self.options["predicted_change"] * np.sign(target.change or 1)).argmax()]
            return (
                f"No combination on offer is predicted to reach {target.change:+.0%} {kpi}; the most any gives is "
                f"{best.predicted_change:+.1%} ({best.levers_changed}, {best.annual_cost:,.0f} a year)."
            )
        ok = self.confirmed[self.confirmed["confirmed"]]
        first = ok.iloc[0] if len(ok) else None
        text = (
            f"{len(reaching)} of {len(self.options)} combinations are predicted to reach {target.change:+.0%} {kpi}. "
        )
        if first is not None:
            text += (
                f"The cheapest confirmed by direct simulation costs {first.annual_cost:,.0f} a year: "
                f"{first.levers_changed}; simulated {first.simulated_change:+.1%} "
                f"(95% CI {first.simulated_ci_low:+.1%} to {first.simulated_ci_high:+.1%})."
            )
        else:
            text += "None of the cheapest was confirmed by direct simulation: treat the ranking as a shortlist only."
        return text


def what_it_takes(plan: Plan, sweep_runs: pd.DataFrame, interactions: bool = False, confirm_replications: int | None = None) -> PlanResult:
    """Fit the surface on the lever sweep's runs, rank every option, and confirm the cheapest.

    The options confirmed are the ``confirm`` cheapest whose prediction reaches the target,
    plus the cheapest whose whole confidence interval does: the surface is an approximation,
    and direct simulation has the last word.
    """
    spec = plan.spec
    surface = ResponseSurface.fit(sweep_runs, spec.target.kpi, plan.levers, "relative", interactions)
    options = rank_options(plan, surface)
    cheapest = options[options["reaches_target"]].head(spec.confirm)
    confident = options[options["reaches_with_confidence"]].head(1)
    shortlist = pd.concat([cheapest, confident.loc[confident.index.difference(cheapest.index)]]).sort_index()
    reps = _confirmations(plan, confirm_replications)
    confirmed = confirm_options(plan, shortlist, reps, spec.seed) if len(shortlist) else pd.DataFrame(
        columns=["option", *options.columns, "simulated_change", "simulated_ci_low", "simulated_ci_high", "confirmed",
                 "simulated_gain", "simulated_gain_ci_low", "simulated_gain_ci_high", "simulated_gain_a_year"]
    )
    return PlanResult(plan, surface, options, confirmed)


def plan_uncertainty(
    result: PlanResult,
    folder: str | Path,
    draws: int,
    replications: int = 2,
    executor: str = "processes",
    workers: int | None = None,
) -> PlanResult:
    """Run today's company and the confirmed options over ``draws`` members of the evidence
    ensemble (``replications`` each, into ``folder``, resumable) and fill ``result``'s
    uncertainty: the options' change of the target KPI across plausible models, P(reaches the
    target), P(pays back its annual cost within a year), what the recommended option's change
    leans on most, and EVPPI per parameter group for the choice between today and the options.

    The uncertain parameters that the plan's scenario file or overrides set are the company's
    own measurements and stay fixed. The payback is the gross margin on the KPI's revenue less
    marketing spend, a year, against today's, less the option's annual cost from the plan (which
    already prices any extra headcount, so the teams' cost is not counted twice)."""
    from funnelsim.stats.psa import paired_effects, reach_probability

    plan, target = result.plan, result.plan.spec.target
    ok = result.confirmed[result.confirmed["confirmed"]] if len(result.confirmed) else result.confirmed
    if ok.empty:
        result.uncertainty_sentences = ["No option was confirmed by direct simulation, so none was run over plausible "
                                        "models."]
        return result
    names = [str(n) for n in ok["option"]]
    options = option_scenarios(plan, ok, names)
    own = own_measurements(plan.scenario_file, plan.overrides)
    study = build_study_from_scenarios([plan.today, *options], draws, replications, plan.spec.seed,
                                       measured={s.name: own for s in [plan.today, *options]},
                                       sources={plan.today.name: str(plan.scenario_file)})
    run_uncertainty(study, folder, executor=executor, workers=workers, resume=True)
    today_team = team_cost_per_year(plan.today)
    costs = {n: float(c) - (team_cost_per_year(s) - today_team) for n, c, s in zip(names, ok["annual_cost"], options)}
    report = analyse(folder, [target.kpi], {target.kpi: target.change}, costs, bootstrap=100)
    _, runs, _ = study_runs(folder)
    result.uncertainty = report
    result.reach = reach_probability(paired_effects(runs, plan.today.name, [target.kpi]), target.change)
    result.uncertainty_sentences = _uncertainty_sentences(result, names[0], float(ok["annual_cost"].iloc[0]))
    return result


def _uncertainty_sentences(result: PlanResult, best: str, cost: float) -> list[str]:
    """The range of the recommended option, what it leans on most, and what is worth measuring."""
    report, reach = result.uncertainty, result.reach
    assert report is not None and reach is not None
    target = result.plan.spec.target
    change = report.summary[(report.summary["scenario"] == best) & (report.summary["kpi"] == target.kpi)].iloc[0]
    payback = report.summary[(report.summary["scenario"] == best) & (report.summary["scale"] == "absolute")].iloc[0]
    p_reach = float(reach.loc[reach["scenario"] == best, "p_reach"].iloc[0])
    levers = result.confirmed.loc[result.confirmed["option"] == best, "levers_changed"].iloc[0]
    noise = (f"{change['noise_low']:+.1%} to {change['noise_high']:+.1%}" if np.isfinite(change["noise_low"])
             else "not measured with one replication")
    lines = [
        f"How sure: over {report.draws} plausible models (members of the evidence ensemble), the recommended option "
        f"({best}: {levers}, {cost:,.0f} a year) changes {target.kpi} by {change['mean']:+.1%} on average; 95% of them "
        f"give {change['range_low']:+.1%} to {change['range_high']:+.1%} (simulation noise alone: {noise}). The chance "
        f"it reaches the target of {target.change:+.0%} is {p_reach:.0%}; the chance it pays back its annual cost within "
        f"a year (the gross margin it adds, less marketing spend, against {cost:,.0f}) is {payback['p_positive']:.0%}."
    ]
    drivers = report.sensitivity[(report.sensitivity["scenario"] == best) & (report.sensitivity["kpi"] == target.kpi)]
    lines.append(leaning_sentence(drivers, report.parameters, report.draws, f"its change in {target.kpi}")
                 or f"Too few plausible models ({report.draws}) to say which assumption the answer leans on most: "
                    "raise uncertainty_draws (5 or more), or run funnelsim uncertainty at full size.")
    return lines + report.value_sentences


def run_plan(
    plan: Plan,
    folder: str | Path | None = None,
    target_change: float | None = None,
    points: int | None = None,
    replications: int | None = None,
    interactions: bool = False,
    confirm_replications: int | None = None,
    executor: str = "processes",
    workers: int | None = None,
    resume: bool = True,
    notify: Callable[[str], None] | None = None,
    progress: bool = False,
    uncertainty_draws: int = 0,
    uncertainty_replications: int = 2,
) -> PlanResult:
    """What it takes, end to end: sweep the levers on offer, fit the surface, rank and confirm.

    ``target_change`` replaces the plan file's target change (None keeps it); ``points`` and
    ``replications`` of the lever sweep default to the plan file's. With a ``folder`` the
    lever sweep is saved in ``folder/sweep`` and the tables (``PlanResult.tables``) in
    ``folder``, which one process writes at a time (``files.FolderBusy`` for a second);
    ``resume`` reuses the runs saved there (without it, saved runs raise
    ``execution.ResumeMismatch``). Without a folder the sweep goes to a temporary folder and
    nothing is saved. ``notify`` receives notes worth telling (a lock taken over); ``progress``
    shows a progress bar of the lever sweep. With ``uncertainty_draws`` > 0, today's company and
    the confirmed options also run over that many members of the evidence ensemble
    (``plan_uncertainty``, in ``folder/uncertainty``, or a temporary folder).
    """
    if target_change is not None:
        plan = plan.with_target(target_change)
    sweep = plan_sweep(plan, points, replications)
    if not folder:
        runs = run_sweep_into(sweep, None, "plan", executor, workers, progress=progress).runs
        result = what_it_takes(plan, runs, interactions, confirm_replications)
        if uncertainty_draws > 0:
            plan_uncertainty(result, tempfile.mkdtemp(prefix="plan-uncertainty-"), uncertainty_draws,
                             uncertainty_replications, executor, workers)
        return result
    folder = Path(folder)
    tell = notify or (lambda message: None)
    with folder_lock(folder) as note:  # the plan's tables as well as its lever sweep
        if note:
            tell(note)
        runs = run_sweep_into(sweep, folder, "sweep", executor, workers, resume=resume, notify=notify, progress=progress).runs
        tell(f"Ranking every combination on offer and simulating the {plan.spec.confirm} cheapest that reach the target "
             f"directly, {_confirmations(plan, confirm_replications)} replications each ...")
        result = what_it_takes(plan, runs, interactions, confirm_replications)
        if uncertainty_draws > 0:
            tell(f"Running today's company and the confirmed options over {uncertainty_draws} plausible models ...")
            plan_uncertainty(result, folder / "uncertainty", uncertainty_draws, uncertainty_replications, executor, workers)
        write_tables(folder, **result.tables())
    return result

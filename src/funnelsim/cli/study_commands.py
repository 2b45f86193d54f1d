"""Commands for studies of many runs: a ``sweep`` of scenario points, a ``plan`` (the cheapest
levers that reach a target), the evidence ``ensemble`` fitted to the published figures, and
``uncertainty``: how sure we are of each scenario over that ensemble."""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
from pathlib import Path

import click

from funnelsim.cli.common import (
    BASELINE_FILE,
    ENSEMBLE_FILE,
    EXECUTORS,
    MAX_SEED,
    SET_HELP,
    TARGETS_FILE,
    Input,
    fail,
    note,
    reports_errors,
)
from funnelsim.config.errors import InputError
from funnelsim.config.paths import REPORTS_DIR, default_plan_dir, default_sweep_dir, slug
from funnelsim.config.schema import load_scenario

__all__ = ["ensemble", "plan", "sweep", "uncertainty"]

DEFAULT_DRAWS = 30  # as funnelsim.studies.uncertainty.DEFAULT_DRAWS (a test checks; the README says why)
DEFAULT_PSA_REPLICATIONS = 2  # as funnelsim.studies.uncertainty.DEFAULT_REPLICATIONS

@click.command()
@click.argument("file", type=Input(dir_okay=False))
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Replications per point [default: the sweep file's].")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=MAX_SEED), help="Root seed [default: the sweep file's].")
@click.option("--executor", type=click.Choice(EXECUTORS), default="processes", show_default=True, help="Where runs happen.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel workers [default: CPU count].")
@click.option("--scheduler", metavar="ADDRESS", help="Address of a running Dask scheduler (with --executor dask).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Results folder [default: reports/sweeps/<sweep>].")
@click.option("--resume", is_flag=True, help="Finish an interrupted sweep: run only the missing runs.")
@click.option("--save-leads", is_flag=True, help="Also save every run's leads table (large).")
@click.option("--no-crn", is_flag=True, help="Independent seeds per point instead of common random numbers.")
@click.option("--yes", "-y", is_flag=True, help="Start a large sweep without asking.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@reports_errors
def sweep(
    file: str,
    replications: int | None,
    seed: int | None,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    out_dir: str | None,
    resume: bool,
    save_leads: bool,
    no_crn: bool,
    yes: bool,
    no_progress: bool,
) -> None:
    """Run every point of sweep FILE, saving each run as it finishes."""
    from funnelsim.experiments.execution import run_sweep
    from funnelsim.experiments.preflight import check_runs, check_sweep
    from funnelsim.experiments.results import ResultStore
    from funnelsim.experiments.sweeps import load_sweep, sweep_size

    if not (yes or resume):  # sized before any point is built
        points, file_replications = sweep_size(file)
        check_runs(file, points, replications or file_replications)
    plan = load_sweep(file)
    plan = plan.with_options(replications=replications, seed=seed, common_random_numbers=False if no_crn else None)
    if scheduler and executor != "dask":
        raise InputError("--scheduler needs --executor dask")
    store = ResultStore(Path(out_dir) if out_dir else default_sweep_dir(plan.name))
    pending = plan.runs - (len(store.finished()) if resume else 0)
    if not yes:
        check_sweep(plan.name, [p.scenario for p in plan.points], plan.replications, pending, workers or os.cpu_count() or 1)
    click.echo(
        f"Sweep '{plan.name}': {len(plan.points)} points x {plan.replications} replications "
        f"= {plan.runs} runs on {executor} -> {store.folder}",
        err=True,
    )
    ran = run_sweep(plan, store, executor, workers, scheduler, resume, save_leads, progress=not no_progress, notify=note)
    click.echo(f"{ran} runs done; results in {store.folder} (load with funnelsim.load_results)")


@click.command()
@click.argument("file", type=Input(dir_okay=False))
@click.option("--target", "target_change", type=float, help="Relative change of the plan's KPI to reach, e.g. 0.2 [default: the plan file's].")
@click.option("--executor", type=click.Choice(EXECUTORS), default="processes", show_default=True, help="Where the lever sweep runs.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel workers [default: CPU count].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Results folder [default: reports/plans/<plan>].")
@click.option("--resume", is_flag=True, help="Reuse the finished runs of an interrupted plan in --out.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="Cheapest options printed.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=SET_HELP)
@click.option("--yes", "-y", is_flag=True, help="Start a large plan without asking.")
@reports_errors
def plan(file: str, target_change: float | None, executor: str, workers: int | None, out_dir: str | None,
         resume: bool, top: int, overrides: tuple[str, ...], yes: bool) -> None:
    """What it takes: the cheapest levers on offer in plan FILE that reach its target.

    Sweeps the levers, fits a response surface, ranks every combination on offer by its annual
    cost, and confirms the cheapest by direct simulation (see params/plans/).
    """
    from funnelsim.experiments.execution import SweepInterrupted
    from funnelsim.experiments.preflight import check_runs, check_sweep
    from funnelsim.experiments.results import ResultStore
    from funnelsim.present.plan_report import changes_in_words, headline
    from funnelsim.present.vocabulary import money, signed_percent
    from funnelsim.studies.plan_file import load_plan
    from funnelsim.studies.planning import plan_sweep, run_plan

    chosen = load_plan(file, overrides)
    if not (yes or resume):  # sized before the lever sweep is built
        check_runs(file, chosen.spec.points, chosen.spec.replications)
    sweep = plan_sweep(chosen)
    folder = Path(out_dir) if out_dir else default_plan_dir(chosen.name)
    if not yes:
        pending = sweep.runs - (len(ResultStore(folder / "sweep").finished()) if resume else 0)
        check_sweep(file, [p.scenario for p in sweep.points], sweep.replications, pending, workers or os.cpu_count() or 1)
    click.echo(f"Plan '{chosen.name}': lever sweep of {sweep.runs} runs on {executor} -> {folder}/sweep", err=True)
    try:
        result = run_plan(chosen, folder, target_change, executor=executor, workers=workers, resume=resume, notify=note,
                          progress=True)
    except SweepInterrupted as exc:
        fail([f"{exc} (finish with --resume)"], exc.exit_status)
    for row in result.cheapest(top).to_dict("records"):
        click.echo(f"{money(row['annual_cost']):>8} a year  {signed_percent(row['predicted_change']):>7} "
                   f"({signed_percent(row['ci_low'])} to {signed_percent(row['ci_high'])})  {changes_in_words(result, row)}")
    click.echo(headline(result).replace("**", ""))
    click.echo(f"Every option: {folder}/options.parquet; confirmed: {folder}/confirmed.parquet")
    again = (f" -p target_change {target_change}" if target_change is not None else "") + (
        f" -p overrides {shlex.quote(json.dumps(list(overrides)))}" if overrides else "")
    click.echo(f"The report from these runs: funnelsim report what_it_takes -p plan_file {shlex.quote(file)} "
               f"-p plan_dir {shlex.quote(str(folder))}{again}")


@click.command()
@click.option("--baseline", default=BASELINE_FILE, show_default=True, type=Input(dir_okay=False),
              help="The typical company whose uncertain parameters are fitted.")
@click.option("--targets", "targets_file", default=TARGETS_FILE, show_default=True, type=Input(dir_okay=False),
              help="Published figures to fit to.")
@click.option("--waves", default="160,120", show_default=True, help="Points simulated in each history-matching wave.")
@click.option("--confirm", "confirm_size", default=90, show_default=True, type=click.IntRange(min=1), help="Points simulated in full to confirm the ensemble.")
@click.option("--seed", "-s", default=20261122, show_default=True, type=click.IntRange(min=0, max=2**32 - 1), help="Root seed.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel processes [default: CPU count].")
@click.option("--work", "work_dir", default=str(REPORTS_DIR / "ensemble-fit"), show_default=True, type=click.Path(file_okay=False),
              help="Folder for each wave's runs (a rerun reuses the waves already there).")
@click.option("--out", "out_file", default=str(ENSEMBLE_FILE), show_default=True, type=click.Path(dir_okay=False),
              help="The ensemble: one row per parameter set consistent with the evidence.")
@reports_errors
def ensemble(baseline: str, targets_file: str, waves: str, confirm_size: int, seed: int,
             workers: int | None, work_dir: str, out_file: str) -> None:
    """Fit the uncertain parameters to the published figures (history matching).

    Simulates waves of points over the parameters' ranges, fits an emulator per published
    figure, rules out the points that cannot reproduce it, and confirms the rest by direct
    simulation. Writes every confirmed point, marking the members of the ensemble and the
    baseline's point. Takes an hour or more; an interrupted fit resumes from --work. The
    parameters and their ranges are those of the lever registry (funnelsim.config.levers).
    """
    from funnelsim.studies.ensemble import (
        NothingLeft,
        calibration_targets,
        confirm,
        history_match,
        implausibility,
        load_uncertain,
        prior_sample,
    )
    from funnelsim.studies.targets import load_targets

    base = load_scenario(baseline)
    targets = calibration_targets(load_targets(targets_file))
    parameters = load_uncertain()
    try:
        sizes = [int(w) for w in waves.split(",")]
    except ValueError:
        raise InputError(f"--waves {waves}: a comma-separated list of whole numbers, e.g. 160,120") from None
    workers = workers or os.cpu_count() or 1
    folder = Path(work_dir)
    click.echo(f"Fitting {len(parameters)} parameters to {len(targets)} published figures: waves of {waves} points, "
               f"then {confirm_size} confirmed, on {workers} processes -> {folder}", err=True)
    match = history_match(base, parameters, targets, sizes, seed, workers, folder=folder)
    for k, share in enumerate(match.remaining[1:], 1):
        click.echo(f"wave {k}: {len(match.runs[k - 1])} points simulated; {share:.2%} of the parameter space not ruled out")
    click.echo(match.emulator.quality().to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    try:
        confirmed = confirm(match, base, parameters, targets, confirm_size, seed, workers, folder=folder)
    except NothingLeft as exc:
        worst = implausibility(match.emulator, prior_sample(parameters, 5000, seed)).drop(columns="max").median()
        click.echo(f"{exc}. Median implausibility by figure over the prior: "
                   + ", ".join(f"{k} {v:.1f}" for k, v in worst.sort_values(ascending=False).items()), err=True)
        sys.exit(1)
    target = Path(out_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    confirmed.to_csv(target, index=False)
    members = int(confirmed["member"].sum())
    click.echo(f"{members} of {len(confirmed)} confirmed points are consistent with every published figure; written to {target}")
    chosen = confirmed[confirmed["baseline"]]
    if len(chosen):
        click.echo("The baseline's point:")
        for p in parameters:
            click.echo(f"  {p.key}: {chosen.iloc[0][p.key]:.4g}")


def _pairs(texts: tuple[str, ...], option: str, what: str, example: str) -> dict[str, float]:
    """``NAME=NUMBER`` pairs of a repeatable option; a bad one is an ``InputError`` (one line)."""
    out: dict[str, float] = {}
    for text in texts:
        name, sep, raw = text.partition("=")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not sep or not name.strip() or not math.isfinite(value):
            raise InputError(f"{option} {text[:60]}: expected {what}=NUMBER, e.g. {option} {example}")
        out[name.strip()] = value
    return out


def _check_kpis(kpis: list[str]) -> None:
    import difflib

    from funnelsim.model.records import REPLICATION_COLUMNS

    known = [k for k, (_, unit, _) in REPLICATION_COLUMNS.items() if unit != "-"]
    for kpi in kpis:
        if kpi not in known:
            close = difflib.get_close_matches(kpi, known, n=1)
            hint = f"did you mean {close[0]}?" if close else "funnelsim dictionary --table replications lists them"
            raise InputError(f"--kpi {kpi[:60]}: not a KPI of the runs; {hint}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=Input(dir_okay=False))
@click.option("--baseline", type=Input(dir_okay=False), help="The reference company every effect is measured against [default: the first FILE].")
@click.option("--draws", "-n", default=DEFAULT_DRAWS, show_default=True, type=int, help="Members of the evidence ensemble to run over (at most its size).")
@click.option("--replications", "-r", default=DEFAULT_PSA_REPLICATIONS, show_default=True, type=int, help="Replications per draw (common random numbers).")
@click.option("--seed", "-s", default=20261122, show_default=True, type=click.IntRange(min=0, max=MAX_SEED), help="Root seed (also chooses the draws).")
@click.option("--kpi", "kpis", multiple=True, metavar="KPI", help="KPI to summarise (repeatable) [default: revenue and wins].")
@click.option("--threshold", "thresholds", multiple=True, metavar="KPI=CHANGE", help="Also give P(effect > CHANGE), e.g. revenue=0.10 (repeatable).")
@click.option("--cost", "costs", multiple=True, metavar="SCENARIO=AMOUNT", help="Annual cost of choosing SCENARIO over the reference (repeatable).")
@click.option("--horizon", type=click.FloatRange(min=1), help="Days simulated, for every scenario [default: each file's; see the README before shortening].")
@click.option("--warmup", type=click.FloatRange(min=0), help="Warm-up days left out of the KPIs [default: each file's].")
@click.option("--ensemble", "ensemble_file", default=str(ENSEMBLE_FILE), show_default=True, type=Input(dir_okay=False), help="The evidence ensemble, as funnelsim ensemble writes it.")
@click.option("--executor", type=click.Choice(EXECUTORS), default="processes", show_default=True, help="Where runs happen.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel workers [default: CPU count].")
@click.option("--scheduler", metavar="ADDRESS", help="Address of a running Dask scheduler (with --executor dask).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Results folder [default: reports/uncertainty/<scenarios>].")
@click.option("--resume", is_flag=True, help="Finish an interrupted study (or analyse a finished one again).")
@click.option("--yes", "-y", is_flag=True, help="Start a large study without asking.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@reports_errors
def uncertainty(files: tuple[str, ...], baseline: str | None, draws: int, replications: int, seed: int,
                kpis: tuple[str, ...], thresholds: tuple[str, ...], costs: tuple[str, ...], horizon: float | None,
                warmup: float | None, ensemble_file: str, executor: str, workers: int | None, scheduler: str | None,
                out_dir: str | None, resume: bool, yes: bool, no_progress: bool) -> None:
    """How sure are we: every scenario FILE over the evidence ensemble, with its range across
    plausible models beside its simulation noise, what drives it and what is worth measuring.

    Effects are measured against --baseline (default: the first FILE), paired by draw and
    replication. Parameters a file sets itself (e.g. from funnelsim calibrate) stay fixed.
    """
    from funnelsim.experiments.preflight import check_runs, check_sweep
    from funnelsim.experiments.results import ResultStore
    from funnelsim.present.vocabulary import kpi_name, scenario_name
    from funnelsim.studies.uncertainty import DEFAULT_KPIS, build_study, run_uncertainty
    from funnelsim.studies.uncertainty_results import analyse, format_report, write_report

    if draws < 1:
        raise InputError(f"--draws {draws}: allowed: 1 or more (members of the evidence ensemble)")
    if replications < 1:
        raise InputError(f"--replications {replications}: allowed: 1 or more (2 or more measure simulation noise)")
    if scheduler and executor != "dask":
        raise InputError("--scheduler needs --executor dask")
    chosen_kpis = list(dict.fromkeys(kpis or DEFAULT_KPIS))
    threshold_of = _pairs(thresholds, "--threshold", "KPI", "revenue=0.10")
    chosen_kpis += [k for k in threshold_of if k not in chosen_kpis]
    _check_kpis(chosen_kpis)
    cost_of = _pairs(costs, "--cost", "SCENARIO", "closed-loop=40000")
    study = build_study(files, baseline, draws, replications, seed, horizon, warmup, ensemble_file)
    names = [o.name for o in study.options]
    unknown = [name for name in cost_of if name not in names]
    if unknown:
        raise InputError(f"--cost {unknown[0][:60]}: not one of the scenarios ({', '.join(names)})")
    folder = Path(out_dir) if out_dir else REPORTS_DIR / "uncertainty" / slug("-".join(names))
    if not (yes or resume):
        check_runs(study.sweep.name, len(study.sweep.points), replications)
    pending = study.runs - (len(ResultStore(folder).finished()) if resume else 0)
    if not yes:
        check_sweep(study.sweep.name, [p.scenario for p in study.sweep.points], replications, pending,
                    workers or os.cpu_count() or 1)
    click.echo(
        f"Uncertainty: {len(names)} scenarios x {draws} draws x {replications} replications = {study.runs} runs "
        f"(reference: {study.reference}) on {executor} -> {folder}",
        err=True,
    )
    run_uncertainty(study, folder, executor, workers, scheduler, resume, progress=not no_progress, notify=note)
    report = analyse(folder, chosen_kpis, threshold_of, cost_of)
    click.echo(format_report(report, scenario_name, kpi_name))
    written = write_report(report, folder)
    click.echo(f"\nTables (CSV and parquet) in {written}/")

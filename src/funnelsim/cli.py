"""The ``funnelsim`` command line: a thin layer over parameters, experiments and outputs.

``funnelsim validate FILE...`` checks scenario files; ``funnelsim run FILE`` simulates one
scenario, writes its tables as parquet with a manifest, and prints the KPI table. A bad
parameter file or ``--set`` value prints ``FILE: key.path: value: what is allowed`` and exits
with status 2, without a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click
import numpy as np
import yaml

from funnelsim import __version__
from funnelsim.calibration import calibrate as calibrate_export
from funnelsim.calibration import display_value
from funnelsim.assessment import ANSWERS, QUESTIONS, load_answers, write_scenario
from funnelsim.assessment import assess as assess_answers
from funnelsim.crm_export import load_mapping, read_export
from funnelsim.config import PARAMS_DIR, REPORTS_DIR, default_run_dir, default_sweep_dir
from funnelsim.execution import EXECUTORS, ResumeMismatch, SweepInterrupted, run_sweep
from funnelsim.experiment import NonFiniteKPI, run_scenario
from funnelsim.outputs import format_summary, spreadsheet_safe, write_run, write_tables
from funnelsim.params import ParameterError, load_scenario
from funnelsim.planning import load_plan, plan_sweep, what_it_takes
from funnelsim.preflight import check_run, check_runs, check_sweep
from funnelsim.records import data_dictionary
from funnelsim.reports import ReportFailed, notebook_path, parameters_from_file, render_batch, render_report
from funnelsim.results import ResultStore, load_results
from funnelsim.sweeps import load_sweep, sweep_size

__all__ = ["main"]

_SET_HELP = "Override any value, e.g. --set sdr_team.reps=8 (repeatable; the value is YAML)."


def _fail(lines: list[str], status: int) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(status)


def _load(path: str, overrides: tuple[str, ...]):
    try:
        return load_scenario(path, overrides)
    except ParameterError as exc:
        for line in exc.lines:
            click.echo(line, err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="funnelsim")
def main() -> None:
    """Simulate the marketing-to-sales funnel and what alignment is worth in revenue."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=_SET_HELP)
def validate(files: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Check scenario FILES; print every problem and exit 2 if any file is invalid."""
    failed = False
    for path in files:
        try:
            load_scenario(path, overrides)
            click.echo(f"{path}: ok")
        except ParameterError as exc:
            failed = True
            for line in exc.lines:
                click.echo(line, err=True)
    if failed:
        sys.exit(2)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--replications", "-r", default=10, show_default=True, type=click.IntRange(min=1), help="Independent runs.")
@click.option("--seed", "-s", default=20261122, show_default=True, type=click.IntRange(min=0), help="Root seed.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder [default: reports/runs/<scenario>-<time>].")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=_SET_HELP)
@click.option("--yes", "-y", is_flag=True, help="Start a large run without asking.")
def run(file: str, replications: int, seed: int, out_dir: str | None, overrides: tuple[str, ...], yes: bool) -> None:
    """Simulate scenario FILE, write its tables and manifest, and print the KPI table."""
    scenario = _load(file, overrides)
    try:
        if not yes:
            check_run(scenario, replications, file)
        click.echo(f"Simulating '{scenario.name}': {replications} replications, seed {seed} ...", err=True)
        result = run_scenario(scenario, replications, seed)
    except ParameterError as exc:
        _fail(exc.lines, 2)
    except NonFiniteKPI as exc:
        _fail([str(exc)], 1)
    target = Path(out_dir) if out_dir else default_run_dir(scenario.name)
    write_run(result, target, source=file, overrides=list(overrides))
    click.echo(format_summary(result))
    click.echo(f"\nTables and manifest written to {target}/")


@main.command()
@click.option("--table", type=click.Choice(["leads", "daily", "replications"]), help="Only this table.")
def dictionary(table: str | None) -> None:
    """Print the data dictionary: every output column with its unit and meaning."""
    frame = data_dictionary()
    if table:
        frame = frame[frame["table"] == table]
    for current, rows in frame.groupby("table", sort=False):
        click.echo(f"\n{current}")
        for row in rows.itertuples():
            click.echo(f"  {row.column:<30}{row.unit:<18}{row.meaning}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Replications per point [default: the sweep file's].")
@click.option("--seed", "-s", type=click.IntRange(min=0), help="Root seed [default: the sweep file's].")
@click.option("--executor", type=click.Choice(EXECUTORS), default="processes", show_default=True, help="Where runs happen.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel workers [default: CPU count].")
@click.option("--scheduler", metavar="ADDRESS", help="Address of a running Dask scheduler (with --executor dask).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Results folder [default: reports/sweeps/<sweep>].")
@click.option("--resume", is_flag=True, help="Finish an interrupted sweep: run only the missing runs.")
@click.option("--save-leads", is_flag=True, help="Also save every run's leads table (large).")
@click.option("--no-crn", is_flag=True, help="Independent seeds per point instead of common random numbers.")
@click.option("--yes", "-y", is_flag=True, help="Start a large sweep without asking.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
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
    try:
        if not (yes or resume):  # sized before any point is built
            points, file_replications = sweep_size(file)
            check_runs(file, points, replications or file_replications)
        plan = load_sweep(file)
    except ParameterError as exc:
        _fail(exc.lines, 2)
    plan = plan.with_options(replications=replications, seed=seed, common_random_numbers=False if no_crn else None)
    if scheduler and executor != "dask":
        click.echo("--scheduler needs --executor dask", err=True)
        sys.exit(2)
    store = ResultStore(Path(out_dir) if out_dir else default_sweep_dir(plan.name))
    pending = plan.runs - (len(store.finished()) if resume else 0)
    if not yes:
        try:
            check_sweep(plan.name, [p.scenario for p in plan.points], plan.replications, pending, workers or os.cpu_count() or 1)
        except ParameterError as exc:
            _fail(exc.lines, 2)
    click.echo(
        f"Sweep '{plan.name}': {len(plan.points)} points x {plan.replications} replications "
        f"= {plan.runs} runs on {executor} -> {store.folder}",
        err=True,
    )
    try:
        ran = run_sweep(plan, store, executor, workers, scheduler, resume, save_leads, progress=not no_progress)
    except ResumeMismatch as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except SweepInterrupted as exc:
        click.echo(str(exc), err=True)
        sys.exit(130 if exc.args and "interrupted" in str(exc) else 1)
    click.echo(f"{ran} runs done; results in {store.folder} (load with funnelsim.load_results)")


@main.command()
@click.argument("notebook")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, exists=True))
@click.option("-f", "--parameters-file", "params_file", type=click.Path(dir_okay=False, exists=True), help="A scenario file, or a YAML file of notebook parameters.")
@click.option("-p", "--parameter", "pairs", nargs=2, multiple=True, metavar="NAME VALUE", help="Set a notebook parameter (VALUE is YAML).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Report folder [default: reports/<notebook>/<scenario>-<time>].")
@click.option("--batch", is_flag=True, help="One report per FILE (scenario or parameter files), on one kernel.")
def report(notebook: str, files: tuple[str, ...], params_file: str | None, pairs: tuple[tuple[str, str], ...], out_dir: str | None, batch: bool) -> None:
    """Render NOTEBOOK (a name in notebooks/ or a path) as an HTML report.

    \b
    funnelsim report scenario_report -f params/scenarios/closed-loop.yaml
    funnelsim report alignment_impact -p replications 20
    funnelsim report scenario_report --batch params/scenarios/*.yaml
    """
    try:
        path = notebook_path(notebook)
    except FileNotFoundError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    extra = {name: yaml.safe_load(value) for name, value in pairs}
    try:
        if batch or files:
            if not batch or params_file or out_dir:
                click.echo("give several FILES with --batch (and neither -f nor --out)", err=True)
                sys.exit(2)
            sets = [{**parameters_from_file(path, Path(f)), **extra} for f in files]
            pages = render_batch(path, sets)
            for page in pages:
                click.echo(page)
        else:
            parameters = {**(parameters_from_file(path, Path(params_file)) if params_file else {}), **extra}
            page = render_report(path, parameters, Path(out_dir) if out_dir else None)
            click.echo(f"Report written to {page}")
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except ReportFailed as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)



@main.command()
@click.argument("answers", required=False, type=click.Path(dir_okay=False))
@click.option("--company", help="Company name (asked for when answering interactively).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Scenario file to write [default: params/<company>.yaml].")
@click.option("--baseline", default=str(PARAMS_DIR / "baseline.yaml"), show_default=True, type=click.Path(dir_okay=False, exists=True), help="Scenario the company's file extends.")
def assess(answers: str | None, company: str | None, out_file: str | None, baseline: str) -> None:
    """Alignment assessment: a maturity level and a scenario file for a company.

    Answer the eleven questions interactively, or give a YAML file ANSWERS with
    `company:` and `answers:` (question: yes, partly or no); see params/assessments/.
    """
    try:
        if answers:
            result = load_answers(answers)
        else:
            company = company or click.prompt("Company")
            given = {}
            for number, (item, question) in enumerate(QUESTIONS.items(), 1):
                given[item] = click.prompt(
                    f"{number:>2}. {question.text}", type=click.Choice(list(ANSWERS)), default="partly"
                )
            result = assess_answers(company, given)
        slug = "-".join(result.company.lower().split()) or "company"
        target = Path(out_file) if out_file else PARAMS_DIR / f"{slug}.yaml"
        write_scenario(result, target, Path(baseline))
    except ParameterError as exc:
        for line in exc.lines:
            click.echo(line, err=True)
        sys.exit(2)
    click.echo(f"{result.company}: {result.level} ({result.score:.0%} of the signs of alignment)")
    for item, value in result.answers.items():
        click.echo(f"  {item:<24}{value:>5.1f}")
    click.echo(f"Scenario written to {target}; simulate it with: funnelsim run {target}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--target", "target_change", type=float, help="Relative change of the plan's KPI to reach, e.g. 0.2 [default: the plan file's].")
@click.option("--executor", type=click.Choice(EXECUTORS), default="processes", show_default=True, help="Where the lever sweep runs.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel workers [default: CPU count].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Results folder [default: reports/plans/<plan>].")
@click.option("--resume", is_flag=True, help="Reuse the finished runs of an interrupted plan in --out.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="Cheapest options printed.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=_SET_HELP)
@click.option("--yes", "-y", is_flag=True, help="Start a large plan without asking.")
def plan(file: str, target_change: float | None, executor: str, workers: int | None, out_dir: str | None,
         resume: bool, top: int, overrides: tuple[str, ...], yes: bool) -> None:
    """What it takes: the cheapest levers on offer in plan FILE that reach its target.

    Sweeps the levers, fits a response surface, ranks every combination on offer by its annual
    cost, and confirms the cheapest by direct simulation (see params/plans/).
    """
    try:
        chosen = load_plan(file, overrides)
        if not (yes or resume):  # sized before the lever sweep is built
            check_runs(file, chosen.spec.points, chosen.spec.replications)
        sweep = plan_sweep(chosen)
        folder = Path(out_dir) if out_dir else REPORTS_DIR / "plans" / chosen.name
        if not yes:
            pending = sweep.runs - (len(ResultStore(folder / "sweep").finished()) if resume else 0)
            check_sweep(file, [p.scenario for p in sweep.points], sweep.replications, pending, workers or os.cpu_count() or 1)
    except ParameterError as exc:
        _fail(exc.lines, 2)
    if target_change is not None:
        chosen = chosen.with_target(target_change)
    click.echo(f"Plan '{chosen.name}': lever sweep of {sweep.runs} runs on {executor} -> {folder}/sweep", err=True)
    try:
        run_sweep(sweep, ResultStore(folder / "sweep"), executor, workers, resume=resume)
    except ResumeMismatch as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except SweepInterrupted as exc:
        click.echo(f"{exc} (finish with --resume)", err=True)
        sys.exit(130 if "interrupted" in str(exc) else 1)
    result = what_it_takes(chosen, load_results(folder / "sweep").runs)
    write_tables(folder, options=result.options, confirmed=result.confirmed)
    shown = result.options[result.options["reaches_target"]].head(top)
    for row in shown.itertuples():
        click.echo(f"{row.annual_cost:>12,.0f} a year  {row.predicted_change:+7.1%} "
                   f"({row.ci_low:+.1%} to {row.ci_high:+.1%})  {row.levers_changed}")
    click.echo(result.sentence)
    click.echo(f"Every option: {folder}/options.parquet; confirmed: {folder}/confirmed.parquet")


@main.command()
@click.argument("export", type=click.Path(dir_okay=False))
@click.option("--mapping", "-m", type=click.Path(dir_okay=False), help="YAML mapping of our fields to the export's columns (see examples/).")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="Scenario file to write, e.g. params/mycompany.yaml.")
@click.option("--baseline", default=str(PARAMS_DIR / "baseline.yaml"), show_default=True, type=click.Path(dir_okay=False, exists=True),
              help="Scenario the calibrated file extends; what the data cannot inform keeps its values.")
def calibrate(export: str, mapping: str | None, out_file: str, baseline: str) -> None:
    """Estimate a scenario from a CRM EXPORT (CSV or parquet, one row per lead).

    Bad rows (unreadable dates, stages out of order, negative amounts, unknown outcomes) are
    skipped, counted and listed in OUT.bad-rows.csv; every estimate is written with its CI.
    """
    target = Path(out_file)
    try:
        checked = read_export(export, load_mapping(mapping), mapping or "the mapping (--mapping)")
        click.echo(checked.summary())
        if checked.rows_skipped:
            report = target.with_suffix(".bad-rows.csv")
            report.parent.mkdir(parents=True, exist_ok=True)
            spreadsheet_safe(checked.bad_rows).to_csv(report, index=False)
            click.echo(f"Bad rows listed in {report}")
        if checked.leads.empty:
            raise ParameterError([f"{export}: no valid rows left to estimate from"])
        result = calibrate_export(checked, load_scenario(baseline))
        result.write(target, Path(baseline), checked.rows_skipped, checked.total_rows)
    except ParameterError as exc:
        for line in exc.lines:
            click.echo(line, err=True)
        sys.exit(2)
    estimated = result.estimates[result.estimates["source"] == "export"]
    width = max(map(len, estimated["key"]), default=0) + 2
    for row in estimated.itertuples():
        if row.key in result.settings:
            interval = f"  [{row.ci_low:.4g}, {row.ci_high:.4g}]" if np.isfinite(row.ci_low) else ""
            click.echo(f"  {row.key:<{width}}{display_value(row.value)}{interval}  n={int(row.n):,}")
    if len(result.kept):
        click.echo(f"Kept at the baseline (not estimable from this export, see the file's header): {', '.join(result.kept['key'])}")
    for row in result.kept[result.kept["method"].str.startswith("cannot estimate: ")].itertuples():
        click.echo(f"Cannot estimate {row.key}: {row.method.removeprefix('cannot estimate: ')}", err=True)
    click.echo(f"Scenario written to {target}; simulate it with: funnelsim run {target}")


"""The ``funnelsim`` command line: a thin layer over parameters, experiments and outputs.

``funnelsim validate FILE...`` checks scenario files; ``funnelsim run FILE`` simulates one
scenario, writes its tables as parquet with a manifest, and prints the KPI table. A bad
parameter file or ``--set`` value prints ``FILE: key.path: value: what is allowed`` and exits
with status 2, without a traceback.

Every command is wrapped in ``reports_errors``, the one place where an error becomes output and
an exit status, chosen by the error's type (``funnelsim.config.errors``): bad input (``InputError``,
``ParameterError`` among them) exits 2, a machine that could not do what was asked (a full
disk: ``WriteFailed``; a failed notebook cell) exits 1, a sweep stopped by Ctrl-C exits 130.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import click

from funnelsim import __version__
from funnelsim.config.errors import FunnelsimError, InputError, ParameterError, WriteFailed
from funnelsim.config.paths import (
    NOTEBOOKS_DIR,
    RENDERING_A_REPORT,
    REPORTS_DIR,
    default_plan_dir,
    default_run_dir,
    default_sweep_dir,
    locate,
    slug,
)
from funnelsim.config.schema import load_scenario

# The commands import what they need when they run (papermill, nbconvert, dask, statsmodels,
# pandas...), so `funnelsim validate` and `--help` do not pay seconds for libraries they never use.
# Files to read are named as a user would type them; ``Input`` finds them (``config.locate``: the
# working folder first, then the files shipped with funnelsim), so --help shows no install path.
BASELINE_FILE = "params/baseline.yaml"
TARGETS_FILE = "params/targets/published.yaml"
# Files written by default go under the working folder (from a checkout: the checkout's own).
ENSEMBLE_FILE = Path("params") / "ensemble" / "evidence.csv"
ASSESS_DIR = Path("params")  # where `assess` writes <company>.yaml without --out

__all__ = ["main"]

MAX_SEED = 2**63 - 1  # seeds are saved in int64 columns
EXECUTORS = ("serial", "processes", "dask")  # as funnelsim.experiments.execution.EXECUTORS (a test checks)
DEFAULT_DRAWS = 30  # as funnelsim.studies.uncertainty.DEFAULT_DRAWS (a test checks; the README says why)
DEFAULT_PSA_REPLICATIONS = 2  # as funnelsim.studies.uncertainty.DEFAULT_REPLICATIONS
_SET_HELP = "Override any value, e.g. --set sdr_team.reps=8 (repeatable; the value is YAML)."


def _fail(lines: list[str], status: int = 2) -> NoReturn:
    """Print each line to stderr and exit (2: bad input; 1: the machine, e.g. a full disk)."""
    for line in lines:
        click.echo(line, err=True)
    sys.exit(status)


def _note(message: str) -> None:
    click.echo(message, err=True)


class Input(click.Path):
    """A file to read: as given (relative to the working folder), else the file of that name
    shipped with funnelsim (``params/...``, ``examples/...``; see ``config.locate``)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (str, os.PathLike)) and locate(value) != Path(value):
            value = str(locate(value))  # else kept as typed, so messages name it as typed
        return super().convert(value, param, ctx)


Command = TypeVar("Command", bound=Callable[..., Any])


def reports_errors(command: Command) -> Command:
    """Run ``command``; an error of ours prints its lines to stderr and exits with its status.

    The status comes from the error's type (``funnelsim.config.errors``): 2 for bad input (a parameter
    file, a results folder of another sweep, a busy folder, a missing notebook), 1 when the
    machine failed (``WriteFailed``: a full disk; a notebook cell; a KPI that overflowed), 130
    for a sweep stopped by Ctrl-C. Anything else is a bug and keeps its traceback.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except FunnelsimError as exc:
            _fail(exc.messages(), exc.exit_status)

    return cast(Command, wrapper)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="funnelsim")
def main() -> None:
    """Simulate the marketing-to-sales funnel and what alignment is worth in revenue."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=Input(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=_SET_HELP)
@reports_errors
def validate(files: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Check scenario FILES; print every problem and exit 2 if any file is invalid."""
    failed = False
    for path in files:
        try:
            load_scenario(path, overrides)
            click.echo(f"{path}: ok")
        except ParameterError as exc:  # tell, and go on to the next file
            failed = True
            for line in exc.lines:
                click.echo(line, err=True)
    if failed:
        sys.exit(InputError.exit_status)  # every problem is printed above, file by file


@main.command()
@click.argument("file", type=Input(dir_okay=False))
@click.option("--replications", "-r", default=10, show_default=True, type=click.IntRange(min=1), help="Independent runs.")
@click.option("--seed", "-s", default=20261122, show_default=True, type=click.IntRange(min=0, max=MAX_SEED), help="Root seed.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel processes [default: CPU count].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder [default: reports/runs/<scenario>-<time>].")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=_SET_HELP)
@click.option("--yes", "-y", is_flag=True, help="Start a large run without asking.")
@reports_errors
def run(file: str, replications: int, seed: int, workers: int | None, out_dir: str | None, overrides: tuple[str, ...],
        yes: bool) -> None:
    """Simulate scenario FILE, write its tables and manifest, and print the KPI table.

    The replications run on WORKERS local processes; the tables are the same on any number."""
    from funnelsim.experiments.experiment import local_workers, run_scenario
    from funnelsim.experiments.outputs import RunWriter
    from funnelsim.experiments.preflight import check_run
    from funnelsim.present.vocabulary import kpi_summary_text

    scenario = load_scenario(file, overrides)
    workers = workers or local_workers()
    if not yes:
        check_run(scenario, replications, file, workers)
    click.echo(f"Simulating '{scenario.name}': {replications} replications, seed {seed} ...", err=True)
    target = Path(out_dir) if out_dir else default_run_dir(scenario.name)
    with RunWriter(target) as writer:  # the leads go to disk replication by replication
        result = run_scenario(scenario, replications, seed, workers, leads_to=writer.add_leads)
        sim = scenario.simulation
        heading = (f"Scenario '{scenario.name}': {replications} replications, seed {seed}, KPIs over days "
                   f"{sim.warmup_days:g}-{sim.horizon_days:g}")
        click.echo(kpi_summary_text(result.summary(), heading))  # first: a full disk must not cost the answer
        try:
            writer.finish(result, source=file, overrides=list(overrides))
        except WriteFailed as exc:
            kept = f"the KPI table above is all that is kept of this run (nothing half-written was left in {target})"
            raise WriteFailed(exc.path, f"{exc.reason}; {kept}") from None
    click.echo(f"\nTables and manifest written to {target}/")
    click.echo(f"Its leads read as a CRM export: funnelsim calibrate {target}/leads.parquet --out <scenario file>")


def _measured(row: Any) -> str:
    if not math.isfinite(row.model):
        return "-"
    text = _short_number(row.model)
    if math.isfinite(row.ci_low) and (row.ci_low != row.model or row.ci_high != row.model):
        text += f" [{_short_number(row.ci_low)}, {_short_number(row.ci_high)}]"
    return text


def _short_number(value: float) -> str:
    if abs(value) < 1:
        return f"{value:.1%}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@main.command()
@click.argument("files", nargs=-1, required=True, type=Input(dir_okay=False))
@click.option("--targets", "targets_file", default=TARGETS_FILE, show_default=True, type=Input(dir_okay=False),
              help="Published figures to check against (see params/targets/).")
@click.option("--replications", "-r", default=3, show_default=True, type=click.IntRange(min=2, max=1000), help="Replications per scenario.")
@click.option("--seed", "-s", default=20261122, show_default=True, type=click.IntRange(min=0, max=2**63 - 1), help="Root seed.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel processes [default: CPU count].")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=_SET_HELP)
@reports_errors
def check(files: tuple[str, ...], targets_file: str, replications: int, seed: int, workers: int | None, overrides: tuple[str, ...]) -> None:
    """Check scenario FILES against the published evidence and for plausibility.

    Each published figure that applies to a scenario is set beside the model's value, measured
    the way the study measured it (95% CI), with a verdict; then every scenario must pass the
    plausibility checks (no queue growing without bound, a CAC the company survives, teams not
    overloaded), and maturity levels must keep their order. Exits 1 when a high-trust figure or
    a plausibility check fails.
    """
    from funnelsim.present.vocabulary import format_kpi, kpi_name, scenario_name
    from funnelsim.studies.check import check_scenarios
    from funnelsim.studies.targets import load_targets

    targets = load_targets(targets_file)
    scenarios = [load_scenario(f, overrides) for f in files]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"scenario names must differ to be checked together: {', '.join(names)}")
    click.echo(f"Checking {len(scenarios)} scenario(s): {replications} replications each, seed {seed} ...", err=True)
    result = check_scenarios(scenarios, targets, replications, seed, workers or os.cpu_count() or 1)
    r: Any  # a row of a result table (itertuples)
    for name in names:
        rows = result.targets[result.targets["scenario"] == name]
        role = rows["role"].iloc[0] if len(rows) else "typical"
        click.echo(f"\n== {name} ({role}) ==")
        click.echo(f"{'target':<34}{'trust':<10}{'published':<22}{'this company':<22}{'model [95% CI]':<34}verdict")
        for r in rows.itertuples():
            click.echo(f"{r.target:<34}{r.trust:<10}{r.published:<22}{r.for_this_company:<22}{_measured(r):<34}{r.verdict}")
        for r in result.plausibility[result.plausibility["scenario"] == name].itertuples():
            click.echo(f"  {'pass' if r.passes else 'FAIL'}  {r.check}: {r.measured} ({r.limit})")
    if len(result.order):
        click.echo("\n== maturity levels in order ==")
        for r in result.order.itertuples():
            shown = ", ".join(f"{scenario_name(n)} {format_kpi(r.kpi, m)}" for n, m in zip(r.scenarios, r.means))
            click.echo(f"  {'pass' if r.in_order else 'FAIL'}  {kpi_name(r.kpi)}: {shown}")
    if len(result.claims):
        click.echo("\n== alignment claims ==")
        for r in result.claims.itertuples():
            claimed = "-" if not math.isfinite(r.claimed) else f"{r.claimed:+.0%}"
            said = f"{r.statement} ({r.source.split('(')[0].split(':')[0].strip()}, {r.trust})"
            click.echo(f"  {said}\n      claimed {claimed:<8}model {_measured(r):<30}{r.verdict}")
    if result.passed:
        click.echo("\nCheck passed: no high-trust figure outside its range, every plausibility check passed.")
        return
    click.echo("\nCheck FAILED:", err=True)
    for line in result.failures:
        click.echo(f"  {line}", err=True)
    sys.exit(1)


@main.command()
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


@main.command()
@click.argument("scenario", required=False, default=BASELINE_FILE, type=Input(dir_okay=False))
@click.option("--port", type=click.IntRange(1024, 65535), default=8866, show_default=True, help="Port on this machine to serve it on.")
@reports_errors
def app(scenario: str, port: int) -> None:
    """The what-if explorer in the browser: SCENARIO's company (default: the baseline) on sliders.

    Serves notebooks/explorer.ipynb with Voila on this machine only (127.0.0.1) and prints its
    URL; every slider move re-runs five months of the company beside the unchanged one. Ctrl+C
    stops it.
    """
    import socket
    import subprocess

    from funnelsim.present.explorer import EXPLORER_SCENARIO

    load_scenario(scenario)  # a bad file is a clear error before anything starts
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            _fail([f"--port {port}: in use on this machine; choose another, e.g. --port {port + 1}"])
    env = {**os.environ, EXPLORER_SCENARIO: str(Path(scenario).resolve())}
    env.pop(RENDERING_A_REPORT, None)
    command = [sys.executable, "-m", "voila", str(NOTEBOOKS_DIR / "explorer.ipynb"), f"--port={port}", "--no-browser",
               "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"]
    click.echo(f"The what-if explorer, starting from {scenario}: http://127.0.0.1:{port}/  (Ctrl+C stops it)")
    try:
        status = subprocess.run(command, env=env, check=False).returncode
    except KeyboardInterrupt:
        status = 0
    sys.exit(status)


@main.command()
@click.option("--table", type=click.Choice(["leads", "daily", "replications"]), help="Only this table.")
def dictionary(table: str | None) -> None:
    """Print the data dictionary: every output column with its unit and meaning."""
    from funnelsim.model.records import data_dictionary

    frame = data_dictionary()
    if table:
        frame = frame[frame["table"] == table]
    for current, rows in frame.groupby("table", sort=False):
        click.echo(f"\n{current}")
        for row in rows.itertuples():
            click.echo(f"  {row.column:<30}{row.unit:<18}{row.meaning}")


@main.command()
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
    ran = run_sweep(plan, store, executor, workers, scheduler, resume, save_leads, progress=not no_progress, notify=_note)
    click.echo(f"{ran} runs done; results in {store.folder} (load with funnelsim.load_results)")


@main.command()
@click.argument("notebook")
@click.argument("files", nargs=-1, type=Input(dir_okay=False, exists=True))
@click.option("-f", "--parameters-file", "params_file", type=Input(dir_okay=False, exists=True), help="A scenario file, or a YAML file of notebook parameters.")
@click.option("-p", "--parameter", "pairs", nargs=2, multiple=True, metavar="NAME VALUE", help="Set a notebook parameter (VALUE is YAML).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Report folder [default: reports/<notebook>/<scenario>-<time>].")
@click.option("--batch", is_flag=True, help="One report per FILE (scenario or parameter files), on one kernel.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@reports_errors
def report(notebook: str, files: tuple[str, ...], params_file: str | None, pairs: tuple[tuple[str, str], ...], out_dir: str | None,
           batch: bool, no_progress: bool) -> None:
    """Render NOTEBOOK (a name in notebooks/ or a path) as an HTML report.

    \b
    funnelsim report scenario_report -f params/scenarios/closed-loop.yaml
    funnelsim report alignment_impact -p replications 20
    funnelsim report scenario_report --batch params/scenarios/*.yaml

    Only the notebook's declared parameters are taken, with values of their declared types;
    anything else is refused before a kernel starts.
    """
    from funnelsim.present.reports import (
        notebook_path,
        parameters_from_file,
        parameters_from_pairs,
        render_batch,
        render_report,
    )

    path = notebook_path(notebook)
    if (batch or files) and (not batch or params_file or out_dir):
        raise InputError("give several FILES with --batch (and neither -f nor --out)")
    extra = parameters_from_pairs(path, pairs)
    if batch:
        pages = render_batch(path, [{**parameters_from_file(path, Path(f)), **extra} for f in files], progress=not no_progress)
        for page in pages:
            click.echo(page)
    else:
        parameters = {**(parameters_from_file(path, Path(params_file)) if params_file else {}), **extra}
        page = render_report(path, parameters, Path(out_dir) if out_dir else None, progress=not no_progress)
        click.echo(f"Report written to {page}")


@main.command()
@click.argument("answers", required=False, type=Input(dir_okay=False))
@click.option("--company", help="Company name (asked for when answering interactively).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Scenario file to write [default: params/<company>.yaml].")
@click.option("--baseline", default=BASELINE_FILE, show_default=True, type=Input(dir_okay=False, exists=True), help="Scenario the company's file extends.")
@click.option("--force", is_flag=True, help="Replace the scenario file if it exists (never the baseline).")
@click.option("--keep-teams", is_flag=True, help="Keep the baseline's SDR and AE teams instead of sizing them for the company's lead flow.")
@reports_errors
def assess(answers: str | None, company: str | None, out_file: str | None, baseline: str, force: bool, keep_teams: bool) -> None:
    """Alignment assessment: a maturity level and a scenario file for a company.

    Answer the eleven questions interactively, or give a YAML file ANSWERS with
    `company:` and `answers:` (question: yes, partly or no); see params/assessments/.
    The file is params/<company>.yaml unless --out says otherwise; an existing file is kept
    unless --force is given, and the baseline is never replaced.
    """
    from funnelsim.config.files import check_scenario_target
    from funnelsim.studies.assessment import (
        ANSWERS,
        QUESTIONS,
        load_answers,
        write_scenario,
    )
    from funnelsim.studies.assessment import assess as assess_answers

    def target_for(name: str) -> Path:
        return Path(out_file) if out_file else ASSESS_DIR / f"{slug(name.lower(), 'company')}.yaml"

    if answers:
        result = load_answers(answers)
        target = target_for(result.company)
        check_scenario_target(target, Path(baseline), force)
    else:
        company = company or click.prompt("Company")
        target = target_for(company)
        check_scenario_target(target, Path(baseline), force)  # before eleven questions, not after
        given = {}
        for number, (item, question) in enumerate(QUESTIONS.items(), 1):
            given[item] = click.prompt(
                f"{number:>2}. {question.text}", type=click.Choice(list(ANSWERS)), default="partly"
            )
        result = assess_answers(company, given)
    try:
        write_scenario(result, target, Path(baseline), force, staff_teams=not keep_teams)
    except OSError as exc:
        raise WriteFailed(target, exc.strerror or str(exc)) from None
    click.echo(f"{result.company}: {result.level} ({result.score:.0%} of the signs of alignment)")
    for item, value in result.answers.items():
        click.echo(f"  {item:<24}{value:>5.1f}")
    click.echo(f"Scenario written to {target}; simulate it with: funnelsim run {target}")


@main.command()
@click.argument("file", type=Input(dir_okay=False))
@click.option("--target", "target_change", type=float, help="Relative change of the plan's KPI to reach, e.g. 0.2 [default: the plan file's].")
@click.option("--executor", type=click.Choice(EXECUTORS), default="processes", show_default=True, help="Where the lever sweep runs.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel workers [default: CPU count].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Results folder [default: reports/plans/<plan>].")
@click.option("--resume", is_flag=True, help="Reuse the finished runs of an interrupted plan in --out.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=1), help="Cheapest options printed.")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=_SET_HELP)
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
        result = run_plan(chosen, folder, target_change, executor=executor, workers=workers, resume=resume, notify=_note,
                          progress=True)
    except SweepInterrupted as exc:
        _fail([f"{exc} (finish with --resume)"], exc.exit_status)
    for row in result.cheapest(top).to_dict("records"):
        click.echo(f"{money(row['annual_cost']):>8} a year  {signed_percent(row['predicted_change']):>7} "
                   f"({signed_percent(row['ci_low'])} to {signed_percent(row['ci_high'])})  {changes_in_words(result, row)}")
    click.echo(headline(result).replace("**", ""))
    click.echo(f"Every option: {folder}/options.parquet; confirmed: {folder}/confirmed.parquet")
    again = (f" -p target_change {target_change}" if target_change is not None else "") + (
        f" -p overrides {shlex.quote(json.dumps(list(overrides)))}" if overrides else "")
    click.echo(f"The report from these runs: funnelsim report what_it_takes -p plan_file {shlex.quote(file)} "
               f"-p plan_dir {shlex.quote(str(folder))}{again}")


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


@main.command()
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
    run_uncertainty(study, folder, executor, workers, scheduler, resume, progress=not no_progress, notify=_note)
    report = analyse(folder, chosen_kpis, threshold_of, cost_of)
    click.echo(format_report(report, scenario_name, kpi_name))
    written = write_report(report, folder)
    click.echo(f"\nTables (CSV and parquet) in {written}/")


@main.command()
@click.argument("export", type=Input(dir_okay=False))
@click.option("--mapping", "-m", type=Input(dir_okay=False), help="YAML mapping of our fields to the export's columns (see examples/).")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="Scenario file to write, e.g. params/mycompany.yaml.")
@click.option("--baseline", default=BASELINE_FILE, show_default=True, type=Input(dir_okay=False, exists=True),
              help="Scenario the calibrated file extends; what the data cannot inform keeps its values.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists (never the baseline).")
@reports_errors
def calibrate(export: str, mapping: str | None, out_file: str, baseline: str, force: bool) -> None:
    """Estimate a scenario from a CRM EXPORT (CSV or parquet, one row per lead).

    Bad rows (unreadable dates, stages out of order, negative amounts, unknown outcomes) are
    skipped, counted and listed in OUT.bad-rows.csv; every estimate is written with its CI.
    OUT is written only once it validates, never over an existing file without --force, and
    never over the baseline.
    """
    import numpy as np

    from funnelsim.studies.calibrated_scenario import display_value
    from funnelsim.studies.calibration_run import run_calibration

    target = Path(out_file)
    result = run_calibration(export, mapping, target, baseline, force, mapping_label=mapping or "the mapping (--mapping)",
                             notify=click.echo).calibration
    estimated = result.estimates[result.estimates["source"] == "export"]
    width = max(map(len, estimated["key"]), default=0) + 2
    row: Any  # a row of a table (itertuples)
    for row in estimated.itertuples():
        if row.key in result.settings:
            interval = f"  [{row.ci_low:.4g}, {row.ci_high:.4g}]" if np.isfinite(row.ci_low) else ""
            click.echo(f"  {row.key:<{width}}{display_value(row.value)}{interval}  n={int(row.n):,}")
    if len(result.kept):
        click.echo(f"Kept at the baseline (not estimable from this export, see the file's header): {', '.join(result.kept['key'])}")
    for row in result.kept[result.kept["method"].str.startswith("cannot estimate: ")].itertuples():
        click.echo(f"Cannot estimate {row.key}: {row.method.removeprefix('cannot estimate: ')}", err=True)
    click.echo(f"Scenario written to {target}; simulate it with: funnelsim run {target}")


"""Commands on one company's scenario file: ``validate`` it, ``run`` it (its tables and KPIs),
``check`` it against the published evidence and for plausibility, and the ``dictionary`` of
every column a run writes."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

import click

from funnelsim.cli.common import MAX_SEED, SET_HELP, TARGETS_FILE, Input, reports_errors
from funnelsim.config.errors import InputError, ParameterError, WriteFailed
from funnelsim.config.paths import default_run_dir
from funnelsim.config.schema import load_scenario

__all__ = ["check", "dictionary", "run", "validate"]

@click.command()
@click.argument("files", nargs=-1, required=True, type=Input(dir_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=SET_HELP)
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


@click.command()
@click.argument("file", type=Input(dir_okay=False))
@click.option("--replications", "-r", default=10, show_default=True, type=click.IntRange(min=1), help="Independent runs.")
@click.option("--seed", "-s", default=20261122, show_default=True, type=click.IntRange(min=0, max=MAX_SEED), help="Root seed.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel processes [default: CPU count].")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder [default: reports/runs/<scenario>-<time>].")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=SET_HELP)
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


@click.command()
@click.argument("files", nargs=-1, required=True, type=Input(dir_okay=False))
@click.option("--targets", "targets_file", default=TARGETS_FILE, show_default=True, type=Input(dir_okay=False),
              help="Published figures to check against (see params/targets/).")
@click.option("--replications", "-r", default=3, show_default=True, type=click.IntRange(min=2, max=1000), help="Replications per scenario.")
@click.option("--seed", "-s", default=20261122, show_default=True, type=click.IntRange(min=0, max=2**63 - 1), help="Root seed.")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Parallel processes [default: CPU count].")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE", help=SET_HELP)
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


@click.command()
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

"""Commands that write a company's scenario file for you: from the eleven questions of the
alignment assessment (``assess``), or estimated from a CRM export (``calibrate``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from funnelsim.cli.common import BASELINE_FILE, Input, reports_errors
from funnelsim.config.errors import WriteFailed
from funnelsim.config.paths import slug

__all__ = ["ASSESS_DIR", "assess", "calibrate"]

ASSESS_DIR = Path("params")  # where `assess` writes <company>.yaml without --out

@click.command()
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


@click.command()
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

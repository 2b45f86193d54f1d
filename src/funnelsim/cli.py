"""The ``funnelsim`` command line: a thin layer over parameters, experiments and outputs.

``funnelsim validate FILE...`` checks scenario files; ``funnelsim run FILE`` simulates one
scenario, writes its tables as parquet with a manifest, and prints the KPI table. A bad
parameter file or ``--set`` value prints ``FILE: key.path: value: what is allowed`` and exits
with status 2, without a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from funnelsim import __version__
from funnelsim.config import default_run_dir
from funnelsim.experiment import run_scenario
from funnelsim.outputs import format_summary, write_run
from funnelsim.params import ParameterError, load_scenario
from funnelsim.records import data_dictionary

__all__ = ["main"]

_SET_HELP = "Override any value, e.g. --set sdr_team.reps=8 (repeatable; the value is YAML)."


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
def run(file: str, replications: int, seed: int, out_dir: str | None, overrides: tuple[str, ...]) -> None:
    """Simulate scenario FILE, write its tables and manifest, and print the KPI table."""
    scenario = _load(file, overrides)
    click.echo(f"Simulating '{scenario.name}': {replications} replications, seed {seed} ...", err=True)
    result = run_scenario(scenario, replications, seed)
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

"""Commands for people: ``report`` renders a notebook as an HTML report (one, or a batch on one
kernel), and ``app`` serves the what-if explorer in the browser."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from funnelsim.cli.common import BASELINE_FILE, Input, fail, reports_errors
from funnelsim.config.errors import InputError
from funnelsim.config.paths import NOTEBOOKS_DIR, RENDERING_A_REPORT
from funnelsim.config.schema import load_scenario

__all__ = ["app", "report"]

@click.command()
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


@click.command()
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
            fail([f"--port {port}: in use on this machine; choose another, e.g. --port {port + 1}"])
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

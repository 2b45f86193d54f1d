"""The ``funnelsim`` command line: a thin layer over parameters, experiments and outputs.

``funnelsim validate FILE...`` checks scenario files; ``funnelsim run FILE`` simulates one
scenario, writes its tables as parquet with a manifest, and prints the KPI table. A bad
parameter file or ``--set`` value prints ``FILE: key.path: value: what is allowed`` and exits
with status 2, without a traceback.

The commands live by what they are for:

* ``scenario_commands``: one company's file: validate, run, check against the evidence, and
  the data dictionary of what a run writes;
* ``company_commands``: a company's file written for you, from the alignment assessment
  (``assess``) or from a CRM export (``calibrate``);
* ``study_commands``: studies of many runs: a sweep, a plan of levers, the evidence ensemble
  and how sure we are over it (``uncertainty``);
* ``report_commands``: for people: a notebook rendered as an HTML report, the what-if app.

Every command is wrapped in ``common.reports_errors``, the one place where an error becomes
output and an exit status, chosen by the error's type (``funnelsim.config.errors``): bad input
(``InputError``, ``ParameterError`` among them) exits 2, a machine that could not do what was
asked (a full disk: ``WriteFailed``; a failed notebook cell) exits 1, a sweep stopped by Ctrl-C
exits 130.
"""

from __future__ import annotations

import click

from funnelsim import __version__
from funnelsim.cli.company_commands import assess, calibrate
from funnelsim.cli.report_commands import app, report
from funnelsim.cli.scenario_commands import check, dictionary, run, validate
from funnelsim.cli.study_commands import ensemble, plan, sweep, uncertainty

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="funnelsim")
def main() -> None:
    """Simulate the marketing-to-sales funnel and what alignment is worth in revenue."""


for command in (validate, run, check, dictionary, assess, calibrate, sweep, plan, ensemble, uncertainty, report, app):
    main.add_command(command)

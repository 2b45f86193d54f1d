"""What every command shares: the files it reads by default, how it names an input file, and
the one place where an error becomes output and an exit status (``reports_errors``).

The commands import what they need when they run (papermill, nbconvert, dask, statsmodels,
pandas...), so `funnelsim validate` and `--help` do not pay seconds for libraries they never
use. Files to read are named as a user would type them; ``Input`` finds them
(``config.locate``: the working folder first, then the files shipped with funnelsim), so
--help shows no install path.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar, cast

import click

from funnelsim.config.errors import FunnelsimError
from funnelsim.config.paths import locate

__all__ = ["BASELINE_FILE", "ENSEMBLE_FILE", "EXECUTORS", "MAX_SEED", "SET_HELP", "TARGETS_FILE", "Input", "fail", "note",
           "reports_errors"]

BASELINE_FILE = "params/baseline.yaml"
TARGETS_FILE = "params/targets/published.yaml"
# Files written by default go under the working folder (from a checkout: the checkout's own).
ENSEMBLE_FILE = Path("params") / "ensemble" / "evidence.csv"

MAX_SEED = 2**63 - 1  # seeds are saved in int64 columns
EXECUTORS = ("serial", "processes", "dask")  # as funnelsim.experiments.execution.EXECUTORS (a test checks)
SET_HELP = "Override any value, e.g. --set sdr_team.reps=8 (repeatable; the value is YAML)."


def fail(lines: list[str], status: int = 2) -> NoReturn:
    """Print each line to stderr and exit (2: bad input; 1: the machine, e.g. a full disk)."""
    for line in lines:
        click.echo(line, err=True)
    sys.exit(status)


def note(message: str) -> None:
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
            fail(exc.messages(), exc.exit_status)

    return cast(Command, wrapper)

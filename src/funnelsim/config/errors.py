"""Errors the command line reports in words and an exit status, never as a traceback.

Every error a user can meet derives from ``FunnelsimError`` and says, by its type, which exit
status it means:

* ``InputError`` (status 2): what was given cannot be used and the user can fix the command
  (a parameter file, a results folder holding another sweep, a folder another process is
  writing to, a notebook that does not exist). ``ParameterError`` (a file or value that could not
  be loaded, one ``FILE: key: value: allowed`` line per problem) is one.
* ``MachineError`` (status 1): the machine could not do what was asked (a full disk:
  ``WriteFailed``; a notebook cell that failed; a KPI that overflowed).

``messages()`` gives the lines to print, one problem each. The command line's
``reports_errors`` decorator (``funnelsim.cli``) is the one place that turns them into output
and an exit status. This module imports nothing, so any module may use it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FunnelsimError", "InputError", "MachineError", "ParameterError", "WriteFailed"]


class FunnelsimError(Exception):
    """An error reported as ``messages()`` with exit status ``exit_status``."""

    exit_status: int = 1

    def messages(self) -> list[str]:
        return [str(self)]


class InputError(FunnelsimError):
    """Bad input: the command cannot run as given (exit status 2)."""

    exit_status = 2


class ParameterError(InputError):
    """An input file (or value) could not be loaded; ``lines`` holds one ``FILE: key: value: allowed`` each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines

    def messages(self) -> list[str]:
        return list(self.lines)


class MachineError(FunnelsimError):
    """The machine failed at what was asked, e.g. a full disk (exit status 1)."""

    exit_status = 1


class WriteFailed(MachineError):
    """A file could not be written (a full disk, a folder without permission): ``PATH: could not
    write: REASON``. Whoever raises it has removed what the failed write left."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: could not write: {reason}")
        self.path, self.reason = Path(path), reason

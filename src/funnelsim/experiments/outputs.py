"""Writing a run to disk and printing its KPI table.

A run folder holds ``leads.parquet``, ``daily.parquet`` and ``replications.parquet`` (the tidy
tables), and ``manifest.json``: the fully resolved parameters, the seed, the package and
library versions, and the timings, which is everything needed to reproduce the tables.
Files are written under a temporary name of this process and renamed, so a folder never holds
half a table, and the manifest is written last: a folder without one is not a whole run. When a
file cannot be written (a full disk), ``WriteFailed`` names it and nothing of the run is left.
A table written as CSV, which analysts open in a spreadsheet, first goes through
``spreadsheet_safe``, so that no cell can run as a formula.
"""

from __future__ import annotations

import json
import platform
import re
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from funnelsim.config.errors import WriteFailed
from funnelsim.config.files import atomic_write_text, write_whole
from funnelsim.experiments.experiment import ScenarioRun

__all__ = ["WriteFailed", "write_run", "read_run", "write_tables", "spreadsheet_safe"]

_TABLES = ("leads", "daily", "replications")


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    write_whole(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_run(result: ScenarioRun, folder: Path, source: str, overrides: list[str]) -> None:
    """Write the run's tables and then its manifest into ``folder``, or raise ``WriteFailed``."""
    created = not folder.exists()
    written: list[Path] = []
    current = folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").unlink(missing_ok=True)  # until the new one is written, not a whole run
        for name in _TABLES:
            current = folder / f"{name}.parquet"
            _atomic_parquet(getattr(result, name), current)
            written.append(current)
        current = folder / "manifest.json"
        atomic_write_text(current, json.dumps(_manifest(result, source, overrides), indent=2))
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        raise WriteFailed(current, exc.strerror or str(exc)) from None


def _manifest(result: ScenarioRun, source: str, overrides: list[str]) -> dict[str, object]:
    return {
        "scenario": result.scenario.name,
        "source_file": source,
        "overrides": overrides,
        "seed": result.seed,
        "replications": len(result.replications),
        "spawn_keys": result.replications["spawn_key"].tolist(),
        "parameters": result.scenario.model_dump(mode="json", by_alias=True),
        "versions": {
            "funnelsim": version("funnelsim"),
            "python": platform.python_version(),
            **{lib: version(lib) for lib in ("simpy", "numpy", "pandas", "statsmodels")},
        },
        "timings_seconds": {
            "per_replication": [round(s, 4) for s in result.seconds],
            "total": round(float(np.sum(result.seconds)), 4),
        },
    }


def read_run(folder: str | Path) -> dict[str, object]:
    """The tables and manifest of a run folder."""
    folder = Path(folder)
    out: dict[str, object] = {name: pd.read_parquet(folder / f"{name}.parquet") for name in _TABLES}
    out["manifest"] = json.loads((folder / "manifest.json").read_text())
    return out


def write_tables(folder: str | Path, **tables: pd.DataFrame) -> list[Path]:
    """Save each named table as ``folder/<name>.parquet`` (nothing when ``folder`` is empty)."""
    if not folder:
        return []
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = target / f"{name}.parquet"
        _atomic_parquet(frame.reset_index(drop=True) if frame.index.name is None else frame.reset_index(), path)
        written.append(path)
    return written


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV injection"): one of these first,
# after any white space; in ASCII and in full width.
_FORMULA = re.compile(r"\s*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _inert(value: object) -> object:
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` to write as CSV: every text cell (and column name) that a spreadsheet
    would run as a formula, one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return (after any white space; full-width forms too), gets a leading single quote, which
    spreadsheets show as text (the OWASP rule).

    Unlike OWASP's rule, text that is exactly a number (``-10``, ``+3.5``, ``-1e3``) is kept as
    it is: a spreadsheet reads such a cell as that number, never as a formula, and a bad-row
    report must show a negative amount as the export wrote it.
    """
    out = frame.rename(columns=_inert)
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(_inert)
    return out

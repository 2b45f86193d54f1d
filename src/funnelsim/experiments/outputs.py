"""Writing a run to disk and printing its KPI table.

A run folder holds ``leads.parquet``, ``daily.parquet`` and ``replications.parquet`` (the tidy
tables), and ``manifest.json``: the fully resolved parameters, the seed, the package and
library versions, and the timings, which is everything needed to reproduce the tables.
``RunWriter`` writes the leads replication by replication while the run goes on (one parquet
row group each), so a run of many replications needs no more memory than one of a few.
Files are written under a temporary name of this process and renamed, so a folder never holds
half a table, and the manifest is written last: a folder without one is not a whole run. When a
file cannot be written (a full disk), ``WriteFailed`` names it and nothing of the run is left.
A table written as CSV, which analysts open in a spreadsheet, first goes through
``spreadsheet_safe``, so that no cell can run as a formula.
"""

from __future__ import annotations

import json
import os
import platform
import re
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from funnelsim.config.errors import WriteFailed
from funnelsim.config.files import atomic_write_text, temporary_name, write_whole
from funnelsim.experiments.experiment import ScenarioRun

__all__ = ["RunWriter", "WriteFailed", "read_run", "write_tables", "spreadsheet_safe"]

_TABLES = ("leads", "daily", "replications")


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    write_whole(path, lambda tmp: frame.to_parquet(tmp, index=False))


class RunWriter:
    """A run folder written while the run goes on.

    ``add_leads`` appends each replication's leads table to ``leads.parquet`` (one row group
    each, under a temporary name of this process) as soon as the run hands it over, so a run
    holds about one replication's leads at a time, however many replications it makes.
    ``finish`` then writes the daily and replication tables and the manifest, last. Until
    ``finish`` an older run in the folder stays whole; a run that stops before it (Ctrl-C, an
    error) leaves nothing of its own (``discard``, which leaving a ``with`` block on an error
    calls). A leads file that cannot be written (a full disk) is dropped and the run goes on, so
    its KPIs can still be shown; ``finish`` then raises ``WriteFailed`` naming the file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._created = not folder.exists()
        self._leads = folder / "leads.parquet"
        self._partial = temporary_name(self._leads)
        self._writer: pq.ParquetWriter | None = None
        self._failed: tuple[Path, OSError] | None = None

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.discard()

    def add_leads(self, scenario: str, leads: pd.DataFrame) -> None:
        """Append one replication's leads (``experiment.LeadsSink``; the run is of one scenario)."""
        if self._failed is not None:
            return
        current = self.folder
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            current = self._leads
            table = pa.Table.from_pandas(leads, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self._partial, table.schema)
            self._writer.write_table(table)
        except OSError as exc:
            self._failed = (current, exc)
            self._drop_leads()

    def finish(self, result: ScenarioRun, source: str, overrides: list[str]) -> None:
        """Write the leads file in place, the other tables and the manifest, or raise ``WriteFailed``
        having removed whatever this run wrote."""
        written: list[Path] = []
        current = self.folder
        if self._writer is None and self._failed is None:  # a run that kept its leads: written whole now
            self.add_leads(result.scenario.name, result.leads)
        try:
            (self.folder / "manifest.json").unlink(missing_ok=True)  # until the new one is written, not a whole run
            if self._failed is not None:
                current, exc = self._failed
                raise exc
            assert self._writer is not None  # add_leads opened it, or failed
            current = self._leads
            self._writer.close()
            self._writer = None
            os.replace(self._partial, self._leads)
            written.append(self._leads)
            for name in ("daily", "replications"):
                current = self.folder / f"{name}.parquet"
                _atomic_parquet(getattr(result, name), current)
                written.append(current)
            current = self.folder / "manifest.json"
            atomic_write_text(current, json.dumps(_manifest(result, source, overrides), indent=2))
        except OSError as exc:
            for path in written:
                path.unlink(missing_ok=True)
            self.discard()
            raise WriteFailed(current, exc.strerror or str(exc)) from None

    def discard(self) -> None:
        """Remove what this run has written so far (the folder too, if it made it and it is empty)."""
        self._drop_leads()
        if self._created and self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()

    def _drop_leads(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.close()
            except OSError:
                pass  # the file is removed next; a full disk cannot stop that
        self._partial.unlink(missing_ok=True)


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

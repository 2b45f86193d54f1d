"""A sweep's results folder: every finished run saved at once, nothing lost, nothing twice.

Layout of a results folder::

    manifest.json                                   the sweep, its seeds, versions, timings
    points.parquet                                  one row per point: its factor values
    kpis/point=P/replication=R/run.parquet          one row of KPIs per run
    daily/point=P/replication=R/run.parquet         the run's daily table
    leads/point=P/replication=R/run.parquet         the run's leads (only with --save-leads)

Each file is written under a hidden temporary name of its process and renamed into place, and
a run counts as finished only once its KPI file exists (written last) and every file of the run
reads as parquet. An interrupted sweep therefore leaves only whole runs behind, and ``--resume``
runs exactly the ones that are missing or damaged. One process writes a folder at a time (see
``files.folder_lock``), and a manifest that is not valid JSON is named as such.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from funnelsim.config.errors import InputError
from funnelsim.config.files import atomic_write_text, write_whole

__all__ = ["DamagedResults", "ResultStore", "load_results", "SweepResults"]

_TABLES = ("kpis", "daily", "leads")


class DamagedResults(InputError, ValueError):
    """A results folder whose manifest or tables cannot be read."""


class ResultStore:
    """Reads and writes one results folder."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _run_file(self, table: str, point: int, replication: int) -> Path:
        return self.folder / table / f"point={point}" / f"replication={replication}" / "run.parquet"

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def read_manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DamagedResults(
                f"{self.manifest_path}: not a readable manifest ({exc}); the folder is damaged: "
                f"remove it, or choose another --out"
            ) from None
        if not isinstance(manifest, dict):
            raise DamagedResults(f"{self.manifest_path}: not a funnelsim manifest (a JSON {type(manifest).__name__}, not an object)")
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, default=str))

    def write_points(self, points: pd.DataFrame) -> None:
        self._write(points, self.folder / "points.parquet")

    def finished(self, tables: tuple[str, ...] = ("kpis", "daily")) -> set[tuple[int, int]]:
        """(point, replication) of every run whose KPIs are saved and whose ``tables`` all read."""
        return {run for run, path in self._saved() if self._whole(run, tables)}

    def drop_damaged(self, tables: tuple[str, ...] = ("kpis", "daily")) -> list[Path]:
        """Forget runs with a KPI file but a table that does not read (truncated, say); return their KPI files."""
        damaged = [path for run, path in self._saved() if not self._whole(run, tables)]
        for path in damaged:
            path.unlink(missing_ok=True)
        return damaged

    def _saved(self) -> list[tuple[tuple[int, int], Path]]:
        saved = []
        for path in (self.folder / "kpis").glob("point=*/replication=*/run.parquet"):
            point = int(path.parent.parent.name.split("=")[1])
            replication = int(path.parent.name.split("=")[1])
            saved.append(((point, replication), path))
        return saved

    def _whole(self, run: tuple[int, int], tables: tuple[str, ...]) -> bool:
        for table in tables:
            try:
                if pq.read_metadata(self._run_file(table, *run)).num_rows < 1:
                    return False
            except (OSError, pa.ArrowException):
                return False
        return True

    def save_run(
        self, point: int, replication: int, kpis: dict[str, Any], daily: pd.DataFrame, leads: pd.DataFrame | None
    ) -> None:
        """Save one run; the KPI row goes last, so a run is either whole or absent."""
        if leads is not None:
            self._write(leads, self._run_file("leads", point, replication))
        self._write(daily, self._run_file("daily", point, replication))
        row = {k: v for k, v in kpis.items() if k not in ("point", "replication")}  # in the path
        self._write(pd.DataFrame([row]), self._run_file("kpis", point, replication))

    def clear(self) -> None:
        for table in _TABLES:
            shutil.rmtree(self.folder / table, ignore_errors=True)
        for name in ("points.parquet", "manifest.json"):
            (self.folder / name).unlink(missing_ok=True)

    @staticmethod
    def _write(frame: pd.DataFrame, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(path, lambda tmp: frame.to_parquet(tmp, index=False))

    def read_table(self, table: str) -> pd.DataFrame:
        folder = self.folder / table
        if not folder.exists():
            return pd.DataFrame()
        dataset = ds.dataset(folder, format="parquet", partitioning="hive")
        frame = dataset.to_table().to_pandas()
        return frame.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)


class SweepResults:
    """The tidy tables of a results folder."""

    def __init__(self, runs: pd.DataFrame, daily: pd.DataFrame, leads: pd.DataFrame, points: pd.DataFrame, manifest: dict[str, Any]):
        self.runs = runs
        self.daily = daily
        self.leads = leads
        self.points = points
        self.manifest = manifest

    @property
    def factors(self) -> list[str]:
        return list(self.manifest["factor_names"])


def load_results(folder: str | Path) -> SweepResults:
    """One row per point and replication with a column per factor and per KPI, plus the rest."""
    store = ResultStore(folder)
    if not store.exists():
        raise FileNotFoundError(f"{folder}: no manifest.json: not a funnelsim results folder")
    manifest = store.read_manifest()
    try:
        points = pd.read_parquet(store.folder / "points.parquet")
        kpis = store.read_table("kpis")
        runs = points.merge(kpis, on="point", how="inner") if len(kpis) else kpis
        daily, leads = store.read_table("daily"), store.read_table("leads")
    except (OSError, pa.ArrowException) as exc:
        raise DamagedResults(f"{folder}: a table does not read ({exc}); finish the sweep with --resume to run it again") from None
    return SweepResults(
        runs=runs.sort_values(["point", "replication"], kind="stable").reset_index(drop=True) if len(runs) else runs,
        daily=daily,
        leads=leads,
        points=points,
        manifest=manifest,
    )

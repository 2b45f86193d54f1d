"""Where the project's folders are: derived from the package location, and nowhere else."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "PARAMS_DIR",
    "NOTEBOOKS_DIR",
    "REPORTS_DIR",
    "default_run_dir",
    "default_sweep_dir",
    "locate",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PARAMS_DIR = PROJECT_ROOT / "params"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = Path(os.environ.get("FUNNELSIM_REPORTS", PROJECT_ROOT / "reports"))


def default_run_dir(scenario_name: str) -> Path:
    """``reports/runs/<scenario>-<timestamp>``, a fresh folder for one run."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return REPORTS_DIR / "runs" / f"{scenario_name}-{stamp}"


def default_sweep_dir(sweep_name: str) -> Path:
    """``reports/sweeps/<sweep>``: one folder per sweep, so ``--resume`` finds it again."""
    return REPORTS_DIR / "sweeps" / sweep_name


def locate(path: str | Path) -> Path:
    """A file as given (relative to the working folder), else relative to the project root."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    return PROJECT_ROOT / given

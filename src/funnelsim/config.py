"""Where the project's folders are: derived from the package location, and nowhere else.

Names people choose (a scenario's or sweep's ``name``, a company) become file and folder names
only through ``slug``, so no name can reach outside the folder it is meant for.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "PARAMS_DIR",
    "NOTEBOOKS_DIR",
    "REPORTS_DIR",
    "default_plan_dir",
    "default_run_dir",
    "default_sweep_dir",
    "locate",
    "slug",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PARAMS_DIR = PROJECT_ROOT / "params"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = Path(os.environ.get("FUNNELSIM_REPORTS", PROJECT_ROOT / "reports"))


SLUG_LENGTH = 80


def slug(name: object, fallback: str = "unnamed") -> str:
    """``name`` as one safe file or folder name: ASCII letters, digits, ``.``, ``_`` and ``-``.

    Accents are dropped (``Café`` -> ``Cafe``), every other run of characters (``/``, spaces,
    NUL...) becomes one ``-``, and the ends lose dots and dashes, so the result is never ``..``,
    never hidden and at most SLUG_LENGTH characters long. A name with nothing left (``日本``)
    becomes ``fallback`` and a short hash of the name, so two such names stay apart.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")
    text = text[:SLUG_LENGTH].rstrip(".-")
    if text:
        return text
    digest = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{fallback}-{digest}" if str(name) else fallback


def default_run_dir(scenario_name: str) -> Path:
    """``reports/runs/<scenario>-<timestamp>``, a fresh folder for one run."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return REPORTS_DIR / "runs" / f"{slug(scenario_name)}-{stamp}"


def default_sweep_dir(sweep_name: str) -> Path:
    """``reports/sweeps/<sweep>``: one folder per sweep, so ``--resume`` finds it again."""
    return REPORTS_DIR / "sweeps" / slug(sweep_name)


def default_plan_dir(plan_name: str) -> Path:
    """``reports/plans/<plan>``: the lever sweep and the ranked options of one plan."""
    return REPORTS_DIR / "plans" / slug(plan_name)


def locate(path: str | Path) -> Path:
    """A file as given (relative to the working folder), else relative to the project root."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    return PROJECT_ROOT / given

"""Where funnelsim's folders are: the files it ships, and where it writes.

**Shipped files.** The scenarios (``params/``), the report notebooks (``notebooks/``) and the
example CRM export (``examples/``) have one home in the source checkout and are copied into the
wheel as package data (``funnelsim/_data/``, by ``setup.py``). ``data_dir(kind)`` is the one
place that finds them, in this order:

1. the environment variable ``FUNNELSIM_PARAMS``, ``FUNNELSIM_NOTEBOOKS`` or
   ``FUNNELSIM_EXAMPLES``, when set (a folder of your own to use instead);
2. the checkout's folder, when funnelsim runs from a source checkout (an editable install,
   or ``PYTHONPATH=src``);
3. the copy installed with the package.

``locate(path)`` reads a path given by a user: as given (relative to the working folder) if it
exists there, else, when it starts with ``params/``, ``notebooks/`` or ``examples/``, the
shipped file of that name. So ``funnelsim run params/baseline.yaml`` works from any folder.

**Outputs** go under the working folder: ``reports/`` (or ``FUNNELSIM_REPORTS``) for runs,
sweeps, plans and reports, ``params/`` for the scenario files ``assess`` writes; never into
the installed package or, from another folder, into the source checkout.

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
    "EXAMPLES_DIR",
    "NOTEBOOKS_DIR",
    "PARAMS_DIR",
    "REPORTS_DIR",
    "SHIPPED",
    "data_dir",
    "default_plan_dir",
    "default_run_dir",
    "default_sweep_dir",
    "locate",
    "slug",
    "source_checkout",
]

SHIPPED = ("params", "notebooks", "examples")  # folders of the checkout shipped in the wheel

_PACKAGE = Path(__file__).resolve().parent.parent  # src/funnelsim (this file is config/paths.py)
_INSTALLED_DATA = _PACKAGE / "_data"


def source_checkout() -> Path | None:
    """The source checkout funnelsim runs from (``<checkout>/src/funnelsim``), else None."""
    root = _PACKAGE.parent.parent
    if _PACKAGE.parent.name == "src" and (root / "pyproject.toml").is_file() and (root / "params").is_dir():
        return root
    return None


def data_dir(kind: str) -> Path:
    """The folder of shipped ``params``, ``notebooks`` or ``examples``: ``FUNNELSIM_<KIND>`` if
    set, else the source checkout's folder, else the copy installed with the package."""
    if kind not in SHIPPED:
        raise ValueError(f"{kind!r}: one of {', '.join(SHIPPED)}")
    given = os.environ.get(f"FUNNELSIM_{kind.upper()}")
    if given:
        return Path(given).expanduser()
    checkout = source_checkout()
    if checkout is not None:
        return checkout / kind
    return _INSTALLED_DATA / kind


PARAMS_DIR = data_dir("params")
NOTEBOOKS_DIR = data_dir("notebooks")
EXAMPLES_DIR = data_dir("examples")
# Relative, so it is under the working folder at the time of writing (and messages say reports/...).
REPORTS_DIR = Path(os.environ.get("FUNNELSIM_REPORTS") or "reports")

# Set in the kernel that renders a report (papermill, no one at the screen): live widgets are
# left out there, as a static page cannot move them.
RENDERING_A_REPORT = "FUNNELSIM_RENDERING_A_REPORT"


def rendering_a_report() -> bool:
    """Whether this code runs in the kernel of a report being rendered, not in a live notebook."""
    return os.environ.get(RENDERING_A_REPORT) == "1"


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


def locate(path: str | os.PathLike[str]) -> Path:
    """A file a user named: as given (relative to the working folder) if it is there or the
    path is absolute; else, for ``params/...``, ``notebooks/...`` or ``examples/...``, the
    shipped file of that name (``data_dir``) if it exists; else as given, so an error names it."""
    given = Path(path)
    if given.is_absolute() or given.exists():
        return given
    kind, *rest = given.parts or ("",)
    if kind in SHIPPED and rest:
        shipped = data_dir(kind).joinpath(*rest)
        if shipped.exists():
            return shipped
    return given

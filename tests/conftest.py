"""Shared helpers: scenarios derived from the baseline with a few overrides."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# The tests check where funnelsim reads and writes by default: a user's own folders, set in the
# environment (FUNNELSIM_PARAMS, FUNNELSIM_REPORTS, ...), are left out before funnelsim is imported.
for _name in [name for name in os.environ if name.startswith("FUNNELSIM_")]:
    del os.environ[_name]

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim import load_scenario, run_replication
from funnelsim.experiments.experiment import replication_seeds

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "params" / "baseline.yaml"
# the funnelsim command, as a user of this environment runs it: installed beside this interpreter
# (a virtual environment), else the one on PATH (a --user install)
_BESIDE_PYTHON = Path(sys.executable).with_name("funnelsim")
FUNNELSIM = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else (shutil.which("funnelsim") or str(_BESIDE_PYTHON))

FLAT_SEASONS = [
    "seasonality.hour=" + str([1] * 24),
    "seasonality.weekday=" + str([1] * 7),
    "seasonality.month=" + str([1] * 12),
]


def scenario(*overrides: str):
    """The baseline with ``--set``-style overrides."""
    return load_scenario(BASELINE, list(overrides))


def kpi_table(sc, replications: int, seed: int) -> pd.DataFrame:
    """One row of KPIs per replication (seeds shared across scenarios: common random numbers)."""
    rows = []
    for i, child in enumerate(replication_seeds(seed, replications)):
        rows.append(run_replication(sc, child, i).kpis)
    return pd.DataFrame(rows)


def paired_difference_ci(a: pd.Series, b: pd.Series, alpha: float = 0.05) -> tuple[float, float, float]:
    """Mean of b - a over paired replications, with its t confidence interval."""
    stats = DescrStatsW(np.asarray(b, float) - np.asarray(a, float))
    low, high = stats.tconfint_mean(alpha=alpha)
    return float(stats.mean), float(low), float(high)


@pytest.fixture(scope="session")
def baseline_path() -> Path:
    return BASELINE

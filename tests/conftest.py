"""Shared helpers: scenarios derived from the baseline with a few overrides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim import load_scenario, run_replication
from funnelsim.experiments.experiment import replication_seeds

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "params" / "baseline.yaml"

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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep ``xdist_group`` working under ``--dist loadgroup`` (as ``make test`` runs the suite).

    pytest-xdist groups tests by appending ``@group`` to each marked test's node id on the
    worker. From pytest 9.2 on the node id is structured and that write no longer takes
    (pytest-dev/pytest-xdist#1386): every group is silently spread over both workers, the
    Jupyter kernels included. Where the suffix is missing, write it here the way pytest 9.2
    stores node ids; with a pytest or xdist that does it, this does nothing.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        suffix = "@" + "_".join(sorted(names))
        if names and not item.nodeid.endswith(suffix):
            from _pytest.nodeid import NodeId  # pytest >= 9.2, where the suffix is lost

            item._id = NodeId.parse(item.nodeid + suffix)

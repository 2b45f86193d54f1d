"""Golden tables: the same seed gives identical tables before and after a refactor.

The baseline, the four maturity levels and five variants (daily export, real-time routing, closed
loop, overloaded SDRs, priority routing) are run on a short horizon (``tests/golden/make_golden.py``
says which, with how many replications and which seed) and their leads, daily and replications
tables compared with the digest stored in ``tests/golden/tables.json``: shape, column names and
dtypes, a sha256 per column (floats rounded to 10 significant digits) and every KPI in full. A
failure names the scenario, table and column that changed.

Regenerating the golden file (``python tests/golden/make_golden.py``) is only allowed when a
change to the model's behaviour is intended, and the commit that regenerates it must say so and
why. A refactor (moving code, renaming, typing) must pass this test unchanged.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

_MAKER = Path(__file__).resolve().parent / "golden" / "make_golden.py"
_spec = importlib.util.spec_from_file_location("make_golden", _MAKER)
assert _spec is not None and _spec.loader is not None
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)

# make test spreads the tests over two workers (--dist loadgroup); this module stays on one, so the
# golden runs (fixture `today`) happen once, not once per worker.
pytestmark = pytest.mark.xdist_group("golden")


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(make_golden.GOLDEN.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def today() -> dict:
    return make_golden.compute()


def test_settings_match(golden):
    assert golden["settings"] == {
        "overrides": make_golden.OVERRIDES,
        "replications": make_golden.REPLICATIONS,
        "seed": make_golden.SEED,
        "significant_digits": make_golden.SIGNIFICANT_DIGITS,
    }


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("scenario", list(make_golden.SCENARIOS))
@pytest.mark.parametrize("table", ["leads", "daily", "replications"])
def test_tables_unchanged(golden, today, scenario, table):
    want, got = golden["scenarios"][scenario][table], today["scenarios"][scenario][table]
    where = f"{scenario}: {table}"
    assert got["dtypes"] == want["dtypes"], f"{where}: column names or dtypes changed"
    assert got["shape"] == want["shape"], f"{where}: shape {got['shape']} instead of {want['shape']}"
    changed = [name for name, digest in want["columns"].items() if got["columns"].get(name) != digest]
    if table == "replications":
        kpis = [
            f"replication {i} {name}: {row[name]!r} instead of {want_row[name]!r}"
            for i, (row, want_row) in enumerate(zip(got["kpis"], want["kpis"]))
            for name in want_row
            if not _same(row.get(name), want_row[name])
        ]
        assert not kpis, f"{where}: KPIs changed:\n" + "\n".join(kpis)
    assert not changed, f"{where}: columns changed: {', '.join(changed)}"

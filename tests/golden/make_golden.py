"""Write (or compute) the golden digest of the model's tables that ``tests/test_golden.py`` checks.

    python tests/golden/make_golden.py            # rewrite tests/golden/tables.json

Only rewrite the golden file when a change to the model's behaviour is intended, and say so
(and why) in the commit that rewrites it: a refactor must leave it unchanged.

For each scenario (the baseline, the four maturity levels and five variants that take the
engine's other paths, on a short horizon) the leads,
daily and replications tables of ``run_scenario`` are summarised per table as their shape, their
column names and dtypes, a sha256 of every integer, string, boolean and categorical column, a
sha256 of every float column's values rounded to 10 significant digits, and (replications
only) every KPI in full, so a failure names the table and column that changed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().with_name("tables.json")

# name: the scenario file and the settings it runs with beyond OVERRIDES. Besides the baseline
# and the four levels, the engine's other paths: a daily export (ties at the export instant),
# real-time routing, a closed loop (meetings at the day's snapshot instant), SDRs overloaded,
# and priority routing.
SCENARIOS: dict[str, tuple[str, list[str]]] = {
    "baseline": ("params/baseline.yaml", []),
    "fully-misaligned": ("params/scenarios/fully-misaligned.yaml", []),
    "somewhat-misaligned": ("params/scenarios/somewhat-misaligned.yaml", []),
    "somewhat-aligned": ("params/scenarios/somewhat-aligned.yaml", []),
    "fully-aligned": ("params/scenarios/fully-aligned.yaml", []),
    "daily-export": ("params/scenarios/daily-export.yaml", []),
    "realtime-routing": ("params/scenarios/realtime-routing.yaml", []),
    "closed-loop": ("params/scenarios/closed-loop.yaml", []),
    "overloaded-sdrs": ("params/baseline.yaml", ["sdr_team.reps=2"]),
    "priority-routing": ("params/baseline.yaml", ["sdr_team.reps=3", "follow_up.priority_routing=true"]),
}
OVERRIDES = ["simulation.horizon_days=180", "simulation.warmup_days=30"]
REPLICATIONS = 2
SEED = 20261122
SIGNIFICANT_DIGITS = 10


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def column_digest(series: pd.Series) -> str:
    """A sha256 of the column's values: floats rounded to 10 significant digits, others exact."""
    if series.dtype.kind == "f":
        values = series.to_numpy(dtype=np.float64)
        return _sha("\n".join(np.char.mod(f"%.{SIGNIFICANT_DIGITS - 1}e", values).tolist()))
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = [str(c) for c in series.cat.categories]
        codes = series.cat.codes.to_numpy(dtype=np.int64)
        return _sha(json.dumps(categories) + "\n" + "\n".join(map(str, codes.tolist())))
    return _sha("\n".join("<NA>" if pd.isna(v) else str(v) for v in series.tolist()))


def table_digest(frame: pd.DataFrame) -> dict[str, Any]:
    """Shape, dtypes and per-column digests of one table."""
    return {
        "shape": list(frame.shape),
        "dtypes": {name: str(dtype) for name, dtype in frame.dtypes.items()},
        "columns": {name: column_digest(frame[name]) for name in frame.columns},
    }


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if np.isfinite(value) else repr(value)  # JSON has no NaN or infinity
    return value


def compute() -> dict[str, Any]:
    """The golden digest of today's code."""
    sys.path.insert(0, str(ROOT / "src"))
    from funnelsim import load_scenario
    from funnelsim.experiments.experiment import run_scenario

    out: dict[str, Any] = {
        "settings": {"overrides": OVERRIDES, "replications": REPLICATIONS, "seed": SEED,
                     "significant_digits": SIGNIFICANT_DIGITS},
        "scenarios": {},
    }
    for name, (path, extra) in SCENARIOS.items():
        run = run_scenario(load_scenario(ROOT / path, [*OVERRIDES, *extra]), replications=REPLICATIONS, seed=SEED)
        out["scenarios"][name] = {
            "leads": table_digest(run.leads),
            "daily": table_digest(run.daily),
            "replications": table_digest(run.replications)
            | {"kpis": [{k: _plain(v) for k, v in row.items()} for row in run.replications.to_dict("records")]},
        }
    return out


def main() -> None:
    GOLDEN.write_text(json.dumps(compute(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""A calibration run: read a CRM export, calibrate, write the scenario, and check it against the export.

``run_calibration`` is what ``funnelsim calibrate`` and the calibration report both call: it
reads and checks the export, estimates the company's funnel (``calibration.calibrate``), writes
the commented scenario file and the bad rows, and, when asked, simulates the calibrated company
over the export's window and sets the KPIs an export shows beside the observed ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from funnelsim.config.errors import ParameterError, WriteFailed
from funnelsim.config.files import (
    check_scenario_target,
)
from funnelsim.config.paths import PARAMS_DIR
from funnelsim.config.schema import load_scenario
from funnelsim.experiments.experiment import local_workers, run_scenario
from funnelsim.experiments.outputs import spreadsheet_safe
from funnelsim.model.maths import HOURS_PER_DAY
from funnelsim.studies.calibrated_scenario import Calibration, display_value
from funnelsim.studies.calibration import calibrate
from funnelsim.studies.calibration_fits import days_between
from funnelsim.studies.crm_export import (
    CheckedExport,
    load_mapping,
    read_export,
    to_crm_export,
)

__all__ = ["CalibrationRun", "compare_with_export", "export_kpis", "run_calibration", "simulate_against_export"]


def export_kpis(leads: pd.DataFrame) -> dict[str, float]:
    """The KPIs an export shows by itself, computed the same way for a simulated export."""
    weeks = max((leads["created_at"].max() - leads["created_at"].min()).total_seconds() / 86400 / 7, 1e-9)

    def count(column: str) -> float:
        return float(leads[column].notna().sum())

    won = float((leads["outcome"] == "won").sum())
    lost = float((leads["outcome"] == "lost").sum())
    speed = days_between(leads["first_touch_at"], leads["handed_off_at"]) * HOURS_PER_DAY
    handoff = days_between(leads["handed_off_at"], leads["mql_at"]) * HOURS_PER_DAY
    return {
        "leads per week": count("created_at") / weeks,
        "MQL share of leads": count("mql_at") / count("created_at"),
        "SAL share of MQLs": count("sal_at") / max(count("mql_at"), 1),
        "touched share of SALs": count("first_touch_at") / max(count("sal_at"), 1),
        "SQL share of touched leads": count("sql_at") / max(count("first_touch_at"), 1),
        "opportunity share of SQLs": count("opportunity_at") / max(count("sql_at"), 1),
        "win rate": won / max(won + lost, 1),
        "median handoff latency (hours)": float(handoff.median()),
        "median speed to lead (hours)": float(speed.median()),
        "bookings per week": float(leads.loc[leads["outcome"] == "won", "amount"].sum()) / weeks,
    }


def compare_with_export(observed: pd.DataFrame, simulated: list[pd.DataFrame]) -> pd.DataFrame:
    """The export's KPIs beside those of simulated exports of the calibrated scenario (one per
    replication): their mean with a 95% CI, and a 95% prediction interval for one more run,
    which is what the export should fall in if the scenario describes the company."""
    own = export_kpis(observed)
    runs = pd.DataFrame([export_kpis(s) for s in simulated])
    rows = []
    for kpi, value in own.items():
        values = runs[kpi].dropna().to_numpy(float)
        row: dict[str, Any] = {"kpi": kpi, "export": value, "simulated": float(values.mean()) if len(values) else np.nan}
        if len(values) > 1 and np.ptp(values) > 0:
            fit = sm.OLS(values, np.ones((len(values), 1))).fit()
            frame = fit.get_prediction(np.ones((1, 1))).summary_frame(alpha=0.05).iloc[0]
            row |= {"ci_low": frame["mean_ci_lower"], "ci_high": frame["mean_ci_upper"],
                    "prediction_low": frame["obs_ci_lower"], "prediction_high": frame["obs_ci_upper"]}
        else:
            row |= {"ci_low": row["simulated"], "ci_high": row["simulated"], "prediction_low": row["simulated"],
                    "prediction_high": row["simulated"]}
        row["relative_gap"] = value / row["simulated"] - 1 if row["simulated"] else np.nan
        row["export_inside_prediction"] = bool(row["prediction_low"] <= value <= row["prediction_high"])
        rows.append(row)
    return pd.DataFrame(rows)


# --- the study: an export in, a scenario file out, checked against the export ----------------


@dataclass
class CalibrationRun:
    """A calibrated export: the checked rows, the estimates, the scenario file written, and
    (when simulated) the export's KPIs beside those of the calibrated scenario."""

    export: CheckedExport
    calibration: Calibration
    scenario_file: Path
    bad_rows_file: Path | None = None  # the bad rows as CSV (None: every row passed)
    replications: int = 0
    comparison: pd.DataFrame | None = None  # ``compare_with_export`` (None: not simulated)

    def estimates_shown(self) -> pd.DataFrame:
        """The estimates, each value written as in the scenario file."""
        estimates = self.calibration.estimates
        return estimates.assign(value=estimates["value"].map(display_value))

    def brief(self) -> str:
        """The answer in brief (Markdown)."""
        result = self.calibration
        lines = [
            f"- {self.export.summary()}",
            f"- {len(result.settings)} settings estimated from the data and written to `{self.scenario_file}`; "
            "team sizes, lead quality, score noise, messaging and content keep the baseline's values, "
            f"and so do {len(result.kept)} values this export is too thin or too short for (listed at the top of the file).",
        ]
        if self.comparison is not None:
            inside = int(self.comparison["export_inside_prediction"].sum())
            lines.append(
                f"- Simulated over the export's {result.window_days:.0f} days, the calibrated scenario reproduces {inside} of "
                f"{len(self.comparison)} of the export's KPIs within the 95% prediction interval of its {self.replications} replications."
            )
        return "\n".join(lines)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the report."""
        out = {"estimates": self.estimates_shown(), "bad_rows": self.export.bad_rows.astype(str)}
        if self.comparison is not None:
            out["comparison"] = self.comparison
        return out | {"funnel": self.calibration.observed["funnel"]}


def simulate_against_export(checked: CheckedExport, calibration: Calibration, scenario_file: Path, replications: int,
                            seed: int) -> pd.DataFrame:
    """The calibrated scenario simulated over the export's window (no warm-up, the same start
    month), each replication turned into an export, beside the export's own KPIs."""
    start = checked.leads["created_at"].min()
    calibrated = load_scenario(scenario_file, [f"simulation.horizon_days={calibration.window_days:.0f}", "simulation.warmup_days=0",
                                               f"simulation.start_month={start.month}"])
    run = run_scenario(calibrated, replications, seed, local_workers())
    simulated = [to_crm_export(run.leads[run.leads["replication"] == r].drop(columns="replication"), start=start.normalize())
                 for r in range(replications)]
    return compare_with_export(checked.leads, simulated)


def run_calibration(
    export: str | Path,
    mapping: str | Path | None,
    out_file: str | Path,
    baseline: str | Path = PARAMS_DIR / "baseline.yaml",
    force: bool = False,
    replications: int = 0,
    seed: int = 20261122,
    mapping_label: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> CalibrationRun:
    """Calibrate ``baseline`` to a CRM export and write the scenario file ``out_file``.

    The export is read with ``mapping`` (None: funnelsim's own column names; messages name it
    ``mapping_label``, by default its path); its bad rows go to ``<out_file>.bad-rows.csv``.
    ``out_file`` is checked first (``files.check_scenario_target``: never the baseline, an
    existing file only with ``force``) and written only once it validates. With
    ``replications``, the written scenario is simulated against the export's own KPIs
    (``simulate_against_export``). ``notify`` receives what is worth telling as it happens (the
    rows read and skipped, where the bad rows went). Raises ``ParameterError`` for bad input
    and ``errors.WriteFailed`` when a file cannot be written.
    """
    tell = notify or (lambda message: None)
    target, baseline = Path(out_file), Path(baseline)
    check_scenario_target(target, baseline, force)
    label = mapping_label or (str(mapping) if mapping else "the mapping")
    checked = read_export(export, load_mapping(mapping), label)
    tell(checked.summary())
    bad_rows_file = None
    if checked.rows_skipped:
        bad_rows_file = target.with_suffix(".bad-rows.csv")
        try:
            bad_rows_file.parent.mkdir(parents=True, exist_ok=True)
            spreadsheet_safe(checked.bad_rows).to_csv(bad_rows_file, index=False)
        except OSError as exc:
            raise WriteFailed(bad_rows_file, exc.strerror or str(exc)) from exc
        tell(f"Bad rows listed in {bad_rows_file}")
    if checked.leads.empty:
        raise ParameterError([f"{export}: no valid rows left to estimate from"])
    calibration = calibrate(checked, load_scenario(baseline))
    try:
        scenario_file = calibration.write(target, baseline, checked.rows_skipped, checked.total_rows, force)
    except OSError as exc:
        raise WriteFailed(target, exc.strerror or str(exc)) from exc
    result = CalibrationRun(checked, calibration, scenario_file, bad_rows_file, replications)
    if replications:
        result.comparison = simulate_against_export(checked, calibration, scenario_file, replications, seed)
    return result

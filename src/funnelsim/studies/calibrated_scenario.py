"""A calibration's result: the estimates, the observed funnel, and the scenario file they make.

``calibration.calibrate`` estimates what a CRM export can tell; a ``Calibration`` holds the
estimates (each with its n, 95% CI, method and fit), the scenario settings they give and the
observed tables, and writes the scenario file: it extends the baseline, every estimated value
carries a comment saying what it rests on, and its header lists what no export informs
(``NOT_IN_THE_DATA``, kept at the baseline's values) and what this export could not.
``display_value`` shows a value as the file writes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.config.files import commented_yaml, write_scenario_file, yaml_scalar
from funnelsim.config.levers import not_in_the_data

__all__ = ["Calibration", "NOT_IN_THE_DATA", "display_value"]

# What no CRM export informs, kept at the baseline's values: the levers and uncertain parameters
# the lever registry marks so, and the company's other settings.
NOT_IN_THE_DATA = [
    *not_in_the_data(), "channels.*.quality", "nurture", "sdr_team.cost_per_rep_month",
    "opportunity.ae_team.cost_per_rep_month", "opportunity.ae_team.sql_patience_days", "customers.gross_margin",
    "customers.installed_base", "closed_loop.min_outcomes", "closed_loop.noise_floor", "closed_loop.budget_*",
    "simulation",
]

@dataclass
class Calibration:
    """The estimates, the observed funnel, and the scenario settings they give."""

    source: str
    estimates: pd.DataFrame  # key, value, ci_low, ci_high, n, method, fit, source ("export" or "baseline")
    settings: dict[str, Any]  # key path: value (for the scenario file)
    observed: dict[str, pd.DataFrame] = field(default_factory=dict)
    window_days: float = 0.0

    def scenario_text(self, extends: str, name: str, bad_rows: int, total_rows: int) -> str:
        """A commented scenario file that extends the baseline with every estimated value."""
        header = [
            f"{name}: calibrated by `funnelsim calibrate` from {self.source}",
            f"({total_rows:,} rows, {bad_rows:,} skipped as invalid; {self.window_days:.0f} days of inquiries).",
            "Each value says what it was estimated from: n, the 95% CI, the method and, for fitted",
            "distributions, the goodness of fit. Not in the data, so kept at the baseline's values:",
            *[f"  {key}" for key in NOT_IN_THE_DATA],
            *self._not_estimated(),
        ]
        top = {"extends": extends, "name": name, "description": f"Calibrated from the CRM export {Path(self.source).name}."}
        comments = {str(r.key): _comment(r) for r in self.estimates.itertuples() if r.key in self.settings}
        nested: dict[str, Any] = {}
        for key, value in self.settings.items():
            node = nested
            parts = _key_parts(key)
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = _plain(value)
        return commented_yaml(header, top, nested, comments)

    @property
    def kept(self) -> pd.DataFrame:
        """The estimable values this export could not inform (they keep the baseline's), with why."""
        return self.estimates[self.estimates["source"] == "baseline"]

    def _not_estimated(self) -> list[str]:
        """Header lines for the values this export could not inform."""
        if not len(self.kept):
            return []
        return ["Estimable, but not from this export, so also kept at the baseline's values:",
                *[f"  {row.key}: {row.method}" for row in self.kept.itertuples()]]

    def write(self, target: Path, baseline: Path, bad_rows: int, total_rows: int, force: bool = False) -> Path:
        """Write the scenario file once it validates (never over the baseline; see ``files``)."""
        extends = os.path.relpath(baseline.resolve(), target.parent.resolve())
        return write_scenario_file(self.scenario_text(extends, target.stem, bad_rows, total_rows), target, baseline, force)


def _key_parts(key: str) -> list[str]:
    """A settings key as its path; a channel's name may itself hold dots (``channels.<name>.<field>``)."""
    parts = key.split(".")
    if parts[0] == "channels" and len(parts) > 3:
        return ["channels", ".".join(parts[1:-1]), parts[-1]]
    return parts


def _comment(row: Any) -> str:
    parts = [row.method]
    if np.isfinite(row.ci_low) and np.isfinite(row.ci_high):
        parts.append(f"95% CI {row.ci_low:.4g} to {row.ci_high:.4g}")
    parts.append(f"n = {int(row.n):,}")
    if isinstance(row.fit, str) and row.fit:
        parts.append(row.fit)
    return "; ".join(parts)


def display_value(value: Any) -> str:
    """A value as it appears in the scenario file (4 significant digits, one line)."""
    return yaml_scalar(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(f"{float(value):.4g}")
    if isinstance(value, np.integer):
        return int(value)
    return value

"""The instructor's worked answers as an instructor reads them: each exercise's effects in
business names and formatted numbers, and its companies side by side."""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from funnelsim.present.vocabulary import format_kpi, kpi_name, people_table, signed_percent
from funnelsim.studies.classroom_answers import Exercise

__all__ = ["effects_list", "means_table"]


def effects_list(exercise: Exercise, kpis: list[str], currency: str = "$") -> str:
    """One line per KPI (Markdown list): each company's change against the exercise's baseline,
    paired by replication, with its 95% CI."""
    lines = []
    for key in kpis:
        table = exercise.effects(key)
        changes = "; ".join(
            f"{row['scenario']} {signed_percent(row['relative'])} (95% CI {signed_percent(row['relative_ci_low'])} to "
            f"{signed_percent(row['relative_ci_high'])})"
            for row in table.to_dict("records")
        )
        first = table.iloc[0]
        lines.append(f"- **{kpi_name(key)}** against {first['baseline']} ({format_kpi(key, first['baseline_mean'], currency)}): "
                     f"{changes}; paired by replication, {int(first['n'])} replications each.")
    return "\n".join(lines)


def means_table(exercise: Exercise, currency: str = "$") -> Styler:
    """Each shown KPI's mean across replications, one column per company, in its unit."""
    means = exercise.means()
    rows = pd.DataFrame({"measure": [kpi_name(key) for key in means.index],
                         **{str(name): [format_kpi(str(key), value, currency) for key, value in means[name].items()]
                            for name in means.columns}})
    return people_table(rows, {"measure": ("Measure", "text"), **{str(name): (str(name).capitalize(), "text") for name in means.columns}})

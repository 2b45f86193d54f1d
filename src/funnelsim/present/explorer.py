"""The what-if explorer: any company as the starting point, the levers on sliders, redrawn at once.

A strategist opens it in the browser (``funnelsim app [SCENARIO]`` serves
``notebooks/explorer.ipynb`` with Voila) or in JupyterLab. It is the classroom's panel
(``funnelsim.studies.classroom``) starting from a scenario file's company: its own lever values
on the sliders, grouped by the sign of alignment each belongs to, and every move simulated
beside the unchanged company with the same leads and the same luck (common random numbers),
over five months so that a redraw takes under two seconds on two cores.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from funnelsim.config.paths import rendering_a_report
from funnelsim.config.schema import load_scenario
from funnelsim.present.vocabulary import scenario_name
from funnelsim.studies.classroom import BASELINE, classroom_panel, draw, kpi_table, play, starting_values

__all__ = ["EXPLORER_SCENARIO", "EXPLORER_DAYS", "explorer_scenario", "explorer_panel"]

EXPLORER_SCENARIO = "FUNNELSIM_EXPLORER_SCENARIO"  # the starting company ``funnelsim app`` hands its notebook
EXPLORER_DAYS = 150  # simulated days a move (the first fifth warm-up): a redraw within two seconds on two cores


def explorer_scenario(scenario_file: str = "") -> Path:
    """The starting company: ``scenario_file``, else the one ``funnelsim app`` was given, else
    the baseline; checked (a bad file raises ``ParameterError`` naming it)."""
    path = Path(scenario_file or os.environ.get(EXPLORER_SCENARIO, "") or BASELINE).resolve()
    load_scenario(path)
    return path


def explorer_panel(scenario_file: str = "", seed: int = 1, horizon_days: int = EXPLORER_DAYS) -> Any:
    """The what-if panel, starting from the company of ``explorer_scenario(scenario_file)``."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    base = explorer_scenario(scenario_file)
    company = html.escape(scenario_name(load_scenario(base).name))
    title = (f"<h3>Starting company: {company}</h3><p>{html.escape(base.name)}: {horizon_days} days a move, "
             "the same leads and the same luck as the starting company.</p>")
    if rendering_a_report():  # a rendered page cannot move a slider: the starting company's picture, no widgets
        run = play(starting_values(base), seed, horizon_days, base)
        display(HTML(title + "<p><i>The sliders move in the app (<code>funnelsim app</code>) or a running notebook; "
                             "this page shows the starting company.</i></p>"))
        display(draw(run))
        plt.close("all")
        return kpi_table(run)
    return widgets.VBox([widgets.HTML(title), classroom_panel(seed, horizon_days, base, beside=True)])

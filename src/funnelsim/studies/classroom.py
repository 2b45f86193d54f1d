"""The classroom and the what-if explorer: move a lever, see the funnel and revenue change at once.

For teaching "smarketing": a handful of levers a class can argue about (how fast marketing
hands leads to sales, how many leads sales works at all, how many SDRs there are, whether both
teams use one lead definition, whether marketing learns from sales' outcomes, messaging,
content, retention), each a slider. Moving one re-runs a small simulation (by default nine
months of the baseline company, one replication, always the same seed, so the difference is the lever's and
not luck's) beside the unchanged company, and redraws the funnel, monthly revenue and the KPI
table. Without a live kernel (a report rendered by papermill) the same functions draw the
picture for the notebook's parameter values.

The what-if explorer (``funnelsim.present.explorer``, served as a web app by ``funnelsim app``)
is the same panel for strategists, starting from any scenario file's company; the sliders are
grouped by the sign of alignment they belong to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from funnelsim.config.levers import Entry, sliders
from funnelsim.config.lever_values import as_overrides, format_as, format_value, lever_settings
from funnelsim.config.paths import PARAMS_DIR, rendering_a_report
from funnelsim.config.schema import Scenario, load_scenario
from funnelsim.experiments.experiment import Comparison, ScenarioRun, run_scenario
from funnelsim.model.maths import DAYS_PER_MONTH
from funnelsim.model.stages import HEADLINE_STAGES
from funnelsim.stats.analysis import monthly_revenue

__all__ = [
    "SLIDERS", "CLASS_SEED", "CLASS_HORIZON_DAYS", "slider_values", "classroom_scenario", "ClassroomRun", "play", "draw", "kpi_table", "slider_groups", "starting_values",
    "settings_table", "classroom_panel", "NOISE_NOTE",
]

BASELINE = PARAMS_DIR / "baseline.yaml"
CLASS_SEED = 1  # the students' seed: the same leads and luck for the whole class
CLASS_HORIZON_DAYS = 270  # nine months, a fifth of them warm-up (benchmarks/bench_classroom.py times a re-run)
TODAY = "today"
YOURS = "your settings"


# The levers with a slider, their ranges and labels: the lever registry (funnelsim.config.levers).
SLIDERS: list[Entry] = sliders()


def slider_values(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Each slider's value among the classroom notebook's ``parameters`` (by the parameter name
    the registry gives the slider), keyed by the lever's key path."""
    missing = [s.slider.parameter for s in SLIDERS if s.slider and s.slider.parameter not in parameters]
    if missing:
        raise KeyError(f"no value for the sliders' parameters {', '.join(missing)}")
    return {s.key: parameters[s.slider.parameter] for s in SLIDERS if s.slider}


def classroom_scenario(values: dict[str, Any], horizon_days: int = CLASS_HORIZON_DAYS, base: Path = BASELINE) -> Scenario:
    """The baseline company, shortened to ``horizon_days`` (a fifth of it warm-up), with the
    slider values set; a value out of range raises ``ParameterError`` naming the key."""
    sim = [f"simulation.horizon_days={horizon_days}", f"simulation.warmup_days={horizon_days // 5}"]
    return load_scenario(base, sim + as_overrides(values))


NOISE_NOTE = ("One run of each company, with the same leads and the same luck: a change of a few percent can be "
              "chance. The instructor's answers repeat each run to put a 95% range on every effect.")


@dataclass
class ClassroomRun:
    """Today's company and the class's settings, simulated with the same seed. In a notebook
    it shows itself as the KPI table and the picture, so ``play({...})`` needs nothing more."""

    values: dict[str, Any]
    runs: pd.DataFrame  # one row per scenario: the replications table
    daily: pd.DataFrame
    warmup_days: float
    horizon_days: float

    def note(self) -> str:
        """What was simulated, measured from the run (how long, how many of today's leads the
        KPIs count), and why a small difference can be chance."""
        leads = float(self.runs.loc[self.runs["scenario"] == TODAY, "leads"].iloc[0])
        return (f"Each company is simulated for {self.horizon_days / DAYS_PER_MONTH:.0f} months; the KPIs count the last "
                f"{(self.horizon_days - self.warmup_days) / DAYS_PER_MONTH:.0f}, after the warm-up, in which today's "
                f"company gets {leads:,.0f} leads. {NOISE_NOTE}")

    def _ipython_display_(self) -> None:
        from IPython.display import Markdown, display

        display(kpi_table(self))
        display(Markdown(f"*{self.note()}*"))
        figure = draw(self)
        display(figure)
        plt.close(figure)

    def __repr__(self) -> str:
        return f"Your settings against today's company:\n{kpi_table(self).to_string()}"


@lru_cache(maxsize=8)
def _today(seed: int, horizon_days: int, base: Path) -> ScenarioRun:
    """Today's company, simulated once per seed and horizon: a slider move re-runs only yours."""
    return run_scenario(classroom_scenario({}, horizon_days, base).model_copy(update={"name": TODAY}), 1, seed)


def play(values: dict[str, Any], seed: int = CLASS_SEED, horizon_days: int = CLASS_HORIZON_DAYS, base: Path = BASELINE) -> ClassroomRun:
    """Simulate the company with the slider values beside today's, with the same seed (so the
    same leads and the same luck: common random numbers), one replication each."""
    yours = classroom_scenario(values, horizon_days, base).model_copy(update={"name": YOURS})
    comparison = Comparison({TODAY: _today(seed, horizon_days, Path(base)), YOURS: run_scenario(yours, 1, seed)})
    simulation = yours.simulation
    return ClassroomRun(values, comparison.replications, comparison.daily, simulation.warmup_days, simulation.horizon_days)


# KPI, label, format
_KPIS = [
    ("leads", "Leads", "{:,.0f}"),
    ("mqls", "MQLs", "{:,.0f}"),
    ("sals", "SALs (accepted by sales)", "{:,.0f}"),
    ("sqls", "SQLs (qualified by sales)", "{:,.0f}"),
    ("wins", "New customers", "{:,.0f}"),
    ("median_speed_to_lead_hours", "Speed to lead (inquiry to first call), median", "hours"),
    ("share_never_contacted", "Worked leads never reached", "{:.0%}"),
    ("sla_breach_rate", "SLA breaches (first touch late)", "{:.0%}"),
    ("share_sqls_lapsed", "SQLs that bought elsewhere waiting for an AE", "{:.0%}"),
    ("win_rate", "Win rate", "{:.0%}"),
    ("sdr_utilisation", "SDR time on calls", "{:.0%}"),
    ("ae_utilisation", "AE deal slots in use", "{:.0%}"),
    ("cpl", "CPL (cost per lead)", "{:,.0f}"),
    ("cac", "CAC (cost per new customer)", "{:,.0f}"),
    ("clv", "CLV (lifetime value of a customer)", "{:,.0f}"),
    ("bookings", "New bookings (annual value of deals won)", "{:,.0f}"),
    ("revenue", "Revenue after warm-up (installed base included)", "{:,.0f}"),
]


def kpi_table(run: ClassroomRun) -> pd.DataFrame:
    """The KPIs of today's company and of the class's settings, side by side, with the change."""
    runs = run.runs.set_index("scenario")
    rows = []
    for kpi, label, fmt in _KPIS:
        today, yours = float(runs.loc[TODAY, kpi]), float(runs.loc[YOURS, kpi])
        change = yours / today - 1 if today and np.isfinite(today) and np.isfinite(yours) else np.nan
        rows.append({"KPI": label, TODAY: _fmt(fmt, today), YOURS: _fmt(fmt, yours),
                     "change": "" if not np.isfinite(change) else "0%" if abs(change) < 0.005 else f"{change:+.0%}"})
    return pd.DataFrame(rows).set_index("KPI")


def _fmt(fmt: str, value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return format_as("hours", value) if fmt == "hours" else fmt.format(value)  # "45 min", "2.5 h"


_MONEY = FuncFormatter(lambda v, _: f"{v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"{v / 1e3:,.0f}k")


def draw(run: ClassroomRun, stacked: bool = False) -> Figure:
    """The funnel stage by stage and revenue month by month, today against your settings: side
    by side, or (``stacked``) one above the other, to sit beside the sliders."""
    stages = [(stage.count, stage.short_label) for stage in HEADLINE_STAGES]
    funnel = run.runs.melt(id_vars="scenario", value_vars=[k for k, _ in stages], var_name="stage", value_name="count")
    funnel["stage"] = funnel["stage"].map(dict(stages))
    monthly = monthly_revenue(run.daily, run.warmup_days)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"), sns.color_palette("colorblind"):
        shape, size = ((2, 1), (7, 7)) if stacked else ((1, 2), (12, 4.2))
        fig, (left, right) = plt.subplots(*shape, figsize=size, layout="constrained")
        sns.barplot(data=funnel, x="stage", y="count", hue="scenario", hue_order=[TODAY, YOURS], ax=left)
        left.set_yscale("log")
        left.set(xlabel="Funnel stage", ylabel="Count after warm-up (log scale)", title="The funnel")
        sns.lineplot(data=monthly, x="month", y="revenue", hue="scenario", hue_order=[TODAY, YOURS], marker="o", ax=right)
        right.yaxis.set_major_formatter(_MONEY)
        right.set_ylim(bottom=0)  # levels compared from zero: month-to-month noise does not look like a trend
        right.xaxis.set_major_locator(MaxNLocator(integer=True))
        right.set(xlabel="Month after warm-up", ylabel="Revenue per month", title="Revenue")
        left.legend(title="", fontsize="small")
        right.legend(title="", fontsize="small", loc="lower right")
    return fig


def starting_values(base: Path) -> dict[str, Any]:
    """Each slider's value in the company of scenario file ``base``."""
    return lever_settings(load_scenario(base), [s.key for s in SLIDERS])


def settings_table(values: dict[str, Any], base: Path = BASELINE) -> pd.DataFrame:
    """Each slider's lever by its name: today's value and the class's, as a marketer reads them."""
    today = starting_values(base)
    rows = [{"Lever": s.name, TODAY: format_value(s.key, today[s.key]), YOURS: format_value(s.key, values[s.key]),
             "changed": "changed" if values[s.key] != today[s.key] else ""} for s in SLIDERS if s.key in values]
    return pd.DataFrame(rows).set_index("Lever")


TEAMS = "Teams"


def slider_groups() -> dict[str, list[Entry]]:
    """The sliders by the sign of alignment they belong to (its short name), team sizes last."""
    groups: dict[str, list[Entry]] = {}
    for entry in SLIDERS:
        if entry.question is not None:
            groups.setdefault(entry.question.name, []).append(entry)
    groups[TEAMS] = [entry for entry in SLIDERS if entry.question is None]
    return {name: entries for name, entries in groups.items() if entries}


def classroom_panel(
    seed: int = CLASS_SEED, horizon_days: int = CLASS_HORIZON_DAYS, base: Path = BASELINE, start: dict[str, Any] | None = None,
    beside: bool = False,
) -> Any:
    """The sliders and the picture they redraw (needs a live Jupyter kernel to move), the picture
    below the sliders or (``beside``) to their right. The sliders
    start at the baseline's values, or at ``start``'s for the levers it names. In a report being
    rendered nobody can move a slider, so the panel says so instead of running the simulation
    behind widgets (the report draws the same picture without them)."""
    import ipywidgets as widgets
    from IPython.display import HTML, display

    if rendering_a_report():
        return HTML("<i>The sliders move in a running notebook (JupyterLab); this page shows your settings below.</i>")

    defaults = {**starting_values(base), **(start or {})}
    controls: dict[str, Any] = {}
    rows: list[Any] = []
    style = {"description_width": "270px" if beside else "300px"}
    layout = widgets.Layout(width="560px" if beside else "640px")
    entries = [(group, entry) for group, members in slider_groups().items() for entry in members]
    for number, (group, entry) in enumerate(entries):
        if number == 0 or entries[number - 1][0] != group:
            rows.append(widgets.HTML(f"<b>{group}</b>"))
        s, value = entry.slider, defaults[entry.key]
        assert s is not None
        common = {"description": s.label, "continuous_update": False, "style": style, "layout": layout}
        if entry.scale == "switch":
            controls[entry.key] = widgets.Checkbox(value=bool(value), description=s.label, style=style, layout=layout)
        elif entry.whole:
            controls[entry.key] = widgets.IntSlider(value=int(value), min=int(s.low), max=int(s.high), step=int(s.step), **common)
        elif entry.scale == "log":
            controls[entry.key] = widgets.FloatLogSlider(value=float(value), base=10, min=np.log10(s.low), max=np.log10(s.high),
                                                         step=0.05, readout_format=".2f", **common)
        else:
            controls[entry.key] = widgets.FloatSlider(value=float(value), min=s.low, max=s.high, step=s.step,
                                                      readout_format=".3g", **common)
        rows.append(controls[entry.key])
    output = widgets.Output()

    def redraw(**values: Any) -> None:
        run = play(values, seed, horizon_days, base)
        with output:
            output.clear_output(wait=True)
            display(kpi_table(run))
            display(draw(run, stacked=beside))
            plt.close("all")

    widgets.interactive_output(redraw, controls)
    hint = widgets.HTML(f"<b>Move a lever; the simulation re-runs when you let go.</b> <i>{NOISE_NOTE}</i>")
    if beside:
        sliders = widgets.VBox(rows, layout=widgets.Layout(flex="0 0 auto", width="580px"))
        output.layout = widgets.Layout(flex="1 1 auto", min_width="0")
        return widgets.VBox([hint, widgets.HBox([sliders, output])])
    return widgets.VBox([hint, *rows, output])


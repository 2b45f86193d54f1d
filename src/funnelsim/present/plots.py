"""The figures of a report, in one consistent seaborn theme, with labelled axes and units.

Each function takes tidy tables (or an estimate's table) and returns a matplotlib ``Figure``;
nothing is saved unless the caller asks (``fig.savefig``). Figures: the funnel by stage per
scenario, the speed-to-lead curve beside its configured decay, revenue distributions per
scenario, a forest plot of effects with CIs, a tornado chart of levers, revenue over time
with confidence bands, published claims against the model, claims along the alignment path,
the cost and effect of every combination of levers on offer, and a calibration's fits against
the CRM export they came from.
"""

from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager
from collections.abc import Iterable
from typing import Any, Protocol

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from funnelsim.config.schema import Scenario
from funnelsim.model.maths import (
    HOURS_PER_DAY,
    DecayCurve,
    contact_chance,
    decay_log_multiplier_array,
    logistic,
    logistic_array,
    logit,
)
from funnelsim.model.stages import HEADLINE_STAGES
from funnelsim.present.vocabulary import SCENARIOS, in_sentence
from funnelsim.stats.analysis import monthly_revenue
from funnelsim.stats.measures import mean_ci
from funnelsim.studies.calibrated_scenario import Calibration
from funnelsim.studies.calibration_fits import fitted_distribution

__all__ = [
    "calibration_decay",
    "calibration_durations",
    "claims_chart",
    "decay_fit_chart",
    "effect_forest",
    "export_comparison",
    "fitted_durations",
    "frontier_chart",
    "funnel_chart",
    "gap_waterfall",
    "path_chart",
    "revenue_distribution",
    "revenue_over_time",
    "scenario_colours",
    "speed_to_lead_curve",
    "tornado_chart",
    "uncertainty_ranges",
]

STAGES = [(stage.count, stage.label) for stage in HEADLINE_STAGES]


class Density(Protocol):
    """A distribution with a density, such as a frozen scipy distribution."""

    def pdf(self, x: np.ndarray) -> np.ndarray: ...


_MONEY = FuncFormatter(lambda v, _: f"{v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"{v / 1e3:,.0f}k" if abs(v) >= 1e3 else f"{v:,.0f}")


# One colour per shipped scenario in every figure (seaborn's colour-blind palette): the maturity
# levels from vermillion (fully misaligned) to blue (fully aligned), the typical company grey.
_COLOUR_OF = {"fully-misaligned": 3, "somewhat-misaligned": 1, "somewhat-aligned": 9, "fully-aligned": 0,
              "baseline": 7, "closed-loop": 2, "daily-export": 5, "realtime-routing": 4}
_SPARE_COLOURS = (6, 8)
_SLUG_OF = {name: slug for slug, name in SCENARIOS.items()}


def scenario_colours(names: Iterable[str]) -> dict[str, tuple[float, float, float]]:
    """Each scenario (by its file name or its business name) with its colour, in the order a
    legend lists them: the shipped scenarios in maturity order first, any other as it comes."""
    palette = sns.color_palette("colorblind")
    unique = list(dict.fromkeys(str(n) for n in names))
    rank = {slug: i for i, slug in enumerate(SCENARIOS)}
    ordered = sorted(unique, key=lambda n: (rank.get(_SLUG_OF.get(n) or n, len(rank)), unique.index(n)))
    colours, spare = {}, 0
    for name in ordered:
        slug = _SLUG_OF.get(name) or name
        if slug in _COLOUR_OF:
            colours[name] = palette[_COLOUR_OF[slug]]
        else:
            colours[name] = palette[_SPARE_COLOURS[spare % len(_SPARE_COLOURS)]]
            spare += 1
    return colours


@contextmanager
def _theme():
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"), sns.color_palette("colorblind"):
        yield


def _figure(width: float = 8, height: float = 4.5) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def _legend_below(fig: Figure, handles: list[Any] | None = None) -> None:
    """The legend under the chart, outside the axes (the chart's own entries, or ``handles``):
    never over a point, a bar or a band, however the data fall."""
    fig.legend(handles=handles if handles is not None else fig.axes[0].get_legend_handles_labels()[0],
               loc="outside lower center", ncols=2, fontsize="small")


def _scenario_legend(ax: plt.Axes) -> None:
    """The scenarios' legend beside the chart, on its right: never over a line, a band or a bar."""
    ax.legend(title="Scenario", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _t_interval(values: pd.Series) -> tuple[float, float]:
    """A bar's or a line's 95% interval across replications: the t interval of the mean
    (``measures.mean_ci``), as the KPI tables give it, instead of seaborn's bootstrap (a
    thousand resamples per bar, and a different method from the tables beside it)."""
    interval = mean_ci(values)
    return interval.low, interval.high


def funnel_chart(runs: pd.DataFrame) -> Figure:
    """Mean count per funnel stage (log scale) per scenario, with 95% t intervals across replications."""
    data = runs.melt(id_vars=["scenario"], value_vars=[k for k, _ in STAGES], var_name="stage", value_name="count")
    data["stage"] = data["stage"].map(dict(STAGES))
    with _theme():
        fig, ax = _figure()
        colours = scenario_colours(data["scenario"])
        sns.barplot(data=data, x="stage", y="count", hue="scenario", errorbar=_t_interval, ax=ax, order=[s for _, s in STAGES],
                    hue_order=list(colours), palette=colours)
        ax.set_yscale("log")
        ax.set(xlabel="Funnel stage", ylabel="Count after warm-up (log scale)", title="The funnel, stage by stage")
        _scenario_legend(ax)
    return fig


def speed_to_lead_curve(leads: pd.DataFrame, scenario: Scenario | None = None) -> Figure:
    """Share of touched leads that qualified, by hours from inquiry to first touch.

    With ``scenario``, the configured chance that a single attempt at that age reaches a
    quality-50 lead and qualifies it is drawn beside it (presence window and cold calls for
    the contact, the cooling of interest for the qualification).
    """
    touched = leads[leads["first_touch_at"].notna()].copy()
    edges = [0, 0.25, 0.5, 1, 2, 4, 8, 16, 24, 48, 96, np.inf]
    touched["bin"] = pd.cut(touched["speed_to_lead_hours"], edges, right=False)
    touched["qualified"] = touched["sql_at"].notna().astype(float)
    grouped = touched.groupby("bin", observed=True)["qualified"].agg(["mean", "size", "std"])
    mids = np.array([min(iv.left * 1.5 if iv.left else 0.125, 200) if np.isfinite(iv.right) else 150 for iv in grouped.index])
    half = 1.96 * np.sqrt(grouped["mean"] * (1 - grouped["mean"]) / grouped["size"])
    with _theme():
        fig, ax = _figure()
        ax.errorbar(mids, grouped["mean"], yerr=half, fmt="o", capsize=3, label="simulated leads (95% CI)")
        top = float((grouped["mean"] + half).max())
        if scenario is not None:
            hours = np.geomspace(0.05, 150, 200)
            fu = scenario.follow_up
            qualify = DecayCurve(fu.qualification_decay)
            p = [
                contact_chance(fu, h / HOURS_PER_DAY)
                * logistic(logit(scenario.qualification.probability_at_quality_50) + qualify(h / HOURS_PER_DAY))
                for h in hours
            ]
            ax.plot(hours, p, label="configured: one attempt, quality 50")
            top = max(top, float(max(p)))  # the whole configured curve, not cut off at the top
        ax.set_xscale("log")
        _age_ticks(ax)
        ax.set_ylim(0, min(1.0, top + 0.05))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set(
            xlabel="Lead age at first touch (log scale)",
            ylabel="Share qualified",
            title="Speed to lead: the older the lead, the lower the odds",
        )
        _legend_below(fig)
    return fig


_AGE_TICKS = {1 / 12: "5 min", 0.25: "15 min", 1.0: "1 h", 4.0: "4 h", 24.0: "1 day", 96.0: "4 days",
              336.0: "2 weeks", 1440.0: "2 months", 4320.0: "6 months"}


def _age_ticks(ax: plt.Axes, per_hour: float = 1.0) -> None:
    """Times on a log axis as people say them ("15 min", "1 day"), the ones inside the axis;
    ``per_hour``: axis units per hour (1/24 for an axis in days)."""
    low, high = ax.get_xlim()
    shown = {hours * per_hour: label for hours, label in _AGE_TICKS.items() if low <= hours * per_hour <= high}
    ax.set_xticks(list(shown), list(shown.values()))
    ax.xaxis.set_minor_formatter(NullFormatter())


def revenue_distribution(runs: pd.DataFrame, kpi: str = "revenue", unit: str = "currency") -> Figure:
    """The KPI of every replication per scenario: a box plot with the replications on top."""
    with _theme():
        fig, ax = _figure()
        colours = scenario_colours(runs["scenario"])
        sns.boxplot(data=runs, x="scenario", y=kpi, ax=ax, color="0.9", showfliers=False, order=list(colours))
        sns.stripplot(data=runs, x="scenario", y=kpi, ax=ax, hue="scenario", legend=False, size=5, order=list(colours),
                      hue_order=list(colours), palette=colours)
        if unit == "currency":
            ax.yaxis.set_major_formatter(_MONEY)
        ax.set(xlabel="Scenario", ylabel=f"{kpi.replace('_', ' ').capitalize()} ({unit}) per replication", title=f"{kpi.replace('_', ' ').capitalize()} across replications")
        ax.tick_params(axis="x", rotation=20)
    return fig


def effect_forest(table: pd.DataFrame, relative: bool = True) -> Figure:
    """Each scenario's effect against the baseline with its CI (from ``compare_scenarios``)."""
    cols = ("relative", "relative_ci_low", "relative_ci_high") if relative else ("estimate", "ci_low", "ci_high")
    data = table.sort_values(cols[0])
    with _theme():
        fig, ax = _figure(height=max(2.5, 0.5 * len(data) + 1.5))
        y = np.arange(len(data))
        colours = scenario_colours(data["scenario"])
        for i, (name, mid, low, high) in enumerate(zip(data["scenario"], data[cols[0]], data[cols[1]], data[cols[2]])):
            ax.errorbar([mid], [i], xerr=[[mid - low], [high - mid]], fmt="o", capsize=4, color=colours[str(name)])
        ax.axvline(0, color="0.4", lw=1, ls="--")
        ax.set_yticks(y, data["scenario"])
        kpi = str(table["kpi"].iloc[0]) if "kpi" in table else "KPI"
        base = str(table["baseline"].iloc[0]) if "baseline" in table else "baseline"
        if relative:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            ax.set_xlabel(f"Change in {kpi} vs '{base}' (%, 95% CI)")
        else:
            ax.xaxis.set_major_formatter(_MONEY)
            ax.set_xlabel(f"Change in {kpi} vs '{base}' ({table['unit'].iloc[0]}, 95% CI)")
        ax.set(ylabel="Scenario", title="What each scenario is worth")
    return fig


def uncertainty_ranges(summary: pd.DataFrame, kpi: str = "revenue") -> Figure:
    """Each scenario's effect on ``kpi`` (from ``psa.summarise_effects``): the range across
    plausible models as a wide pale bar, the simulation-noise CI as a dark line inside it, and
    the average across plausible models as a dot (not the estimate for the companies as their
    files describe them, which a report's headline gives, so the legend names it)."""
    data = summary[summary["kpi"] == kpi].sort_values("mean")
    with _theme():
        fig, ax = _figure(height=max(2.5, 0.5 * len(data) + 1.5))
        y = np.arange(len(data))
        colours = [scenario_colours(data["scenario"])[str(name)] for name in data["scenario"]]
        ax.hlines(y, data["range_low"], data["range_high"], lw=12, colors=colours, alpha=0.3,
                  label="range across plausible models (95%)")
        ax.hlines(y, data["noise_low"], data["noise_high"], lw=3, colors=colours, label="simulation noise alone (95% CI)")
        ax.scatter(data["mean"], y, marker="o", c=colours, zorder=3)
        ax.axvline(0, color="0.4", lw=1, ls="--")
        ax.set_yticks(y, data["scenario"])
        relative = (data["scale"] == "relative").all()
        ax.xaxis.set_major_formatter(PercentFormatter(1.0) if relative else _MONEY)
        ax.set(xlabel=f"Change in {kpi}" + (" (%)" if relative else ""), ylabel="Scenario", title="How sure are we")
        _legend_below(fig, [Line2D([], [], lw=12, color="0.5", alpha=0.3, label="range across plausible models (95%)"),
                            Line2D([], [], lw=3, color="0.3", label="simulation noise alone (95% CI)"),
                            Line2D([], [], lw=0, marker="o", color="0.3", label="average across plausible models")])
    return fig


def tornado_chart(table: pd.DataFrame, kpi: str = "revenue", unit: str = "currency") -> Figure:
    """Levers ranked by their swing on the KPI over the sweep's range (from ``lever_effects``);
    a ``label`` column, when the table has one, names each lever (else its key and range)."""
    data = table.reindex(table["swing"].abs().sort_values().index)
    with _theme():
        fig, ax = _figure(height=max(2.5, 0.45 * len(data) + 1.5))
        y = np.arange(len(data))
        palette = sns.color_palette("colorblind")
        colors = [palette[2] if swing >= 0 else palette[3] for swing in data["swing"]]
        ax.barh(y, data["swing"], color=colors)
        ax.errorbar(data["swing"], y, xerr=[data["swing"] - data["swing_ci_low"], data["swing_ci_high"] - data["swing"]], fmt="none", ecolor="0.2", capsize=3)
        labels = (list(data["label"]) if "label" in data else
                  [f"{lever}  ({low:.3g} to {high:.3g})" for lever, low, high in zip(data["lever"], data["low"], data["high"])])
        ax.set_yticks(y, labels)
        ax.axvline(0, color="0.4", lw=1)
        if unit == "currency":
            ax.xaxis.set_major_formatter(_MONEY)
        ax.set(xlabel=f"Change in {kpi} over the lever's range in the sweep (bars: 95% range)", ylabel="Lever (its range in the sweep)", title="Which lever moves it most")
    return fig


def gap_waterfall(steps: pd.DataFrame, what: str = "Revenue", unit: str = "currency") -> Figure:
    """From the fully misaligned company to the fully aligned one, a bar per step (from
    ``GapSplit.waterfall``): the two companies as full bars, each sign's part floating where the
    previous step ended, the interplay of three or more signs last."""
    data = steps.iloc[::-1].reset_index(drop=True)  # first step at the top
    with _theme():
        fig, ax = _figure(width=9, height=max(3.0, 0.42 * len(data) + 1.5))
        palette = sns.color_palette("colorblind")
        colors = [palette[7] if kind == "level" else palette[2] if value >= 0 else palette[3]
                  for kind, value in zip(data["kind"], data["value"])]
        left = np.minimum(data["bottom"], data["top"])
        ax.barh(data.index, (data["top"] - data["bottom"]).abs(), left=left, color=colors)
        sign_steps = data[data["kind"] != "level"]
        low = float(min(sign_steps[["bottom", "top"]].min().min(), data.loc[data["kind"] == "level", "top"].min()))
        high = float(data[["bottom", "top"]].max().max())
        ax.set_xlim(max(0.0, low - 0.15 * (high - low)), high + 0.05 * (high - low))
        ax.set_yticks(data.index, data["step"])
        if unit == "currency":
            ax.xaxis.set_major_formatter(_MONEY)
        ax.set(xlabel=f"{what} (the axis does not start at zero)", ylabel="", title="Where the gap comes from, sign by sign")
    return fig


def revenue_over_time(daily: pd.DataFrame, warmup_days: float = 0.0) -> Figure:
    """Monthly revenue per scenario: the mean over replications with a 95% t interval band."""
    monthly = monthly_revenue(daily, warmup_days)
    if "scenario" not in monthly:
        monthly = monthly.assign(scenario="scenario")
    with _theme():
        fig, ax = _figure()
        colours = scenario_colours(monthly["scenario"])
        sns.lineplot(data=monthly, x="month", y="revenue", hue="scenario", errorbar=_t_interval, marker="o", ax=ax,
                     hue_order=list(colours), palette=colours)
        ax.yaxis.set_major_formatter(_MONEY)
        ax.set(xlabel="Month after warm-up (a month is a twelfth of a year)", ylabel="Revenue per month (currency)", title="Revenue over time")
        _scenario_legend(ax)
    return fig



def _growth_axis(ax: plt.Axes) -> None:
    """A symmetric-log percentage axis: +20% and +2,000% on one readable scale."""
    ax.set_xscale("symlog", linthresh=1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.axvline(0, color="0.4", lw=1, ls="--")


def claims_chart(table: pd.DataFrame) -> Figure:
    """Each published claim (cross) beside the model's effect with its 95% CI (from ``claims_against_model``)."""
    data = table.iloc[::-1].reset_index(drop=True)
    with _theme():
        fig, ax = _figure(width=9, height=max(3.0, 0.5 * len(data) + 1.5))
        y = np.arange(len(data))
        ax.errorbar(data["model"], y, xerr=[data["model"] - data["ci_low"], data["ci_high"] - data["model"]],
                    fmt="o", capsize=4, label="model (95% CI)")
        ax.scatter(data["claimed"], y, marker="X", s=90, color=sns.color_palette("colorblind")[3], zorder=3, label="published claim")
        labels = [textwrap.fill(f"{c}: {s}", 48) for c, s in zip(data["claim"], data["statement"])]  # room for the chart
        ax.set_yticks(y, labels, fontsize="small")
        _growth_axis(ax)
        ax.margins(x=0.08)  # a claim at the end of the axis shows whole
        ax.set(xlabel="Relative change, symmetric log scale\n(growth claims: ratio of growth factors)", ylabel="",
               title="Published alignment claims against the model")
        _legend_below(fig)
    return fig


def path_chart(effects: pd.DataFrame, claimed: dict[str, float]) -> Figure:
    """Each claim's KPI change along the misaligned-to-aligned path (with 95% bands) and the claimed value."""
    names = list(dict.fromkeys(effects["claim"]))
    cols = 3
    rows = math.ceil(len(names) / cols)
    with _theme():
        fig, axes = plt.subplots(rows, cols, figsize=(12, 3.0 * rows), layout="constrained", sharex=True, squeeze=False)
        for ax, name in zip(axes.ravel(), names):
            data = effects[effects["claim"] == name].sort_values("t")
            ax.plot(data["t"], data["change"], marker="o")
            ax.fill_between(data["t"], data["ci_low"], data["ci_high"], alpha=0.25)
            if np.isfinite(claimed.get(name, np.nan)):
                ax.axhline(claimed[name], color=sns.color_palette("colorblind")[3], ls="--", lw=1.5)
            ax.axvline(1.0, color="0.5", lw=1, ls=":")
            ax.set_yscale("symlog", linthresh=1.0)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_title(name, fontsize="small")
        for ax in axes.ravel()[len(names):]:
            ax.set_visible(False)
        fig.supxlabel("Share of the way from fully misaligned (0) to fully aligned (1) and beyond")
        fig.supylabel("Change against the claim's reference (dashed: the claim)")
    return fig


def frontier_chart(options: pd.DataFrame, efficient: pd.DataFrame, confirmed: pd.DataFrame, target: float,
                   what: str = "Revenue", currency: str = "$") -> Figure:
    """Every combination of levers on offer (annual cost against predicted change), the efficient
    frontier as a line (no cheaper option buys more), the options confirmed by direct simulation
    as their simulated change with its 95% CI, the target dashed."""
    with _theme():
        fig, ax = _figure(width=9, height=5)
        palette = sns.color_palette("colorblind")
        ax.scatter(options["annual_cost"], options["predicted_change"], s=10, alpha=0.25, color=palette[7],
                   label="an option on offer (predicted)")
        ax.step(efficient["annual_cost"], efficient["predicted_change"], where="post", color=palette[0], lw=2,
                label="efficient frontier: no cheaper option buys more")
        if len(confirmed):
            y = confirmed["simulated_change"]
            ax.errorbar(confirmed["annual_cost"], y, yerr=[y - confirmed["simulated_ci_low"], confirmed["simulated_ci_high"] - y],
                        fmt="D", color=palette[3], capsize=4, label="confirmed by direct simulation (95% CI)")
            for number, (cost, change) in enumerate(zip(confirmed["annual_cost"], y), 1):
                ax.annotate(f"option {number}", (cost, change), textcoords="offset points", xytext=(6, 6), fontsize="small")
        ax.axhline(target, color="0.3", ls="--", lw=1.5, label="target")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: currency + _MONEY(v, _)))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set(xlabel="Cost of the levers a year", ylabel=f"Change in {in_sentence(what)}",
               title="What each combination of levers costs and buys")
        _legend_below(fig)
    return fig


def fitted_durations(values: np.ndarray, distribution: Density, what: str, unit: str) -> Figure:
    """Observed durations (histogram, log scale) against the fitted distribution's density."""
    values = np.asarray(values, float)
    values = values[values > 0]
    with _theme():
        fig, ax = _figure(height=3.8)
        bins = np.geomspace(values.min(), values.max(), 40).tolist()
        ax.hist(values, bins=bins, density=True, alpha=0.5, label=f"export (n = {len(values):,})")
        grid = np.geomspace(values.min(), values.max(), 300)
        ax.plot(grid, distribution.pdf(grid), lw=2, label="fitted")
        ax.set_xscale("log")
        if unit in ("hours", "days"):
            _age_ticks(ax, 1.0 if unit == "hours" else 1 / 24)
        ax.set(xlabel=f"{what} (log scale)", ylabel="Density", title=f"{what}: export against the fit")
        _legend_below(fig)
    return fig


def decay_fit_chart(by_age: pd.DataFrame, fit: pd.DataFrame, outcome: str) -> Figure:
    """Share reaching an outcome by the lead's age (export, 95% CIs) against the fitted logit curve."""
    knots = fit["age_hours"].to_numpy(float)
    base = logit(float(fit["rate_at_age_0"].iloc[0]))
    ages = np.linspace(0, knots[-1] * 1.5, 400)
    curve = logistic_array(base + decay_log_multiplier_array(knots, fit["odds_multiplier"].to_numpy(float), ages))
    with _theme():
        fig, ax = _figure(height=3.8)
        ax.plot(ages, curve, lw=2, label="fitted logit (the scenario's decay curve)")
        mids = [_age_mid(label, knots) for label in by_age["age_group"]]
        ax.errorbar(mids, by_age["share"], yerr=[by_age["share"] - by_age["ci_low"], by_age["ci_high"] - by_age["share"]],
                    fmt="o", capsize=4, label="export, by age group (95% CI)")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlim(left=0)
        _age_ticks(ax)
        ax.set_xticks([0.0, *ax.get_xticks()], ["0", *(t.get_text() for t in ax.get_xticklabels())])
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set(xlabel="Lead's age at its first touch (linear to 1 h, log beyond)", ylabel=f"Share {outcome}",
               title=f"Share {outcome} by the lead's age")
        _legend_below(fig)
    return fig


def _age_mid(label: str, knots: np.ndarray) -> float:
    low = float(label.split("-")[0].split(" ")[0])
    higher = knots[knots > low]
    return (low + higher[0]) / 2 if len(higher) else low * 1.5


def export_comparison(table: pd.DataFrame) -> Figure:
    """Each KPI of the export against the calibrated scenario's simulations (ratio, 95% CI)."""
    data = table.iloc[::-1].reset_index(drop=True)
    ratio = data["export"] / data["simulated"]
    low, high = data["export"] / data["ci_high"], data["export"] / data["ci_low"]
    with _theme():
        fig, ax = _figure(height=max(3.0, 0.45 * len(data) + 1.5))
        y = np.arange(len(data))
        ax.errorbar(ratio, y, xerr=[(ratio - low).clip(lower=0), (high - ratio).clip(lower=0)], fmt="o", capsize=4)
        ax.axvline(1.0, color="0.4", ls="--", lw=1)
        ax.set_yticks(y, data["kpi"])
        ax.set(xlabel="Export / calibrated simulation (1 = identical; 95% CI of the simulation)", ylabel="",
               title="The calibrated scenario against the export")
    return fig


def calibration_durations(calibration: Calibration) -> list[Figure]:
    """``fitted_durations`` for every duration a calibration fitted: the handoff latency and
    each deal stage's days, from the export, against the distribution written to the scenario."""
    figures = []
    latency = calibration.estimates.set_index("key")["value"].get("handoff.latency_hours")
    if latency is not None:
        figures.append(fitted_durations(calibration.observed["handoff_latency_hours"]["hours"].to_numpy(), fitted_distribution(latency),
                                        "Handoff latency", "hours"))
    stage_days = calibration.observed.get("stage_days")
    if stage_days is not None:
        for stage, days in stage_days.groupby("stage", sort=False):
            spec = calibration.settings.get(f"opportunity.stages.{stage}.duration_days")
            if spec:
                figures.append(fitted_durations(days["days"].to_numpy(), fitted_distribution(spec), f"Days in {str(stage).replace('_', ' ')}",
                                                "days"))
    return figures


def calibration_decay(calibration: Calibration) -> list[Figure]:
    """``decay_fit_chart`` for every decay curve a calibration fitted: the share reached at the
    first attempt and (when estimated) the share of reached leads that qualified, by age."""
    fits = calibration.observed.get("decay_fits")
    if fits is None:
        return []
    figures = [decay_fit_chart(calibration.observed["contact_by_age"], fits[fits["curve"] == "contact_decay"],
                               "reached at the first attempt")]
    if "qualification_by_age" in calibration.observed and (fits["curve"] == "qualification_decay").any():
        figures.append(decay_fit_chart(calibration.observed["qualification_by_age"], fits[fits["curve"] == "qualification_decay"],
                                       "qualified, once reached"))
    return figures

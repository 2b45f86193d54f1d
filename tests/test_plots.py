"""Every figure is built from the tidy tables, labelled with units, and saved only when asked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import scenario  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from funnelsim import run_scenario  # noqa: E402
from funnelsim.present.plots import (  # noqa: E402
    effect_forest,
    funnel_chart,
    revenue_distribution,
    revenue_over_time,
    speed_to_lead_curve,
    tornado_chart,
)
from funnelsim.stats.analysis import compare_scenarios  # noqa: E402
from funnelsim.stats.metamodel import fit_metamodel, lever_effects  # noqa: E402

# make test spreads the tests over two workers (--dist loadgroup); this module stays on one, so the
# two simulated scenarios (fixture `two_scenarios`) run once, not once per worker.
pytestmark = pytest.mark.xdist_group("plots")


@pytest.fixture(scope="module")
def two_scenarios():
    short = ("simulation.horizon_days=150", "simulation.warmup_days=30")
    runs, daily = [], []
    for name, extra in (("slow", "handoff.latency_hours={dist: constant, value: 8}"), ("fast", "sdr_team.reps=8")):
        result = run_scenario(scenario(*short, f"name={name}", extra), replications=3, seed=1)
        runs.append(result.replications)
        daily.append(result.daily.assign(scenario=name))
    return pd.concat(runs, ignore_index=True), pd.concat(daily, ignore_index=True), result


def _labelled(fig: Figure) -> None:
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_every_figure_is_labelled(two_scenarios, tmp_path):
    runs, daily, last = two_scenarios
    comparison = compare_scenarios(runs, "revenue", "slow").table
    sweep = runs.assign(**{"sdr_team.reps": [4, 4, 4, 8, 8, 8]})
    effects = lever_effects(fit_metamodel(sweep, "revenue", ["sdr_team.reps"])).table
    figures = [
        funnel_chart(runs),
        speed_to_lead_curve(last.leads, last.scenario),
        revenue_distribution(runs),
        effect_forest(comparison),
        effect_forest(comparison, relative=False),
        tornado_chart(effects),
        revenue_over_time(daily, warmup_days=30),
    ]
    for fig in figures:
        _labelled(fig)
    assert "(%" in figures[3].axes[0].get_xlabel() and "currency" in figures[4].axes[0].get_xlabel()
    assert not any(tmp_path.iterdir())  # nothing saved unless asked
    figures[0].savefig(tmp_path / "funnel.png")
    assert (tmp_path / "funnel.png").stat().st_size > 1000


def test_the_funnel_bars_carry_the_t_interval_the_kpi_tables_give(two_scenarios):
    from funnelsim.present.plots import STAGES
    from funnelsim.stats.measures import mean_ci

    runs, _, _ = two_scenarios
    ax = funnel_chart(runs).axes[0]
    drawn = sorted(tuple(line.get_ydata()) for line in ax.lines)  # seaborn: one vertical line per bar
    expected = sorted((mean_ci(group[stage]).low, mean_ci(group[stage]).high)
                      for _, group in runs.groupby("scenario") for stage, _ in STAGES)
    assert len(drawn) == len(expected) == 2 * len(STAGES)
    assert all(abs(d - e) <= 1e-9 * abs(e) for pair, want in zip(drawn, expected) for d, e in zip(pair, want))


def test_each_scenario_keeps_its_colour_and_legends_follow_maturity():
    from funnelsim.present.plots import scenario_colours
    from funnelsim.present.vocabulary import scenario_name

    levels = ["fully-misaligned", "somewhat-misaligned", "somewhat-aligned", "fully-aligned"]
    mixed = scenario_colours(["fully-aligned", "my-company", "baseline", "fully-misaligned"])
    assert list(mixed) == ["fully-misaligned", "fully-aligned", "baseline", "my-company"]  # maturity first, others after
    alone = scenario_colours(["fully-aligned"])
    named = scenario_colours([scenario_name(n) for n in reversed(levels)])
    assert alone["fully-aligned"] == mixed["fully-aligned"] == named[scenario_name("fully-aligned")]
    assert list(named) == [scenario_name(n) for n in levels]
    everyone = scenario_colours([*levels, "baseline", "closed-loop", "daily-export", "realtime-routing", "mine"])
    assert len(set(everyone.values())) == len(everyone)  # no two scenarios share a colour


def test_the_scenarios_legend_sits_beside_the_chart_never_over_it():
    """Revenue over time and the funnel put the scenarios' legend to the right of the axes,
    whole inside the figure, so it never covers a band or a bar."""
    import numpy as np

    days = np.arange(400)
    daily = pd.concat([pd.DataFrame({"scenario": name, "replication": r, "day": days, "revenue": level + 1000.0 * r})
                       for name, level in (("fully-misaligned", 1e5), ("fully-aligned", 2e5)) for r in range(3)])
    stages = ["leads", "mqls", "sals", "sqls", "opportunities", "wins"]
    runs = pd.DataFrame([{"scenario": name, "replication": r, **{s: 1000 / (i + 1) + r for i, s in enumerate(stages)}}
                         for name in ("fully-misaligned", "fully-aligned") for r in range(3)])
    for fig in (revenue_over_time(daily, warmup_days=30), funnel_chart(runs)):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        legend = ax.get_legend().get_window_extent(renderer)
        assert legend.x0 >= ax.get_window_extent(renderer).x1
        assert fig.get_window_extent(renderer).contains(legend.x1, legend.y0)  # whole, not cut off


def test_the_configured_speed_to_lead_curve_is_drawn_whole(two_scenarios):
    """The chart's height takes in the configured curve as well as the simulated points: the
    curve for the first minutes (a lead still at their desk) is not cut off at the top."""
    last = two_scenarios[-1]
    ax = speed_to_lead_curve(last.leads, last.scenario).axes[0]
    (configured,) = [line for line in ax.get_lines() if line.get_label().startswith("configured")]
    assert float(max(configured.get_ydata())) <= ax.get_ylim()[1]

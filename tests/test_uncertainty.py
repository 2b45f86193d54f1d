"""How sure are we: the PSA statistics on toys with known answers, then the study on the model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from funnelsim.experiments import execution
from funnelsim.cli import main
from funnelsim.experiments.execution import SweepInterrupted, run_sweep
from funnelsim.config.errors import ParameterError
from funnelsim.stats.psa import paired_effects, payback_effects, reach_probability, summarise_effects
from funnelsim.experiments.results import ResultStore, load_results
from funnelsim.studies.uncertainty import ALL_DRAWN, build_study, choose_draws, load_ensemble, measured_keys, uncertain_parameters
from funnelsim.studies.uncertainty_results import analyse, format_report, write_report
from funnelsim.stats.voi import evpi, evppi, first_order_indices

from conftest import BASELINE


def toy_runs(draws: int, replications: int, beta: float, mu: float, noise: float, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of a reference and an option whose relative effect is ``mu + beta * x1 + noise``.

    x1 ~ N(0, 1); x2 and x3 are uniform and do nothing. The reference's KPI varies with the
    replication's luck, shared by the option (common random numbers)."""
    rng = np.random.default_rng(seed)
    params = pd.DataFrame({"x1": rng.normal(size=draws), "x2": rng.uniform(size=draws), "x3": rng.uniform(size=draws)})
    rows = []
    for d in range(draws):
        luck = 100 * np.exp(rng.normal(0, 0.3, replications))
        effect = mu + beta * params.x1[d] + rng.normal(0, noise, replications)
        for r in range(replications):
            rows.append({"draw": d, "scenario": "today", "replication": r, "revenue": luck[r]})
            rows.append({"draw": d, "scenario": "option", "replication": r, "revenue": luck[r] * (1 + effect[r])})
    return pd.DataFrame(rows), params


def test_paired_effects_are_relative_changes_within_a_draw_and_replication():
    runs = pd.DataFrame({
        "draw": [0, 0, 0, 0], "replication": [0, 1, 0, 1], "scenario": ["a", "a", "b", "b"],
        "revenue": [100.0, 0.0, 110.0, 5.0],
    })
    effects = paired_effects(runs, "a", ["revenue"])
    assert effects["effect"].iloc[0] == pytest.approx(0.10)
    assert math.isnan(effects["effect"].iloc[1])  # nothing to divide by
    absolute = paired_effects(runs, "a", ["revenue"], relative=False)
    assert list(absolute["effect"]) == [10.0, 5.0]


def test_the_psa_range_recovers_a_known_spread_of_effects():
    draws, reps, beta, mu, noise = 4000, 2, 0.1, 0.05, 0.02
    runs, _ = toy_runs(draws, reps, beta, mu, noise)
    row = summarise_effects(paired_effects(runs, "today", ["revenue"]), {"revenue": 0.10}).iloc[0]
    # Each draw's mean carries noise/sqrt(R); the mixture adds it once more: sd^2 = beta^2 + noise^2.
    sd = math.sqrt(beta**2 + noise**2)
    z = stats.norm.ppf(0.975)
    quantile_se = math.sqrt(0.025 * 0.975 / draws) / stats.norm.pdf(z) * sd  # of an empirical 2.5% quantile
    assert row["mean"] == pytest.approx(mu, abs=4 * sd / math.sqrt(draws))
    assert row["range_low"] == pytest.approx(mu - z * sd, abs=4 * quantile_se)
    assert row["range_high"] == pytest.approx(mu + z * sd, abs=4 * quantile_se)
    p = stats.norm.sf(-mu / sd)
    assert row["p_positive"] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / draws))
    p10 = stats.norm.sf((0.10 - mu) / sd)
    assert row["p_above"] == pytest.approx(p10, abs=4 * math.sqrt(p10 * (1 - p10) / draws))
    # The simulation-noise CI is about the mean over draws: noise / sqrt(R * D), pooled df = D (R - 1).
    half = (row["noise_high"] - row["noise_low"]) / 2
    expected = stats.t.ppf(0.975, draws * (reps - 1)) * noise / math.sqrt(reps * draws)
    assert half == pytest.approx(expected, rel=4 * math.sqrt(1 / (2 * draws)))
    assert row["noise_df"] == draws * (reps - 1)
    assert row["noise_share"] == pytest.approx(noise**2 / reps / (beta**2 + noise**2 / reps), rel=0.2)


def test_the_chance_of_reaching_a_target_is_that_of_the_known_spread_either_way():
    draws, mu, beta, noise = 2000, 0.05, 0.1, 0.02
    runs, _ = toy_runs(draws, 2, beta, mu, noise)
    effects = paired_effects(runs, "today", ["revenue"])
    sd = math.sqrt(beta**2 + noise**2)  # as in the range test: the draws' spread and the noise once more
    rise = reach_probability(effects, 0.10).iloc[0]
    expected = stats.norm.sf((0.10 - mu) / sd)
    assert rise["scenario"] == "option" and rise["target"] == 0.10
    assert rise["p_reach"] == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / draws))
    cut = reach_probability(effects, -0.05).iloc[0]  # a cut is reached below the target
    expected = stats.norm.cdf((-0.05 - mu) / sd)
    assert cut["p_reach"] == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / draws))
    one_each = paired_effects(toy_runs(5, 1, 0.1, 0.0, 0.0)[0], "today", ["revenue"])  # no noise estimate: the plain share
    assert reach_probability(one_each, 0.0).iloc[0]["p_reach"] == pytest.approx(np.mean(one_each["effect"] > 0))


def test_one_draw_the_range_is_the_simulation_noise_ci():
    runs, _ = toy_runs(1, 6, 0.1, 0.05, 0.02)
    row = summarise_effects(paired_effects(runs, "today", ["revenue"])).iloc[0]
    assert row["range_low"] == row["noise_low"] and row["range_high"] == row["noise_high"]
    assert row["draws"] == 1 and row["noise_low"] < row["mean"] < row["noise_high"]


def test_one_replication_per_draw_gives_the_plain_percentiles():
    runs, _ = toy_runs(400, 1, 0.1, 0.05, 0.02)
    effects = paired_effects(runs, "today", ["revenue"])
    row = summarise_effects(effects).iloc[0]
    assert math.isnan(row["noise_low"]) and row["noise_df"] == 0
    assert row["range_low"] == pytest.approx(np.quantile(effects["effect"], 0.025))


def test_payback_is_the_gross_margin_gain_a_year_against_the_cost():
    runs = pd.DataFrame({
        "draw": [0, 0, 1, 1], "replication": [0, 0, 0, 0], "scenario": ["today", "option"] * 2,
        "value_per_year": [400.0, 600.0, 400.0, 440.0],
    })
    effects = payback_effects(runs, "today", {"option": 100.0})
    # 600 - 400 - 100 = 100; 440 - 400 - 100 = -60
    assert list(effects["effect"]) == pytest.approx([100.0, -60.0])
    row = summarise_effects(effects).iloc[0]
    assert row["p_positive"] == 0.5 and row["kpi"] == "net benefit per year"


def test_sensitivity_indices_rank_the_parameter_the_effect_depends_on():
    runs, params = toy_runs(200, 2, 0.1, 0.05, 0.01, seed=3)
    means = paired_effects(runs, "today", ["revenue"]).groupby("draw")["effect"].mean()
    table = first_order_indices(means.to_numpy(), params, bootstrap=50)
    assert table["parameter"].iloc[0] == "x1"
    first = table.iloc[0]
    # Noise keeps 0.01^2 / 2 of a variance of 0.1^2 + that unexplained.
    assert first["index"] == pytest.approx(1 / (1 + 0.005), abs=0.03) and first["low"] <= first["index"] <= first["high"] + 1e-9
    assert (table.iloc[1:]["index"] < 0.05).all()


def test_sensitivity_indices_see_a_curve_a_straight_line_would_miss():
    rng = np.random.default_rng(5)
    params = pd.DataFrame({"x1": rng.uniform(size=300), "x2": rng.uniform(size=300)})
    effect = (params.x1 - 0.5) ** 2 + rng.normal(0, 0.01, 300)  # no linear trend at all
    table = first_order_indices(effect, params, bootstrap=0).set_index("parameter")
    assert table.loc["x1", "index"] > 0.9 and table.loc["x1", "size"] > 1
    assert table.loc["x2", "index"] < 0.05


def test_evppi_of_the_parameter_that_decides_is_the_evpi_and_of_the_others_nothing():
    draws, slope, noise = 2000, 1000.0, 50.0
    rng = np.random.default_rng(7)
    params = pd.DataFrame({"x1": rng.uniform(-1, 1, draws), "x2": rng.uniform(-1, 1, draws), "x3": rng.uniform(size=draws)})
    net_benefit = pd.DataFrame({"do nothing": 0.0, "option": slope * params.x1 + rng.normal(0, noise, draws)})
    # Analytic: EVPI = E[max(0, slope * x1)] - max(0, E[slope * x1]) = slope / 4 for x1 ~ U(-1, 1).
    analytic = slope / 4
    se = slope * math.sqrt(1 / 6 - 1 / 16) / math.sqrt(draws)  # Monte Carlo error of a mean of max(0, slope x1)
    assert evpi(net_benefit) == pytest.approx(analytic, abs=4 * se + noise**2 / slope)
    table = evppi(net_benefit, params, {"x1": ["x1"], "x2 and x3": ["x2", "x3"]}).set_index("group")
    assert table.loc["x1", "evppi"] == pytest.approx(analytic, abs=4 * se)
    assert table.loc["x1", "evppi"] == pytest.approx(table.attrs["evpi"], abs=4 * se)
    assert table.loc["x2 and x3", "evppi"] < 4 * se
    # Parameters that do nothing are worth what they are worth shuffled: their floor.
    assert table.loc["x2 and x3", "evppi"] == pytest.approx(table.loc["x2 and x3", "floor"], abs=4 * se)
    assert table.loc["x1", "floor"] < 4 * se
    assert table.index[0] == "x1"


def test_evppi_is_nothing_when_one_option_is_always_best():
    rng = np.random.default_rng(2)
    params = pd.DataFrame({"x1": rng.uniform(size=300)})
    net_benefit = pd.DataFrame({"a": 0.0, "b": 1000 + 100 * params.x1})
    assert evpi(net_benefit) == 0
    assert evppi(net_benefit, params, {"x1": ["x1"]})["evppi"].iloc[0] == 0


# --- the study on the model: tiny companies, a few draws --------------------------------------

TINY = "simulation: {horizon_days: 45, warmup_days: 10}\nchannels:\n  paid_search: {leads_per_week: 120}\n  inbound_content: {leads_per_week: 100}\n"


def tiny_companies(folder) -> list[str]:
    """Today's tiny company, one with real-time routing, and one that measured its own presence window."""
    today = folder / "today.yaml"
    today.write_text(f"extends: {BASELINE}\nname: today\n{TINY}")
    routing = folder / "routing.yaml"
    routing.write_text("extends: today.yaml\nname: routing\nhandoff:\n  latency_hours: {dist: constant, value: 0.05}\n")
    measured = folder / "measured.yaml"
    measured.write_text("extends: routing.yaml\nname: measured\nfollow_up:\n"
                        "  presence_minutes: {dist: lognormal, median: 6.0, sigma: 0.4}\n")
    return [str(today), str(routing), str(measured)]


def _runs(folder) -> pd.DataFrame:
    return load_results(folder).runs.drop(columns="seconds")


def test_draws_are_members_chosen_from_the_seed_and_never_more_than_the_ensemble():
    ensemble = load_ensemble()
    assert len(ensemble) == 59 and ensemble["member"].is_unique
    first = choose_draws(ensemble, 5, seed=1)
    assert first.equals(choose_draws(ensemble, 5, seed=1)) and not first.equals(choose_draws(ensemble, 5, seed=2))
    assert len(choose_draws(ensemble, 59, seed=1)) == 59
    with pytest.raises(ParameterError, match="allowed: 1 to 59"):
        choose_draws(ensemble, 60, seed=1)


def test_a_file_own_measurements_stay_fixed_and_inherited_baseline_values_are_drawn(tmp_path):
    today, routing, measured = tiny_companies(tmp_path)
    keys = [p.key for p in uncertain_parameters()]
    assert measured_keys(today, keys) == [] and measured_keys(routing, keys) == []
    assert measured_keys(measured, keys) == ["follow_up.presence_minutes.median", "follow_up.presence_minutes.sigma"]
    study = build_study([today, measured], draws=3, replications=1, seed=4)
    points = pd.DataFrame([{**p.factors, "median": p.scenario.follow_up.presence_minutes.median} for p in study.sweep.points])
    mine = points[(points["option"] == "measured") & (points["variant"] == "measured")]
    assert set(mine["median"]) == {6.0} and set(mine["follow_up.presence_minutes.median"]) == {6.0}
    drawn = points[(points["option"] == "measured") & (points["variant"] == ALL_DRAWN)]
    assert list(drawn["median"]) == list(study.draws["follow_up.presence_minutes.median"])
    assert len(points) == 3 * 3  # today, measured and its all-drawn twin in each draw


def test_every_executor_gives_identical_results_and_one_draw_gives_the_noise_ci(tmp_path):
    today, routing, _ = tiny_companies(tmp_path)
    study = build_study([today, routing], draws=1, replications=3, seed=4)
    for executor in ("serial", "processes", "dask"):  # dask: a LocalCluster of 2 workers, as the sweep tests start
        run_sweep(study.sweep, ResultStore(tmp_path / executor), executor=executor, workers=2, progress=False)
    pd.testing.assert_frame_equal(_runs(tmp_path / "serial"), _runs(tmp_path / "processes"))
    pd.testing.assert_frame_equal(_runs(tmp_path / "serial"), _runs(tmp_path / "dask"))
    report = analyse(tmp_path / "serial", kpis=["revenue"], bootstrap=0)
    row = report.summary[report.summary["kpi"] == "revenue"].iloc[0]
    assert row["draws"] == 1 and row["range_low"] == row["noise_low"] and row["range_high"] == row["noise_high"]


def test_an_interrupted_study_resumes_to_the_same_tables_and_reports_the_narrowing(tmp_path, monkeypatch):
    today, routing, measured = tiny_companies(tmp_path)
    study = build_study([today, routing, measured], draws=2, replications=2, seed=4)
    run_sweep(study.sweep, ResultStore(tmp_path / "whole"), executor="serial", progress=False)

    serial = execution._RUNNERS["serial"]

    def interrupted(tasks, workers, scheduler):
        for done, outcome in enumerate(serial(tasks, workers, scheduler)):
            if done == 5:
                raise KeyboardInterrupt
            yield outcome

    monkeypatch.setitem(execution._RUNNERS, "serial", interrupted)
    with pytest.raises(SweepInterrupted):
        run_sweep(study.sweep, ResultStore(tmp_path / "cut"), executor="serial", progress=False)
    assert len(ResultStore(tmp_path / "cut").finished()) == 5
    monkeypatch.setitem(execution._RUNNERS, "serial", serial)
    assert run_sweep(study.sweep, ResultStore(tmp_path / "cut"), executor="serial", resume=True, progress=False) == 11
    pd.testing.assert_frame_equal(_runs(tmp_path / "whole"), _runs(tmp_path / "cut"))

    report = analyse(tmp_path / "cut", kpis=["revenue"], thresholds={"revenue": 0.05}, costs={"routing": 1000.0},
                     bootstrap=20)
    assert set(report.summary["scenario"]) == {"routing", "measured"}
    assert set(report.summary["kpi"]) == {"revenue", "net benefit per year"}
    assert set(report.plausibility["option"]) == {"today", "routing", "measured"}
    assert list(report.narrowing["scenario"]) == ["measured"]
    text = format_report(report)
    assert "range across plausible models" in text and "routing" in text
    named = format_report(report, scenario_words=lambda s: f"<{s}>", kpi_words=lambda k: f"[{k}]")
    assert "<routing>" in named and "<today>" in named and "[revenue]" in named  # the command line passes business names
    written = write_report(report, tmp_path / "cut")
    assert (written / "summary.csv").exists() and (written / "evppi.parquet").exists()


@pytest.mark.parametrize("args, says", [
    (["--draws", "0"], "--draws 0: allowed: 1 or more"),
    (["--draws", "60"], "--draws: 60: allowed: 1 to 59"),
    (["--kpi", "revenu"], "--kpi revenu: not a KPI of the runs; did you mean revenue?"),
    (["--threshold", "revenue"], "--threshold revenue: expected KPI=NUMBER"),
    (["--cost", "nobody=5"], "--cost nobody: not one of the scenarios"),
])
def test_bad_input_exits_2_with_one_clear_line(tmp_path, args, says):
    today, routing, _ = tiny_companies(tmp_path)
    result = CliRunner().invoke(main, ["uncertainty", today, routing, "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], result.output
    assert not (tmp_path / "o").exists()


def test_the_command_line_defaults_are_the_module_s():
    from funnelsim.cli import study_commands
    from funnelsim.studies import uncertainty

    assert study_commands.DEFAULT_DRAWS == uncertainty.DEFAULT_DRAWS
    assert study_commands.DEFAULT_PSA_REPLICATIONS == uncertainty.DEFAULT_REPLICATIONS


def test_the_range_figure_shows_both_uncertainties_labelled():
    import matplotlib

    matplotlib.use("Agg")
    from funnelsim.present.plots import uncertainty_ranges

    runs, _ = toy_runs(50, 2, 0.1, 0.05, 0.02)
    summary = summarise_effects(paired_effects(runs, "today", ["revenue"]))
    fig = uncertainty_ranges(summary, "revenue")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Change in revenue (%)" and ax.get_title() == "How sure are we"
    (legend,) = fig.legends
    assert {t.get_text() for t in legend.get_texts()} == {
        "range across plausible models (95%)", "simulation noise alone (95% CI)", "average across plausible models"}
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # the legend sits below the chart, never over a bar
    assert legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0
    assert fig.get_window_extent(renderer).contains(*legend.get_window_extent(renderer).min) and \
        fig.get_window_extent(renderer).contains(*legend.get_window_extent(renderer).max)  # and whole, not cut off
    (dots,) = ax.collections[2:]  # after the two kinds of bar: the dots, at each scenario's average over the draws
    assert sorted(dots.get_offsets()[:, 0]) == sorted(summary["mean"])

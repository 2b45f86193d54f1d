"""What it takes: plan files are validated like scenarios, options are costed and ranked
correctly, and the cheapest are confirmed by direct simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT

from funnelsim.cli import main
from funnelsim.config.loading import ParameterError
from funnelsim.stats.response import ResponseSurface
from funnelsim.studies.planning import (
    confirm_options,
    load_plan,
    plan_sweep,
    rank_options,
)

PLAN = ROOT / "params" / "plans" / "grow-revenue.yaml"
SHORT = ["simulation.horizon_days=100", "simulation.warmup_days=20"]


def write_plan(tmp_path, **changes) -> str:
    data = yaml.safe_load(PLAN.read_text())
    data["scenario"] = str(ROOT / "params" / "scenarios" / "somewhat-misaligned.yaml")
    for key, value in changes.items():
        node = data
        *parents, last = key.split("/")
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_the_example_plan_loads_with_today_set_to_the_first_values():
    plan = load_plan(PLAN)
    offered = plan.spec.levers
    assert plan.today.sdr_team.reps == offered["sdr_team.reps"].values[0]
    assert plan.today.sales_acceptance.threshold == offered["sales_acceptance.threshold"].values[0]
    assert offered["sdr_team.reps"].annual_costs() == [0.0, 72000.0, 144000.0]
    assert plan.spec.levers["closed_loop.enabled"].lever("closed_loop.enabled").scale == "switch"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"levers/follow_up.follow_up_rate/values": [0.75, 0.85, 1.5]}, "levers.follow_up.follow_up_rate.values[2]: 1.5: input should be less than or equal to 1"),
        ({"levers/sdr_team.repz": {"values": [6, 8], "cost_per_unit": 1}},
         "levers.sdr_team.repz: unknown lever; did you mean sdr_team.reps? allowed: handoff.mode, "),
        ({"levers/follow_up.contact_probability": {"values": [0.2, 0.3], "costs": [0, 1]}},
         "levers.follow_up.contact_probability: unknown lever; "),
        ({"levers/sdr_team.reps/costs": [0, 1]}, "levers.sdr_team.reps: "),
        ({"levers/handoff.latency_hours.median/costs": [0, 1]}, "one cost per value: 3 values, 2 costs"),
        ({"target/change": "lots"}, "target.change: 'lots': input should be a valid number"),
        ({"budget": 5}, "budget: unknown key; allowed here: name, description, scenario, target, levers"),
        ({"scenario": "nowhere.yaml"}, "scenario: 'nowhere.yaml': no such file"),
    ],
)
def test_a_bad_plan_names_the_file_the_key_the_value_and_what_is_allowed(tmp_path, changes, expected):
    path = write_plan(tmp_path, **changes)
    with pytest.raises(ParameterError) as caught:
        load_plan(path)
    text = "\n".join(caught.value.lines)
    assert text.startswith(path) and expected in text, text


def test_the_cli_rejects_a_bad_plan_without_a_traceback(tmp_path):
    path = write_plan(tmp_path, **{"levers/follow_up.follow_up_rate/values": [0.75, 0.85, 1.5]})
    result = CliRunner().invoke(main, ["plan", path])
    assert result.exit_code == 2
    assert "levers.follow_up.follow_up_rate.values[2]" in result.output and "Traceback" not in result.output


def test_too_few_runs_for_the_surface_is_a_clear_error():
    with pytest.raises(ParameterError, match="too few runs for a surface with 9 coefficients"):
        plan_sweep(load_plan(PLAN), points=7, replications=1)


def test_the_lever_sweep_spans_the_values_on_offer():
    sweep = plan_sweep(load_plan(PLAN, SHORT), points=12, replications=1)
    offered = load_plan(PLAN).spec.levers
    reps = {p.factors["sdr_team.reps"] for p in sweep.points}
    sdrs = offered["sdr_team.reps"].values
    assert min(reps) >= min(sdrs) and max(reps) <= max(sdrs) and all(isinstance(r, int) for r in reps)
    assert {p.factors["closed_loop.enabled"] for p in sweep.points} <= {False, True}
    latencies = offered["handoff.latency_hours.median"].values
    assert all(min(latencies) <= p.scenario.handoff.latency_hours.median <= max(latencies) for p in sweep.points)
    # the --set settings reach every point of the sweep, as they reach today's company
    assert all(p.scenario.simulation.horizon_days == 100 for p in sweep.points)


def _known_surface(plan, effects: dict[str, float]) -> ResponseSurface:
    """A surface fitted to runs whose log revenue is exactly linear in the levers' coordinates."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(120):
        row = {}
        for key, lever in plan.spec.levers.items():
            row[key] = lever.values[rng.integers(len(lever.values))]
        row["replication"] = i % 2
        rows.append(row)
    runs = pd.DataFrame(rows)
    log_revenue = 15.0
    for lever in plan.levers:
        log_revenue = log_revenue + effects.get(lever.key, 0.0) * lever.coordinate(runs[lever.key])
    runs["revenue"] = np.exp(log_revenue + rng.normal(0, 1e-4, len(runs)))
    return ResponseSurface.fit(runs, "revenue", plan.levers)


def test_options_are_costed_and_the_cheapest_reaching_the_target_comes_first():
    plan = load_plan(PLAN).with_target(0.10)
    # only two levers work: each SDR adds 4% (log), closed loop adds 7%
    surface = _known_surface(plan, {"sdr_team.reps": 0.04, "closed_loop.enabled": math.log(1.07)})
    options = rank_options(plan, surface)
    assert len(options) == 3 ** 7 * 2  # seven levers of three values, one switch
    first = options.iloc[0]
    # +10% is reached by closed loop + 1 SDR (1.07 * e^0.04 = +11.4%) for 40,000 + 72,000; two more
    # SDRs alone (e^0.08 = +8.3%) fall short
    today = plan.spec.levers["sdr_team.reps"].values[0]
    assert first.annual_cost == pytest.approx(112000.0)
    assert first["sdr_team.reps"] == today + 1 and bool(first["closed_loop.enabled"]) is True
    assert first.predicted_change == pytest.approx(1.07 * math.exp(0.04) - 1, abs=1e-3)
    reaching = options[options["reaches_target"]]
    assert reaching["annual_cost"].is_monotonic_increasing
    assert not (options.loc[~options["reaches_target"], "predicted_change"] >= 0.10).any()


def test_an_option_identical_to_today_simulates_to_exactly_no_change():
    plan = load_plan(PLAN, SHORT)
    today = pd.DataFrame([plan.today_settings()])
    confirmed = confirm_options(plan, today, replications=2, seed=11)
    row = confirmed.iloc[0]
    assert row.simulated_change == pytest.approx(0.0, abs=1e-12)  # common random numbers: same leads, same luck


def test_the_cli_ranks_and_confirms_and_resumes(tmp_path):
    path = write_plan(tmp_path, points=10, replications=1, confirm=1)
    out = tmp_path / "plan-out"
    args = ["plan", path, "--executor", "serial", "--out", str(out), "--target", "0.01",
            "--set", "simulation.horizon_days=90", "--set", "simulation.warmup_days=15"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "combinations" in first.output and (out / "options.parquet").exists()
    options = pd.read_parquet(out / "options.parquet")
    assert len(options) == 3 ** 7 * 2  # seven levers of three values, one switch
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "--resume" in again.output  # never overwrites finished runs silently
    resumed = CliRunner().invoke(main, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "options.parquet"), options)

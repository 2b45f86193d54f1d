"""Absurd sizes and numbers: refused at validation with a reason, sized before a run starts, and
never turned into NaN or infinity while it runs.

* fields bounded where the model cannot sensibly simulate beyond (a reason in every message);
* the preflight estimates leads, events, memory and time from the parameters and asks for
  ``--yes`` beyond its limits (``run``, ``sweep``, ``plan``), naming the keys;
* sweeps and plans are counted before any point is built;
* a strong closed-loop budget shift stays finite, and a non-finite KPI is an error.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import BASELINE, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnelsim.experiments.experiment as experiment
import funnelsim.experiments.sweeps as sweeps
from funnelsim import load_scenario, run_replication
from funnelsim.cli import main
from funnelsim.config.errors import ParameterError
from funnelsim.experiments.experiment import NonFiniteKPI
from funnelsim.experiments.preflight import (
    CONFIRM_ABOVE_BYTES,
    TooLarge,
    _most_leads_per_week,
    check_run,
    estimate,
)
from funnelsim.experiments.sweeps import MAX_SWEEP_POINTS, load_sweep
from funnelsim.model.closed_loop import _rescale_within_bounds
from funnelsim.studies.plan_file import KPIS, MAX_OPTIONS, Target, load_plan

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CHANNELS = ("paid_search", "inbound_content", "events", "outbound", "partners")
TINY = ["simulation.horizon_days=30", "simulation.warmup_days=0", *(f"channels.{c}.leads_per_week=10" for c in CHANNELS)]


def problems(overrides: list[str]) -> list[str]:
    with pytest.raises(ParameterError) as caught:
        load_scenario(BASELINE, overrides)
    label = f"{BASELINE} (with --set {', '.join(overrides)}): "
    assert all(line.startswith(label) for line in caught.value.lines)
    return [line.removeprefix(label) for line in caught.value.lines]


# --- bounds on single fields ------------------------------------------------------------------

# key: (largest allowed, or smallest with a leading "min", a value beyond, the reason's first words)
BOUNDS = {
    "simulation.horizon_days": (3653, 1e9, "ten years"),
    "channels.events.leads_per_week": (1e6, 1e308, "every lead is simulated one by one"),
    "channels.events.cost_per_lead": (1e12, 1e300, "no real price is that high"),
    "follow_up.max_attempts": (20, 10**9, "every lead holds random numbers"),
    "sdr_team.reps": (10_000, 10**7, "each rep is simulated"),
    "sdr_team.cost_per_rep_month": (1e12, 1e308, "no real price is that high"),
    "nurture.max_cycles": (10, 10**9, "every returning lead holds random numbers"),
    "customers.installed_base": (1_000_000, 10**12, "each day-0 customer is drawn"),
    "closed_loop.max_budget_weight": (4, 1e9, "possible inquiries are drawn at the top weight"),
    "closed_loop.budget_shift_strength": (100, 700, "at 100 a channel 5% more efficient"),
    "scoring.noise_sd": (1000, 1e300, "scores are points"),
}


@pytest.mark.parametrize("key", sorted(BOUNDS))
def test_absurd_sizes_are_refused_with_a_reason(key):
    allowed, absurd, reason = BOUNDS[key]
    # customers given by number need their deal size
    extra = ["customers.initial_deal_size={dist: constant, value: 12000}"] if key == "customers.installed_base" else []
    (line,) = problems([f"{key}={absurd}", *extra])
    assert line.startswith(f"{key}: ") and f": at most {allowed:,.0f}: {reason}" in line, line
    load_scenario(BASELINE, [f"{key}={allowed}", *extra])  # the bound itself is allowed


@FAST
@given(key=st.sampled_from(sorted(BOUNDS)), factor=st.floats(1.001, 1e200))
def test_every_value_beyond_a_bound_is_refused(key, factor):
    allowed, _, _ = BOUNDS[key]
    value = allowed * factor
    value = math.ceil(value) if isinstance(allowed, int) else value
    if isinstance(allowed, int) and value <= allowed:
        value = allowed + 1
    assert any(line.startswith(f"{key}: ") and "at most" in line for line in problems([f"{key}={value}"]))


@FAST
@given(every=st.floats(1e-300, 0.999))
def test_meetings_more_often_than_daily_are_refused(every):
    (line,) = problems([f"closed_loop.meeting_every_days={every!r}"])
    assert line.startswith("closed_loop.meeting_every_days: ") and ": at least 1: meetings also start" in line


@settings(max_examples=5, deadline=None)
@given(count=st.integers(101, 400))
def test_more_than_a_hundred_channels_are_refused(count):
    channels = "{" + ", ".join(f"c{i}: {{leads_per_week: 1, cost_per_lead: 1, quality: {{dist: constant, value: 50}}, "
                               f"deal_size: {{dist: constant, value: 1}}}}" for i in range(count)) + "}"
    (line,) = problems([f"channels={channels}"])
    assert line.startswith("channels: {") and ": at most 100: each channel has its own" in line


AMOUNTS = st.one_of(
    st.floats(1.01e12, 1e308).map(lambda v: f"{{dist: constant, value: {v!r}}}"),
    st.floats(1.01e12, 1e308).map(lambda v: f"{{dist: lognormal, median: {v!r}, sigma: 0.5}}"),
    st.floats(8, 500).map(lambda s: f"{{dist: lognormal, median: 1000, sigma: {s!r}}}"),  # a mean past 1e12 or overflow
    st.floats(2.1e12, 1e308).map(lambda v: f"{{dist: uniform, low: 0, high: {v!r}}}"),
    st.floats(1.01e12, 1e308).map(lambda v: f"{{dist: empirical, values: [{v!r}, {v!r}]}}"),
)


@FAST
@given(dist=AMOUNTS, key=st.sampled_from(["channels.events.deal_size", "customers.initial_deal_size"]))
def test_deal_sizes_with_an_absurd_mean_are_refused(dist, key):
    lines = problems([f"{key}={dist}"])
    assert any(line.startswith(f"{key}: ") and "its mean must be at most 1,000,000,000,000" in line for line in lines)


@FAST
@given(dist=st.one_of(
    st.floats(1001, 1e308).map(lambda v: f"{{dist: normal, mean: 50, sd: {v!r}}}"),
    st.floats(1001, 1e308).map(lambda v: f"{{dist: normal, mean: {v!r}, sd: 10}}"),
    st.floats(1001, 1e308).map(lambda v: f"{{dist: constant, value: -{v!r}}}"),
))
def test_lead_quality_stays_on_the_points_scale(dist):
    (line,) = problems([f"channels.events.quality={dist}"])
    assert line.startswith("channels.events.quality: ") and "quality is in points" in line


# --- the closed loop stays finite ---------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=st.integers(2, 8), low=st.floats(1e-300, 1.0), high=st.floats(1.0, 100.0))
def test_budget_weights_stay_finite_within_bounds_and_keep_the_spend(data, n, low, high):
    """Any finite log weights, however far apart (a budget shift of strength 100 over efficiency
    ratios of 10^9 moves them by thousands): bounded, finite, in the same order, same spend."""
    log_weights = np.array(data.draw(st.lists(st.floats(-1e5, 1e5), min_size=n, max_size=n), label="log weights"))
    spend = np.array(data.draw(st.lists(st.floats(1e-6, 1e9), min_size=n, max_size=n), label="spend"))
    weights = _rescale_within_bounds(log_weights, spend, low, high)
    assert np.isfinite(weights).all()
    assert (weights >= low * (1 - 1e-12)).all() and (weights <= high * (1 + 1e-12)).all()
    assert np.dot(spend, weights) == pytest.approx(spend.sum(), rel=1e-6)
    order = np.argsort(log_weights, kind="stable")
    assert (np.diff(weights[order]) >= -1e-12 * high).all()


def test_the_strongest_budget_shift_keeps_leads_arriving():
    """Once refused at ~700 (weights overflowed to NaN and arrivals stopped after day 28): at the
    bound, with meetings every 14 days and a tiny floor, weights stay finite and leads keep coming."""
    sc = load_scenario(BASELINE, [*TINY[:2], "simulation.horizon_days=120", "closed_loop.enabled=true",
                                  "closed_loop.meeting_every_days=14", "closed_loop.min_outcomes=0",
                                  "closed_loop.budget_shift_strength=100", "closed_loop.min_budget_weight=1e-300"])
    rep = run_replication(sc, 5)
    weights = rep.daily.filter(like="budget_weight_").to_numpy()
    assert np.isfinite(weights).all() and not np.allclose(weights[-1], 1.0)
    created = rep.leads["created_at"]
    assert (created > 90).sum() > 0.5 * (created < 30).sum()


# --- a KPI that is not a number is an error -----------------------------------------------------


def _with_kpis(monkeypatch, **changes) -> None:
    real = experiment.replication_kpis
    monkeypatch.setattr(experiment, "replication_kpis", lambda *a: {**real(*a), **changes})


@pytest.mark.parametrize("changes, bad", [
    ({"revenue": math.inf}, "revenue = inf"),
    ({"cac": -math.inf}, "cac = -inf"),
    ({"bookings": math.nan, "leads": math.nan}, "leads = nan, bookings = nan"),
])
def test_an_infinite_or_undefined_total_is_an_error(monkeypatch, changes, bad):
    _with_kpis(monkeypatch, **changes)
    with pytest.raises(NonFiniteKPI, match=f"replication 0 ended with {bad}: a number overflowed"):
        run_replication(load_scenario(BASELINE, TINY), 1)


def test_a_ratio_with_nothing_to_divide_stays_nan(monkeypatch):
    _with_kpis(monkeypatch, win_rate=math.nan, cac=math.nan, clv=math.nan)
    assert math.isnan(run_replication(load_scenario(BASELINE, TINY), 1).kpis["win_rate"])


def test_the_cli_reports_a_non_finite_kpi_without_a_traceback(monkeypatch, tmp_path):
    _with_kpis(monkeypatch, revenue=math.inf)
    result = CliRunner().invoke(main, ["run", str(BASELINE), "-r", "1", "--out", str(tmp_path / "o"),
                                       *(arg for o in TINY for arg in ("--set", o))])
    assert result.exit_code == 1 and "ended with revenue = inf" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


EXTREMES = {
    "qualification.quality_odds_ratio_per_10_points": ["1e-300", "1e300"],
    "opportunity.message_consistency_odds_ratio": ["1e-300", "1e300"],
    "scoring.mql_threshold": ["-1e300", "1e300"],
    "handoff.latency_hours": ["{dist: constant, value: 1e300}", "{dist: lognormal, median: 1e-300, sigma: 100}"],
    "follow_up.work_minutes": ["{dist: constant, value: 0}", "{dist: lognormal, median: 1, sigma: 50}"],
    "follow_up.contact_decay": ["{age_hours: [0, 1e-300], odds_multiplier: [1e300, 1e-300]}"],
    "nurture.reengage_delay_days": ["{dist: constant, value: 0}"],
    "nurture.reengage_probability": ["1"],
    "nurture.max_cycles": ["10"],
    "customers.monthly_churn": ["0.001", "1"],
    "channels.events.deal_size": ["{dist: constant, value: 1e12}", "{dist: lognormal, median: 1e-300, sigma: 1}"],
    "channels.events.quality": ["{dist: normal, mean: 1000, sd: 1000}", "{dist: constant, value: -1000}"],
    "channels.events.cost_per_lead": ["0", "1e12"],
    "closed_loop.enabled": ["true"],
    "closed_loop.meeting_every_days": ["1"],
    "closed_loop.budget_shift_strength": ["100"],
    "closed_loop.min_budget_weight": ["1e-300"],
    "closed_loop.noise_reduction_per_meeting": ["1"],
    "scoring.noise_sd": ["0", "1000"],
    "seasonality.hour": [str([1e300] + [0] * 23)],
    "opportunity.stages.negotiation_close.duration_days": ["{dist: constant, value: 1e300}"],
}


@settings(max_examples=15, deadline=None)
@given(chosen=st.lists(st.sampled_from(sorted(EXTREMES)), min_size=1, max_size=5, unique=True), data=st.data())
def test_extreme_but_valid_scenarios_simulate_to_finite_kpis(chosen, data):
    overrides = [f"{key}={data.draw(st.sampled_from(EXTREMES[key]), label=key)}" for key in chosen]
    rep = run_replication(load_scenario(BASELINE, [*TINY, *overrides]), 3)  # raises NonFiniteKPI otherwise
    assert np.isfinite(rep.daily.filter(like="budget_weight_").to_numpy()).all()


# --- the preflight ------------------------------------------------------------------------------


def test_the_estimate_matches_a_run():
    sc = load_scenario(BASELINE, ["simulation.horizon_days=60", "simulation.warmup_days=10"])
    size = estimate(sc)
    assert len(run_replication(sc, 1).leads) == pytest.approx(size.leads, rel=0.1)
    more = estimate(load_scenario(BASELINE, ["follow_up.max_attempts=20", "nurture.max_cycles=6"]))
    base = estimate(load_scenario(BASELINE))
    assert more.leads == base.leads and more.memory > 1.5 * base.memory and more.seconds > 1.5 * base.seconds


@FAST
@given(data=st.data(), n=st.integers(1, 6), low=st.floats(0.01, 1.0), high=st.floats(1.0, 4.0))
def test_the_closed_loop_cannot_buy_more_leads_than_estimated(data, n, low, high):
    """The budget can move any way that keeps the spend within the weight bounds: the leads
    that buys never exceed the estimate's most."""
    lpw = data.draw(st.lists(st.floats(0.1, 1000), min_size=n, max_size=n), label="leads per week")
    cost = data.draw(st.lists(st.sampled_from([0.0, 0.5, 10.0, 300.0]), min_size=n, max_size=n), label="cost")
    channels = {f"c{i}": {"leads_per_week": v, "cost_per_lead": c} for i, (v, c) in enumerate(zip(lpw, cost))}
    overrides = [f"channels={yaml.safe_dump(_channels(channels), default_flow_style=True).strip()}",
                 "closed_loop.enabled=true", f"closed_loop.min_budget_weight={low!r}",
                 f"closed_loop.max_budget_weight={high!r}"]
    sc = load_scenario(BASELINE, overrides)
    most = _most_leads_per_week(sc)
    spend = np.array([max(c, 1e-9) * v for v, c in zip(lpw, cost)])
    for _ in range(5):
        tilt = np.array(data.draw(st.lists(st.floats(-50, 50), min_size=n, max_size=n), label="tilt"))
        weights = _rescale_within_bounds(tilt, spend, low, high)
        assert np.dot(lpw, weights) <= most * (1 + 1e-6) + 1e-9


def _channels(spec: dict) -> dict:
    quality = {"dist": "normal", "mean": 50, "sd": 15}
    return {name: {**c, "quality": quality, "deal_size": {"dist": "constant", "value": 1000}} for name, c in spec.items()}


def test_a_run_beyond_the_limits_asks_for_yes_naming_the_keys(tmp_path):
    result = CliRunner().invoke(main, ["run", str(BASELINE), "--out", str(tmp_path / "o"),
                                       "--set", "simulation.horizon_days=3653", "--set", "channels.events.leads_per_week=1000000"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    for words in ("channels.*.leads_per_week 1,000,620 a week", "simulation.horizon_days 3,653", "GB of memory",
                  "Add --yes to start anyway"):
        assert words in result.output
    assert not (tmp_path / "o").exists()


def test_a_hundred_million_replications_ask_for_yes(tmp_path):
    started = time.process_time()
    result = CliRunner().invoke(main, ["run", str(BASELINE), "-r", "100000000", "--out", str(tmp_path / "o")])
    assert time.process_time() - started < 5
    assert result.exit_code == 2 and "100,000,000 replications" in result.output and "--yes" in result.output


def test_a_run_that_cannot_fit_in_memory_is_refused_even_with_yes(monkeypatch, tmp_path):
    monkeypatch.setattr("funnelsim.experiments.preflight._physical_memory", lambda: 2.0 * 2**30)
    result = CliRunner().invoke(main, ["run", str(BASELINE), "--yes", "-r", "1", "--out", str(tmp_path / "o"),
                                       "--set", "channels.events.leads_per_week=100000"])
    assert result.exit_code == 2 and "more than this computer's 2.0 GB" in result.output
    with pytest.raises(TooLarge):
        experiment.run_scenario(load_scenario(BASELINE, ["channels.events.leads_per_week=100000"]), 1, 1)


def test_an_ordinary_run_passes_the_preflight():
    size = check_run(load_scenario(BASELINE), 10, "baseline")
    assert size.memory < CONFIRM_ABOVE_BYTES and 20_000 < size.leads < 100_000


# --- sweeps and plans are counted before they are built -----------------------------------------


def _sweep(tmp_path, factors: dict, design: str = "full_factorial", **extra) -> str:
    body = {"name": "big", "design": design, "base": str(BASELINE), "factors": factors, "replications": 1, **extra}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(body))
    return str(path)


def _never_built(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a point was built")

    monkeypatch.setattr(sweeps, "scenario_from_dict", refuse)
    monkeypatch.setattr(sweeps, "_design_matrix", refuse)


@FAST
@given(levels=st.lists(st.integers(2, 200), min_size=2, max_size=6).filter(lambda l: math.prod(l) > MAX_SWEEP_POINTS),
       yes=st.booleans())
def test_a_sweep_of_too_many_points_is_refused_before_any_is_built(tmp_path, monkeypatch, levels, yes):
    keys = ["sdr_team.reps", "follow_up.max_attempts", "handoff.sla_first_touch_hours", "scoring.mql_threshold",
            "follow_up.follow_up_rate", "nurture.reengage_probability"]
    factors = {key: {"low": 1, "high": 2, "levels": n} for key, n in zip(keys, levels)}
    path = _sweep(tmp_path, factors)
    with monkeypatch.context() as patch:
        _never_built(patch)
        started = time.process_time()
        result = CliRunner().invoke(main, ["sweep", path, *(["--yes"] if yes else []), "--out", str(tmp_path / "o")])
        assert time.process_time() - started < 2
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"full_factorial: {math.prod(levels):,} points; allowed: at most 10,000" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("points", [MAX_SWEEP_POINTS + 1, 10**9])
def test_a_latin_hypercube_of_too_many_points_is_refused_at_once(tmp_path, monkeypatch, points):
    path = _sweep(tmp_path, {"sdr_team.reps": {"low": 1, "high": 9}}, "latin_hypercube", points=points)
    _never_built(monkeypatch)
    with pytest.raises(ParameterError, match=f"{points:,} points; allowed: at most 10,000"):
        load_sweep(path)


def test_a_sweep_just_over_the_run_limit_asks_before_building(tmp_path, monkeypatch):
    path = _sweep(tmp_path, {"sdr_team.reps": list(range(1, 202))})
    _never_built(monkeypatch)
    result = CliRunner().invoke(main, ["sweep", path, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "201 runs (201 points x 1 replications)" in result.output


def _plan(tmp_path, **changes) -> str:
    data = yaml.safe_load((ROOT / "params" / "plans" / "grow-revenue.yaml").read_text())
    data["scenario"] = str(ROOT / "params" / "scenarios" / "somewhat-misaligned.yaml")
    data.update(changes)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_a_large_plan_asks_for_yes_before_its_sweep_is_built(tmp_path, monkeypatch):
    path = _plan(tmp_path, points=150, replications=2)
    _never_built(monkeypatch)
    result = CliRunner().invoke(main, ["plan", path, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "300 runs (150 points x 2 replications)" in result.output and "--yes" in result.output


def test_a_plan_with_too_many_combinations_is_refused(tmp_path):
    levers = {"sdr_team.reps": {"values": list(range(1, 101)), "cost_per_unit": 1},
              "follow_up.follow_up_rate": {"values": [i / 100 for i in range(1, 101)], "cost_per_unit": 1},
              "follow_up.max_attempts": {"values": list(range(1, 12)), "cost_per_unit": 1}}
    with pytest.raises(ParameterError, match=f"110,000 combinations of the values on offer; allowed: at most {MAX_OPTIONS:,}"):
        load_plan(_plan(tmp_path, levers=levers))


@FAST
@given(kpi=st.text(min_size=1, max_size=20).filter(lambda k: k not in KPIS))
def test_a_plan_target_names_a_kpi_the_runs_report(kpi):
    with pytest.raises(ValueError, match="unknown KPI; .*allowed: leads, mqls"):
        Target(kpi=kpi, change=0.1)


@pytest.mark.parametrize("typo, meant", [("revenu", "revenue"), ("win_rte", "win_rate"), ("CAC", "cac")])
def test_a_misspelt_kpi_gets_a_suggestion_before_anything_runs(tmp_path, typo, meant):
    path = _plan(tmp_path, target={"kpi": typo, "change": 0.1})
    result = CliRunner().invoke(main, ["plan", path, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and f"target.kpi: '{typo}': unknown KPI; did you mean {meant}?" in result.output
    assert not (tmp_path / "o").exists()


def test_every_kpi_of_the_runs_can_be_a_target():
    assert set(KPIS) == set(run_replication(load_scenario(BASELINE, TINY), 1).kpis)
    for kpi in KPIS:
        assert Target(kpi=kpi, change=0.1).kpi == kpi

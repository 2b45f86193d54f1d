"""Scenario files: inheritance, overrides, units, and errors that name file, key, value and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnelsim.params import HOURS, MINUTES, ParameterError, load_scenario

from conftest import BASELINE


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def errors(path: Path, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(ParameterError) as caught:
        load_scenario(path, overrides or [])
    return caught.value.lines


def child(tmp_path: Path, body: str) -> Path:
    return write(tmp_path, "child.yaml", f"extends: {BASELINE}\n{body}")


def test_baseline_is_complete_and_valid():
    sc = load_scenario(BASELINE)
    assert sc.name == "baseline"
    assert set(sc.channels) == {"paid_search", "inbound_content", "events", "outbound", "partners"}
    weekly = sum(c.leads_per_week for c in sc.channels.values())
    assert 2000 <= weekly * 52 / 12 <= 5000  # "a few thousand leads a month"
    assert 365 <= sc.simulation.horizon_days <= 730


def test_extends_merges_deeply_and_a_distribution_is_replaced_whole(tmp_path):
    path = child(
        tmp_path,
        "name: faster\nsdr_team:\n  reps: 9\nhandoff:\n  latency_hours: {dist: constant, value: 0.1}\n",
    )
    sc, base = load_scenario(path), load_scenario(BASELINE)
    assert sc.name == "faster" and sc.description == ""  # identity is never inherited
    assert sc.sdr_team.reps == 9
    assert sc.sdr_team.business_hours == base.sdr_team.business_hours  # sibling keys kept
    assert sc.handoff.latency_hours.dist == "constant" and sc.handoff.mode == base.handoff.mode
    assert sc.channels == base.channels


def test_a_scenario_without_a_name_is_named_after_its_file(tmp_path):
    assert load_scenario(child(tmp_path, "sdr_team: {reps: 4}\n")).name == "child"


def test_chained_extends(tmp_path):
    write(tmp_path, "middle.yaml", f"extends: {BASELINE}\nsdr_team: {{reps: 2}}\n")
    last = write(tmp_path, "last.yaml", "extends: middle.yaml\nfollow_up: {follow_up_rate: 0.5}\n")
    sc = load_scenario(last)
    assert sc.sdr_team.reps == 2 and sc.follow_up.follow_up_rate == 0.5


def test_set_overrides_replace_values_and_are_validated():
    sc = load_scenario(BASELINE, ["sdr_team.reps=8", "handoff.mode=batch", "closed_loop.enabled=true", "scoring.noise_sd=1e1"])
    assert sc.sdr_team.reps == 8 and sc.handoff.mode == "batch" and sc.closed_loop.enabled
    assert sc.scoring.noise_sd == 10.0
    lines = errors(BASELINE, ["sdr_team.reps=0"])
    assert any("sdr_team.reps: 0:" in line and "--set sdr_team.reps=0" in line for line in lines)


def test_hours_and_minutes_become_days():
    sc = load_scenario(BASELINE, ["handoff.latency_hours={dist: constant, value: 6}", "follow_up.work_minutes={dist: constant, value: 36}"])
    assert sc.handoff.latency_days.mean == pytest.approx(6 * HOURS)
    assert sc.follow_up.work_days.mean == pytest.approx(36 * MINUTES)
    assert sc.handoff.sla_days == pytest.approx(sc.handoff.sla_first_touch_hours / 24)


@pytest.mark.parametrize(
    "body, key, value, rule",
    [
        ("sdr_team:\n  repz: 3\n", "sdr_team.repz", None, "unknown key; allowed here: reps, cost_per_rep_month, business_hours"),
        ("sdr_team:\n  reps: three\n", "sdr_team.reps", "'three'", "valid integer"),
        ("follow_up:\n  follow_up_rate: 1.5\n", "follow_up.follow_up_rate", "1.5", "less than or equal to 1"),
        ("follow_up:\n  work_minutes: {dist: uniform, low: -5, high: 10}\n", "follow_up.work_minutes", None, "cannot be negative"),
        ("follow_up:\n  work_minutes: {dist: normal, mean: 10, sd: 2}\n", "follow_up.work_minutes", None, "cannot be negative"),
        ("sdr_team:\n  reps: 0\n", "sdr_team.reps", "0", "greater than or equal to 1"),
        ("opportunity:\n  ae_team: {deals_per_rep: 0}\n", "opportunity.ae_team.deals_per_rep", "0", "greater than or equal to 1"),
        ("simulation:\n  warmup_days: 900\n", "(top level)", None, "warmup_days (900"),
        ("handoff:\n  latency_hours: {dist: lognorm, median: 3, sigma: 1}\n", "handoff.latency_hours.dist", "'lognorm'", "allowed distributions"),
        ("handoff:\n  mode: carrier-pigeon\n", "handoff.mode", "'carrier-pigeon'", "'continuous' or 'batch'"),
        ("scoring:\n  noise_sd: -2\n", "scoring.noise_sd", "-2", "greater than or equal to 0"),
        ("seasonality:\n  weekday: [1, 1, 1]\n", "seasonality.weekday", None, "at least 7"),
        ("follow_up:\n  qualification_decay: {age_hours: [0, 2, 1], odds_multiplier: [1, 0.5, 0.2]}\n", "follow_up.qualification_decay", None, "strictly increasing"),
        ("customers:\n  initial_deal_size: null\n", "customers", None, "needs 'initial_deal_size'"),
    ],
)
def test_errors_name_file_key_value_and_rule(tmp_path, body, key, value, rule):
    path = child(tmp_path, body)
    lines = errors(path)
    match = [line for line in lines if line.startswith(f"{path}: {key}")]
    assert match, lines
    assert rule in match[0], match[0]
    if value is not None:
        assert f"{key}: {value}:" in match[0], match[0]


def test_a_distribution_needs_its_name():
    lines = errors(BASELINE, ["handoff.latency_hours={median: 3}"])
    assert any("handoff.latency_hours: {'median': 3}: a distribution needs a 'dist' key" in line for line in lines), lines


def test_a_mapping_without_dist_tunes_the_parents_distribution(tmp_path):
    sc = load_scenario(child(tmp_path, "handoff:\n  latency_hours: {median: 3}\n"))
    assert sc.handoff.latency_hours.dist == "lognormal" and sc.handoff.latency_hours.median == 3


def test_every_mistake_is_reported_at_once(tmp_path):
    lines = errors(child(tmp_path, "sdr_team: {reps: 0}\nfollow_up: {follow_up_rate: 2}\nbogus: 1\n"))
    assert len(lines) == 3


def test_file_level_problems(tmp_path):
    assert errors(tmp_path / "missing.yaml") == [f"{tmp_path / 'missing.yaml'}: file not found"]
    bad = write(tmp_path, "bad.yaml", "sdr_team: [1, 2\n")
    assert "line 2, column 1: malformed YAML" in errors(bad)[0]
    orphan = write(tmp_path, "orphan.yaml", "extends: nowhere.yaml\n")
    assert "extends: 'nowhere.yaml': no such file" in errors(orphan)[0]
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    assert "circular" in errors(a)[0]
    listy = write(tmp_path, "list.yaml", "- 1\n- 2\n")
    assert "must hold a mapping" in errors(listy)[0]
    assert "expected key.path=value" in errors(BASELINE, ["sdr_team.reps"])[0]


def test_missing_required_keys(tmp_path):
    lines = errors(write(tmp_path, "empty.yaml", "name: empty\n"))
    assert any(line.endswith("simulation: missing: this key is required") for line in lines)

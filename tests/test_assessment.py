"""The alignment assessment: levels, the scenario it writes, and the four maturity-level files."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import ROOT

from funnelsim import load_scenario
from funnelsim.cli import main
from funnelsim.config.errors import ParameterError
from funnelsim.config.schema import with_settings
from funnelsim.experiments.staffing import team_sizes
from funnelsim.config.levers import alignment_levers, lever
from funnelsim.config.lever_values import value_at
from funnelsim.studies.assessment import QUESTIONS, assess, load_answers, scenario_text
from funnelsim.studies.reach import alignment_reach, load_reach

LEVEL_FILES = ["fully-aligned", "somewhat-aligned", "somewhat-misaligned", "fully-misaligned"]


@pytest.mark.parametrize("name", LEVEL_FILES)
def test_maturity_level_files_are_what_their_assessment_writes(name):
    assessment = load_answers(ROOT / "params" / "assessments" / f"{name}.yaml")
    assert assessment.level == name.replace("-", " ")
    committed = (ROOT / "params" / "scenarios" / f"{name}.yaml").read_text()
    baseline = load_scenario(ROOT / "params" / "baseline.yaml")
    teams = team_sizes(with_settings(baseline, assessment.lever_settings(baseline)))  # staffed for its own lead flow
    assert committed == scenario_text(assessment, baseline, "../baseline.yaml", name, teams)
    scenario = load_scenario(ROOT / "params" / "scenarios" / f"{name}.yaml")
    assert scenario.maturity == assessment.level
    for key, value in assessment.lever_settings(baseline).items():
        current = scenario
        for part in key.split("."):
            current = getattr(current, part)
        assert current == pytest.approx(value) if isinstance(value, float) else current == value, key


def test_levels_follow_the_share_of_signs():
    def level(yes: int, partly: int = 0) -> str:
        items = list(QUESTIONS)
        answers = {q: "yes" if i < yes else "partly" if i < yes + partly else "no" for i, q in enumerate(items)}
        return assess("x", answers).level

    assert level(11) == "fully aligned" and level(10) == "fully aligned"
    assert level(7) == "somewhat aligned" and level(6) == "somewhat misaligned"
    assert level(3) == "somewhat misaligned" and level(2) == "fully misaligned" and level(0) == "fully misaligned"
    assert level(0, partly=11) == "somewhat misaligned"  # half of every sign: 50%


def test_more_alignment_means_more_aligned_levers():
    none = assess("x", {q: "no" for q in QUESTIONS}).spread_settings()
    every = assess("x", {q: "yes" for q in QUESTIONS}).spread_settings()
    assert every["follow_up.follow_up_rate"] > none["follow_up.follow_up_rate"]
    assert every["handoff.latency_hours.median"] < none["handoff.latency_hours.median"]
    assert every["handoff.mode"] == "continuous" and none["handoff.mode"] == "batch"
    # one definition: sales' bar within a point of marketing's (sales still turns a few leads away)
    mql_bar = load_scenario(ROOT / "params/baseline.yaml").scoring.mql_threshold
    assert mql_bar <= every["sales_acceptance.threshold"] <= mql_bar + 1 < none["sales_acceptance.threshold"]
    assert every["closed_loop.enabled"] and not none["closed_loop.enabled"]


def test_a_company_moves_the_fitted_reach_toward_the_firms_spread():
    """Every numeric lever lands ``reach`` of the way from the typical company to where the answers
    point on the spread of real firms; switches and the surveyed churn go all the way."""
    typical = load_scenario(ROOT / "params/baseline.yaml")
    data = typical.model_dump(mode="json", by_alias=True)
    reach = load_reach()
    assert alignment_reach() == reach.reach and 0 < reach.reach < 1
    for answer in ("no", "partly", "yes"):
        result = assess("x", {q: answer for q in QUESTIONS})
        ends, at_zero, at_one = result.spread_settings(), result.lever_settings(typical, 0.0), result.lever_settings(typical, 1.0)
        fitted = result.lever_settings(typical)
        for entry in alignment_levers():
            if entry.scale == "switch" or entry.surveyed:
                assert at_zero[entry.key] == fitted[entry.key] == ends[entry.key], entry.key
                continue
            start = entry.no if entry.needs and not value_at(data, entry.needs) else value_at(data, entry.key)
            assert at_zero[entry.key] == pytest.approx(start, abs=1e-3), entry.key
            assert at_one[entry.key] == pytest.approx(ends[entry.key], abs=1e-3), entry.key
            low, high = sorted([start, ends[entry.key]])
            assert low - 0.5 <= fitted[entry.key] <= high + 0.5 if entry.whole else low - 1e-4 <= fitted[entry.key] <= high + 1e-4
    # the budget the closed loop moves starts from nothing: the typical company has no closed loop
    assert not typical.closed_loop.enabled
    aligned = assess("x", {q: "yes" for q in QUESTIONS}).lever_settings(typical)
    assert aligned["closed_loop.budget_shift_strength"] == pytest.approx(reach.reach * lever("closed_loop.budget_shift_strength").yes, abs=1e-4)


def test_the_fitted_reach_meets_each_survey_inside_its_noise_band():
    """The reach file says where each survey figure is met; the fitted reach lies between them."""
    fit = load_reach()
    met = [t.reach for t in fit.targets.values()]
    assert all(r is not None for r in met)
    assert min(met) - 0.01 <= fit.reach <= max(met) + 0.01
    assert fit.grid[0] <= fit.reach <= fit.grid[-1]


def test_bad_answers_are_named(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("company: X\nanswers:\n  shared_revenue_goal: maybe\n  meeting_cadense: yes\n")
    with pytest.raises(ParameterError) as caught:
        load_answers(path)
    text = "\n".join(caught.value.lines)
    assert "answers.meeting_cadense: unknown question" in text and "answers.meeting_cadence: missing" in text
    path.write_text("company: X\nanswers:\n" + "".join(f"  {q}: maybe\n" for q in QUESTIONS))
    with pytest.raises(ParameterError, match="allowed: yes, partly, no"):
        load_answers(path)


def test_interactive_assessment_writes_a_valid_scenario(tmp_path):
    out = tmp_path / "acme.yaml"
    answers = "\n".join(["Acme"] + ["yes", "partly", "no"] * 3 + ["yes", "yes"]) + "\n"
    result = CliRunner().invoke(main, ["assess", "--out", str(out), "--keep-teams"], input=answers)
    assert result.exit_code == 0, result.output
    assert "Acme: somewhat aligned" in result.output
    scenario = load_scenario(out)
    partly = assess("x", {q: "partly" for q in QUESTIONS}).lever_settings(load_scenario(ROOT / "params/baseline.yaml"))
    assert scenario.name == "acme" and scenario.follow_up.follow_up_rate == pytest.approx(partly["follow_up.follow_up_rate"])  # SLA: partly


def test_assess_from_a_file_and_bad_file_exit_2(tmp_path):
    out = tmp_path / "x.yaml"
    good = CliRunner().invoke(main, ["assess", str(ROOT / "params/assessments/fully-misaligned.yaml"), "--out", str(out)])
    assert good.exit_code == 0 and "fully misaligned" in good.output and out.exists()
    written = load_scenario(out)
    assert written.maturity == "fully misaligned"
    assert written.sdr_team.reps < load_scenario(ROOT / "params" / "baseline.yaml").sdr_team.reps + 1  # staffed for its smaller flow
    bad = tmp_path / "bad.yaml"
    bad.write_text("answers: {}\n")
    result = CliRunner().invoke(main, ["assess", str(bad), "--out", str(tmp_path / "y.yaml")])
    assert result.exit_code == 2 and "missing" in result.output and "Traceback" not in result.output

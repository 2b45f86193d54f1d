"""The instructor's worked answers: the head-to-head verdict, durations in words, the exercises."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from funnelsim.studies.classroom import classroom_scenario
from funnelsim.present import classroom_page
from funnelsim.studies.classroom_answers import (
    EXERCISES,
    TODAY,
    Exercise,
    hours,
    verdict,
)


def row(relative: float, low: float, high: float) -> SimpleNamespace:
    return SimpleNamespace(relative=relative, relative_ci_low=low, relative_ci_high=high)


def test_a_ci_that_includes_no_difference_names_neither_option():
    for r in (row(0.05, -0.01, 0.11), row(-0.05, -0.11, 0.0), row(0.0, 0.0, 0.0)):
        text = verdict(r, "CAC", False, 6, "two more SDRs", "the follow-up SLA")
        assert text == "with 6 replications the two cannot be told apart on CAC (the head-to-head CI includes no difference)"


@pytest.mark.parametrize(
    ("relative", "higher_is_better", "winner"),
    [
        (0.12, True, "two more SDRs"),  # more new customers with the SDRs
        (-0.12, True, "the follow-up SLA"),  # fewer new customers with the SDRs
        (0.12, False, "the follow-up SLA"),  # a higher CAC with the SDRs
        (-0.12, False, "two more SDRs"),  # a lower CAC with the SDRs
    ],
)
def test_the_better_option_depends_on_the_sign_and_on_which_way_is_better(relative, higher_is_better, winner):
    r = row(relative, relative - 0.05, relative + 0.05)
    text = verdict(r, "the KPI", higher_is_better, 6, "two more SDRs", "the follow-up SLA")
    assert text == f"{winner} does better on the KPI (head to head {relative:+.0%})"


@pytest.mark.parametrize(("value", "text"), [(0.001, "under a minute"), (0.5, "30 min"), (0.999, "60 min"), (1.0, "1.0 h"), (26.26, "26.3 h")])
def test_hours_in_words(value, text):
    assert hours(value) == text


def test_every_exercise_starts_from_today_and_its_settings_are_valid():
    for settings in EXERCISES.values():
        assert next(iter(settings)) == TODAY and settings[TODAY] == {}
        for values in settings.values():
            classroom_scenario(values, 90)  # a misspelt key or a value out of range raises ParameterError


def test_an_exercise_compares_each_scenario_with_its_baseline_by_replication():
    rng = np.random.default_rng(3)
    base = rng.uniform(90, 110, 6)
    frames = [pd.DataFrame({"scenario": name, "replication": range(6), **{k: base * factor for k in
                            ["leads", "sals", "sdr_utilisation", "median_speed_to_lead_hours", "sqls", "wins", "cac", "bookings", "revenue"]}})
              for name, factor in [(TODAY, 1.0), ("double", 2.0), ("half", 0.5)]]
    exercise = Exercise(pd.concat(frames, ignore_index=True))
    assert exercise.change("sqls").to_dict() == pytest.approx({"double": 1.0, "half": -0.5})
    assert list(exercise.means().columns) == [TODAY, "double", "half"]
    head_to_head = exercise.without(TODAY, "half")
    assert head_to_head.change("wins").to_dict() == pytest.approx({"double": 3.0})
    lines = classroom_page.effects_list(exercise, ["sqls", "cac"]).splitlines()
    assert len(lines) == 2 and lines[0].startswith("- **Sales-qualified leads (SQLs)** against today (")
    assert "double +100% (95% CI +100% to +100%); half −50%" in lines[0] and "6 replications each" in lines[0]
    shown = classroom_page.means_table(exercise).data
    assert list(shown.columns) == ["Measure", "Today", "Double", "Half"] and "Customer acquisition cost" in set(shown["Measure"])


def test_the_instructors_first_replication_of_today_is_the_students_run():
    """Same horizon and seed by default: the instructor's numbers and the students' agree."""
    from funnelsim.studies.classroom import YOURS, play
    from funnelsim.studies.classroom_answers import simulate_exercise

    students = play({}, horizon_days=60).runs.set_index("scenario").loc[YOURS]
    instructor = simulate_exercise({TODAY: {}}, 2, 60, seed=1).runs
    first = instructor[(instructor["scenario"] == TODAY) & (instructor["replication"] == 0)].iloc[0]
    assert all(first[k] == students[k] for k in ("leads", "sqls", "wins", "revenue"))
    assert (instructor.loc[instructor["scenario"] == TODAY, "sqls"].nunique()) == 2  # the second replication differs

"""The classroom: sliders set exactly their levers, a re-run is reproducible, and the picture
moves the way the lever must move it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest
from conftest import BASELINE, ROOT, scenario

from funnelsim.config.lever_values import value_at
from funnelsim.config.errors import ParameterError
from funnelsim.config.schema import load_scenario
from funnelsim.present.reports import notebook_parameters
from funnelsim.studies import classroom
from funnelsim.studies.classroom import (
    SLIDERS,
    classroom_panel,
    classroom_scenario,
    draw,
    kpi_table,
    play,
    slider_groups,
    slider_values,
)


def test_slider_values_set_exactly_their_keys():
    base = classroom_scenario({}, 120).model_dump(mode="json")
    moved = classroom_scenario({"sdr_team.reps": 9, "closed_loop.enabled": True, "handoff.latency_hours.median": 2.5}, 120)
    assert moved.sdr_team.reps == 9 and moved.closed_loop.enabled and moved.handoff.latency_hours.median == 2.5
    changed = moved.model_dump(mode="json")
    for section in base:
        if section not in ("sdr_team", "closed_loop", "handoff"):
            assert changed[section] == base[section], section
    assert classroom_scenario({}, 120).simulation.warmup_days == 24


def test_every_slider_default_is_the_baseline_value_and_inside_its_range():
    data = scenario().model_dump(mode="json")
    for entry in SLIDERS:
        assert entry.slider.low <= float(value_at(data, entry.key)) <= entry.slider.high, entry.key


def test_an_impossible_value_names_the_key():
    with pytest.raises(ParameterError) as caught:
        classroom_scenario({"follow_up.follow_up_rate": 1.7}, 120)
    assert "follow_up.follow_up_rate: 1.7: input should be less than or equal to 1" in "\n".join(caught.value.lines)


def test_the_same_settings_and_seed_give_identical_tables():
    a = play({"sdr_team.reps": 4}, seed=3, horizon_days=90)
    b = play({"sdr_team.reps": 4}, seed=3, horizon_days=90)
    pd.testing.assert_frame_equal(a.runs.drop(columns="spawn_key"), b.runs.drop(columns="spawn_key"))
    pd.testing.assert_frame_equal(a.daily, b.daily)


def test_unchanged_settings_show_no_difference():
    table = kpi_table(play({}, seed=2, horizon_days=90))
    assert (table["today"] == table["your settings"]).all()


def test_the_note_says_what_was_simulated_as_measured():
    run = play({}, seed=2, horizon_days=150)
    leads = int(run.runs.loc[run.runs["scenario"] == "today", "leads"].iloc[0])
    note = run.note()
    assert note.startswith("Each company is simulated for 5 months; the KPIs count the last 4, after the warm-up")
    assert f"today's company gets {leads:,} leads" in note and leads > 0
    assert play({}, seed=2, horizon_days=270).note().startswith("Each company is simulated for 9 months; the KPIs count the last 7,")


def test_a_day_of_handoff_latency_costs_sqls_in_the_picture():
    """Leads and MQLs come before the handoff, so they cannot move; SQLs fall by far more than
    chance when every MQL waits a day (the decay of a lead's odds with its age)."""
    run = play({"handoff.latency_hours.median": 24}, seed=4, horizon_days=150)
    runs = run.runs.set_index("scenario")
    assert runs.loc["today", "leads"] == runs.loc["your settings", "leads"]
    assert runs.loc["today", "mqls"] == runs.loc["your settings", "mqls"]
    assert runs.loc["your settings", "sqls"] < 0.8 * runs.loc["today", "sqls"]  # a fifth or more lost
    fig = draw(run)
    funnel_axis = fig.axes[0]
    heights = {b.get_height() for b in funnel_axis.patches if b.get_height() > 0}
    assert runs.loc["your settings", "sqls"] in heights and runs.loc["today", "sqls"] in heights
    plt.close(fig)


def _controls(panel) -> dict:
    """The panel's controls by lever key, in the order shown (group headings and the picture left out)."""
    import ipywidgets as widgets

    shown = [c for c in panel.children if not isinstance(c, (widgets.HTML, widgets.Output))]
    by_label = {s.slider.label: s.key for s in SLIDERS}
    return {by_label[c.description]: c for c in shown}


def test_the_panel_has_one_control_per_lever_grouped_by_sign():
    panel = classroom_panel(seed=1, horizon_days=60, base=BASELINE)
    controls = _controls(panel)
    assert list(controls) == [entry.key for group in slider_groups().values() for entry in group]
    assert set(controls) == {s.key for s in SLIDERS}
    headings = [c.value for c in panel.children if type(c).__name__ == "HTML"][1:]
    assert headings == [f"<b>{name}</b>" for name in slider_groups()]
    sdrs = controls["sdr_team.reps"]
    assert sdrs.value == load_scenario(BASELINE).sdr_team.reps and not sdrs.continuous_update
    started = classroom_panel(seed=1, horizon_days=60, base=BASELINE, start={"sdr_team.reps": 8, "closed_loop.enabled": True})
    values = {key: c.value for key, c in _controls(started).items()}
    assert values["sdr_team.reps"] == 8 and values["closed_loop.enabled"] is True
    # levers not named start at the baseline
    assert values["follow_up.follow_up_rate"] == pytest.approx(load_scenario(BASELINE).follow_up.follow_up_rate)
    plt.close("all")


def test_letting_go_of_a_slider_redraws_the_picture_for_the_new_value(monkeypatch):
    """What a slider move does in JupyterLab: the control's value changes, the panel re-runs the
    simulation and redraws. A day of handoff latency leaves leads and MQLs alone (they come
    before the handoff) and costs SQLs, with the same seed: the redrawn funnel shows it."""
    runs, figures = [], []
    monkeypatch.setattr(classroom, "play", lambda *a, **k: runs.append(play(*a, **k)) or runs[-1])
    monkeypatch.setattr(classroom, "draw", lambda run, stacked=False: figures.append(draw(run, stacked)) or figures[-1])
    panel = classroom_panel(seed=4, horizon_days=150, base=BASELINE)
    latency = _controls(panel)["handoff.latency_hours.median"]
    assert len(figures) == 1  # the panel draws today's settings once when it is built
    latency.value = 24.0
    assert len(figures) == 2 and runs[-1].values["handoff.latency_hours.median"] == pytest.approx(24.0)

    def bars(fig):
        axis = fig.axes[0]
        labels = [t.get_text() for t in axis.get_xticklabels()]
        yours = [p.get_height() for p in axis.containers[1]]  # hue order: today, your settings
        return dict(zip(labels, yours))

    before, after = bars(figures[0]), bars(figures[1])
    assert after["Leads"] == before["Leads"] and after["MQLs"] == before["MQLs"]
    assert after["SQLs"] < 0.8 * before["SQLs"]
    plt.close("all")


def test_the_notebook_starts_from_the_baseline_company():
    """The classroom notebook has a parameter for every slider, at the baseline's value
    (params/baseline.yaml), and hands them to the sliders through the registry."""
    book = nbformat.read(ROOT / "notebooks" / "classroom.ipynb", as_version=4)
    assert any(c.cell_type == "code" and "slider_values(globals())" in c.source for c in book.cells)
    defaults = notebook_parameters(ROOT / "notebooks" / "classroom.ipynb")
    data = scenario().model_dump(mode="json")
    values = slider_values(defaults)
    assert list(values) == [s.key for s in SLIDERS]
    for key, value in values.items():
        assert value == value_at(data, key), key

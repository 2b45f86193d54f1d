"""The lever registry: every scenario key the project uses has an entry, every entry is a real
field of the scenario schema with values the schema accepts, and what is built from it (the
assessment's files, the claims path, the lever sweeps) stays as it was."""

from __future__ import annotations

import csv
import shutil

import pytest
import yaml
from click.testing import CliRunner
from conftest import BASELINE, ROOT

from funnelsim import load_scenario
from funnelsim.cli import main
from funnelsim.config.levers import GROUPS, QUESTIONS, REGISTRY, alignment_levers, export_needs, lever, levers, uncertain_parameters
from funnelsim.config.lever_values import as_overrides, describe_change, format_value, lever_settings, set_text, value_at, value_between
from funnelsim.config.schema import with_settings
from funnelsim.experiments.sweeps import expects_integer
from funnelsim.studies.assessment import load_answers
from funnelsim.studies.calibrated_scenario import NOT_IN_THE_DATA
from funnelsim.studies.calibration import NEEDS
from funnelsim.studies.claims import ALIGNMENT_LEVERS
from funnelsim.studies.classroom import SLIDERS
from funnelsim.studies.classroom_answers import EXERCISES

PARAMS = ROOT / "params"
MATURITY_LEVELS = ["fully-aligned", "somewhat-aligned", "somewhat-misaligned", "fully-misaligned"]
# Keys that describe a scenario or a run rather than the company: no lever.
NOT_LEVERS = ("name", "description", "maturity", "what_if", "simulation.")


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


def leaves(data, prefix=""):
    """Every leaf of a scenario's data as ``key.path: value`` (list items by position)."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else None
    if items is None:
        yield prefix.rstrip("."), data
        return
    for key, value in items:
        yield from leaves(value, f"{prefix}{key}.")


def differing(scenario, baseline) -> set[str]:
    ours = dict(leaves(scenario.model_dump(mode="json", by_alias=True)))
    theirs = dict(leaves(baseline.model_dump(mode="json", by_alias=True)))
    return {key for key in ours.keys() | theirs.keys() if ours.get(key) != theirs.get(key)}


def registered(key: str) -> bool:
    """A key is covered by the registry when it is an entry's key or lies inside one (a part of
    SDR working hours)."""
    return any(key == entry.key or key.startswith(entry.key + ".") for entry in REGISTRY)


def used_keys(baseline) -> dict[str, set[str]]:
    """Every scenario key the project's files and studies set, by where it is set."""
    used: dict[str, set[str]] = {}
    for path in sorted((PARAMS / "scenarios").glob("*.yaml")):
        used[str(path.relative_to(ROOT))] = differing(load_scenario(path), baseline)
    for path in sorted((PARAMS / "assessments").glob("*.yaml")):
        used[str(path.relative_to(ROOT))] = differing(with_settings(baseline, load_answers(path).lever_settings(baseline)), baseline)
    for path in sorted((PARAMS / "sweeps").glob("*.yaml")):
        used[str(path.relative_to(ROOT))] = set(yaml.safe_load(path.read_text()).get("factors", {}))
    for path in sorted((PARAMS / "plans").glob("*.yaml")):
        used[str(path.relative_to(ROOT))] = set(yaml.safe_load(path.read_text())["levers"])
    for path in sorted((PARAMS / "reports").glob("*.yaml")):
        overrides = yaml.safe_load(path.read_text()).get("overrides", [])
        used[str(path.relative_to(ROOT))] = {text.partition("=")[0] for text in overrides}
    with open(PARAMS / "ensemble" / "evidence.csv", newline="") as handle:
        used["params/ensemble/evidence.csv"] = {column for column in next(csv.reader(handle)) if "." in column}
    used["the classroom sliders"] = {entry.key for entry in SLIDERS}
    used["the claims path"] = {lever.key for lever in ALIGNMENT_LEVERS}
    used["the instructor's exercises"] = {key for settings in EXERCISES.values() for values in settings.values() for key in values}
    return used


def test_every_scenario_key_used_anywhere_is_in_the_registry(baseline):
    used = used_keys(baseline)
    assert used["params/sweeps/alignment-box.yaml"] and used["params/scenarios/realtime-routing.yaml"]
    missing = sorted(f"{where}: {key}" for where, keys in used.items() for key in keys
                     if not key.startswith(NOT_LEVERS) and not registered(key))
    assert not missing, "not in funnelsim.config.levers:\n" + "\n".join(missing)


def test_the_check_would_catch_a_key_missing_from_the_registry(baseline):
    unregistered = with_settings(baseline, {"nurture.reengage_probability": 0.5, "sdr_team.business_hours.open_hour": 7})
    assert {key for key in differing(unregistered, baseline) if not registered(key)} == {"nurture.reengage_probability"}


def test_every_entry_is_a_real_field_of_the_scenario(baseline):
    data = baseline.model_dump(mode="json", by_alias=True)
    assert len({entry.key for entry in REGISTRY}) == len(REGISTRY)
    for entry in REGISTRY:
        value = value_at(data, entry.key)  # the baseline has a value there (a KeyError otherwise)
        # setting it is not ignored: the validated scenario holds the value set
        changed = with_settings(baseline, {entry.key: value})
        assert value_at(changed.model_dump(mode="json", by_alias=True), entry.key) == value, entry.key
        assert entry.whole == expects_integer(entry.key), entry.key
        assert entry.name and entry.unit and entry.source, entry.key


@pytest.mark.parametrize("end", ["no", "yes"])
def test_the_fully_misaligned_and_fully_aligned_values_validate(baseline, end):
    settings = {entry.key: getattr(entry, end) for entry in alignment_levers()}
    company = with_settings(baseline, settings)
    assert lever_settings(company, settings) == pytest.approx(settings)


def test_each_lever_and_parameter_is_complete_for_its_kind():
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS) == 11
    assert all(question.levers for question in QUESTIONS), "a question that moves no lever"
    assert all(entry.question in QUESTIONS for entry in alignment_levers())
    for entry in REGISTRY:
        if entry.question is not None:
            assert entry.no is not None and entry.yes is not None and entry.no != entry.yes, entry.key
        if entry.scale == "switch" and entry.question is not None:
            assert entry.on == entry.yes, entry.key
        if entry.uncertain:
            assert entry.question is None and entry.slider is None and not entry.staffed, entry.key
            assert entry.prior.low < entry.prior.high, entry.key
            assert entry.prior.group in GROUPS, entry.key  # what funnelsim uncertainty values measuring
            if entry.prior.scale == "log":
                assert entry.prior.low > 0, entry.key
        if entry.slider is not None:
            assert entry.slider.low < entry.slider.high and entry.slider.step > 0, entry.key
            assert entry.scale != "log" or entry.slider.low > 0, entry.key
        for effect in entry.effects:
            assert effect.direction in (1, -1) and effect.worse != effect.better, entry.key


def test_slider_ends_and_evidence_ranges_lie_within_the_schema(baseline):
    for entry in REGISTRY:
        ends = []
        if entry.slider is not None:
            ends += [entry.slider.low, entry.slider.high]
        if entry.prior is not None:
            ends += [entry.prior.low, entry.prior.high]
        for value in ends:
            if entry.scale == "switch":
                value = bool(value)
            company = with_settings(baseline, {entry.key: value})  # raises ParameterError outside the schema
            assert lever_settings(company, [entry.key])[entry.key] == pytest.approx(value), entry.key


def test_every_effect_setting_validates(baseline):
    for entry in REGISTRY:
        for effect in entry.effects:
            for value, also in ((effect.worse, effect.worse_with), (effect.better, effect.better_with)):
                load_scenario(BASELINE, [*as_overrides({entry.key: value}), *also])


def test_the_alignment_box_sweep_varies_exactly_the_claims_path_levers():
    factors = yaml.safe_load((PARAMS / "sweeps" / "alignment-box.yaml").read_text())["factors"]
    assert list(factors) == [lever.key for lever in ALIGNMENT_LEVERS]


def test_calibration_needs_and_not_in_the_data_come_from_the_registry():
    for entry in REGISTRY:
        if entry.export is None:
            assert entry.key in NOT_IN_THE_DATA
        else:
            assert NEEDS[entry.export.estimated_as or entry.key] == entry.export.needs, entry.key
    estimated_together: dict[str, set[str]] = {}
    for entry in REGISTRY:
        if entry.export is not None:
            estimated_together.setdefault(entry.export.estimated_as or entry.key, set()).add(entry.export.needs)
    assert all(len(texts) == 1 for texts in estimated_together.values())
    assert set(export_needs()) <= set(NEEDS)


def test_plan_levers_are_registry_levers_and_uncertain_parameters_are_not():
    keys = {entry.key for entry in levers()}
    assert {entry.key for entry in uncertain_parameters()}.isdisjoint(keys)
    plan = yaml.safe_load((PARAMS / "plans" / "grow-revenue.yaml").read_text())
    assert set(plan["levers"]) <= keys


def test_lookup_names_the_nearest_key():
    assert lever("sdr_team.reps").name == "SDRs"
    with pytest.raises(KeyError, match="did you mean sdr_team.reps"):
        lever("sdr_team.repz")


# --- the registry's functions ----------------------------------------------------------------


def test_value_between_interpolates_as_the_assessment_and_the_path_do():
    latency = lever("handoff.latency_hours.median")
    assert value_between(latency.no, latency.yes, 0.5, "log", digits=4) == 0.6325  # the geometric middle
    assert value_between(latency.no, latency.yes, 0.5, "log") == pytest.approx((8.0 * 0.05) ** 0.5)
    assert value_between(2, 6, 0.25, digits=4) == 3 and isinstance(value_between(2, 6, 0.25, digits=4), int)
    assert value_between(2, 6, 0.25) == 3.0
    assert value_between(0.55, 0.95, 1.0) == 0.95 and value_between(0.55, 0.95, 0.0) == 0.55  # the ends exactly
    assert value_between(0.55, 0.95, 2.0) == pytest.approx(1.35)  # beyond 1: further on
    assert value_between("batch", "continuous", 0.5, "switch") == "continuous"
    assert value_between(False, True, 0.49, "switch") is False


def test_overrides_round_where_the_scenario_wants_whole_numbers():
    text = as_overrides({"follow_up.max_attempts": 4.6, "follow_up.priority_routing": True, "handoff.mode": "batch",
                         "follow_up.follow_up_rate": 0.8125})
    assert text == ["follow_up.max_attempts=5", "follow_up.priority_routing=true", "handoff.mode=batch",
                    "follow_up.follow_up_rate=0.8125"]
    assert set_text("sdr_team.cost_per_rep_month", 7000) == "7000"  # not a lever: a whole number stays whole
    assert set_text("sdr_team.business_hours", None) == "null"


def test_values_read_as_a_marketer_reads_them():
    assert format_value("handoff.latency_hours.median", 8.0) == "8 h"
    assert format_value("handoff.latency_hours.median", 0.05) == "3 min"
    assert format_value("follow_up.follow_up_rate", 0.95) == "95%"
    assert format_value("customers.monthly_churn", 0.0125) == "1.25%"
    assert format_value("closed_loop.enabled", True) == "on"
    assert format_value("handoff.mode", "batch") == "batch export"
    assert format_value("sdr_team.reps", 6) == "6"
    assert format_value("closed_loop.meeting_every_days", 42) == "42 days"
    assert format_value("opportunity.message_consistency_odds_ratio", 1.988) == "×1.99"
    assert format_value("handoff.batch_at_hour", 9) == "9:00"
    assert format_value("sdr_team.business_hours", {"open_hour": 8, "close_hour": 19,
                                                    "working_days": ["mon", "tue", "wed", "thu", "fri"]}) == "8:00–19:00 Mon–Fri"
    assert format_value("sdr_team.business_hours", None) == "around the clock"
    assert describe_change("handoff.latency_hours.median", 8.0, 0.05) == "Handoff latency (median): 8 h → 3 min"


# --- what is built from it stays as it was --------------------------------------------------


@pytest.mark.parametrize("name", MATURITY_LEVELS)
def test_assess_regenerates_the_maturity_level_files_byte_for_byte(tmp_path, name):
    """`funnelsim assess params/assessments/X.yaml --out ... --force` writes params/scenarios/X.yaml
    exactly (the baseline copied beside it, so the file's `extends:` is the committed one)."""
    (tmp_path / "scenarios").mkdir()
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    out = tmp_path / "scenarios" / f"{name}.yaml"
    out.write_text("an older file, replaced\n")
    result = CliRunner().invoke(main, ["assess", str(PARAMS / "assessments" / f"{name}.yaml"), "--out", str(out),
                                       "--baseline", str(tmp_path / "baseline.yaml"), "--force"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (PARAMS / "scenarios" / f"{name}.yaml").read_bytes()

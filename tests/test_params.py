"""Scenario files: inheritance, overrides, units, and errors that name file, key, value and rule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from funnelsim.config.distributions import Gamma, Lognormal
from funnelsim.config.errors import ParameterError
from funnelsim.config.schema import Scenario, load_scenario
from funnelsim.config.value_rules import HOURS, MINUTES

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "params" / "baseline.yaml"
SHIPPED = sorted((ROOT / "params" / "scenarios").glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def child(tmp_path: Path, body: str, name: str = "child.yaml") -> Path:
    """A scenario that extends the baseline by its absolute path and changes ``body``."""
    return write(tmp_path, name, f"extends: {BASELINE}\n{body}")


def errors(path: Path, overrides: list[str] | None = None) -> list[str]:
    with pytest.raises(ParameterError) as caught:
        load_scenario(path, overrides or [])
    lines = caught.value.lines
    assert lines and all(isinstance(line, str) for line in lines)
    assert str(caught.value) == "\n".join(lines)
    return lines


def line_for(lines: list[str], prefix: str) -> str:
    """The one error line starting with ``prefix`` (``FILE: key.path: ``)."""
    found = [line for line in lines if line.startswith(prefix)]
    assert len(found) == 1, (prefix, lines)
    return found[0]


# --- the baseline and the shipped scenarios -------------------------------------------------


def test_baseline_loads_complete_and_valid():
    sc = load_scenario(BASELINE)
    assert isinstance(sc, Scenario)
    assert sc.name == "baseline" and sc.description.startswith("Typical mid-market")
    assert set(sc.channels) == {"paid_search", "inbound_content", "events", "outbound", "partners"}
    weekly = sum(c.leads_per_week for c in sc.channels.values())
    assert 2000 <= weekly * 52 / 12 <= 5000  # "about 3,000 leads a month"
    assert sc.simulation.horizon_days == 540 and sc.simulation.warmup_days == 90
    assert isinstance(sc.handoff.latency_hours, Lognormal)
    assert isinstance(sc.follow_up.work_minutes, Gamma)
    assert sc.sdr_team.business_hours is not None
    assert sc.sdr_team.business_hours.weekday_numbers == [0, 1, 2, 3, 4]
    assert [name for name, _ in sc.opportunity.stages.in_order()] == [
        "value_demonstration",
        "objection_handling",
        "negotiation_close",
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_loads(path):
    sc = load_scenario(path)
    assert sc.name  # named in the file or after it


# --- extends --------------------------------------------------------------------------------


def test_extends_merges_deeply(tmp_path):
    path = child(
        tmp_path,
        "name: busier\n"
        "sdr_team:\n  reps: 9\n"
        "channels:\n  events:\n    leads_per_week: 5\n"
        "opportunity:\n  stages:\n    objection_handling: {pass_probability: 0.5}\n",
    )
    sc, base = load_scenario(path), load_scenario(BASELINE)
    assert sc.sdr_team.reps == 9
    # siblings of every overridden key are kept
    assert sc.sdr_team.cost_per_rep_month == base.sdr_team.cost_per_rep_month
    assert sc.sdr_team.business_hours == base.sdr_team.business_hours
    assert sc.channels["events"].leads_per_week == 5
    assert sc.channels["events"].quality == base.channels["events"].quality
    assert sc.channels["events"].deal_size == base.channels["events"].deal_size
    assert set(sc.channels) == set(base.channels)
    assert sc.channels["paid_search"] == base.channels["paid_search"]
    stage = sc.opportunity.stages.objection_handling
    assert stage.pass_probability == 0.5
    assert stage.duration_days == base.opportunity.stages.objection_handling.duration_days
    # everything not mentioned is the parent's
    changed = {"name", "description", "sdr_team", "channels", "opportunity"}
    mine, theirs = sc.model_dump(), base.model_dump()
    assert {k: v for k, v in mine.items() if k not in changed} == {
        k: v for k, v in theirs.items() if k not in changed
    }


def test_a_mapping_with_dist_replaces_the_parents_distribution_wholesale(tmp_path):
    # The parent's latency is {dist: lognormal, median: 0.75, sigma: 1.2}. Merged key by key,
    # the child's mean/cv would sit beside median/sigma and be refused as two parametrisations.
    path = child(tmp_path, "handoff:\n  latency_hours: {dist: lognormal, mean: 2, cv: 0.5}\n")
    latency = load_scenario(path).handoff.latency_hours
    assert isinstance(latency, Lognormal)
    assert latency.median is None and latency.sigma is None
    assert latency.mean == pytest.approx(2.0)
    # ... and to another family, whose keys the parent's would not fit at all
    path = child(tmp_path, "follow_up:\n  work_minutes: {dist: constant, value: 12}\n", "other.yaml")
    sc = load_scenario(path)
    assert sc.follow_up.work_minutes.dist == "constant" and sc.follow_up.work_minutes.value == 12
    assert sc.follow_up.max_attempts == load_scenario(BASELINE).follow_up.max_attempts


def test_a_mapping_without_dist_tunes_the_parents_distribution(tmp_path):
    sc = load_scenario(child(tmp_path, "handoff:\n  latency_hours: {median: 3}\n"))
    latency = sc.handoff.latency_hours
    assert latency.dist == "lognormal" and latency.median == 3 and latency.sigma == 1.2


def test_name_and_description_are_not_inherited(tmp_path):
    unnamed = load_scenario(child(tmp_path, "sdr_team: {reps: 4}\n", "my-company.yaml"))
    assert unnamed.name == "my-company"  # named after its file, not 'baseline'
    assert unnamed.description == ""
    named = load_scenario(child(tmp_path, "name: acme\ndescription: Acme Inc.\n", "acme.yaml"))
    assert named.name == "acme" and named.description == "Acme Inc."


def test_chained_extends_with_relative_paths(tmp_path, monkeypatch):
    # middle.yaml sits in a subfolder; paths in `extends` are relative to the extending file,
    # not to the working directory.
    write(
        tmp_path,
        "deep/middle.yaml",
        f"extends: {BASELINE}\nname: middle\ndescription: the middle one\n"
        "sdr_team: {reps: 2}\nfollow_up: {max_attempts: 3}\n",
    )
    last = write(tmp_path, "last.yaml", "extends: deep/middle.yaml\nfollow_up: {follow_up_rate: 0.5}\n")
    monkeypatch.chdir(ROOT)
    sc = load_scenario(last)
    assert sc.sdr_team.reps == 2 and sc.follow_up.max_attempts == 3 and sc.follow_up.follow_up_rate == 0.5
    assert sc.name == "last" and sc.description == ""  # not the middle file's identity
    back = write(tmp_path, "deep/deeper/back.yaml", "extends: ../../last.yaml\nsdr_team: {reps: 7}\n")
    sc = load_scenario(back)
    assert sc.sdr_team.reps == 7 and sc.follow_up.follow_up_rate == 0.5


# --- --set overrides ------------------------------------------------------------------------


def test_set_overrides_apply():
    sc = load_scenario(
        BASELINE,
        [
            "sdr_team.reps=8",
            "handoff.mode=batch",
            "closed_loop.enabled=true",
            "scoring.noise_sd=1e1",  # read as a number, not the string '1e1'
            "channels.events.leads_per_week=0",
            "seasonality.weekday=[1, 1, 1, 1, 1, 0, 0]",
        ],
    )
    assert sc.sdr_team.reps == 8
    assert sc.handoff.mode == "batch" and sc.closed_loop.enabled is True
    assert sc.scoring.noise_sd == 10.0
    assert sc.channels["events"].leads_per_week == 0
    assert sc.seasonality.weekday == [1, 1, 1, 1, 1, 0, 0]
    assert sc.name == "baseline"


def test_set_overrides_win_over_the_file_and_apply_in_order(tmp_path):
    path = child(tmp_path, "sdr_team: {reps: 3}\n")
    assert load_scenario(path, ["sdr_team.reps=5"]).sdr_team.reps == 5
    assert load_scenario(path, ["sdr_team.reps=5", "sdr_team.reps=11"]).sdr_team.reps == 11


def test_set_replaces_a_mapping_without_merging():
    sc = load_scenario(BASELINE, ["sdr_team={reps: 3}"])
    assert sc.sdr_team.reps == 3
    assert sc.sdr_team.cost_per_rep_month == 0.0 and sc.sdr_team.business_hours is None
    sc = load_scenario(BASELINE, ["handoff.latency_hours={dist: exponential, mean: 2}"])
    assert sc.handoff.latency_hours.dist == "exponential" and sc.handoff.latency_hours.mean == 2


@pytest.mark.parametrize(
    "override, key, value, rule",
    [
        ("sdr_team.reps=0", "sdr_team.reps", "0", "greater than or equal to 1"),
        ("sdr_team.reps=eight", "sdr_team.reps", "'eight'", "valid integer"),
        ("follow_up.follow_up_rate=1.5", "follow_up.follow_up_rate", "1.5", "less than or equal to 1"),
        ("sdr_team.repz=8", "sdr_team.repz", None, "unknown key; allowed here: reps, cost_per_rep_month, business_hours"),
        ("handoff.latency_hours={median: 3}", "handoff.latency_hours", "{'median': 3}",
         "a distribution needs a 'dist' key, one of constant, empirical, exponential"),
        ("handoff.latency_hours={dist: weibull, k: 2}", "handoff.latency_hours.dist", "'weibull'",
         "allowed distributions: "),
    ],
)
def test_set_overrides_are_validated_and_named(override, key, value, rule):
    lines = errors(BASELINE, [override])
    line = line_for(lines, f"{BASELINE} (with --set {override}): {key}: ")
    assert rule in line
    if value is not None:
        assert f": {key}: {value}: " in line


@pytest.mark.parametrize(
    "override, problem",
    [
        ("sdr_team.reps", "expected key.path=value"),
        ("=3", "expected key.path=value"),
        ("  =3", "expected key.path=value"),
        ("sdr_team.reps=[1, 2", "the value is not valid YAML"),
    ],
)
def test_bad_set_syntax(override, problem):
    lines = errors(BASELINE, [override])
    assert lines == [f"--set {override}: {problem}"]


# --- units ----------------------------------------------------------------------------------


def test_hours_and_minutes_become_days():
    sc = load_scenario(BASELINE)
    handoff, fu = sc.handoff, sc.follow_up
    # handoff latency: a lognormal given by its median in hours
    assert handoff.latency_days.mean == pytest.approx(handoff.latency_hours.mean / 24)
    assert handoff.latency_days.variance == pytest.approx(handoff.latency_hours.variance / 24**2)
    assert math.exp(handoff.latency_days.mu) == pytest.approx(handoff.latency_hours.median / 24)
    # SDR work per attempt: gamma mean 25 min, cv 0.5
    assert fu.work_days.mean == pytest.approx(25 / 1440)
    assert fu.work_days.variance == pytest.approx((12.5 / 1440) ** 2)
    # spacing between attempts: lognormal median 24 h = one day
    assert math.exp(fu.attempt_spacing_days.mu) == pytest.approx(1.0)
    # SLA: 24 hours = 1 day
    assert handoff.sla_days == pytest.approx(1.0)
    assert fu.contact_decay.age_days == pytest.approx([h / 24 for h in fu.contact_decay.age_hours])
    assert fu.presence_days.mean == pytest.approx(fu.presence_minutes.mean / 1440)


def test_unit_conversion_follows_overrides():
    sc = load_scenario(
        BASELINE,
        [
            "handoff.latency_hours={dist: constant, value: 6}",
            "handoff.sla_first_touch_hours=2",
            "follow_up.work_minutes={dist: uniform, low: 30, high: 90}",
        ],
    )
    assert HOURS == pytest.approx(1 / 24) and MINUTES == pytest.approx(1 / 1440)
    assert sc.handoff.latency_days.mean == pytest.approx(0.25)
    assert sc.handoff.sla_days == pytest.approx(2 / 24)
    assert sc.follow_up.work_days.mean == pytest.approx(1 / 24)
    assert sc.follow_up.work_days.lowest_value == pytest.approx(30 / 1440)
    batch = load_scenario(BASELINE, ["handoff.mode=batch", "handoff.latency_hours=null"])
    assert batch.handoff.latency_days is None


# --- errors: FILE: key.path: value: what is allowed -----------------------------------------


ERRORS = [
    # id, body, key path, value as shown (None: not checked), what is allowed
    ("unknown-key", "sdr_team:\n  repz: 3\n", "sdr_team.repz", None,
     "unknown key; allowed here: reps, cost_per_rep_month, business_hours"),
    ("unknown-top-level-key", "simulaton:\n  horizon_days: 60\n", "simulaton", None,
     "unknown key; allowed here: name, description, maturity, what_if, simulation, channels"),
    ("unknown-key-in-channel", "channels:\n  events: {leadz_per_week: 3}\n", "channels.events.leadz_per_week", None,
     "unknown key; allowed here: leads_per_week, cost_per_lead, quality, deal_size"),
    ("string-for-integer", "sdr_team:\n  reps: three\n", "sdr_team.reps", "'three'", "valid integer"),
    ("string-for-number", "simulation:\n  horizon_days: sixty\n", "simulation.horizon_days", "'sixty'", "valid number"),
    ("quoted-number", "scoring:\n  noise_sd: '15'\n", "scoring.noise_sd", "'15'", "valid number"),
    ("fraction-for-integer", "sdr_team:\n  reps: 2.5\n", "sdr_team.reps", "2.5", "valid integer"),
    ("string-for-bool", "closed_loop:\n  enabled: sometimes\n", "closed_loop.enabled", "'sometimes'", "valid boolean"),
    ("probability-above-1", "follow_up:\n  follow_up_rate: 1.5\n", "follow_up.follow_up_rate", "1.5",
     "less than or equal to 1"),
    ("probability-below-0", "nurture:\n  reengage_probability: -0.1\n", "nurture.reengage_probability", "-0.1",
     "greater than or equal to 0"),
    ("stage-probability", "opportunity:\n  stages:\n    negotiation_close: {pass_probability: 7}\n",
     "opportunity.stages.negotiation_close.pass_probability", "7", "less than or equal to 1"),
    ("negative-duration-normal", "follow_up:\n  work_minutes: {dist: normal, mean: 25, sd: 5}\n",
     "follow_up.work_minutes", "{'dist': 'normal', 'mean': 25, 'sd': 5}", "a duration cannot be negative"),
    ("negative-duration-uniform", "follow_up:\n  work_minutes: {dist: uniform, low: -5, high: 10}\n",
     "follow_up.work_minutes", "{'dist': 'uniform', 'low': -5, 'high': 10}", "a duration cannot be negative"),
    ("negative-stage-duration", "opportunity:\n  stages:\n    value_demonstration:\n"
     "      duration_days: {dist: triangular, low: -1, mode: 5, high: 9}\n",
     "opportunity.stages.value_demonstration.duration_days", "{'dist': 'triangular', 'low': -1, 'mode': 5, 'high': 9}",
     "a duration cannot be negative"),
    ("negative-latency", "handoff:\n  latency_hours: {dist: constant, value: -1}\n", "handoff.latency_hours",
     "{'dist': 'constant', 'value': -1}", "a latency cannot be negative"),
    ("negative-deal-size", "channels:\n  events:\n    deal_size: {dist: empirical, values: [-5, 10]}\n",
     "channels.events.deal_size", "{'dist': 'empirical', 'values': [-5, 10]}", "a deal size cannot be negative"),
    ("bad-distribution-parameter", "handoff:\n  latency_hours: {dist: lognormal, median: 3, sigma: 0}\n",
     "handoff.latency_hours.sigma", "0", "greater than 0"),
    ("two-parametrisations", "handoff:\n  latency_hours: {mean: 3, cv: 0.4}\n", "handoff.latency_hours", None,
     "give either 'median' and 'sigma', or 'mean' and 'cv'"),
    ("sdr-capacity-0", "sdr_team:\n  reps: 0\n", "sdr_team.reps", "0", "greater than or equal to 1"),
    ("ae-capacity-0", "opportunity:\n  ae_team: {reps: 0}\n", "opportunity.ae_team.reps", "0",
     "greater than or equal to 1"),
    ("deal-capacity-0", "opportunity:\n  ae_team: {deals_per_rep: 0}\n", "opportunity.ae_team.deals_per_rep", "0",
     "greater than or equal to 1"),
    ("attempts-0", "follow_up:\n  max_attempts: 0\n", "follow_up.max_attempts", "0", "greater than or equal to 1"),
    ("unknown-distribution", "handoff:\n  latency_hours: {dist: lognorm, median: 3, sigma: 1}\n",
     "handoff.latency_hours.dist", "'lognorm'",
     "allowed distributions: constant, empirical, exponential, gamma, lognormal, normal, triangular, uniform"),
    ("null-distribution", "follow_up:\n  work_minutes: null\n", "follow_up.work_minutes", "None", "valid dictionary"),
    ("bad-choice", "handoff:\n  mode: carrier-pigeon\n", "handoff.mode", "'carrier-pigeon'", "'continuous' or 'batch'"),
    ("bad-weekday", "sdr_team:\n  business_hours: {working_days: [mon, funday]}\n",
     "sdr_team.business_hours.working_days.1", "'funday'", "'mon'"),
    ("hours-out-of-order", "sdr_team:\n  business_hours: {open_hour: 18, close_hour: 9}\n",
     "sdr_team.business_hours.close_hour", "9", "must be after open_hour (18)"),
    ("day-listed-twice", "sdr_team:\n  business_hours: {working_days: [mon, tue, mon]}\n",
     "sdr_team.business_hours.working_days", "['mon', 'tue', 'mon']", "lists mon twice"),
    ("seasonality-length", "seasonality:\n  weekday: [1, 1, 1]\n", "seasonality.weekday", "[1, 1, 1]",
     "at least 7 items"),
    ("decay-order", "follow_up:\n  qualification_decay: {age_hours: [0, 2, 1], odds_multiplier: [1, 0.5, 0.2]}\n",
     "follow_up.qualification_decay.age_hours", "[0, 2, 1]", "must be strictly increasing"),
    ("decay-not-from-0", "follow_up:\n  contact_decay: {age_hours: [1, 2], odds_multiplier: [1, 0.5]}\n",
     "follow_up.contact_decay.age_hours", "[1, 2]", "must start at 0"),
    ("decay-lengths", "follow_up:\n  contact_decay: {age_hours: [0, 2], odds_multiplier: [1]}\n",
     "follow_up.contact_decay.odds_multiplier", "[1]", "has 1 entries but age_hours has 2"),
    ("decay-non-finite", "follow_up:\n  contact_decay: {age_hours: [0, .inf], odds_multiplier: [1, 0.5]}\n",
     "follow_up.contact_decay.age_hours.1", "inf", "must be a finite number"),
    ("empirical-non-finite", "channels:\n  events:\n    deal_size: {dist: empirical, values: [5, .nan]}\n",
     "channels.events.deal_size.values.1", "nan", "must be a finite number"),
    ("seasonality-all-zero", "seasonality:\n  weekday: [0, 0, 0, 0, 0, 0, 0]\n", "seasonality.weekday",
     "[0, 0, 0, 0, 0, 0, 0]", "multipliers cannot all be zero"),
    ("budget-bounds", "closed_loop:\n  max_budget_weight: 0.5\n", "closed_loop.max_budget_weight", "0.5",
     "greater than or equal to 1"),
    ("continuous-without-latency", "handoff:\n  latency_hours: null\n", "handoff.latency_hours", "missing",
     "needed when mode is 'continuous'"),
    ("batch-without-hour", "handoff:\n  mode: batch\n  batch_at_hour: null\n", "handoff.batch_at_hour", "missing",
     "needed when mode is 'batch'"),
    ("base-without-size", "customers:\n  installed_base: 450\n", "customers.initial_deal_size", "missing",
     "needed when installed_base is a number above 0"),
    ("base-one-off", "customers:\n  revenue_model: one_off\n  installed_base: 450\n  initial_deal_size: {dist: constant, value: 1}\n",
     "customers.installed_base", "450", "only applies to revenue_model 'recurring' (here 'one_off')"),
    ("steady-state-without-churn", "customers:\n  monthly_churn: 0\n", "customers.installed_base", "'steady_state'",
     "a steady state needs customers to leave"),
    ("presence-alone", "follow_up:\n  contact_probability_present: null\n", "follow_up.contact_probability_present",
     "missing", "give presence_minutes and contact_probability_present together"),
    ("too-many-attempts", "follow_up:\n  max_attempts: 21\n", "follow_up.max_attempts", "21",
     "at most 20: every lead holds random numbers"),
    ("null-section", "opportunity:\n  ae_team: null\n",
     "opportunity.ae_team", "None", "valid dictionary"),
]


@pytest.mark.parametrize("body, key, value, rule", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_file_key_value_and_rule(tmp_path, body, key, value, rule):
    path = child(tmp_path, body)
    lines = errors(path)
    line = line_for(lines, f"{path}: {key}: ")
    assert rule in line, line
    if value is not None:
        assert line.startswith(f"{path}: {key}: {value}: "), line
    # nothing else is wrong in the file
    assert len(lines) == 1, lines


def test_missing_required_keys(tmp_path):
    path = write(tmp_path, "empty.yaml", "name: empty\n")
    lines = errors(path)
    for section in ("simulation", "channels", "scoring", "handoff", "follow_up", "closed_loop"):
        assert f"{path}: {section}: missing: this key is required" in lines
    assert not any(line.startswith(f"{path}: seasonality:") for line in lines)  # has a default
    lines = errors(BASELINE, ["sdr_team={cost_per_rep_month: 1}"])
    line_for(lines, f"{BASELINE} (with --set sdr_team={{cost_per_rep_month: 1}}): sdr_team.reps: missing: ")


def test_warmup_longer_than_horizon(tmp_path):
    path = child(tmp_path, "simulation:\n  horizon_days: 120\n  warmup_days: 900\n")
    (line,) = errors(path)
    assert line == f"{path}: simulation.warmup_days: 900: must be shorter than simulation.horizon_days (120)"
    equal = child(tmp_path, "simulation:\n  horizon_days: 100\n  warmup_days: 100\n", "equal.yaml")
    assert errors(equal) == [
        f"{equal}: simulation.warmup_days: 100: must be shorter than simulation.horizon_days (100)"
    ]


def test_warmup_error_is_reported_at_its_key(tmp_path):
    path = child(tmp_path, "simulation:\n  horizon_days: 120\n  warmup_days: 900\n")
    (line,) = errors(path)
    assert line.startswith(f"{path}: simulation.warmup_days: 900")


def test_no_channel_with_leads(tmp_path):
    body = "channels:\n" + "".join(
        f"  {name}: {{leads_per_week: 0}}\n"
        for name in ("paid_search", "inbound_content", "events", "outbound", "partners")
    )
    (line,) = errors(child(tmp_path, body))
    assert "at least one channel needs leads_per_week above 0" in line


def test_every_mistake_is_reported_at_once(tmp_path):
    path = child(tmp_path, "sdr_team: {reps: 0}\nfollow_up: {follow_up_rate: 2}\nbogus: 1\n")
    lines = errors(path)
    assert len(lines) == 3
    assert {line.split(": ")[1] for line in lines} == {"sdr_team.reps", "follow_up.follow_up_rate", "bogus"}


def test_a_channel_named_like_a_distribution_keeps_its_key_path(tmp_path):
    path = child(
        tmp_path,
        "channels:\n  normal: {leads_per_week: -1, cost_per_lead: 1, "
        "quality: {dist: normal, mean: 50, sd: 10}, deal_size: {dist: constant, value: 5}}\n",
    )
    (line,) = errors(path)
    assert line.startswith(f"{path}: channels.normal.leads_per_week: -1: ")


def test_unknown_key_in_a_distribution_lists_the_allowed_keys(tmp_path):
    path = child(tmp_path, "handoff:\n  latency_hours: {dist: lognormal, medain: 3, sigma: 1}\n")
    line = line_for(errors(path), f"{path}: handoff.latency_hours.medain: unknown key")
    assert "allowed here: " in line and "median" in line


@pytest.mark.parametrize(
    "override, key, value",
    [
        ("simulation.horizon_days=.inf", "simulation.horizon_days", "inf"),
        ("follow_up.work_minutes={dist: constant, value: .nan}", "follow_up.work_minutes.value", "nan"),
        ("scoring.mql_threshold=.nan", "scoring.mql_threshold", "nan"),
        ("seasonality.month=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -.inf]", "seasonality.month.11", "-inf"),
    ],
)
def test_non_finite_values_are_refused(override, key, value):
    (line,) = errors(BASELINE, [override])
    assert line == f"{BASELINE} (with --set {override}): {key}: {value}: must be a finite number (not .nan or .inf)"


# --- file-level errors ----------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert errors(tmp_path / "missing.yaml") == [f"{tmp_path / 'missing.yaml'}: file not found"]


@pytest.mark.parametrize(
    "text, where",
    [
        ("name: x\nsdr_team:\n  reps: 3\n  cost: [1, 2\nother: 1\n", "line 5, column 6"),
        ("name: x\n\tsdr_team: 2\n", "line 2, column 1"),
        ("name: x\nscoring: {noise_sd: 2\n", "line 3, column 1"),
    ],
    ids=["open-bracket", "tab", "open-brace"],
)
def test_malformed_yaml_says_line_and_column(tmp_path, text, where):
    path = write(tmp_path, "bad.yaml", text)
    (line,) = errors(path)
    assert line.startswith(f"{path}: {where}: malformed YAML: "), line


def test_malformed_parent_is_named(tmp_path):
    parent = write(tmp_path, "parent.yaml", "sdr_team: [1, 2\n")
    kid = write(tmp_path, "kid.yaml", "extends: parent.yaml\n")
    (line,) = errors(kid)
    assert line.startswith(f"{parent}: line 2, column 1: malformed YAML")


def test_a_file_must_hold_a_mapping(tmp_path):
    path = write(tmp_path, "list.yaml", "- 1\n- 2\n")
    assert errors(path) == [f"{path}: the file must hold a mapping of keys, not list"]


def test_missing_extends_target(tmp_path):
    path = write(tmp_path, "orphan.yaml", "extends: nowhere.yaml\nsdr_team: {reps: 3}\n")
    (line,) = errors(path)
    assert line.startswith(f"{path}: extends: 'nowhere.yaml': no such file")
    assert str(tmp_path / "nowhere.yaml") in line


def test_extends_must_be_a_path(tmp_path):
    path = write(tmp_path, "weird.yaml", "extends: [a.yaml, b.yaml]\n")
    assert errors(path) == [f"{path}: extends: ['a.yaml', 'b.yaml']: a path to another scenario file"]


def test_extends_cycle(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: c.yaml\n")
    write(tmp_path, "c.yaml", "extends: a.yaml\n")
    (line,) = errors(a)
    assert line.startswith(str(tmp_path / "a.yaml") + ": extends: ") and "circular" in line
    selfish = write(tmp_path, "self.yaml", "extends: self.yaml\n")
    (line,) = errors(selfish)
    assert line.startswith(f"{selfish}: extends: ") and "circular" in line


def test_a_diamond_is_not_a_cycle(tmp_path):
    # Two files extending the same parent along one chain is fine: only a loop is refused.
    write(tmp_path, "mid.yaml", f"extends: {BASELINE}\nsdr_team: {{reps: 4}}\n")
    top = write(tmp_path, "top.yaml", "extends: mid.yaml\nfollow_up: {max_attempts: 2}\n")
    assert load_scenario(top).sdr_team.reps == 4

"""Calibration from a CRM export: a round trip recovers known parameters within their CIs, and
malformed exports give a bad-row report instead of losing rows silently."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import BASELINE, ROOT
from scipy import stats

from funnelsim import load_scenario, run_scenario
from funnelsim.cli import main
from funnelsim.studies.calibration import calibrate
from funnelsim.studies.crm_export import load_mapping, read_export, to_crm_export

# make test spreads the tests over two workers (--dist loadgroup); this module stays on one, so the
# simulated CRM export and its calibration (module fixtures) happen once, not once per worker.
pytestmark = pytest.mark.xdist_group("calibration")

YEAR = ["simulation.horizon_days=365", "simulation.warmup_days=0"]


@pytest.fixture(scope="module")
def truth():
    return load_scenario(BASELINE, YEAR)


@pytest.fixture(scope="module")
def export_file(tmp_path_factory, truth):
    run = run_scenario(truth, 1, 2026)
    path = tmp_path_factory.mktemp("export") / "export.csv"
    to_crm_export(run.leads.drop(columns="replication")).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def estimates(export_file):
    checked = read_export(export_file)
    assert checked.rows_skipped == 0
    return calibrate(checked, load_scenario(BASELINE)).estimates.set_index("key")


def true_values(sc) -> dict[str, float]:
    """Every directly identifiable parameter of the simulated company, as the calibration names it."""
    values = {f"channels.{c}.leads_per_week": ch.leads_per_week for c, ch in sc.channels.items()}
    values |= {f"channels.{c}.deal_size": ch.deal_size.median for c, ch in sc.channels.items()}
    values |= {
        "scoring.mql_threshold": sc.scoring.mql_threshold,
        "sales_acceptance.threshold": sc.sales_acceptance.threshold,
        "handoff.latency_hours": sc.handoff.latency_hours.median,
        "follow_up.follow_up_rate": sc.follow_up.follow_up_rate,
        "follow_up.contact_probability": sc.follow_up.contact_probability,
        "follow_up.contact_probability_present": sc.follow_up.contact_probability_present,
        "follow_up.presence_minutes": sc.follow_up.presence_minutes.median,
        "follow_up.contact_decay": sc.follow_up.contact_decay.odds_multiplier[-1],
        "qualification.probability_at_quality_50": sc.qualification.probability_at_quality_50,
        "customers.monthly_churn": sc.customers.monthly_churn,
    }
    for name, stage in sc.opportunity.stages.in_order():
        values[f"opportunity.stages.{name}.pass_probability"] = stage.pass_probability
        values[f"opportunity.stages.{name}.duration_days"] = stage.duration_days.mean
    return values


def test_the_round_trip_recovers_the_parameters_within_their_confidence_intervals(estimates, truth):
    """Each 95% CI should miss its true value 5% of the time; over K parameters the number of
    misses must stay within the 99% quantile of Binomial(K, 0.05)."""
    values = true_values(truth)
    assert set(values) <= set(estimates.index), set(values) - set(estimates.index)
    assert (estimates.loc[list(values), "source"] == "export").all()
    # a lead first reached days after its inquiry has mostly bought elsewhere (the shopping window):
    # an export cannot say how much interest cooled by then, and the calibration says so
    decay = estimates.loc["follow_up.qualification_decay"]
    assert decay.source == "export" or decay.method.startswith("cannot estimate: ")
    misses = [key for key, value in values.items() if not estimates.loc[key, "ci_low"] <= value <= estimates.loc[key, "ci_high"]]
    allowed = int(stats.binom.ppf(0.99, len(values), 0.05))
    assert len(misses) <= allowed, f"{len(misses)} of {len(values)} CIs miss (allowed {allowed}): {misses}"


def test_the_decay_curves_are_recovered_point_by_point(export_file, truth):
    """The cold-call curve is identified by the model's own parametrisation (reaching a lead does
    not depend on its unobserved quality), fitted together with the presence window: every
    multiplier's 95% CI contains the configured value."""
    fits = calibrate(read_export(export_file), load_scenario(BASELINE)).observed["decay_fits"]
    contact = fits[fits["curve"] == "contact_decay"]
    for row, configured in zip(contact.itertuples(), truth.follow_up.contact_decay.odds_multiplier):
        assert row.ci_low <= configured <= row.ci_high, (row.age_hours, configured, row)


def test_arrival_rates_are_exact_poisson_counts(estimates, export_file):
    leads = pd.read_csv(export_file, dtype=str)
    created = pd.to_datetime(leads["created_at"])
    weeks = (created.max() - created.min()).total_seconds() / 86400 / 7
    paid = (leads["channel"] == "paid_search").sum()
    assert estimates.loc["channels.paid_search.leads_per_week", "value"] == pytest.approx(paid / weeks)
    assert estimates.loc["channels.paid_search.leads_per_week", "n"] == paid


def test_the_written_scenario_validates_and_says_where_each_value_came_from(export_file, tmp_path):
    target = tmp_path / "params" / "mycompany.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(export_file), "--out", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert "extends: " in text and "Not in the data, so kept at the baseline's values" in text
    assert "follow_up_rate: " in text and "95% CI" in text and "KS D = " in text
    scenario = load_scenario(target)
    # thousands of accepted leads: the share worked is known to within about half a point
    assert scenario.follow_up.follow_up_rate == pytest.approx(load_scenario(BASELINE).follow_up.follow_up_rate, abs=0.03)
    assert scenario.sdr_team.reps == load_scenario(BASELINE).sdr_team.reps  # not in the data: baseline kept


def _corrupt(export_file, tmp_path, edits):
    raw = pd.read_csv(export_file, dtype=str, keep_default_na=False)
    for row, column, value in edits:
        raw.loc[row, column] = value
    path = tmp_path / "bad.csv"
    raw.to_csv(path, index=False)
    return path, raw


def test_malformed_rows_are_reported_skipped_and_counted(export_file, tmp_path):
    raw = pd.read_csv(export_file, dtype=str, keep_default_na=False)
    sql_row = int(raw.index[raw["sql_at"] != ""][0])
    closed_row = int(raw.index[raw["outcome"] != ""][1])
    edits = [
        (2, "created_at", "yesterday-ish"),
        (5, "amount", "-10"),
        (7, "channel", ""),
        (sql_row, "sql_at", "2025-01-05 00:00:00"),  # before the export's first inquiry, so before the lead's
        (closed_row, "outcome", "pending"),
    ]
    path, raw = _corrupt(export_file, tmp_path, edits)
    checked = read_export(path)
    report = checked.bad_rows.set_index("row")
    expected = {
        3: ("created_at", "yesterday-ish", "unparseable date"),
        6: ("amount", "-10", "negative amount"),
        8: ("channel", "", "missing channel"),
        sql_row + 1: ("sql_at", "2025-01-05 00:00:00", "sql_at before an earlier stage"),
        closed_row + 1: ("outcome", "pending", "unknown outcome"),
    }
    assert set(report.index) == set(expected)
    for row, (column, value, problem) in expected.items():
        assert report.loc[row, "column"] == column and str(report.loc[row, "value"]) == value
        assert report.loc[row, "problem"].startswith(problem)
    assert checked.rows_skipped == 5 and len(checked.leads) == len(raw) - 5 and checked.total_rows == len(raw)
    assert "5 skipped" in checked.summary()


def test_the_cli_writes_the_bad_row_report(export_file, tmp_path):
    path, _ = _corrupt(export_file, tmp_path, [(4, "first_touch_at", "not a time")])
    target = tmp_path / "out.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert "1 skipped" in result.output
    report = pd.read_csv(target.with_suffix(".bad-rows.csv"))
    assert report.loc[0, "row"] == 5 and report.loc[0, "column"] == "first_touch_at"


@pytest.mark.parametrize(
    "mapping, expected",
    [
        ("columns:\n  chanel: Lead Source\n", "columns.chanel: unknown field; allowed: lead_id, channel"),
        ("columns:\n  channel: Source of Lead\n", "columns.channel: 'Source of Lead': no such column in"),
        ("outcomes:\n  maybe: [x]\n", "outcomes.maybe: unknown outcome; allowed: won, lost"),
        ("colums: {}\n", "colums: unknown key; allowed here: columns, outcomes, timestamp_format, dayfirst, timezone, delimiter, description"),
        ("timezone: Europe/Berln\n", "timezone: 'Europe/Berln': unknown time zone; allowed: an IANA name"),
        ("columns: [1, 2\n", "malformed YAML"),
    ],
)
def test_a_bad_mapping_exits_2_naming_the_file_and_key(export_file, tmp_path, mapping, expected):
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping)
    result = CliRunner().invoke(main, ["calibrate", str(export_file), "--mapping", str(path), "--out", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
    assert expected in result.output and str(path) in result.output
    assert "Traceback" not in result.output


def test_a_missing_required_column_names_it(tmp_path):
    path = tmp_path / "export.csv"
    pd.DataFrame({"Lead Source": ["web"], "When": ["2025-01-01"]}).to_csv(path, index=False)
    result = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2
    assert "column 'channel'" in result.output and "the file has: Lead Source, When" in result.output


def test_the_example_export_calibrates_through_its_mapping(tmp_path):
    checked = read_export(ROOT / "examples" / "crm-export-synthetic.csv", load_mapping(ROOT / "examples" / "crm-mapping.yaml"))
    assert checked.rows_skipped == 5  # broken on purpose, see examples/README.md
    result = calibrate(checked, load_scenario(BASELINE))
    rates = result.estimates.set_index("key")["value"]
    assert math.isclose(rates["channels.paid_search.leads_per_week"], 62.5, rel_tol=0.1)
    assert np.isfinite(rates["follow_up.follow_up_rate"])
    # a year of inquiries informs every estimable value but the cooling of interest days after the
    # inquiry, which the shopping window hides (see the round trip)
    assert "seasonality.month" in result.settings and set(result.kept["key"]) <= {"follow_up.qualification_decay"}


def test_a_parquet_export_reads_like_its_csv(export_file, tmp_path):
    frame = pd.read_csv(export_file, dtype=str, keep_default_na=False)
    for column in frame.columns:
        if column.endswith("_at"):
            frame[column] = pd.to_datetime(frame[column].replace("", None))
    frame["amount"] = pd.to_numeric(frame["amount"].replace("", None))
    path = tmp_path / "export.parquet"
    frame.to_parquet(path)
    from_parquet, from_csv = read_export(path), read_export(export_file)
    assert from_parquet.rows_skipped == 0
    pd.testing.assert_series_equal(from_parquet.leads["sql_at"], from_csv.leads["sql_at"])
    pd.testing.assert_series_equal(from_parquet.leads["amount"], from_csv.leads["amount"])


def test_utc_offsets_are_read_as_the_company_s_local_time(tmp_path):
    """Summer and winter time in one column (two UTC offsets) are converted to the mapping's time
    zone, so the hour-of-day profile is the company's; without a time zone they are read as UTC."""
    path = tmp_path / "export.csv"
    pd.DataFrame({
        "channel": ["web", "web", "web"],
        "created_at": ["2025-01-15T09:30:00+01:00", "2025-07-15T09:30:00+02:00", "2025-07-16T14:00:00Z"],
    }).to_csv(path, index=False)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("timezone: Europe/Berlin\n")
    local = read_export(path, load_mapping(mapping)).leads["created_at"]
    assert list(local.dt.hour) == [9, 9, 16] and local.dt.tz is None
    assert list(read_export(path).leads["created_at"].dt.hour) == [8, 7, 14]


def test_a_hash_inside_a_value_is_kept(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("channel,created_at\nCampaign #3,2025-01-06 10:00\n")
    assert list(read_export(path).leads["channel"]) == ["Campaign #3"]


def test_an_export_with_only_the_required_columns_keeps_and_flags_the_rest(tmp_path):
    """Channel and inquiry time only, over three months: arrivals and the hour and weekday
    profiles are estimated; everything else (the month profile too) keeps the baseline's value
    and is listed as such in the file's header. A channel new to the baseline is given a
    baseline channel's quality, cost and deal size, flagged."""
    rng = np.random.default_rng(3)
    created = pd.Timestamp("2025-02-03") + pd.to_timedelta(np.sort(rng.uniform(0, 90, 400)), unit="D")
    path = tmp_path / "export.csv"
    pd.DataFrame({"channel": rng.choice(["paid_search", "webinars"], 400), "created_at": created.round("s")}).to_csv(path, index=False)
    target = tmp_path / "company.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    header = text.split("extends:")[0]
    for key in ["seasonality.month: not estimated: the inquiries cover", "follow_up.follow_up_rate: not estimated: needs",
                "customers.monthly_churn: not estimated", "channels.webinars.deal_size: not estimated"]:
        assert f"#   {key}" in header, key
    scenario = load_scenario(target)
    base = load_scenario(BASELINE)
    assert scenario.follow_up.follow_up_rate == base.follow_up.follow_up_rate
    assert scenario.seasonality.month == base.seasonality.month
    assert scenario.channels["webinars"].deal_size == base.channels["paid_search"].deal_size
    assert scenario.channels["outbound"].leads_per_week == 0
    assert "Kept at the baseline" in result.output


def test_an_export_without_valid_rows_exits_2_after_writing_the_report(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("channel,created_at\n,2025-01-06 10:00\nweb,someday\n")
    target = tmp_path / "x.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(target)])
    assert result.exit_code == 2 and "no valid rows left" in result.output and "Traceback" not in result.output
    assert len(pd.read_csv(target.with_suffix(".bad-rows.csv"))) == 2 and not target.exists()

"""Careless and hostile CRM exports: bad rows are reported row by row, unreadable files get one
clear message (exit 2), and nothing an export holds can crash the calibration."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import BASELINE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnelsim import load_scenario
from funnelsim.cli import main
from funnelsim.config.errors import ParameterError
from funnelsim.studies.calibration import calibrate
from funnelsim.studies.crm_export import (
    STAGES,
    ExportMapping,
    load_mapping,
    read_export,
)

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
START = pd.Timestamp("2024-01-08 09:00")  # three years of inquiries from here end before next year


def export(n: int, span_days: float = 365, seed: int = 0, shape: float = 1.0) -> pd.DataFrame:
    """A plain export: lead id, channel, inquiry and MQL times (seeded, so realistic, not adversarial)."""
    rng = np.random.default_rng(seed)
    created = START + pd.to_timedelta(np.sort(rng.uniform(0, 1, n)) ** shape * span_days, unit="D")
    return pd.DataFrame({
        "lead_id": [f"L{i:05d}" for i in range(n)],
        "channel": rng.choice(["paid_search", "events"], n),
        "created_at": created.round("min").strftime("%Y-%m-%d %H:%M"),
        "mql_at": (created + pd.Timedelta(hours=2)).round("min").strftime("%Y-%m-%d %H:%M"),
    })


def calibrate_cli(path, tmp_path, *extra: str):
    return CliRunner().invoke(main, ["calibrate", str(path), "--out", str(tmp_path / "out" / "company.yaml"), *extra])


def one_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# --- implausible dates ----------------------------------------------------------------------------


@FAST
@given(n=st.integers(50, 400), span=st.floats(1, 1100), shape=st.floats(1 / 3, 3), seed=st.integers(0, 10**6))
def test_real_inquiry_dates_are_never_implausible(tmp_path, n, span, shape, seed):
    """Exports over a day to three years, with volumes steady, growing or shrinking."""
    path = tmp_path / "e.csv"
    export(n, span, seed, shape).to_csv(path, index=False)
    assert read_export(path).rows_skipped == 0


def _typo_year(draw_year: int, text: str) -> str:
    return f"{draw_year:04d}" + text[4:]


@FAST
@given(n=st.integers(60, 300), seed=st.integers(0, 10**6), data=st.data())
def test_mistyped_years_are_bad_rows_and_the_window_comes_from_the_rest(tmp_path, n, seed, data):
    """Years 0001 to 1989, or beyond next year up to 9999 (2205 for 2025), in up to 4% of rows and in
    any stage column: each is reported at its row, and the inquiries kept span what the clean export spans."""
    clean = export(n, 365, seed)
    broken = clean.copy()
    years = st.one_of(st.integers(1, 1989), st.integers(dt.date.today().year + 2, 9999), st.just(2205))
    rows = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=max(1, n // 25), unique=True), label="rows")
    column = {row: data.draw(st.sampled_from(["created_at", "mql_at"]), label="column") for row in rows}
    for row in rows:
        broken.loc[row, column[row]] = _typo_year(data.draw(years, label="year"), broken.loc[row, column[row]])
    path = tmp_path / "e.csv"
    broken.to_csv(path, index=False)
    checked = read_export(path)
    report = checked.bad_rows.set_index("row")
    assert set(report.index) == {row + 1 for row in rows}
    implausible = report["problem"].str.fullmatch(r"implausible date \(outside \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d, "
                                                  r"the span of the inquiries with a margin\)")
    # a typo can also make a date that does not exist (29 February of a year that is not a leap year)
    no_such_day = report["value"].map(lambda text: pd.isna(pd.to_datetime(text, errors="coerce")))
    assert (implausible | (no_such_day & (report["problem"] == "unparseable date"))).all()
    for row in rows:
        assert report.loc[row + 1, "column"] == column[row] and report.loc[row + 1, "value"] == broken.loc[row, column[row]]
    kept = checked.leads["created_at"]
    expected = pd.to_datetime(clean.drop(index=rows)["created_at"])
    assert kept.min() == expected.min() and kept.max() == expected.max()


def test_one_year_2205_no_longer_shrinks_the_arrival_rates(tmp_path):
    clean = export(800, 365, 3)
    path = tmp_path / "e.csv"
    clean.to_csv(path, index=False)
    rate = calibrate(read_export(path), load_scenario(BASELINE)).estimates.set_index("key").loc["channels.events.leads_per_week", "value"]
    clean.loc[100, "created_at"] = "2205" + clean.loc[100, "created_at"][4:]
    clean.to_csv(path, index=False)
    checked = read_export(path)
    assert checked.rows_skipped == 1
    again = calibrate(checked, load_scenario(BASELINE)).estimates.set_index("key").loc["channels.events.leads_per_week", "value"]
    assert again == pytest.approx(rate, rel=0.02)


# --- duplicate lead ids, outcomes listed twice --------------------------------------------------


@FAST
@given(ids=st.lists(st.sampled_from(["A-1", "A-2", "B-7", " A-1", "C-3", ""]), min_size=1, max_size=30))
def test_a_lead_id_seen_before_is_a_bad_row_and_the_first_is_kept(tmp_path, ids):
    frame = export(len(ids), 30)
    frame["lead_id"] = ids
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    checked = read_export(path)
    stripped = [i.strip() for i in ids]
    seen, repeats = set(), set()
    for row, lead in enumerate(stripped, 1):
        if lead and lead in seen:
            repeats.add(row)
        seen.add(lead)
    reported = checked.bad_rows[checked.bad_rows["problem"] == "lead_id seen in an earlier row (the first is kept)"]
    assert set(reported["row"]) == repeats
    named = [i for i in checked.leads["lead_id"].str.strip() if i]
    assert len(named) == len(set(named)) and set(named) == {i for i in stripped if i}


@FAST
@given(word=st.text(st.characters(min_codepoint=65, max_codepoint=122), min_size=1, max_size=12),
       spelling=st.sampled_from([str.upper, str.lower, str.title, lambda w: f" {w} "]))
def test_an_outcome_listed_as_both_won_and_lost_is_refused(tmp_path, word, spelling):
    path = tmp_path / "mapping.yaml"
    outcomes = {"won": [word, "Closed Won"], "lost": ["Closed Lost", spelling(word)]}
    path.write_text(yaml.safe_dump({"outcomes": outcomes}, sort_keys=False))
    with pytest.raises(ParameterError) as caught:
        load_mapping(path)
    (line,) = caught.value.lines
    assert line.startswith(f"{path}: outcomes.lost: ") and f"{spelling(word)!r} is also listed under won" in line


# --- files that are not a readable export ---------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (b"", "empty file; expected a header row naming the columns, then one row per lead"),
    (b"\n\n  \n", "empty file; expected a header row naming the columns, then one row per lead"),
    ("channel,created_at\nsal\xe9s,2025-01-06 10:00\n".encode("latin-1"),
     "not UTF-8 text (byte 0xe9 at offset 22: Latin-1 or Windows-1252 text, perhaps); save it as UTF-8"),
    (b"PK\x03\x04 rest of a workbook", "an Excel workbook, not a CSV or parquet export; save it as 'CSV UTF-8'"),
    (b"Lead ID;Source;Created\nL1;web;2025-01-06\n", "looks semicolon-separated: the header is one column"),
    (b"Lead ID\tSource\tCreated\nL1\tweb\t2025-01-06\n", "looks tab-separated: the header is one column"),
    (b"channel,created_at,channel\nweb,2025-01-06,x\n", "column 'channel' appears twice in the header; rename one"),
], ids=["empty", "blank", "latin-1", "xlsx", "semicolons", "tabs", "duplicate-column"])
def test_an_unreadable_csv_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    line = one_error(calibrate_cli(path, tmp_path))
    assert line.startswith(f"{path}: ") and message in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, content, message", [
    ("export.parquet", b"channel,created_at\nweb,2025-01-06\n", "named .parquet but not a parquet file (it starts with "
     "'channel,created_at\\nw'); if it is a CSV export, rename it to .csv"),
    ("export.parquet", b"PAR1 and then nothing", "not a readable parquet file: "),
    ("export.xlsx", b"a,b\n", "unsupported file type '.xlsx'; allowed: .csv, .parquet"),
])
def test_a_file_that_is_not_what_its_name_says_is_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert message in one_error(calibrate_cli(path, tmp_path))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_utf_16_and_a_utf_8_byte_order_mark_read_like_utf_8(tmp_path, encoding):
    frame = export(40, 60)
    frame.loc[3, "channel"] = "salés"
    plain, other = tmp_path / "plain.csv", tmp_path / "other.csv"
    frame.to_csv(plain, index=False)
    frame.to_csv(other, index=False, encoding=encoding)
    pd.testing.assert_frame_equal(read_export(other).leads, read_export(plain).leads)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_a_delimiter_named_in_the_mapping_reads_like_commas(tmp_path, delimiter):
    frame = export(40, 60)
    plain, other = tmp_path / "plain.csv", tmp_path / "other.csv"
    frame.to_csv(plain, index=False)
    frame.to_csv(other, index=False, sep=delimiter)
    mapping = ExportMapping(delimiter=delimiter)
    pd.testing.assert_frame_equal(read_export(other, mapping).leads, read_export(plain).leads)


@FAST
@given(cuts=st.dictionaries(st.integers(0, 29), st.integers(-3, 3).filter(bool), min_size=1, max_size=8))
def test_ragged_rows_are_bad_rows_at_their_own_numbers(tmp_path, cuts):
    """Rows with fields missing or extra are reported as such; every other row keeps its number."""
    frame = export(30, 60)
    lines = [",".join(frame.columns)]
    for i, row in enumerate(frame.astype(str).itertuples(index=False)):
        fields = list(row)
        change = cuts.get(i, 0)
        fields = fields + ["x"] * change if change > 0 else fields[:len(fields) + change]
        lines.append(",".join(fields))
    lines.append("L99999,web,not a date,")  # a bad date after the ragged rows: reported at its own row
    path = tmp_path / "e.csv"
    path.write_text("\n".join(lines) + "\n")
    report = read_export(path).bad_rows
    ragged = report[report["column"] == "(whole row)"]
    assert set(ragged["row"]) == {i + 1 for i in cuts}
    for row, change in ((i + 1, c) for i, c in cuts.items()):
        word = "more" if change > 0 else "fewer"
        assert ragged.set_index("row").loc[row, "problem"] == f"a row of {word} fields than the header's 4"
    assert report[report["problem"] == "unparseable date"]["row"].tolist() == [31]


@FAST
@given(letter=st.sampled_from("QKLOPRTeEghiklnoqrstvCDF"), before=st.sampled_from(["", "%Y-%m-%d ", "%d/%m/%Y "]))
def test_a_timestamp_format_that_is_not_one_is_refused_at_the_mapping(tmp_path, letter, before):
    path = tmp_path / "mapping.yaml"
    fmt = f"{before}%{letter}"
    path.write_text(yaml.safe_dump({"timestamp_format": fmt}))
    with pytest.raises(ParameterError) as caught:
        load_mapping(path)
    (line,) = caught.value.lines
    assert line.startswith(f"{path}: timestamp_format: {fmt!r}: not a date format (")
    assert line.endswith("allowed: strftime codes such as '%Y-%m-%d %H:%M' or '%d/%m/%Y %H:%M'")


@FAST
@given(serials=st.lists(st.integers(20_000, 80_000), min_size=1, max_size=5))
def test_excel_serial_dates_get_a_hint(tmp_path, serials):
    frame = export(len(serials) + 3, 30)
    for i, serial in enumerate(serials):
        frame.loc[i, "created_at"] = str(serial)
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    problems = read_export(path).bad_rows["problem"]
    assert (problems == f"unparseable date (numbers like {serials[0]} look like Excel serial dates: format the column "
                        "as dates, e.g. yyyy-mm-dd hh:mm, before exporting)").sum() == len(serials)


# --- typed exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["naive", "utc", "dates"])
def test_a_typed_parquet_export_is_read_whatever_the_mapping_s_format(tmp_path, kind):
    """Real timestamp columns need no parsing: the example mapping's text format must not reject them."""
    frame = export(50, 90)
    typed = frame.copy()
    for column in ("created_at", "mql_at"):
        times = pd.to_datetime(frame[column])
        typed[column] = {"naive": times, "utc": times.dt.tz_localize("UTC"), "dates": times.dt.date}[kind]
    path = tmp_path / "export.parquet"
    typed.to_parquet(path)
    mapping = ExportMapping(timestamp_format="%Y-%m-%d %H:%M")
    checked = read_export(path, mapping)
    assert checked.rows_skipped == 0 and len(checked.leads) == 50
    expected = pd.to_datetime(frame["created_at"])
    expected = expected.dt.normalize() if kind == "dates" else expected
    assert (checked.leads["created_at"].to_numpy() == expected.to_numpy()).all()


# --- degenerate data: a clear "cannot estimate", never a crash -------------------------------------


def test_every_stage_at_the_same_instant_keeps_the_baseline_and_says_why(tmp_path):
    frame = export(300, 200, 5)
    for stage in STAGES[1:-1]:
        frame[stage] = frame["created_at"]
    frame["outcome"], frame["amount"] = np.where(np.arange(300) % 3, "won", "lost"), 1000.0
    path = tmp_path / "same.csv"
    frame.to_csv(path, index=False)
    result = calibrate_cli(path, tmp_path)
    assert result.exit_code == 0, result.output
    assert "Cannot estimate follow_up.contact_decay: every lead has the same age (0 h; stages stamped at the same instant?)" in result.output
    scenario = load_scenario(tmp_path / "out" / "company.yaml")
    base = load_scenario(BASELINE)
    assert scenario.follow_up.contact_decay == base.follow_up.contact_decay
    assert scenario.channels["events"].deal_size.model_dump()["dist"] == "constant"


STAGE_TIMES = st.sampled_from(["same", "hour", "random", "none"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.sampled_from([1, 3, 60, 150]), seed=st.integers(0, 10**6), gaps=st.lists(STAGE_TIMES, min_size=10, max_size=10),
       won=st.sampled_from([0.0, 0.5, 1.0]), amounts=st.sampled_from(["same", "spread"]))
def test_degenerate_exports_calibrate_or_say_why(tmp_path, n, seed, gaps, won, amounts):
    """Stages at the same instant, a fixed hour apart or random; outcomes all won, all lost or
    mixed; identical amounts: the calibration writes a valid scenario, or exits 2 saying why."""
    rng = np.random.default_rng(seed)
    frame = export(n, 120, seed).drop(columns="mql_at")
    t = pd.to_datetime(frame["created_at"])
    for stage, gap in zip(STAGES[1:11], gaps):
        if gap == "none":
            continue
        step = {"same": np.zeros(n), "hour": np.ones(n), "random": rng.exponential(30, n)}[gap]
        t = t + pd.to_timedelta(step, unit="h")
        frame[stage] = t.dt.strftime("%Y-%m-%d %H:%M:%S")
    if "closed_at" in frame:
        frame["outcome"] = np.where(rng.random(n) < won, "won", "lost")
        frame["amount"] = 5000.0 if amounts == "same" else rng.lognormal(9, 1, n)
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    result = calibrate_cli(path, tmp_path)
    assert "Traceback" not in result.output and result.exit_code in (0, 2), result.output
    if result.exit_code == 0:
        load_scenario(tmp_path / "out" / "company.yaml")


def test_a_simulated_run_calibrates_from_the_command_line(tmp_path):
    """`funnelsim run` writes model days; `funnelsim calibrate <run>/leads.parquet` reads its first
    replication as a CRM export dated from the run's start month, and recovers the lead volume."""
    runner = CliRunner()
    settings = ["--set", "simulation.horizon_days=56", "--set", "simulation.warmup_days=0", "--set", "simulation.start_month=3"]
    ran = runner.invoke(main, ["run", str(BASELINE), "-r", "2", "--out", str(tmp_path / "run"), *settings])
    assert ran.exit_code == 0, ran.output
    assert "funnelsim calibrate" in ran.output
    out = tmp_path / "calibrated.yaml"
    result = runner.invoke(main, ["calibrate", str(tmp_path / "run" / "leads.parquet"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "read as the CRM export of one company: replication 0 of 2, day 0 dated Monday 03 March 2025" in result.output
    assert "unparseable" not in result.output
    leads = pd.read_parquet(tmp_path / "run" / "leads.parquet")
    seen = leads[leads["replication"] == 0]["channel"].astype(str).value_counts() / 8  # a week's leads of replication 0
    calibrated = load_scenario(out)
    for name, weekly in seen.items():  # the estimate is that company's own rate, within a Poisson 99.9% band
        estimate = calibrated.channels[name].leads_per_week
        assert abs(estimate - weekly) <= 3.3 * (weekly / 8) ** 0.5, (name, estimate, weekly)


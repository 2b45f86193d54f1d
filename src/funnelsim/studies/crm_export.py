"""Reading a CRM export: one row per lead, a timestamp per funnel stage, checked row by row.

Analysts start from their own data: an export of leads from the CRM or marketing automation
tool, with the channel, the moment the lead came in, the moment it became an MQL, was handed
to sales, accepted, first called, reached, qualified, became an opportunity, moved through the
deal stages and closed, the outcome and the amount. Column names differ from tool to tool, so a
small YAML mapping says which export column holds which field, the export's words for a won
and a lost deal, how its dates are written and, for times with a UTC offset, the company's time
zone, so that hours and weekdays are the company's own (see ``examples/``).

Every row is checked (with pandera): an unreadable date, a date far outside the export's
inquiries (a year typed 2205 for 2025), stages out of order (an SQL before its MQL), a negative
amount, an unknown outcome, a missing channel, a lead id seen before, a row with more or fewer
fields than the header. Bad rows are never dropped silently: each problem is reported with its
row number, column and value, and the row is left out of the estimates and counted. A missing
required column, a bad mapping file or a file that is not a readable export (not UTF-8 or
UTF-16 text, empty, an Excel workbook, a CSV named .parquet, separated by semicolons or tabs
without saying so) is an error that names the file, the column and what is allowed.

``to_crm_export`` goes the other way: it turns a simulated leads table into such an export,
with real timestamps, which is how the example file and the round-trip tests are made; and a
leads table written by ``funnelsim run`` is read as such an export (its first replication, dated
from the run's start month), so ``funnelsim calibrate reports/runs/<run>/leads.parquet`` works.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow_lib
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from funnelsim.config.errors import ParameterError
from funnelsim.config.loading import KeyRuleError, load_validated
from funnelsim.config.yaml_files import decode_text, read_bytes
from funnelsim.model.stages import TIMELINE

__all__ = ["FIELDS", "STAGES", "ExportMapping", "CheckedExport", "load_mapping", "read_export", "to_crm_export"]

# Our field: what it holds. The stage timestamps, in funnel order (a CRM has no record of an
# SQL that bought elsewhere while it waited for an account executive).
STAGES = [name for name in TIMELINE if name != "lapsed_at"]
FIELDS: dict[str, str] = {
    "lead_id": "the lead's id in the CRM (optional; row numbers are used otherwise)",
    "channel": "channel or lead source (required)",
    "created_at": "first inquiry (required)",
    "mql_at": "became a marketing-qualified lead",
    "handed_off_at": "reached sales (routed or exported)",
    "sal_at": "accepted by sales",
    "first_touch_at": "first call or email by sales",
    "contacted_at": "first real conversation",
    "sql_at": "sales-qualified",
    "opportunity_at": "deal opened (value demonstration starts)",
    "objection_handling_at": "deal entered objection handling",
    "negotiation_at": "deal entered negotiation and close",
    "closed_at": "deal won or lost",
    "outcome": "won or lost (empty while open)",
    "amount": "deal amount (annual contract value), not negative",
    "churned_at": "customer left",
    "cost": "cost of acquiring the lead (optional; gives cost per lead per channel)",
}
REQUIRED = ["channel", "created_at"]
MAX_EXPORT_BYTES = 200_000_000  # about a million leads; pandas needs several times the file in memory
EARLIEST = pd.Timestamp("1990-01-01")  # no CRM export holds a real inquiry before this


class ExportMapping(BaseModel):
    """Which export column holds which field, and how outcomes and dates are written."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    columns: dict[str, str] = Field(default_factory=dict)
    outcomes: dict[str, list[str]] = Field(default_factory=lambda: {"won": ["won"], "lost": ["lost"]})
    timestamp_format: str | None = None
    dayfirst: bool = False
    timezone: str | None = None  # the company's local time zone; times with a UTC offset are converted to it
    delimiter: Literal[",", ";", "\t", "|"] = ","  # what separates the fields of a CSV export
    description: str = ""

    @field_validator("timestamp_format")
    @classmethod
    def _a_date_format(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                pd.to_datetime(pd.Series(["2025-01-06 10:00"]), format=value, errors="coerce")
            except (ValueError, TypeError) as exc:
                raise ValueError(f"not a date format ({exc}); allowed: strftime codes such as '%Y-%m-%d %H:%M' "
                                 "or '%d/%m/%Y %H:%M'") from None
        return value

    @model_validator(mode="after")
    def _one_outcome_per_word(self) -> "ExportMapping":
        seen: dict[str, str] = {}
        problems = []
        for outcome, words in self.outcomes.items():
            for word in words:
                other = seen.setdefault(word.strip().lower(), outcome)
                if other != outcome:
                    problems.append((f"outcomes.{outcome}", f"{word!r} is also listed under {other}: a deal cannot "
                                     "be both; list each word under one outcome"))
        if problems:
            raise KeyRuleError(*problems)
        return self


@dataclass
class CheckedExport:
    """An export after the row checks: the clean rows, and every problem found."""

    source: str
    leads: pd.DataFrame  # our field names; stage times as timestamps; outcome 'won'/'lost'/None
    bad_rows: pd.DataFrame  # row (1 = first data row), lead_id, column, value, problem
    total_rows: int
    note: str = ""  # what was done to the file before the checks (a simulated run read as an export)

    @property
    def rows_skipped(self) -> int:
        return int(self.bad_rows["row"].nunique()) if len(self.bad_rows) else 0

    def summary(self) -> str:
        lead = f"{self.note}\n" if self.note else ""
        if not self.rows_skipped:
            return f"{lead}{self.source}: {self.total_rows:,} rows, all valid."
        problems = self.bad_rows["problem"].value_counts()
        listed = "; ".join(f"{count} x {problem}" for problem, count in problems.items())
        return (
            f"{lead}{self.source}: {self.total_rows:,} rows; {self.rows_skipped:,} skipped for {len(self.bad_rows):,} "
            f"problems ({listed}); {len(self.leads):,} used."
        )


def load_mapping(path: str | Path | None) -> ExportMapping:
    """Read a mapping file (or the identity mapping when ``path`` is None)."""
    if path is None:
        return ExportMapping()
    label = str(path)
    mapping = load_validated(path, ExportMapping)
    problems = [
        f"{label}: columns.{field}: unknown field; allowed: {', '.join(FIELDS)}" for field in mapping.columns if field not in FIELDS
    ]
    problems += [
        f"{label}: outcomes.{key}: unknown outcome; allowed: won, lost" for key in mapping.outcomes if key not in ("won", "lost")
    ]
    if mapping.timezone is not None and not _known_zone(mapping.timezone):
        problems.append(f"{label}: timezone: {mapping.timezone!r}: unknown time zone; allowed: an IANA name such as "
                        "Europe/Berlin, America/New_York or UTC")
    if problems:
        raise ParameterError(problems)
    return mapping


def _read_table(path: Path, mapping: ExportMapping) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The export as a table, with a problem for every row whose number of fields differs from
    the header's (such a row is kept, padded or cut, so that row numbers stay the file's)."""
    label = str(path)
    data = read_bytes(path, label, MAX_EXPORT_BYTES, "CRM exports (about a million leads; split a larger export by date)")
    suffix = path.suffix.lower()
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ParameterError([f"{label}: an Excel workbook, not a CSV or parquet export; save it as 'CSV UTF-8'"])
    if data.startswith(b"PAR1"):
        try:
            return pd.read_parquet(io.BytesIO(data)), []
        except (pyarrow_lib.ArrowException, OSError, ValueError) as exc:
            raise ParameterError([f"{label}: not a readable parquet file: {str(exc)[:200]}"]) from None
    if suffix in (".parquet", ".pq"):
        start = data[:20].decode("utf-8", "replace")
        raise ParameterError([f"{label}: named {suffix} but not a parquet file (it starts with {start!r}); "
                              "if it is a CSV export, rename it to .csv"])
    if suffix not in (".csv", ".txt", ".tsv"):
        raise ParameterError([f"{label}: unsupported file type {suffix!r}; allowed: .csv, .parquet"])
    return _read_csv(_export_text(data, label), label, mapping.delimiter)


def _export_text(data: bytes, label: str) -> str:
    """UTF-8 text, or UTF-16 when the file starts with its byte order mark (as Excel writes it)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParameterError([f"{label}: not UTF-16 text after its byte order mark (at offset {exc.start}); "
                                  "save it as UTF-8"]) from None
    return decode_text(data, label)


_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _read_csv(text: str, label: str, delimiter: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if "".join(row).strip()]
    except csv.Error as exc:
        raise ParameterError([f"{label}: not a readable CSV file: {exc}"]) from None
    if not rows:
        raise ParameterError([f"{label}: empty file; expected a header row naming the columns, then one row per lead"])
    header = rows[0]
    if len(header) == 1:
        for sign, name in _SEPARATORS.items():
            if sign != delimiter and sign in header[0]:
                shown = repr(sign).replace("'", '"')
                raise ParameterError([
                    f"{label}: looks {name}-separated: the header is one column, {header[0][:60]!r}; add "
                    f"'delimiter: {shown}' to the mapping (--mapping), or save the export comma-separated"
                ])
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise ParameterError([f"{label}: column {name!r} appears twice in the header; rename one" for name in twice])
    problems = []
    width = len(header)
    for number, row in enumerate(rows[1:], 1):
        if len(row) != width:
            problems.append({"row": number, "column": "(whole row)", "value": delimiter.join(row)[:200],
                             "problem": f"a row of {'more' if len(row) > width else 'fewer'} fields than the header's {width}",
                             "field": "(row)"})
            rows[number] = (row + [""] * width)[:width]
    return pd.DataFrame(rows[1:], columns=header, dtype=str), problems


def _problems(failures: pd.Index, column: str, problem: str, raw: pd.DataFrame, source_column: str) -> list[dict[str, Any]]:
    return [
        {"row": int(i) + 1, "column": source_column, "value": raw.at[i, source_column] if source_column in raw else "",
         "problem": problem, "field": column}
        for i in failures
    ]


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _to_datetime(text: pd.Series, mapping: ExportMapping, utc: bool) -> pd.Series:
    """Timestamps in the mapping's format, or ISO 8601, or (for what is left) any format pandas reads."""
    if mapping.timestamp_format:
        return pd.to_datetime(text, errors="coerce", format=mapping.timestamp_format, utc=utc)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=utc)
    left = text.notna() & parsed.isna()
    if left.any():
        parsed[left] = pd.to_datetime(text[left], errors="coerce", format="mixed", dayfirst=mapping.dayfirst, utc=utc)
    return parsed


def _parse_times(text: pd.Series, mapping: ExportMapping) -> pd.Series:
    """Local wall-clock times, as the hour and weekday profiles need them. Times with a UTC
    offset (e.g. summer and winter time in one column) are converted to the mapping's time zone
    (UTC if it names none); times without one are taken as local already. A column that mixes
    both is read with the offset-free times as UTC."""
    try:
        parsed = _to_datetime(text, mapping, utc=False)
    except (ValueError, TypeError):  # several UTC offsets, or offsets beside times without one
        parsed = _to_datetime(text, mapping, utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(mapping.timezone or "UTC").dt.tz_localize(None)
    return parsed


def _typed_times(column: pd.Series) -> bool:
    """True for a column of real timestamps or dates (a typed export), not of text."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    values = column.dropna()
    return column.dtype == object and len(values) > 0 and bool(values.map(lambda v: isinstance(v, dt.date)).all())


_SERIAL = re.compile(r"\d{5}(\.\d+)?")


def _unparseable(values: pd.Series) -> str:
    """The problem for dates that could not be read, with a hint for Excel's serial dates."""
    serial = values[values.str.fullmatch(_SERIAL).fillna(False)]
    serial = serial[serial.astype(float).between(20_000, 80_000)]  # 1954 to 2119
    if len(serial):
        return (f"unparseable date (numbers like {serial.iloc[0]} look like Excel serial dates: format the column "
                "as dates, e.g. yyyy-mm-dd hh:mm, before exporting)")
    return "unparseable date"


def _implausible_dates(data: pd.DataFrame, stages: list[str], raw: pd.DataFrame, source: dict[str, str]) -> list[dict[str, Any]]:
    """Dates far outside the export's inquiries (a year typed 2205 for 2025): outside the span of
    the middle 90% of the inquiry dates widened by that span (at least 90 days) each way, and
    never before 1990 nor more than a year from today. A few wrong years cannot move the 5% and
    95% quantiles, so they cannot widen the window that judges them. The dates found are
    blanked (their rows are skipped), so they raise no other problem."""
    created = data["created_at"].dropna()
    if created.empty:
        return []
    q05, q95 = created.quantile(0.05), created.quantile(0.95)
    margin = max(q95 - q05, pd.Timedelta(days=90))
    low = max(q05 - margin, EARLIEST)
    high = min(q95 + margin, pd.Timestamp.now().normalize() + pd.DateOffset(years=1))
    problem = f"implausible date (outside {low:%Y-%m-%d} to {high:%Y-%m-%d}, the span of the inquiries with a margin)"
    found = []
    for field in stages:
        bad = data[field].notna() & ((data[field] < low) | (data[field] > high))
        found += _problems(data.index[bad], field, problem, raw, source[field])
        data.loc[bad, field] = pd.NaT
    return found


def _order_check(stage: str, earlier: list[str]) -> pa.Check:
    """A row fails if ``stage`` is stamped before any earlier stage it has."""

    def in_order(frame: pd.DataFrame) -> pd.Series:
        ok = pd.Series(True, index=frame.index)
        for before in earlier:
            ok &= ~(frame[stage] < frame[before])
        return ok

    return pa.Check(in_order, name=f"{stage} before an earlier stage ({', '.join(earlier)})")


def _schema(data: pd.DataFrame) -> pa.DataFrameSchema:
    """The row checks for the fields this export has."""
    stages = [s for s in STAGES if s in data]
    columns: dict[str, pa.Column] = {
        "channel": pa.Column(nullable=False),
        "created_at": pa.Column(nullable=False),
    }
    if "amount" in data:
        columns["amount"] = pa.Column(float, nullable=True, checks=pa.Check.ge(0))
    if "cost" in data:
        columns["cost"] = pa.Column(float, nullable=True, checks=pa.Check.ge(0))
    checks = [_order_check(stage, stages[:i]) for i, stage in enumerate(stages) if i and stage != "churned_at"]
    if "churned_at" in data and "closed_at" in data:
        checks.append(_order_check("churned_at", [s for s in stages if s != "churned_at"]))
    if "outcome" in data and "closed_at" in data:
        checks.append(pa.Check(lambda f: f["closed_at"].isna() | f["outcome"].notna(), name="outcome missing for a closed deal"))
        checks.append(pa.Check(lambda f: f["closed_at"].notna() | f["outcome"].isna(), name="closed_at missing for a deal with an outcome"))
    if "outcome" in data and "churned_at" in data:
        checks.append(pa.Check(lambda f: f["churned_at"].isna() | (f["outcome"] == "won"), name="churned_at without a won deal"))
    return pa.DataFrameSchema(columns, checks=checks, coerce=False, strict=False)


def _row_checks(data: pd.DataFrame, raw: pd.DataFrame, source: dict[str, str]) -> list[dict[str, Any]]:
    """Every row-level problem pandera finds, as report rows."""
    try:
        _schema(data).validate(data, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    problems = []
    for case in cases.drop_duplicates(["index", "check"]).itertuples():
        if pd.isna(case.index):
            continue  # a column-level problem (e.g. a wrong dtype) is reported through its rows
        check = str(case.check)
        first_word = check.split(" ")[0]
        field = first_word if first_word in source else str(case.column)
        if check.startswith("not_nullable"):
            check = f"missing {field}"
        elif check.startswith("greater_than_or_equal_to"):
            check = f"negative {field}"
        row = int(case.index)
        problems.append({"row": row + 1, "column": source[field], "value": raw.at[row, source[field]] if source[field] in raw else "",
                         "problem": check, "field": field})
    return problems


def read_export(path: str | Path, mapping: ExportMapping | None = None, mapping_label: str = "the mapping") -> CheckedExport:
    """Read and check an export: the clean rows with our field names, and a report of bad rows."""
    path = Path(path)
    mapping = mapping or ExportMapping()
    if not path.is_file():
        raise ParameterError([f"{path}: file not found"])
    raw, problems = _read_table(path, mapping)
    note = ""
    if _SIMULATED <= set(raw.columns) and pd.api.types.is_float_dtype(raw["created_at"]):
        raw, note = _simulated_run_as_export(raw, path)
    raw = raw.reset_index(drop=True)
    source = {field: mapping.columns.get(field, field) for field in FIELDS}
    unmapped = [field for field, column in mapping.columns.items() if column not in raw.columns]
    if unmapped:
        raise ParameterError([
            f"{mapping_label}: columns.{f}: {mapping.columns[f]!r}: no such column in {path}; the file has: {', '.join(map(str, raw.columns))}"
            for f in unmapped
        ])
    missing = [f for f in REQUIRED if source[f] not in raw.columns]
    if missing:
        raise ParameterError([
            f"{path}: column {source[f]!r} (field {f}: {FIELDS[f]}) is missing; the file has: {', '.join(map(str, raw.columns))}; "
            f"map it in {mapping_label} under columns: {f}: <your column>"
            for f in missing
        ])
    present = [f for f in FIELDS if source[f] in raw.columns]
    data = pd.DataFrame({f: raw[source[f]] for f in present})

    stages = [f for f in STAGES if f in data]
    for field in stages:
        if _typed_times(data[field]):  # a typed export (parquet): real timestamps, nothing to parse
            parsed = pd.to_datetime(data[field], errors="coerce")
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert(mapping.timezone or "UTC").dt.tz_localize(None)
            data[field] = parsed
            continue
        text = data[field].astype("string").str.strip().replace("", pd.NA)
        parsed = _parse_times(text, mapping)
        bad = text.notna() & parsed.isna()
        problems += _problems(data.index[bad], field, _unparseable(text[bad]), raw, source[field])
        data[field] = parsed
    problems += _implausible_dates(data, stages, raw, source)
    if "lead_id" in data:
        ids = data["lead_id"].astype("string").str.strip()
        again = ids.notna() & (ids != "") & ids.duplicated(keep="first")
        problems += _problems(data.index[again], "lead_id", "lead_id seen in an earlier row (the first is kept)", raw,
                              source["lead_id"])
    if "amount" in data:
        text = data["amount"].astype("string").str.strip().replace("", pd.NA)
        number = pd.to_numeric(text, errors="coerce")
        problems += _problems(data.index[text.notna() & number.isna()], "amount", "not a number", raw, source["amount"])
        data["amount"] = number
    if "cost" in data:
        text = data["cost"].astype("string").str.strip().replace("", pd.NA)
        number = pd.to_numeric(text, errors="coerce")
        problems += _problems(data.index[text.notna() & number.isna()], "cost", "not a number", raw, source["cost"])
        data["cost"] = number
    if "outcome" in data:
        lookup = {value.strip().lower(): key for key, values in mapping.outcomes.items() for value in values}
        text = data["outcome"].astype("string").str.strip()
        coded = text.str.lower().map(lookup)
        unknown = text.notna() & (text != "") & coded.isna()
        allowed = ", ".join(v for values in mapping.outcomes.values() for v in values)
        problems += _problems(data.index[unknown], "outcome", f"unknown outcome (allowed: {allowed}, or empty)", raw, source["outcome"])
        data["outcome"] = coded.astype(object).where(coded.notna(), None)
    data["channel"] = data["channel"].astype("string").str.strip().replace("", pd.NA)

    unreadable = {(p["row"], p["field"]) for p in problems}
    problems += [p for p in _row_checks(data, raw, source) if (p["row"], p["field"]) not in unreadable]
    bad_rows = pd.DataFrame(problems, columns=["row", "column", "value", "problem", "field"])
    if "lead_id" in data:
        bad_rows.insert(1, "lead_id", data["lead_id"].reindex(bad_rows["row"] - 1).to_numpy())
    bad_rows = bad_rows.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    skipped = set(bad_rows["row"] - 1)
    clean = data.drop(index=sorted(skipped)).reset_index(drop=True)
    return CheckedExport(str(path), clean, bad_rows, len(raw), note)


_SIMULATED = {"replication", "lead_id", "arrival_number", "created_at", "status"}  # a funnelsim leads table
REFERENCE_YEAR = 2025  # the calendar a simulated run is dated in: day 0 is the first Monday of its start month


def simulated_start(start_month: int = 1) -> pd.Timestamp:
    """The date of a simulation's day 0: the first Monday of ``start_month`` in the reference year."""
    first = pd.Timestamp(year=REFERENCE_YEAR, month=start_month, day=1)
    return first + pd.Timedelta(days=(7 - first.day_of_week) % 7)


def _simulated_run_as_export(leads: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, str]:
    """A leads table written by ``funnelsim run`` (model days, several replications) as the CRM
    export of one company: its first replication, dated from the run's start month (its
    ``manifest.json`` beside it; January without one)."""
    month = 1
    try:
        manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
        month = int(manifest["parameters"]["simulation"]["start_month"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    first = int(leads["replication"].min())
    start = simulated_start(month if 1 <= month <= 12 else 1)
    one = leads[leads["replication"] == first].drop(columns="replication")
    runs = leads["replication"].nunique()
    note = (f"{path}: a funnelsim run's leads table, read as the CRM export of one company: replication {first} "
            f"of {runs}, day 0 dated {start:%A %d %B %Y}.")
    return to_crm_export(one, start), note


def to_crm_export(leads: pd.DataFrame, start: str | pd.Timestamp = "2025-01-06") -> pd.DataFrame:  # simulated_start(1)
    """A simulated leads table as a CRM export: day numbers become timestamps from ``start``
    (a Monday, as day 0 is), the status becomes an outcome, and only what a CRM records is kept."""
    origin = pd.Timestamp(start)
    out = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy() if "replication" not in leads else
                        leads["replication"].astype(str) + "-" + leads["lead_id"].astype(str),
                        "channel": leads["channel"].astype(str).to_numpy()})
    for stage in STAGES:
        out[stage] = (origin + pd.to_timedelta(leads[stage].to_numpy(), unit="D")).round("s")
    status = leads["status"].astype(str).to_numpy()
    out["outcome"] = pd.Series(status).where(pd.Series(status).isin(["won", "lost"]), None).to_numpy()
    out["amount"] = leads["amount"].round(2).to_numpy()
    out["cost"] = leads["acquisition_cost"].to_numpy()
    return out[["lead_id", "channel", *STAGES[:-1], "outcome", "amount", "churned_at", "cost"]]

"""CSV files we write (the bad-row report of a calibration) are safe to open in a spreadsheet:
no cell can run as a formula, and plain numbers, negative ones too, stay readable."""

from __future__ import annotations

import re

import pandas as pd
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelsim.cli import main
from funnelsim.experiments.outputs import spreadsheet_safe

FORMULA = re.compile(r"^\s*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.one_of(st.text(max_size=20), st.sampled_from(["=1+1", "-10", "+3.5", "@SUM(A1)", "\t=x", "\r=x",
                                                                         "-2+3+cmd|' /C calc'!A0", " =HYPERLINK(\"x\")", "＝1"])),
                      min_size=1, max_size=10))
def test_no_cell_of_a_csv_we_write_can_run_as_a_formula(cells):
    frame = pd.DataFrame({"value": cells, "=header": cells})
    safe = spreadsheet_safe(frame)
    for original, written in zip(cells + list(frame.columns), list(safe["value"]) + list(safe.columns)):
        if FORMULA.match(original) and not NUMBER.fullmatch(original):
            assert written == "'" + original
        else:
            assert written == original  # plain text and plain numbers, negative ones too, are as written
    assert list(safe["'=header"]) == list(safe["value"])


def test_the_bad_row_report_is_safe_to_open_in_a_spreadsheet(tmp_path):
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(20)], "channel": "web",
                          "created_at": [f"2025-02-{i + 1:02d} 10:00" for i in range(20)]})
    frame.loc[2, "created_at"] = "=HYPERLINK(\"http://evil\",\"x\")"
    frame.loc[4, "channel"] = ""
    frame.loc[5, "lead_id"], frame.loc[5, "created_at"] = "@cmd", "someday"
    frame["amount"] = "12"
    frame.loc[6, "amount"] = "-10"
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(tmp_path / "out" / "company.yaml")])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "out" / "company.bad-rows.csv", dtype=str, keep_default_na=False)
    cells = written.to_numpy().ravel().tolist()
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in cells and "'@cmd" in cells
    assert "-10" in cells  # a negative amount stays readable
    assert not any(FORMULA.match(cell) and not NUMBER.fullmatch(cell) for cell in cells)

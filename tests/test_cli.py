"""The command line: help everywhere, clear errors with exit status 2, run outputs on disk."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import BASELINE, FUNNELSIM, ROOT

from funnelsim.cli import main
from funnelsim.config.schema import load_scenario, scenario_from_dict

CHANNELS = ("paid_search", "inbound_content", "events", "outbound", "partners")


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A fast scenario: 60 days, 10 of warm-up, a fifth of the baseline's leads."""
    base = load_scenario(BASELINE)
    lines = [
        f"extends: {BASELINE}",
        "name: small",
        "simulation: {horizon_days: 60, warmup_days: 10}",
        "channels:",
        *(f"  {c}: {{leads_per_week: {base.channels[c].leads_per_week / 5:g}}}" for c in CHANNELS),
    ]
    path = tmp_path_factory.mktemp("scenario") / "small.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


# --- help -----------------------------------------------------------------------------------


def test_group_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    for name in main.commands:
        assert name in result.output
    assert {"validate", "run"} <= set(main.commands)


@pytest.mark.parametrize("command", sorted(main.commands))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help(command, flag):
    result = invoke(command, flag)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {command}") or f"{command} [OPTIONS]" in result.output
    no_traceback(result)


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and "funnelsim" in result.output


def test_run_help_documents_set():
    result = invoke("run", "--help")
    for option in ("--replications", "--seed", "--out", "--set", "KEY.PATH=VALUE"):
        assert option in result.output


HEAVY = ("papermill", "nbformat", "nbconvert", "jsonschema", "dask", "distributed", "statsmodels", "seaborn", "matplotlib", "pandas",
         "scipy")


def test_the_cli_and_validate_import_no_heavy_library():
    """`funnelsim validate` runs in well under a second of CPU: nothing it does not use is imported."""
    code = (
        "import sys\n"
        "import funnelsim.cli\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "try:\n"
        f"    funnelsim.cli.main(['validate', {str(BASELINE)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "[]" and lines[1].endswith(": ok") and lines[2] == "[]", done.stdout


def test_the_cli_offers_every_executor():
    from funnelsim.cli import common
    from funnelsim.experiments import execution

    assert common.EXECUTORS == execution.EXECUTORS


# --- validate -------------------------------------------------------------------------------


def test_validate_baseline_ok():
    result = invoke("validate", BASELINE)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{BASELINE}: ok\n"
    assert result.stderr == ""


def test_validate_bad_file_exits_2_with_the_error_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nfollow_up:\n  follow_up_rate: 1.5\n")
    result = invoke("validate", BASELINE, bad)
    assert result.exit_code == 2
    assert f"{BASELINE}: ok" in result.stdout  # the good file is still checked and reported
    assert result.stderr == f"{bad}: follow_up.follow_up_rate: 1.5: input should be less than or equal to 1\n"
    no_traceback(result)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sdr_team:\n  repz: 3\n", ": sdr_team.repz: unknown key; allowed here: reps"),
        ("sdr_team:\n  reps: three\n", ": sdr_team.reps: 'three': input should be a valid integer"),
        ("handoff:\n  latency_hours: {dist: lognorm, median: 1, sigma: 1}\n", ": handoff.latency_hours.dist: 'lognorm': allowed"),
        ("simulation: {warmup_days: 900}\n", "simulation.warmup_days: 900: must be shorter than simulation.horizon_days (540)"),
        ("sdr_team: [1, 2\n", ": line 5, column 1: malformed YAML"),
    ],
    ids=["unknown-key", "wrong-type", "unknown-dist", "warmup", "malformed"],
)
def test_validate_reports_each_kind_of_mistake_without_traceback(tmp_path, text, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"# a comment\nextends: {BASELINE}\nname: bad\n{text}")
    result = invoke("validate", bad)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{bad}")
    assert expected in result.stderr
    no_traceback(result)


def test_validate_missing_file_and_missing_parent(tmp_path):
    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("extends: nowhere.yaml\n")
    result = invoke("validate", tmp_path / "missing.yaml", orphan)
    assert result.exit_code == 2
    assert f"{tmp_path / 'missing.yaml'}: file not found" in result.stderr
    assert f"{orphan}: extends: 'nowhere.yaml': no such file" in result.stderr
    no_traceback(result)


def test_validate_applies_set_to_every_file(tmp_path):
    result = invoke("validate", BASELINE, "--set", "sdr_team.reps=8")
    assert result.exit_code == 0 and "ok" in result.stdout
    result = invoke("validate", BASELINE, "--set", "sdr_team.reps=0")
    assert result.exit_code == 2
    assert f"{BASELINE} (with --set sdr_team.reps=0): sdr_team.reps: 0: " in result.stderr
    result = invoke("validate", BASELINE, "--set", "sdr_team.reps")
    assert result.exit_code == 2
    assert "--set sdr_team.reps: expected key.path=value" in result.stderr
    no_traceback(result)


def test_validate_needs_a_file():
    result = invoke("validate")
    assert result.exit_code == 2 and "Missing argument" in result.output


# --- run ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_run(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "x"
    result = invoke("run", small, "--replications", "2", "--seed", "1", "--out", out)
    return result, out


def test_run_writes_the_tables(small_run):
    result, out = small_run
    assert result.exit_code == 0, result.output
    for name in ("leads.parquet", "daily.parquet", "replications.parquet", "manifest.json"):
        assert (out / name).is_file(), name
    assert not list(out.glob("*.tmp"))  # written atomically, no leftovers
    leads = pd.read_parquet(out / "leads.parquet")
    daily = pd.read_parquet(out / "daily.parquet")
    reps = pd.read_parquet(out / "replications.parquet")
    assert len(leads) > 0 and set(leads["replication"]) == {0, 1}
    assert len(daily) == 2 * 60 and set(daily["replication"]) == {0, 1}
    assert len(reps) == 2 and list(reps["replication"]) == [0, 1]
    assert set(reps["scenario"]) == {"small"}


def test_run_writes_each_replications_leads_as_it_goes_the_same_table_as_a_run_in_memory(small_run, small):
    """The leads reach the file replication by replication (a row group each), and the file
    reads back as the table a run kept in memory would be, column types included."""
    import pyarrow.parquet as pq

    from funnelsim import run_scenario

    result, out = small_run
    assert result.exit_code == 0, result.output
    assert pq.ParquetFile(out / "leads.parquet").metadata.num_row_groups == 2
    kept = run_scenario(load_scenario(small), 2, 1)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "leads.parquet"), kept.leads, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "daily.parquet"), kept.daily, check_exact=True)


def test_a_run_on_two_workers_writes_the_same_tables_as_on_one(small, tmp_path):
    for workers in (1, 2):
        result = invoke("run", small, "-r", "3", "--seed", "1", "--workers", workers, "--out", tmp_path / str(workers))
        assert result.exit_code == 0, result.output
    for table in ("leads", "daily", "replications"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "2" / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "1" / f"{table}.parquet"), check_exact=True)


@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "over an older run"])
def test_a_run_stopped_part_way_leaves_nothing_of_its_own(small, small_result, tmp_path, monkeypatch, existing):
    """Ctrl-C after some replications' leads were written: no temporary file is left, a folder
    the run made is gone, and an older run in the folder is still whole, byte for byte."""
    import funnelsim.experiments.experiment

    def stopped(*args, leads_to, **kwargs):
        leads_to("small", small_result.leads)
        raise KeyboardInterrupt

    out = tmp_path / "run"
    older = {}
    if existing:
        assert invoke("run", small, "-r", "1", "--out", out).exit_code == 0
        older = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(funnelsim.experiments.experiment, "run_scenario", stopped)
    result = invoke("run", small, "-r", "2", "--out", out)
    assert result.exit_code != 0
    if existing:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == older
    else:
        assert not out.exists()


def test_run_writes_a_manifest_that_reproduces_the_run(small_run, small):
    result, out = small_run
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 1
    assert manifest["replications"] == 2
    assert manifest["scenario"] == "small"
    assert manifest["source_file"] == str(small)
    assert manifest["overrides"] == []
    assert len(manifest["spawn_keys"]) == 2
    params = manifest["parameters"]
    assert params["simulation"]["horizon_days"] == 60 and params["simulation"]["warmup_days"] == 10
    # the parameters are fully resolved: validated again, they are the scenario that ran
    assert scenario_from_dict(params) == load_scenario(small)
    versions = manifest["versions"]
    for lib in ("funnelsim", "python", "numpy", "pandas", "simpy"):
        assert versions[lib], lib
    timings = manifest["timings_seconds"]
    assert len(timings["per_replication"]) == 2
    assert all(t > 0 for t in timings["per_replication"])
    assert timings["total"] == pytest.approx(sum(timings["per_replication"]), abs=1e-3)


def test_run_prints_the_kpi_table(small_run):
    result, out = small_run
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "95% range" in line)
    assert "KPI" in header and "mean" in header
    assert "Leads" in result.stdout and "median_speed_to_lead_hours" not in result.stdout  # business names
    assert "Scenario 'small': 2 replications, seed 1, KPIs over days 10-60" in result.stdout
    assert f"written to {out}" in result.stdout
    assert "Simulating 'small': 2 replications, seed 1" in result.stderr
    no_traceback(result)


def test_run_is_reproducible_and_set_is_recorded(small, small_run, tmp_path):
    _, first = small_run
    again = tmp_path / "again"
    result = invoke("run", small, "-r", "2", "-s", "1", "--out", again, "--set", "name=small")
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(
        pd.read_parquet(first / "replications.parquet"), pd.read_parquet(again / "replications.parquet")
    )
    pd.testing.assert_frame_equal(pd.read_parquet(first / "leads.parquet"), pd.read_parquet(again / "leads.parquet"))
    assert json.loads((again / "manifest.json").read_text())["overrides"] == ["name=small"]


@pytest.mark.parametrize(
    "override, expected",
    [
        ("sdr_team.reps=0", "sdr_team.reps: 0: input should be greater than or equal to 1"),
        ("sdr_team.reps", "--set sdr_team.reps: expected key.path=value"),
        ("simulation.warmup_days=100", "simulation.warmup_days: 100: must be shorter than simulation.horizon_days (60)"),
    ],
)
def test_run_with_a_bad_set_exits_2_without_traceback(small, tmp_path, override, expected):
    out = tmp_path / "never"
    result = invoke("run", small, "--set", override, "--out", out)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert result.stdout == ""
    assert not out.exists()  # nothing simulated, nothing written
    no_traceback(result)


def test_run_missing_file(tmp_path):
    result = invoke("run", tmp_path / "nope.yaml", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in result.stderr
    no_traceback(result)


@pytest.mark.parametrize("option", [["--replications", "0"], ["--seed", "-1"], ["--seed", str(2**63)], ["--seed", str(10**30)]])
def test_run_refuses_bad_options(small, tmp_path, option):
    result = invoke("run", small, *option, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "Invalid value" in result.output
    assert not (tmp_path / "out").exists()


def test_the_installed_command_fails_cleanly_on_a_bad_value(tmp_path):
    assert FUNNELSIM, "the funnelsim console script is not installed"
    done = subprocess.run(
        [FUNNELSIM, "run", str(BASELINE), "--set", "sdr_team.reps=0", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert f"{BASELINE} (with --set sdr_team.reps=0): sdr_team.reps: 0: input should be greater than or equal to 1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def small_result(small):
    from funnelsim import run_scenario

    return run_scenario(load_scenario(small), 1, 1)


@pytest.mark.parametrize("failing", ["leads.parquet", "daily.parquet", "replications.parquet", "manifest.json"])
@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT, errno.EIO])
@pytest.mark.parametrize("existing", [False, True], ids=["new folder", "over an older run"])
def test_a_full_disk_keeps_the_kpi_table_and_leaves_nothing_half_written(small, small_result, tmp_path, monkeypatch, failing, error, existing):
    """The disk fills up while one file is half-written: the KPIs are printed, that file is named,
    no temporary file is left and the folder does not pass for a whole run."""
    import dataclasses

    import pyarrow.parquet as pq

    import funnelsim.experiments.experiment
    from funnelsim.config.files import temporary_name

    def replay(*args, leads_to, **kwargs):  # the run, its leads handed on as they come
        for _, leads in small_result.leads.groupby("replication"):
            leads_to("small", leads)
        return dataclasses.replace(small_result, leads=small_result.leads.iloc[:0])

    monkeypatch.setattr(funnelsim.experiments.experiment, "run_scenario", replay)
    out = tmp_path / "run"
    if existing:
        out.mkdir()
        (out / "manifest.json").write_text("{}")
        (out / "leads.parquet").write_bytes(b"older run")

    def fill_up(path: Path, write):
        if failing in Path(path).name:
            Path(path).write_bytes(b"PAR1 half a fi")
            raise OSError(error, os.strerror(error), str(path))
        return write()

    to_parquet, write_text, append = pd.DataFrame.to_parquet, Path.write_text, pq.ParquetWriter.write_table
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda self, path, **kw: fill_up(path, lambda: to_parquet(self, path, **kw)))
    monkeypatch.setattr(Path, "write_text", lambda self, text, **kw: fill_up(self, lambda: write_text(self, text, **kw)))
    partial = temporary_name(out / "leads.parquet")  # where the leads are written while the run goes on
    monkeypatch.setattr(pq.ParquetWriter, "write_table", lambda self, table, **kw: fill_up(partial, lambda: append(self, table, **kw)))
    result = invoke("run", small, "-r", "1", "--out", out)
    assert result.exit_code == 1, result.output
    assert "Revenue" in result.stdout and "Scenario 'small'" in result.stdout  # the answer came first
    assert f"{out / failing}: could not write: {os.strerror(error)}" in result.stderr
    no_traceback(result)
    if existing:  # the older run's manifest is gone, so is every table this run wrote
        left = sorted(p.name for p in out.iterdir())
        assert left == (["leads.parquet"] if failing == "leads.parquet" else [])
    else:
        assert not out.exists()


# --- dictionary -----------------------------------------------------------------------------


def test_dictionary_documents_every_column():
    result = invoke("dictionary")
    assert result.exit_code == 0
    for column in ("speed_to_lead_hours", "sdr_busy_hours", "lead_to_customer_rate", "clv"):
        assert column in result.output
    only = invoke("dictionary", "--table", "daily")
    assert only.exit_code == 0 and only.output.strip().startswith("daily")
    assert "\nleads" not in only.output


def test_data_dictionary_covers_every_output_column(small_run):
    from funnelsim import data_dictionary

    _, out = small_run
    documented = data_dictionary()
    for table in ("leads", "daily", "replications"):
        frame = pd.read_parquet(out / f"{table}.parquet")
        names = set(documented.loc[documented.table == table, "column"])
        missing = {c for c in frame.columns if c not in names and not c.startswith("budget_weight_")}
        assert not missing, (table, missing)

"""The command line: help everywhere, clear errors with exit status 2, run outputs on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from funnelsim.cli import main

from conftest import BASELINE

FUNNELSIM = Path(sys.executable).parent / "funnelsim"
SHORT = ["--set", "simulation.horizon_days=60", "--set", "simulation.warmup_days=10"]


@pytest.mark.parametrize("command", [[], ["run"], ["validate"], ["sweep"], ["report"], ["dictionary"], ["assess"]])
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_validate_ok_and_bad(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(BASELINE)])
    assert ok.exit_code == 0 and "ok" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {BASELINE}\nfollow_up:\n  follow_up_rate: 1.5\n")
    result = runner.invoke(main, ["validate", str(BASELINE), str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: follow_up.follow_up_rate: 1.5: input should be less than or equal to 1" in result.output
    assert "Traceback" not in result.output


def test_run_writes_tables_and_manifest_and_prints_kpis(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(BASELINE), "-r", "2", "--seed", "1", "--out", str(out), *SHORT])
    assert result.exit_code == 0, result.output
    assert "95% CI" in result.output and "revenue" in result.output
    leads = pd.read_parquet(out / "leads.parquet")
    daily = pd.read_parquet(out / "daily.parquet")
    reps = pd.read_parquet(out / "replications.parquet")
    assert set(leads.replication) == {0, 1} and len(daily) == 120 and len(reps) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["parameters"]["simulation"]["horizon_days"] == 60
    assert manifest["versions"]["funnelsim"] and len(manifest["timings_seconds"]["per_replication"]) == 2
    assert manifest["overrides"] == ["simulation.horizon_days=60", "simulation.warmup_days=10"]


def test_the_installed_command_fails_cleanly_on_a_bad_value(tmp_path):
    done = subprocess.run(
        [str(FUNNELSIM), "run", str(BASELINE), "--set", "sdr_team.reps=0", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "sdr_team.reps: 0: input should be greater than or equal to 1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "x").exists()


def test_dictionary_documents_every_column():
    result = CliRunner().invoke(main, ["dictionary"])
    assert result.exit_code == 0
    for column in ("speed_to_lead_hours", "sdr_busy_hours", "lead_to_customer_rate", "clv"):
        assert column in result.output


def test_data_dictionary_covers_every_output_column():
    from funnelsim import data_dictionary, run_scenario
    from conftest import scenario

    run = run_scenario(scenario("simulation.horizon_days=40", "simulation.warmup_days=5"), 1, 1)
    documented = data_dictionary()
    for table, frame in (("leads", run.leads), ("daily", run.daily), ("replications", run.replications)):
        names = set(documented.loc[documented.table == table, "column"])
        missing = {c for c in frame.columns if c not in names and not c.startswith("budget_weight_")}
        assert not missing, (table, missing)

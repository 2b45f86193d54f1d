"""Every notebook runs headless with small parameters and becomes a readable HTML report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

import funnelsim.reports as reports
from funnelsim.cli import main

from conftest import ROOT

SMALL = ["simulation.horizon_days=120", "simulation.warmup_days=30"]
NOTEBOOKS = {
    "scenario_report": ({"replications": 2, "overrides": SMALL}, ["Key performance indicators", "revenue", "sdr_utilisation"]),
    "alignment_impact": (
        {"replications": 2, "sweep_points": 12, "sweep_replications": 1, "overrides": SMALL},
        ["The answer in brief", "paired by replication", "fully-aligned", "per unit"],
    ),
    "sensitivity": (
        {"sweep_file": "params/sweeps/screening.yaml", "replications": 2, "interactions": False, "overrides": SMALL},
        ["Lever effects, ranked", "handoff.latency_hours.median", "sum_sq"],
    ),
    "calibration": (
        {"replications": 2},
        ["The answer in brief", "5 skipped", "unparseable date", "KS D", "prediction interval", "Not in the data, so kept"],
    ),
    "classroom": (
        {"horizon_days": 120, "sdrs": 8},
        ["The vocabulary", "customer acquisition cost", "Exercise 1", "Exercise 3", "New bookings"],
    ),
    "classroom_instructor": (
        {"replications": 2, "horizon_days": 150},
        ["Worked answer", "paired by replication", "Exercise 2", "Head to head, two more SDRs against", "utilisation goes from"],
    ),
    "claims_check": (
        {"replications": 2, "path_points": [0, 0.5, 1, 2], "box_points": 20, "box_replications": 1, "executor": "serial", "overrides": SMALL},
        ["The answer in brief", "Aberdeen Group 2010", "folklore", "t_needed", "strongest_lever_alone", "over 60x the odds"],
    ),
    "what_it_takes": (
        {"points": 16, "replications": 1, "confirm_replications": 2, "executor": "serial", "overrides": SMALL},
        ["The answer in brief", "combinations are predicted", "levers_changed", "R²", "annual_costs"],
    ),
    "speed_to_lead": ({"replications": 1, "overrides": SMALL}, ["Published against simulated", "over 60x", "odds_ratio"]),
}


@pytest.fixture(autouse=True)
def reports_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(reports, "REPORTS_DIR", tmp_path / "reports")


def test_every_notebook_has_one_documented_parameters_cell():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        tagged = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        assert not any(c.get("outputs") for c in book.cells if c.cell_type == "code"), f"{path.name} has outputs"
        declared = reports.pm.inspect_notebook(str(path))
        lines = [line for line in tagged[0].source.splitlines() if line.strip()]
        assert len(declared) == len(lines), f"{path.name}: a parameter papermill cannot read"
        assert all(spec["help"] and spec["inferred_type_name"] != "None" for spec in declared.values()), path.name
    assert set(NOTEBOOKS) == {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_notebook_renders_a_report(name, tmp_path):
    parameters, expected = NOTEBOOKS[name]
    page = reports.render_report(name, parameters, tmp_path / name)
    text = page.read_text()
    for phrase in expected:
        assert phrase in text, phrase
    assert text.count("data:image/png;base64") >= 1
    assert "load_scenario(" not in text  # code is hidden
    assert (tmp_path / name / "report.ipynb").exists() and (tmp_path / name / "parameters.yaml").exists()
    assert any((tmp_path / name / "data").glob("*.parquet"))


def test_cli_report_with_a_scenario_file_and_the_index(tmp_path):
    out = tmp_path / "closed-loop"
    result = CliRunner().invoke(
        main,
        ["report", "scenario_report", "-f", str(ROOT / "params/scenarios/closed-loop.yaml"), "-p", "replications", "2",
         "-p", "overrides", json.dumps(SMALL), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "closed-loop" in (out / "report.html").read_text()
    assert "closed-loop.yaml" in (out / "parameters.yaml").read_text()


def test_batch_renders_one_report_per_file_on_one_kernel(tmp_path, monkeypatch):
    starts = []
    original = reports.KernelManager.start_kernel
    monkeypatch.setattr(reports.KernelManager, "start_kernel", lambda self, **kw: starts.append(1) or original(self, **kw))
    files = [ROOT / "params/scenarios/realtime-routing.yaml", ROOT / "params/scenarios/weekly-export.yaml"]
    sets = [{**reports.parameters_from_file(reports.notebook_path("scenario_report"), f), "replications": 1, "overrides": SMALL} for f in files]
    pages = reports.render_batch("scenario_report", sets, progress=False)
    assert len(pages) == 2 and len(starts) == 1
    assert "realtime-routing" in pages[0].read_text() and "weekly-export" in pages[1].read_text()
    index = (tmp_path / "reports" / "index.html").read_text()
    assert all(p.parent.name in index for p in pages)


def test_a_failing_report_names_the_cell_and_keeps_the_notebook(tmp_path):
    out = tmp_path / "broken"
    result = CliRunner().invoke(main, ["report", "scenario_report", "-p", "scenario_file", "params/nope.yaml", "--out", str(out)])
    assert result.exit_code == 1
    assert "cell" in result.output and "ParameterError" in result.output and "file not found" in result.output
    assert (out / "report.ipynb").exists() and not (out / "report.html").exists()


def test_plain_papermill_runs_a_notebook_with_a_parameter_file(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("replications: 1\noverrides: [simulation.horizon_days=90, simulation.warmup_days=10]\n")
    papermill = Path(sys.executable).parent / "papermill"
    done = subprocess.run(
        [str(papermill), str(ROOT / "notebooks/speed_to_lead.ipynb"), str(tmp_path / "out.ipynb"), "-f", str(params), "--cwd", str(ROOT)],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert any("odds" in json.dumps(c.get("outputs", [])) for c in executed.cells)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(_chromium() is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium)")
def test_report_figures_load_in_headless_chromium(tmp_path):
    import websocket

    page = reports.render_report("scenario_report", {"replications": 1, "overrides": SMALL}, tmp_path / "r")
    profile = tempfile.mkdtemp(prefix="chromium-")
    browser = subprocess.Popen(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.time() + 30
        while not port_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        ws = websocket.create_connection(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"], timeout=30)

        def call(method: str, **params):
            call.n += 1
            ws.send(json.dumps({"id": call.n, "method": method, "params": params}))
            while True:
                reply = json.loads(ws.recv())
                if reply.get("id") == call.n:
                    return reply.get("result", {})

        call.n = 0
        call("Page.navigate", url=page.as_uri())
        script = "[...document.images].filter(i => i.src.startsWith('data:image')).map(i => i.complete && i.naturalWidth > 0)"
        loaded = []
        while time.time() < deadline + 30:
            loaded = call("Runtime.evaluate", expression=script, returnByValue=True)["result"].get("value") or []
            if loaded and all(loaded):
                break
            time.sleep(0.2)
        ws.close()
    finally:
        browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    assert len(loaded) >= 3 and all(loaded), loaded


def test_a_report_folder_is_named_after_its_default_scenarios():
    """The defaults papermill reads are Python source; the folder name uses their values."""
    parameters = reports.notebook_parameters(reports.notebook_path("alignment_impact"))
    assert isinstance(parameters["scenario_files"], list)
    label = reports._label(parameters)
    assert label.startswith("fully-misaligned-vs-somewhat-misaligned") and '"' not in label and "[" not in label
    assert reports._label(reports.notebook_parameters(reports.notebook_path("what_it_takes"))) == "grow-revenue"


@pytest.mark.parametrize(
    "text",
    ["notebook: [unclosed\n", "- a list\n", "\xff\xfe not utf-8", "x: " + "[" * 5000 + "]" * 5000 + "\n", ""],
    ids=["malformed", "a list", "not utf-8", "deeply nested", "empty"],
)
def test_one_bad_parameters_file_does_not_break_the_index(tmp_path, text):
    folder = tmp_path / "reports" / "scenario_report"
    for name in ("bad", "good"):
        (folder / name).mkdir(parents=True)
        (folder / name / "report.html").write_text("<html></html>")
    (folder / "bad" / "parameters.yaml").write_bytes(text.encode("latin-1") if "\xff" in text else text.encode())
    (folder / "good" / "parameters.yaml").write_text("notebook: scenario_report.ipynb\nreplications: 3\n")
    index = reports.write_index().read_text()
    assert "replications=3" in index and "bad" in index
    if text:
        assert "(parameters.yaml" in index

"""Every notebook runs headless with small parameters and becomes a readable HTML report."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from browser import chromium, devtools, evaluate, needs_chromium, wait_for_images
from conftest import FUNNELSIM, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnelsim.present.reports as reports
from funnelsim.cli import main
from funnelsim.config.errors import ParameterError
from funnelsim.present import html_safety

# `make test` spreads the tests over two workers (--dist loadgroup). The tests that read one
# rendered page stay together, so the page is rendered once (the groups below). Reports may
# render on both workers at once: their kernels talk over sockets in their own folders, never
# TCP ports that two kernels starting together could both pick (see reports._this_python_kernel).
# Plain papermill and the app still use ports, so they share one group (TCP_KERNELS).
TCP_KERNELS = pytest.mark.xdist_group("tcp-kernels")
PAGE_GROUP = {"alignment_page": pytest.mark.xdist_group("alignment-page"), "scenario_page": pytest.mark.xdist_group("scenario-page")}

SMALL = ["simulation.horizon_days=120", "simulation.warmup_days=30"]
# how the answer opens, for the reports checked on their first screen (the alignment report: its own test)
FIRST_SCREEN = {"claims_check": "Of the ", "what_it_takes": "The cheapest way", "sensitivity": "Over ", "speed_to_lead": "Measured as HBR"}
NOTEBOOKS = {
    "scenario_report": ({"replications": 2, "overrides": SMALL}, ["Key performance indicators", "the company earns", "Customer acquisition cost", "Appendix for analysts", "sdr_utilisation",
                                                          "a year (95% CI", "Revenue is known to ±", "would take"]),
    "alignment_impact": (
        {"replications": 2, "sweep_points": 12, "sweep_replications": 1, "overrides": SMALL, "uncertainty_draws": 4,
         "gap_replications": 1},
        ["a fully aligned company earns", "Appendix for analysts", "paired by replication", "Fully aligned", "per unit",
         "range across plausible models", "simulation noise alone", "The answer leans most on",
         "The maturity levels are calibrated to surveys of real firms", "38% more proposals won",
         "Where the gap comes from", "buys the largest part of it", "the interplay of three or more signs"],
    ),
    "sensitivity": (
        {"sweep_file": "params/sweeps/screening.yaml", "replications": 2, "interactions": False, "overrides": SMALL},
        ["moves revenue the most of the 7 levers", "This is a screening design", "Also carries the interplay of",
         "Handoff latency (median) × ", "Appendix for analysts", "handoff.latency_hours.median", "sum_sq", "not testable (saturated)"],
    ),
    "calibration": (
        {"replications": 2},
        ["The answer in brief", "5 skipped", "unparseable date", "KS D", "prediction interval", "Not in the data, so kept"],
    ),
    "classroom": (
        {"horizon_days": 120, "sdrs": 8},
        ["The vocabulary", "customer acquisition cost", "Exercise 1", "Exercise 3", "New bookings", "sales development rep",
         "One run of each company", "changed", "SDRs"],
    ),
    "explorer": ({}, ["Starting company", "The sliders move in the app"]),
    "classroom_instructor": (
        {"replications": 2, "horizon_days": 150},
        ["Worked answer", "paired by replication", "Exercise 2", "Head to head, two more SDRs against", "utilisation goes from"],
    ),
    "claims_check": (
        {"replications": 2, "path_points": [0, 0.5, 1, 2], "box_points": 20, "box_replications": 1, "executor": "serial", "overrides": SMALL,
         "uncertainty_draws": 3},
        ["published alignment claims the model can be set beside", "Published claim", "Source (trust)", "Appendix for analysts",
         "Aberdeen Group 2010", "folklore", "t_needed", "strongest_lever_alone", "more than 60 times",
         "range across plausible models", "Simulation noise alone", "the claim's direction", "comparable claims lie inside",
         "Too few plausible models (3)"],
    ),
    "what_it_takes": (
        {"points": 16, "replications": 1, "confirm_replications": 2, "executor": "serial", "overrides": SMALL,
         "uncertainty_draws": 2},
        ["efficient frontier", "What changes", "Cost a year", "Appendix for analysts", "combinations are predicted",
         "levers_changed", "R²", "annual_costs",
         "How sure: over 2 plausible models", "Range across plausible models", "Simulation noise alone",
         "P(reaches the target)", "P(pays back its annual cost within a year)", "worth measuring before you decide", "Revenue a year",
         "too few draws"],
    ),
    "speed_to_lead": (  # the README's example: a company whose first dials never come within 5 minutes
        {"scenario_file": "params/scenarios/daily-export.yaml", "replications": 1, "overrides": SMALL},
        ["Measured as HBR 2011 measured it, across firms", "Published figure", "not measurable on this company",
         "too few first dials", "(the reference)", "Appendix for analysts", "HBR 2011 compared firms", "odds_ratio"]),
}


RENDERED_ONCE = {"alignment_impact": "alignment_page", "scenario_report": "scenario_page"}


def _render_once(name: str, folder: Path) -> Path:
    """A report rendered at the parameters of NOTEBOOKS, for every test of the module that reads it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reports, "REPORTS_DIR", folder / "reports")
        parameters, _ = NOTEBOOKS[name]
        return reports.render_report(name, parameters, folder / name)


@pytest.fixture(scope="module")
def alignment_page(tmp_path_factory):
    return _render_once("alignment_impact", tmp_path_factory.mktemp("alignment"))


@pytest.fixture(scope="module")
def scenario_page(tmp_path_factory):
    return _render_once("scenario_report", tmp_path_factory.mktemp("scenario"))


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


@pytest.mark.parametrize("name", [pytest.param(name, marks=[PAGE_GROUP[RENDERED_ONCE[name]]] if name in RENDERED_ONCE else [])
                                  for name in NOTEBOOKS])
def test_notebook_renders_a_report(name, tmp_path, request):
    parameters, expected = NOTEBOOKS[name]
    if name in RENDERED_ONCE:  # rendered once for the module: other tests below read the same page
        page = request.getfixturevalue(RENDERED_ONCE[name])
    else:
        page = reports.render_report(name, parameters, tmp_path / name)
    text = page.read_text()
    for phrase in expected:
        assert phrase in text, phrase
    assert text.count("data:image/png;base64") >= 1
    assert "load_scenario(" not in text  # code is hidden
    assert (page.parent / "report.ipynb").exists() and (page.parent / "parameters.yaml").exists()
    assert name == "explorer" or any((page.parent / "data").glob("*.parquet"))  # the app's page keeps no tables
    if "Appendix for analysts" in text:  # a report for people: nothing but people's words before the appendix
        _reads_for_people(text)
    if name in FIRST_SCREEN and chromium() is not None:  # and the answer with its figure on the first screen
        _first_screen(page, FIRST_SCREEN[name])


XSS = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[x](javascript:alert(1))", "<a href='javascript:alert(1)'>y</a>",
       "<svg onload=alert(1)>", "<iframe src=javascript:alert(1)></iframe>", "<b onmouseover=alert(1)>z</b>"]


def test_cli_report_with_a_scenario_file_and_the_index(tmp_path):
    """A scenario whose name and description carry HTML and script: shown as text, never run."""
    scenario = tmp_path / "closed-loop.yaml"
    scenario.write_text(
        f"extends: {ROOT / 'params/scenarios/closed-loop.yaml'}\n"
        f"name: {json.dumps('closed-loop ' + XSS[0])}\ndescription: {json.dumps(' '.join(XSS))}\n"
    )
    out = tmp_path / "closed-loop"
    result = CliRunner().invoke(
        main,
        ["report", "scenario_report", "-f", str(scenario), "-p", "replications", "2",
         "-p", "overrides", json.dumps(SMALL), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert "closed-loop" in page and page.count("data:image/png;base64") >= 2
    assert live_markup(page) == []
    assert "closed-loop.yaml" in (out / "parameters.yaml").read_text()
    # the index lists a report written with --out, by its title and the answer it opens with
    index = (tmp_path / "reports" / "index.html").read_text()
    assert (out / "report.html").resolve().as_uri() in index and "the company earns" in index
    assert "scenario_report" in index and [m for m in live_markup(index) if not m.startswith("<a href=file:///")] == []


class _Live(HTMLParser):
    """Collects what would run in a browser: handlers, script URLs, scripts that are not the template's."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value}>")
            if name in ("href", "src", "action", "formaction", "xlink:href", "data") and value:
                scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                if scheme and scheme not in ("http", "https", "mailto") and not value.startswith("data:image/png;base64,"):
                    self.found.append(f"<{tag} {name}={value[:40]}>")
        if tag in ("iframe", "object", "embed", "form", "base", "svg"):
            self.found.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and "alert(" in data:
            self.found.append(f"<script>{data[:40]}")


def live_markup(page: str) -> list[str]:
    parser = _Live()
    parser.feed(page)
    return parser.found


PAYLOAD = st.lists(st.one_of(st.sampled_from(XSS + ["<style>*{x:url(javascript:alert(1))}</style>", "<math><mi xlink:href=javascript:alert(1)>m</mi></math>",
                                                   "<img src='data:text/html;base64,PHNjcmlwdD4='>", "<a href=' JaVaScRiPt:alert(1)'>c</a>",
                                                   "<object data=javascript:alert(1)>", "[y](vbscript:alert(1))", "<form action=javascript:alert(1)><button>b</button></form>",
                                                   "<img src=\"x\" onerror=\"alert(1)\"", "<scr<script>ipt>alert(1)</script>", "<!--<script>alert(1)</script>-->"]),
                               st.text(alphabet="<>\"'=/ ()[]:ajvscriptonerlimg1", max_size=30)), min_size=1, max_size=6).map("".join)


@settings(max_examples=200, deadline=None)
@given(PAYLOAD)
def test_no_output_markup_survives_the_sanitiser(text):
    outputs = [nbformat.v4.new_output("display_data", data={"text/html": text}),
               nbformat.v4.new_output("display_data", data={"text/markdown": text, "text/plain": "p"}),
               nbformat.v4.new_output("execute_result", data={"application/javascript": "alert(1)", "text/plain": "q"}, execution_count=1)]
    cleaned = html_safety.sanitise_outputs(outputs)
    for output in cleaned:
        assert set(output["data"]) <= {"text/html", "text/plain"}
        assert live_markup(output["data"].get("text/html", "")) == []


def test_the_exported_page_keeps_images_and_text_but_nothing_that_runs(tmp_path, monkeypatch):
    """Through nbconvert's template: outputs, Markdown and widget state all cleaned; the PNG kept."""
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": "**Name** " + " ".join(XSS)}),
        nbformat.v4.new_output("display_data", data={"text/html": "<table class='dataframe'><tr style='text-align: right;'><td>"
                                                     + " ".join(XSS) + "</td></tr></table>"}),
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={"text/vnd.mermaid": "graph TD; A-->B<img src=x onerror=alert(1)>"}),
    ]
    book.cells.append(cell)
    book.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0, "state": {
        "a": {"model_module": "@jupyter-widgets/controls", "model_name": "HTMLModel", "model_module_version": "2.0.0", "state": {"value": XSS[0]}},
        "b": {"model_module": "evil-widgets", "model_name": "X", "model_module_version": "1", "state": {}}}}}
    executed = tmp_path / "report.ipynb"
    nbformat.write(book, executed)
    reports._export_html(executed, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert live_markup(page) == []
    assert f"data:image/png;base64,{png}" in page and "<strong>Name</strong>" in page and 'class="dataframe"' in page
    assert "text-align: right" in page and "evil-widgets" not in page
    monkeypatch.setattr(reports, "sanitise_notebook", lambda book: book)  # what it would be without
    reports._export_html(executed, tmp_path / "raw.html")
    found = " ".join(live_markup((tmp_path / "raw.html").read_text()))
    assert all(live in found for live in ("onerror=alert(1)", "href=javascript:alert(1)", "<script>alert(1)", "<iframe>"))


def test_batch_renders_one_report_per_file_on_one_kernel(tmp_path, monkeypatch):
    starts = []
    original = reports.KernelManager.start_kernel
    monkeypatch.setattr(reports.KernelManager, "start_kernel", lambda self, **kw: starts.append(1) or original(self, **kw))
    files = [ROOT / "params/scenarios/realtime-routing.yaml", ROOT / "params/scenarios/daily-export.yaml"]
    sets = [{**reports.parameters_from_file(reports.notebook_path("scenario_report"), f), "replications": 1, "overrides": SMALL} for f in files]
    pages = reports.render_batch("scenario_report", sets, progress=False)
    assert len(pages) == 2 and len(starts) == 1
    assert "realtime-routing" in pages[0].read_text() and "daily-export" in pages[1].read_text()
    index = (tmp_path / "reports" / "index.html").read_text()
    assert all(p.parent.name in index for p in pages)


def test_a_failing_report_names_the_cell_and_keeps_the_notebook(tmp_path):
    out = tmp_path / "broken"
    result = CliRunner().invoke(main, ["report", "scenario_report", "-p", "scenario_file", "params/nope.yaml", "--out", str(out)])
    assert result.exit_code == 1
    assert "cell" in result.output and "ParameterError" in result.output and "file not found" in result.output
    assert (out / "report.ipynb").exists() and not (out / "report.html").exists()


@pytest.mark.skipif(os.name != "posix", reason="sockets in a folder are how Linux and macOS kernels avoid ports")
def test_two_reports_started_at_once_each_talk_to_their_own_kernel(tmp_path):
    """jupyter_client picks free TCP ports and lets them go before the kernel binds them, so two
    reports started together could pick the same ones and one wait for ever on the other's kernel
    (jupyter/jupyter_client#487). A report's kernel talks over sockets in its own folder instead."""
    book = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    book.cells = [
        nbformat.v4.new_code_cell('label = "none"  # which of the two reports this is', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("from ipykernel import get_connection_info\n"
                                  "info = get_connection_info(unpack=True)\n"
                                  "print(label, info['transport'], info['ip'])"),
    ]
    notebook = tmp_path / "which_kernel.ipynb"
    nbformat.write(book, notebook)
    env = {**os.environ, "FUNNELSIM_REPORTS": str(tmp_path / "reports")}
    started = [subprocess.Popen([FUNNELSIM, "report", str(notebook), "-p", "label", label, "--out", str(tmp_path / label)],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for label in ("first", "second")]
    said = {}
    for label, process in zip(("first", "second"), started):
        output = process.communicate(timeout=120)[0]
        assert process.returncode == 0, output
        executed = nbformat.read(tmp_path / label / "report.ipynb", as_version=4)
        said[label] = executed.cells[-1].outputs[0]["text"].split()
    assert [words[:2] for words in said.values()] == [["first", "ipc"], ["second", "ipc"]]
    folders = {Path(words[2]).parent for words in said.values()}
    assert len(folders) == 2 and all(folder.name.startswith("funnelsim-kernel-") for folder in folders)
    assert not any(folder.exists() for folder in folders)  # and nothing is left behind


def test_a_kernel_under_a_folder_too_deep_for_sockets_uses_ports(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setattr(reports.tempfile, "tempdir", str(deep))
    with reports._this_python_kernel() as km:
        assert km.transport == "tcp"
    if os.name == "posix":  # a short one: sockets
        monkeypatch.setattr(reports.tempfile, "tempdir", "/tmp")
        with reports._this_python_kernel() as km:
            assert km.transport == "ipc" and km.ip.startswith("/tmp/funnelsim-kernel-")


@TCP_KERNELS
def test_plain_papermill_runs_a_notebook_with_a_parameter_file(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("replications: 2\noverrides: [simulation.horizon_days=90, simulation.warmup_days=10]\n")
    papermill = Path(sys.executable).parent / "papermill"
    done = subprocess.run(
        [str(papermill), str(ROOT / "notebooks/scenario_report.ipynb"), str(tmp_path / "out.ipynb"), "-f", str(params), "--cwd", str(ROOT)],
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    (injected,) = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "replications = 2" in injected.source and "simulation.horizon_days=90" in injected.source
    assert any("Customer acquisition cost" in json.dumps(c.get("outputs", [])) for c in executed.cells)


@needs_chromium
@PAGE_GROUP["scenario_page"]
def test_report_figures_load_in_headless_chromium(scenario_page):
    with devtools() as call:
        call("Page.navigate", url=scenario_page.as_uri())
        loaded = wait_for_images(call)
    assert len(loaded) >= 3 and all(loaded), loaded


# --- the alignment report as a sales leader reads it ------------------------------------------

HEADLINE = re.compile(r"Over \d+ (?:weeks|months|years), a fully aligned company earns [+−]?\$[\d.]+[kMB]? (?:more|less) revenue "
                      r"than a somewhat misaligned one")
KEY_PATH = re.compile(r"\b[a-z_]+\.[a-z_]+\.[a-z_0-9]+\b|\b[a-z]+_[a-z_]+\.[a-z_]+\b|\b[a-z]+\.[a-z]+_[a-z_]+\b")
DECIMAL = re.compile(r"(?<![\w.])\d[\d,]*\.\d+(?:e[-+]?\d+)?")


def _significant(number: str) -> int:
    mantissa = number.replace(",", "").split("e")[0]
    return len(mantissa.replace(".", "").lstrip("0"))


def _visible_text(html_text: str) -> str:
    body = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html_text)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _reads_for_people(page: str) -> tuple[str, str]:
    """A page's part before its analysts' appendix holds no key path, no raw float of more than
    three significant digits, no True/False and no index column; the two parts."""
    body = page.split("<body", 1)[1]
    front, appendix = re.split(r"<h1[^>]*>\s*Appendix for analysts", body, maxsplit=1)
    text = _visible_text(front)
    assert KEY_PATH.findall(text) == []
    raw = [n for n in DECIMAL.findall(text) if _significant(n) > 3 or "e" in n]
    assert raw == [], raw
    assert not re.search(r"\b(True|False)\b", text)
    assert not re.search(r"<tbody>\s*<tr>\s*<th", front), "an index column"
    return front, appendix


@PAGE_GROUP["alignment_page"]
def test_the_alignment_report_reads_for_people_before_its_appendix(alignment_page):
    page = alignment_page.read_text()
    assert "<title>What is alignment worth?</title>" in page
    front, appendix = _reads_for_people(page)
    text = _visible_text(front)
    assert "fully-aligned" not in text and "somewhat-misaligned" not in text  # scenarios in business words
    first = re.split(r"<h[12][^>]*>", front.split("</h1>", 1)[1], maxsplit=1)[0]  # the first heading's section
    assert HEADLINE.search(_visible_text(first)), _visible_text(first)[:500]
    assert "data:image/png" in first  # the figure that carries it
    assert "p_value" in appendix and "sum_sq" in appendix  # the analyst's tables are kept, at the end


@needs_chromium
def _first_screen(page: Path, opening: str) -> dict:
    """Open ``page`` on a 1280 x 900 screen (a screenshot beside it) and say where the answer (the
    first paragraph or bold text starting with ``opening``) and the first figure are."""
    with devtools() as call:
        call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        call("Page.navigate", url=page.as_uri())
        assert all(wait_for_images(call))
        shot = call("Page.captureScreenshot", format="png")["data"]
        (page.parent / "first-screen.png").write_bytes(base64.b64decode(shot))
        where = evaluate(call, """((opening) => {
            const p = [...document.querySelectorAll('p, strong')].find(e => e.textContent.startsWith(opening));
            const img = [...document.images][0];
            return {headline: p ? p.getBoundingClientRect().bottom : null, text: p ? p.textContent : '',
                    figure: img.getBoundingClientRect().top, height: window.innerHeight};
        })(%s)""" % json.dumps(opening))
    assert where["height"] == 900 and where["headline"] is not None and where["headline"] <= 900 and where["figure"] < 900, where
    return where


@PAGE_GROUP["alignment_page"]
def test_the_first_screen_of_the_alignment_report_holds_the_answer(alignment_page):
    where = _first_screen(alignment_page, "Over ")
    assert HEADLINE.search(where["text"]), where


def test_a_report_folder_is_named_after_its_default_scenarios():
    """The defaults papermill reads are Python source; the folder name uses their values."""
    parameters = reports.notebook_parameters(reports.notebook_path("alignment_impact"))
    assert isinstance(parameters["scenario_files"], list)
    label = reports._label(parameters)
    assert label == "fully-misaligned-vs-somewhat-misaligned-vs-somewhat-aligned-vs-fully-aligned"
    assert reports._label(reports.notebook_parameters(reports.notebook_path("what_it_takes"))) == "grow-revenue"
    classroom = reports.notebook_parameters(reports.notebook_path("classroom"))  # no scenario: the settings given name it
    assert reports._label(classroom, {"sdrs": 8, "horizon_days": 120}) == "sdrs-8_horizon_days-120"
    assert reports._label(classroom, {}) == "defaults"


@pytest.mark.parametrize("count", [2, 4, 6, 9])
def test_a_folder_name_keeps_every_scenario_and_never_cuts_a_name(count):
    names = ["fully-misaligned", "somewhat-misaligned", "somewhat-aligned", "fully-aligned", "closed-loop",
             "realtime-routing", "daily-export", "baseline", "my_own.company"][:count]
    label = reports.joined_label(names)
    assert len(label) <= reports.SLUG_LENGTH and reports.slug(label) == label
    parts = label.split("-vs-") if "-vs-" in label else label.split("_")
    assert len(parts) == count  # every scenario, each recognisable by the start of each of its words
    for name, part in zip(names, parts):
        assert [w[:3] for w in part.split("-")] == [w[:3] for w in name.replace("_", "-").replace(".", "-").split("-")]


def test_the_page_title_is_the_report_heading(tmp_path):
    book = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    book.cells = [nbformat.v4.new_markdown_cell("Intro"), nbformat.v4.new_markdown_cell("# What is alignment worth?\n\ntext")]
    nbformat.write(book, tmp_path / "report.ipynb")
    reports._export_html(tmp_path / "report.ipynb", tmp_path / "report.html")
    assert "<title>What is alignment worth?</title>" in (tmp_path / "report.html").read_text()


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


# --- parameters: declared names, declared types, plain values, before any kernel -------------

INJECTION = 'x = 1; import os; os.system("touch pwned"); y'


@pytest.fixture
def no_kernel(monkeypatch):
    """Any attempt to execute the notebook fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(reports.pm, "execute_notebook", refuse)
    monkeypatch.setattr(reports.KernelManager, "start_kernel", refuse)


def report(*args: str):
    return CliRunner().invoke(main, ["report", *map(str, args)])


def test_a_parameter_name_is_never_code(tmp_path, monkeypatch, no_kernel):
    monkeypatch.chdir(tmp_path)
    params = tmp_path / "p.yaml"
    params.write_text(f"replications: 1\n{json.dumps(INJECTION)}: 1\n")
    for args in (["-p", "replications", "1", "-p", INJECTION, "1"], ["-f", params], ["--batch", params]):
        result = report("scenario_report", *args)
        assert result.exit_code == 2, result.output
        assert "not a parameter of scenario_report" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "reports").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1).filter(lambda name: name not in reports.notebook_parameters(reports.notebook_path("scenario_report"))))
def test_any_undeclared_name_is_refused_before_a_kernel_starts(tmp_path, no_kernel, name):
    result = report("scenario_report", "-p", name, "1")
    assert result.exit_code == 2 and "not a parameter of scenario_report; " in result.output
    assert "its parameters: scenario_file, overrides, replications, seed" in result.output
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-p", "replicatons", "5"], "-p: replicatons: not a parameter of scenario_report; did you mean replications?"),
        (["-p", "replications", "five"], "-p: replications: 'five': a whole number (replications: int)"),
        (["-p", "replications", "2.5"], "-p: replications: 2.5: a whole number"),
        (["-p", "replications", "true"], "-p: replications: True: a whole number"),
        (["-p", "overrides", "simulation.horizon_days=90"], "-p: overrides: 'simulation.horizon_days=90': a list (overrides: list)"),
        (["-p", "seed", "2025-01-01"], "-p: seed: datetime.date(2025, 1, 1): only plain values"),
        (["-p", "overrides", "!!set {a: null}"], "-p: overrides: {'a'}: only plain values"),
        (["-p", "overrides", "[a, [b"], "-p overrides: '[a, [b': not a valid YAML value"),
        (["-p", "output_dir", "/tmp/x"], "-p: output_dir: set by funnelsim report"),
    ],
)
def test_bad_parameters_name_the_value_and_what_is_allowed(tmp_path, no_kernel, args, expected):
    result = report("scenario_report", *args)
    assert result.exit_code == 2 and expected in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "reports").exists()


@pytest.mark.parametrize("notebook", ["alignment_impact", "claims_check", "sensitivity", "what_it_takes"])
def test_an_executor_is_one_of_those_that_exist(tmp_path, no_kernel, notebook):
    result = report(notebook, "-p", "executor", "gpu")
    assert result.exit_code == 2 and "-p: executor: 'gpu': one of serial, processes, dask" in result.output, result.output
    assert "Traceback" not in result.output and not (tmp_path / "reports").exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_values_of_another_type_are_refused(no_kernel, value):
    path = reports.notebook_path("sensitivity")
    with pytest.raises(ParameterError, match="replications: .*: a whole number"):
        reports.check_parameters(path, {"replications": value})
    if not isinstance(value, bool):
        with pytest.raises(ParameterError, match="interactions: .*: true or false"):
            reports.check_parameters(path, {"interactions": value})


def test_values_of_the_declared_type_pass(no_kernel):
    reports.check_parameters(reports.notebook_path("what_it_takes"), {"target_change": 1, "points": 3, "overrides": ["a=1"], "interactions": True})
    pairs = reports.parameters_from_pairs(reports.notebook_path("scenario_report"), [("scenario_file", "2025"), ("replications", "3")])
    assert pairs == {"scenario_file": "2025", "replications": 3}  # a str parameter keeps the text


@pytest.mark.parametrize("text, expected", [
    ("not json", "not a notebook Jupyter can read (NotJSONError"),
    ("[1, 2]", "not a notebook Jupyter can read"),
    ('{"cells": [], "metadata": {"kernelspec": "python"}, "nbformat": 4, "nbformat_minor": 5}', "not a notebook Jupyter can read"),
    ('{"cells": []}', "metadata.kernelspec.language: None: reports run on Python"),
    ('{"cells": [], "metadata": {"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}}, "nbformat": 4, '
     '"nbformat_minor": 5}', "metadata.kernelspec.language: 'R': reports run on Python"),
])
def test_a_file_that_is_not_a_python_notebook_is_refused_by_name(tmp_path, no_kernel, text, expected):
    notebook = tmp_path / "mine.ipynb"
    notebook.write_text(text)
    result = CliRunner().invoke(main, ["report", str(notebook), "-p", "label", "x"])
    assert result.exit_code == 2 and result.output.startswith(f"{notebook}: {expected}"), result.output
    assert "Traceback" not in result.output


def test_a_parameter_file_with_a_stranger_is_refused(tmp_path, no_kernel):
    params = tmp_path / "p.yaml"
    params.write_text("replications: 2\nreplicatons: 5\n")
    result = report("scenario_report", "-f", params)
    assert result.exit_code == 2 and f"{params}: replicatons: not a parameter of scenario_report; did you mean replications?" in result.output
    params.write_text("replicatons: 5\n")
    result = report("scenario_report", "-f", params)
    assert result.exit_code == 2 and "did you mean replications?" in result.output and "nor is it a key of a scenario file" in result.output
    params.write_text("name: x\nsimulation: {horizon_days: -5}\n")
    result = report("scenario_report", "-f", params)
    assert result.exit_code == 2 and "simulation.horizon_days" in result.output
    params.write_text("replications: [unclosed\n")
    result = report("scenario_report", "-f", params)
    assert result.exit_code == 2 and "malformed YAML" in result.output and "Traceback" not in result.output

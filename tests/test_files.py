"""Files the tool writes: names that cannot leave their folder, YAML that cannot be injected,
scenario files that never replace the baseline or an existing file, one writer per folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import BASELINE, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnelsim.cli as cli
from funnelsim.cli import company_commands
from funnelsim import load_scenario
from funnelsim.config import paths as config
from funnelsim.config.files import (
    FolderBusy,
    commented_yaml,
    folder_lock,
    write_scenario_file,
    yaml_scalar,
)
from funnelsim.config.errors import ParameterError
from funnelsim.config.yaml_files import parse_yaml, read_yaml
from funnelsim.studies.assessment import (
    QUESTIONS,
    assess,
    scenario_text,
    write_scenario,
)
from funnelsim.studies.calibrated_scenario import Calibration

HOSTILE = [
    "../../../../tmp/x", "/abs/path", "..", ".", "", " ", "a/../../b", "C:\\Windows\\x", "x\x00y", "~/x", "\n",
    "name: x\nsimulation: {horizon_days: 9999}", "# not a comment", "a: b", "- item", "'quoted'", '"dq"', "&anchor",
    "*alias", "!!python/object:os.system", "1e3", "0x1F", "yes", "null", "~", "2025-01-01", "<<", "{x: 1}", "[1]",
    "\u2028line separator", "\x85next line", "\udcff surrogate", "tab\there", "\ufeffbom", "Ca\u0301fe\u0301", "日本語", "x" * 5000,
]
NAMES = st.one_of(st.sampled_from(HOSTILE), st.text(), st.text(alphabet="./\\:#-_ \n\rxX0", max_size=30))
TYPICAL = load_scenario(BASELINE)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- names become paths only through slug ---------------------------------------------------


@SETTINGS
@given(NAMES)
def test_a_slug_is_one_plain_name_inside_its_folder(tmp_path, name):
    made = config.slug(name)
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", made) and len(made) <= config.SLUG_LENGTH + 9
    folder = tmp_path / "reports"
    for path in (folder / made, config.default_run_dir(name), config.default_sweep_dir(name), config.default_plan_dir(name)):
        base = folder if path.parent == folder else config.REPORTS_DIR
        assert path.resolve().is_relative_to(base.resolve()) and path.resolve() != base.resolve()


def test_slugs_keep_ordinary_names_and_tell_unreadable_ones_apart():
    assert config.slug("closed-loop") == "closed-loop" and config.slug("Café Crème") == "Cafe-Creme"
    assert config.slug("../../../../tmp/x") == "tmp-x" and config.slug("/abs/path") == "abs-path"
    assert config.slug("日本") != config.slug("中国") and config.slug("日本").startswith("unnamed-")


def test_run_and_sweep_names_write_inside_reports(tmp_path, monkeypatch):
    """`--set name=../..` and a sweep named '/abs/...' stay under reports/."""
    reports = tmp_path / "reports"
    monkeypatch.setattr(config, "REPORTS_DIR", reports)
    small = ["simulation.horizon_days=20", "simulation.warmup_days=5"]
    sets = [arg for o in [*small, "name=../../../../escaped-run"] for arg in ("--set", o)]
    result = CliRunner().invoke(cli.main, ["run", str(BASELINE), "-r", "1", *sets])
    assert result.exit_code == 0, result.output
    assert [p.name[:11] for p in (reports / "runs").iterdir()] == ["escaped-run"]
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: {tmp_path}/escaped-sweep\ndesign: full_factorial\nbase: {BASELINE}\n"
                     "factors: {sdr_team.reps: [4], simulation.horizon_days: [20], simulation.warmup_days: [5]}\n"
                     "replications: 1\n")
    result = CliRunner().invoke(cli.main, ["sweep", str(sweep), "--executor", "serial", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (reports / "sweeps").iterdir()] == [config.slug(f"{tmp_path}/escaped-sweep")]
    assert not list(tmp_path.glob("escaped*"))


# --- where files are found and where they go --------------------------------------------------


def test_a_named_file_is_looked_for_here_first_then_among_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shipped = config.data_dir("params") / "baseline.yaml"
    assert config.locate("params/baseline.yaml") == shipped and shipped.is_file()
    assert config.locate("examples/crm-mapping.yaml") == config.data_dir("examples") / "crm-mapping.yaml"
    assert config.locate("params/nope.yaml") == Path("params/nope.yaml")  # so the error names it as typed
    assert config.locate("baseline.yaml") == Path("baseline.yaml")  # only params/, notebooks/, examples/
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "baseline.yaml").write_text("# mine\n")
    assert config.locate("params/baseline.yaml") == Path("params/baseline.yaml")
    monkeypatch.setenv("FUNNELSIM_PARAMS", str(tmp_path / "library"))
    assert config.data_dir("params") == tmp_path / "library"
    with pytest.raises(ValueError, match="one of params, notebooks, examples"):
        config.data_dir("reports")


def test_from_another_folder_the_cli_reads_the_shipped_files_and_writes_there(tmp_path, monkeypatch):
    """With the checkout installed editable, a run from elsewhere writes nothing into the checkout."""
    monkeypatch.chdir(tmp_path)
    before = sorted((ROOT / "reports").iterdir())
    result = CliRunner().invoke(cli.main, ["validate", "params/baseline.yaml"])
    assert result.exit_code == 0 and "params/baseline.yaml: ok" in result.output, result.output
    small = ["--set", "simulation.horizon_days=20", "--set", "simulation.warmup_days=5"]
    result = CliRunner().invoke(cli.main, ["run", "params/baseline.yaml", "-r", "1", *small])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "reports" / "runs").iterdir())) == 1 and sorted((ROOT / "reports").iterdir()) == before
    help_text = CliRunner().invoke(cli.main, ["calibrate", "--help"]).output
    assert "[default:" in help_text and "params/baseline.yaml" in help_text and str(ROOT) not in help_text


# --- YAML the tool writes ---------------------------------------------------------------------

PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | NAMES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(PLAIN)
def test_a_yaml_scalar_is_one_line_read_back_as_itself(value):
    text = yaml_scalar(value)
    assert "\n" not in text and "\r" not in text
    assert parse_yaml(f"key: {text}  # a comment") == {"key": value}


def test_a_file_read_again_is_what_it_holds_now_and_each_reader_gets_its_own_copy(tmp_path):
    path = tmp_path / "company.yaml"
    path.write_text("sdr_team: {reps: 4}\n")
    first = read_yaml(path, "company.yaml")
    first["sdr_team"]["reps"] = 99  # a caller changing what it got changes nothing for the next
    assert read_yaml(path, "company.yaml") == {"sdr_team": {"reps": 4}}
    path.write_text("sdr_team: {reps: 5}\n")  # the same size, at once: the text decides, not the file's time
    assert read_yaml(path, "company.yaml") == {"sdr_team": {"reps": 5}}
    path.write_text("sdr_team: {reps: 4}\nsdr_team: {reps: 5}\n")
    for _ in range(2):  # a refusal is a refusal every time
        with pytest.raises(ParameterError, match="line 2"):
            read_yaml(path, "company.yaml")


@SETTINGS
@given(st.dictionaries(NAMES, st.dictionaries(NAMES, PLAIN, max_size=3), max_size=3), NAMES, NAMES)
def test_commented_yaml_reads_back_as_what_was_written(tmp_path, body, comment, header):
    comments = {f"{section}.{key}": comment for section, inner in body.items() for key in inner}
    path = tmp_path / "out.yaml"
    path.write_text(commented_yaml([header, comment], {"name": header}, body, comments), encoding="utf-8")
    data = read_yaml(path, str(path))
    assert data.pop("name") == header
    # a section whose keys all carry comments is written whole; an empty one reads back as None
    assert data == {k: (v or None) for k, v in body.items()}


@SETTINGS
@given(NAMES)
def test_a_company_name_is_one_string_however_it_is_written(company):
    """A company 'x\\nsimulation: {horizon_days: 9999}' is text in a comment and a description, not YAML."""
    result = assess(company, {q: "partly" for q in QUESTIONS})
    data = parse_yaml(scenario_text(result, TYPICAL, "../baseline.yaml", "acme"))
    assert data["description"] == f"From the alignment assessment of {company} (50% of the signs)."
    assert set(data) == {"extends", "name", "description", "maturity", *(key.split(".")[0] for key in result.lever_settings(TYPICAL))}
    assert "horizon_days" not in str(data.get("simulation", ""))


def test_the_committed_level_files_are_unchanged_by_the_writer():
    for name in ("fully-aligned", "somewhat-misaligned"):
        text = (ROOT / "params" / "scenarios" / f"{name}.yaml").read_text()
        assert "'" not in text and '"' not in text  # nothing needed quoting


def _calibration(channels: list[str], source: str) -> Calibration:
    keys = [f"channels.{c}.leads_per_week" for c in channels] + ["follow_up.follow_up_rate"]
    estimates = pd.DataFrame(
        {"key": keys, "value": [1.5] * len(keys), "ci_low": 1.0, "ci_high": 2.0, "n": 10,
         "method": f"Poisson count ({source})", "fit": "", "source": "export"}
    )
    return Calibration(source=source, estimates=estimates, settings=dict.fromkeys(keys, 1.5), window_days=90)


def _utf8(text: str) -> bool:
    return text == text.encode("utf-8", "replace").decode("utf-8")


@SETTINGS
@given(st.lists(NAMES.filter(_utf8), min_size=1, max_size=4, unique=True), NAMES.filter(_utf8))  # as a CSV holds them
def test_calibrated_channel_names_round_trip(channels, source):
    """Channel names with '#', ': ', dots or line breaks come back as they went in."""
    text = _calibration(channels, source).scenario_text("../baseline.yaml", "x", 0, 10)
    data = parse_yaml(text)
    assert data["channels"] == {c: {"leads_per_week": 1.5} for c in channels}
    assert data["follow_up"] == {"follow_up_rate": 1.5}


# --- scenario files: validated, atomic, never over the baseline or an existing file ---------


@pytest.fixture
def params(tmp_path) -> Path:
    folder = tmp_path / "params"
    folder.mkdir()
    shutil.copy(BASELINE, folder / "baseline.yaml")
    return folder


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "baseline.yaml")


def test_a_company_called_baseline_never_replaces_the_baseline(params, monkeypatch):
    monkeypatch.setattr(company_commands, "ASSESS_DIR", params)
    before = (params / "baseline.yaml").read_text()
    answers = params.parent / "answers.yaml"
    for company in ("Baseline", "BASELINE", " baseline "):
        answers.write_text(f"company: {company!r}\nanswers:\n" + "".join(f"  {q}: partly\n" for q in QUESTIONS))
        for force in ([], ["--force"]):
            result = CliRunner().invoke(cli.main, ["assess", str(answers), "--baseline", str(params / "baseline.yaml"), *force])
            assert result.exit_code == 2 and "never overwritten" in result.output, result.output
            assert "Traceback" not in result.output
    assert (params / "baseline.yaml").read_text() == before and _leftovers(params) == []
    result = CliRunner().invoke(cli.main, ["assess", str(answers), "--out", str(BASELINE), "--force"])
    assert result.exit_code == 2 and "never overwritten" in result.output


def test_an_existing_file_is_kept_without_force(params, monkeypatch):
    monkeypatch.setattr(company_commands, "ASSESS_DIR", params)
    answers = params.parent / "answers.yaml"
    answers.write_text("company: Acme Ltd\nanswers:\n" + "".join(f"  {q}: yes\n" for q in QUESTIONS))
    (params / "acme-ltd.yaml").write_text("# mine\n")
    args = ["assess", str(answers), "--baseline", str(params / "baseline.yaml")]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 2 and "already exists; add --force" in result.output
    assert (params / "acme-ltd.yaml").read_text() == "# mine\n"
    result = CliRunner().invoke(cli.main, [*args, "--force"])
    assert result.exit_code == 0, result.output
    assert load_scenario(params / "acme-ltd.yaml").name == "acme-ltd" and _leftovers(params) == ["acme-ltd.yaml"]


def test_interactive_assess_refuses_before_the_questions(params, monkeypatch):
    monkeypatch.setattr(company_commands, "ASSESS_DIR", params)
    result = CliRunner().invoke(cli.main, ["assess", "--baseline", str(params / "baseline.yaml")], input="Baseline\n")
    assert result.exit_code == 2 and "never overwritten" in result.output and "1." not in result.output


def test_a_file_that_does_not_validate_leaves_nothing_behind(params):
    target = params / "new.yaml"
    with pytest.raises(ParameterError, match="sdr_team.reps"):
        write_scenario_file("extends: baseline.yaml\nname: x\nsdr_team: {reps: -1}\n", target, params / "baseline.yaml")
    with pytest.raises(ParameterError, match="malformed YAML"):
        write_scenario_file("extends: baseline.yaml\nname: [x\n", target, params / "baseline.yaml")
    assert _leftovers(params) == []


def test_a_file_the_baseline_extends_is_protected_too(params):
    child = params / "child.yaml"
    child.write_text("extends: baseline.yaml\nname: child\n")
    result = assess("x", {q: "no" for q in QUESTIONS})
    with pytest.raises(ParameterError, match="never overwritten"):
        write_scenario(result, params / "baseline.yaml", child, force=True)
    write_scenario(result, params / "x.yaml", child)
    assert load_scenario(params / "x.yaml").closed_loop.enabled is False


def test_calibrate_never_writes_over_the_baseline_or_an_existing_file(params, tmp_path):
    export = ROOT / "examples" / "crm-export-synthetic.csv"
    mapping = ROOT / "examples" / "crm-mapping.yaml"
    base = params / "baseline.yaml"
    before = base.read_text()
    for out, force in ((base, ["--force"]), (base, []), (BASELINE, ["--force"])):
        result = CliRunner().invoke(cli.main, ["calibrate", str(export), "-m", str(mapping), "--out", str(out), "--baseline", str(base), *force])
        assert result.exit_code == 2 and "never overwritten" in result.output, result.output
    (params / "mine.yaml").write_text("# mine\n")
    result = CliRunner().invoke(cli.main, ["calibrate", str(export), "-m", str(mapping), "--out", str(params / "mine.yaml"), "--baseline", str(base)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert base.read_text() == before and (params / "mine.yaml").read_text() == "# mine\n"
    assert _leftovers(params) == ["mine.yaml"]  # not even the bad-rows report


# --- one writer per results folder ------------------------------------------------------------


def test_a_folder_lock_refuses_a_second_writer_and_takes_over_a_dead_ones(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "results"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from funnelsim.config.files import folder_lock\n"
         f"with folder_lock(Path({str(folder)!r})):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusy, match=rf"another funnelsim is writing here \(pid {holder.pid} on "):
            with folder_lock(folder):
                pass
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(folder) as note:  # the holder died holding it: the lock is free, its name stays
        assert note and f"pid {holder.pid}" in note and "no longer running" in note
    with folder_lock(folder) as note:
        assert note is None

"""Hostile and careless YAML files: every reader refuses them at once, with one clear line.

Duplicate keys, foreign encodings, pipes and devices, huge files, deep nesting, alias bombs and
long ``extends`` chains are refused by ``params.read_yaml``, which every YAML file we read goes
through (scenarios, sweeps, plans, CRM mappings, assessments), in bounded time and memory.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BASELINE, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnelsim.cli import main
from funnelsim.config.errors import ParameterError
from funnelsim.config.loading import MAX_EXTENDS
from funnelsim.config.yaml_files import MAX_ALIAS_VALUES, MAX_YAML_BYTES, MAX_YAML_DEPTH, describe, read_yaml
from funnelsim.config.schema import load_scenario
from funnelsim.experiments.sweeps import load_sweep
from funnelsim.studies.assessment import load_answers
from funnelsim.studies.crm_export import load_mapping
from funnelsim.studies.plan_file import load_plan

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True)


def refused(path: Path, reader=read_yaml) -> str:
    """The one message a reader gives for ``path``."""
    with pytest.raises(ParameterError) as caught:
        reader(path, str(path)) if reader is read_yaml else reader(path)
    assert len(caught.value.lines) == 1, caught.value.lines
    return caught.value.lines[0]


# --- duplicate keys -----------------------------------------------------------------------------


@FAST
@given(keys=st.lists(KEYS, min_size=1, max_size=6, unique=True), parents=st.lists(KEYS, max_size=4),
       twice=st.integers(0, 5), data=st.data())
def test_a_key_written_twice_is_refused_at_its_second_line(tmp_path, keys, parents, twice, data):
    """Anywhere in the file, in any mapping: the message names the key and both lines."""
    twice = twice % len(keys)
    copy_at = data.draw(st.integers(twice + 1, len(keys)), label="second occurrence after")
    lines = [f"{'  ' * i}{parent}:" for i, parent in enumerate(parents)]
    indent = "  " * len(parents)
    body = [f"{indent}{key}: {i}" for i, key in enumerate(keys)]
    body.insert(copy_at, f"{indent}{keys[twice]}: again")
    path = tmp_path / "dup.yaml"
    path.write_text("\n".join(lines + body) + "\n")
    first, second = len(parents) + twice + 1, len(parents) + copy_at + 1
    assert refused(path) == f"{path}: line {second}: key '{keys[twice]}' appears twice (first on line {first}); keep one"


def test_a_merge_key_may_be_overridden(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  x: 3\n")
    assert read_yaml(path, "f")["other"] == {"x": 3, "y": 2}


@pytest.mark.parametrize("reader, text", [
    (load_scenario, f"extends: {BASELINE}\nsdr_team: {{reps: 3}}\nsdr_team: {{reps: 4}}\n"),
    (load_sweep, "design: full_factorial\nbase: x.yaml\nbase: y.yaml\n"),
    (load_plan, "scenario: a.yaml\nscenario: b.yaml\n"),
    (load_mapping, "outcomes: {won: [Won], won: [Lost]}\n"),
    (load_answers, "company: A\ncompany: B\nanswers: {}\n"),
], ids=["scenario", "sweep", "plan", "mapping", "assessment"])
def test_every_yaml_reader_refuses_duplicate_keys(tmp_path, reader, text):
    path = tmp_path / "file.yaml"
    path.write_text(text)
    line = refused(path, reader)
    assert line.startswith(f"{path}: line ") and "appears twice" in line


def test_a_set_value_with_a_duplicate_key_is_refused():
    with pytest.raises(ParameterError) as caught:
        load_scenario(BASELINE, ["sdr_team={reps: 3, reps: 4}"])
    assert caught.value.lines == ["--set sdr_team={reps: 3, reps: 4}: key 'reps' appears twice (first on line 1); keep one"]


# --- encodings ----------------------------------------------------------------------------------


@FAST
@given(before=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
       accent=st.sampled_from("éüßñø°£Ä"), after=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20))
def test_latin_1_text_is_refused_naming_the_first_byte(tmp_path, before, accent, after):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(f"name: {before}{accent}{after}\n".encode("latin-1"))
    offset = len("name: ") + len(before)
    assert refused(path) == (f"{path}: not UTF-8 text (byte 0x{ord(accent):02x} at offset {offset}: "
                             "Latin-1 or Windows-1252 text, perhaps); save it as UTF-8")


@pytest.mark.parametrize("encoding, offset, kind", [
    ("utf-16", 0, "it starts with a UTF-16 byte order mark"),
    ("utf-16-le", 1, "UTF-16 or binary data"),
    ("utf-16-be", 0, "UTF-16 or binary data"),
])
def test_utf_16_is_refused(tmp_path, encoding, offset, kind):
    path = tmp_path / "wide.yaml"
    path.write_bytes("name: x\n".encode(encoding))
    message = refused(path)
    assert message.startswith(f"{path}: not UTF-8 text (byte 0x") and f"at offset {offset}: {kind}); save it as UTF-8" in message


def test_a_utf_8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: Zoë\n".encode("utf-8"))
    assert read_yaml(path, "f") == {"name": "Zoë"}


# --- what is not a small regular file -----------------------------------------------------------


def _finishes(call, seconds: float = 20.0) -> BaseException | None:
    """Run ``call`` in a thread; fail if it blocks, else return what it raised."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the reader blocked"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    error = _finishes(lambda: load_scenario(fifo))
    assert isinstance(error, ParameterError)
    assert error.lines == [f"{fifo}: not a regular file (a pipe, device or socket); give a file saved on disk"]


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused_even_through_a_link(tmp_path):
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    for path in (Path("/dev/zero"), link):
        error = _finishes(lambda: read_yaml(path, str(path)))
        assert isinstance(error, ParameterError) and "not a regular file" in error.lines[0]


def test_a_folder_is_refused(tmp_path):
    assert refused(tmp_path) == f"{tmp_path}: a folder, not a file"


def test_a_huge_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(100 * MAX_YAML_BYTES)
    started = time.process_time()
    message = refused(path)
    assert time.process_time() - started < 1
    assert message.startswith(f"{path}: 100.0 MB, above the 1.0 MB limit for YAML files")


def test_a_file_just_under_the_limit_is_read(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n# " + "." * (MAX_YAML_BYTES - 20) + "\n")
    assert read_yaml(path, "f") == {"name": "x"}


# --- nesting, aliases, extends ------------------------------------------------------------------


@FAST
@given(depth=st.integers(MAX_YAML_DEPTH + 1, 5000).filter(lambda d: d % 600 > MAX_YAML_DEPTH), style=st.sampled_from(["list", "flow", "block"]))
def test_deep_nesting_is_refused(tmp_path, depth, style):
    text = {
        "list": "a: " + "[" * depth + "]" * depth,
        "flow": "a: " + "{b: " * depth + "1" + "}" * depth,
        "block": "".join("  " * i + "b:\n" for i in range(depth % 600)) + "  " * (depth % 600) + "c: 1",
    }[style]
    path = tmp_path / "deep.yaml"
    path.write_text(text + "\n")
    message = refused(path)
    assert message.startswith(f"{path}: line ") and message.endswith(f": nested deeper than {MAX_YAML_DEPTH} levels")


def _aliases(width: int, levels: int) -> str:
    """An anchored list of ``width`` strings, then ``levels`` lists of ``width`` aliases of the one before."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    lines.append(f"name: *l{levels}")
    return "\n".join(lines) + "\n"


@FAST
@given(width=st.integers(2, 12), levels=st.integers(1, 12))
def test_aliases_may_repeat_a_bounded_number_of_values(tmp_path, width, levels):
    """Billion laughs: a few lines that stand for width**levels values."""
    path = tmp_path / "aliases.yaml"
    path.write_text(_aliases(width, levels))
    sizes = [1 + width]  # values each anchored list stands for
    for _ in range(levels):
        sizes.append(1 + width * sizes[-1])
    repeated = sum(width * size for size in sizes[:-1]) + sizes[-1]
    if repeated > MAX_ALIAS_VALUES:
        assert "repeat more than 100,000 values; write the values out" in refused(path)
    else:
        assert len(read_yaml(path, "f")) == levels + 2


def test_an_alias_bomb_in_a_string_field_fails_fast(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(f"extends: {BASELINE}\n" + _aliases(10, 9))
    started = time.process_time()
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert time.process_time() - started < 5
    assert result.exit_code == 2 and "repeat more than 100,000 values" in result.output and "Traceback" not in result.output


def test_an_alias_inside_its_own_value_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [1, {b: *a}]\n")
    assert refused(path) == f"{path}: line 1: alias *a is inside the value it names"


def test_extends_chains_are_bounded(tmp_path):
    previous = BASELINE
    for i in range(MAX_EXTENDS + 5):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(f"extends: {previous}\n")
        previous = path
        if i + 2 == MAX_EXTENDS:  # this file, its i ancestors and the baseline
            assert load_scenario(path).name == path.stem
    message = refused(previous, load_scenario)
    assert f"extends: a chain of more than {MAX_EXTENDS} files" in message and "allowed: at most 20" in message


# --- values YAML cannot turn into data, and values too big to show ----------------------------


@pytest.mark.parametrize("value, shown", [
    ("2025-13-45", "cannot read '2025-13-45': month must be in 1..12"),
    ("1" * 5000, "cannot read '" + "1" * 56 + "...: Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits"),
])
def test_unreadable_scalars_name_their_line(tmp_path, value, shown):
    path = tmp_path / "scalar.yaml"
    path.write_text(f"name: x\ndescription: {value}\n")
    assert refused(path) == f"{path}: line 2: {shown}"


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=8), inner, max_size=8),
    max_leaves=60,
)


@settings(max_examples=200, deadline=None)
@given(value=JSONISH)
def test_values_are_shown_short_and_as_written(value):
    text = describe(value)
    assert len(text) <= 60
    if len(repr(value)) <= 60:
        assert text == (repr(value) if isinstance(value, (str, list, dict)) else str(value))


def test_a_self_referencing_or_huge_value_is_shown_at_once():
    looped: list = []
    looped.append(looped)
    huge: list = ["x"] * 10
    for _ in range(30):
        huge = [huge] * 10  # 10**31 values if walked
    started = time.process_time()
    assert describe(looped).startswith("[[[[") and describe({"a": huge}).startswith("{'a': [[[")
    assert describe(10 ** 5000) == "a number of 5001 digits"
    assert time.process_time() - started < 0.1


def test_a_thousand_bad_values_are_one_screen_of_errors(tmp_path):
    path = tmp_path / "many.yaml"
    values = ", ".join(["x"] * 1000)
    path.write_text(f"extends: {BASELINE}\nchannels: {{events: {{quality: {{dist: empirical, values: [{values}]}}}}}}\n")
    with pytest.raises(ParameterError) as caught:
        load_scenario(path)
    assert len(caught.value.lines) == 51 and caught.value.lines[-1] == f"{path}: ... and 950 more problems"


def test_shipped_yaml_files_are_within_every_limit():
    for path in sorted(ROOT.glob("params/**/*.yaml")) + sorted(ROOT.glob("examples/*.yaml")):
        assert isinstance(read_yaml(path, str(path)), dict), path

"""Notebooks hold prose, parameters and calls: every study's logic lives in the package.

Each notebook's code cells are read as Python (IPython's ``%`` lines left out) and may not
define a function or class, assign a lambda, loop (``for``, ``while``) or build a collection
with a comprehension: a loop or a helper in a notebook is logic that neither the command line
nor a test can reach. Each study notebook calls the ``run_*`` function of its module, which
the command line calls too where it has a command for the study.
"""

from __future__ import annotations

import ast
import importlib

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# notebook: the package function it calls to run its study (module, function)
STUDIES = {
    "alignment_impact": ("funnelsim.studies.alignment_impact", "run_alignment_impact"),
    "calibration": ("funnelsim.studies.calibration_run", "run_calibration"),  # and funnelsim calibrate
    "claims_check": ("funnelsim.studies.claims_check", "run_claims_check"),
    "classroom": ("funnelsim.studies.classroom", "play"),  # the sliders call it too, on every move
    "classroom_instructor": ("funnelsim.studies.classroom_answers", "run_classroom_answers"),
    "explorer": ("funnelsim.present.explorer", "explorer_panel"),  # served by funnelsim app
    "scenario_report": ("funnelsim.studies.scenario_report", "run_scenario_report"),
    "sensitivity": ("funnelsim.studies.sensitivity", "run_sensitivity"),
    "speed_to_lead": ("funnelsim.studies.speed_to_lead", "run_speed_to_lead"),
    "what_it_takes": ("funnelsim.studies.planning", "run_plan"),  # and funnelsim plan
}

LOGIC = {
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
}


def code_cells(path) -> list[tuple[int, ast.Module]]:
    book = nbformat.read(path, as_version=4)
    cells = []
    for index, cell in enumerate(book.cells):
        if cell.cell_type == "code":
            source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.splitlines())
            cells.append((index, ast.parse(source, filename=f"{path.name} cell {index}")))
    return cells


def logic_in(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        what = LOGIC.get(type(node))
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and isinstance(node.value, ast.Lambda):
            what = "a lambda assigned to a name"
        if what:
            found.append(f"line {node.lineno}: {what}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_cells_hold_no_logic(path):
    problems = [f"{path.name} cell {index}, {found}" for index, tree in code_cells(path) for found in logic_in(tree)]
    assert problems == [], "move this into the study's module:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_calls_its_study_function(path):
    module, function = STUDIES[path.stem]
    assert callable(getattr(importlib.import_module(module), function))
    imported, called = set(), set()
    for _, tree in code_cells(path):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == module:
                imported.update(alias.name for alias in node.names)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called.add(node.func.id)
    assert function in imported and function in called, f"{path.name} should call {module}.{function}"


def test_every_notebook_has_a_study():
    assert set(STUDIES) == {p.stem for p in NOTEBOOKS}


def test_the_scan_finds_logic():
    tree = ast.parse("def f():\n    pass\nx = lambda v: v\nfor i in []:\n    pass\ny = [i for i in ()]\nprint(lambda v: v)\n")
    assert [line.split(": ", 1)[1] for line in logic_in(tree)] == [
        "a function definition", "a lambda assigned to a name", "a for loop", "a comprehension"]

"""A report notebook's parameters: only the names it declares, only values of their types.

papermill writes every parameter it is given into a cell of Python source, names as they are.
So before any kernel starts, each name given with ``-p`` or in a ``-f`` file must be one the
notebook declares in its ``parameters`` cell (``name: type = default  # help``), and each value
must be plain data (text, numbers, true/false, null, lists and mappings of those) of the
declared type, and an ``executor`` one of the executors. Anything else is refused with
``FILE: name: value: what is allowed``.
"""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path
from typing import Any

import papermill as pm
import yaml

from funnelsim.config.errors import ParameterError
from funnelsim.config.yaml_files import read_yaml
from funnelsim.config.schema import Scenario, load_scenario
from funnelsim.experiments.executors import EXECUTORS

__all__ = ["CHOICES", "RESERVED", "check_parameters", "declared", "notebook_parameters", "parameters_from_file", "parameters_from_pairs"]

RESERVED = {"output_dir": "set by funnelsim report to the report's data folder; choose the folder with --out"}
# Parameters every notebook that has them takes from a fixed list.
CHOICES = {"executor": EXECUTORS}
_MAX_DEPTH = 50


def declared(notebook: Path) -> dict[str, str]:
    """Each declared parameter's name and its type as written (``int``, ``list``, ``str | None``...)."""
    return {name: spec["inferred_type_name"] for name, spec in pm.inspect_notebook(str(notebook)).items()}


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """The notebook's declared parameters and their defaults (from its ``parameters`` cell)."""
    return {name: _literal(spec["default"]) for name, spec in pm.inspect_notebook(str(notebook)).items()}


def _literal(source: str) -> Any:
    """A default as papermill reads it (Python source text) turned into its value."""
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError):
        return source


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(value: Any, depth: int = 0) -> bool:
    """Text, numbers, booleans, null, and lists and mappings (with text keys) of those."""
    if depth > _MAX_DEPTH:
        return False
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    return False


_TYPES = {"int": "a whole number", "float": "a number", "str": "text", "bool": "true or false", "list": "a list", "dict": "a mapping"}


def _base_type(type_name: str) -> tuple[str | None, bool]:
    """The declared type reduced to one of _TYPES (None: unknown, any plain value), and whether None is allowed."""
    text = type_name.replace(" ", "")
    optional = text.startswith("Optional[") or "|None" in text or "None|" in text
    text = re.sub(r"^Optional\[(.*)\]$", r"\1", text).replace("|None", "").replace("None|", "")
    base = re.sub(r"\[.*$", "", text).lower()
    return (base if base in _TYPES else None), optional


def _fits(value: Any, type_name: str) -> bool:
    base, optional = _base_type(type_name)
    if value is None:
        return optional or base is None
    if base == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if base == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base == "str":
        return isinstance(value, str)
    if base == "bool":
        return isinstance(value, bool)
    if base == "list":
        return isinstance(value, list)
    if base == "dict":
        return isinstance(value, dict)
    return True


def _unknown(label: str, name: Any, notebook: Path, names: dict[str, str]) -> str:
    shown = name if isinstance(name, str) and name.isidentifier() else _shown(name)
    close = difflib.get_close_matches(str(name), list(names), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{label}: {shown}: not a parameter of {notebook.stem}; {hint}its parameters: {_listed(names)}"


def _listed(names: dict[str, str]) -> str:
    return ", ".join(name for name in names if name not in RESERVED)


def check_parameters(notebook: Path, parameters: dict[str, Any], label: str = "parameters") -> None:
    """Raise ``ParameterError`` naming every parameter the notebook does not declare or cannot take."""
    names = declared(notebook)
    problems = []
    for name, value in parameters.items():
        if name in RESERVED:
            problems.append(f"{label}: {name}: {RESERVED[name]}")
        elif name not in names:
            problems.append(_unknown(label, name, notebook, names))
        elif not _plain(value):
            problems.append(f"{label}: {name}: {_shown(value)}: only plain values (text, numbers, true/false, "
                            f"null, lists and mappings of those)")
        elif not _fits(value, names[name]):
            base, optional = _base_type(names[name])
            wanted = _TYPES.get(base or "", "a value") + (" or null" if optional else "")
            problems.append(f"{label}: {name}: {_shown(value)}: {wanted} ({name}: {names[name]})")
        elif name in CHOICES and value not in CHOICES[name]:
            problems.append(f"{label}: {name}: {_shown(value)}: one of {', '.join(CHOICES[name])}")
    if problems:
        raise ParameterError(problems)


def parameters_from_pairs(notebook: Path, pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs as checked parameters; each VALUE is YAML (text for a ``str`` parameter)."""
    names = declared(notebook)
    parameters: dict[str, Any] = {}
    problems = []
    for name, raw in pairs:
        try:
            value = yaml.safe_load(raw)
        except (yaml.YAMLError, RecursionError):
            problems.append(f"-p {name}: {_shown(raw)}: not a valid YAML value")
            continue
        if name in names and _base_type(names[name])[0] == "str" and not isinstance(value, (str, list, dict)):
            value = raw  # `-p kpi yes` or `-p scenario_file 2025` mean the text
        parameters[name] = value
    if problems:
        raise ParameterError(problems)
    check_parameters(notebook, parameters, "-p")
    return parameters


_SCENARIO_KEYS = {*(field.alias or name for name, field in Scenario.model_fields.items()), "extends"}


def parameters_from_file(notebook: Path, path: Path) -> dict[str, Any]:
    """Parameters from a YAML file: notebook parameters, or a scenario file for the notebook.

    A file naming any of the notebook's parameters is a parameter file, and every name in it must
    be one (as with plain papermill, but checked). A file of scenario keys is validated as a
    scenario and passed to the notebook's ``scenario_file`` parameter, or as its ``scenario_files``.
    """
    label = str(path)
    data = read_yaml(path, label)
    names = declared(notebook)
    if set(data) & set(names) or not set(data) <= _SCENARIO_KEYS:
        if not set(data) & set(names):  # neither: name the first stranger in both terms
            stranger = next(k for k in data if k not in _SCENARIO_KEYS)
            raise ParameterError([_unknown(label, stranger, notebook, names) + "; nor is it a key of a scenario file"])
        check_parameters(notebook, data, label)
        return data
    if "scenario_file" not in names and "scenario_files" not in names:
        raise ParameterError([f"{label}: a scenario file, but {notebook.stem} takes none; its parameters: {_listed(names)}"])
    load_scenario(path)  # a broken scenario is refused here, not in a cell after the kernel started
    if "scenario_file" in names:
        return {"scenario_file": str(path.resolve())}
    return {"scenario_files": [str(path.resolve())]}

"""Reading YAML input files into validated models: one toolkit for every file we read.

Every YAML file we read (scenarios, sweeps, plans, CRM mappings, assessments, targets) is read
safely by ``funnelsim.config.yaml_files.read_yaml`` (size, encoding, what the YAML may hold);
here it may extend another, in ``extends`` chains of at most 20 files.

``load_validated(path, schema, overrides)`` is the one way a file becomes a pydantic model:
read (following ``extends`` if asked), apply ``key.path=value`` overrides (as ``--set`` does),
validate; every mistake becomes a ``ParameterError`` whose ``lines`` read
``FILE: key.path: value: what is allowed`` (``format_errors``). A rule that ties several keys
together raises ``KeyRuleError`` in a validator and is reported at the key that breaks it.

The schemas themselves live elsewhere (``funnelsim.config.schema`` for scenarios); this module knows
no schema, only how to read and report.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from funnelsim.config.distributions import KINDS, Distribution
from funnelsim.config.errors import ParameterError
from funnelsim.config.yaml_files import MAX_YAML_DEPTH, YamlRefused, clip, describe, parse_yaml, read_yaml

__all__ = [
    "MAX_ERROR_LINES",
    "MAX_EXTENDS",
    "KeyRuleError",
    "apply_overrides",
    "format_errors",
    "load_validated",
    "parse_override",
    "resolve_file",
    "schema_at",
    "set_path",
    "validate_data",
]

Model = TypeVar("Model", bound=BaseModel)


class KeyRuleError(ValueError):
    """Rules that tie several keys of a section together, each reported at the key breaking it.

    ``problems`` holds ``(key, rule)`` pairs, ``key`` a dotted path inside the section. The
    error report shows the key's value as written in the file (``missing`` when absent).
    """

    def __init__(self, *problems: tuple[str, str]):
        super().__init__("; ".join(f"{key}: {rule}" for key, rule in problems))
        self.problems = problems


MAX_EXTENDS = 20  # files in one extends chain
MAX_ERROR_LINES = 50  # problems listed for one file (a list of a million bad values is one mistake)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base``; a mapping naming a ``dist`` replaces wholesale."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and "dist" not in value:
            merged[key] = _merge(old, value)
        else:
            merged[key] = value
    return merged


def resolve_file(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    label = str(path)
    if path.resolve() in chain:
        raise ParameterError([f"{label}: extends: circular chain of files"])
    if len(chain) >= MAX_EXTENDS:
        raise ParameterError([f"{label}: extends: a chain of more than {MAX_EXTENDS} files (from {chain[0]}); "
                              f"allowed: at most {MAX_EXTENDS}"])
    data = read_yaml(path, label)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ParameterError([f"{label}: extends: {parent!r}: a path to another scenario file"])
    parent_path = (path.parent / parent).resolve()
    if not parent_path.is_file():
        raise ParameterError([f"{label}: extends: {parent!r}: no such file ({parent_path})"])
    inherited = resolve_file(parent_path, chain + (path.resolve(),))
    for own in ("name", "description"):  # a scenario's identity is never inherited
        inherited.pop(own, None)
    return _merge(inherited, data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into a key path and a YAML-parsed value."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ParameterError([f"--set {clip(text)}: expected key.path=value"])
    if key.count(".") >= MAX_YAML_DEPTH:
        raise ParameterError([f"--set {clip(text)}: a key path of more than {MAX_YAML_DEPTH} parts"])
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except YamlRefused as exc:
        raise ParameterError([f"--set {clip(text)}: {exc.problem}"]) from None
    except yaml.YAMLError:
        raise ParameterError([f"--set {clip(text)}: the value is not valid YAML"]) from None
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set each ``key.path=value``: the value replaces what was there (no merging)."""
    for text in overrides:
        path, value = parse_override(text)
        data = set_path(data, path, value)
    return data


def set_path(data: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of ``data`` with ``value`` at ``path`` (a list item by its position: ``knots.1``)."""
    out = dict(data)
    head, rest = path[0], path[1:]
    if not rest:
        out[head] = value
        return out
    inner = out.get(head)
    if isinstance(inner, list) and rest[0].isdigit() and int(rest[0]) < len(inner):
        items = list(inner)
        index = int(rest[0])
        items[index] = value if len(rest) == 1 else set_path(items[index], rest[1:], value)
        out[head] = items
    else:
        out[head] = set_path(inner if isinstance(inner, dict) else {}, rest, value)
    return out


def _unwrap(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


_DISTRIBUTION = _unwrap(Distribution)


def _walk(model: type[BaseModel], loc: tuple[Any, ...] | list[Any]) -> tuple[tuple[Any, ...], Any]:
    """Follow a pydantic error location through the schema.

    Returns the key path as written in the file and the type found there (None where the path
    leads nowhere). Inside a distribution pydantic adds the chosen ``dist`` name as an extra
    location part (``quality.normal.sd``); it is dropped here, and only there, so a channel
    called ``normal`` keeps its name.
    """
    keys: list[Any] = []
    current: Any = model
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        current = _unwrap(current)
        if current == _DISTRIBUTION:
            current = KINDS.get(str(part))  # the union's tag, not a key in the file
            continue
        keys.append(part)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field is not None else None
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        else:
            current = None
    return tuple(keys), _unwrap(current)


def schema_at(model: type[BaseModel], path: tuple[Any, ...] | list[str]) -> Any:
    """The type a schema expects at a key path (None where the path leads nowhere)."""
    return _walk(model, path)[1]


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys the section (or distribution) at a pydantic error location accepts."""
    section = _walk(model, loc)[1]
    if isinstance(section, type) and issubclass(section, BaseModel):
        return [f.alias or name for name, f in section.model_fields.items()]
    return None


_ABSENT = object()


def _value_at(data: Any, key: str) -> Any:
    """The value at a dotted key path of the input as written (``_ABSENT`` if it is not there)."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return _ABSENT
        data = data[part]
    return data


def format_errors(label: str, exc: ValidationError, schema: type[BaseModel]) -> list[str]:
    """One ``FILE: key.path: value: what is allowed`` line per validation error."""
    tags = ", ".join(sorted(KINDS))
    lines = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_ERROR_LINES]:
        loc, _ = _walk(schema, err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        problem = err.get("ctx", {}).get("error")
        if isinstance(problem, KeyRuleError):
            for inner, rule in problem.problems:
                value = _value_at(err["input"], inner)
                where = ".".join([*map(str, loc), inner])
                shown = "missing" if value is _ABSENT or value is None else describe(value)
                lines.append(f"{label}: {where}: {shown}: {rule}")
        elif kind == "extra_forbidden":
            allowed = _allowed_keys(schema, err["loc"][:-1])
            what = f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
            lines.append(f"{label}: {key}: {what}")
        elif kind == "missing":
            lines.append(f"{label}: {key}: missing: this key is required")
        elif kind == "union_tag_invalid":
            lines.append(
                f"{label}: {key}.dist: {describe(err['input'].get('dist'))}: allowed distributions: {tags}"
            )
        elif kind == "union_tag_not_found":
            lines.append(
                f"{label}: {key}: {describe(err['input'])}: a distribution needs a 'dist' key, one of {tags}"
            )
        elif kind == "finite_number":
            lines.append(f"{label}: {key}: {describe(err['input'])}: must be a finite number (not .nan or .inf)")
        else:
            lines.append(f"{label}: {key}: {describe(err['input'])}: {msg[0].lower() + msg[1:]}")
    if len(errors) > MAX_ERROR_LINES:
        lines.append(f"{label}: ... and {len(errors) - MAX_ERROR_LINES:,} more problems")
    return lines


def validate_data(schema: type[Model], data: Any, label: str) -> Model:
    """``data`` validated into ``schema``, or a ``ParameterError`` with one line per problem."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ParameterError(format_errors(label, exc, schema)) from None


def load_validated(
    path: str | Path,
    schema: type[Model],
    overrides: Sequence[str] = (),
    *,
    extends: bool = False,
    defaults: Mapping[str, Any] | None = None,
    label: str | None = None,
) -> Model:
    """The YAML file at ``path`` as a ``schema`` model, or a ``ParameterError`` naming the file.

    The file is read within the limits above (``read_yaml``); with ``extends`` its ``extends:``
    chain is followed and merged (``resolve_file``). Each ``key.path=value`` of ``overrides``
    then replaces a value (as ``--set`` does), ``defaults`` fill keys still absent, and the
    result is validated. Problems reading the file are reported under the file's name, problems
    with its values under ``label`` (default: the file's name, plus the overrides if any).
    """
    path = Path(path)
    data = resolve_file(path) if extends else read_yaml(path, str(path))
    data = apply_overrides(data, list(overrides))
    for key, value in (defaults or {}).items():
        data.setdefault(key, value)
    if label is None:
        label = str(path) + (" (with --set " + ", ".join(overrides) + ")" if overrides else "")
    return validate_data(schema, data, label)

"""Reading YAML input files into validated models: one toolkit for every file we read.

Every YAML file we read (scenarios, sweeps, plans, CRM mappings, assessments, targets) goes
through ``read_yaml``: only regular files of at most 1 MB, UTF-8 text, safe YAML (no Python
tags), no key written twice in one mapping, at most 50 levels of nesting, aliases that repeat
at most 100,000 values in all, and ``extends`` chains of at most 20 files. A file that breaks a
rule is refused with ``FILE: line N: what is wrong``.

``load_validated(path, schema, overrides)`` is the one way a file becomes a pydantic model:
read (following ``extends`` if asked), apply ``key.path=value`` overrides (as ``--set`` does),
validate; every mistake becomes a ``ParameterError`` whose ``lines`` read
``FILE: key.path: value: what is allowed`` (``format_errors``). A rule that ties several keys
together raises ``KeyRuleError`` in a validator and is reported at the key that breaks it.

The schemas themselves live elsewhere (``funnelsim.config.schema`` for scenarios); this module knows
no schema, only how to read and report.
"""

from __future__ import annotations

import codecs
import copy
import math
import os
import re
import stat
import types
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from funnelsim.config.distributions import KINDS, Distribution
from funnelsim.config.errors import InputError

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_ERROR_LINES",
    "MAX_EXTENDS",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "KeyRuleError",
    "ParameterError",
    "apply_overrides",
    "decode_text",
    "describe",
    "format_errors",
    "load_validated",
    "parse_override",
    "parse_yaml",
    "read_bytes",
    "read_yaml",
    "resolve_file",
    "schema_at",
    "set_path",
    "validate_data",
]

Model = TypeVar("Model", bound=BaseModel)


class ParameterError(InputError):
    """An input file (or value) could not be loaded; ``lines`` holds one ``FILE: key: value: allowed`` each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines

    def messages(self) -> list[str]:
        return list(self.lines)




class KeyRuleError(ValueError):
    """Rules that tie several keys of a section together, each reported at the key breaking it.

    ``problems`` holds ``(key, rule)`` pairs, ``key`` a dotted path inside the section. The
    error report shows the key's value as written in the file (``missing`` when absent).
    """

    def __init__(self, *problems: tuple[str, str]):
        super().__init__("; ".join(f"{key}: {rule}" for key, rule in problems))
        self.problems = problems



# Limits on the YAML files we read (scenarios, sweeps, plans, mappings, assessments). Such files
# are a few kilobytes; the safe YAML parser is pure Python (about 7 s per MB), so 1 MB leaves
# ample room while bounding the time a file can take.
MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 50  # nesting levels (a scenario uses about 6)
MAX_ALIAS_VALUES = 100_000  # values that aliases (*name) may repeat in one file, in all
MAX_EXTENDS = 20  # files in one extends chain
MAX_ERROR_LINES = 50  # problems listed for one file (a list of a million bad values is one mistake)


class _YamlRefused(yaml.MarkedYAMLError):
    """YAML refused at a line: a duplicate key, deep nesting, an alias bomb, a value that cannot
    be read (a date 2025-13-45, a number of 5,000 digits)."""

    def __init__(self, problem: str, mark: yaml.Mark):
        super().__init__(problem=problem, problem_mark=mark)
        self.line = mark.line + 1


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML that also reads ``1e-3`` as a number (plain YAML 1.1 needs ``1.0e-3``), refuses
    a key written twice in one mapping, and bounds nesting and what aliases may repeat (a few
    nested aliases can stand for billions of values)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._repeated = 0
        self._sizes: dict[int, int] = {}
        self._open: list[str | None] = []  # anchors of the values being read, outermost first

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self._open:
                raise _YamlRefused(f"alias *{event.anchor} is inside the value it names", event.start_mark)
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                self._repeated += self._size(anchored)
                if self._repeated > MAX_ALIAS_VALUES:
                    raise _YamlRefused(
                        f"aliases (*{event.anchor} and others) repeat more than {MAX_ALIAS_VALUES:,} values; "
                        "write the values out", event.start_mark)
            return super().compose_node(parent, index)
        event = self.peek_event()
        if len(self._open) >= MAX_YAML_DEPTH:
            raise _YamlRefused(f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
        self._open.append(getattr(event, "anchor", None))
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.pop()

    def _size(self, node: yaml.Node) -> int:
        """How many values ``node`` stands for, aliases inside it expanded (counted once per node)."""
        known = self._sizes.get(id(node))
        if known is None:
            if isinstance(node, yaml.SequenceNode):
                known = 1 + sum(self._size(item) for item in node.value)
            elif isinstance(node, yaml.MappingNode):
                known = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
            else:
                known = 1
            self._sizes[id(node)] = known
        return known

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            shown = describe(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            raise _YamlRefused(f"cannot read {shown}: {str(exc).split(';')[0][:100]}", node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' may be overridden by the mapping's own keys
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if first is not key_node.start_mark:
                raise _YamlRefused(f"key {describe(key)} appears twice (first on line {first.line + 1}); keep one",
                                 key_node.start_mark)
        return super().construct_mapping(node, deep)


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


_REMEMBERED_TEXT = 64_000  # characters: texts up to this long are parsed once (scenario files are a few KB)


def parse_yaml(text: str) -> Any:
    """``text`` read as YAML by the safe loader above (refusals raise ``yaml.YAMLError``).

    Every scenario extends the baseline, so a study or a test reads the same few files again and
    again, and the pure-Python parser takes 18-25 ms for the baseline. A short text parsed
    before is answered from memory, as a copy (the caller may change what it gets)."""
    if len(text) > _REMEMBERED_TEXT:
        return _parse(text)
    return copy.deepcopy(_parsed_before(text))


@lru_cache(maxsize=32)
def _parsed_before(text: str) -> Any:
    return _parse(text)


def _parse(text: str) -> Any:
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass


def _size_text(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def _check_regular(info: os.stat_result, label: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise ParameterError([f"{label}: a folder, not a file"])
    if not stat.S_ISREG(info.st_mode):
        raise ParameterError([f"{label}: not a regular file (a pipe, device or socket); give a file saved on disk"])


def read_bytes(path: Path, label: str, max_bytes: int, what: str) -> bytes:
    """The contents of a regular file of at most ``max_bytes`` bytes, or a ``ParameterError``.

    Only regular files are read: a pipe would block and a device such as /dev/zero never ends.
    The type is checked before opening, and again on the open handle (opened without blocking)
    in case the file was swapped in between. ``what`` says in the message which files the
    limit is for and why.
    """
    try:
        info = os.stat(path)
        _check_regular(info, label)
        if info.st_size > max_bytes:
            raise ParameterError([f"{label}: {_size_text(info.st_size)}, above the {_size_text(max_bytes)} limit for {what}"])
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(handle, "rb") as file:
            _check_regular(os.fstat(file.fileno()), label)
            data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise ParameterError([f"{label}: file not found"]) from None
    except OSError as exc:
        raise ParameterError([f"{label}: cannot read: {exc.strerror}"]) from None
    if len(data) > max_bytes:  # grew since it was checked
        raise ParameterError([f"{label}: above the {_size_text(max_bytes)} limit for {what}"])
    return data


def decode_text(data: bytes, label: str) -> str:
    """UTF-8 text (a leading byte order mark is dropped), or a ``ParameterError`` that says
    where the first byte that is not UTF-8 is."""
    data = data.removeprefix(codecs.BOM_UTF8)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        bad, kind = 0, "it starts with a UTF-16 byte order mark"
    elif b"\x00" in data:
        bad, kind = data.index(b"\x00"), "UTF-16 or binary data"
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad, kind = exc.start, "Latin-1 or Windows-1252 text, perhaps"
    raise ParameterError([
        f"{label}: not UTF-8 text (byte 0x{data[bad]:02x} at offset {bad}: {kind}); save it as UTF-8"
    ])


def read_yaml(path: Path, label: str) -> dict[str, Any]:
    """A YAML file that holds a mapping (scenario, sweep, plan, mapping or assessment file),
    read within the limits above; any problem is a ``ParameterError`` naming the file."""
    what = "YAML files (scenarios, sweeps, plans, mappings and assessments are a few kilobytes)"
    text = decode_text(read_bytes(path, label, MAX_YAML_BYTES, what), label)
    try:
        data = parse_yaml(text)
    except _YamlRefused as exc:
        raise ParameterError([f"{label}: line {exc.line}: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}: " if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError([f"{label}: {at}malformed YAML: {problem}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParameterError([f"{label}: the file must hold a mapping of keys, not {type(data).__name__}"])
    return data


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
        raise ParameterError([f"--set {_clip(text)}: expected key.path=value"])
    if key.count(".") >= MAX_YAML_DEPTH:
        raise ParameterError([f"--set {_clip(text)}: a key path of more than {MAX_YAML_DEPTH} parts"])
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except _YamlRefused as exc:
        raise ParameterError([f"--set {_clip(text)}: {exc.problem}"]) from None
    except yaml.YAMLError:
        raise ParameterError([f"--set {_clip(text)}: the value is not valid YAML"]) from None
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


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """The text of ``value`` as in Python, piece by piece, so a caller can stop early."""
    if depth > 10:
        yield "..."
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ", " if i else ""
            yield from _pieces(key, depth + 1)
            yield ": "
            yield from _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, (list, tuple, set)):
        yield "["
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _pieces(item, depth + 1)
        yield "]"
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        yield f"a number of {int(value.bit_length() * math.log10(2)) + 1} digits"
    elif isinstance(value, str):
        yield repr(value[:61])
    else:
        yield str(value)[:61]


def describe(value: Any) -> str:
    """A value as the error messages show it, at most 60 characters. Only as much of the value
    is looked at as is shown, so a huge or self-referencing value (an alias bomb) costs nothing."""
    text = ""
    for piece in _pieces(value):
        text += piece
        if len(text) > 60:
            break
    return _clip(text)


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

"""Reading a YAML input file safely: size, encoding, and what the YAML may hold.

Every YAML file funnelsim reads (scenarios, sweeps, plans, CRM mappings, assessments, targets)
is read by ``read_yaml``: only regular files of at most 1 MB, UTF-8 text, safe YAML (no Python
tags), no key written twice in one mapping, at most 50 levels of nesting, and aliases that
repeat at most 100,000 values in all. A file that breaks a rule is refused with
``FILE: line N: what is wrong``. ``read_bytes`` and ``decode_text`` are the first two steps,
also used for CRM exports; ``describe`` shows a value in a message, at most 60 characters.
``funnelsim.config.loading`` builds on it (extends chains, overrides, validation).
"""

from __future__ import annotations

import codecs
import copy
import math
import os
import re
import stat
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from funnelsim.config.errors import ParameterError

__all__ = [
    "MAX_ALIAS_VALUES",
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "YamlRefused",
    "clip",
    "decode_text",
    "describe",
    "parse_yaml",
    "read_bytes",
    "read_yaml",
]

# Limits on the YAML files we read (scenarios, sweeps, plans, mappings, assessments). Such files
# are a few kilobytes; the safe YAML parser is pure Python (about 7 s per MB), so 1 MB leaves
# ample room while bounding the time a file can take.
MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 50  # nesting levels (a scenario uses about 6)
MAX_ALIAS_VALUES = 100_000  # values that aliases (*name) may repeat in one file, in all


def clip(text: str) -> str:
    """``text`` cut to at most 60 characters for a message."""
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
    return clip(text)


class YamlRefused(yaml.MarkedYAMLError):
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
                raise YamlRefused(f"alias *{event.anchor} is inside the value it names", event.start_mark)
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                self._repeated += self._size(anchored)
                if self._repeated > MAX_ALIAS_VALUES:
                    raise YamlRefused(
                        f"aliases (*{event.anchor} and others) repeat more than {MAX_ALIAS_VALUES:,} values; "
                        "write the values out", event.start_mark)
            return super().compose_node(parent, index)
        event = self.peek_event()
        if len(self._open) >= MAX_YAML_DEPTH:
            raise YamlRefused(f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
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
            raise YamlRefused(f"cannot read {shown}: {str(exc).split(';')[0][:100]}", node.start_mark) from None

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
                raise YamlRefused(f"key {describe(key)} appears twice (first on line {first.line + 1}); keep one",
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
    except YamlRefused as exc:
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

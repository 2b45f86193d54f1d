"""A lever's value: read from a scenario, written as ``--set``, placed between the ends of the
spread of real firms, and shown as a marketer reads it.

The registry (``levers.py``) says what each lever is; this module works with its values:

* ``value_at`` and ``lever_settings`` read a value at a key path of a scenario;
* ``set_text`` and ``as_overrides`` write values as ``--set key=value`` text, whole numbers where
  the scenario wants them;
* ``value_between`` and ``reached`` place a company between the least ("no") and the most
  ("yes") aligned firms, on the lever's scale (the assessment and the claims path);
* ``format_as``, ``format_value`` and ``describe_change`` show a value or a change in the
  lever's unit ("8 h", "3 min", "95%", "on", "Handoff latency (median): 8 h → 3 min").
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from funnelsim.config.levers import Entry, Format, Scale, find

__all__ = [
    "plain_number",
    "value_between",
    "reached",
    "value_at",
    "lever_settings",
    "set_text",
    "as_overrides",
    "format_as",
    "format_value",
    "describe_change",
]


# --- values ------------------------------------------------------------------------------------


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def _is_whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def value_between(no: Any, yes: Any, share: float, scale: Scale = "linear", *, digits: int | None = None) -> Any:
    """The value a share of the way from ``no`` (0) to ``yes`` (1), and beyond 1 further on.

    A number moves in a straight line on its scale (``log``: geometrically, as latencies span
    decades); a switch flips half-way, as "partly" does in the assessment. The two ends are
    returned exactly. ``digits`` rounds as a written scenario file shows a value: to that many
    decimals, or to a whole number when both ends are whole; ``None`` leaves it exact.
    """
    if scale == "switch":
        return yes if share >= 0.5 else no
    if share == 0 or no == yes:
        value = no
    elif share == 1:
        value = yes
    elif scale == "log":
        value = math.exp(math.log(no) + (math.log(yes) - math.log(no)) * share)
    else:
        value = no + (yes - no) * share
    if digits is None:
        return value
    if _is_whole(no) and _is_whole(yes):
        return int(round(value))
    return round(float(value), digits)


def reached(entry: Entry, typical: Mapping[str, Any], end: Any, reach: float, *, digits: int | None = None) -> Any:
    """Where a company stands on ``entry`` when its answers put it at ``end`` of the firms' spread.

    The seeds' "no" and "yes" values describe the least and the most aligned firms; the surveys
    compared firms that *call themselves* aligned with the rest, and the groups differ far less
    than the extremes. A company moves ``reach`` of the way from the typical company's value
    (``typical``: a scenario's data) toward ``end``. A switch cannot move part-way and stays at
    ``end``; so does a lever whose ends are already the surveyed groups' values (``surveyed``);
    a lever that acts only through a switch the typical company has off (``needs``) starts from
    its "no" value, which is what it does there.
    """
    if entry.scale == "switch" or entry.surveyed:
        return end
    start = value_at(typical, entry.key)
    if entry.needs is not None and not value_at(typical, entry.needs):
        start = entry.no
    return value_between(start, end, reach, entry.scale, digits=digits)


def value_at(data: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted key path of a scenario's data (a list item by its position: ``odds_multiplier.1``)."""
    node: Any = data
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def lever_settings(scenario: Any, keys: Iterable[str]) -> dict[str, Any]:
    """The scenario's value at each key path (``scenario``: a ``Scenario`` or its data)."""
    data = scenario.model_dump(mode="json", by_alias=True) if hasattr(scenario, "model_dump") else scenario
    return {key: value_at(data, key) for key in keys}


def set_text(key: str, value: Any) -> str:
    """A value as the text of ``--set key=value``: true/false, words as they are, whole numbers
    where the scenario wants them (a registry entry that counts, or a whole number for a key the
    registry does not know), other numbers to 6 significant digits, anything else as YAML."""
    if _is_bool(value):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value)  # JSON is YAML: null, {..}, [..]
    entry = find(key)
    if entry is not None and entry.whole:
        return str(int(round(float(value))))
    if entry is None and _is_whole(value):
        return str(int(value))
    return f"{float(value):.6g}"


def as_overrides(settings: Mapping[str, Any]) -> list[str]:
    """Settings as ``--set`` overrides (``key=text``, see ``set_text``)."""
    return [f"{key}={set_text(key, value)}" for key, value in settings.items()]


# --- display -----------------------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(hour: float) -> str:
    minutes = int(round(float(hour) * 60))
    return f"{minutes // 60}:{minutes % 60:02d}"


def _schedule(hours: Any) -> str:
    if hours is None:
        return "around the clock"
    days = sorted(hours["working_days"], key=_DAYS.index)
    indices = [_DAYS.index(d) for d in days]
    if indices == list(range(indices[0], indices[-1] + 1)) and len(days) > 2:
        named = f"{days[0].title()}–{days[-1].title()}"
    else:
        named = ", ".join(d.title() for d in days)
    return f"{_clock(hours['open_hour'])}–{_clock(hours['close_hour'])} {named}"


def plain_number(value: float, digits: int = 3) -> str:
    """A number without an exponent where people would not write one: whole units with
    separators from a thousand up ("8,963", "45,115"), ``digits`` significant digits below
    ("0.471", "656"), an exponent only below 0.0001 ("1.92e-141", a p-value)."""
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    if size >= 1e3:
        return f"{value:,.0f}"
    if size >= 1e-4 or size == 0:
        return f"{value:.{digits}g}"
    return f"{value:.{digits - 1}e}"


def format_as(fmt: Format, value: Any, currency: str = "$", choices: tuple[tuple[Any, str], ...] = ()) -> str:
    """A value shown the way ``fmt`` says (see ``Format``)."""
    words = dict(choices)
    if fmt in ("switch", "choice"):
        if value in words:
            return words[value]
        return ("on" if value else "off") if _is_bool(value) else str(value)
    if fmt == "schedule":
        return _schedule(value)
    if value is None or isinstance(value, str):
        return str(value)
    number = float(value)
    if fmt == "currency":
        return f"{currency}{number:,.0f}"
    if fmt == "percent":
        return f"{number * 100:.3g}%"
    if fmt == "hours":
        if number < 1:
            return f"{number * 60:.3g} min"
        return f"{number:.3g} h"
    if fmt == "minutes":
        return f"{number:.3g} min"
    if fmt == "days":
        return "1 day" if number == 1 else f"{number:.3g} days"
    if fmt == "count":
        return f"{int(round(number)):,}"
    if fmt == "points":
        return f"{number:.3g} points"
    if fmt == "ratio":
        return f"×{number:.3g}"
    if fmt == "clock":
        return _clock(number)
    return plain_number(number)


def format_value(key: str, value: Any, currency: str = "$") -> str:
    """A lever's or parameter's value as a marketer reads it ("8 h", "3 min", "95%", "on");
    a key the registry does not know is shown as a plain number or as it is."""
    entry = find(key)
    if entry is None:
        return format_as("number", value) if isinstance(value, numbers.Real) and not _is_bool(value) else str(value)
    return format_as(entry.format, value, currency, entry.choices)


def describe_change(key: str, old: Any, new: Any, currency: str = "$") -> str:
    """A change in words: "Handoff latency (median): 8 h → 3 min"."""
    entry = find(key)
    name = entry.name if entry is not None else key
    return f"{name}: {format_value(key, old, currency)} → {format_value(key, new, currency)}"

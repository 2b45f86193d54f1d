"""What the lever registry (``levers.REGISTRY``) is made of: an entry for each lever or uncertain
parameter (``Entry``: its key, business name, unit, format, scale and values at the two ends of
the firms' spread), and the parts an entry may have: the assessment question it belongs to, its
classroom slider, how a CRM export informs it, its range before the evidence, and what moving it
does in the model. ``levers`` holds the table itself and the lookups over it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Effect", "Entry", "Format", "FromExport", "Prior", "Question", "Scale", "Slider"]

Scale = Literal["linear", "log", "switch"]
# How a value is shown: money, a share as a percentage, a duration, a whole number, points of
# lead score, on/off, one of named choices, an odds ratio or multiplier (×1.5), a plain number,
# an hour of the day (17:00), or working hours (8:00–19:00 Mon–Fri).
Format = Literal[
    "currency", "percent", "hours", "minutes", "days", "count", "points", "switch", "choice", "ratio", "number",
    "clock", "schedule",
]


@dataclass(frozen=True)
class Question:
    """A question of the alignment assessment: one sign of alignment from the seeds."""

    id: str
    text: str
    name: str  # the sign in a few words, for figures and tables

    @property
    def levers(self) -> tuple["Entry", ...]:
        """The levers the answer moves, in the registry's order."""
        from funnelsim.config.levers import REGISTRY  # the table is built from these kinds

        return tuple(entry for entry in REGISTRY if entry.question is self)


@dataclass(frozen=True)
class Slider:
    """A classroom slider: its label, range and step, and the notebook parameter it starts from."""

    label: str
    low: float
    high: float
    step: float
    parameter: str  # the name of the classroom notebook's parameter holding its value


@dataclass(frozen=True)
class FromExport:
    """How ``funnelsim calibrate`` estimates the value from a CRM export."""

    needs: str  # what the estimate needs from the export
    estimated_as: str = ""  # the key calibration estimates, when wider than the entry's (a whole distribution or curve)


@dataclass(frozen=True)
class Prior:
    """The range an uncertain parameter may take before the evidence is seen (``funnelsim ensemble``)."""

    low: float
    high: float
    why: str
    scale: Literal["linear", "log"] = "linear"  # log: multipliers and odds ratios, searched evenly on their logarithm
    at_most: str | None = None  # another parameter's key this one may not exceed
    group: str = ""  # what it says about the world, in words; parameters learnt together (EVPPI groups)


@dataclass(frozen=True)
class Effect:
    """What moving the lever does in the model: from ``worse`` to ``better`` (each with any other
    ``--set`` settings it needs), ``measure`` rises (``direction`` +1) or falls (-1) by more than
    chance. ``tests/test_levers.py`` checks every effect with paired replications."""

    says: str  # in words: "more SQLs"
    measure: str  # a KPI of the replications table, or a measurement the lever tests define
    direction: Literal[1, -1]
    worse: Any
    better: Any
    worse_with: tuple[str, ...] = ()
    better_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One lever or uncertain parameter (see the module's docstring for what each field says)."""

    key: str
    name: str  # what a marketer calls it
    unit: str
    format: Format
    source: str  # where its values come from, and why
    scale: Scale = "linear"
    on: Any = True  # for a switch: the value that means "on"
    choices: tuple[tuple[Any, str], ...] = ()  # words for the values of a switch or a choice
    question: Question | None = None
    no: Any = None  # fully misaligned
    yes: Any = None  # fully aligned
    staffed: bool = False  # sized for the company's lead flow (``funnelsim.experiments.staffing``) when the assessment writes a file
    needs: str | None = None  # the switch it acts through: where that switch is off, the lever does what it does at "no"
    surveyed: bool = False  # "no" and "yes" are already the surveyed groups' values, not the extremes of the firms' spread
    slider: Slider | None = None
    export: FromExport | None = None  # None: no CRM export informs it
    prior: Prior | None = None  # only an uncertain parameter has one
    effects: tuple[Effect, ...] = ()

    @property
    def uncertain(self) -> bool:
        return self.prior is not None

    @property
    def whole(self) -> bool:
        """The scenario wants a whole number here (a head count, a number of attempts)."""
        return self.format == "count"

"""A plan file: today's company, a target, and the levers management could pull, at a cost.

``load_plan`` reads and validates a plan file (``params/plans/``) into a ``Plan``. It is
validated like a scenario file: a mistake names the file, the key, the value and what is
allowed; every lever on offer must be one of the lever registry (``funnelsim.config.levers``),
each value on offer must make a valid scenario, the target's KPI must be one the runs report,
and the combinations on offer are counted before anything is built (at most 100,000, each
predicted and ranked). ``planning.py`` runs the plan.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from funnelsim.config.errors import ParameterError
from funnelsim.config.lever_values import as_overrides
from funnelsim.config.levers import levers
from funnelsim.config.loading import apply_overrides, load_validated, resolve_file
from funnelsim.config.schema import Scenario, scenario_from_dict
from funnelsim.config.value_rules import limit
from funnelsim.model.records import REPLICATION_COLUMNS
from funnelsim.stats.response import Lever

__all__ = ["KPIS", "MAX_OPTIONS", "Plan", "PlanFile", "PlanLever", "Target", "load_plan"]

Scalar = bool | int | float | str
KPIS = [name for name, (_, unit, _) in REPLICATION_COLUMNS.items() if unit != "-"]
MAX_OPTIONS = 100_000


class PlanLever(BaseModel):
    """One lever on offer: its values (today's first) and the annual cost of each."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    values: Annotated[list[Scalar], Field(min_length=2), limit(high=100, why="each value is validated as a whole "
                                                                "scenario")]
    costs: list[Annotated[float, Field(ge=0)]] | None = None
    cost_per_unit: Annotated[float, Field(ge=0)] | None = None
    scale: Literal["linear", "log", "switch"] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_cost(self) -> "PlanLever":
        if (self.costs is None) == (self.cost_per_unit is None):
            raise ValueError("give either 'costs' (one per value) or 'cost_per_unit', not both or neither")
        if self.costs is not None and len(self.costs) != len(self.values):
            raise ValueError(f"'costs' needs one cost per value: {len(self.values)} values, {len(self.costs)} costs")
        kinds = {type(v) for v in self.values}
        if len(kinds - {int, float}) > 0 and len(kinds) > 1:
            raise ValueError("values must all be numbers, all true/false, or all words")
        numeric = kinds <= {int, float}
        if self.cost_per_unit is not None and not numeric:
            raise ValueError("'cost_per_unit' needs numeric values; give 'costs' for a switch")
        if self.scale in ("linear", "log") and not numeric:
            raise ValueError(f"scale '{self.scale}' needs numeric values")
        if self.scale == "log" and min(float(v) for v in self.values) <= 0:
            raise ValueError("scale 'log' needs values above 0")
        if not numeric and len(self.values) != 2:
            raise ValueError("a switch (true/false or words) takes exactly two values: today's, then the other")
        return self

    def annual_costs(self) -> list[float]:
        if self.costs is not None:
            return list(self.costs)
        today = float(self.values[0])
        return [abs(float(v) - today) * (self.cost_per_unit or 0.0) for v in self.values]

    def lever(self, key: str) -> Lever:
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)
        scale = self.scale or ("linear" if numeric else "switch")
        return Lever(key, scale, on=self.values[-1]) if scale == "switch" else Lever(key, scale)


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kpi: str = "revenue"
    change: float = Field(description="relative change over today, e.g. 0.2 for +20% (negative to cut, e.g. CAC)")

    @field_validator("kpi")
    @classmethod
    def _known(cls, kpi: str) -> str:
        if kpi not in KPIS:
            close = difflib.get_close_matches(kpi.lower(), KPIS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValueError(f"unknown KPI; {hint}allowed: {', '.join(KPIS)}")
        return kpi

    @property
    def direction(self) -> int:
        """+1 when the target raises the KPI, -1 when it cuts it (a CAC target)."""
        return 1 if self.change >= 0 else -1


class PlanFile(BaseModel):
    """The schema of a plan file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = ""
    description: str = ""
    scenario: str
    target: Target
    levers: Annotated[dict[str, PlanLever], Field(min_length=1)]
    points: Annotated[int, Field(ge=4)] = 40
    replications: Annotated[int, Field(ge=1)] = 2
    confirm: Annotated[int, Field(ge=0), limit(high=20, why="each option confirmed is simulated directly, "
                                                "with every replication")] = 3
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 20261122  # saved in int64 columns

    @model_validator(mode="after")
    def _few_enough_options(self) -> "PlanFile":
        options = math.prod(len(lever.values) for lever in self.levers.values())
        if options > MAX_OPTIONS:
            raise ValueError(f"{options:,} combinations of the values on offer; allowed: at most {MAX_OPTIONS:,} "
                             "(every combination is predicted, costed and ranked in memory)")
        return self


@dataclass(frozen=True)
class Plan:
    """A validated plan: today's company, the target, and the levers on offer."""

    name: str
    source: Path
    spec: PlanFile
    today: Scenario
    overrides: tuple[str, ...] = ()  # ``--set`` settings applied to the plan's scenario, today's and every sweep point's; an uncertain parameter set here stays fixed

    @property
    def levers(self) -> list[Lever]:
        return [lever.lever(key) for key, lever in self.spec.levers.items()]

    def with_target(self, change: float) -> "Plan":
        """The same plan with another target change of the same KPI."""
        target = Target(kpi=self.spec.target.kpi, change=change)
        return dataclasses.replace(self, spec=self.spec.model_copy(update={"target": target}))

    @property
    def scenario_file(self) -> Path:
        """The scenario file of today's company."""
        return (self.source.parent / self.spec.scenario).resolve()

    def today_settings(self) -> dict[str, Any]:
        return {key: lever.values[0] for key, lever in self.spec.levers.items()}

    def levers_table(self) -> pd.DataFrame:
        """The levers on offer: their values (today's first), the annual cost of each, the note."""
        return pd.DataFrame([{"lever": k, "values": l.values, "annual_costs": l.annual_costs(), "note": l.note}
                             for k, l in self.spec.levers.items()])


def _check_levers(label: str, spec: PlanFile) -> None:
    """Every lever on offer must be a lever of the registry (``funnelsim.config.levers``)."""
    allowed = [entry.key for entry in levers()]
    problems = []
    for key in spec.levers:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(f"{label}: levers.{key}: unknown lever; {hint}allowed: {', '.join(allowed)}")
    if problems:
        raise ParameterError(problems)


def load_plan(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Plan:
    """Read and validate a plan file; ``overrides`` (``key.path=value``) apply to its scenario."""
    path = Path(path)
    label = str(path)
    spec = load_validated(path, PlanFile)
    _check_levers(label, spec)
    scenario_path = (path.parent / spec.scenario).resolve()
    if not scenario_path.is_file():
        raise ParameterError([f"{label}: scenario: {spec.scenario!r}: no such file ({scenario_path})"])
    data = apply_overrides(resolve_file(scenario_path), list(overrides))
    data.setdefault("name", scenario_path.stem)
    problems: list[str] = []
    for key, lever in spec.levers.items():
        for i, value in enumerate(lever.values):
            try:
                scenario_from_dict(apply_overrides(data, as_overrides({key: value})), str(scenario_path))
            except ParameterError as exc:
                problems.extend(f"{label}: levers.{key}.values[{i}]: {line.split(': ', 2)[-1]}" for line in exc.lines)
    if problems:
        raise ParameterError(problems)
    today = scenario_from_dict(apply_overrides(data, as_overrides({k: v.values[0] for k, v in spec.levers.items()})), str(scenario_path))
    return Plan(spec.name or path.stem, path, spec, today, tuple(overrides))

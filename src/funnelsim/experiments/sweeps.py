"""Sweep files: many scenarios from one base, to see which levers matter and how much.

A sweep names a base scenario and the factors to vary, each a list of values or a range, and a
design that turns them into points:

* ``full_factorial``: every combination of every factor's values;
* ``fractional_factorial``: two levels per factor (a range's ends, or a list's first and last
  value) in a regular two-level fraction of the given resolution, for screening many levers;
* ``latin_hypercube``: ``points`` points spread evenly over the ranges (scipy.stats.qmc);
* ``scenarios``: simply a list of scenario files, one point each.

Factor names are key paths into the scenario, as with ``--set``: ``sdr_team.reps``,
``handoff.latency_hours.median``. Every point is validated before anything runs, with the same
``FILE: key.path: value: what is allowed`` messages as scenario files. The number of points is
worked out from the design before any point is built: a sweep of more than 10,000 points is
refused (each point is a whole scenario held in memory, about 30 KB and 2 ms to validate).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from funnelsim.config.errors import ParameterError
from funnelsim.config.loading import apply_overrides, load_validated, resolve_file, schema_at, set_path, validate_data
from funnelsim.config.schema import Scenario, scenario_from_dict

__all__ = ["MAX_SWEEP_POINTS", "Sweep", "SweepPoint", "expects_integer", "load_sweep", "sweep_from_dict", "sweep_size"]

Scalar = bool | int | float | str
MAX_SWEEP_POINTS = 10_000


class Range(BaseModel):
    """A numeric range: ``levels`` evenly spaced values for factorials, continuous for LHS."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    low: float
    high: float
    levels: Annotated[int, Field(ge=2)] = 3

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if not self.low < self.high:
            raise ValueError(f"'low' ({self.low}) must be below 'high' ({self.high})")
        return self

    def grid(self, integer: bool) -> list[Scalar]:
        values = [_cast(v, integer) for v in np.linspace(self.low, self.high, self.levels)]
        return list(dict.fromkeys(values))  # integer rounding can repeat a value


def _cast(value: float, integer: bool) -> Scalar:
    """Round to a whole number where the scenario expects one (e.g. a number of reps)."""
    return int(round(value)) if integer else float(value)


def expects_integer(key: str) -> bool:
    """True where the scenario schema wants a whole number at ``key`` (e.g. ``sdr_team.reps``)."""
    return schema_at(Scenario, key.split(".")) is int


class SweepFile(BaseModel):
    """The schema of a sweep file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(default="", min_length=0)
    description: str = ""
    design: Literal["full_factorial", "fractional_factorial", "latin_hypercube", "scenarios"]
    base: str | None = None
    scenarios: list[str] | None = None
    factors: dict[str, Annotated[list[Scalar], Field(min_length=1)] | Range] = {}
    points: Annotated[int, Field(ge=1)] | None = None
    resolution: Annotated[int, Field(ge=3, le=5)] = 3
    replications: Annotated[int, Field(ge=1)] = 10
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 20261122  # saved in int64 columns
    common_random_numbers: bool = True

    @model_validator(mode="after")
    def _design_fields(self) -> "SweepFile":
        if self.design == "scenarios":
            if not self.scenarios:
                raise ValueError("design 'scenarios' needs a list of scenario files under 'scenarios'")
            if self.factors:
                raise ValueError("design 'scenarios' takes no 'factors'")
            return self
        if self.base is None:
            raise ValueError(f"design '{self.design}' needs a 'base' scenario file")
        if not self.factors:
            raise ValueError(f"design '{self.design}' needs at least one factor under 'factors'")
        if self.design == "latin_hypercube":
            if self.points is None:
                raise ValueError("design 'latin_hypercube' needs 'points' (how many)")
            lists = [k for k, f in self.factors.items() if isinstance(f, list) and len(f) < 2]
            if lists:
                raise ValueError(f"factors {lists} need a range or at least two values")
        if self.design == "fractional_factorial":
            short = [k for k, f in self.factors.items() if isinstance(f, list) and len(f) < 2]
            if short:
                raise ValueError(f"factors {short} need two levels (a range or at least two values)")
        return self


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: its factor values and the scenario they make."""

    index: int
    factors: dict[str, Scalar]
    scenario: Scenario


@dataclass(frozen=True)
class Sweep:
    """A validated, expanded sweep."""

    name: str
    source: str
    design: str
    factor_names: list[str]
    points: list[SweepPoint]
    replications: int
    seed: int
    common_random_numbers: bool
    definition: dict[str, Any]

    @property
    def runs(self) -> int:
        return len(self.points) * self.replications

    def with_options(
        self, replications: int | None = None, seed: int | None = None, common_random_numbers: bool | None = None
    ) -> "Sweep":
        """The same sweep with command-line overrides of its run settings."""
        changes: dict[str, Any] = {
            k: v
            for k, v in (
                ("replications", replications),
                ("seed", seed),
                ("common_random_numbers", common_random_numbers),
            )
            if v is not None
        }
        return dataclasses.replace(self, **changes)

    def seed_for(self, point: int, replication: int) -> np.random.SeedSequence:
        """The seed of one run: shared across points with common random numbers, else distinct."""
        key = (replication,) if self.common_random_numbers else (replication, point + 1)
        return np.random.SeedSequence(self.seed, spawn_key=key)

    def fingerprint(self) -> str:
        """A hash of everything that determines the results (used to refuse a wrong resume)."""
        payload = {
            "points": [p.scenario.model_dump(mode="json", by_alias=True) for p in self.points],
            "replications": self.replications,
            "seed": self.seed,
            "common_random_numbers": self.common_random_numbers,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _design_matrix(spec: SweepFile) -> list[dict[str, Scalar]]:
    names = list(spec.factors)
    factors = [spec.factors[n] for n in names]
    integer = [expects_integer(n) for n in names]
    if spec.design == "full_factorial":
        levels = [f.grid(i) if isinstance(f, Range) else list(f) for f, i in zip(factors, integer)]
        return [dict(zip(names, combo)) for combo in itertools.product(*levels)]
    if spec.design == "fractional_factorial":
        from pydoe import fracfact_by_res

        ends = [
            (_cast(f.low, i), _cast(f.high, i)) if isinstance(f, Range) else (f[0], f[-1])
            for f, i in zip(factors, integer)
        ]
        if len(names) == 1:
            signs = np.array([[-1.0], [1.0]])
        else:
            try:
                signs = fracfact_by_res(len(names), spec.resolution)
            except ValueError as exc:
                raise _SpecError("resolution", spec.resolution, str(exc)) from None
        return [
            {n: (lo if s < 0 else hi) for n, (lo, hi), s in zip(names, ends, row)} for row in signs
        ]
    # latin hypercube
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(spec.seed)).random(spec.points)
    rows = []
    for u in unit:
        row: dict[str, Scalar] = {}
        for name, factor, x, whole in zip(names, factors, u, integer):
            if isinstance(factor, Range):
                row[name] = _cast(factor.low + x * (factor.high - factor.low), whole)
            else:
                row[name] = factor[min(int(x * len(factor)), len(factor) - 1)]
        rows.append(row)
    return rows


class _SpecError(Exception):
    def __init__(self, key: str, value: Any, message: str):
        super().__init__(message)
        self.key, self.value, self.message = key, value, message


def _load(path: Path, points: int | None, label: str) -> SweepFile:
    """The sweep file validated; ``points`` replaces a Latin hypercube's number of points."""
    return load_validated(path, SweepFile, [] if points is None else [f"points={int(points)}"], label=label)


def load_sweep(path: str | Path, overrides: list[str] | tuple[str, ...] = (), points: int | None = None) -> Sweep:
    """Read, validate and expand a sweep file; raise ``ParameterError`` on any mistake.

    ``overrides`` (``key.path=value``) apply to the base scenario, or to every listed
    scenario, before the factors; ``points`` replaces a Latin hypercube's number of points.
    """
    path = Path(path)
    label = str(path) + (" (with --set " + ", ".join(overrides) + ")" if overrides else "")
    return _expand(_load(path, points, label), path, label, overrides)


def sweep_size(path: str | Path, points: int | None = None) -> tuple[int, int]:
    """The points and replications of a sweep file, without building any point."""
    spec = _load(Path(path), points, str(path))
    return _count(spec, str(path)), spec.replications


def _count(spec: SweepFile, label: str) -> int:
    """How many points the design makes, worked out without building them (a two-level
    fraction is built: it is small by design); more than ``MAX_SWEEP_POINTS`` is refused."""
    if spec.design == "scenarios":
        count = len(spec.scenarios or [])
    elif spec.design == "latin_hypercube":
        count = spec.points or 0
    elif spec.design == "fractional_factorial":
        try:
            count = len(_design_matrix(spec))
        except _SpecError as exc:
            raise ParameterError([f"{label}: {exc.key}: {exc.value}: {exc.message}"]) from None
    else:
        count = math.prod(f.levels if isinstance(f, Range) else len(f) for f in spec.factors.values())
    if count > MAX_SWEEP_POINTS:
        raise ParameterError([
            f"{label}: {spec.design}: {count:,} points; allowed: at most {MAX_SWEEP_POINTS:,} (each point is a whole "
            "scenario, validated and held in memory before anything runs): use fewer factors, levels or points"
        ])
    return count


def sweep_from_dict(
    raw: Any, path: Path, label: str, overrides: list[str] | tuple[str, ...] = ()
) -> Sweep:
    """Validate and expand a sweep definition; ``path`` is the file its relative paths start from."""
    return _expand(validate_data(SweepFile, raw, label), path, label, overrides)


def _expand(spec: SweepFile, path: Path, label: str, overrides: list[str] | tuple[str, ...]) -> Sweep:
    """Every point of a validated sweep, each validated as a scenario (all problems at once)."""
    _count(spec, label)
    points: list[SweepPoint] = []
    problems: list[str] = []
    if spec.design == "scenarios":
        for i, file in enumerate(spec.scenarios or []):
            target = (path.parent / file).resolve()
            if not target.is_file():
                problems.append(f"{label}: scenarios[{i}]: {file!r}: no such file ({target})")
                continue
            try:
                data = apply_overrides(resolve_file(target), list(overrides))
                data.setdefault("name", target.stem)
                scenario = scenario_from_dict(data, str(target))
            except ParameterError as exc:
                problems.extend(exc.lines)
                continue
            points.append(SweepPoint(i, {"scenario": scenario.name}, scenario))
        factor_names = ["scenario"]
    else:
        assert spec.base is not None  # every design but 'scenarios' extends a base (SweepFile._design_fields)
        base_path = (path.parent / spec.base).resolve()
        if not base_path.is_file():
            raise ParameterError([f"{label}: base: {spec.base!r}: no such file ({base_path})"])
        base = apply_overrides(resolve_file(base_path), list(overrides))
        try:
            rows = _design_matrix(spec)
        except _SpecError as exc:
            raise ParameterError([f"{label}: {exc.key}: {exc.value}: {exc.message}"]) from None
        for i, row in enumerate(rows):
            data = copy.deepcopy(base)
            for key, value in row.items():
                data = set_path(data, key.split("."), value)
            data["name"] = f"{spec.name or path.stem}-{i:04d}"
            try:
                points.append(SweepPoint(i, row, scenario_from_dict(data, label)))
            except ParameterError as exc:
                problems.extend(f"{line} (factors of point {i}: {row})" for line in exc.lines)
        factor_names = list(spec.factors)
    if problems:
        raise ParameterError(list(dict.fromkeys(problems)))
    return Sweep(
        name=spec.name or path.stem,
        source=label,
        design=spec.design,
        factor_names=factor_names,
        points=points,
        replications=spec.replications,
        seed=spec.seed,
        common_random_numbers=spec.common_random_numbers,
        definition=spec.model_dump(mode="json"),
    )

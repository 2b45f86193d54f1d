"""Published figures as data: what each study found, how far to trust it, how to measure it.

``params/targets/published.yaml`` lists every published figure the model can be measured
against: the lead-response studies (HBR 2011, MIT/InsideSales 2007), the funnel's stage rates
and sales cycle, and the alignment claims (Aberdeen, MathMarketing, ...). Each target carries
its source, a trust level, the statement as published, the range that statement implies for
one simulated company (with the reason), the metric the model is measured on and, in words,
how that measurement copies the study's own. ``funnelsim check`` and the calibration read the
file; the claims-check report is built from it.

A target ``applies_to`` the typical company (one without a maturity level: the baseline, or a
company calibrated from its own CRM export). A maturity level may leave a benchmark's range
only in the direction alignment moves it and by a stated factor (``levels``). Claims compare
two companies (``compare``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from funnelsim.config.loading import load_validated
from funnelsim.config.paths import PARAMS_DIR
from funnelsim.config.schema import MATURITY_LEVELS

__all__ = ["Target", "Targets", "LevelAllowance", "Plausibility", "load_targets", "DEFAULT_TARGETS", "ROLES"]

DEFAULT_TARGETS = PARAMS_DIR / "targets" / "published.yaml"
ROLES = ("typical", *MATURITY_LEVELS)
Trust = Literal["high", "medium", "low", "folklore", "unsourced"]
Role = Literal["typical", "fully aligned", "somewhat aligned", "somewhat misaligned", "fully misaligned"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelAllowance(_Strict):
    """How far a maturity level may leave a benchmark's range, and in which direction.

    A fully aligned company may pass the range's better end by up to ``aligned`` times, a fully
    misaligned one its worse end by up to ``misaligned`` times (default: the same factor); the
    "somewhat" levels by the square root of those factors."""

    better: Literal["higher", "lower"]
    factor: Annotated[float, Field(ge=1)]
    misaligned: Annotated[float, Field(ge=1)] | None = None
    reason: str

    def band(self, low: float, high: float, level: str) -> tuple[float, float]:
        """The range widened for ``level``: toward 'better' when aligned, the other way when not."""
        aligned = level.endswith(" aligned")
        factor = self.factor if aligned else (self.misaligned or self.factor)
        if not level.startswith("fully"):
            factor = math.sqrt(factor)
        up = (self.better == "higher") == aligned
        return (low, high * factor) if up else (low / factor, high)


class Target(_Strict):
    """One published figure and how the model is measured against it."""

    id: str
    kind: Literal["benchmark", "claim"]
    source: str
    trust: Trust
    statement: str
    figure: float | None = None
    range: tuple[float, float | None] | None = None
    range_reason: str = ""
    metric: str
    measured: str
    applies_to: list[Role] = Field(default_factory=list)
    levels: LevelAllowance | None = None
    compare: tuple[Role, Role] | None = None
    comparable: bool = True
    calibrate: bool = True  # fitted to by `funnelsim ensemble` (false: shown, not fitted; say why in range_reason)
    trust_note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> "Target":
        if self.kind == "claim" and self.compare is None:
            raise ValueError("a claim needs 'compare': [company, reference]")
        if self.kind == "benchmark" and self.comparable and self.range is None:
            raise ValueError("a comparable benchmark needs a 'range'")
        if self.range is not None and self.range[1] is not None and self.range[1] < self.range[0]:
            raise ValueError("'range' must be [low, high] with low <= high")
        return self

    @property
    def low(self) -> float:
        return -math.inf if self.range is None else self.range[0]

    @property
    def high(self) -> float:
        return math.inf if self.range is None or self.range[1] is None else self.range[1]

    @property
    def gates(self) -> bool:
        """A failing high-trust benchmark fails ``funnelsim check``."""
        return self.trust == "high" and self.comparable and self.kind == "benchmark"

    def band_for(self, role: str) -> tuple[float, float] | None:
        """The range a company in ``role`` must sit in, or None if the target does not apply."""
        if self.kind != "benchmark" or not self.comparable:
            return None
        if role in self.applies_to:
            return self.low, self.high
        if role != "typical" and self.levels is not None:
            return self.levels.band(self.low, self.high, role)
        return None


class Plausibility(_Strict):
    """What any company must pass, whatever its maturity."""

    max_queue_growth: Annotated[float, Field(gt=0)]
    max_cac_to_deal_size: Annotated[float, Field(gt=0)]
    max_utilisation: Annotated[float, Field(gt=0, le=1)]
    max_sqls_lapsed: Annotated[float, Field(ge=0, le=1)]


class Targets(_Strict):
    """The whole targets file."""

    reasons: dict[str, str] = Field(default_factory=dict)
    targets: list[Target] = Field(min_length=1)
    plausibility: Plausibility

    @model_validator(mode="after")
    def _unique(self) -> "Targets":
        ids = [t.id for t in self.targets]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"target ids must be unique: {', '.join(twice)}")
        return self

    def by_id(self, target_id: str) -> Target:
        return next(t for t in self.targets if t.id == target_id)

    @property
    def benchmarks(self) -> list[Target]:
        return [t for t in self.targets if t.kind == "benchmark"]

    @property
    def claims(self) -> list[Target]:
        return [t for t in self.targets if t.kind == "claim"]


def load_targets(path: str | Path = DEFAULT_TARGETS) -> Targets:
    """Read and check a targets file; a mistake names the file, the key and what is allowed."""
    return load_validated(path, Targets)

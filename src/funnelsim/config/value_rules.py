"""What one value of a scenario may be: the model's units of time (``HOURS``, ``MINUTES``), the
kinds of number a key takes (a probability, a count, an amount of money, points of lead
quality), the bounds beyond which the model cannot sensibly simulate (``limit``, ``MAX_*``),
and the checks on distributions of quality and money. The sections of ``schema`` are built
from them."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "HOURS", "MINUTES", "WEEKDAYS", "MAX_AMOUNT", "MAX_ATTEMPTS", "MAX_BUDGET_WEIGHT", "MAX_CYCLES", "MAX_INSTALLED_BASE",
    "MAX_POINTS", "MIN_STEADY_STATE_CHURN", "Amount", "Count", "NonNegative", "Points", "Positive", "Probability",
    "Section", "as_written", "limit", "money_distribution", "non_negative", "points_distribution",
]

HOURS = 1 / 24
MINUTES = 1 / (24 * 60)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Probability = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]

# Upper bounds that keep every lead's random draws indexable (``model.randomness``).
MAX_ATTEMPTS = 20  # contact attempts per pass: more is harassment, not follow-up
MAX_CYCLES = 10  # returns from nurture per lead
MAX_BUDGET_WEIGHT = 4.0  # a channel's budget multiplier under the closed loop
MAX_INSTALLED_BASE = 1_000_000  # customers given by number
MIN_STEADY_STATE_CHURN = 0.001  # a month; below it a steady-state installed base is unbounded in practice


def limit(low: float | None = None, high: float | None = None, *, why: str) -> AfterValidator:
    """A bound on a number (or on the number of items of a list or mapping) beyond the schema's
    own, for sizes the model cannot sensibly simulate; the message says why. (The preflight,
    ``funnelsim.experiments.preflight``, sizes a run as a whole.)"""

    def check(value: Any) -> Any:
        size = len(value) if isinstance(value, (dict, list)) else value
        if low is not None and size < low:
            raise ValueError(f"at least {low:,g}: {why}")
        if high is not None and size > high:
            raise ValueError(f"at most {high:,.0f}: {why}")
        return value

    return AfterValidator(check)


MAX_AMOUNT = 1e12  # currency: above any real price, far below where sums over leads overflow
Amount = Annotated[float, Field(ge=0), limit(high=MAX_AMOUNT, why="no real price is that high, and "
                                             "sums over every lead and day must stay finite")]


def as_written(value: float) -> str:
    """A number as people write it: 120 rather than 120.0."""
    return str(int(value)) if float(value).is_integer() else str(value)


def non_negative(dist: Any, field: str) -> Any:
    if dist.lowest_value < 0:
        raise ValueError(f"a {field} cannot be negative: use a distribution with values >= 0")
    return dist


MAX_POINTS = 1000.0  # lead quality and score noise are points on a scale centred near 50
Points = Annotated[NonNegative, limit(high=MAX_POINTS, why="scores are points on a scale centred near 50")]


def points_distribution(dist: Any) -> Any:
    """A lead quality distribution: its mean and spread in points, bounded like ``Points``."""
    try:
        mean, sd = dist.mean, math.sqrt(dist.variance)
    except OverflowError:
        mean = sd = math.inf
    if not (abs(mean) <= MAX_POINTS and sd <= MAX_POINTS):
        raise ValueError(f"its mean must lie within ±{MAX_POINTS:,.0f} and its standard deviation be at most "
                         f"{MAX_POINTS:,.0f}: quality is in points on a scale centred near 50")
    return dist


def money_distribution(dist: Any, field: str) -> Any:
    """A distribution of money: never negative, and its mean bounded like ``Amount``."""
    non_negative(dist, field)
    try:
        mean = dist.mean
    except OverflowError:
        mean = math.inf
    if not mean <= MAX_AMOUNT:
        raise ValueError(f"its mean must be at most {MAX_AMOUNT:,.0f}: no real {field} is that high, and sums "
                         "over every deal must stay finite")
    return dist


class Section(BaseModel):
    """A section of a scenario file: only its own keys, values of exactly their type, frozen,
    and never ``.nan`` or ``.inf``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

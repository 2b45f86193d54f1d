"""Random quantities named in scenario files: how long a handoff takes, how big a deal is.

A scenario file never hard-codes a single number for something that varies from lead to
lead. It names a distribution instead, for example ``{dist: lognormal, median: 4, sigma: 0.8}``
for a handoff latency in hours. Each distribution here:

* checks its own parameters when it is built (a negative mean or a sigma of zero is refused
  with a message saying what is allowed);
* knows its exact ``mean`` and ``variance``, so tests can compare simulated figures with theory;
* refuses numbers that are not finite (``.nan``, ``.inf``), in lists too;
* draws many values at once with ``sample(rng, size)`` from a numpy ``Generator``, always by
  transforming the same standard variates, one per value (a uniform, turned into the value
  by the inverse of the distribution function, or a standard normal or exponential; none
  for a constant), so the stream advances by the same amount whatever the parameters, and
  two scenarios that differ only in a parameter get the same underlying draws, in the same
  order (common random numbers);
* can be rescaled with ``scaled(factor)``: scenario files say hours where people think in
  hours, and the model converts them to its one time unit, days.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from funnelsim.config.quantiles import gamma_quantile, special

__all__ = [
    "Constant",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "KINDS",
    "Lognormal",
    "Normal",
    "Triangular",
    "Uniform",
]


class _Base(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, populate_by_name=True
    )

    @property
    def lowest_value(self) -> float:
        """The smallest value the distribution can produce (-inf when unbounded)."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def variance(self) -> float:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """The share of values at or below ``x``: the distribution function."""
        raise NotImplementedError

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The values at probabilities ``u`` (0 < u < 1): the inverse distribution function.

        The model turns one uniform per lead into each of its random quantities this way, so a
        lead keeps the same luck when a parameter of the distribution changes."""
        raise NotImplementedError

    def scaled(self, factor: float) -> "Distribution":
        raise NotImplementedError


def _one_pair(dist: _Base, first: tuple[str, str], second: tuple[str, str]) -> None:
    """Exactly one of two parametrisations must be given, completely."""
    given = {k for k in (*first, *second) if getattr(dist, k) is not None}
    if given != set(first) and given != set(second):
        names = [[k.removesuffix("_value") for k in pair] for pair in (first, second)]
        raise ValueError(f"give either '{names[0][0]}' and '{names[0][1]}', or '{names[1][0]}' and '{names[1][1]}'")


class Constant(_Base):
    """Always the same value: useful to switch randomness off in a what-if."""

    dist: Literal["constant"]
    value: float

    @property
    def lowest_value(self) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, float) >= self.value).astype(float)

    def scaled(self, factor: float) -> "Constant":
        return Constant(dist="constant", value=self.value * factor)


class Exponential(_Base):
    """Memoryless waiting times: given by their mean."""

    dist: Literal["exponential"]
    mean_value: float = Field(alias="mean", gt=0)

    @property
    def lowest_value(self) -> float:
        return 0.0

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.mean_value**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.standard_exponential(size) * self.mean_value

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -np.log1p(-np.asarray(u)) * self.mean_value

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return -np.expm1(-np.maximum(np.asarray(x, float), 0.0) / self.mean_value)

    def scaled(self, factor: float) -> "Exponential":
        return Exponential(dist="exponential", mean=self.mean_value * factor)


class Lognormal(_Base):
    """Skewed positive quantities (deal sizes, latencies): median and sigma, or mean and cv."""

    dist: Literal["lognormal"]
    median: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, gt=0)
    mean_value: float | None = Field(default=None, alias="mean", gt=0)
    cv: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_parametrisation(self) -> "Lognormal":
        _one_pair(self, ("median", "sigma"), ("mean_value", "cv"))
        return self

    @property
    def mu(self) -> float:
        if self.median is not None:
            return math.log(self.median)
        assert self.mean_value is not None  # median and sigma, or mean and cv (_one_parametrisation)
        return math.log(self.mean_value) - 0.5 * self.log_sigma**2

    @property
    def log_sigma(self) -> float:
        if self.sigma is not None:
            return self.sigma
        assert self.cv is not None  # median and sigma, or mean and cv (_one_parametrisation)
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def lowest_value(self) -> float:
        return 0.0

    @property
    def mean(self) -> float:
        return math.exp(self.mu + 0.5 * self.log_sigma**2)

    @property
    def variance(self) -> float:
        s2 = self.log_sigma**2
        return math.expm1(s2) * math.exp(2 * self.mu + s2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.exp(self.mu + self.log_sigma * rng.standard_normal(size))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.log_sigma * special().ndtri(u))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        with np.errstate(divide="ignore"):
            return np.where(x > 0, special().ndtr((np.log(np.maximum(x, 1e-300)) - self.mu) / self.log_sigma), 0.0)

    def scaled(self, factor: float) -> "Lognormal":
        return Lognormal(dist="lognormal", median=math.exp(self.mu) * factor, sigma=self.log_sigma)


class Gamma(_Base):
    """Positive durations with a tunable spread: shape and scale, or mean and cv."""

    dist: Literal["gamma"]
    shape: float | None = Field(default=None, gt=0)
    scale: float | None = Field(default=None, gt=0)
    mean_value: float | None = Field(default=None, alias="mean", gt=0)
    cv: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_parametrisation(self) -> "Gamma":
        _one_pair(self, ("shape", "scale"), ("mean_value", "cv"))
        return self

    @property
    def k(self) -> float:
        if self.shape is not None:
            return self.shape
        assert self.cv is not None  # shape and scale, or mean and cv (_one_parametrisation)
        return 1.0 / self.cv**2

    @property
    def theta(self) -> float:
        if self.scale is not None:
            return self.scale
        assert self.mean_value is not None  # shape and scale, or mean and cv (_one_parametrisation)
        return self.mean_value / self.k

    @property
    def lowest_value(self) -> float:
        return 0.0

    @property
    def mean(self) -> float:
        return self.k * self.theta

    @property
    def variance(self) -> float:
        return self.k * self.theta**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # Inverse CDF of one uniform per value: numpy's own gamma sampler rejects a number of
        # candidates that depends on the shape, which would desynchronise the stream.
        return gamma_quantile(self.k, rng.random(size)) * self.theta

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return gamma_quantile(self.k, np.asarray(u, float)) * self.theta

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return special().gammainc(self.k, np.maximum(np.asarray(x, float), 0.0) / self.theta)

    def scaled(self, factor: float) -> "Gamma":
        return Gamma(dist="gamma", shape=self.k, scale=self.theta * factor)


class Uniform(_Base):
    """Any value between low and high equally likely."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if not self.low < self.high:
            raise ValueError(f"'low' ({self.low}) must be below 'high' ({self.high})")
        return self

    @property
    def lowest_value(self) -> float:
        return self.low

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.quantile(rng.random(size))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.clip((np.asarray(x, float) - self.low) / (self.high - self.low), 0.0, 1.0)

    def scaled(self, factor: float) -> "Uniform":
        return Uniform(dist="uniform", low=self.low * factor, high=self.high * factor)


class Triangular(_Base):
    """A quick expert estimate: lowest, most likely and highest value."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("need low <= mode <= high and low < high")
        return self

    @property
    def lowest_value(self) -> float:
        return self.low

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # Inverse CDF of one uniform per value, so the stream advances by exactly `size`.
        return self.quantile(rng.random(size))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        a, c, b = self.low, self.mode, self.high
        u = np.asarray(u)
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1 - u) * (b - a) * (b - c))
        return np.where(u < split, left, right)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        a, c, b = self.low, self.mode, self.high
        x = np.clip(np.asarray(x, float), a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(c > a, (x - a) ** 2 / ((b - a) * (c - a)), 1.0)
            right = np.where(b > c, 1 - (b - x) ** 2 / ((b - a) * (b - c)), 1.0)
        return np.where(x <= c, np.where(x <= a, 0.0, left), right)

    def scaled(self, factor: float) -> "Triangular":
        return Triangular(
            dist="triangular", low=self.low * factor, mode=self.mode * factor, high=self.high * factor
        )


class Normal(_Base):
    """Symmetric scores around a mean: used for lead quality, never for durations."""

    dist: Literal["normal"]
    mean_value: float = Field(alias="mean")
    sd: float = Field(gt=0)

    @property
    def lowest_value(self) -> float:
        return -math.inf

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.sd**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.mean_value + self.sd * rng.standard_normal(size)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.mean_value + self.sd * special().ndtri(u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return special().ndtr((np.asarray(x, float) - self.mean_value) / self.sd)

    def scaled(self, factor: float) -> "Normal":
        return Normal(dist="normal", mean=self.mean_value * factor, sd=self.sd * abs(factor))


class Empirical(_Base):
    """Observed values resampled as they are (optionally weighted), e.g. from a CRM export."""

    dist: Literal["empirical"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> "Empirical":
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"'weights' has {len(self.weights)} entries but 'values' has {len(self.values)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("'weights' must be non-negative with a positive sum")
        return self

    @property
    def _probabilities(self) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, float)
        return w / w.sum()

    @property
    def lowest_value(self) -> float:
        return min(self.values)

    @property
    def mean(self) -> float:
        return float(np.dot(self._probabilities, self.values))

    @property
    def variance(self) -> float:
        v = np.asarray(self.values, float)
        return float(np.dot(self._probabilities, (v - self.mean) ** 2))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self.quantile(rng.random(size))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        cumulative = np.cumsum(self._probabilities)
        index = np.searchsorted(cumulative, np.asarray(u) * cumulative[-1], side="right")
        return np.asarray(self.values, float)[np.minimum(index, len(self.values) - 1)]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        values = np.asarray(self.values, float)
        order = np.argsort(values)
        cumulative = np.cumsum(self._probabilities[order])
        index = np.searchsorted(values[order], np.asarray(x, float), side="right")
        return np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0.0)

    def scaled(self, factor: float) -> "Empirical":
        return Empirical(
            dist="empirical", values=[v * factor for v in self.values], weights=self.weights
        )


Distribution = Annotated[
    Union[Constant, Exponential, Lognormal, Gamma, Uniform, Triangular, Normal, Empirical],
    Field(discriminator="dist"),
]
"""Any distribution, chosen in YAML by its ``dist`` name."""

KINDS: dict[str, type[_Base]] = {
    get_args(kind.model_fields["dist"].annotation)[0]: kind for kind in get_args(get_args(Distribution)[0])
}
"""Every distribution class by its ``dist`` name."""

"""Distributions: validated at construction, exact means and variances, common random numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from funnelsim.distributions import Distribution

ADAPTER = TypeAdapter(Distribution)
N = 200_000

VALID = [
    {"dist": "constant", "value": 3.0},
    {"dist": "exponential", "mean": 2.0},
    {"dist": "lognormal", "median": 4.0, "sigma": 0.5},
    {"dist": "lognormal", "mean": 4.0, "cv": 0.6},
    {"dist": "gamma", "shape": 2.0, "scale": 1.5},
    {"dist": "gamma", "mean": 3.0, "cv": 0.4},
    {"dist": "uniform", "low": 1.0, "high": 5.0},
    {"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 4.0},
    {"dist": "normal", "mean": 50.0, "sd": 12.0},
    {"dist": "empirical", "values": [1.0, 2.0, 10.0]},
    {"dist": "empirical", "values": [1.0, 2.0, 10.0], "weights": [5, 3, 2]},
]


def build(spec):
    return ADAPTER.validate_python(spec)


@pytest.mark.parametrize("spec", VALID, ids=lambda s: s["dist"] + "-" + "-".join(k for k in s if k != "dist"))
def test_sample_mean_and_variance_match_theory(spec):
    d = build(spec)
    x = d.sample(np.random.default_rng(42), N)
    assert x.shape == (N,)
    if d.variance == 0:
        assert np.all(x == d.mean)
        return
    se_mean = math.sqrt(d.variance / N)
    assert abs(x.mean() - d.mean) < 4 * se_mean
    # Standard error of the sample variance: sqrt((mu4 - sigma^4) / n), mu4 from the sample.
    mu4 = np.mean((x - x.mean()) ** 4)
    se_var = math.sqrt(max(mu4 - x.var() ** 2, 1e-12) / N)
    assert abs(x.var(ddof=1) - d.variance) < 5 * se_var


@pytest.mark.parametrize("spec", [s for s in VALID if s["dist"] != "normal"])
def test_scaling_multiplies_mean_and_variance(spec):
    d = build(spec)
    scaled = d.scaled(1 / 24)
    assert scaled.mean == pytest.approx(d.mean / 24)
    assert scaled.variance == pytest.approx(d.variance / 24**2)
    assert scaled.lowest_value == pytest.approx(d.lowest_value / 24)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"dist": "exponential", "mean": -1.0}, "greater than 0"),
        ({"dist": "lognormal", "median": 4.0, "sigma": 0.0}, "greater than 0"),
        ({"dist": "lognormal", "median": 4.0}, "give either"),
        ({"dist": "lognormal", "median": 4.0, "sigma": 0.5, "cv": 0.3}, "give either"),
        ({"dist": "gamma", "shape": 2.0, "mean": 3.0}, "give either"),
        ({"dist": "uniform", "low": 5.0, "high": 1.0}, "must be below"),
        ({"dist": "triangular", "low": 0.0, "mode": 5.0, "high": 4.0}, "low <= mode <= high"),
        ({"dist": "empirical", "values": []}, "at least 1"),
        ({"dist": "empirical", "values": [1.0, 2.0], "weights": [1.0]}, "has 1 entries"),
        ({"dist": "empirical", "values": [1.0, 2.0], "weights": [-1.0, 2.0]}, "non-negative"),
        ({"dist": "normal", "mean": 1.0, "sd": 1.0, "skew": 2}, "Extra inputs"),
        ({"dist": "poisson", "mean": 1.0}, "does not match any of the expected tags"),
        ({"dist": "exponential", "mean": "two"}, "valid number"),
    ],
)
def test_bad_parameters_are_refused_at_construction(spec, message):
    with pytest.raises(ValidationError, match=message):
        build(spec)


def test_same_seed_same_draws():
    d = build({"dist": "gamma", "mean": 3.0, "cv": 0.4})
    a = d.sample(np.random.default_rng(7), 100)
    b = d.sample(np.random.default_rng(7), 100)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "low, high",
    [
        ({"dist": "lognormal", "median": 2.0, "sigma": 0.5}, {"dist": "lognormal", "median": 6.0, "sigma": 0.5}),
        ({"dist": "exponential", "mean": 1.0}, {"dist": "exponential", "mean": 3.0}),
        ({"dist": "uniform", "low": 0.0, "high": 1.0}, {"dist": "uniform", "low": 2.0, "high": 9.0}),
        ({"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 2.0}, {"dist": "triangular", "low": 0.0, "mode": 3.0, "high": 4.0}),
        ({"dist": "gamma", "mean": 2.0, "cv": 0.5}, {"dist": "gamma", "mean": 5.0, "cv": 0.5}),
    ],
)
def test_common_random_numbers_keep_draws_in_step(low, high):
    # When only a parameter changes, the same generator state gives perfectly rank-correlated
    # draws and leaves the stream at the same place.
    a, b = build(low), build(high)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    xa, xb = a.sample(rng_a, 1000), b.sample(rng_b, 1000)
    assert np.array_equal(np.argsort(xa), np.argsort(xb))
    assert rng_a.random() == rng_b.random()

"""History matching: the emulators rule out what cannot match the evidence and keep what can,
and the shipped ensemble is what the fit left standing, with the baseline one of its members."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE

from funnelsim.config.schema import load_scenario
from funnelsim.studies.ensemble import (
    CUTOFF,
    DEFAULT_ENSEMBLE,
    Emulator,
    Parameter,
    _least_implausible,
    _walk,
    calibration_targets,
    central_member,
    consistent,
    implausibility,
    load_uncertain,
    prior_sample,
    refit,
)
from funnelsim.studies.targets import Target, load_targets

PARAMS = [
    Parameter(key="a", low=0.0, high=1.0, why="x"),
    Parameter(key="b", low=0.1, high=10.0, scale="log", why="y"),
]
# Two "published figures" the toy simulator can meet only where a + log10(b) / 4 lies in
# [0.45, 0.55] and a lies in [0.6, 0.9].
TARGETS = [
    Target(id="mix", kind="benchmark", source="s", trust="high", statement="s", range=(0.45, 0.55), metric="mix",
           measured="m", applies_to=["typical"]),
    Target(id="share", kind="benchmark", source="s", trust="high", statement="s", range=(0.6, 0.9), metric="share",
           measured="m", applies_to=["typical"]),
]


def _simulate(points: pd.DataFrame, noise: float, rng: np.random.Generator) -> pd.DataFrame:
    out = points.copy()
    mix = points["a"] + np.log10(points["b"]) / 4
    out["mix"] = 1 / (1 + np.exp(-(np.log(mix.clip(1e-3, 0.999) / (1 - mix.clip(1e-3, 0.999))) + rng.normal(0, noise, len(points)))))
    out["share"] = points["a"].clip(1e-3, 0.999)
    return out


def test_history_matching_keeps_the_true_region_and_rules_out_the_rest():
    rng = np.random.default_rng(1)
    grid = prior_sample(PARAMS, 4000, seed=3)
    truth = _simulate(grid, 0.0, rng)
    inside = ((truth["mix"] >= 0.45) & (truth["mix"] <= 0.55) & (truth["share"] >= 0.6) & (truth["share"] <= 0.9)).to_numpy()
    runs = _simulate(prior_sample(PARAMS, 60, seed=2), 0.02, rng)
    emulator = Emulator(PARAMS, TARGETS).fit(runs)
    kept_first = (implausibility(emulator, grid)["max"] <= CUTOFF).to_numpy()
    # wave 2: simulate points of the region left standing, refit there
    region = grid[kept_first]
    runs = pd.concat([runs, _simulate(region.sample(60, random_state=4), 0.02, rng)], ignore_index=True)
    emulator = refit(emulator, PARAMS, TARGETS, runs)
    kept = (implausibility(emulator, grid)["max"] <= CUTOFF).to_numpy()
    assert inside.sum() > 50
    assert kept[inside].mean() > 0.98  # what can match is (almost) never ruled out
    assert kept[~inside].mean() < kept_first[~inside].mean()  # each wave rules out more
    assert kept[~inside].mean() < 0.2  # and in the end most of what cannot match


def test_the_walk_stays_inside_the_region_it_starts_in():
    rng = np.random.default_rng(4)
    emulator = Emulator(PARAMS, TARGETS).fit(_simulate(prior_sample(PARAMS, 60, seed=5), 0.02, rng))
    start = _least_implausible(emulator, PARAMS, seed=6)
    assert implausibility(emulator, start)["max"].iloc[0] <= CUTOFF
    cloud = _walk(emulator, PARAMS, start, 500, rng)
    assert len(cloud) == 500 and (implausibility(emulator, cloud)["max"] <= CUTOFF).all()
    assert cloud["a"].std() > 0.02  # it spreads over the region rather than sitting still


def test_consistency_allows_the_ci_to_reach_the_range():
    measured = pd.DataFrame({"mix": [0.5, 0.58, 0.7], "mix:low": [0.48, 0.54, 0.65], "mix:high": [0.52, 0.62, 0.75]})
    assert consistent(measured, TARGETS[:1], within_ci=True).tolist() == [True, True, False]
    assert consistent(measured, TARGETS[:1], within_ci=False).tolist() == [True, False, False]


def test_the_baseline_is_the_member_nearest_the_middle_on_each_search_scale():
    # b is searched on its logarithm: 1 lies half-way between 0.1 and 10, 5.05 (the middle by value) does not
    members = pd.DataFrame({"a": [0.1, 0.5, 0.5, 0.9, 0.5], "b": [0.1, 5.05, 1.0, 10.0, 0.3]}, index=[3, 7, 8, 9, 12])
    assert central_member(members, PARAMS) == 8
    assert central_member(members.drop(index=8), PARAMS) in (7, 12)


@pytest.fixture(scope="module")
def ensemble() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_ENSEMBLE)


def test_the_shipped_ensemble_has_fifty_members_consistent_with_the_evidence(ensemble):
    members = ensemble[ensemble["member"]]
    assert len(members) >= 50
    targets = calibration_targets(load_targets())
    assert consistent(members.reset_index(drop=True), targets, within_ci=True).all()


def test_the_baseline_is_a_member_of_the_ensemble(ensemble):
    row = ensemble[ensemble["baseline"]]
    assert len(row) == 1 and bool(row["member"].iloc[0])
    base = load_scenario(BASELINE).model_dump(mode="json", by_alias=True)
    for p in load_uncertain():
        node = base
        for part in p.key.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert node == pytest.approx(row[p.key].iloc[0], rel=1e-3), p.key

"""The gap split by sign: each part is the Shapley value when signs interact at most in pairs,
and the waterfall's steps add up to the gap whatever the interplay."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from funnelsim.config.paths import locate
from funnelsim.config.schema import load_scenario
from funnelsim.studies.assessment import QUESTIONS
from funnelsim.studies.gap import INTERPLAY, _split, _variants

SIGNS = list(QUESTIONS)


def _runs(value) -> dict:
    """Fake simulations of the 24 companies, each with the mean ``value(signs present)``."""
    every = frozenset(SIGNS)
    companies = {"fully misaligned": frozenset(), "fully aligned": every}
    companies |= {f"added: {q}": frozenset({q}) for q in SIGNS}
    companies |= {f"removed: {q}": every - {q} for q in SIGNS}
    return {name: SimpleNamespace(replications=pd.DataFrame({"revenue": [value(signs)]})) for name, signs in companies.items()}


def _pairwise_game(seed: int):
    rng = np.random.default_rng(seed)
    main = dict(zip(SIGNS, rng.normal(10, 5, len(SIGNS))))
    pairs = {pair: rng.normal(0, 3) for pair in itertools.combinations(SIGNS, 2)}

    def value(signs: frozenset) -> float:
        return 100 + sum(main[s] for s in signs) + sum(v for (a, b), v in pairs.items() if a in signs and b in signs)

    shapley = {s: main[s] + 0.5 * sum(v for pair, v in pairs.items() if s in pair) for s in SIGNS}
    return value, shapley


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_pairwise_interplay_each_part_is_the_shapley_value(seed):
    value, shapley = _pairwise_game(seed)
    split = _split(_runs(value), "revenue")
    parts = split.table.set_index("sign")["part"]
    for sign in SIGNS:
        assert parts[sign] == pytest.approx(shapley[sign], abs=1e-9)
    assert split.interplay == pytest.approx(0.0, abs=1e-9)
    assert parts.sum() == pytest.approx(split.gap)


def test_three_way_interplay_has_its_own_step_and_the_steps_add_up():
    value, _ = _pairwise_game(4)
    trio = set(SIGNS[:3])

    def with_trio(signs: frozenset) -> float:
        return value(signs) + (30.0 if trio <= signs else 0.0)

    split = _split(_runs(with_trio), "revenue")
    # each of the three gets half of the trio's 30 (seen removed alone, not added alone): 45 in all, 15 too many
    assert split.interplay == pytest.approx(-15.0)
    steps = split.waterfall()
    assert list(steps["step"])[0] == "Fully misaligned" and list(steps["step"])[-1] == "Fully aligned"
    assert INTERPLAY in set(steps["step"])
    inner = steps[steps["kind"] != "level"]
    assert inner["value"].sum() == pytest.approx(split.gap)
    assert math.isclose(inner["top"].iloc[-1], split.end) and math.isclose(inner["bottom"].iloc[0], split.start)
    assert (inner["bottom"].iloc[1:].to_numpy() == inner["top"].iloc[:-1].to_numpy()).all()  # each step starts where the last ended


def test_companies_staffed_on_two_processes_are_the_ones_staffed_here():
    """Each company's staffing takes a pilot run, so they run on local processes: the same teams."""
    base = load_scenario(locate("params/baseline.yaml"), ["simulation.horizon_days=60", "simulation.warmup_days=10"])
    none, every = {q: 0.0 for q in SIGNS}, {q: 1.0 for q in SIGNS}
    plans = {"fully misaligned": none, "fully aligned": every, f"added: {SIGNS[0]}": none | {SIGNS[0]: 1.0}}
    here, there = _variants(base, plans, seed=5, workers=1), _variants(base, plans, seed=5, workers=2)
    assert [s.name for s in there] == list(plans)
    assert [s.model_dump() for s in there] == [s.model_dump() for s in here]
    teams = {(s.sdr_team.reps, s.opportunity.ae_team.reps) for s in here}
    assert len(teams) > 1  # the plans do need different teams: the test could tell a mix-up

"""A metamodel fits only what its sweep's design can tell apart, and says what it cannot.

The alias structures are the textbook ones of regular two-level fractions: in a resolution-III
design every lever's own effect is aliased with two-lever interplays, in resolution IV the
interplays only with each other, in resolution V nothing of order two or less. A configured
ground truth checks that the fitted effect of an aliased lever is what the alias statement
says it is: its own effect plus the hidden interplay's.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from pydoe import fracfact_by_res

from funnelsim.stats.metamodel import fit_metamodel, lever_effects
from funnelsim.stats.design_terms import estimable_terms

LEVERS = list("abcdefg")


def fraction(levers: int, resolution: int) -> pd.DataFrame:
    return pd.DataFrame(fracfact_by_res(levers, resolution), columns=LEVERS[:levers])


def test_resolution_three_fits_each_lever_alone_and_names_every_interplay_it_carries():
    design = estimable_terms(fraction(7, 3))
    assert design.terms == [(name,) for name in LEVERS] and design.points == 8 and design.saturated
    hidden = [other for carried in design.confounded.values() for _, other in carried]
    # 7 levers x 3 interplays each: every one of the 21 interplays hides in exactly one lever, with weight +-1
    assert sorted(hidden) == sorted(itertools.combinations(LEVERS, 2))
    assert all(abs(weight) == 1 for carried in design.confounded.values() for weight, _ in carried)


def test_resolution_four_keeps_levers_clear_and_fits_one_interplay_per_alias_chain():
    design = estimable_terms(fraction(6, 4))
    assert design.terms[:6] == [(name,) for name in LEVERS[:6]]
    assert all(len(term) == 2 for term in design.confounded)  # no lever's own effect carries anything
    fitted = [term for term in design.terms if len(term) == 2]
    hidden = [other for carried in design.confounded.values() for _, other in carried]
    assert sorted(fitted + hidden) == sorted(itertools.combinations(LEVERS[:6], 2))
    assert len(design.terms) == 6 + 7  # of 16 points: the mean, 6 levers, one interplay for each of the 7 alias chains, 2 spare


def test_resolution_five_and_full_factorials_fit_everything():
    for points in (fraction(5, 5), pd.DataFrame(list(itertools.product([-1, 1], [0, 5, 10], [2, 4])), columns=list("abc"))):
        design = estimable_terms(points)
        levers = list(points.columns)
        assert design.terms == [(n,) for n in levers] + list(itertools.combinations(levers, 2))
        assert design.confounded == {}


def test_without_interactions_the_aliasing_is_still_reported():
    design = estimable_terms(fraction(7, 3), interactions=False)
    assert design.terms == [(name,) for name in LEVERS] and len(design.confounded) == 7


def test_levers_that_cannot_be_told_apart_are_refused_by_name():
    points = pd.DataFrame({"sdr_team.reps": [3, 8, 3, 8], "ae_team.reps": [5, 10, 5, 10], "x": [0, 0, 1, 1]})
    with pytest.raises(ValueError, match=r"lever ae_team.reps moves together with sdr_team.reps"):
        estimable_terms(points)
    with pytest.raises(ValueError, match=r"lever x takes one value"):
        estimable_terms(points.assign(x=1))


def test_an_aliased_lever_carries_its_hidden_interplay_as_the_alias_statement_says():
    # revenue = 100 + 3a + 2 (b x d) on a coded resolution-III design where a is aliased with +b x d:
    # the fit cannot see b x d, so a's effect per coded unit must come out as 3 + 2 = 5
    points = fraction(7, 3)
    design = estimable_terms(points)
    weight = dict((other, w) for w, other in design.confounded[("a",)])[("b", "d")]
    rng = np.random.default_rng(11)
    runs = pd.concat([points.assign(replication=r) for r in range(6)], ignore_index=True)
    luck = rng.normal(0, 1.0, 6)
    runs["revenue"] = 100 + 3 * runs["a"] + 2 * runs["b"] * runs["d"] + luck[runs["replication"]] + rng.normal(0, 0.5, len(runs))
    model = fit_metamodel(runs, "revenue", LEVERS, family="ols")
    effect = lever_effects(model).table.set_index("lever").loc["a"]
    assert effect.ci_low <= 3 + 2 * weight <= effect.ci_high
    assert not effect.ci_low <= 3 <= effect.ci_high  # the lever's own effect alone is not what the fit reports
    shown = model.confounding().set_index("term").loc["a", "also_contains"]
    assert "b × d" in shown and model.lack_of_fit is None  # saturated: nothing to test the fit with


def test_lack_of_fit_is_found_where_the_truth_bends_and_not_where_it_is_straight():
    rng = np.random.default_rng(5)
    points = pd.DataFrame(list(itertools.product([0.0, 0.5, 1.0], [0.0, 0.5, 1.0])), columns=["a", "b"])
    runs = pd.concat([points.assign(replication=r) for r in range(4)], ignore_index=True)
    noise = rng.normal(0, 0.2, len(runs))
    straight = fit_metamodel(runs.assign(revenue=10 + 2 * runs["a"] - runs["b"] + noise), "revenue", ["a", "b"], family="ols")
    bent = fit_metamodel(runs.assign(revenue=10 + 8 * runs["a"] ** 2 - runs["b"] + noise), "revenue", ["a", "b"], family="ols")
    assert straight.lack_of_fit is not None and straight.lack_of_fit > 0.05
    assert bent.lack_of_fit is not None and bent.lack_of_fit < 0.001

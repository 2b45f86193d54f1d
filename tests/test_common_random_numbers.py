"""The same lead meets the same luck in every scenario run with the same seed, whatever the lever.

A lead's identity is its channel and arrival number; all its draws are a pure function of the
seed, the element's name, that identity, the pass and the attempt. So moving any alignment
lever leaves every lead's arrival time, channel, quality and first-attempt draws as they were.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import scenario

from funnelsim import run_replication
from funnelsim.config.schema import with_settings
from funnelsim.experiments.experiment import replication_seeds
from funnelsim.model.randomness import LeadLuck
from funnelsim.studies.assessment import QUESTIONS, Assessment

SEED = 20261123
SHORT = ("simulation.horizon_days=45", "simulation.warmup_days=5")
CHANNELS = ("paid_search", "inbound_content", "events", "outbound", "partners")


def _lever_scenarios() -> list[tuple[str, dict]]:
    """Each lever on the alignment path moved alone to the most and the least aligned firms' value (the far ends)."""
    out = []
    for answer in (0.0, 1.0):
        for item in QUESTIONS:
            answers = {q: 0.5 for q in QUESTIONS} | {item: answer}
            settings = Assessment("one lever", answers).spread_settings()
            out.append((f"{item}={'yes' if answer else 'no'}", settings))
    return out


@pytest.fixture(scope="module")
def baseline_leads() -> pd.DataFrame:
    seed = replication_seeds(SEED, 1)[0]
    return run_replication(scenario(*SHORT), seed).leads


@pytest.mark.parametrize("name, settings", _lever_scenarios(), ids=[n for n, _ in _lever_scenarios()])
def test_every_lever_keeps_each_leads_arrival_and_quality(name, settings, baseline_leads):
    base = scenario(*SHORT)
    moved = with_settings(base, settings)
    seed = replication_seeds(SEED, 1)[0]
    leads = run_replication(moved, seed).leads
    key = ["channel", "arrival_number"]
    both = baseline_leads.merge(leads, on=key, suffixes=("_base", "_moved"))
    assert len(both) > 0.5 * len(baseline_leads)
    assert (both.created_at_base == both.created_at_moved).all()
    assert (both.quality_base == both.quality_moved).all()
    if not moved.closed_loop.enabled:  # only a budget shift changes which inquiries are made
        assert len(both) == len(leads) == len(baseline_leads)


@pytest.mark.parametrize("name, settings", _lever_scenarios(), ids=[n for n, _ in _lever_scenarios()])
def test_every_lever_keeps_each_leads_first_attempt_draws(name, settings):
    base = scenario(*SHORT)
    moved = with_settings(base, settings)
    seed = replication_seeds(SEED, 1)[0]
    numbers = np.arange(0, 5000, 7)
    for channel in CHANNELS:
        a = LeadLuck(base, seed, channel).passes(numbers, np.zeros(len(numbers), dtype=np.int64))
        b = LeadLuck(moved, seed, channel).passes(numbers, np.zeros(len(numbers), dtype=np.int64))
        for element in ("score_noise", "follow_up", "qualify", "reengage", "churn"):
            assert np.array_equal(getattr(a, element), getattr(b, element)), element
        assert np.array_equal(a.contact[:, 0], b.contact[:, 0])
        assert np.array_equal(a.work[:, 0], b.work[:, 0])


def test_more_attempts_keep_the_first_attempts_luck():
    few, many = scenario("follow_up.max_attempts=2"), scenario("follow_up.max_attempts=6")
    seed = replication_seeds(SEED, 1)[0]
    numbers = np.arange(3000)
    a = LeadLuck(few, seed, "events").passes(numbers, np.zeros(3000, dtype=np.int64))
    b = LeadLuck(many, seed, "events").passes(numbers, np.zeros(3000, dtype=np.int64))
    assert np.array_equal(a.contact, b.contact[:, :2]) and np.array_equal(a.spacing, b.spacing[:, :2])


def test_a_budget_cap_does_not_change_which_inquiries_are_possible():
    # The closed loop's largest budget multiplier used to set the rate of possible inquiries,
    # so changing it reshuffled every arrival; now the rate is fixed.
    seed = replication_seeds(SEED, 1)[0]
    low = run_replication(scenario(*SHORT, "closed_loop.max_budget_weight=1.5"), seed).leads
    high = run_replication(scenario(*SHORT, "closed_loop.max_budget_weight=3"), seed).leads
    pd.testing.assert_frame_equal(low[["channel", "arrival_number", "created_at"]], high[["channel", "arrival_number", "created_at"]])


def test_score_noise_changes_the_ranking_not_the_volume():
    # The score keeps its scale: less noise passes about the same number of MQLs, better ones.
    seed = replication_seeds(SEED, 1)[0]
    noisy = run_replication(scenario(*SHORT, "scoring.noise_sd=20"), seed).leads
    sharp = run_replication(scenario(*SHORT, "scoring.noise_sd=10"), seed).leads
    n_noisy, n_sharp = int(noisy.mql_at.notna().sum()), int(sharp.mql_at.notna().sum())
    assert abs(n_sharp - n_noisy) < 0.05 * n_noisy
    assert sharp.loc[sharp.mql_at.notna(), "quality"].mean() > noisy.loc[noisy.mql_at.notna(), "quality"].mean() + 1

"""A company starts in its own steady state: its growth does not depend on its size.

With ``installed_base: steady_state`` a company has, at the end of warm-up, the customers its
own funnel and churn would have built up: wins a day divided by the daily churn hazard. Its
revenue then neither grows nor shrinks because of where it started: the same company at half
or twice the lead volume (so half or twice the installed base) grows at the same rate, zero
within its CI. A base given as a number is a transient instead, which the old model mistook
for growth.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from conftest import scenario
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from funnelsim.experiments.experiment import run_scenario
from funnelsim.model.maths import churn_hazard_per_day
from funnelsim.stats.analysis import growth_per_run

CHANNELS = ("paid_search", "inbound_content", "events", "outbound", "partners")
WINDOW = ("simulation.horizon_days=360", "simulation.warmup_days=90")


@functools.lru_cache(maxsize=None)
def _growth(volume: float, *extra: str, replications: int = 3) -> tuple[np.ndarray, pd.DataFrame]:
    base = scenario()
    sets = [*WINDOW, *extra]
    sets += [f"channels.{c}.leads_per_week={base.channels[c].leads_per_week * volume}" for c in CHANNELS]
    sets += [f"sdr_team.reps={max(1, round(base.sdr_team.reps * volume))}",
             f"opportunity.ae_team.reps={max(1, round(base.opportunity.ae_team.reps * volume))}"]
    run = run_scenario(scenario(*sets), replications, seed=97)
    growth = growth_per_run(run.daily.assign(scenario="x"), 90)["annual_log_growth"].to_numpy()
    return growth, run.daily


def test_growth_does_not_depend_on_the_size_of_the_company():
    growth = {v: _growth(v)[0] for v in (0.5, 1.0, 2.0)}
    for v, g in growth.items():
        low, high = DescrStatsW(g).tconfint_mean(alpha=0.01)
        assert low <= 0 <= high, f"volume x{v}: growth CI [{low:+.3f}, {high:+.3f}] excludes 0"
    for v in (0.5, 2.0):
        low, high = CompareMeans(DescrStatsW(growth[v]), DescrStatsW(growth[1.0])).tconfint_diff(alpha=0.01, usevar="unequal")
        assert low <= 0 <= high, f"x{v} vs x1: growth difference CI [{low:+.3f}, {high:+.3f}]"


def test_the_steady_state_base_matches_wins_over_churn():
    _, daily = _growth(1.0)
    sc = scenario(*WINDOW)
    start = daily[daily.day == 90]
    wins = daily[daily.day >= 90].groupby("replication")["wins"].sum() / (360 - 90)
    expected = wins / churn_hazard_per_day(sc.customers.monthly_churn)
    ratio = start.set_index("replication")["customers"] / expected
    assert ratio.between(0.85, 1.15).all(), ratio.to_dict()  # a Poisson count around its mean (sd < 3%)


def test_a_base_given_as_a_number_is_a_transient():
    # Ten times too few customers for the funnel: revenue climbs toward the steady state.
    growth, _ = _growth(1.0, "customers.installed_base=300", "customers.initial_deal_size={dist: constant, value: 20000}",
                        replications=2)
    assert (growth > 0.2).all()

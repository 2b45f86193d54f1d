"""Where the model reduces to something known, it must agree with theory.

Each check runs seeded replications and asserts that the theoretical value lies inside a
confidence interval computed from the simulated data (99% where several replications are
compared, so a correct model fails about one time in a hundred seeds; the seeds are fixed).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from conftest import FLAT_SEASONS, scenario
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim import run_replication
from funnelsim.experiments.experiment import replication_seeds
from funnelsim.model.maths import DecayCurve, logistic, logit

CHANNELS = ("paid_search", "inbound_content", "events", "outbound", "partners")



def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = arrival_rate / service_rate
    rho = a / servers
    top = a**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom / (servers * service_rate - arrival_rate)


# Poisson arrivals (300/day), every lead an accepted MQL handed off at once, one attempt of
# exponential work (mean 36 min), 9 SDRs working around the clock: an M/M/9 queue, rho 0.83.
M_M_9 = (
    "channels={only: {leads_per_week: 2100, cost_per_lead: 50, "
    "quality: {dist: constant, value: 100}, deal_size: {dist: constant, value: 10000}}}",
    *FLAT_SEASONS,
    "simulation.horizon_days=300",
    "simulation.warmup_days=20",
    "scoring.noise_sd=0",
    "scoring.mql_threshold=0",
    "sales_acceptance.threshold=0",
    "nurture.reengage_probability=0",
    "handoff.latency_hours={dist: constant, value: 0}",
    "follow_up.follow_up_rate=1",
    "follow_up.max_attempts=1",
    "follow_up.contact_probability=0",
    "follow_up.contact_probability_present=0",
    "follow_up.work_minutes={dist: exponential, mean: 36}",
    "sdr_team.reps=9",
    "sdr_team.business_hours=null",
)
# The M/M/3 queue of the utilisation check below: 100 leads a day, rho 0.83.
M_M_3 = (*M_M_9[:-2], "sdr_team.reps=3", "sdr_team.business_hours=null",
         "channels={only: {leads_per_week: 700, cost_per_lead: 50, quality: {dist: constant, value: 100}, "
         "deal_size: {dist: constant, value: 10000}}}", "simulation.horizon_days=150")
BATCH_DAYS = 20


def test_sdr_wait_matches_erlang_c_within_five_percent():
    # Waits in a queue this busy come in long busy periods, so a plain mean over a few hundred
    # days is noisy. Each 20-day batch's realised utilisation (expected value rho, known) tracks
    # its mean wait closely: the regression of batch waits on utilisation - rho estimates the
    # mean wait at rho (a control variate), clustered by replication, far more precisely.
    sc = scenario(*M_M_9)
    lam, mu, c = 300.0, 24 * 60 / 36, 9
    rho = lam / (c * mu)
    rows = []
    for i, child in enumerate(replication_seeds(11, 6)):
        rep = run_replication(sc, child, i)
        leads, daily = rep.leads, rep.daily
        for start in range(20, 300, BATCH_DAYS):
            batch = leads[(leads.sal_at >= start) & (leads.sal_at < start + BATCH_DAYS)]
            days = daily[(daily.day >= start) & (daily.day < start + BATCH_DAYS)]
            rows.append({
                "replication": i,
                "wait": float(((batch.first_touch_at - batch.sal_at) * 24).mean()),
                "load": float(days.sdr_busy_hours.sum() / days.sdr_available_hours.sum()) - rho,
            })
    data = pd.DataFrame(rows)
    fit = smf.ols("wait ~ load", data).fit(cov_type="cluster", cov_kwds={"groups": data.replication})
    estimate = float(fit.params["Intercept"])
    low, high = fit.conf_int(alpha=0.01).loc["Intercept"]
    theory = erlang_c_wait(lam, mu, c) * 24
    assert abs(rho - 0.83) < 0.01
    assert low <= theory <= high, f"Erlang C {theory:.4f} h outside 99% CI [{low:.4f}, {high:.4f}]"
    assert abs(estimate / theory - 1) <= 0.05, f"mean wait {estimate:.4f} h vs Erlang C {theory:.4f} h"
    assert (high - low) / 2 <= 0.05 * theory  # the check is precise enough to mean +-5%


def test_sdr_utilisation_matches_offered_load():
    # In the M/M/3 queue the share of rep time spent on calls is lambda * E[S] / c.
    sc = scenario(*M_M_3)
    shares = [run_replication(sc, child, i).kpis["sdr_utilisation"] for i, child in enumerate(replication_seeds(13, 6))]
    theory = 100.0 * (36 / (24 * 60)) / 3
    low, high = DescrStatsW(np.array(shares)).tconfint_mean(alpha=0.01)
    assert low <= theory <= high, f"utilisation {theory:.4f} outside 99% CI [{low:.4f}, {high:.4f}]"
    assert high - low < 0.05


def test_sdr_utilisation_is_a_share_when_reps_are_overloaded():
    # One SDR in office hours facing the whole baseline volume, with calls long enough that
    # many run past closing: the queue never empties, so the rep works every open hour, and
    # the overtime after closing is not counted as a share of the working day.
    sc = scenario(
        "simulation.horizon_days=60",
        "simulation.warmup_days=10",
        "sdr_team.reps=1",
        "follow_up.work_minutes={dist: gamma, mean: 90, cv: 0.8}",
    )
    rep = run_replication(sc, 17)
    daily = rep.daily
    assert (daily.sdr_busy_hours <= daily.sdr_available_hours + 1e-9).all()
    assert (daily.loc[daily.sdr_available_hours == 0, "sdr_busy_hours"] == 0).all()  # nobody works weekends
    assert 0.97 <= rep.kpis["sdr_utilisation"] <= 1.0
    assert daily.sdr_queue.iloc[-1] > 100  # overloaded indeed


def test_littles_law_holds_for_the_opportunity_pipeline():
    # L (mean open deals, from the model's end-of-day snapshots) = lambda (deals opened per
    # day) x W (mean days a deal stays open), measured over a window of the run.
    sc = scenario(
        *FLAT_SEASONS,
        "simulation.horizon_days=420",
        "simulation.warmup_days=90",
        "opportunity.ae_team.reps=40",
        "opportunity.stages.value_demonstration.duration_days={dist: gamma, mean: 14, cv: 0.3}",
        "opportunity.stages.objection_handling.duration_days={dist: gamma, mean: 21, cv: 0.3}",
        "opportunity.stages.negotiation_close.duration_days={dist: gamma, mean: 25, cv: 0.3}",
    )
    gaps = []
    for i, child in enumerate(replication_seeds(5, 6)):
        rep = run_replication(sc, child, i)
        leads, daily = rep.leads, rep.daily
        start, end = 120, 300  # deals opened by day 300 have all closed by the horizon
        opened = leads[(leads.opportunity_at >= start) & (leads.opportunity_at < end)]
        assert opened.closed_at.notna().all()
        arrival_rate = len(opened) / (end - start)
        mean_stay = (opened.closed_at - opened.opportunity_at).mean()
        in_system = daily[(daily.day >= start) & (daily.day < end)].open_opportunities.mean()
        gaps.append(in_system - arrival_rate * mean_stay)
        assert (daily.awaiting_ae == 0).all()  # no queue for AEs: the pipeline is the system
    low, high = DescrStatsW(np.array(gaps)).tconfint_mean(alpha=0.01)
    assert low <= 0 <= high, f"L - lambda*W CI [{low:.2f}, {high:.2f}] excludes 0"


def test_mql_rate_is_the_binomial_rate_of_the_score_distribution():
    # Quality ~ N(45, 14) and score noise ~ N(0, 15); the score keeps the quality scale (mean 45,
    # spread 14) whatever the noise, so P(MQL) = P(N(45, 14) >= 64).
    sc = scenario(
        "channels={only: {leads_per_week: 2000, cost_per_lead: 50, "
        "quality: {dist: normal, mean: 45, sd: 14}, deal_size: {dist: constant, value: 10000}}}",
        "simulation.horizon_days=120",
        "scoring.noise_sd=15",
        "scoring.mql_threshold=64",
    )
    leads = run_replication(sc, 3).leads
    first_pass_mql = int((leads.mql_at == leads.created_at).sum())
    assert leads.score.std() == pytest.approx(14, rel=0.05)
    expected = 1 - norm.cdf((64 - 45) / 14)
    low, high = proportion_confint(first_pass_mql, len(leads), alpha=0.01, method="wilson")
    assert low <= expected <= high


def test_follow_up_rate_is_a_binomial_rate():
    sc = scenario("simulation.horizon_days=200", "follow_up.follow_up_rate=0.7")
    leads = run_replication(sc, 8).leads
    accepted = leads[leads.sal_at.notna()]
    never = int((accepted.status == "never_followed_up").sum())
    low, high = proportion_confint(never, len(accepted), alpha=0.01, method="wilson")
    assert low <= 0.3 <= high


# --- lead response: a presence window on first dials, qualification once at the first talk ---

# Every accepted lead is worked at once by one of many SDRs around the clock; handoffs take
# 0-45 minutes, so first dials fall inside and outside the inquirer's presence window.
_RESPONSE = (
    *FLAT_SEASONS,
    "simulation.horizon_days=120",
    "simulation.warmup_days=0",
    "sdr_team.business_hours=null",
    "sdr_team.reps=60",
    "follow_up.follow_up_rate=1",
    "sales_acceptance.threshold=0",
    "nurture.reengage_probability=0",
    "handoff.latency_hours={dist: uniform, low: 0, high: 0.75}",
    "follow_up.presence_minutes={dist: lognormal, median: 10, sigma: 0.5}",
    "follow_up.contact_probability_present=0.9",
    "follow_up.contact_probability=0.2",
    "follow_up.contact_decay={age_hours: [0, 1], odds_multiplier: [1, 0.5]}",
)


def _within_binomial_ci(observed: int, p: np.ndarray, z: float = 2.576) -> tuple[bool, str]:
    """Is a count of successes consistent with independent chances ``p`` (99%, normal approx.)?"""
    expected, sd = float(p.sum()), float(np.sqrt((p * (1 - p)).sum()))
    return abs(observed - expected) <= z * sd, f"observed {observed}, expected {expected:.0f} +- {z * sd:.0f}"


def test_first_dial_contact_follows_the_presence_window():
    # A dial before the inquirer leaves the desk gets through with the 'present' chance; after
    # it, with the cold chance at the lead's age. P(present at age a) is the presence window's
    # survival function, so the chance of a first-dial contact at age a is known in closed form.
    sc = scenario(*_RESPONSE, "follow_up.max_attempts=1")
    leads = run_replication(sc, 41).leads
    dialled = leads[leads.first_touch_at.notna()]
    age_days = dialled.speed_to_lead_hours.to_numpy() / 24
    presence = sc.follow_up.presence_days
    present = 1 - norm.cdf((np.log(age_days) - presence.mu) / presence.log_sigma)
    curve = DecayCurve(sc.follow_up.contact_decay)
    cold = np.array([logistic(logit(sc.follow_up.contact_probability) + curve(a)) for a in age_days])
    chance = 0.9 * present + cold * (1 - present)
    reached = int((dialled.contacted_at == dialled.first_touch_at).sum())
    ok, text = _within_binomial_ci(reached, chance)
    assert ok, text
    assert (present > 0.9).sum() > 200 and (present < 0.1).sum() > 200  # both regimes measured


def test_qualification_is_decided_once_at_the_first_conversation():
    # Every dial gets through, every lead has quality 50: the first conversation is the first
    # dial, and it qualifies the lead with logistic(logit(p50) + log m(age)), once: a lead that
    # talked and did not qualify is never called again on that pass.
    sc = scenario(
        *_RESPONSE,
        "follow_up.max_attempts=4",
        "follow_up.contact_probability_present=1",
        "follow_up.contact_probability=1",
        "follow_up.qualification_decay={age_hours: [0, 1], odds_multiplier: [1, 0.3]}",
        *(f"channels.{c}.quality={{dist: constant, value: 50}}" for c in CHANNELS),
    )
    leads = run_replication(sc, 43).leads
    talked = leads[leads.contacted_at.notna()]
    assert (talked.attempts == 1).all()
    curve = DecayCurve(sc.follow_up.qualification_decay)
    base = logit(sc.qualification.probability_at_quality_50)
    chance = np.array([logistic(base + curve(h / 24)) for h in talked.speed_to_lead_hours])
    ok, text = _within_binomial_ci(int(talked.sql_at.notna().sum()), chance)
    assert ok, text

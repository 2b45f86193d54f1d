"""Where the model reduces to something known, it must agree with theory.

Each check runs seeded replications and asserts that the theoretical value lies inside a
confidence interval computed from the simulated data (99% where several replications are
compared, so a correct model fails about one time in a hundred seeds; the seeds are fixed).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim import run_replication
from funnelsim.experiment import replication_seeds
from funnelsim.model.odds import DecayCurve, logistic, logit

from conftest import FLAT_SEASONS, scenario

ONE_CHANNEL = (
    "channels={only: {leads_per_week: 700, cost_per_lead: 50, "
    "quality: {dist: constant, value: 100}, deal_size: {dist: constant, value: 10000}}}"
)


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = arrival_rate / service_rate
    rho = a / servers
    top = a**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom / (servers * service_rate - arrival_rate)


# Poisson arrivals (100/day), every lead an accepted MQL handed off at once, one attempt of
# exponential work (mean 36 min), 3 SDRs working around the clock: an M/M/3 queue, rho 0.83.
M_M_3 = (
    ONE_CHANNEL,
    *FLAT_SEASONS,
    "simulation.horizon_days=150",
    "simulation.warmup_days=20",
    "scoring.noise_sd=0",
    "scoring.mql_threshold=0",
    "sales_acceptance.threshold=0",
    "nurture.reengage_probability=0",
    "handoff.latency_hours={dist: constant, value: 0}",
    "follow_up.follow_up_rate=1",
    "follow_up.max_attempts=1",
    "follow_up.contact_probability=0",
    "follow_up.work_minutes={dist: exponential, mean: 36}",
    "sdr_team.reps=3",
    "sdr_team.business_hours=null",
)


def test_sdr_wait_matches_erlang_c():
    sc = scenario(*M_M_3)
    waits = []
    for i, child in enumerate(replication_seeds(11, 6)):
        leads = run_replication(sc, child, i).leads
        window = leads[(leads.sal_at >= 20) & (leads.sal_at < 140)]
        assert window.first_touch_at.notna().all()
        waits.append(((window.first_touch_at - window.sal_at) * 24).mean())
    theory = erlang_c_wait(100.0, 24 * 60 / 36, 3) * 24
    low, high = DescrStatsW(np.array(waits)).tconfint_mean(alpha=0.01)
    assert low <= theory <= high, f"Erlang C {theory:.3f} h outside 99% CI [{low:.3f}, {high:.3f}]"
    assert high - low < 0.5 * theory  # the interval is tight enough to mean something


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
    # Quality ~ N(45, 14) and score noise ~ N(0, 15): P(MQL) = P(N(45, sqrt(14^2+15^2)) >= 64).
    sc = scenario(
        "channels={only: {leads_per_week: 2000, cost_per_lead: 50, "
        "quality: {dist: normal, mean: 45, sd: 14}, deal_size: {dist: constant, value: 10000}}}",
        "simulation.horizon_days=120",
        "scoring.noise_sd=15",
        "scoring.mql_threshold=64",
    )
    leads = run_replication(sc, 3).leads
    first_pass_mql = int((leads.mql_at == leads.created_at).sum())
    expected = 1 - norm.cdf((64 - 45) / math.hypot(14, 15))
    low, high = proportion_confint(first_pass_mql, len(leads), alpha=0.01, method="wilson")
    assert low <= expected <= high


def test_follow_up_rate_is_a_binomial_rate():
    sc = scenario("simulation.horizon_days=200", "follow_up.follow_up_rate=0.7")
    leads = run_replication(sc, 8).leads
    accepted = leads[leads.sal_at.notna()]
    never = int((accepted.status == "never_followed_up").sum())
    low, high = proportion_confint(never, len(accepted), alpha=0.01, method="wilson")
    assert low <= 0.3 <= high


def _age_groups(ages_hours: pd.Series) -> pd.Series:
    return pd.cut(ages_hours, [0, 1, 2, 24, np.inf], right=False, labels=["0-1h", "1-2h", "2-24h", "24h+"])


def _speed_study(*overrides: str, seed: int) -> pd.DataFrame:
    """Single attempts on leads handed off 0-2 h or 24-48 h after inquiry; SDRs never busy."""
    frames = []
    for k, latency in enumerate(["{dist: uniform, low: 0, high: 2}", "{dist: uniform, low: 24, high: 48}"]):
        sc = scenario(
            *FLAT_SEASONS,
            "simulation.horizon_days=300",
            "sdr_team.business_hours=null",
            "sdr_team.reps=40",
            "follow_up.max_attempts=1",
            "follow_up.follow_up_rate=1",
            "sales_acceptance.threshold=64",
            "nurture.reengage_probability=0",  # one pass per lead: the outcome is the first touch's
            f"handoff.latency_hours={latency}",
            *overrides,
        )
        leads = run_replication(sc, seed + k).leads
        frames.append(leads[leads.first_touch_at.notna()])
    study = pd.concat(frames, ignore_index=True)
    study["group"] = _age_groups(study.first_touch_age_hours)
    study["qualified"] = study.sql_at.notna().astype(int)
    return study


def _odds_ratio_ci(study: pd.DataFrame, group: str) -> tuple[float, float, float]:
    """Odds ratio of qualifying, first hour vs ``group``, from a statsmodels logit."""
    data = study[study.group.isin(["0-1h", group])].copy()
    data["late"] = (data.group == group).astype(int)
    fit = smf.logit("qualified ~ late", data=data).fit(disp=0)
    low, high = fit.conf_int().loc["late"]
    return float(np.exp(-fit.params["late"])), float(np.exp(-high)), float(np.exp(-low))


def test_measured_odds_ratio_matches_the_configured_decay_curve():
    # Contact always succeeds and every lead has quality 50, so the chance to qualify at age a
    # is logistic(logit(p50) + log m(a)): the expected odds ratio between age groups follows
    # from the configured curve and the simulated ages alone.
    study = _speed_study(
        "follow_up.contact_probability=1",
        "follow_up.contact_decay={age_hours: [0], odds_multiplier: [1]}",
        "channels.paid_search.quality={dist: constant, value: 50}",
        "channels.inbound_content.quality={dist: constant, value: 50}",
        "channels.events.quality={dist: constant, value: 50}",
        "channels.outbound.quality={dist: constant, value: 50}",
        "channels.partners.quality={dist: constant, value: 50}",
        "scoring.noise_sd=30",
        "sales_acceptance.threshold=50",
        seed=21,
    )
    sc = scenario()
    curve = DecayCurve(sc.follow_up.qualification_decay)
    base = logit(sc.qualification.probability_at_quality_50)
    study["p"] = [logistic(base + curve(a / 24)) for a in study.first_touch_age_hours]

    def expected_odds(group: str) -> float:
        p = study.loc[study.group == group, "p"].mean()
        return p / (1 - p)

    for late in ("1-2h", "24h+"):
        estimate, low, high = _odds_ratio_ci(study, late)
        expected = expected_odds("0-1h") / expected_odds(late)
        assert low <= expected <= high, f"{late}: expected OR {expected:.1f} outside [{low:.1f}, {high:.1f}]"


def test_default_decay_reproduces_hbr():
    # HBR 2011: trying within the first hour gives ~7x the odds of qualifying of trying an hour
    # later, and over 60x the odds of trying after 24 hours or more.
    study = _speed_study(seed=31)
    estimate, low, high = _odds_ratio_ci(study, "1-2h")
    assert low <= 7 <= high, f"first hour vs second: OR {estimate:.1f} [{low:.1f}, {high:.1f}]"
    estimate, low, high = _odds_ratio_ci(study, "24h+")
    assert low > 60, f"first hour vs 24h+: OR {estimate:.1f} [{low:.1f}, {high:.1f}]"

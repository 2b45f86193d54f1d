"""Measuring the model the way the published studies measured the world.

A published figure is only comparable with the model when the model is measured the same way.
This module makes each measurement as its study did (``params/targets/published.yaml`` says
which study uses which):

* **funnel rates and cycle** (vendor ranges, MarketingSherpa): counts of first-time events per
  replication, after warm-up; the mean over replications with a 95% t interval;
* **MIT / InsideSales 2007** compared *first dials* by how soon after the inquiry they came:
  the odds that the first attempt reaches the lead (and that it qualifies it) when made within
  5 minutes, against 25 to 35 minutes; a statsmodels logit on the company's leads;
* **HBR 2011** compared *firms* by their typical response time, and fast firms differ from slow
  ones in more than speed. So the model is measured on a population of firms: the company at
  every point of the spread the seeds describe, from the least aligned firms to the most, each
  staffed for its own lead flow. Each firm's typical response time (the median age of its leads at their first
  attempt) puts it in one of HBR's groups; the groups' rates of qualifying (SQLs per MQL handed
  to sales) are compared as risk ratios from a binomial regression with errors clustered by
  firm;
* **alignment claims** compare two companies replication by replication (common random
  numbers); growth claims are measured on a company that changes (see ``transition_growth``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import DomainWarning

from funnelsim.config.schema import Scenario, with_settings
from funnelsim.experiments.executors import run_in_order
from funnelsim.experiments.experiment import run_replication
from funnelsim.experiments.staffing import staff
from funnelsim.model.maths import (
    MINUTES_PER_HOUR,
)
from funnelsim.stats.measures import (
    Measure,
    growth_after_change,
    mean_ci,
)
from funnelsim.studies.assessment import QUESTIONS, Assessment

__all__ = [
    "first_dial_odds",
    "firm_population",
    "run_firms",
    "hbr_ratios",
    "transition_growth",
    "HBR_GROUPS",
]

HBR_GROUPS = ("within 1 hour", "1-2 hours", "2-24 hours", "24 hours or more")
_HBR_EDGES = [0.0, 1.0, 2.0, 24.0, math.inf]
FIRST_DIAL_EARLY = (0.0, 5.0)  # minutes after the inquiry
FIRST_DIAL_LATE = (25.0, 35.0)


def _odds_ratio(data: pd.DataFrame, outcome: str) -> Measure:
    """Odds of ``outcome`` for early against late first dials, from a logit with a 95% CI."""
    n = len(data)
    counts = data.groupby("early")[outcome].agg(["sum", "count"])
    if len(counts) < 2 or (counts["sum"] == 0).any() or (counts["sum"] == counts["count"]).any():
        return Measure.missing(n)
    fit = smf.logit(f"{outcome} ~ early", data=data.astype({outcome: int, "early": int})).fit(disp=0)
    low, high = fit.conf_int().loc["early"]
    return Measure(float(np.exp(fit.params["early"])), float(np.exp(low)), float(np.exp(high)), n)


def first_dial_odds(leads: pd.DataFrame, warmup_days: float) -> dict[str, Measure]:
    """MIT/InsideSales: first dials within 5 minutes of the inquiry against 25-35 minutes.

    ``contact``: the first attempt reached the lead; ``qualify``: it reached the lead and that
    conversation made it an SQL. Leads first dialled after warm-up, every replication pooled."""
    dialled = leads[(leads["first_touch_at"] >= warmup_days)]
    minutes = dialled["speed_to_lead_hours"] * MINUTES_PER_HOUR
    early = (minutes >= FIRST_DIAL_EARLY[0]) & (minutes < FIRST_DIAL_EARLY[1])
    late = (minutes >= FIRST_DIAL_LATE[0]) & (minutes < FIRST_DIAL_LATE[1])
    data = pd.DataFrame({"early": early[early | late]})
    chosen = dialled[early | late]
    data["contact"] = (chosen["contacted_at"] == chosen["first_touch_at"]).to_numpy()
    data["qualify"] = (data["contact"] & chosen["sql_at"].notna().to_numpy()).to_numpy()
    return {"contact": _odds_ratio(data, "contact"), "qualify": _odds_ratio(data, "qualify")}


SLOWEST_EXPORT_DAYS = 7.0


def firm_population(
    scenario: Scenario, points: int = 21, volume: float = 0.5, horizon_days: float = 180.0, warmup_days: float = 60.0
) -> list[tuple[float, Scenario]]:
    """The company at every point of the spread of real firms: every alignment lever where the
    seeds put a firm answering every question at ``t`` (0 = the least aligned firms' value, 1 =
    the most aligned's; ``Assessment.spread_settings``), the least mature firms exporting leads
    in batches as seldom as weekly.

    HBR's firms spanned that spread (from minutes to days), so the population does too, and not
    only the narrower span of the maturity levels. Each firm keeps the company's channels, costs
    and funnel, and is simulated at a
    share ``volume`` of its lead volume over a shorter horizon (the rates compared do not depend
    on either once the teams are sized for the flow)."""
    firms = []
    for t in np.linspace(0.0, 1.0, points):
        answers = {item: float(t) for item in QUESTIONS}
        settings = Assessment(f"t={t:.2f}", answers).spread_settings()
        # HBR's slowest firms answered after days (24% after a day or more): the firms without
        # integrated systems export leads from weekly (t = 0) to daily, faster as they mature
        settings["handoff.batch_every_days"] = SLOWEST_EXPORT_DAYS + t * (1.0 - SLOWEST_EXPORT_DAYS)
        settings["simulation.horizon_days"] = horizon_days
        settings["simulation.warmup_days"] = warmup_days
        for name, channel in scenario.channels.items():
            settings[f"channels.{name}.leads_per_week"] = channel.leads_per_week * volume
        firms.append((float(t), with_settings(scenario, settings, name=f"{scenario.name} at maturity {t:.2f}")))
    return firms


def _firm_outcome(job: tuple[float, Scenario, np.random.SeedSequence]) -> dict[str, float]:
    """One firm staffed for its flow and simulated: its response time and rate of qualifying."""
    t, firm, seed = job
    staffed = staff(firm, seed)
    leads = run_replication(staffed, seed).leads
    start = firm.simulation.warmup_days
    worked = leads[leads["first_touch_at"] >= start]
    handed = leads[leads["handed_off_at"] >= start]
    return {
        "t": t,
        "response_hours": float(worked["speed_to_lead_hours"].median()) if len(worked) else math.nan,
        "handed_off": float(len(handed)),
        "qualified": float(handed["sql_at"].notna().sum()),
        "sdrs": float(staffed.sdr_team.reps),
        "aes": float(staffed.opportunity.ae_team.reps),
    }


def run_firms(firms: list[tuple[float, Scenario]], seed: int, workers: int = 1) -> pd.DataFrame:
    """Simulate every firm of a population (each with its own seed); one row per firm."""
    seeds = np.random.SeedSequence(seed).spawn(len(firms))
    jobs = [(t, firm, s) for (t, firm), s in zip(firms, seeds)]
    table = pd.DataFrame(run_in_order(_firm_outcome, jobs, workers=workers))
    table["group"] = pd.cut(table["response_hours"], _HBR_EDGES, right=False, labels=list(HBR_GROUPS))
    return table


def _risk_ratio(firms: pd.DataFrame, fast: str, slow: str) -> Measure:
    """How many times as likely fast firms qualify a lead as slow firms: binomial GLM with a log
    link on the firms' counts, errors robust to between-firm differences (clustered by firm)."""
    data = firms[firms["group"].isin([fast, slow]) & (firms["handed_off"] > 0)]
    n = int(data["handed_off"].sum())
    if data["group"].nunique() < 2 or (data.groupby("group", observed=True)["qualified"].sum() == 0).any():
        return Measure.missing(n)
    endog = np.column_stack([data["qualified"], data["handed_off"] - data["qualified"]])
    exog = sm.add_constant((data["group"] == fast).astype(float).to_numpy())
    with warnings.catch_warnings():  # the log link is right here: the fitted rates are two group shares
        warnings.simplefilter("ignore", DomainWarning)
        fit = sm.GLM(endog, exog, family=sm.families.Binomial(link=sm.families.links.Log())).fit(cov_type="HC0")
    low, high = fit.conf_int()[1]
    return Measure(float(np.exp(fit.params[1])), float(np.exp(low)), float(np.exp(high)), n)


def hbr_ratios(firms: pd.DataFrame) -> dict[str, Measure]:
    """HBR's two comparisons: first-hour firms against second-hour firms, and against 24 h+."""
    return {
        "first_vs_second_hour": _risk_ratio(firms, HBR_GROUPS[0], HBR_GROUPS[1]),
        "first_hour_vs_day": _risk_ratio(firms, HBR_GROUPS[0], HBR_GROUPS[3]),
    }


def transition_growth(changed: pd.DataFrame, stayed: pd.DataFrame) -> Measure:
    """``growth_after_change`` from the steady state of ``stayed`` to that of ``changed``, paired
    by replication (common random numbers), with the changed company's measured churn."""
    pairs = changed[["replication", "revenue", "monthly_churn"]].merge(
        stayed[["replication", "revenue"]], on="replication", suffixes=("_new", "_old")
    )
    return mean_ci(growth_after_change(pairs["revenue_new"], pairs["revenue_old"], pairs["monthly_churn"]))

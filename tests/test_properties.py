"""Whatever the valid parameters, every lead is accounted for and its history is in order."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnelsim import run_replication
from funnelsim.model.records import STATUSES
from funnelsim.model.stages import TIMELINE

STAGE_ORDER = list(TIMELINE)


@st.composite
def scenarios(draw):
    probability = st.floats(0, 1)
    sets = [
        f"simulation.horizon_days={draw(st.floats(5, 90))}",
        "simulation.warmup_days=0",
        f"scoring.noise_sd={draw(st.floats(0, 30))}",
        f"scoring.mql_threshold={draw(st.floats(20, 80))}",
        f"sales_acceptance.threshold={draw(st.floats(20, 90))}",
        f"nurture.reengage_probability={draw(probability)}",
        f"nurture.max_cycles={draw(st.integers(0, 3))}",
        f"nurture.reengage_delay_days={{dist: exponential, mean: {draw(st.floats(0.5, 30))}}}",
        f"follow_up.follow_up_rate={draw(probability)}",
        f"follow_up.max_attempts={draw(st.integers(1, 6))}",
        f"follow_up.contact_probability={draw(probability)}",
        f"follow_up.priority_routing={str(draw(st.booleans())).lower()}",
        f"qualification.probability_at_quality_50={draw(probability)}",
        f"sdr_team.reps={draw(st.integers(1, 4))}",
        f"opportunity.ae_team.reps={draw(st.integers(1, 3))}",
        f"opportunity.ae_team.deals_per_rep={draw(st.integers(1, 5))}",
        f"opportunity.message_consistency={draw(probability)}",
        f"customers.revenue_model={(model := draw(st.sampled_from(['recurring', 'one_off'])))}",
        f"customers.installed_base={draw(st.sampled_from(['steady_state', 0, 20])) if model == 'recurring' else 0}",
        "customers.initial_deal_size={dist: constant, value: 1000}",
        f"customers.monthly_churn={draw(st.floats(0.001, 1))}",
        f"follow_up.presence_minutes={{dist: lognormal, median: {draw(st.floats(1, 60))}, sigma: 0.5}}",
        f"follow_up.contact_probability_present={draw(probability)}",
        f"opportunity.ae_team.sql_patience_days={draw(st.sampled_from(['null', '{dist: exponential, mean: 5}']))}",
        f"closed_loop.enabled={str(draw(st.booleans())).lower()}",
        f"closed_loop.meeting_every_days={draw(st.floats(3, 50))}",
        f"closed_loop.min_outcomes={draw(st.integers(0, 20))}",
    ]
    for name in ("paid_search", "inbound_content", "events", "outbound", "partners"):
        sets.append(f"channels.{name}.leads_per_week={draw(st.floats(0, 120))}")
    sets.append("channels.partners.leads_per_week=" + str(draw(st.floats(1, 60))))
    if draw(st.booleans()):
        sets += ["handoff.mode=batch", f"handoff.batch_every_days={draw(st.sampled_from([1, 7]))}"]
    if draw(st.booleans()):
        sets.append("sdr_team.business_hours=null")
    return scenario(*sets)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_every_lead_is_accounted_for_and_in_order(sc, seed):
    rep = run_replication(sc, seed)
    leads, daily = rep.leads, rep.daily
    horizon = sc.simulation.horizon_days

    # One row per lead, each in exactly one known state; the daily counts add up to the rows.
    assert leads.lead_id.is_unique
    assert leads.status.notna().all() and set(leads.status.unique()) <= set(STATUSES)
    assert int(daily.leads.sum()) == len(leads)
    assert (daily.customers >= 0).all()
    # SDR hours worked are a share of the hours available, day by day.
    assert (daily.sdr_busy_hours <= daily.sdr_available_hours + 1e-9).all()
    won_alive = int((leads.status == "won").sum() - leads.churned_at.notna().sum())
    assert int(daily.customers.iloc[-1]) == won_alive + int(daily.installed_base_customers.iloc[-1])
    base_churned = int(daily.churned.sum()) - int(leads.churned_at.notna().sum())
    assert base_churned >= 0 and (daily.installed_base_customers >= 0).all()

    # Stage timestamps never run backwards and never pass the horizon.
    times = leads[STAGE_ORDER].to_numpy()
    running = np.fmax.accumulate(np.nan_to_num(times, nan=-np.inf), axis=1)
    reached = ~np.isnan(times)
    assert (times[reached] >= running[reached] - 1e-9).all()
    assert (times[reached] <= horizon + 1e-9).all()
    # A stage is only reached through the ones before it (churn only for customers).
    chain = [c for c in STAGE_ORDER if c != "lapsed_at"]  # a lapse ends the chain, it is not a step of it
    for earlier, later in zip(chain[:-2], chain[1:-1]):
        if later in ("objection_handling_at", "negotiation_at", "closed_at", "contacted_at"):
            continue  # deals can be lost early, leads can be touched but never reached
        assert not (leads[later].notna() & leads[earlier].isna()).any(), (earlier, later)

    # The status agrees with the history and with the model's own resource counts.
    status = leads.status
    assert (leads.loc[status == "won", "closed_at"].notna()).all()
    assert (leads.loc[status == "lost", "closed_at"].notna()).all()
    assert (leads.loc[status == "opportunity", "closed_at"].isna()).all()
    assert (leads.loc[status.isin(["handoff", "follow_up", "never_followed_up"]), "mql_at"].notna()).all()
    assert (leads.loc[status == "awaiting_ae", "opportunity_at"].isna()).all()
    lapsed = status == "lapsed"
    assert (leads.loc[lapsed, "lapsed_at"].notna() & leads.loc[lapsed, "sql_at"].notna() & leads.loc[lapsed, "opportunity_at"].isna()).all()
    assert (leads.loc[leads.lapsed_at.notna(), "status"] == "lapsed").all()
    if sc.opportunity.ae_team.sql_patience_days is None:
        assert not lapsed.any()
    assert int((status == "opportunity").sum()) == int(daily.open_opportunities.iloc[-1])
    assert int((status == "awaiting_ae").sum()) == int(daily.awaiting_ae.iloc[-1])
    assert leads.loc[leads.churned_at.notna(), "status"].eq("won").all()
    assert (leads.revenue >= 0).all()
    assert pd.Series(leads.amount[status == "won"]).notna().all()

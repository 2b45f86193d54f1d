"""Sales development: the handoff, and reps trying to reach and qualify each lead.

The handoff is either continuous (each MQL reaches sales after its own latency, e.g. real-time
routing) or batched (an export every day or week at a fixed hour, so an MQL waits for the next
export). Sales then makes up to N contact attempts, spaced out in time. Each attempt needs a
free SDR: the team is limited, so when reps are overloaded leads queue and speed to lead
suffers; with priority routing the best-scored leads are called first; reps only start calls
within business hours. A lead is harder to reach and to qualify the older it is: the decay
curves turn its age at the attempt into odds multipliers (the lead-response studies).
"""

from __future__ import annotations

import math
from collections.abc import Generator

from funnelsim.model.context import Funnel
from funnelsim.model.odds import logistic
from funnelsim.model.randomness import PassDraws

__all__ = ["hand_off", "work_lead", "sdr_attempt"]


def hand_off(funnel: Funnel, draws: PassDraws) -> Generator:
    """Wait until the MQL reaches sales."""
    env = funnel.env
    handoff = funnel.scenario.handoff
    if handoff.mode == "continuous":
        if draws.handoff_latency > 0:
            yield env.timeout(draws.handoff_latency)
        return
    every = handoff.batch_every_days
    first = handoff.batch_at_hour / 24.0
    periods = math.ceil((env.now - first) / every) if env.now > first else 0
    export = first + periods * every
    if export > env.now:
        yield env.timeout(export - env.now)


def sdr_attempt(funnel: Funnel, priority: float, work: float) -> Generator:
    """Wait for a free SDR (reps only pick up calls in office hours) and make one call.

    Returns when the call began."""
    env = funnel.env
    with funnel.sdrs.request(priority=priority) as rep:
        yield rep
        start = env.now
        funnel.record_sdr_work(start, start + work)
        yield env.timeout(work)
        return start


def work_lead(
    funnel: Funnel, lead: int, draws: PassDraws, pass_start: float, handed: float
) -> Generator:
    """Up to N attempts to reach and qualify an accepted lead; True if it became an SQL."""
    env, rec = funnel.env, funnel.records
    quality = rec.quality[lead]
    priority = -rec.score[lead] if funnel.priority_routing else 0.0
    quality_shift = funnel.qualify_quality_log_or * (quality - 50.0) / 10.0
    for k in range(funnel.max_attempts):
        if k:
            yield env.timeout(draws.spacing[k - 1])
        start = yield from sdr_attempt(funnel, priority, draws.work[k])
        rec.attempts[lead] += 1
        age = start - pass_start
        if math.isnan(rec.first_touch_at[lead]):
            rec.first_touch_at[lead] = start
            rec.speed_to_lead_hours[lead] = (start - handed) * 24.0
            rec.first_touch_age_hours[lead] = age * 24.0
        if draws.contact[k] < logistic(funnel.contact_logit + funnel.contact_decay(age)):
            if math.isnan(rec.contacted_at[lead]):
                rec.contacted_at[lead] = start
            funnel.new_outcomes += 1
            p_qualify = logistic(funnel.qualify_logit + quality_shift + funnel.qualification_decay(age))
            if draws.qualify < p_qualify:
                rec.sql_at[lead] = env.now
                return True
            return False
    funnel.new_outcomes += 1
    return False

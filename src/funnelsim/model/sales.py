"""Sales development: the handoff, and reps trying to reach and qualify each lead.

The handoff is either continuous (each MQL reaches sales after its own latency, e.g. real-time
routing) or batched (an export every day or week at a fixed hour, so an MQL waits for the next
export). Sales then makes up to N contact attempts, spaced out in time. Each attempt needs a
free SDR: the team is limited, so when reps are overloaded leads queue and speed to lead
suffers; with priority routing the best-scored leads are called first; reps only start calls
within business hours. Speed matters twice, and differently. A new inquirer is at their desk
for a few minutes: a call then usually gets through, a call half an hour later is a cold call
(the minutes-scale effect the MIT/InsideSales study measured on first dials). And interest
cools over hours and days: the later the first conversation, the lower its odds of turning
the lead into an SQL, decided once, at that conversation (not again on every attempt). And a
lead shops around: one that nobody touches (a call, a voicemail) before it engages a
competitor has chosen another vendor, however often it is called later.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from funnelsim.model.context import Funnel
from funnelsim.model.maths import HOURS_PER_DAY, logistic
from funnelsim.model.randomness import LeadPass

__all__ = ["handoff_wait", "work_lead", "sdr_attempt"]


def handoff_wait(funnel: Funnel, draws: LeadPass, now: float) -> float:
    """Days from ``now`` (the MQL moment) until the MQL reaches sales: its own latency, or the
    wait for the next export."""
    if funnel.continuous_handoff:
        return max(draws.handoff_latency, 0.0)
    every = funnel.batch_every
    first = funnel.batch_first
    periods = math.ceil((now - first) / every) if now > first else 0
    export = first + periods * every
    return export - now if export > now else 0.0


def sdr_attempt(funnel: Funnel, priority: float, work: float) -> Generator[simpy.Event, Any, float]:
    """Wait for a free SDR (reps only pick up calls in office hours) and make one call.

    Returns when the call began."""
    env, reps = funnel.env, funnel.sdrs
    held: object
    if reps.free_now():  # granted at once either way: no request event to wait for
        held = reps.take()
    else:
        request = reps.call(priority)
        yield request
        held = request
    start = env.now
    funnel.record_sdr_work(start, start + work)
    yield env.timeout(work)
    reps.give_back(held)
    return start


def work_lead(funnel: Funnel, lead: int, draws: LeadPass, inquiry: float) -> Generator[simpy.Event, Any, bool]:
    """Up to N attempts to reach and qualify an accepted lead; True if it became an SQL.

    ``inquiry`` is when the lead last raised its hand (its first inquiry, or its return from
    nurture): its age at each attempt counts from there. An attempt while the lead is still at
    their desk reaches them with the chance of contact when present; later attempts are cold
    calls whose odds fall slowly with age. The first conversation decides qualification once,
    on the lead's quality and on how long its interest has had to cool.
    """
    env, rec = funnel.env, funnel.records
    quality = rec.quality[lead]
    priority = -rec.score[lead] if funnel.priority_routing else 0.0
    quality_shift = funnel.qualify_quality_shift(quality)
    gone = False  # the lead engaged a competitor before anyone from the company touched it
    for k in range(funnel.max_attempts):
        if k:
            yield env.timeout(draws.spacing[k - 1])
        start = yield from sdr_attempt(funnel, priority, draws.work[k])
        rec.attempts[lead] += 1
        age = start - inquiry
        if k == 0:
            gone = age > draws.shopping
        if math.isnan(rec.first_touch_at[lead]):
            rec.first_touch_at[lead] = start
            rec.speed_to_lead_hours[lead] = age * HOURS_PER_DAY
        if age < draws.presence:
            reached = draws.contact[k] < funnel.present_contact_probability
        else:
            reached = draws.contact[k] < logistic(funnel.contact_logit + funnel.contact_decay(age))
        if reached:
            if math.isnan(rec.contacted_at[lead]):
                rec.contacted_at[lead] = start
            funnel.new_outcomes += 1
            p_qualify = 0.0 if gone else logistic(funnel.qualify_logit + quality_shift + funnel.qualification_decay(age))
            if draws.qualify < p_qualify:
                rec.sql_at[lead] = env.now
                return True
            return False
    funnel.new_outcomes += 1
    return False

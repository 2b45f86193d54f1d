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
from collections.abc import Callable

from funnelsim.model.context import Funnel
from funnelsim.model.maths import HOURS_PER_DAY, logistic
from funnelsim.model.randomness import LeadPass

__all__ = ["handoff_wait", "work_lead"]

# What happens after the last call of a pass: ``done(end, qualified)``, at the call's start,
# with the time the call ends and whether the lead became an SQL.
Done = Callable[[float, bool], None]


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


def work_lead(funnel: Funnel, lead: int, draws: LeadPass, inquiry: float, done: Done) -> None:
    """Up to N attempts to reach and qualify an accepted lead, from now; ``done`` says how it ended.

    ``inquiry`` is when the lead last raised its hand (its first inquiry, or its return from
    nurture): its age at each attempt counts from there. An attempt while the lead is still at
    their desk reaches them with the chance of contact when present; later attempts are cold
    calls whose odds fall slowly with age. The first conversation decides qualification once,
    on the lead's quality and on how long its interest has had to cool.
    """
    _Attempts(funnel, lead, draws, inquiry, done).ask()


class _Attempts:
    """One accepted lead's contact attempts: each asks the SDR team for a rep, and the call's
    outcome is known when it starts (the draws are the lead's own). What a CRM writes at the
    end of a call (the attempt, the first touch, the contact, the SQL) is written only if the
    call ends before the horizon, as if written at its end."""

    __slots__ = ("funnel", "lead", "draws", "inquiry", "done", "priority", "quality_shift", "attempt", "gone")

    def __init__(self, funnel: Funnel, lead: int, draws: LeadPass, inquiry: float, done: Done):
        self.funnel, self.lead, self.draws, self.inquiry, self.done = funnel, lead, draws, inquiry, done
        rec = funnel.records
        self.priority = -float(rec.score[lead]) if funnel.priority_routing else 0.0
        self.quality_shift = funnel.qualify_quality_shift(rec.quality[lead])
        self.attempt = 0
        self.gone = False  # the lead engaged a competitor before anyone from the company touched it

    def ask(self, _: object = None) -> None:
        """Ask for a rep to make the next attempt."""
        self.funnel.sdrs.ask(self.priority, self.draws.work[self.attempt], self.call)

    def call(self, start: float) -> None:
        """A rep starts the attempt's call now (``start``)."""
        funnel, draws, k, lead = self.funnel, self.draws, self.attempt, self.lead
        end = start + draws.work[k]
        funnel.record_sdr_work(start, end)
        age = start - self.inquiry
        if k == 0:
            self.gone = age > draws.shopping
        if age < draws.presence:
            reached = draws.contact[k] < funnel.present_contact_probability
        else:
            reached = draws.contact[k] < logistic(funnel.contact_logit + funnel.contact_decay(age))
        last = reached or k + 1 == funnel.max_attempts
        if end < funnel.horizon:
            rec = funnel.records
            rec.attempts[lead] += 1
            if math.isnan(rec.first_touch_at[lead]):
                rec.first_touch_at[lead] = start
                rec.speed_to_lead_hours[lead] = age * HOURS_PER_DAY
            if reached and math.isnan(rec.contacted_at[lead]):
                rec.contacted_at[lead] = start
            if last and funnel.notes_outcomes:
                funnel.outcomes_at.append(end)
        if not last:
            self.attempt = k + 1
            funnel.env.call_at(end + draws.spacing[k], self.ask)
            return
        qualified = False
        if reached and not self.gone:
            p_qualify = logistic(funnel.qualify_logit + self.quality_shift + funnel.qualification_decay(age))
            qualified = draws.qualify < p_qualify
        if qualified and end < funnel.horizon:
            funnel.records.sql_at[lead] = end
        self.done(end, qualified)

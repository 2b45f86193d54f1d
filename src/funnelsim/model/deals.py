"""Account executives turn sales-qualified leads into won or lost deals, and customers.

An SQL waits for an account executive with room (each AE carries a limited number of open
deals), but not for ever: a qualified buyer who hears nothing for weeks buys elsewhere. The deal then moves through value demonstration, objection handling and negotiation
and close; each stage takes time and may be lost. The chance of passing a stage rises with the
lead's quality and with two alignment levers: how consistent the message is between marketing
and sales, and how much of the sales stages are covered by usable content. A won deal becomes a
customer, who stays until they churn at a constant monthly hazard (the retention lever).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from funnelsim.model.context import STATUS, Funnel
from funnelsim.model.maths import customer_lifetime, logistic
from funnelsim.model.randomness import LeadPass
from funnelsim.model.stages import DEAL_STAGES

__all__ = ["work_deal"]


# The leads column each deal stage after the first stamps when a deal enters it (the first
# starts when the deal opens: ``opportunity_at``).
_ENTERED_AT = [None] + [stage.entered_at for stage in DEAL_STAGES[1:]]


def work_deal(funnel: Funnel, lead: int, draws: LeadPass) -> Generator[simpy.Event, Any, None]:
    """From SQL to a closed deal, holding one AE deal slot while the deal is open.

    An SQL that waits for an AE longer than its patience buys elsewhere (status ``lapsed``)."""
    env, rec = funnel.env, funnel.records
    rec.status_code[lead] = STATUS["awaiting_ae"]
    quality_shift = funnel.stage_quality_shift(float(rec.quality[lead]))
    with funnel.deal_slots.request() as slot:
        if draws.patience == math.inf:
            yield slot
        else:
            outcome = yield slot | env.timeout(draws.patience)
            if slot not in outcome:
                rec.lapsed_at[lead] = env.now
                rec.status_code[lead] = STATUS["lapsed"]
                return
        rec.opportunity_at[lead] = env.now
        rec.status_code[lead] = STATUS["opportunity"]
        for i, base_logit in enumerate(funnel.stage_logits):
            entered_at = _ENTERED_AT[i]
            if entered_at is not None:  # the column now: the records may have grown meanwhile
                rec.column(entered_at)[lead] = env.now
            yield env.timeout(draws.stage_duration[i])
            if draws.stage_pass[i] >= logistic(base_logit + quality_shift):
                rec.closed_at[lead] = env.now
                rec.status_code[lead] = STATUS["lost"]
                return
        rec.closed_at[lead] = env.now
        rec.status_code[lead] = STATUS["won"]
        lifetime = customer_lifetime(draws.churn, funnel.churn_hazard_per_day)
        if funnel.scenario.customers.revenue_model == "recurring" and env.now + lifetime <= funnel.horizon:
            rec.churned_at[lead] = env.now + lifetime

"""Account executives turn sales-qualified leads into won or lost deals, and customers.

An SQL waits for an account executive with room (each AE carries a limited number of open
deals), but not for ever: a qualified buyer who hears nothing for weeks buys elsewhere. The deal then moves through value demonstration, objection handling and negotiation
and close; each stage takes time and may be lost. The chance of passing a stage rises with the
lead's quality and with two alignment levers: how consistent the message is between marketing
and sales, and how much of the sales stages are covered by usable content. A won deal becomes a
customer, who stays until they churn at a constant monthly hazard (the retention lever).
"""

from __future__ import annotations

from funnelsim.model.context import STATUS, Funnel
from funnelsim.model.maths import customer_lifetime, logistic
from funnelsim.model.randomness import LeadPass
from funnelsim.model.stages import DEAL_STAGES

__all__ = ["open_deal"]


# The leads column each deal stage after the first stamps when a deal enters it (the first
# starts when the deal opens: ``opportunity_at``).
_ENTERED_AT = [None] + [stage.entered_at for stage in DEAL_STAGES[1:]]


def open_deal(funnel: Funnel, lead: int, draws: LeadPass) -> None:
    """A new SQL, now: from waiting for an account executive to a closed deal, holding one AE deal
    slot while the deal is open.

    Everything the deal will do is known now: when a slot is free (or that the SQL buys
    elsewhere first, after its patience), how long each stage takes and whether it is passed.
    The CRM's record of it is written as of the horizon: a stage entered after the horizon is
    not recorded, and the lead's status is where the deal stands then."""
    rec, horizon = funnel.records, funnel.horizon
    rec.status_code[lead] = STATUS["awaiting_ae"]
    opens = funnel.deal_slots.ask(draws.patience)
    if opens is None:  # bought elsewhere while waiting
        gave_up = funnel.env.now + draws.patience
        if gave_up < horizon:
            rec.lapsed_at[lead] = gave_up
            rec.status_code[lead] = STATUS["lapsed"]
        return
    quality_shift = funnel.stage_quality_shift(float(rec.quality[lead]))
    t, won = opens, True
    for i, base_logit in enumerate(funnel.stage_logits):
        entered_at = _ENTERED_AT[i]
        if entered_at is not None and t < horizon:
            rec.column(entered_at)[lead] = t
        t = t + draws.stage_duration[i]
        if draws.stage_pass[i] >= logistic(base_logit + quality_shift):
            won = False
            break
    funnel.deal_slots.hold(until=t)
    if opens >= horizon:
        return
    rec.opportunity_at[lead] = opens
    rec.status_code[lead] = STATUS["opportunity"]
    if t >= horizon:
        return
    rec.closed_at[lead] = t
    rec.status_code[lead] = STATUS["won" if won else "lost"]
    if won:
        lifetime = customer_lifetime(draws.churn, funnel.churn_hazard_per_day)
        if funnel.scenario.customers.revenue_model == "recurring" and t + lifetime <= horizon:
            rec.churned_at[lead] = t + lifetime

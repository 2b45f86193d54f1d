"""One lead's pass through the funnel, from MQL to a deal or back to nurture.

A pass starts when a lead becomes an MQL (on its first inquiry or after re-engaging from
nurture). Marketing hands it to sales; sales accepts it if it meets sales' own bar; a rep
works it if sales follows up at all; a contacted lead may qualify and become a deal. Leads
that are rejected, never reached or not qualified go back to nurture, where they may
re-engage later as the same lead, up to a limit. A stage timestamp records the *first* time
the lead reached that stage, as a CRM does.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from funnelsim.model.context import STATUS, Funnel
from funnelsim.model.deals import open_deal
from funnelsim.model.randomness import LeadPass
from funnelsim.model.sales import handoff_wait, work_lead

__all__ = ["begin_pass", "send_to_nurture", "nurture_from_booking"]

# Each step of a pass is one booking on the clock at its moment (``Clock.call_at``): the
# handoff, each contact attempt, the return from nurture, the SQL reaching the account
# executives (whose deal is then known to its end). The order in which simultaneous steps are
# served is the same as when every pass was a SimPy process (tests/test_golden.py).


def begin_pass(funnel: Funnel, lead: int, draws: LeadPass, cycle: int, at: float | None = None) -> None:
    """An MQL's pass, begun at the moment it became an MQL (now, or at the later time ``at``:
    marketing books a continuous handoff ahead, so the MQL needs no event of its own): it
    reaches sales after the handoff.

    Only an MQL that sales will work needs the clock at the handoff: its calls take their turn
    in the SDRs' line from that moment. What sales does with any other (rejects it, or accepts
    it and never works it) is known now and written as of the horizon."""
    env, rec = funnel.env, funnel.records
    mql_time = env.now if at is None else at
    rec.status_code[lead] = STATUS["handoff"]
    if math.isnan(rec.mql_at[lead]):
        rec.mql_at[lead] = mql_time
    handed = mql_time + handoff_wait(funnel, draws, mql_time)
    worked = rec.score[lead] >= funnel.sales_threshold and draws.follow_up < funnel.follow_up_rate
    if worked and handed > env.now:
        env.call_at(handed, partial(_reach_sales, funnel, lead, draws, cycle, mql_time, handed))
    else:
        _reach_sales(funnel, lead, draws, cycle, mql_time, handed)


def _reach_sales(funnel: Funnel, lead: int, draws: LeadPass, cycle: int, mql_time: float, handed: float,
                 _: object = None) -> None:
    """The MQL reaches sales at ``handed`` (now, unless sales will not work it): accepted if it
    meets sales' bar, then worked or not. Nothing happens at or after the horizon."""
    rec = funnel.records
    if handed >= funnel.horizon:
        return
    if math.isnan(rec.handed_off_at[lead]):  # the first MQL's (its handoff hours are derived at the end)
        rec.handed_off_at[lead] = handed

    if rec.score[lead] < funnel.sales_threshold:
        rec.rejections[lead] += 1
        send_to_nurture(funnel, lead, draws, cycle, handed)
        return
    if math.isnan(rec.sal_at[lead]):
        rec.sal_at[lead] = handed
        rec.sla_deadline_at[lead] = mql_time + funnel.sla_days
    rec.status_code[lead] = STATUS["follow_up"]
    if draws.follow_up >= funnel.follow_up_rate:
        rec.status_code[lead] = STATUS["never_followed_up"]
        return
    # The lead's age counts from its latest inquiry, which is when this pass made it an MQL.
    work_lead(funnel, lead, draws, mql_time, partial(_after_calls, funnel, lead, draws, cycle))


def _after_calls(funnel: Funnel, lead: int, draws: LeadPass, cycle: int, end: float, qualified: bool) -> None:
    """Told when the pass's last call starts: at its ``end`` an SQL goes to the account executives,
    any other lead to nurture (nothing happens at or after the horizon)."""
    if end >= funnel.horizon:
        return
    if qualified:
        funnel.env.call_at(end, partial(_open_deal, funnel, lead, draws))
    else:
        send_to_nurture(funnel, lead, draws, cycle, end)


def _open_deal(funnel: Funnel, lead: int, draws: LeadPass, _: object) -> None:
    open_deal(funnel, lead, draws)


def send_to_nurture(funnel: Funnel, lead: int, draws: LeadPass, cycle: int, at: float | None = None) -> None:
    """Park a lead in nurture now (or at ``at``, from a step booked ahead); it may re-engage after a delay."""
    funnel.records.status_code[lead] = STATUS["nurture"]
    if cycle < funnel.max_cycles and draws.reengage < funnel.reengage_probability:
        start = funnel.env.now if at is None else at
        _plan_return(funnel, lead, cycle + 1, start + draws.reengage_delay)


def nurture_from_booking(funnel: Funnel, leads: np.ndarray, return_at: np.ndarray, comes_back: np.ndarray) -> None:
    """Leads booked below marketing's bar go to nurture from their inquiry; those that
    ``comes_back`` re-engage at ``return_at`` (``send_to_nurture`` for many leads at once)."""
    funnel.records.status_code[leads] = STATUS["nurture"]
    for lead, at in zip(leads[comes_back].tolist(), return_at[comes_back].tolist()):
        _plan_return(funnel, lead, 1, at)


def _plan_return(funnel: Funnel, lead: int, cycle: int, at: float) -> None:
    """The lead re-engages at ``at`` (its ``cycle``-th return from nurture).

    Until the closed loop's next meeting (for ever without the loop) marketing scores as it does
    now, so the lead's score at each return before then is known now: the returns that leave it
    below the bar (re-scored, back to nurture) are written as of the horizon at once, and only
    a return that makes it an MQL again, or comes after the next meeting, is booked on the clock."""
    rec = funnel.records
    while at < funnel.horizon:
        if at >= funnel.scores_known_until:
            funnel.env.call_at(at, partial(_reengage, funnel, lead, cycle))
            return
        draws, score = _rescored(funnel, lead, cycle)
        if score >= funnel.mql_threshold:
            funnel.env.call_at(at, partial(_reengage, funnel, lead, cycle))
            return
        rec.nurture_cycles[lead] = cycle
        rec.score[lead] = score
        if cycle >= funnel.max_cycles or draws.reengage >= funnel.reengage_probability:
            return
        at, cycle = at + draws.reengage_delay, cycle + 1


def _reengage(funnel: Funnel, lead: int, cycle: int, _: object = None) -> None:
    """The lead raises its hand again: re-scored, an MQL again if it meets marketing's bar."""
    rec = funnel.records
    draws, score = _rescored(funnel, lead, cycle)
    rec.nurture_cycles[lead] = cycle
    rec.score[lead] = score
    if rec.score[lead] >= funnel.mql_threshold:
        begin_pass(funnel, lead, draws, cycle)
    else:
        send_to_nurture(funnel, lead, draws, cycle)


def _rescored(funnel: Funnel, lead: int, cycle: int) -> tuple[LeadPass, float]:
    """The draws of the lead's ``cycle``-th later pass, and marketing's score of it then."""
    draws = funnel.later_pass(lead, cycle)
    return draws, funnel.score(funnel.records.quality[lead], draws.score_noise)

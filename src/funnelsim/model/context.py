"""The shared state of one simulated company: its clock, its teams and what it has learned.

Every lead's journey reads from and writes to one ``Funnel``: the SimPy environment (the
clock), the SDR team, its office hours and the account executives' deal slots (the shared, limited resources
that make leads wait), the lead records, the current quality of marketing's scoring and the
current budget split across channels (both change only through the closed loop). Parameters
are converted once, here, into the plain numbers the hot path uses.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right

import numpy as np

from funnelsim.config.schema import Scenario
from funnelsim.model.clock import Clock
from funnelsim.model.maths import (
    DAYS_PER_WEEK,
    HOURS,
    HOURS_PER_DAY,
    DecayCurve,
    Number,
    QualityShift,
    churn_hazard_per_day,
    highest_lead_score,
    lead_score,
    logit,
    quality_mix,
    stage_pass_logits,
)
from funnelsim.model.randomness import LeadPass, PassDraws
from funnelsim.model.records import STATUSES, LeadRecords
from funnelsim.model.teams import DealSlots, OfficeHours, sdr_team

__all__ = ["Funnel", "STATUS"]

STATUS = {name: code for code, name in enumerate(STATUSES)}


class Funnel:
    """One replication's world: clock, teams, records and learning state."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence):
        self.scenario = scenario
        self.env = Clock()
        self.horizon = scenario.simulation.horizon_days
        self.channels = list(scenario.channels)
        expected = sum(c.leads_per_week for c in scenario.channels.values()) / DAYS_PER_WEEK * self.horizon
        self.records = LeadRecords(self.channels, capacity=int(expected * 1.05) + 64)  # grows if the closed loop buys more

        # Account executives hold a deal slot per open deal (the SDR team comes with its office hours, below).
        ae = scenario.opportunity.ae_team
        self.deal_slots = DealSlots(self.env, ae.reps * ae.deals_per_rep)

        # The draws of the passes leads may make after re-engaging (``later_pass``), booked in
        # blocks of consecutive leads: a block's first lead, its draws, and for each of its
        # leads the row of its pass 1 (pass k is that row + k - 1; -1: it never re-engages).
        self._later_first_lead: list[int] = []
        self._later_blocks: list[tuple[PassDraws, np.ndarray]] = []

        # What the closed loop can change, at its meetings; until the next one, marketing's
        # scores are known (marketing moves this on at each meeting; without the loop, never).
        self.scores_known_until = math.inf
        self.score_noise_sd = scenario.scoring.noise_sd
        self.budget_weight = {name: 1.0 for name in self.channels}

        # The score's scale: the planned mix of lead quality across channels.
        channels = scenario.channels.values()
        self.quality_mean, self.quality_variance = quality_mix(
            [c.leads_per_week for c in channels], [c.quality.mean for c in channels], [c.quality.variance for c in channels]
        )

        # Hot-path constants, converted once.
        fu = scenario.follow_up
        self.mql_threshold = scenario.scoring.mql_threshold
        self.sales_threshold = scenario.sales_acceptance.threshold
        self.reengage_probability = scenario.nurture.reengage_probability
        self.max_cycles = scenario.nurture.max_cycles
        self.sla_days = scenario.handoff.sla_days
        handoff = scenario.handoff
        self.continuous_handoff = handoff.mode == "continuous"
        # a batch export every ``batch_every`` days, the first at ``batch_first`` (days)
        self.batch_every = handoff.batch_every_days or 0.0
        self.batch_first = (handoff.batch_at_hour or 0.0) / HOURS_PER_DAY
        self.follow_up_rate = fu.follow_up_rate
        self.max_attempts = fu.max_attempts
        self.priority_routing = fu.priority_routing
        self.contact_logit = logit(fu.contact_probability)
        self.contact_decay = DecayCurve(fu.contact_decay)
        # (without a presence window no attempt finds the inquirer still at the desk)
        self.present_contact_probability = fu.contact_probability_present or 0.0
        self.qualification_decay = DecayCurve(fu.qualification_decay)
        q = scenario.qualification
        self.qualify_logit = logit(q.probability_at_quality_50)
        self.qualify_quality_shift = QualityShift(q.quality_odds_ratio_per_10_points)
        opp = scenario.opportunity
        self.stage_logits = stage_pass_logits(opp)
        self.stage_quality_shift = QualityShift(opp.quality_odds_ratio_per_10_points)
        self.churn_hazard_per_day = churn_hazard_per_day(scenario.customers.monthly_churn)

        # Business hours in days, or always open.
        bh = scenario.sdr_team.business_hours
        self.office = (
            OfficeHours(set(bh.weekday_numbers), bh.open_hour * HOURS, bh.close_hour * HOURS)
            if bh
            else OfficeHours(None, 0.0, 1.0)
        )

        # SDRs take attempts first come, first served, or best score first.
        self.sdrs = sdr_team(self.env, scenario.sdr_team.reps, self.office, self.priority_routing, self.horizon)

        # What the model notes as it runs: each SDR call (booked on the days it happens at the
        # end: ``sdr_busy_per_day``), and the rep-days of office hours on each day.
        self._call_starts = array("d")
        self._call_ends = array("d")
        self.sdr_available_days = self._sdr_available_per_day(int(math.ceil(self.horizon)) + 1)
        # when each lead outcome sales reports back (a lead reached, or all attempts made) comes
        # in: counted by the closed loop's meetings, so noted only when there is a closed loop
        self.notes_outcomes = scenario.closed_loop.enabled
        self.outcomes_at: list[float] = []

    def score(self, quality: Number, noise: Number) -> Number:
        """Marketing's score of leads with this quality and standard-normal noise draw
        (``maths.lead_score``), on the quality scale of the planned lead mix, at the current
        noise level: the closed loop lowers the noise inside a run."""
        return lead_score(quality, noise, self.quality_mean, self.quality_variance, self.score_noise_sd)

    def highest_score_ahead(self, quality: np.ndarray, noise: np.ndarray) -> np.ndarray:
        """The highest score these leads can get from now on: without the closed loop, their
        score now; with it, over every noise level its meetings can still reach (the noise only
        moves toward the loop's floor)."""
        if self.scores_known_until == math.inf:
            return np.asarray(self.score(quality, noise))
        floor = self.scenario.closed_loop.noise_floor
        low, high = sorted((self.score_noise_sd, floor))
        return highest_lead_score(quality, noise, self.quality_mean, self.quality_variance, low, high)

    def sales_may_work(self, score: np.ndarray, follow_up: np.ndarray) -> np.ndarray:
        """Whether sales may work passes with these scores and follow-up draws: it accepts them
        and follows them up (a score within a hair of the bar counts, so that float rounding
        cannot leave out a pass that is worked; one too many only costs its draws)."""
        return (score >= self.sales_threshold - 1e-9) & (follow_up < self.follow_up_rate)

    def end_run(self) -> None:
        """The run is over: let go of what only the running needed (the draws of passes not
        made, the steps booked after the horizon), so the tables can be built in its place."""
        self._later_first_lead, self._later_blocks = [], []
        self.env.clear_calendar()

    def book_later_passes(self, first_lead: int, draws: PassDraws, first_rows: np.ndarray) -> None:
        """Keep the later passes' ``draws`` of the consecutive leads from ``first_lead`` on:
        ``first_rows[i]`` is the row of lead ``first_lead + i``'s pass 1 (-1: none)."""
        self._later_first_lead.append(first_lead)
        self._later_blocks.append((draws, first_rows))

    def later_pass(self, lead: int, cycle: int) -> LeadPass:
        """The draws of the lead's ``cycle``-th pass after re-engaging (1: its first return)."""
        block = bisect_right(self._later_first_lead, lead) - 1
        draws, first_rows = self._later_blocks[block]
        first = int(first_rows[lead - self._later_first_lead[block]])
        assert first >= 0, "a lead that never re-engages has no later pass"
        return draws.row(first + cycle - 1)

    def record_sdr_work(self, start: float, end: float) -> None:
        """Note an SDR's call from ``start`` to ``end`` (booked on its days by ``sdr_busy_per_day``)."""
        self._call_starts.append(start)
        self._call_ends.append(end)

    def sdr_busy_per_day(self) -> np.ndarray:
        """Rep-days of SDR calls on each day, in the order the calls began.

        Only the time inside office hours and before the horizon counts, the same hours the
        available hours count, so SDR utilisation is a true share: a call that runs past closing
        is overtime, not a share of the working day. Most calls begin in office hours and end
        before closing, and are booked at once; the rest (a call running into the next day's
        office hours, with an office that never closes) are walked day by day.
        """
        office, horizon = self.office, self.horizon
        busy = np.zeros(len(self.sdr_available_days))
        start = np.frombuffer(self._call_starts, dtype=np.float64)
        end = np.minimum(np.frombuffer(self._call_ends, dtype=np.float64), horizon)
        begun = start < end  # a call that cannot begin before the horizon counts nothing
        day = np.floor(np.where(begun, start, 0.0))
        weekday_open = (np.ones(len(start), bool) if office.open_days is None
                        else np.isin(day.astype(np.int64) % 7, list(office.open_days)))
        open_at_start = weekday_open & (start >= day + office.open_at) & (start < day + office.close_at)
        within_the_day = begun & open_at_start & (end <= day + office.close_at)
        calls, days, hours = [np.flatnonzero(within_the_day)], [day[within_the_day]], [(end - start)[within_the_day]]
        order = [np.zeros(len(calls[0]), np.int64)]
        for call in np.flatnonzero(~within_the_day & begun).tolist():
            for k, (d, amount) in enumerate(self._office_segments(float(start[call]), float(end[call]), len(busy))):
                calls.append(np.array([call]))
                days.append(np.array([d], float))
                hours.append(np.array([amount]))
                order.append(np.array([k]))
        call_index, segment = np.concatenate(calls), np.concatenate(order)
        by_call = np.lexsort((segment, call_index))  # as the calls began, each call's days in turn
        np.add.at(busy, np.concatenate(days)[by_call].astype(np.int64), np.concatenate(hours)[by_call])
        return busy

    def _office_segments(self, start: float, end: float, days: int) -> list[tuple[int, float]]:
        """The (day, rep-days) of one call from ``start`` to ``end`` that fall in office hours."""
        office, segments = self.office, []
        t = start
        while t < end:
            opening = office.next_opening(t)
            day = int(opening)
            if opening >= end or day >= days:
                break
            closing = office.closing_of(opening)
            segments.append((day, min(end, closing) - opening))
            t = closing
        return segments

    def _sdr_available_per_day(self, days: int) -> np.ndarray:
        """Rep-days of office hours on each day, up to the horizon."""
        office = self.office
        day = np.arange(days)
        open_days = range(7) if office.open_days is None else list(office.open_days)
        is_open = np.isin(day % 7, open_days)
        hours = np.clip(np.minimum(day + office.close_at, self.horizon) - (day + office.open_at), 0.0, None)
        return np.where(is_open, self.scenario.sdr_team.reps * hours, 0.0)

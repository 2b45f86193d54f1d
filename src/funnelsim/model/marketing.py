"""Marketing's side: leads arrive by channel, are scored, and MQLs go on to sales.

Each channel brings leads at random (a Poisson process) at a weekly rate, busier at some
hours, on some weekdays and in some months, and scaled by the share of budget the channel currently gets.
Every lead has a true quality, drawn per channel, that nobody sees; marketing sees a score,
the quality plus noise, expressed on the quality scale of the lead mix. A lead scoring at or
above the MQL threshold becomes an MQL and its journey to sales begins; the rest go to
nurture, where some re-engage later.

Marketing works in planning periods between alignment meetings: at the start of each period
it books the period's leads in one step (their arrival times, quality and scores), then the
leads enter the funnel at their arrival times. Only the budget split and the score noise can
change between periods, and only through the closed loop.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np

from funnelsim.config.schema import Channel
from funnelsim.config.value_rules import MAX_BUDGET_WEIGHT
from funnelsim.model.closed_loop import hold_meeting
from funnelsim.model.context import Funnel
from funnelsim.model.journey import begin_pass, nurture_from_booking
from funnelsim.model.maths import DAYS_PER_MONTH, DAYS_PER_WEEK, HOURS_PER_DAY
from funnelsim.model.randomness import LeadLuck, LeadPass, stream

__all__ = ["ChannelArrivals", "deal_amounts", "run_marketing"]

_BLOCK = 1024


class ChannelArrivals:
    """One channel's inquiries: possible inquiries at a fixed peak rate, kept at the current rate.

    Possible inquiries and their keep-or-not draws come in fixed blocks from the channel's own
    stream, at a peak rate that depends only on the channel's planned volume and seasonality
    (and the largest budget multiplier any scenario may reach), never on the levers. A lead's
    *arrival number* is its position in that stream: it is the lead's identity, the same in
    every scenario run with the same seed, and the key of all its other random draws.
    """

    def __init__(self, funnel: Funnel, name: str, channel: Channel, seed: np.random.SeedSequence):
        season = funnel.scenario.seasonality
        self.hour = np.asarray(season.hour, float) / np.mean(season.hour)
        self.weekday = np.asarray(season.weekday, float) / np.mean(season.weekday)
        self.month = np.asarray(season.month, float) / np.mean(season.month)
        self.start_month = funnel.scenario.simulation.start_month - 1
        self.per_day = channel.leads_per_week / DAYS_PER_WEEK
        self.peak_rate = self.per_day * self.hour.max() * self.weekday.max() * self.month.max() * MAX_BUDGET_WEIGHT
        self._rng = stream(seed, f"arrivals/{name}")
        self._times = np.empty(0)
        self._keep = np.empty(0)
        self._new_times: list[np.ndarray] = []  # blocks drawn since the last call, not yet joined
        self._new_keep: list[np.ndarray] = []
        self._first = 0  # arrival number of self._times[0]
        self._last = 0.0

    def _more(self) -> None:
        with np.errstate(over="ignore"):  # a vanishing rate pushes arrivals to infinity
            gaps = self._rng.standard_exponential(_BLOCK) / self.peak_rate
            times = self._last + np.cumsum(gaps)
        self._last = float(times[-1])
        self._new_times.append(times)
        self._new_keep.append(self._rng.random(_BLOCK))

    def rate(self, t: np.ndarray, weight: float) -> np.ndarray:
        """Leads per day at times ``t`` for a budget weight."""
        month = (self.start_month + np.floor(t / DAYS_PER_MONTH).astype(int)) % 12
        day = np.floor(t)
        hour = np.minimum(((t - day) * HOURS_PER_DAY).astype(int), 23)
        weekday = day.astype(int) % 7
        return self.per_day * self.hour[hour] * self.weekday[weekday] * self.month[month] * weight

    def between(self, start: float, end: float, weight: float) -> tuple[np.ndarray, np.ndarray]:
        """Arrival times in ``[start, end)`` at the given budget weight, and their arrival numbers."""
        if self.peak_rate <= 0:
            return np.empty(0), np.empty(0, dtype=np.int64)
        while self._last < end:
            self._more()
        if self._new_times:  # joined once per call, not once per block
            self._times = np.concatenate([self._times, *self._new_times])
            self._keep = np.concatenate([self._keep, *self._new_keep])
            self._new_times, self._new_keep = [], []
        n = int(np.searchsorted(self._times, end))
        times, keep = self._times[:n], self._keep[:n]
        numbers = self._first + np.arange(n, dtype=np.int64)
        self._times, self._keep = self._times[n:], self._keep[n:]
        self._first += n
        inside = times >= start
        times, keep, numbers = times[inside], keep[inside], numbers[inside]
        kept = keep * self.peak_rate < self.rate(times, weight)
        return times[kept], numbers[kept]


def _book_period(funnel: Funnel, sources: list, start: float, end: float) -> list[tuple[float, int, LeadPass]]:
    """Create the leads arriving in ``[start, end)``; return the MQLs to start, in time order.

    Leads below the MQL bar go to nurture at once (they may re-engage later)."""
    rec = funnel.records
    scheduled: list[tuple[float, int, LeadPass]] = []
    cycles = funnel.max_cycles
    for code, (name, channel, arrivals, luck) in enumerate(sources):
        times, numbers = arrivals.between(start, end, funnel.budget_weight[name])
        n = len(times)
        if n == 0:
            continue
        ids = rec.add(n)
        quality = channel.quality.quantile(luck.uniform("quality", numbers))
        first_pass = np.zeros(n, dtype=np.int64)
        score_noise, reengage, reengage_delay = luck.nurture(numbers, first_pass)
        score = funnel.score(quality, score_noise)
        rec.created_at[ids] = times
        rec.arrival_number[ids] = numbers
        rec.quality[ids] = quality
        rec.score[ids] = score
        rec.channel_code[ids] = code
        is_mql = score >= funnel.mql_threshold
        if cycles:
            _book_later_passes(funnel, luck, ids, numbers, quality, reengage)
        below = np.flatnonzero(~is_mql)
        comes_back = (reengage[below] < funnel.reengage_probability) & (cycles > 0)
        nurture_from_booking(funnel, ids[below], times[below] + reengage_delay[below], comes_back)
        mqls = np.flatnonzero(is_mql)
        # only an MQL's pass needs the rest of its draws (the way to sales, the deal), and the
        # calls and deal stages only if sales accepts it
        mql_score = score[mqls]
        first = luck.passes(numbers[mqls], first_pass[mqls],
                            worked=lambda _, follow_up: funnel.sales_may_work(mql_score, follow_up))
        scheduled.extend(zip(times[mqls].tolist(), ids[mqls].tolist(), first.rows(np.arange(len(mqls)))))
    scheduled.sort(key=lambda item: (item[0], item[1]))
    return scheduled


def _book_later_passes(funnel: Funnel, luck: LeadLuck, ids: np.ndarray, numbers: np.ndarray, quality: np.ndarray,
                       reengage: np.ndarray) -> None:
    """The draws of the later passes the new leads may make, ready for when they re-engage.

    A lead makes pass k only if it re-engaged after each pass before it (a uniform below the
    re-engagement probability; ``reengage`` holds those of pass 0), so only those passes get
    draws: a lead's passes 1, 2, ... are consecutive rows (``Funnel.book_later_passes``)."""
    cycles, chance = funnel.max_cycles, funnel.reengage_probability
    returning = np.flatnonzero(reengage < chance)
    if not len(returning):
        return
    lead = numbers[returning]
    # re-engages after pass k (k = 0, ..., cycles - 1): pass 0's from the booking, the rest drawn here
    after_pass = np.column_stack([reengage[returning] < chance] + [
        luck.uniform("reengage", lead, k) < chance for k in range(1, cycles)
    ])
    passes_made = np.cumprod(after_pass, axis=1).sum(axis=1)  # later passes each lead can make
    starts = np.cumsum(passes_made) - passes_made
    pass_number = np.arange(passes_made.sum()) - np.repeat(starts, passes_made) + 1
    returning_quality = np.repeat(quality[returning], passes_made)

    def worked(noise: np.ndarray, follow_up: np.ndarray) -> np.ndarray:
        # the closed loop's meetings may still change the scores: the highest a return can get
        return funnel.sales_may_work(funnel.highest_score_ahead(returning_quality, noise), follow_up)

    later = luck.passes(np.repeat(lead, passes_made), pass_number, worked=worked)
    first_rows = np.full(len(ids), -1, dtype=np.int32 if len(pass_number) < 2**31 else np.int64)
    first_rows[returning] = starts
    funnel.book_later_passes(int(ids[0]), later, first_rows)


def deal_amounts(funnel: Funnel, seed: np.random.SeedSequence) -> np.ndarray:
    """Each lead's deal amount at the end of the run: its deal size if a deal was opened, else
    NaN. A lead's deal size is its own draw, so it is drawn here for the leads with a deal only."""
    rec = funnel.records
    amount = np.full(rec.size, np.nan)
    opened = np.flatnonzero(~np.isnan(rec.opportunity_at[: rec.size]))
    code = rec.channel_code[opened]
    for c, name in enumerate(funnel.channels):
        mine = opened[code == c]
        if len(mine):
            amount[mine] = LeadLuck(funnel.scenario, seed, name).deal_sizes(rec.arrival_number[mine])
    return amount


def run_marketing(funnel: Funnel, seed: np.random.SeedSequence) -> Generator:
    """The marketing process: period by period, book leads and release the MQLs at their times."""
    env = funnel.env
    scenario = funnel.scenario
    sources = [
        (name, channel, ChannelArrivals(funnel, name, channel, seed), LeadLuck(scenario, seed, name))
        for name, channel in scenario.channels.items()
    ]
    period = scenario.closed_loop.meeting_every_days
    periods = int(math.ceil(funnel.horizon / period))
    for k in range(periods):
        start, end = k * period, min((k + 1) * period, funnel.horizon)
        if scenario.closed_loop.enabled:
            if k > 0:
                hold_meeting(funnel)
            funnel.scores_known_until = end  # the next meeting may change how marketing scores
        last = env.now
        for t, lead, draws in _book_period(funnel, sources, start, end):
            if funnel.continuous_handoff:  # each MQL's own latency: booked ahead, no event at the MQL moment
                begin_pass(funnel, lead, draws, cycle=0, at=t)
                last = t
                continue
            if t > env.now:  # an export: the MQLs reach it in the order they became MQLs
                yield env.timeout(t - env.now)
            begin_pass(funnel, lead, draws, cycle=0)
        if last > env.now:  # the period's end is awaited from its last MQL, as when each MQL had its event:
            yield env.timeout(last - env.now)  # a meeting and a day's snapshot at the same instant keep their order
        if end > env.now:
            yield env.timeout(end - env.now)

"""Marketing's side: leads arrive by channel, are scored, and MQLs go on to sales.

Each channel brings leads at random (a Poisson process) at a weekly rate, busier at some
hours, on some weekdays and in some months, and scaled by the share of budget the channel currently gets.
Every lead has a true quality, drawn per channel, that nobody sees; marketing sees a score,
the quality plus noise. A lead scoring at or above the MQL threshold becomes an MQL and its
journey to sales begins; the rest go to nurture, where some re-engage later.

Marketing works in planning periods between alignment meetings: at the start of each period
it books the period's leads in one step (their arrival times, quality and scores), then the
leads enter the funnel at their arrival times. Only the budget split and the score noise can
change between periods, and only through the closed loop.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np

from funnelsim.model.closed_loop import hold_meeting
from funnelsim.model.context import DAYS_PER_MONTH, Funnel
from funnelsim.model.journey import begin_pass, send_to_nurture
from funnelsim.model.randomness import PassDrawSupply, stream
from funnelsim.params import Channel

__all__ = ["ChannelArrivals", "run_marketing"]

_BLOCK = 1024


class ChannelArrivals:
    """One channel's arrival times: candidates at the peak rate, thinned to the current rate.

    Candidate times and their thinning draws come in fixed blocks from the channel's own
    stream, so the same seed gives the same candidates however the periods are cut.
    """

    def __init__(self, funnel: Funnel, name: str, channel: Channel, seed: np.random.SeedSequence):
        season = funnel.scenario.seasonality
        self.hour = np.asarray(season.hour, float) / np.mean(season.hour)
        self.weekday = np.asarray(season.weekday, float) / np.mean(season.weekday)
        self.month = np.asarray(season.month, float) / np.mean(season.month)
        self.start_month = funnel.scenario.simulation.start_month - 1
        self.per_day = channel.leads_per_week / 7.0
        peak_weight = funnel.scenario.closed_loop.max_budget_weight
        self.peak_rate = (
            self.per_day * self.hour.max() * self.weekday.max() * self.month.max() * peak_weight
        )
        self._rng = stream(seed, f"arrivals/{name}")
        self._times = np.empty(0)
        self._keep = np.empty(0)
        self._last = 0.0

    def _more(self) -> None:
        with np.errstate(over="ignore"):  # a vanishing rate pushes arrivals to infinity
            gaps = self._rng.standard_exponential(_BLOCK) / self.peak_rate
            times = self._last + np.cumsum(gaps)
        self._last = float(times[-1])
        self._times = np.concatenate([self._times, times])
        self._keep = np.concatenate([self._keep, self._rng.random(_BLOCK)])

    def rate(self, t: np.ndarray, weight: float) -> np.ndarray:
        """Leads per day at times ``t`` for a budget weight."""
        month = (self.start_month + np.floor(t / DAYS_PER_MONTH).astype(int)) % 12
        day = np.floor(t)
        hour = np.minimum(((t - day) * 24).astype(int), 23)
        weekday = day.astype(int) % 7
        return self.per_day * self.hour[hour] * self.weekday[weekday] * self.month[month] * weight

    def between(self, start: float, end: float, weight: float) -> np.ndarray:
        """Arrival times in ``[start, end)`` at the given budget weight."""
        if self.peak_rate <= 0:
            return np.empty(0)
        while self._last < end:
            self._more()
        n = int(np.searchsorted(self._times, end))
        times, keep = self._times[:n], self._keep[:n]
        self._times, self._keep = self._times[n:], self._keep[n:]
        times, keep = times[times >= start], keep[times >= start]
        return times[keep * self.peak_rate < self.rate(times, weight)]


def _book_period(funnel: Funnel, sources: list, start: float, end: float) -> list[tuple[float, int, object]]:
    """Create the leads arriving in ``[start, end)``; return the MQLs and re-engagers to schedule."""
    rec = funnel.records
    scheduled: list[tuple[float, int, object]] = []
    cycles = funnel.max_cycles
    for code, (name, channel, arrivals, quality_rng, deal_rng, draws, reentry) in enumerate(sources):
        times = arrivals.between(start, end, funnel.budget_weight[name])
        n = len(times)
        if n == 0:
            continue
        ids = rec.add(n)
        quality = channel.quality.sample(quality_rng, n)
        pass_draws = draws.take(n)
        score = funnel.score(quality, pass_draws.score_noise)
        rec.created_at[ids] = times
        rec.quality[ids] = quality
        rec.score[ids] = score
        rec.channel_code[ids] = code
        rec.acquisition_cost[ids] = channel.cost_per_lead
        rec.deal_size[ids] = channel.deal_size.sample(deal_rng, n)
        is_mql = score >= funnel.mql_threshold
        reengages = ~is_mql & (pass_draws.reengage < funnel.reengage_probability) & (cycles > 0)
        may_return = np.flatnonzero(is_mql | reengages)
        if cycles:
            # Rows for later passes: lead j's pass k+1 is row j * cycles + k; keep only leads
            # that can ever come back (MQLs may be recycled; the rest re-engage or never do).
            later = reentry.take(n * cycles)
            rows = (may_return[:, None] * cycles + np.arange(cycles)).ravel()
            block = later.select(rows)
            for j, i in enumerate(may_return):
                funnel.reentry_draws[int(ids[i])] = (block, j * cycles)
        scheduled.extend(
            zip(times[may_return].tolist(), ids[may_return].tolist(), pass_draws.rows(may_return))
        )
    scheduled.sort(key=lambda item: (item[0], item[1]))
    return scheduled


def run_marketing(funnel: Funnel, seed: np.random.SeedSequence) -> Generator:
    """The marketing process: period by period, book leads and release them at their times."""
    env = funnel.env
    scenario = funnel.scenario
    sources = [
        (
            name,
            channel,
            ChannelArrivals(funnel, name, channel, seed),
            stream(seed, f"quality/{name}"),
            stream(seed, f"deal_size/{name}"),
            PassDrawSupply(scenario, seed, f"first_pass/{name}"),
            PassDrawSupply(scenario, seed, f"later_passes/{name}"),
        )
        for name, channel in scenario.channels.items()
    ]
    period = scenario.closed_loop.meeting_every_days
    periods = int(math.ceil(funnel.horizon / period))
    for k in range(periods):
        start, end = k * period, min((k + 1) * period, funnel.horizon)
        if k > 0 and scenario.closed_loop.enabled:
            hold_meeting(funnel)
        for t, lead, draws in _book_period(funnel, sources, start, end):
            if t > env.now:
                yield env.timeout(t - env.now)
            if funnel.records.score[lead] >= funnel.mql_threshold:
                env.process(begin_pass(funnel, lead, draws, cycle=0))
            else:
                send_to_nurture(funnel, lead, draws, cycle=0)
        if end > env.now:
            yield env.timeout(end - env.now)

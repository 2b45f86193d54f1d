"""Run one simulated company from day 0 to the horizon and return its leads and daily tables.

This wires the parts together: marketing books leads period by period, each MQL's journey runs
step by step on the shared clock over the shared SDR and AE teams, and a monitor notes the
state of the teams at the end of every day. When the clock reaches the horizon, revenue is recognised for
every customer up to that moment (the installed base included, see ``installed_base``) and the
records become tables. Every lead is then in exactly
one state (``records.STATUSES``): nothing is lost.
"""

from __future__ import annotations

import ctypes
import gc
import math
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import simpy

from funnelsim.config.schema import Scenario
from funnelsim.model.context import Funnel
from funnelsim.model.installed_base import (
    InstalledBase,
    installed_base,
    recurring_revenue_per_day,
)
from funnelsim.model.marketing import deal_amounts, run_marketing
from funnelsim.model.maths import DAYS_PER_YEAR, HOURS_PER_DAY
from funnelsim.model.records import DAILY_COLUMNS
from funnelsim.model.stages import FUNNEL_STAGES, FunnelStage

__all__ = ["SimulationOutput", "simulate"]


@dataclass
class SimulationOutput:
    leads: pd.DataFrame
    daily: pd.DataFrame


class _DailyMonitor:
    """End-of-day snapshots of the teams and of what marketing has learned."""

    def __init__(self, funnel: Funnel):
        self.funnel = funnel
        days = int(math.ceil(funnel.horizon))
        self.open_opportunities = np.zeros(days, dtype=np.int64)
        self.awaiting_ae = np.zeros(days, dtype=np.int64)
        self.sdr_queue = np.zeros(days, dtype=np.int64)
        self.score_noise_sd = np.zeros(days)
        self.budget_weight = {name: np.ones(days) for name in funnel.channels}

    def snapshot(self, day: int) -> None:
        f = self.funnel
        self.open_opportunities[day] = f.deal_slots.open_deals()
        self.awaiting_ae[day] = f.deal_slots.waiting()
        self.sdr_queue[day] = f.sdrs.calls_waiting()
        self.score_noise_sd[day] = f.score_noise_sd
        for name, weight in f.budget_weight.items():
            self.budget_weight[name][day] = weight

    def run(self) -> Generator[simpy.Event, Any, None]:
        days = len(self.open_opportunities)
        for day in range(days - 1):
            yield self.funnel.env.timeout(day + 1 - self.funnel.env.now)
            self.snapshot(day)


def _recognise_revenue(leads: pd.DataFrame, horizon: float, recurring: bool) -> np.ndarray:
    won = (leads["status"] == "won").to_numpy()
    revenue = np.zeros(len(leads))
    amount = leads["amount"].to_numpy()
    if not recurring:
        revenue[won] = amount[won]
        return revenue
    end = np.where(np.isnan(leads["churned_at"]), horizon, leads["churned_at"])
    revenue[won] = amount[won] / DAYS_PER_YEAR * (end[won] - leads["closed_at"].to_numpy()[won])
    return revenue


def _per_day(times: np.ndarray, days: int, weights: np.ndarray | None = None, among: np.ndarray | None = None) -> np.ndarray:
    """How many of ``times`` fall on each day (or the sum of their ``weights``), of the leads
    ``among`` selects (all without it); NaN: never."""
    ok = ~np.isnan(times)
    if among is not None:
        ok &= among
    if not ok.all():  # copies of the times that happened only (none for a time every lead has)
        times, weights = times[ok], None if weights is None else weights[ok]
    index = times.astype(np.int64)  # the day: times are never negative, so truncation is the floor
    return np.bincount(index, weights=weights, minlength=days)[:days]


def _daily_revenue(leads: pd.DataFrame, days: int, horizon: float, recurring: bool) -> np.ndarray:
    won = leads[leads["status"] == "won"]
    if not recurring:
        return _per_day(won["closed_at"].to_numpy(), days, won["amount"].to_numpy())
    end = np.where(np.isnan(won["churned_at"]), horizon, won["churned_at"])
    return recurring_revenue_per_day(won["closed_at"].to_numpy(), end, won["amount"].to_numpy(), days, horizon)


def _daily_table(
    funnel: Funnel, monitor: _DailyMonitor, leads: pd.DataFrame, base: InstalledBase
) -> pd.DataFrame:
    days = len(monitor.open_opportunities)
    horizon = funnel.horizon
    recurring = funnel.scenario.customers.revenue_model == "recurring"
    col = {name: leads[name].to_numpy() for name in leads.columns if leads[name].dtype.kind == "f"}
    status = leads["status"]
    lost = (status == "lost").to_numpy()

    def reached(stage: FunnelStage) -> np.ndarray:  # leads first reaching the stage, per day
        among = None if stage.status is None else (status == stage.status).to_numpy()
        return _per_day(col[stage.reached_at], days, among=among)

    churned = _per_day(col["churned_at"], days)
    daily: dict[str, np.ndarray] = {"day": np.arange(days, dtype=np.int64)}
    daily |= {stage.count: reached(stage) for stage in FUNNEL_STAGES}
    wins = daily["wins"]
    daily |= {
        "losses": _per_day(col["closed_at"], days, among=lost),
        "lapsed": _per_day(col["lapsed_at"], days),
        "churned": churned + base.churned,
        "bookings": _per_day(col["closed_at"], days, col["amount"], among=(status == "won").to_numpy()),
        "revenue": _daily_revenue(leads, days, horizon, recurring) + base.revenue,
        "installed_base_revenue": base.revenue,
        "installed_base_customers": base.customers,
        "marketing_spend": _per_day(col["created_at"], days, col["acquisition_cost"]),
        "open_opportunities": monitor.open_opportunities,
        "awaiting_ae": monitor.awaiting_ae,
        "sdr_queue": monitor.sdr_queue,
        "sdr_busy_hours": funnel.sdr_busy_per_day()[:days] * HOURS_PER_DAY,
        "sdr_available_hours": funnel.sdr_available_days[:days] * HOURS_PER_DAY,
        "score_noise_sd": monitor.score_noise_sd,
        "customers": np.cumsum(wins) - np.cumsum(churned) + base.customers,
    }
    for name, weights in monitor.budget_weight.items():
        daily[f"budget_weight_{name}"] = weights
    frame = pd.DataFrame(daily)
    # one dtype per column, even in a run without a single deal
    return frame.astype({name: dtype for name, (dtype, _, _) in DAILY_COLUMNS.items() if name in frame})


# Python's cycle collector runs after every 700 new container objects by default, and each of
# its full passes walks every live object; a run makes millions (SimPy events and processes).
# Collecting every 5,000 instead cut the CPU of `make test` from about 20 to about 16 minutes
# (two runs each way, 2026-12-07), where processes hold large heaps; a lone replication in a
# fresh process showed no clear gain. Peak memory grew 20-45 MB a replication. Results cannot
# change: no model decision sees the collector (the golden test holds).
_OBJECTS_BETWEEN_COLLECTIONS = 5_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], _OBJECTS_BETWEEN_COLLECTIONS), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _return_freed_memory() -> None:
    """Hand the memory the run has freed back to the operating system, where the C library can
    (glibc's ``malloc_trim``). Without it, what only the running needed (the draws of passes
    never made, the steps booked after the horizon) would still count against the process's
    memory while the tables are built (``benchmarks/bench_engine.py`` prints the peak)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except AttributeError:  # not glibc: the memory is reused, just not returned
        return
    trim(0)


def simulate(scenario: Scenario, seed: np.random.SeedSequence) -> SimulationOutput:
    """Simulate ``scenario`` once with the random streams derived from ``seed``."""
    funnel = Funnel(scenario, seed)
    monitor = _DailyMonitor(funnel)
    funnel.env.process(run_marketing(funnel, seed))
    funnel.env.process(monitor.run())
    with _fewer_collections():
        funnel.env.run(until=funnel.horizon)
    monitor.snapshot(len(monitor.open_opportunities) - 1)
    funnel.end_run()
    _return_freed_memory()

    amount = deal_amounts(funnel, seed)
    leads = funnel.records.into_frame(funnel.horizon, [c.cost_per_lead for c in scenario.channels.values()], amount)
    leads["revenue"] = _recognise_revenue(
        leads, funnel.horizon, scenario.customers.revenue_model == "recurring"
    )
    base = installed_base(scenario, seed, len(monitor.open_opportunities), leads)
    return SimulationOutput(leads=leads, daily=_daily_table(funnel, monitor, leads, base))

"""Preflight: how big a run will be, worked out from the scenario's parameters before it starts.

A scenario can be valid and still ask for more than a computer has: a large lead volume over a
long horizon, many attempts per lead, hundreds of replications. ``estimate`` works out from the
parameters alone about how many leads one replication simulates, how many simulation events
that takes, how much memory it needs and how long it runs on one core. The commands refuse,
with exit status 2, a run, sweep or plan beyond the limits below unless ``--yes`` is given,
naming the keys that make it big and the estimate; the Python API refuses only what cannot fit
in this computer's memory.

The constants are measured on the baseline with ``benchmarks/bench_engine.py`` (its seconds per
lead, and the peak memory growth per lead of a replication of a million leads) and scale with
the keys that drive them:

* leads: ``channels.*.leads_per_week`` / 7 x ``simulation.horizon_days``; with the closed loop on,
  the most its budget moves can buy within ``closed_loop.min_budget_weight`` and
  ``max_budget_weight`` (budget moved to the cheapest leads first, total spend unchanged);
* work per lead: its passes (1 + ``nurture.max_cycles`` x ``reengage_probability``) times the
  events of a pass (handoff, ``follow_up.max_attempts`` calls, the deal stages);
* memory per lead: the lead's record, plus the random numbers drawn up front for every attempt
  and deal stage of each pass it may make (its first, as if every lead were an MQL, and each
  later one with the chance of re-engaging every time before it);
* fixed work: SDRs going home and coming back each working day (``sdr_team.reps``), and the
  installed base's revenue day by day (``customers.installed_base``: the number given, or for the
  steady state at most a day's leads over the daily churn hazard, as if every lead were won).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from funnelsim.config.errors import ParameterError
from funnelsim.config.schema import Scenario
from funnelsim.model.maths import DAYS_PER_WEEK, churn_hazard_per_day
from funnelsim.model.stages import DEAL_STAGES

__all__ = ["Size", "TooLarge", "estimate", "check_run", "check_runs", "check_sweep", "ensure_fits",
           "CONFIRM_ABOVE_RUNS", "CONFIRM_ABOVE_SECONDS", "CONFIRM_ABOVE_BYTES"]

# Beyond these a command asks for --yes.
CONFIRM_ABOVE_RUNS = 200  # runs of a sweep or plan
CONFIRM_ABOVE_SECONDS = 600  # about ten minutes of computing, all workers together
CONFIRM_ABOVE_BYTES = 4 * 2**30  # memory in use at once

# Measured on the baseline (see the module docstring).
_SECONDS_PER_LEAD = 11e-6
_SECONDS_PER_EVENT = 0.2e-6
_SECONDS_PER_REP_DAY = 11e-6
_SECONDS_PER_CUSTOMER_DAY = 3e-9
_CUSTOMER_BYTES = 64  # a customer of the installed base: amount, lifetime, dates
_RECORD_BYTES = 250  # a lead's record and bookkeeping while it runs
_TABLE_BYTES = 210  # a lead's row in the leads table a replication returns
_STAGES = len(DEAL_STAGES)


class TooLarge(ParameterError):
    """A run beyond the limits: the message names the keys, the estimate and the limit."""


@dataclass(frozen=True)
class Size:
    """One replication of a scenario, estimated from its parameters."""

    leads: float
    events: float
    memory: float  # bytes in use at the peak
    table_memory: float  # bytes of the leads and daily tables it returns
    daily_memory: float  # bytes of the daily table alone
    seconds: float  # on one core
    drivers: str  # the keys that make it this big, with their values


def _most_leads_per_week(scenario: Scenario) -> float:
    """Leads a week at most: as planned, or with the closed loop on, the most its budget moves
    can buy (every channel at the lowest weight, then the budget freed moved to the cheapest
    leads first, each channel up to the highest weight; the total spend stays the same)."""
    channels = scenario.channels.values()
    planned = sum(c.leads_per_week for c in channels)
    loop = scenario.closed_loop
    if not loop.enabled or loop.budget_shift_strength == 0:
        return planned
    low, high = loop.min_budget_weight, loop.max_budget_weight
    leads = sum(c.leads_per_week for c in channels if c.cost_per_lead == 0) * high
    paid = sorted((c for c in channels if c.cost_per_lead > 0), key=lambda c: c.cost_per_lead)
    budget = (1 - low) * sum(c.leads_per_week * c.cost_per_lead for c in paid)
    for channel in paid:
        extra = min(budget, (high - low) * channel.leads_per_week * channel.cost_per_lead)
        budget -= extra
        leads += low * channel.leads_per_week + extra / channel.cost_per_lead
    return max(leads, planned)


def _installed_base_at_most(scenario: Scenario, leads_per_day: float) -> float:
    """Customers the company starts with: the number given, or at most the steady state reached if
    every lead became a customer (wins a day over the daily churn hazard)."""
    customers = scenario.customers
    if customers.revenue_model != "recurring":
        return 0.0
    if customers.installed_base != "steady_state":
        return float(customers.installed_base)
    hazard = churn_hazard_per_day(customers.monthly_churn)
    return leads_per_day / hazard if hazard > 0 else 0.0


def estimate(scenario: Scenario) -> Size:
    """Leads, events, memory and time of one replication of ``scenario``."""
    horizon = scenario.simulation.horizon_days
    weekly = _most_leads_per_week(scenario)
    leads = weekly / DAYS_PER_WEEK * horizon
    nurture, attempts = scenario.nurture, scenario.follow_up.max_attempts
    passes = 1 + nurture.max_cycles * nurture.reengage_probability
    events_per_lead = 1 + passes * (4 + 2 * attempts + 2 * _STAGES)
    hours = scenario.sdr_team.business_hours
    rep_days = scenario.sdr_team.reps * horizon * (len(hours.working_days) / DAYS_PER_WEEK if hours else 0)
    base = _installed_base_at_most(scenario, leads / horizon)
    customer_days = base * horizon
    days, channels = math.ceil(horizon) + 1, len(scenario.channels)
    meetings = horizon / scenario.closed_loop.meeting_every_days
    events = leads * events_per_lead + 2 * rep_days + days + meetings * channels
    draws_per_pass = 8 * (10 + 3 * attempts + 2 * _STAGES)  # bytes of random numbers
    drawn_passes = sum(nurture.reengage_probability ** k for k in range(nurture.max_cycles + 1))
    daily = days * (25 + channels) * 8
    memory = leads * (_RECORD_BYTES + drawn_passes * draws_per_pass) + daily + base * _CUSTOMER_BYTES
    seconds = (leads * (_SECONDS_PER_LEAD + _SECONDS_PER_EVENT * events_per_lead)
               + rep_days * _SECONDS_PER_REP_DAY + customer_days * _SECONDS_PER_CUSTOMER_DAY)
    planned = sum(c.leads_per_week for c in scenario.channels.values())
    drivers = (f"channels.*.leads_per_week {planned:,.0f} a week"
               + (f" (up to {weekly:,.0f} as the closed loop moves budget within closed_loop.max_budget_weight "
                  f"{scenario.closed_loop.max_budget_weight:g})" if weekly > planned else "")
               + f" over simulation.horizon_days {horizon:,.0f}, with follow_up.max_attempts {attempts} and "
               f"nurture.max_cycles {nurture.max_cycles}")
    if rep_days * _SECONDS_PER_REP_DAY > 0.1 * seconds:
        drivers += f", sdr_team.reps {scenario.sdr_team.reps:,} in office hours"
    if customer_days * _SECONDS_PER_CUSTOMER_DAY > 0.1 * seconds:
        drivers += (f", customers.installed_base {scenario.customers.installed_base} (up to {base:,.0f} customers)"
                    + (f" with customers.monthly_churn {scenario.customers.monthly_churn:g}"
                       if scenario.customers.installed_base == "steady_state" else ""))
    return Size(leads, events, memory, leads * _TABLE_BYTES + daily, daily, seconds, drivers)


def _bytes(amount: float) -> str:
    for unit, scale in (("TB", 2**40), ("GB", 2**30)):
        if amount >= scale:
            return f"{amount / scale:,.1f} {unit}"
    return f"{amount / 2**20:,.0f} MB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:,.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:,.0f} hours"
    return f"{seconds / 86400:,.0f} days"


def _limits(runs: bool = True) -> str:
    return (f"allowed without --yes: {_bytes(CONFIRM_ABOVE_BYTES)} of memory, {CONFIRM_ABOVE_SECONDS // 60} min"
            + (f" and {CONFIRM_ABOVE_RUNS} runs" if runs else "") + ". Add --yes to start anyway")


def _one(size: Size) -> str:
    return (f"about {size.leads:,.0f} leads and {size.events:,.0f} events per replication ({size.drivers}), "
            f"{_bytes(size.memory)} of memory and {_duration(size.seconds)} each")


def check_run(scenario: Scenario, replications: int, label: str, workers: int = 1) -> Size:
    """Refuse (``TooLarge``) a run of ``replications`` on ``workers`` processes beyond the
    limits; return its size.

    ``funnelsim run`` writes each replication's leads as it finishes (``outputs.RunWriter``): it
    holds a replication running on each worker, the leads tables sent back and waiting their
    turn to be written (up to two per worker), and every daily table."""
    size = estimate(scenario)
    running = min(workers, replications)
    waiting = min(2 * workers, replications) if workers > 1 else 1
    memory = running * size.memory + waiting * size.table_memory + replications * size.daily_memory
    seconds = size.seconds * replications
    if memory > CONFIRM_ABOVE_BYTES or seconds > CONFIRM_ABOVE_SECONDS:
        raise TooLarge([f"{label}: {_one(size)}; {replications:,} replications: about {_bytes(memory)} of memory and "
                        f"{_duration(seconds)} in all; {_limits(runs=False)}."])
    return size


def check_runs(label: str, points: int, replications: int) -> None:
    """Refuse a sweep or plan of more than ``CONFIRM_ABOVE_RUNS`` runs before it is built."""
    if points * replications > CONFIRM_ABOVE_RUNS:
        raise TooLarge([f"{label}: {points * replications:,} runs ({points:,} points x {replications:,} replications); "
                        f"{_limits()}."])


def check_sweep(label: str, scenarios: list[Scenario], replications: int, pending: int, workers: int) -> float:
    """Refuse a sweep or plan whose pending runs are beyond the limits; return its estimated
    wall-clock seconds. Each worker holds one replication at a time."""
    sizes = [estimate(s) for s in scenarios]
    runs = len(scenarios) * replications
    seconds = sum(s.seconds for s in sizes) * replications * pending / max(runs, 1) / workers
    largest = max(range(len(sizes)), key=lambda i: sizes[i].memory)
    memory = sizes[largest].memory * min(workers, pending or 1)
    if pending > CONFIRM_ABOVE_RUNS or seconds > CONFIRM_ABOVE_SECONDS or memory > CONFIRM_ABOVE_BYTES:
        raise TooLarge([f"{label}: {pending:,} runs to do ({len(scenarios):,} points x {replications:,} replications), "
                        f"roughly {_duration(seconds)} on {workers} workers and {_bytes(memory)} of memory; the largest "
                        f"point, {scenarios[largest].name}: {_one(sizes[largest])}; {_limits()}."])
    return seconds


def _physical_memory() -> float | None:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # not every system says
        return None


def ensure_fits(scenario: Scenario, replications: int = 1) -> None:
    """Refuse a run that cannot fit in this computer's memory, whatever the user confirms."""
    available = _physical_memory()
    size = estimate(scenario)
    memory = size.memory + (2 * replications * size.table_memory if replications > 1 else 0)
    if available is not None and memory > available:
        runs = "one replication needs" if replications == 1 else f"{replications:,} replications need"
        raise TooLarge([f"{scenario.name}: {_one(size)}; {runs} about {_bytes(memory)} of memory, more than this "
                        f"computer's {_bytes(available)}"])

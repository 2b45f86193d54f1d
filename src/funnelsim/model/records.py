"""What the simulation writes down about every lead, shaped like a CRM export.

One row per lead: its channel, true quality and marketing's score, a timestamp for the first
time it reached each stage, how many times sales tried to reach it, its outcome and its deal
amount. Times are in days since the start of the simulation (day 0 is a Monday, 00:00); a stage
never reached is empty (NaN). The model writes into preallocated numpy columns, which is fast
and small, and ``into_frame`` hands them to a pandas table at the end.

``LEAD_COLUMNS``, ``DAILY_COLUMNS`` and ``REPLICATION_COLUMNS`` form the data dictionary:
every column of every table, with its unit and meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from funnelsim.model.maths import HOURS_PER_DAY

__all__ = [
    "LEAD_COLUMNS",
    "DAILY_COLUMNS",
    "REPLICATION_COLUMNS",
    "STATUSES",
    "LeadRecords",
    "data_dictionary",
]

# Where a lead is when the simulation ends: exactly one of these.
STATUSES = (
    "nurture",  # below the MQL bar or recycled, and not (yet) re-engaged
    "handoff",  # an MQL on its way to sales
    "follow_up",  # accepted by sales, waiting for or between contact attempts
    "never_followed_up",  # accepted by sales but never worked
    "awaiting_ae",  # sales-qualified, waiting for an account executive with room
    "lapsed",  # sales-qualified, but bought elsewhere while waiting for an account executive
    "opportunity",  # an open deal in one of the opportunity stages
    "won",  # a customer (see churned_at)
    "lost",  # the deal was lost
)

# name: (dtype, unit, meaning)
LEAD_COLUMNS: dict[str, tuple[str, str, str]] = {
    "lead_id": ("int64", "-", "lead number within the replication, in order of first inquiry"),
    "channel": ("category", "-", "channel the lead came from"),
    "arrival_number": ("int64", "-", "position of the inquiry in its channel's stream of possible inquiries: with the channel, the lead's identity in every scenario run with the same seed"),
    "created_at": ("float64", "day", "time of the first inquiry"),
    "quality": ("float64", "points", "true fit/intent of the lead (50 = reference), unknown to marketing"),
    "score": ("float64", "points", "marketing's lead score at the latest pass: quality + noise"),
    "mql_at": ("float64", "day", "first time the lead became an MQL"),
    "handed_off_at": ("float64", "day", "first time an MQL reached sales"),
    "handoff_hours": ("float64", "hour", "handoff latency: MQL moment to reaching sales, first handoff"),
    "sal_at": ("float64", "day", "first time sales accepted the lead"),
    "sla_deadline_at": ("float64", "day", "first-touch deadline of the first accepted pass (MQL time + SLA)"),
    "first_touch_at": ("float64", "day", "start of the first contact attempt"),
    "speed_to_lead_hours": ("float64", "hour", "speed to lead: first touch minus the inquiry that started that pass (the lead's age at its first touch)"),
    "attempts": ("int64", "count", "contact attempts made, all passes"),
    "contacted_at": ("float64", "day", "first time a rep reached the lead"),
    "sql_at": ("float64", "day", "time the lead became sales-qualified"),
    "opportunity_at": ("float64", "day", "time an account executive opened the deal (value demonstration starts)"),
    "objection_handling_at": ("float64", "day", "time the deal entered objection handling"),
    "negotiation_at": ("float64", "day", "time the deal entered negotiation and close"),
    "lapsed_at": ("float64", "day", "time an SQL gave up waiting for an account executive and bought elsewhere"),
    "closed_at": ("float64", "day", "time the deal was won or lost"),
    "amount": ("float64", "currency", "deal amount: annual contract value (recurring) or one-off price"),
    "churned_at": ("float64", "day", "time a won customer left"),
    "revenue": ("float64", "currency", "revenue recognised from this lead up to the horizon"),
    "acquisition_cost": ("float64", "currency", "cost per lead of its channel"),
    "nurture_cycles": ("int64", "count", "times the lead re-engaged from nurture"),
    "rejections": ("int64", "count", "times sales rejected it as an MQL"),
    "sla_breached": ("boolean", "-", "first accepted pass not touched by its deadline (empty if undecided at the horizon)"),
    "status": ("category", "-", "where the lead is at the horizon: " + ", ".join(STATUSES)),
}

DAILY_COLUMNS: dict[str, tuple[str, str, str]] = {
    "day": ("int64", "day", "day number (0 = the first Monday)"),
    "leads": ("int64", "count", "first inquiries created that day"),
    "mqls": ("int64", "count", "leads becoming MQL for the first time"),
    "sals": ("int64", "count", "leads accepted by sales for the first time"),
    "first_touches": ("int64", "count", "leads touched by sales for the first time"),
    "sqls": ("int64", "count", "leads becoming sales-qualified"),
    "opportunities": ("int64", "count", "deals opened"),
    "wins": ("int64", "count", "deals won"),
    "losses": ("int64", "count", "deals lost"),
    "lapsed": ("int64", "count", "SQLs that bought elsewhere while waiting for an account executive"),
    "churned": ("int64", "count", "customers lost (the installed base included)"),
    "bookings": ("float64", "currency", "amount of deals won"),
    "revenue": ("float64", "currency", "revenue recognised that day (the installed base included)"),
    "installed_base_revenue": ("float64", "currency", "the part of that day's revenue paid by the installed base (customers the simulation did not win itself)"),
    "installed_base_customers": ("int64", "count", "customers of the installed base at the end of the day"),
    "marketing_spend": ("float64", "currency", "cost of the leads created that day"),
    "open_opportunities": ("int64", "count", "deals open at the end of the day"),
    "awaiting_ae": ("int64", "count", "SQLs waiting for an account executive at the end of the day"),
    "sdr_queue": ("int64", "count", "contact attempts waiting for a free SDR at the end of the day"),
    "sdr_busy_hours": ("float64", "hour", "SDR call hours worked that day within office hours (a call running past closing counts only up to closing)"),
    "sdr_available_hours": ("float64", "hour", "SDR hours available that day (reps x open hours, up to the horizon)"),
    "score_noise_sd": ("float64", "points", "noise of marketing's score that day (falls with closed-loop learning)"),
    "customers": ("int64", "count", "paying customers at the end of the day (the installed base included)"),
    "budget_weight_<channel>": ("float64", "share", "one column per channel: its budget multiplier that day (1 = as planned; moved by the closed loop)"),
}

REPLICATION_COLUMNS: dict[str, tuple[str, str, str]] = {
    "scenario": ("string", "-", "scenario name"),
    "replication": ("int64", "-", "replication number"),
    "seed": ("int64", "-", "root seed of the run"),
    "spawn_key": ("string", "-", "SeedSequence spawn key of the replication (its random streams derive from seed and key)"),
    "leads": ("int64", "count", "leads created after warm-up"),
    "mqls": ("int64", "count", "first-time MQLs after warm-up"),
    "sals": ("int64", "count", "first-time sales-accepted leads after warm-up"),
    "sqls": ("int64", "count", "sales-qualified leads after warm-up"),
    "opportunities": ("int64", "count", "deals opened after warm-up"),
    "wins": ("int64", "count", "deals won after warm-up"),
    "win_rate": ("float64", "share", "won / (won + lost), deals closed after warm-up"),
    "lead_to_customer_rate": ("float64", "share", "wins / leads, both after warm-up"),
    "median_speed_to_lead_hours": ("float64", "hour", "median speed to lead: first touch minus the inquiry, first touches after warm-up"),
    "median_handoff_hours": ("float64", "hour", "median handoff latency: MQL to reaching sales, handoffs after warm-up"),
    "share_never_contacted": ("float64", "share", "accepted leads worked (at least one attempt) but never reached / accepted leads worked, accepted after warm-up"),
    "share_sqls_lapsed": ("float64", "share", "SQLs that bought elsewhere while waiting for an account executive / SQLs, after warm-up"),
    "share_never_followed_up": ("float64", "share", "accepted leads never worked / accepted leads, after warm-up"),
    "sla_breach_rate": ("float64", "share", "accepted leads not touched by their deadline / deadlines falling after warm-up"),
    "sales_cycle_days": ("float64", "day", "mean SQL-to-close time of deals won after warm-up"),
    "bookings": ("float64", "currency", "amount of deals won after warm-up"),
    "revenue": ("float64", "currency", "revenue recognised after warm-up, day-0 customers included"),
    "marketing_spend": ("float64", "currency", "cost of leads created after warm-up"),
    "cpl": ("float64", "currency/lead", "marketing spend / leads"),
    "cac": ("float64", "currency/customer", "(marketing spend + SDR and AE cost) / wins, after warm-up"),
    "monthly_churn": ("float64", "share/month", "customers lost / customer-months, after warm-up"),
    "clv": ("float64", "currency", "customer lifetime value: monthly gross margin per customer / monthly churn (one-off: margin per deal)"),
    "sdr_utilisation": ("float64", "share", "SDR call hours within office hours / SDR available hours, after warm-up: a share from 0 to 1 (overtime past closing not counted)"),
    "ae_utilisation": ("float64", "share", "deal slots in use / deal slots, after warm-up"),
}


# Leads and daily tables of a run carry the replication number first.
_REPLICATION_KEY = {"replication": ("int64", "-", "replication number (see the replications table)")}


def data_dictionary() -> pd.DataFrame:
    """Every column of the leads, daily and replications tables with its type, unit and meaning."""
    rows = [
        {"table": table, "column": name, "dtype": dtype, "unit": unit, "meaning": meaning}
        for table, columns in (
            ("leads", _REPLICATION_KEY | LEAD_COLUMNS),
            ("daily", _REPLICATION_KEY | DAILY_COLUMNS),
            ("replications", REPLICATION_COLUMNS),
        )
        for name, (dtype, unit, meaning) in columns.items()
    ]
    return pd.DataFrame(rows)


FloatColumn: TypeAlias = npt.NDArray[np.float64]
IntColumn: TypeAlias = npt.NDArray[np.signedinteger[Any]]

# The columns ``LeadRecords`` keeps while a run goes on: the leads table's float columns but
# those known from others at the end (``into_frame``), then the integer columns (``channel_code``
# and ``status_code`` become the table's categorical ``channel`` and ``status``). Each is
# declared as a typed attribute below.
_DERIVED = (
    "handoff_hours",  # the first handoff is the first MQL's: (handed_off_at - mql_at) in hours
    "acquisition_cost",  # the channel's cost per lead
    "amount",  # the lead's deal size, once a deal opens (drawn at the end: the draws are the lead's own)
    "revenue",  # recognised by ``simulate``
)
_FLOAT_COLUMNS = tuple(name for name, (dtype, _, _) in LEAD_COLUMNS.items() if dtype == "float64" and name not in _DERIVED)
_INT_COLUMNS = ("arrival_number", "attempts", "nurture_cycles", "rejections", "channel_code", "status_code")
# The integer columns are kept as small as their values allow (a lead makes at most 64 passes of
# at most 64 attempts, a scenario has a few channels, there are nine statuses); the table has
# them as int64 or categories.
_INT_TYPES: dict[str, type[np.signedinteger[Any]]] = {
    "arrival_number": np.int64, "attempts": np.int16, "nurture_cycles": np.int16, "rejections": np.int16,
    "channel_code": np.int16, "status_code": np.int8,
}


class LeadRecords:
    """Preallocated numpy columns, one slot per lead, grown by a quarter when full.

    Every column is an attribute of its own (``records.sql_at[lead] = now``), declared below
    with its type. Growing replaces the arrays, so a process that waits between two writes
    looks its column up again after the wait (``column(name)`` by name). Float columns start
    empty (NaN: a stage not reached), integer columns at 0, each in its type (``INT_TYPES``).
    """

    __slots__ = ("channels", "size", "_capacity", *_FLOAT_COLUMNS, *_INT_COLUMNS)

    channels: list[str]  # channel names in the order of ``channel_code``
    size: int  # leads recorded so far
    _capacity: int
    # The float columns of the leads table (see ``LEAD_COLUMNS``) but the derived ones.
    created_at: FloatColumn
    quality: FloatColumn
    score: FloatColumn
    mql_at: FloatColumn
    handed_off_at: FloatColumn
    sal_at: FloatColumn
    sla_deadline_at: FloatColumn
    first_touch_at: FloatColumn
    speed_to_lead_hours: FloatColumn
    contacted_at: FloatColumn
    sql_at: FloatColumn
    opportunity_at: FloatColumn
    objection_handling_at: FloatColumn
    negotiation_at: FloatColumn
    lapsed_at: FloatColumn
    closed_at: FloatColumn
    churned_at: FloatColumn
    # Integer columns.
    arrival_number: IntColumn
    attempts: IntColumn
    nurture_cycles: IntColumn
    rejections: IntColumn
    channel_code: IntColumn  # index into ``channels``: the leads table's ``channel``
    status_code: IntColumn  # index into ``STATUSES``: the leads table's ``status``

    FLOAT_COLUMNS: ClassVar[tuple[str, ...]] = _FLOAT_COLUMNS
    INT_COLUMNS: ClassVar[tuple[str, ...]] = _INT_COLUMNS
    INT_TYPES: ClassVar[dict[str, type[np.signedinteger[Any]]]] = _INT_TYPES

    def __init__(self, channels: list[str], capacity: int = 1024):
        self.channels = channels
        self.size = 0
        self._capacity = max(capacity, 16)
        for name in self.FLOAT_COLUMNS:
            setattr(self, name, np.full(self._capacity, np.nan))
        for name in self.INT_COLUMNS:
            setattr(self, name, np.zeros(self._capacity, dtype=self.INT_TYPES[name]))

    def column(self, name: str) -> np.ndarray:
        """The column ``name`` as it is now (its array changes when the records grow)."""
        array: np.ndarray = getattr(self, name)
        return array

    def add(self, count: int) -> np.ndarray:
        """Reserve ``count`` new leads and return their ids."""
        needed = self.size + count
        if needed > self._capacity:
            while self._capacity < needed:  # by a quarter: little room left unused at the end
                self._capacity += self._capacity // 4 + 16
            for name in (*self.FLOAT_COLUMNS, *self.INT_COLUMNS):
                old = self.column(name)
                fill = np.nan if old.dtype.kind == "f" else 0
                grown = np.full(self._capacity, fill, dtype=old.dtype)
                grown[: self.size] = old[: self.size]
                setattr(self, name, grown)
        ids = np.arange(self.size, needed)
        self.size = needed
        return ids

    def into_frame(self, horizon: float, cost_per_lead: Sequence[float], amount: FloatColumn) -> pd.DataFrame:
        """The leads table at the horizon (the experiment adds the replication columns; revenue is
        left empty for ``simulate`` to recognise), given each channel's cost per lead (in the order
        of ``channels``) and each lead's deal amount (NaN without a deal).

        The records hand their columns over one by one, each cut to the leads recorded in place
        (no copy where numpy allows), so a run does not hold the records and the table at once;
        they are empty after."""
        n = self.size
        deadline, touched = self.sla_deadline_at[:n], self.first_touch_at[:n]
        missed = ~(touched <= deadline)  # late, or not touched at all
        decided = ~np.isnan(deadline) & ((touched <= deadline) | (deadline <= horizon))
        sla_breached = pd.arrays.BooleanArray(missed & decided, ~decided)  # empty where undecided
        handoff_hours = (self.handed_off_at[:n] - self.mql_at[:n]) * HOURS_PER_DAY
        acquisition_cost = np.asarray(cost_per_lead, dtype=np.float64)[self.channel_code[:n]]
        del deadline, touched  # views of two columns: they would keep them from being cut in place
        derived = {"lead_id": np.arange(n, dtype=np.int64), "sla_breached": sla_breached, "amount": amount,
                   "revenue": np.full(n, np.nan), "handoff_hours": handoff_hours, "acquisition_cost": acquisition_cost}
        data: dict[str, Any] = {}
        for name in LEAD_COLUMNS:
            if name in derived:
                data[name] = derived[name]
            elif name == "channel":
                data[name] = pd.Categorical.from_codes(self._hand_over("channel_code"), categories=pd.Index(self.channels))
            elif name == "status":
                data[name] = pd.Categorical.from_codes(self._hand_over("status_code"), categories=pd.Index(STATUSES))
            else:
                data[name] = self._hand_over(name).astype(LEAD_COLUMNS[name][0], copy=False)
        self.size = self._capacity = 0
        return pd.DataFrame(data, copy=False)  # one block per column: no second copy of the table

    def _hand_over(self, name: str) -> np.ndarray:
        """A column cut to the leads recorded, in place where numpy allows; the records keep an empty one."""
        column = self.column(name)
        setattr(self, name, np.empty(0, dtype=column.dtype))
        try:
            column.resize(self.size)  # in place, unless something else still refers to the array
        except ValueError:  # a view, or a profiler or debugger holding it: a copy then
            return column[: self.size].copy()
        return column

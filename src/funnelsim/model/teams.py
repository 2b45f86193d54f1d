"""The sales teams as limited resources: SDRs who keep office hours, AEs with deal slots.

SDRs are a team of reps; each contact attempt needs one for the length of the call. Waiting
attempts form one queue, served first come, first served, or best score first with priority
routing. When the office closes, each rep finishes the call in hand and goes home; attempts
waiting overnight are served when the office opens again. Account executives hold one deal
slot per open deal, so a full pipeline makes new SQLs wait.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from heapq import heappop, heappush
from itertools import count
from typing import Any, Protocol

import simpy

from funnelsim.model.clock import Clock

__all__ = ["SdrTeam", "FirstComeTeam", "PriorityTeam", "OfficeHours", "sdr_team", "DealSlots"]

# What to do when a rep takes a call: told the time the call starts.
StartCall = Callable[[float], None]


class OfficeHours:
    """When reps work: opening and closing times in days, on the working weekdays."""

    def __init__(self, open_days: set[int] | None, open_at: float, close_at: float):
        self.open_days = open_days  # None: always open
        self.open_at = open_at
        self.close_at = close_at

    def next_opening(self, t: float) -> float:
        """The earliest time at or after ``t`` when the office is open."""
        if self.open_days is None:
            return t
        day = math.floor(t)
        for offset in range(8):
            d = day + offset
            if d % 7 in self.open_days and t < d + self.close_at:
                return max(t, d + self.open_at)
        raise AssertionError("unreachable: at least one working day per week")

    def closing_of(self, t: float) -> float:
        """The closing time of the open office at ``t``."""
        return math.floor(t) + self.close_at



def _drop_until(times: list[float], now: float) -> int:
    """Remove the times at or before ``now`` from the heap ``times``; how many there were."""
    dropped = 0
    while times and times[0] <= now:
        heappop(times)
        dropped += 1
    return dropped


class SdrTeam(Protocol):
    """A team of SDRs: ``ask`` for a rep to make a call, ``calls_waiting`` for the line's length."""

    def ask(self, priority: float, work: float, start: StartCall) -> None:
        """A call of ``work`` days, with ``priority`` (lower first): ``start(time)`` is told when a rep takes it."""

    def calls_waiting(self) -> int:
        """Contact attempts waiting for a free rep now."""


def sdr_team(clock: Clock, reps: int, hours: OfficeHours, priority_routing: bool, horizon: float) -> SdrTeam:
    """The team for this company until the ``horizon``: served first come, first served, or best score first."""
    return PriorityTeam(clock, reps, hours) if priority_routing else FirstComeTeam(clock, reps, hours, horizon)


class FirstComeTeam:
    """Reps taking calls first come, first served, in office hours.

    In such a line nobody can overtake a call once it has asked for a rep, so its start is known
    at once: the moment the first of the reps is free (or it asks, if later), moved to the next
    opening when the office is closed then. Each rep finishes the call in hand at closing and
    goes home. Nothing about the line needs the clock: it costs no event at all. (A call that
    cannot begin before the ``horizon`` never begins; its start is left as the first rep free.)
    """

    def __init__(self, clock: Clock, reps: int, hours: OfficeHours, horizon: float = math.inf):
        self.clock = clock
        self.hours = hours
        self.horizon = horizon
        self._free_at = [0.0] * reps  # when each rep is next free (a heap)
        self._starts_ahead: list[float] = []  # when calls asked for but not yet begun begin (a heap)

    def ask(self, priority: float, work: float, start: StartCall) -> None:
        now = self.clock.now
        begins = max(now, heappop(self._free_at))
        if begins < self.horizon:
            begins = self.hours.next_opening(begins)
        heappush(self._free_at, begins + work)
        if begins > now:
            heappush(self._starts_ahead, begins)
        start(begins)

    def calls_waiting(self) -> int:
        _drop_until(self._starts_ahead, self.clock.now)
        return len(self._starts_ahead)


# A call waiting for a rep: (priority, asked at, order asked, call length in days, what to do when it starts)
_Waiting = tuple[float, float, int, float, StartCall]


class PriorityTeam:
    """Reps taking the best-scored lead's call first, then in the order asked, in office hours.

    A later, better lead may overtake a waiting call, so the start of a waiting call is decided
    only when a rep is free. The team keeps when each call in progress ends: a rep whose call
    is over is free again from that moment, and the team looks at the clock again
    (``call_at``) only when somebody waits for that rep. Reps go home at closing, each after
    the call in hand, and come back at opening (a process of two events a day).
    """

    def __init__(self, clock: Clock, reps: int, hours: OfficeHours):
        self.clock = clock
        self.reps = reps
        self.on_duty = True
        self._calls_end: list[float] = []  # when each call in progress ends (a heap)
        self._waiting: list[_Waiting] = []  # a heap: the first in line on top
        self._order = count()
        self._wake_at = math.inf  # when the team next looks for a free rep for the line
        if hours.open_days is not None:
            clock.process(self._keep_hours(hours))

    def ask(self, priority: float, work: float, start: StartCall) -> None:
        now = self.clock.now
        if self.on_duty and not self._waiting and self._rep_free(now):
            heappush(self._calls_end, now + work)
            start(now)
            return
        heappush(self._waiting, (priority, now, next(self._order), work, start))
        self._wait_for_a_rep()

    def calls_waiting(self) -> int:
        return len(self._waiting)

    def _keep_hours(self, hours: OfficeHours) -> Generator[simpy.Event, Any, None]:
        """Every rep goes home at closing (after the call in hand) and comes back at opening."""
        clock = self.clock
        while True:
            opening = hours.next_opening(clock.now)
            if opening > clock.now:
                self.on_duty = False
                yield clock.timeout(opening - clock.now)
                self.on_duty = True
                self._serve()
            yield clock.timeout(hours.closing_of(clock.now) - clock.now)

    def _rep_free(self, now: float) -> bool:
        _drop_until(self._calls_end, now)
        return len(self._calls_end) < self.reps

    def _serve(self, _: object = None) -> None:
        now = self.clock.now
        while self._waiting and self._rep_free(now):
            *_, work, start = heappop(self._waiting)
            heappush(self._calls_end, now + work)
            start(now)
        self._wait_for_a_rep()

    def _wait_for_a_rep(self) -> None:
        """With attempts waiting and every rep on a call, look again when the first call ends."""
        if self.on_duty and self._waiting and self._calls_end and self._calls_end[0] < self._wake_at:
            self._wake_at = self._calls_end[0]
            self.clock.call_at(self._wake_at, self._woken)

    def _woken(self, _: object) -> None:
        self._wake_at = math.inf
        if self.on_duty:
            self._serve()


class DealSlots:
    """The account executives' deal slots: one per open deal, SQLs served first come, first
    served, each waiting no longer than its patience.

    As in the SDRs' first-come line, nobody overtakes an SQL that asked before it, and an SQL that
    gives up takes no slot; so when a deal opens (or that the SQL gives up) is known the moment
    it asks: the first slot free, if that comes within its patience. The team keeps when each
    slot is next free, and, for the end-of-day counts, when deals open and close and when each
    wait ends.
    """

    def __init__(self, clock: Clock, capacity: int):
        self.clock = clock
        self._free_at = [0.0] * capacity  # when each slot is next free (a heap)
        self._deals = 0  # deals booked to open
        self._opens_ahead: list[float] = []  # when booked deals not yet open open (a heap)
        self._closes: list[float] = []  # when booked deals close (a heap)
        self._closed = 0
        self._waits_end: list[float] = []  # when each SQL waiting now stops waiting (a heap)

    def ask(self, patience: float) -> float | None:
        """An SQL asks for a slot now: when its deal opens, or None if it gives up first (at now + ``patience``)."""
        now = self.clock.now
        first_free = heappop(self._free_at)
        opens = max(now, first_free)
        if opens > now + patience:  # gives up before a slot is free: the slot stays free
            heappush(self._free_at, first_free)
            heappush(self._waits_end, now + patience)
            return None
        if opens > now:
            heappush(self._waits_end, opens)
            heappush(self._opens_ahead, opens)
        return opens

    def hold(self, until: float) -> None:
        """The deal that just opened (``ask``) holds its slot until it closes, won or lost, at ``until``."""
        heappush(self._free_at, until)
        heappush(self._closes, until)
        self._deals += 1

    def open_deals(self) -> int:
        """Deals open now."""
        now = self.clock.now
        _drop_until(self._opens_ahead, now)
        self._closed += _drop_until(self._closes, now)
        return self._deals - self._closed - len(self._opens_ahead)

    def waiting(self) -> int:
        """SQLs waiting for a slot now."""
        _drop_until(self._waits_end, self.clock.now)
        return len(self._waits_end)

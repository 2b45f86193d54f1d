"""The sales teams as limited resources: SDRs who keep office hours, AEs with deal slots.

SDRs are a pool of reps; each contact attempt needs one for the length of the call. Waiting
attempts form one queue, served first come, first served, or best score first with priority
routing. When the office closes, each rep finishes the call in hand and goes home; attempts
waiting overnight are served when the office opens again. Account executives hold one deal
slot per open deal, so a full pipeline makes new SQLs wait.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy
from simpy.core import BoundClass
from simpy.resources.resource import PriorityRequest, SortedQueue

__all__ = ["RepPool", "OfficeHours", "run_office_hours"]


class _InsertionQueue(SortedQueue):
    """SimPy's priority queue, kept sorted by binary insertion instead of a full re-sort."""

    def append(self, item: Any) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            raise RuntimeError("Cannot append event. Queue is full.")
        bisect.insort_right(self, item, key=lambda e: e.key)


class RepPool(simpy.PriorityResource):
    """A team of reps taking requests by priority (lower first), then by arrival.

    Leads' contact attempts ask for a rep with ``call(priority)``; at closing time the reps'
    own requests to go home (``go_off_duty``) are served before any lead, and the number of
    attempts waiting (``calls_waiting``) leaves them out."""

    PutQueue = _InsertionQueue
    OFF_DUTY = -math.inf  # the priority of a rep's request to go home: before any lead

    if TYPE_CHECKING:

        def call(self, priority: float) -> PriorityRequest:
            """Ask for a rep to make a call; a lower ``priority`` is served first."""
            return PriorityRequest(self, priority)  # type: ignore[arg-type]  # any orderable priority works

    else:
        call = BoundClass(PriorityRequest)  # as fast as SimPy's own ``request``

    def go_off_duty(self) -> list[PriorityRequest]:
        """Every rep asks to go home, ahead of any lead waiting; each request is granted
        once the rep's call in hand ends."""
        return [self.call(self.OFF_DUTY) for _ in range(int(self.capacity))]

    def free_now(self) -> bool:
        """True when a rep is free and no request waits: a call asked for now would be granted
        at once, so it can start without a request event (``take``)."""
        return len(self.users) < self.capacity and not self.put_queue

    def take(self) -> object:
        """Hold a free rep without a request event (only when ``free_now``); give it back with ``give_back``."""
        held = object()
        self.users.append(held)  # type: ignore[arg-type]  # a token standing for a granted request
        return held

    def give_back(self, held: object) -> None:
        """The call in hand is over: the rep is free again and, if anyone waits, serves the
        first in line at once (what SimPy's release event would do a moment later in the same
        instant, without the event)."""
        self.users.remove(held)  # type: ignore[arg-type]  # a request, or a token from take()
        if self.put_queue:
            self._trigger_put(None)

    def calls_waiting(self) -> int:
        """Contact attempts waiting for a free rep (the reps' requests to go home not counted)."""
        return sum(1 for request in self.queue if request.priority != self.OFF_DUTY)


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


def run_office_hours(env: simpy.Environment, reps: RepPool, hours: OfficeHours) -> Generator[simpy.Event, Any, None]:
    """Send every rep home at closing (after the call in hand) and back at opening."""
    while True:
        opening = hours.next_opening(env.now)
        if opening > env.now:
            away = reps.go_off_duty()
            yield env.timeout(opening - env.now)
            for request in away:
                if request.triggered:
                    reps.release(request)
                else:
                    request.cancel()
        yield env.timeout(hours.closing_of(env.now) - env.now)

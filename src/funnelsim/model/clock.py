"""The simulation's clock: SimPy's environment, plus "do this at that moment".

Most of what happens to a lead is a single step at a known moment: it reaches sales, a rep's
next try comes due, it returns from nurture. Such a step needs no SimPy process (a generator
that SimPy resumes) and no full SimPy event; ``call_at`` books the step on SimPy's own calendar
at exactly the moment given, served in the same order as any other event at that moment (by
time, then in the order booked). Only the parts that wait for something shared (an account
executive with room) remain SimPy processes.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush

import simpy
from simpy.core import NORMAL

__all__ = ["Clock"]


class _Due:
    """What SimPy's calendar needs of an event to serve it: its callbacks and that it succeeded."""

    __slots__ = ("callbacks", "_ok")

    def __init__(self, step: Callable[[object], None]):
        self.callbacks: list[Callable[[object], None]] | None = [step]
        self._ok = True


class Clock(simpy.Environment):
    """SimPy's environment with ``call_at``: run a step at an exact time, without an event object."""

    def call_at(self, time: float, step: Callable[[object], None]) -> None:
        """Run ``step(marker)`` at ``time`` (not before now), after whatever was booked earlier for that moment.

        The time is kept exactly as given, where ``timeout(time - now)`` would round it a second
        time."""
        # a _Due has all the calendar reads of an Event (callbacks, _ok), at a fraction of its cost
        heappush(self._queue, (time, NORMAL, next(self._eid), _Due(step)))  # type: ignore[misc]

    def clear_calendar(self) -> None:
        """Drop every step still booked: after a run they would come after its horizon, and
        they hold on to the leads' draws."""
        self._queue.clear()

"""Where every random number comes from: one stream per random element of the funnel.

Comparing two scenarios is only fair if chance treats them alike. So each random element
(the paid-search arrivals, the quality of event leads, whether an SDR reaches a lead on an
attempt, how long a negotiation takes, ...) has its own random stream, derived from the
replication's seed and the element's *name*, never from its position in a list. Two scenarios
run with the same seed therefore see the same leads arrive with the same quality, and the same
luck on every call, wherever their levers let them: this is common random numbers, and it
makes the difference between two scenarios far less noisy than either scenario alone.

Each lead takes, on arrival and in its channel's arrival order, one row of draws for every
decision it might face on its first pass, used or not, and one such row for each later pass it
might make after re-engaging from nurture. Lead number *i* of a channel therefore meets the
same luck on its *k*-th pass in every scenario.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from funnelsim.params import Scenario

__all__ = ["stream", "PassDraws", "PassDrawSupply"]


def stream(seed: np.random.SeedSequence, element: str) -> np.random.Generator:
    """The random stream of one named element within a replication."""
    key = zlib.crc32(element.encode("utf-8"))
    child = np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (key,))
    return np.random.Generator(np.random.PCG64(child))


@dataclass
class PassDraws:
    """Every random draw a lead may need on one pass, one row per pass (numpy columns)."""

    score_noise: np.ndarray  # standard normal: score = quality + noise_sd * this
    reengage: np.ndarray  # uniform: re-engages from nurture if below the probability
    reengage_delay: np.ndarray  # days
    handoff_latency: np.ndarray  # days
    follow_up: np.ndarray  # uniform: worked at all if below the follow-up rate
    contact: np.ndarray  # uniform per attempt
    work: np.ndarray  # days of SDR work per attempt
    spacing: np.ndarray  # days between attempts
    qualify: np.ndarray  # uniform
    stage_pass: np.ndarray  # uniform per opportunity stage
    stage_duration: np.ndarray  # days per opportunity stage
    churn: np.ndarray  # uniform, turned into a customer lifetime

    def select(self, rows: np.ndarray) -> "PassDraws":
        """A compact copy holding only the given rows."""
        return PassDraws(**{k: v[rows] for k, v in vars(self).items()})

    def row(self, i: int) -> "PassDraws":
        """Row ``i`` as plain Python values (faster than numpy scalars in the hot path)."""
        return PassDraws(*(v[i].tolist() for v in vars(self).values()))

    def rows(self, index: np.ndarray) -> list["PassDraws"]:
        """The given rows as plain Python values, each column converted in one step."""
        columns = [v[index].tolist() for v in vars(self).values()]
        return [PassDraws(*values) for values in zip(*columns)]


class PassDrawSupply:
    """Hands out rows of ``PassDraws`` in order, drawing from per-element streams in blocks."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence, label: str, block: int = 512):
        fu = scenario.follow_up
        stages = [stage for _, stage in scenario.opportunity.stages.in_order()]
        handoff = scenario.handoff.latency_days
        attempts = fu.max_attempts
        spacing = fu.attempt_spacing_days
        work = fu.work_days
        delay = scenario.nurture.reengage_delay_days

        def rng(element: str) -> np.random.Generator:
            return stream(seed, f"{label}/{element}")

        r = {name: rng(name) for name in PassDraws.__dataclass_fields__}
        stage_rngs = [rng(f"stage_duration/{name}") for name, _ in scenario.opportunity.stages.in_order()]
        self._makers = {
            "score_noise": lambda n: r["score_noise"].standard_normal(n),
            "reengage": lambda n: r["reengage"].random(n),
            "reengage_delay": lambda n: delay.sample(r["reengage_delay"], n),
            "handoff_latency": (
                (lambda n: handoff.sample(r["handoff_latency"], n))
                if handoff is not None
                else (lambda n: np.zeros(n))
            ),
            "follow_up": lambda n: r["follow_up"].random(n),
            "contact": lambda n: r["contact"].random((n, attempts)),
            "work": lambda n: work.sample(r["work"], n * attempts).reshape(n, attempts),
            "spacing": lambda n: spacing.sample(r["spacing"], n * attempts).reshape(n, attempts),
            "qualify": lambda n: r["qualify"].random(n),
            "stage_pass": lambda n: r["stage_pass"].random((n, len(stages))),
            "stage_duration": lambda n: np.column_stack(
                [s.duration_days.sample(g, n) for s, g in zip(stages, stage_rngs)]
            ),
            "churn": lambda n: r["churn"].random(n),
        }
        self._block = block
        self._buffer = self._make(block)
        self._size = block
        self._next = 0

    def _make(self, n: int) -> PassDraws:
        return PassDraws(**{name: make(n) for name, make in self._makers.items()})

    def take(self, n: int) -> PassDraws:
        """The next ``n`` rows."""
        if self._next + n > self._size:
            fresh = self._make(max(n, self._block))
            rest = {k: v[self._next :] for k, v in vars(self._buffer).items()}
            self._buffer = PassDraws(
                **{k: np.concatenate([rest[k], getattr(fresh, k)]) for k in rest}
            )
            self._next = 0
            self._size = len(self._buffer.follow_up)
        out = PassDraws(**{k: v[self._next : self._next + n] for k, v in vars(self._buffer).items()})
        self._next += n
        return out

"""Where every random number comes from: the same lead meets the same luck in every scenario.

Comparing two scenarios is only fair if chance treats them alike. So each random quantity in
the funnel (the quality of an event lead, whether an SDR reaches a lead on its third attempt,
how long its negotiation takes, ...) is a pure function of four things and nothing else:

* the replication's seed,
* the *name* of the random element (``"events/contact"``), never its position in a list,
* the lead's identity: its channel and its *arrival number*, the position of its inquiry in
  the channel's stream of possible inquiries (see ``marketing.ChannelArrivals``), and
* where in the lead's story the draw is used: which pass through the funnel (a lead that
  re-engages from nurture makes another pass) and which attempt or deal stage.

The draws are counter-based: a uniform is a hash of the element's key and the position, so
it does not matter which other draws a scenario made before it, how many attempts it allows,
how many leads a budget shift brought in, or in what order the simulation asked. Two
scenarios run with the same seed therefore see the same leads arrive with the same quality,
and the same luck on every call, wherever their levers let them: common random numbers for
every lever, which makes the difference between two scenarios far less noisy than either.

Each uniform is turned into its quantity by the inverse distribution function (a lognormal
handoff latency, a gamma stage duration): a lead keeps its luck when a distribution's
parameters change.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from funnelsim.config.schema import Scenario
from funnelsim.model.stages import DEAL_STAGE_NAMES

__all__ = ["stream", "element_key", "uniforms", "LeadLuck", "LeadPass", "PassDraws", "MAX_PASSES", "MAX_SLOTS"]

MAX_PASSES = 64  # passes through the funnel a lead's luck is indexed for (nurture.max_cycles + 1)
MAX_SLOTS = 64  # attempts (follow_up.max_attempts) or deal stages indexed within one pass

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))


def stream(seed: np.random.SeedSequence, element: str) -> np.random.Generator:
    """A sequential random stream of one named element within a replication.

    Used where draws come in a natural order of their own (a channel's inquiry times); per-lead
    draws use ``uniforms`` instead."""
    key = zlib.crc32(element.encode("utf-8"))
    child = np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (key,))
    return np.random.Generator(np.random.PCG64(child))


def element_key(seed: np.random.SeedSequence, element: str) -> np.uint64:
    """The 64-bit key of one named element within a replication."""
    key = zlib.crc32(element.encode("utf-8"))
    child = np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (key,))
    return child.generate_state(1, np.uint64)[0]


PerRow: TypeAlias = npt.NDArray[np.float64]  # shape (rows,): one draw per (lead, pass)
PerSlot: TypeAlias = npt.NDArray[np.float64]  # shape (rows, slots): one draw per attempt or deal stage
Quantile: TypeAlias = Callable[[np.ndarray], np.ndarray]  # a distribution's inverse distribution function
# may sales work these passes, from their score noise and follow-up draws (True where it may)
WorkedRule: TypeAlias = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit words that scrambles every bit."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


def uniforms(key: np.uint64, position: np.ndarray) -> np.ndarray:
    """Uniforms strictly inside (0, 1), one per position, for the element with ``key``."""
    with np.errstate(over="ignore"):
        z = _mix(_mix(np.asarray(position, dtype=np.uint64) * _GOLDEN) ^ key)
    return ((z >> _S11).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def _position(lead: np.ndarray, passes: np.ndarray | int, slot: np.ndarray | int = 0) -> np.ndarray:
    lead = np.asarray(lead, dtype=np.uint64)
    return (lead * np.uint64(MAX_PASSES) + np.asarray(passes, dtype=np.uint64)) * np.uint64(MAX_SLOTS) + np.asarray(
        slot, dtype=np.uint64
    )


@dataclass
class PassDraws:
    """Every random draw of many (lead, pass) rows at once, as numpy columns, one row per
    (lead, pass): drawn in bulk when leads are booked. Per-attempt and per-stage draws are 2-D,
    (row, attempt) and (row, stage). ``rows()`` splits them into one ``LeadPass`` per row, the
    plain floats the simulation's hot path reads."""

    score_noise: PerRow  # standard normal: marketing's score error on this pass
    reengage: PerRow  # uniform: re-engages from nurture if below the probability
    reengage_delay: PerRow  # days in nurture before re-engaging
    handoff_latency: PerRow  # days from MQL to sales (continuous handoff)
    follow_up: PerRow  # uniform: worked at all if below the follow-up rate
    presence: PerRow  # days the inquirer stays at their desk, reachable at once
    shopping: PerRow  # days the lead waits for a first touch before engaging a competitor
    contact: PerSlot  # uniform per attempt: reached if below the chance of contact
    work: PerSlot  # days of SDR work per attempt
    spacing: PerSlot  # days between attempts
    qualify: PerRow  # uniform: qualifies at the first conversation if below the chance
    patience: PerRow  # days an SQL waits for an account executive before buying elsewhere
    stage_pass: PerSlot  # uniform per opportunity stage
    stage_duration: PerSlot  # days per opportunity stage
    churn: PerRow  # uniform, turned into a customer lifetime
    # the row of the per-attempt and per-stage arrays for each row (-1: drawn for no attempt);
    # None: the same rows
    slot_rows: np.ndarray | None = None
    _per_pass: np.ndarray | None = field(default=None, init=False, repr=False)  # made by ``row``

    def rows(self, which: np.ndarray) -> list[LeadPass]:
        """A ``LeadPass`` for each of the rows ``which``: the per-pass draws as plain Python
        floats (faster than numpy scalars in the hot path), the per-attempt and per-stage lists
        made when first read."""
        columns = [getattr(self, name)[which].tolist() for name in _PER_PASS]
        return [LeadPass(self, row, *values) for row, values in zip(which.tolist(), zip(*columns))]

    def row(self, row: int) -> LeadPass:
        """The ``LeadPass`` of one row, made when it is needed (a lead re-engaging from nurture)."""
        if self._per_pass is None:  # the per-pass draws side by side, one row read in one step
            self._per_pass = np.column_stack([getattr(self, name) for name in _PER_PASS])
            for i, name in enumerate(_PER_PASS):  # the columns become views of it: one copy kept, not two
                setattr(self, name, self._per_pass[:, i])
        return LeadPass(self, row, *self._per_pass[row].tolist())


# The draws made once per pass, as LeadPass takes them; the rest are per attempt or deal stage.
_PER_PASS = ("score_noise", "reengage", "reengage_delay", "handoff_latency", "follow_up", "presence", "shopping",
             "qualify", "patience", "churn")


class _FromRow:
    """A per-attempt or per-stage list of a ``LeadPass``: made from its row of the ``PassDraws``
    the first time it is read, then kept on the pass (the instance's own value wins after)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: LeadPass, owner: type | None = None) -> list[float]:
        source, row = instance._source, instance._row
        if source.slot_rows is not None:
            row = int(source.slot_rows[row])
            assert row >= 0, "no attempt was drawn for a pass sales does not work"
        values: list[float] = getattr(source, self.name)[row].tolist()
        instance.__dict__[self.name] = values
        return values


class LeadPass:
    """One lead's draws for one pass (one row of ``PassDraws``): plain Python floats and, per
    attempt or deal stage, lists of floats. Most passes never reach an SDR or a deal, so those
    lists are made from the row only when first read (then kept), not for every row booked."""

    def __init__(self, source: PassDraws, row: int, score_noise: float, reengage: float, reengage_delay: float,
                 handoff_latency: float, follow_up: float, presence: float, shopping: float, qualify: float,
                 patience: float, churn: float):
        self._source, self._row = source, row
        self.score_noise = score_noise
        self.reengage = reengage
        self.reengage_delay = reengage_delay
        self.handoff_latency = handoff_latency
        self.follow_up = follow_up
        self.presence = presence
        self.shopping = shopping
        self.qualify = qualify
        self.patience = patience
        self.churn = churn

    contact = _FromRow()  # uniform per attempt: reached if below the chance of contact
    work = _FromRow()  # days of SDR work per attempt
    spacing = _FromRow()  # days between attempts
    stage_pass = _FromRow()  # uniform per opportunity stage
    stage_duration = _FromRow()  # days per opportunity stage


class LeadLuck:
    """The draws of one channel's leads in one replication, indexed by arrival number and pass."""

    def __init__(self, scenario: Scenario, seed: np.random.SeedSequence, channel: str):
        fu = scenario.follow_up
        self._attempts = fu.max_attempts
        self._keys: dict[str, np.uint64] = {}
        self._seed = seed
        self._channel = channel
        stages = scenario.opportunity.stages
        handoff = scenario.handoff.latency_days
        patience = scenario.opportunity.ae_team.sql_patience_days
        presence = fu.presence_days
        shopping = fu.shopping_window_days
        self._quantity: dict[str, Quantile | None] = {
            "reengage_delay": scenario.nurture.reengage_delay_days.quantile,
            "handoff_latency": handoff.quantile if handoff is not None else None,
            "presence": presence.quantile if presence is not None else None,
            "shopping": shopping.quantile if shopping is not None else None,
            "work": fu.work_days.quantile,
            "spacing": fu.attempt_spacing_days.quantile,
            "patience": patience.quantile if patience is not None else None,
        }
        self._stage_durations: list[Quantile] = [getattr(stages, name).duration_days.quantile for name in DEAL_STAGE_NAMES]
        self._deal_size: Quantile = scenario.channels[channel].deal_size.quantile

    def uniform(self, element: str, lead: np.ndarray, passes: np.ndarray | int = 0, slot: np.ndarray | int = 0) -> np.ndarray:
        """Uniforms of ``element`` for the leads with these arrival numbers, passes and slots."""
        key = self._keys.get(element)
        if key is None:
            key = self._keys[element] = element_key(self._seed, f"{self._channel}/{element}")
        return uniforms(key, _position(lead, passes, slot))

    def deal_sizes(self, lead: np.ndarray) -> np.ndarray:
        """The deal size each of these leads would sign for: one draw per lead, whatever its pass."""
        return self._deal_size(self.uniform("deal_size", lead))

    def nurture(self, lead: np.ndarray, passes: np.ndarray) -> tuple[PerRow, PerRow, PerRow]:
        """The draws every booked pass needs, MQL or not: the score's noise, the uniform that says
        whether it re-engages from nurture, and the days before it would (the same values as in
        ``passes``, without the rest a pass only needs if it goes to sales)."""
        lead = np.asarray(lead, dtype=np.int64)
        passes = np.asarray(passes, dtype=np.int64)
        delay = self._quantity["reengage_delay"]
        assert delay is not None  # every scenario has a nurture delay
        return (ndtri(self.uniform("score_noise", lead, passes)), self.uniform("reengage", lead, passes),
                delay(self.uniform("reengage_delay", lead, passes)))

    def passes(self, lead: np.ndarray, passes: np.ndarray, worked: WorkedRule | None = None) -> PassDraws:
        """All draws of the given (lead, pass) rows; with a rule ``worked`` (from each row's
        score noise and follow-up draw: may sales work this pass?), the per-attempt and
        per-stage draws only of the rows it allows (a pass sales will not work needs none)."""
        lead = np.asarray(lead, dtype=np.int64)
        passes = np.asarray(passes, dtype=np.int64)
        n = len(lead)
        score_noise = ndtri(self.uniform("score_noise", lead, passes))
        follow_up = self.uniform("follow_up", lead, passes)
        slot_rows = None
        slot_lead, slot_passes = lead, passes
        if worked is not None:
            mask = worked(score_noise, follow_up)
            slot_rows = np.where(mask, np.cumsum(mask) - 1, -1)
            slot_lead, slot_passes = lead[mask], passes[mask]
        attempt = np.arange(self._attempts)
        per_attempt = (slot_lead[:, None], slot_passes[:, None], attempt[None, :])
        stage = np.arange(len(DEAL_STAGE_NAMES))
        per_stage = (slot_lead[:, None], slot_passes[:, None], stage[None, :])

        def quantity(element: str, *where: np.ndarray) -> np.ndarray:
            turn = self._quantity[element]
            if turn is None:
                return np.zeros(np.broadcast(*where).shape) if where else np.zeros(n)
            return turn(self.uniform(element, *(where or (lead, passes))))

        durations = self.uniform("stage_duration", *per_stage)
        return PassDraws(
            score_noise=score_noise,
            reengage=self.uniform("reengage", lead, passes),
            reengage_delay=quantity("reengage_delay"),
            handoff_latency=quantity("handoff_latency"),
            follow_up=follow_up,
            presence=quantity("presence"),
            shopping=np.full(n, np.inf) if self._quantity["shopping"] is None else quantity("shopping"),
            contact=self.uniform("contact", *per_attempt),
            work=quantity("work", *per_attempt),
            spacing=quantity("spacing", *per_attempt),
            qualify=self.uniform("qualify", lead, passes),
            patience=np.full(n, np.inf) if self._quantity["patience"] is None else quantity("patience"),
            stage_pass=self.uniform("stage_pass", *per_stage),
            stage_duration=np.column_stack([turn(durations[:, j]) for j, turn in enumerate(self._stage_durations)])
            if len(slot_lead)
            else np.zeros((0, len(DEAL_STAGE_NAMES))),
            churn=self.uniform("churn", lead, passes),
            slot_rows=slot_rows,
        )

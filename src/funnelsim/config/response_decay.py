"""The decay of lead response: how the odds that an attempt reaches a lead, or that a reached
lead qualifies, fall as the lead waits, given as odds multipliers at listed ages (a scenario's
``follow_up.contact_decay`` and ``follow_up.qualification_decay``)."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from funnelsim.config.loading import KeyRuleError
from funnelsim.config.value_rules import HOURS, NonNegative, Positive, Section

__all__ = ["NO_DECAY", "ResponseDecay"]


class ResponseDecay(Section):
    """How the odds of success fall as a lead waits: an odds multiplier at listed ages.

    Between two listed ages the multiplier changes geometrically (linear in its logarithm);
    after the last age it stays at the last value.
    """

    age_hours: list[NonNegative] = Field(min_length=1)
    odds_multiplier: list[Positive] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> "ResponseDecay":
        problems = []
        if self.age_hours[0] != 0:
            problems.append(("age_hours", "must start at 0"))
        if any(b <= a for a, b in zip(self.age_hours, self.age_hours[1:])):
            problems.append(("age_hours", "must be strictly increasing"))
        if len(self.age_hours) != len(self.odds_multiplier):
            problems.append((
                "odds_multiplier",
                f"has {len(self.odds_multiplier)} entries but age_hours has {len(self.age_hours)}: "
                "give one multiplier per age",
            ))
        if problems:
            raise KeyRuleError(*problems)
        return self

    @property
    def age_days(self) -> list[float]:
        return [a * HOURS for a in self.age_hours]

    @property
    def log_multiplier(self) -> list[float]:
        return [math.log(m) for m in self.odds_multiplier]


NO_DECAY = ResponseDecay(age_hours=[0.0], odds_multiplier=[1.0])

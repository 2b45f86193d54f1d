"""Scenario parameters: one YAML file describes one company's funnel and its alignment levers.

A scenario file says how many leads each channel brings, how good they are, how marketing
scores them, how fast they reach sales, how many reps work them and how, how deals progress,
and how long customers stay. ``params/baseline.yaml`` is the complete, commented default;
other files start with ``extends: ../baseline.yaml`` and change only what differs.

Everything is checked once, strictly, before anything runs. A mistake is reported as
``FILE: key.path: value: what is allowed`` and nothing is simulated; a rule that ties two keys
together (a warm-up shorter than the horizon, closing after opening) is reported at the key
that breaks it. Numbers must be finite: ``.nan`` and ``.inf`` are refused everywhere.
``--set key.path=value`` on the command line overrides any value and is checked the same way.

This module is the schema (every section, its bounds and the rules tying keys together) and
the few functions that turn a file or mapping into a ``Scenario``; reading YAML, ``extends``,
overrides and the error lines are ``funnelsim.config.loading``'s (``load_validated``).

The model's one time unit is the day. Fields where people think in hours or minutes say so
in their name (``latency_hours``, ``work_minutes``) and are converted by the properties
ending in ``_days``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from funnelsim.config.distributions import Distribution
from funnelsim.config.errors import ParameterError
from funnelsim.config.loading import KeyRuleError, load_validated, set_path, validate_data
from funnelsim.config.response_decay import NO_DECAY, ResponseDecay
from funnelsim.config.value_rules import (
    HOURS,
    MAX_ATTEMPTS,
    MAX_BUDGET_WEIGHT,
    MAX_CYCLES,
    MAX_INSTALLED_BASE,
    MIN_STEADY_STATE_CHURN,
    MINUTES,
    WEEKDAYS,
    Amount,
    Count,
    NonNegative,
    Points,
    Positive,
    Probability,
    Section,
    as_written,
    limit,
    money_distribution,
    non_negative,
    points_distribution,
)

__all__ = [
    "MATURITY_LEVELS",
    "STAGE_NAMES",
    "KeyRuleError",
    "ParameterError",
    "Scenario",
    "load_scenario",
    "scenario_from_dict",
    "with_settings",
]

MATURITY_LEVELS = ("fully aligned", "somewhat aligned", "somewhat misaligned", "fully misaligned")


# --- sections of a scenario ----------------------------------------------------------------


class Simulation(Section):
    """How long to simulate and how much of the start to leave out of the KPIs."""

    horizon_days: Annotated[Positive, limit(high=3653, why="ten years: the model holds teams, prices and "
                                                  "budgets fixed, and every day is simulated")]
    warmup_days: NonNegative = 0.0
    start_month: Annotated[int, Field(ge=1, le=12)] = 1


class Channel(Section):
    """One source of leads: its volume, cost, lead quality and deal size."""

    leads_per_week: Annotated[NonNegative, limit(high=1e6, why="every lead is simulated one by one; no B2B "
                                                  "channel brings a million leads a week")]
    cost_per_lead: Amount
    quality: Distribution
    deal_size: Distribution

    @field_validator("deal_size")
    @classmethod
    def _deal_size_positive(cls, v: Any) -> Any:
        return money_distribution(v, "deal size")

    @field_validator("quality")
    @classmethod
    def _quality_in_points(cls, v: Any) -> Any:
        return points_distribution(v)


class Seasonality(Section):
    """Multipliers on every channel's rate by hour of day (0..23), weekday (Mon..Sun) and month."""

    hour: list[NonNegative] = Field(default=[1.0] * 24, min_length=24, max_length=24)
    weekday: list[NonNegative] = Field(default=[1.0] * 7, min_length=7, max_length=7)
    month: list[NonNegative] = Field(default=[1.0] * 12, min_length=12, max_length=12)

    @model_validator(mode="after")
    def _some_positive(self) -> "Seasonality":
        zero = [key for key in ("hour", "weekday", "month") if sum(getattr(self, key)) <= 0]
        if zero:
            raise KeyRuleError(*((key, "multipliers cannot all be zero") for key in zero))
        return self


class Scoring(Section):
    """Marketing's lead score: the lead's true quality plus noise; MQL at the threshold."""

    noise_sd: Points
    mql_threshold: float


class Nurture(Section):
    """Leads not ready for sales may re-engage later as the same lead."""

    reengage_probability: Probability
    reengage_delay_days: Distribution
    max_cycles: Annotated[int, Field(ge=0), limit(high=MAX_CYCLES, why="every returning lead holds random numbers "
                                                   "for each possible cycle")]

    @field_validator("reengage_delay_days")
    @classmethod
    def _delay(cls, v: Any) -> Any:
        return non_negative(v, "delay")


class Handoff(Section):
    """How MQLs reach sales: continuously after a latency, or in batches at a fixed hour."""

    mode: Literal["continuous", "batch"]
    latency_hours: Distribution | None = None
    batch_every_days: Positive | None = None
    batch_at_hour: Annotated[float, Field(ge=0, lt=24)] | None = None
    sla_first_touch_hours: Positive

    @field_validator("latency_hours")
    @classmethod
    def _latency(cls, v: Any) -> Any:
        return v if v is None else non_negative(v, "latency")

    @model_validator(mode="after")
    def _mode_fields(self) -> "Handoff":
        needed = {"continuous": ("latency_hours",), "batch": ("batch_every_days", "batch_at_hour")}
        missing = [key for key in needed[self.mode] if getattr(self, key) is None]
        if missing:
            raise KeyRuleError(*((key, f"needed when mode is {self.mode!r}") for key in missing))
        return self

    @property
    def latency_days(self) -> Any:
        return self.latency_hours.scaled(HOURS) if self.latency_hours is not None else None

    @property
    def sla_days(self) -> float:
        return self.sla_first_touch_hours * HOURS


class SalesAcceptance(Section):
    """Sales' own bar on marketing's score: above marketing's threshold means a definition gap."""

    threshold: float


class BusinessHours(Section):
    """When reps work: opening and closing hour and the working days."""

    open_hour: Annotated[float, Field(ge=0, lt=24)]
    close_hour: Annotated[float, Field(gt=0, le=24)]
    working_days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        min_length=1
    )

    @model_validator(mode="after")
    def _order(self) -> "BusinessHours":
        problems = []
        if self.close_hour <= self.open_hour:
            problems.append(("close_hour", f"must be after open_hour ({as_written(self.open_hour)})"))
        twice = sorted({d for d in self.working_days if self.working_days.count(d) > 1}, key=WEEKDAYS.index)
        if twice:
            problems.append(("working_days", f"lists {', '.join(twice)} twice"))
        if problems:
            raise KeyRuleError(*problems)
        return self

    @property
    def weekday_numbers(self) -> list[int]:
        return sorted(WEEKDAYS.index(d) for d in self.working_days)


class SdrTeam(Section):
    """The sales development reps who make first contact."""

    reps: Annotated[Count, limit(high=10_000, why="each rep is simulated, and in office hours every rep goes "
                                   "home and comes back each day")]
    cost_per_rep_month: Amount = 0.0
    business_hours: BusinessHours | None = None


class FollowUp(Section):
    """Whether and how sales works an accepted lead: share worked, attempts, spacing, work.

    Reaching a lead (a *contact*) is decided on every attempt. A new inquirer is still at their
    desk for a short while (``presence_minutes``): an attempt in that window reaches them with
    ``contact_probability_present``. After it, an attempt is a cold call: it reaches them with
    ``contact_probability``, whose odds fall slowly as the lead ages (``contact_decay``). The
    first conversation decides qualification once: its odds fall with the lead's age at that
    conversation (``qualification_decay``), because interest cools while nobody calls.
    """

    follow_up_rate: Probability
    max_attempts: Annotated[Count, limit(high=MAX_ATTEMPTS, why="every lead holds random numbers for each possible "
                                                 "attempt; no sales team calls a lead more often")]
    attempt_spacing_hours: Distribution
    work_minutes: Distribution
    priority_routing: bool = False
    contact_probability: Probability
    contact_decay: ResponseDecay = NO_DECAY
    presence_minutes: Distribution | None = None
    contact_probability_present: Probability | None = None
    qualification_decay: ResponseDecay = NO_DECAY
    shopping_window_hours: Distribution | None = None

    @field_validator("attempt_spacing_hours", "work_minutes", "presence_minutes", "shopping_window_hours")
    @classmethod
    def _durations(cls, v: Any) -> Any:
        return v if v is None else non_negative(v, "duration")

    @model_validator(mode="after")
    def _presence_pair(self) -> "FollowUp":
        if (self.presence_minutes is None) != (self.contact_probability_present is None):
            missing = "contact_probability_present" if self.contact_probability_present is None else "presence_minutes"
            raise KeyRuleError((missing, "give presence_minutes and contact_probability_present together (or neither)"))
        return self

    @property
    def attempt_spacing_days(self) -> Any:
        return self.attempt_spacing_hours.scaled(HOURS)

    @property
    def work_days(self) -> Any:
        return self.work_minutes.scaled(MINUTES)

    @property
    def presence_days(self) -> Any:
        return None if self.presence_minutes is None else self.presence_minutes.scaled(MINUTES)

    @property
    def shopping_window_days(self) -> Any:
        return None if self.shopping_window_hours is None else self.shopping_window_hours.scaled(HOURS)


class Qualification(Section):
    """The chance a contacted lead is sales-qualified, rising with its quality."""

    probability_at_quality_50: Probability
    quality_odds_ratio_per_10_points: Positive


class Stage(Section):
    """One opportunity stage: how long it takes and the chance of passing it."""

    duration_days: Distribution
    pass_probability: Probability

    @field_validator("duration_days")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return non_negative(v, "duration")


class Stages(Section):
    """The opportunity stages, in order."""

    value_demonstration: Stage
    objection_handling: Stage
    negotiation_close: Stage

    def in_order(self) -> list[tuple[str, Stage]]:
        return [(name, getattr(self, name)) for name in STAGE_NAMES]


STAGE_NAMES = ("value_demonstration", "objection_handling", "negotiation_close")


class AeTeam(Section):
    """Account executives: each carries a limited number of open deals at once.

    An SQL waiting for an AE with room does not wait for ever: after its patience
    (``sql_patience_days``, drawn per lead) it buys elsewhere. Without it, SQLs wait forever.
    """

    reps: Count
    deals_per_rep: Count
    cost_per_rep_month: Amount = 0.0
    sql_patience_days: Distribution | None = None

    @field_validator("sql_patience_days")
    @classmethod
    def _patience(cls, v: Any) -> Any:
        return v if v is None else non_negative(v, "patience")


class Opportunity(Section):
    """Deals in the sales process; two alignment levers act on every stage's odds."""

    ae_team: AeTeam
    stages: Stages
    quality_odds_ratio_per_10_points: Positive
    message_consistency: Probability
    message_consistency_odds_ratio: Positive
    content_coverage: Probability
    content_coverage_odds_ratio: Positive


class Customers(Section):
    """After the sale: recurring or one-off revenue, how often customers leave, and the
    customers the company already has on day 0 (recurring revenue only).

    ``installed_base: steady_state`` (the default) gives the company the customers its own
    acquisition and churn would have built up over the years: at the end of warm-up it has as
    many customers as it wins a day divided by the daily churn hazard, so its revenue neither
    grows nor shrinks because of an arbitrary starting number. A whole number instead gives
    that many customers on day 0, each paying ``initial_deal_size`` a year.
    """

    revenue_model: Literal["recurring", "one_off"]
    monthly_churn: Probability
    gross_margin: Probability
    installed_base: Literal["steady_state"] | int = "steady_state"
    initial_deal_size: Distribution | None = None

    @field_validator("installed_base", mode="before")
    @classmethod
    def _base(cls, v: Any) -> Any:
        if v == "steady_state":
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError("'steady_state' or a whole number of customers")
        if v < 0:
            raise ValueError("at least 0 customers")
        if v > MAX_INSTALLED_BASE:
            raise ValueError(f"at most {MAX_INSTALLED_BASE:,}: each day-0 customer is drawn and paid day by day")
        return v

    @field_validator("initial_deal_size")
    @classmethod
    def _size(cls, v: Any) -> Any:
        return v if v is None else money_distribution(v, "deal size")

    @model_validator(mode="after")
    def _base_needs_size(self) -> "Customers":
        problems = []
        counted = not isinstance(self.installed_base, str)
        if counted and self.installed_base and self.initial_deal_size is None:
            problems.append((
                "initial_deal_size",
                "needed when installed_base is a number above 0 (their annual contract value)",
            ))
        if counted and self.installed_base and self.revenue_model != "recurring":
            problems.append((
                "installed_base",
                f"only applies to revenue_model 'recurring' (here {self.revenue_model!r}): use 0",
            ))
        if (self.installed_base == "steady_state" and self.revenue_model == "recurring"
                and self.monthly_churn < MIN_STEADY_STATE_CHURN):
            problems.append((
                "installed_base",
                f"a steady state needs customers to leave: with monthly_churn {self.monthly_churn:g} (below "
                f"{MIN_STEADY_STATE_CHURN:g}) a customer stays over 80 years and the base has no size to settle "
                "at; give the number of customers",
            ))
        if problems:
            raise KeyRuleError(*problems)
        return self


class ClosedLoop(Section):
    """Marketing learning from sales outcomes at a meeting cadence (off: nothing is learned)."""

    enabled: bool
    meeting_every_days: Annotated[Positive, limit(low=1, why="meetings also start marketing's planning periods, "
                                                   "each booking every channel's leads; no team meets more than daily")]
    min_outcomes: Annotated[int, Field(ge=0)]
    noise_reduction_per_meeting: Probability
    noise_floor: NonNegative
    budget_shift_strength: Annotated[NonNegative, limit(high=100, why="at 100 a channel 5% more efficient than the "
                                                         "mix already gets 130 times its weight at one meeting")]
    min_budget_weight: Annotated[float, Field(gt=0, le=1)]  # 1 = the planned budget
    # A channel given more than 4x its planned budget in one planning period is a different
    # marketing plan, not learning; the bound also fixes the rate at which possible inquiries
    # are drawn, so every lead keeps its identity whatever the budget does.
    max_budget_weight: Annotated[float, Field(ge=1), limit(high=MAX_BUDGET_WEIGHT, why="possible inquiries are drawn "
                                                            "at the top weight and thinned, so every lead keeps its identity")]


class Scenario(Section):
    """A whole funnel: every section above, fully resolved (no ``extends`` left)."""

    name: str = Field(min_length=1)
    description: str = ""
    # The seeds' maturity level this company stands for, if any: the evidence check holds a
    # company at a level to the published ranges shifted by what alignment is known to do.
    maturity: Literal["fully aligned", "somewhat aligned", "somewhat misaligned", "fully misaligned"] | None = None
    # A what-if variant of the company it extends, in words (e.g. "the baseline with real-time
    # routing"): the evidence check holds it to the plausibility rules every company must pass,
    # not to the published figures, which describe ordinary companies, not one lever pushed.
    what_if: str | None = None
    simulation: Simulation
    channels: Annotated[dict[str, Channel], Field(min_length=1), limit(high=100, why="each channel has its own "
                                                                        "arrivals, random streams and budget column")]
    seasonality: Seasonality = Seasonality()
    scoring: Scoring
    nurture: Nurture
    handoff: Handoff
    sales_acceptance: SalesAcceptance
    sdr_team: SdrTeam
    follow_up: FollowUp
    qualification: Qualification
    opportunity: Opportunity
    customers: Customers
    closed_loop: ClosedLoop

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        problems = []
        if self.simulation.warmup_days >= self.simulation.horizon_days:
            problems.append((
                "simulation.warmup_days",
                f"must be shorter than simulation.horizon_days ({as_written(self.simulation.horizon_days)})",
            ))
        if sum(c.leads_per_week for c in self.channels.values()) <= 0:
            problems.append(("channels", "at least one channel needs leads_per_week above 0"))
        if problems:
            raise KeyRuleError(*problems)
        return self


# --- scenarios from files and mappings --------------------------------------------------


def scenario_from_dict(data: dict[str, Any], label: str = "<scenario>") -> Scenario:
    """Validate a resolved mapping into a ``Scenario`` or raise ``ParameterError``."""
    return validate_data(Scenario, data, label)


def with_settings(scenario: Scenario, settings: dict[str, Any], name: str | None = None) -> Scenario:
    """A copy of ``scenario`` with each ``key.path: value`` set (values replace, as ``--set`` does)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key, value in settings.items():
        data = set_path(data, key.split("."), value)
    if name is not None:
        data["name"] = name
    return scenario_from_dict(data, data["name"])


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read a scenario file, follow its ``extends`` chain, apply ``--set`` overrides, validate."""
    path = Path(path)
    return load_validated(path, Scenario, overrides, extends=True, defaults={"name": path.stem})

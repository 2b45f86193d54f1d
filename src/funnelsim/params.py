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

Every YAML file we read (scenarios, sweeps, plans, mappings, assessments) goes through
``read_yaml``: only regular files of at most 1 MB, UTF-8 text, safe YAML (no Python tags), no
key written twice in one mapping, at most 50 levels of nesting, aliases that repeat at most
100,000 values in all, and ``extends`` chains of at most 20 files. A file that breaks a rule
is refused with ``FILE: line N: what is wrong``.

The model's one time unit is the day. Fields where people think in hours or minutes say so
in their name (``latency_hours``, ``work_minutes``) and are converted by the properties
ending in ``_days``.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import stat
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from funnelsim.distributions import KINDS, Distribution

__all__ = [
    "Scenario",
    "ParameterError",
    "load_scenario",
    "scenario_from_dict",
    "parse_override",
    "with_settings",
]

HOURS = 1 / 24
MINUTES = 1 / (24 * 60)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Probability = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]

# Upper bounds that keep every lead's random draws indexable (``model.randomness``).
MAX_ATTEMPTS = 20  # contact attempts per pass: more is harassment, not follow-up
MAX_CYCLES = 10  # returns from nurture per lead
MAX_BUDGET_WEIGHT = 4.0
MAX_INSTALLED_BASE = 1_000_000  # customers given by number
MIN_STEADY_STATE_CHURN = 0.001  # a month; below it a steady-state installed base is unbounded in practice  # a channel's budget multiplier under the closed loop
MATURITY_LEVELS = ("fully aligned", "somewhat aligned", "somewhat misaligned", "fully misaligned")


def limit(low: float | None = None, high: float | None = None, *, why: str) -> AfterValidator:
    """A bound on a number (or on the number of items of a list or mapping) beyond the schema's
    own, for sizes the model cannot sensibly simulate; the message says why. (The preflight,
    ``funnelsim.preflight``, sizes a run as a whole.)"""

    def check(value: Any) -> Any:
        size = len(value) if isinstance(value, (dict, list)) else value
        if low is not None and size < low:
            raise ValueError(f"at least {low:,g}: {why}")
        if high is not None and size > high:
            raise ValueError(f"at most {high:,.0f}: {why}")
        return value

    return AfterValidator(check)


MAX_AMOUNT = 1e12  # currency: above any real price, far below where sums over leads overflow
Amount = Annotated[float, Field(ge=0), limit(high=MAX_AMOUNT, why="no real price is that high, and "
                                             "sums over every lead and day must stay finite")]


class ParameterError(Exception):
    """A scenario could not be loaded; ``lines`` holds one ``FILE: key: value: allowed`` each."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


class KeyRuleError(ValueError):
    """Rules that tie several keys of a section together, each reported at the key breaking it.

    ``problems`` holds ``(key, rule)`` pairs, ``key`` a dotted path inside the section. The
    error report shows the key's value as written in the file (``missing`` when absent).
    """

    def __init__(self, *problems: tuple[str, str]):
        super().__init__("; ".join(f"{key}: {rule}" for key, rule in problems))
        self.problems = problems


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _number(value: float) -> str:
    """A number as people write it: 120 rather than 120.0."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _non_negative(dist: Any, field: str) -> Any:
    if dist.lowest_value < 0:
        raise ValueError(f"a {field} cannot be negative: use a distribution with values >= 0")
    return dist


MAX_POINTS = 1000.0  # lead quality and score noise are points on a scale centred near 50
Points = Annotated[NonNegative, limit(high=MAX_POINTS, why="scores are points on a scale centred near 50")]


def _points(dist: Any) -> Any:
    """A lead quality distribution: its mean and spread in points, bounded like ``Points``."""
    try:
        mean, sd = dist.mean, math.sqrt(dist.variance)
    except OverflowError:
        mean = sd = math.inf
    if not (abs(mean) <= MAX_POINTS and sd <= MAX_POINTS):
        raise ValueError(f"its mean must lie within ±{MAX_POINTS:,.0f} and its standard deviation be at most "
                         f"{MAX_POINTS:,.0f}: quality is in points on a scale centred near 50")
    return dist


def _amount(dist: Any, field: str) -> Any:
    """A distribution of money: never negative, and its mean bounded like ``Amount``."""
    _non_negative(dist, field)
    try:
        mean = dist.mean
    except OverflowError:
        mean = math.inf
    if not mean <= MAX_AMOUNT:
        raise ValueError(f"its mean must be at most {MAX_AMOUNT:,.0f}: no real {field} is that high, and sums "
                         "over every deal must stay finite")
    return dist


# --- the decay of lead response ------------------------------------------------------------


class ResponseDecay(_Section):
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


# --- sections of a scenario ----------------------------------------------------------------


class Simulation(_Section):
    """How long to simulate and how much of the start to leave out of the KPIs."""

    horizon_days: Annotated[Positive, limit(high=3653, why="ten years: the model holds teams, prices and "
                                                  "budgets fixed, and every day is simulated")]
    warmup_days: NonNegative = 0.0
    start_month: Annotated[int, Field(ge=1, le=12)] = 1


class Channel(_Section):
    """One source of leads: its volume, cost, lead quality and deal size."""

    leads_per_week: Annotated[NonNegative, limit(high=1e6, why="every lead is simulated one by one; no B2B "
                                                  "channel brings a million leads a week")]
    cost_per_lead: Amount
    quality: Distribution
    deal_size: Distribution

    @field_validator("deal_size")
    @classmethod
    def _deal_size_positive(cls, v: Any) -> Any:
        return _amount(v, "deal size")

    @field_validator("quality")
    @classmethod
    def _quality_in_points(cls, v: Any) -> Any:
        return _points(v)


class Seasonality(_Section):
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


class Scoring(_Section):
    """Marketing's lead score: the lead's true quality plus noise; MQL at the threshold."""

    noise_sd: Points
    mql_threshold: float


class Nurture(_Section):
    """Leads not ready for sales may re-engage later as the same lead."""

    reengage_probability: Probability
    reengage_delay_days: Distribution
    max_cycles: Annotated[int, Field(ge=0), limit(high=MAX_CYCLES, why="every returning lead holds random numbers "
                                                   "for each possible cycle")]

    @field_validator("reengage_delay_days")
    @classmethod
    def _delay(cls, v: Any) -> Any:
        return _non_negative(v, "delay")


class Handoff(_Section):
    """How MQLs reach sales: continuously after a latency, or in batches at a fixed hour."""

    mode: Literal["continuous", "batch"]
    latency_hours: Distribution | None = None
    batch_every_days: Positive | None = None
    batch_at_hour: Annotated[float, Field(ge=0, lt=24)] | None = None
    sla_first_touch_hours: Positive

    @field_validator("latency_hours")
    @classmethod
    def _latency(cls, v: Any) -> Any:
        return v if v is None else _non_negative(v, "latency")

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


class SalesAcceptance(_Section):
    """Sales' own bar on marketing's score: above marketing's threshold means a definition gap."""

    threshold: float


class BusinessHours(_Section):
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
            problems.append(("close_hour", f"must be after open_hour ({_number(self.open_hour)})"))
        twice = sorted({d for d in self.working_days if self.working_days.count(d) > 1}, key=WEEKDAYS.index)
        if twice:
            problems.append(("working_days", f"lists {', '.join(twice)} twice"))
        if problems:
            raise KeyRuleError(*problems)
        return self

    @property
    def weekday_numbers(self) -> list[int]:
        return sorted(WEEKDAYS.index(d) for d in self.working_days)


class SdrTeam(_Section):
    """The sales development reps who make first contact."""

    reps: Annotated[Count, limit(high=10_000, why="each rep is simulated, and in office hours every rep goes "
                                   "home and comes back each day")]
    cost_per_rep_month: Amount = 0.0
    business_hours: BusinessHours | None = None


class FollowUp(_Section):
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
        return v if v is None else _non_negative(v, "duration")

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


class Qualification(_Section):
    """The chance a contacted lead is sales-qualified, rising with its quality."""

    probability_at_quality_50: Probability
    quality_odds_ratio_per_10_points: Positive


class Stage(_Section):
    """One opportunity stage: how long it takes and the chance of passing it."""

    duration_days: Distribution
    pass_probability: Probability

    @field_validator("duration_days")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return _non_negative(v, "duration")


class Stages(_Section):
    """The opportunity stages, in order."""

    value_demonstration: Stage
    objection_handling: Stage
    negotiation_close: Stage

    def in_order(self) -> list[tuple[str, Stage]]:
        return [(name, getattr(self, name)) for name in STAGE_NAMES]


STAGE_NAMES = ("value_demonstration", "objection_handling", "negotiation_close")


class AeTeam(_Section):
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
        return v if v is None else _non_negative(v, "patience")


class Opportunity(_Section):
    """Deals in the sales process; two alignment levers act on every stage's odds."""

    ae_team: AeTeam
    stages: Stages
    quality_odds_ratio_per_10_points: Positive
    message_consistency: Probability
    message_consistency_odds_ratio: Positive
    content_coverage: Probability
    content_coverage_odds_ratio: Positive


class Customers(_Section):
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
        return v if v is None else _amount(v, "deal size")

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


class ClosedLoop(_Section):
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


class Scenario(_Section):
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
                f"must be shorter than simulation.horizon_days ({_number(self.simulation.horizon_days)})",
            ))
        if sum(c.leads_per_week for c in self.channels.values()) <= 0:
            problems.append(("channels", "at least one channel needs leads_per_week above 0"))
        if problems:
            raise KeyRuleError(*problems)
        return self


# --- loading -------------------------------------------------------------------------------

# Limits on the YAML files we read (scenarios, sweeps, plans, mappings, assessments). Such files
# are a few kilobytes; the safe YAML parser is pure Python (about 7 s per MB), so 1 MB leaves
# ample room while bounding the time a file can take.
MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 50  # nesting levels (a scenario uses about 6)
MAX_ALIAS_VALUES = 100_000  # values that aliases (*name) may repeat in one file, in all
MAX_EXTENDS = 20  # files in one extends chain
MAX_ERROR_LINES = 50  # problems listed for one file (a list of a million bad values is one mistake)


class _YamlRefused(yaml.MarkedYAMLError):
    """YAML refused at a line: a duplicate key, deep nesting, an alias bomb, a value that cannot
    be read (a date 2025-13-45, a number of 5,000 digits)."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem=problem, problem_mark=mark)


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML that also reads ``1e-3`` as a number (plain YAML 1.1 needs ``1.0e-3``), refuses
    a key written twice in one mapping, and bounds nesting and what aliases may repeat (a few
    nested aliases can stand for billions of values)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._repeated = 0
        self._sizes: dict[int, int] = {}
        self._open: list[str | None] = []  # anchors of the values being read, outermost first

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self._open:
                raise _YamlRefused(f"alias *{event.anchor} is inside the value it names", event.start_mark)
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                self._repeated += self._size(anchored)
                if self._repeated > MAX_ALIAS_VALUES:
                    raise _YamlRefused(
                        f"aliases (*{event.anchor} and others) repeat more than {MAX_ALIAS_VALUES:,} values; "
                        "write the values out", event.start_mark)
            return super().compose_node(parent, index)
        event = self.peek_event()
        if len(self._open) >= MAX_YAML_DEPTH:
            raise _YamlRefused(f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
        self._open.append(getattr(event, "anchor", None))
        try:
            return super().compose_node(parent, index)
        finally:
            self._open.pop()

    def _size(self, node: yaml.Node) -> int:
        """How many values ``node`` stands for, aliases inside it expanded (counted once per node)."""
        known = self._sizes.get(id(node))
        if known is None:
            if isinstance(node, yaml.SequenceNode):
                known = 1 + sum(self._size(item) for item in node.value)
            elif isinstance(node, yaml.MappingNode):
                known = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
            else:
                known = 1
            self._sizes[id(node)] = known
        return known

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            shown = _describe(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
            raise _YamlRefused(f"cannot read {shown}: {str(exc).split(';')[0][:100]}", node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' may be overridden by the mapping's own keys
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if first is not key_node.start_mark:
                raise _YamlRefused(f"key {_describe(key)} appears twice (first on line {first.line + 1}); keep one",
                                 key_node.start_mark)
        return super().construct_mapping(node, deep)


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass


def _size_text(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def _check_regular(info: os.stat_result, label: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise ParameterError([f"{label}: a folder, not a file"])
    if not stat.S_ISREG(info.st_mode):
        raise ParameterError([f"{label}: not a regular file (a pipe, device or socket); give a file saved on disk"])


def read_bytes(path: Path, label: str, max_bytes: int, what: str) -> bytes:
    """The contents of a regular file of at most ``max_bytes`` bytes, or a ``ParameterError``.

    Only regular files are read: a pipe would block and a device such as /dev/zero never ends.
    The type is checked before opening, and again on the open handle (opened without blocking)
    in case the file was swapped in between. ``what`` says in the message which files the
    limit is for and why.
    """
    try:
        info = os.stat(path)
        _check_regular(info, label)
        if info.st_size > max_bytes:
            raise ParameterError([f"{label}: {_size_text(info.st_size)}, above the {_size_text(max_bytes)} limit for {what}"])
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(handle, "rb") as file:
            _check_regular(os.fstat(file.fileno()), label)
            data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise ParameterError([f"{label}: file not found"]) from None
    except OSError as exc:
        raise ParameterError([f"{label}: cannot read: {exc.strerror}"]) from None
    if len(data) > max_bytes:  # grew since it was checked
        raise ParameterError([f"{label}: above the {_size_text(max_bytes)} limit for {what}"])
    return data


def decode_text(data: bytes, label: str) -> str:
    """UTF-8 text (a leading byte order mark is dropped), or a ``ParameterError`` that says
    where the first byte that is not UTF-8 is."""
    data = data.removeprefix(codecs.BOM_UTF8)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        bad, kind = 0, "it starts with a UTF-16 byte order mark"
    elif b"\x00" in data:
        bad, kind = data.index(b"\x00"), "UTF-16 or binary data"
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad, kind = exc.start, "Latin-1 or Windows-1252 text, perhaps"
    raise ParameterError([
        f"{label}: not UTF-8 text (byte 0x{data[bad]:02x} at offset {bad}: {kind}); save it as UTF-8"
    ])


def read_yaml(path: Path, label: str) -> dict[str, Any]:
    """A YAML file that holds a mapping (scenario, sweep, plan, mapping or assessment file),
    read within the limits above; any problem is a ``ParameterError`` naming the file."""
    what = "YAML files (scenarios, sweeps, plans, mappings and assessments are a few kilobytes)"
    text = decode_text(read_bytes(path, label, MAX_YAML_BYTES, what), label)
    try:
        data = _parse_yaml(text)
    except _YamlRefused as exc:
        raise ParameterError([f"{label}: line {exc.problem_mark.line + 1}: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f"line {where.line + 1}, column {where.column + 1}: " if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParameterError([f"{label}: {at}malformed YAML: {problem}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParameterError([f"{label}: the file must hold a mapping of keys, not {type(data).__name__}"])
    return data


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into ``base``; a mapping naming a ``dist`` replaces wholesale."""
    merged = dict(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and "dist" not in value:
            merged[key] = _merge(old, value)
        else:
            merged[key] = value
    return merged


def resolve_file(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    label = str(path)
    if path.resolve() in chain:
        raise ParameterError([f"{label}: extends: circular chain of files"])
    if len(chain) >= MAX_EXTENDS:
        raise ParameterError([f"{label}: extends: a chain of more than {MAX_EXTENDS} files (from {chain[0]}); "
                              f"allowed: at most {MAX_EXTENDS}"])
    data = read_yaml(path, label)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ParameterError([f"{label}: extends: {parent!r}: a path to another scenario file"])
    parent_path = (path.parent / parent).resolve()
    if not parent_path.is_file():
        raise ParameterError([f"{label}: extends: {parent!r}: no such file ({parent_path})"])
    inherited = resolve_file(parent_path, chain + (path.resolve(),))
    for own in ("name", "description"):  # a scenario's identity is never inherited
        inherited.pop(own, None)
    return _merge(inherited, data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into a key path and a YAML-parsed value."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ParameterError([f"--set {_clip(text)}: expected key.path=value"])
    if key.count(".") >= MAX_YAML_DEPTH:
        raise ParameterError([f"--set {_clip(text)}: a key path of more than {MAX_YAML_DEPTH} parts"])
    try:
        value = _parse_yaml(raw) if raw.strip() else None
    except _YamlRefused as exc:
        raise ParameterError([f"--set {_clip(text)}: {exc.problem}"]) from None
    except yaml.YAMLError:
        raise ParameterError([f"--set {_clip(text)}: the value is not valid YAML"]) from None
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set each ``key.path=value``: the value replaces what was there (no merging)."""
    for text in overrides:
        path, value = parse_override(text)
        data = set_path(data, path, value)
    return data


def set_path(data: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of ``data`` with ``value`` at ``path`` (a list item by its position: ``knots.1``)."""
    out = dict(data)
    head, rest = path[0], path[1:]
    if not rest:
        out[head] = value
        return out
    inner = out.get(head)
    if isinstance(inner, list) and rest[0].isdigit() and int(rest[0]) < len(inner):
        items = list(inner)
        index = int(rest[0])
        items[index] = value if len(rest) == 1 else set_path(items[index], rest[1:], value)
        out[head] = items
    else:
        out[head] = set_path(inner if isinstance(inner, dict) else {}, rest, value)
    return out


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """The text of ``value`` as in Python, piece by piece, so a caller can stop early."""
    if depth > 10:
        yield "..."
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ", " if i else ""
            yield from _pieces(key, depth + 1)
            yield ": "
            yield from _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, (list, tuple, set)):
        yield "["
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _pieces(item, depth + 1)
        yield "]"
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        yield f"a number of {int(value.bit_length() * math.log10(2)) + 1} digits"
    elif isinstance(value, str):
        yield repr(value[:61])
    else:
        yield str(value)[:61]


def _describe(value: Any) -> str:
    """A value as the error messages show it, at most 60 characters. Only as much of the value
    is looked at as is shown, so a huge or self-referencing value (an alias bomb) costs nothing."""
    text = ""
    for piece in _pieces(value):
        text += piece
        if len(text) > 60:
            break
    return _clip(text)


def _unwrap(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


_DISTRIBUTION = _unwrap(Distribution)


def _walk(model: type[BaseModel], loc: tuple[Any, ...] | list[Any]) -> tuple[tuple[Any, ...], Any]:
    """Follow a pydantic error location through the schema.

    Returns the key path as written in the file and the type found there (None where the path
    leads nowhere). Inside a distribution pydantic adds the chosen ``dist`` name as an extra
    location part (``quality.normal.sd``); it is dropped here, and only there, so a channel
    called ``normal`` keeps its name.
    """
    keys: list[Any] = []
    current: Any = model
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        current = _unwrap(current)
        if current == _DISTRIBUTION:
            current = KINDS.get(str(part))  # the union's tag, not a key in the file
            continue
        keys.append(part)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field is not None else None
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        else:
            current = None
    return tuple(keys), _unwrap(current)


def schema_at(model: type[BaseModel], path: tuple[Any, ...] | list[str]) -> Any:
    """The type a schema expects at a key path (None where the path leads nowhere)."""
    return _walk(model, path)[1]


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys the section (or distribution) at a pydantic error location accepts."""
    section = _walk(model, loc)[1]
    if isinstance(section, type) and issubclass(section, BaseModel):
        return [f.alias or name for name, f in section.model_fields.items()]
    return None


_ABSENT = object()


def _value_at(data: Any, key: str) -> Any:
    """The value at a dotted key path of the input as written (``_ABSENT`` if it is not there)."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return _ABSENT
        data = data[part]
    return data


def format_errors(label: str, exc: ValidationError, schema: type[BaseModel] | None = None) -> list[str]:
    """One ``FILE: key.path: value: what is allowed`` line per validation error."""
    schema = schema or Scenario
    tags = ", ".join(sorted(KINDS))
    lines = []
    errors = exc.errors(include_url=False)
    for err in errors[:MAX_ERROR_LINES]:
        loc, _ = _walk(schema, err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        problem = err.get("ctx", {}).get("error")
        if isinstance(problem, KeyRuleError):
            for inner, rule in problem.problems:
                value = _value_at(err["input"], inner)
                where = ".".join([*map(str, loc), inner])
                shown = "missing" if value is _ABSENT or value is None else _describe(value)
                lines.append(f"{label}: {where}: {shown}: {rule}")
        elif kind == "extra_forbidden":
            allowed = _allowed_keys(schema, err["loc"][:-1])
            what = f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
            lines.append(f"{label}: {key}: {what}")
        elif kind == "missing":
            lines.append(f"{label}: {key}: missing: this key is required")
        elif kind == "union_tag_invalid":
            lines.append(
                f"{label}: {key}.dist: {_describe(err['input'].get('dist'))}: allowed distributions: {tags}"
            )
        elif kind == "union_tag_not_found":
            lines.append(
                f"{label}: {key}: {_describe(err['input'])}: a distribution needs a 'dist' key, one of {tags}"
            )
        elif kind == "finite_number":
            lines.append(f"{label}: {key}: {_describe(err['input'])}: must be a finite number (not .nan or .inf)")
        else:
            lines.append(f"{label}: {key}: {_describe(err['input'])}: {msg[0].lower() + msg[1:]}")
    if len(errors) > MAX_ERROR_LINES:
        lines.append(f"{label}: ... and {len(errors) - MAX_ERROR_LINES:,} more problems")
    return lines


def scenario_from_dict(data: dict[str, Any], label: str = "<scenario>") -> Scenario:
    """Validate a resolved mapping into a ``Scenario`` or raise ``ParameterError``."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ParameterError(format_errors(label, exc)) from None


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
    data = resolve_file(path)
    data = apply_overrides(data, list(overrides))
    data.setdefault("name", path.stem)
    label = str(path) + (" (with --set " + ", ".join(overrides) + ")" if overrides else "")
    return scenario_from_dict(data, label)

"""The stage table: the funnel's stages and the deal's stages, defined once.

The KPIs, the daily table, the funnel charts, calibration, the CRM export and the tests all
walk the same stages in the same order; they take them from here.

* ``FUNNEL_STAGES``: from inquiry to a won deal, each with the count column it gives in the
  daily table (and, for the headline stages, in the replications table), a label, and the
  leads table's column stamped the first time a lead reaches it.
* ``DEAL_STAGES``: the opportunity stages an account executive works through, each with its
  key under ``opportunity.stages`` in a scenario and the leads column stamped when a deal
  enters it. (The scenario schema declares one field per stage; a test keeps the two in step.)
* ``TIMELINE``: every timestamp of a lead's story, in the order they can happen.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEAL_STAGES",
    "DEAL_STAGE_NAMES",
    "FUNNEL_STAGES",
    "HEADLINE_STAGES",
    "TIMELINE",
    "DealStage",
    "FunnelStage",
]


@dataclass(frozen=True)
class FunnelStage:
    """One stage of the funnel."""

    count: str  # count column of the daily table (and of the replications table if ``headline``)
    label: str  # plural noun for charts and tables
    reached_at: str  # leads column: the first time a lead reached the stage
    status: str | None = None  # counted only for leads that ended with this status
    headline: bool = True  # a KPI of the replications table and a bar of the funnel chart
    short: str = ""  # a shorter label where space is tight (the label if empty)

    @property
    def short_label(self) -> str:
        return self.short or self.label


FUNNEL_STAGES: tuple[FunnelStage, ...] = (
    FunnelStage("leads", "Leads", "created_at"),
    FunnelStage("mqls", "MQLs", "mql_at"),
    FunnelStage("sals", "SALs", "sal_at"),
    FunnelStage("first_touches", "Touched", "first_touch_at", headline=False),
    FunnelStage("sqls", "SQLs", "sql_at"),
    FunnelStage("opportunities", "Opportunities", "opportunity_at", short="Opps"),
    FunnelStage("wins", "Wins", "closed_at", status="won"),
)
HEADLINE_STAGES: tuple[FunnelStage, ...] = tuple(s for s in FUNNEL_STAGES if s.headline)


@dataclass(frozen=True)
class DealStage:
    """One opportunity stage."""

    name: str  # key under ``opportunity.stages`` in a scenario
    entered_at: str  # leads column: when the deal entered the stage
    label: str


DEAL_STAGES: tuple[DealStage, ...] = (
    DealStage("value_demonstration", "opportunity_at", "value demonstration"),
    DealStage("objection_handling", "objection_handling_at", "objection handling"),
    DealStage("negotiation_close", "negotiation_at", "negotiation and close"),
)
DEAL_STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in DEAL_STAGES)

# Every timestamp of a lead's story in the order they can happen (an SQL either lapses while it
# waits for an account executive or becomes an opportunity).
TIMELINE: tuple[str, ...] = (
    "created_at",
    "mql_at",
    "handed_off_at",
    "sal_at",
    "first_touch_at",
    "contacted_at",
    "sql_at",
    "lapsed_at",
    *(s.entered_at for s in DEAL_STAGES),
    "closed_at",
    "churned_at",
)

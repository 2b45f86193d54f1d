"""The lever registry: every lever and every uncertain parameter of the model, in one table.

A *lever* is something a company decides (how fast MQLs reach sales, how many SDRs it has,
whether marketing sees sales' outcomes); an *uncertain parameter* describes the world it sells
into (how long an inquirer stays at the desk, how much one message moves a deal's odds) and is
fitted to the published figures (``funnelsim ensemble``). Each entry says, in one place:

* its key path in a scenario file and a name a marketer understands, with its unit and how a
  value is shown (``lever_values.format_value``: "8 h", "3 min", "95%", "on");
* the scale its effect is modelled on (``linear``, ``log`` for a latency, ``switch``);
* for the eleven signs of alignment, the assessment question it belongs to and its value at the
  two ends of the spread of real firms: the least aligned ("no") and the most aligned ("yes"),
  with why (a maturity level moves only part of the way there: ``lever_values.reached``);
* the classroom slider that moves it (range, step, the notebook parameter), if any;
* whether a CRM export informs it (``funnelsim calibrate``: what the estimate needs) or not;
* for an uncertain parameter, the range it may take before the evidence is seen and why, and
  its group: what it says about the world in words ("how fast interest cools"), the parameters
  a company would measure together (``funnelsim uncertainty`` says what each group is worth);
* what moving it does in the model, as ``tests/test_levers.py`` checks it.

The assessment's questions, the claims path, the classroom sliders, plan validation,
calibration's "not in the data" list, the evidence ensemble's parameters and the lever tests
are all built from this table, and ``tests/test_registry.py`` fails when a scenario key used
anywhere is missing from it. The module imports nothing from funnelsim but what an entry is
made of (``lever_kinds``): it is configuration.
"""

from __future__ import annotations

import difflib

from funnelsim.config.lever_kinds import Effect, Entry, Format, FromExport, Prior, Question, Scale, Slider

__all__ = [
    "Scale",
    "Format",
    "Question",
    "Slider",
    "FromExport",
    "Prior",
    "Effect",
    "Entry",
    "QUESTIONS",
    "GROUPS",
    "REGISTRY",
    "lever",
    "find",
    "levers",
    "alignment_levers",
    "staffing_levers",
    "sliders",
    "uncertain_parameters",
    "questions",
    "export_needs",
    "not_in_the_data",
]

# --- what the uncertain parameters say about the world: the groups a company could measure together
# (``funnelsim uncertainty`` values learning each group before a decision: its EVPPI)

REACHABLE = "how reachable a new inquirer is"
COOLING = "how fast interest cools"
QUALIFYING = "how often a reached lead qualifies"
DEAL_STAGES = "how often deals pass their stages"
DEAL_ODDS = "how quality and alignment move deal odds"
SHOPPING = "how long a lead waits before a competitor"
GROUPS = (REACHABLE, COOLING, QUALIFYING, DEAL_STAGES, DEAL_ODDS, SHOPPING)

# --- the assessment's questions, in the order they are asked ----------------------------------

SHARED_REVENUE_GOAL = Question(
    "shared_revenue_goal",
    "Do marketing and sales work to one shared revenue goal, retention included?",
    "One revenue goal, retention included",
)
MEETING_CADENCE = Question(
    "meeting_cadence",
    "Do the teams meet formally at least every six weeks?",
    "Regular alignment meetings",
)
CLEAR_SQL_DEFINITION = Question(
    "clear_sql_definition",
    "Is there one written definition of a qualified lead that both teams use?",
    "One lead definition",
)
INTEGRATED_SYSTEMS = Question(
    "integrated_systems",
    "Are marketing automation and CRM integrated, so MQLs are routed to sales at once?",
    "Integrated systems, leads routed at once",
)
FEEDBACK_BOTH_WAYS = Question(
    "feedback_both_ways",
    "Is feedback between the teams welcomed and acted on?",
    "Feedback acted on",
)
WHOLE_JOURNEY_VIEW = Question(
    "whole_journey_view",
    "Can each team see the whole customer journey, before and after its own step?",
    "A view of the whole journey",
)
SHARED_CHANNELS = Question(
    "shared_channels",
    "Do the teams share internal channels (chat, dashboards), so sales knows which leads are hot?",
    "Shared channels, hot leads flagged",
)
SLA_WITH_DEADLINE = Question(
    "sla_with_deadline",
    "Is there an SLA that obliges sales to follow up every accepted lead by a deadline?",
    "A follow-up SLA",
)
CLOSED_LOOP_REPORTING = Question(
    "closed_loop_reporting",
    "Does marketing see what sales did with every lead and how it ended (closed-loop reporting)?",
    "Closed-loop reporting",
)
CONSISTENT_MESSAGING = Question(
    "consistent_messaging",
    "Do the website, campaigns and sales decks tell one consistent story?",
    "One message",
)
CONTENT_PER_STAGE = Question(
    "content_per_stage",
    "Does sales have usable marketing content for every stage of a deal?",
    "Content for every deal stage",
)

QUESTIONS: tuple[Question, ...] = (
    SHARED_REVENUE_GOAL, MEETING_CADENCE, CLEAR_SQL_DEFINITION, INTEGRATED_SYSTEMS, FEEDBACK_BOTH_WAYS,
    WHOLE_JOURNEY_VIEW, SHARED_CHANNELS, SLA_WITH_DEADLINE, CLOSED_LOOP_REPORTING, CONSISTENT_MESSAGING,
    CONTENT_PER_STAGE,
)

# What calibration needs for the values it estimates together.
_HANDOFFS = FromExport("mql_at and handed_off_at, with 20 or more handoffs within a week", "handoff.latency_hours")
_COLD_CALLS = "first_touch_at and contacted_at, with 50 or more touched leads"
_FIRST_DIALS = "first_touch_at and contacted_at, with 30 or more first dials within 10 minutes of the inquiry"
_QUALIFIED = "contacted_at and sql_at, with 50 or more leads reached at the first attempt"
_STAGE_OUTCOMES = FromExport("the deal stage timestamps, closed_at and outcome, with 10 or more deals through the stage")
_NEXT_DAY = "a day after the inquiry"
_BATCH_WEEKLY = ("handoff.batch_every_days=7", "handoff.batch_at_hour=17")
_FAST_ROUTING = ("handoff.latency_hours={dist: lognormal, median: 0.1, sigma: 0.5}",)
_OFFICE_HOURS = {"open_hour": 8, "close_hour": 19, "working_days": ["mon", "tue", "wed", "thu", "fri"]}

# The order is the one the claims check, the alignment-box sweep and the classroom sliders show
# the levers in (speed and people first); the uncertain parameters follow the funnel.
REGISTRY: tuple[Entry, ...] = (
    # --- levers: handoff -----------------------------------------------------------------------
    Entry(
        "handoff.mode", "MQL handoff to sales", "mode", "choice",
        "no: separate systems, MQLs exported to sales once a day (the baseline's batch cadence; a weekly export "
        "leaves a company that cannot earn back its leads, `funnelsim check`); yes: integrated, routed at once "
        "(shared/domain.md: slow or batched handoffs); on from \"partly\"",
        scale="switch", on="continuous", choices=(("continuous", "routed at once"), ("batch", "batch export")),
        question=INTEGRATED_SYSTEMS, no="batch", yes="continuous", export=_HANDOFFS,
        effects=(
            Effect("more leads reached", "contacts", 1, "batch", "continuous", _BATCH_WEEKLY, _FAST_ROUTING),
            Effect("first touch inside the shopping window, more SQLs", "sqls", 1, "batch", "continuous",
                   ("handoff.batch_every_days=3",), _FAST_ROUTING),
        ),
    ),
    Entry(
        "handoff.latency_hours.median", "Handoff latency (median)", "hours", "hours",
        "no: a working day; yes: routed within minutes; \"partly\" (routed, with manual checks) is the geometric "
        "middle, about 40 minutes, as latencies span decades; baseline: routing plus list checks, 45 minutes",
        scale="log", question=INTEGRATED_SYSTEMS, no=8.0, yes=0.05, export=_HANDOFFS,
        slider=Slider("Handoff latency, median hours", 0.05, 48.0, 0.1, "handoff_latency_hours"),
    ),
    Entry(
        "handoff.latency_hours.sigma", "Spread of the handoff latency", "lognormal sigma", "number",
        "the long tail of handoffs that wait for hours (baseline 1.2; real-time routing 0.8)",
        export=_HANDOFFS,
    ),
    Entry(
        "handoff.batch_every_days", "Days between batch exports of MQLs", "days", "days",
        "a company without integrated systems exports MQLs to sales in batches (daily in the baseline's batch "
        "mode; HBR's slowest firms answered after days)",
    ),
    Entry(
        "handoff.batch_at_hour", "Hour of the batch export", "hour of the day", "clock",
        "the hour the batch export reaches sales (the daily-export what-if: 9:00 the next morning)",
    ),
    Entry(
        "handoff.sla_first_touch_hours", "SLA deadline for the first touch", "hours", "hours",
        "the deadline the SLA sets for the first touch, counted from the MQL moment (baseline: a day)",
    ),
    # --- levers: follow-up ---------------------------------------------------------------------
    Entry(
        "follow_up.follow_up_rate", "Share of accepted leads sales works", "share of accepted leads", "percent",
        "yes: an SLA obliges sales to follow up every accepted lead; no: half of them are left alone",
        question=SLA_WITH_DEADLINE, no=0.55, yes=0.95,
        slider=Slider("Share of accepted leads sales works", 0.3, 1.0, 0.05, "follow_up_rate"),
        export=FromExport("mql_at, handed_off_at, sal_at and first_touch_at"),
        effects=(Effect("more SQLs", "sqls", 1, 0.5, 0.95),),
    ),
    Entry(
        "follow_up.max_attempts", "Call attempts per lead (at most)", "attempts", "count",
        "MIT/InsideSales 2007: reps should make at least 6 attempts; without an SLA two",
        question=SLA_WITH_DEADLINE, no=2, yes=6,
        effects=(Effect("more leads reached", "contacts", 1, 1, 6),),
    ),
    Entry(
        "follow_up.priority_routing", "Hot leads called first", "on/off", "switch",
        "shared channels tell sales which leads are hot: the best-scored lead in the queue is called first",
        scale="switch", on=True, question=SHARED_CHANNELS, no=False, yes=True,
    ),
    Entry(
        "follow_up.attempt_spacing_hours.median", "Time between call attempts (median)", "hours", "hours",
        "the baseline's reps call again about a day later",
    ),
    Entry(
        "follow_up.work_minutes.mean", "Minutes of work per attempt (mean)", "minutes", "minutes",
        "a call, a voicemail, an email and the CRM notes (baseline: 25 minutes)",
    ),
    # --- levers: people ------------------------------------------------------------------------
    Entry(
        "sdr_team.reps", "SDRs", "reps", "count",
        "sized for the company's lead flow (funnelsim.experiments.staffing: SDRs on the phone half of their office hours)",
        staffed=True, slider=Slider("SDRs", 1, 12, 1, "sdrs"),
        effects=(Effect("faster first touch under load", "median_speed_to_lead_hours", -1, 1, 6),),
    ),
    Entry(
        "sdr_team.business_hours", "SDR working hours", "opening hours", "schedule",
        "office hours on working days; real-time routing pairs with longer hours (7:00-21:00)",
        scale="switch", on=None,
        effects=(Effect("reps around the clock, faster first touch", "median_speed_to_lead_hours", -1, _OFFICE_HOURS, None),),
    ),
    # --- levers: the lead definition and the score ---------------------------------------------
    Entry(
        "sales_acceptance.threshold", "Sales' lead bar", "score points", "points",
        "yes: sales' bar at marketing's MQL bar (60), rejecting only bad records; no: a bar of its own far above "
        "it, as with two definitions of a qualified lead (2nd-hand: MQL->SAL 40-60%)",
        question=CLEAR_SQL_DEFINITION, no=70.0, yes=60.5,
        slider=Slider("Sales' lead bar (60 = marketing's MQL bar)", 60, 75, 0.5, "sales_lead_bar"),
        export=FromExport("mql_at, handed_off_at and sal_at, with inquiries over more than a week"),
        effects=(Effect("more accepted leads", "sals", 1, 70, 60.5),),
    ),
    Entry(
        "opportunity.ae_team.reps", "Account executives", "reps", "count",
        "sized for the company's lead flow (funnelsim.experiments.staffing: AE deal slots three-quarters full)",
        staffed=True, slider=Slider("Account executives", 2, 30, 1, "account_executives"),
        effects=(
            Effect("more deals worked when deals queue", "opportunities", 1, 1, 6,
                   ("opportunity.ae_team.deals_per_rep=10",), ("opportunity.ae_team.deals_per_rep=20",)),
            Effect("fewer SQLs buy elsewhere waiting for an AE", "share_sqls_lapsed", -1, 4, 20),
        ),
    ),
    Entry(
        "opportunity.ae_team.deals_per_rep", "Open deals per account executive", "deals", "count",
        "how many deals an account executive carries at once (baseline: 20)",
    ),
    Entry(
        "scoring.noise_sd", "Noise of marketing's lead score", "score points", "points",
        "a view of the whole journey sharpens marketing's score (closed-loop reporting reduces it further)",
        question=WHOLE_JOURNEY_VIEW, no=20.0, yes=10.0,
        slider=Slider("Noise of the lead score, points", 5.0, 25.0, 1.0, "score_noise"),
        effects=(Effect("more precise MQLs", "mql_precision", 1, 25, 5),),
    ),
    Entry(
        "scoring.mql_threshold", "Marketing's MQL bar", "score points", "points",
        "the score at which a lead becomes an MQL (2nd-hand: inquiry->MQL 10-25%)",
        export=FromExport("mql_at, with inquiries over more than a week"),
    ),
    # --- levers: closed loop -------------------------------------------------------------------
    Entry(
        "closed_loop.enabled", "Closed-loop reporting", "on/off", "switch",
        "seeds: closed-loop data and a formal meeting at least every 6 weeks; marketing learns which leads and "
        "channels convert; on from \"partly\"",
        scale="switch", on=True, question=CLOSED_LOOP_REPORTING, no=False, yes=True,
        slider=Slider("Closed-loop reporting", 0, 1, 1, "closed_loop"),
        effects=(Effect("more precise MQLs over time", "mql_precision", 1, False, True, (),
                        ("closed_loop.meeting_every_days=21",)),),
    ),
    Entry(
        "closed_loop.meeting_every_days", "Days between alignment meetings", "days", "days",
        "seeds: aligned teams meet formally at least every six weeks (yes: monthly; no: every four months); "
        "each meeting also starts marketing's planning period",
        question=MEETING_CADENCE, no=120, yes=30,
    ),
    Entry(
        "closed_loop.noise_reduction_per_meeting", "Score noise removed per meeting", "share of the noise", "percent",
        "feedback welcomed and acted on: each meeting takes this share of the noise out of marketing's score",
        question=FEEDBACK_BOTH_WAYS, no=0.0, yes=0.15, needs="closed_loop.enabled",
    ),
    Entry(
        "closed_loop.budget_shift_strength", "How strongly budget follows SQLs per spend", "strength (0 = never moves)",
        "number",
        "closed-loop data shows marketing which channels bring SQLs, and budget follows: 0 = it never moves, 1 = in "
        "proportion to each channel's SQLs per unit of spend (yes: 0.5, an assumption with no published figure; a "
        "maturity level's share of it is fitted to the surveys with the other signs, `tools/reach_figures.py`)",
        question=CLOSED_LOOP_REPORTING, no=0.0, yes=0.5, needs="closed_loop.enabled",
    ),
    # --- levers: the deal ----------------------------------------------------------------------
    Entry(
        "opportunity.message_consistency", "One message, website to sales deck", "share (0 to 1)", "percent",
        "0 = website and sales decks contradict, 1 = one message",
        question=CONSISTENT_MESSAGING, no=0.3, yes=0.95,
        slider=Slider("One message, website to sales deck (0-1)", 0.0, 1.0, 0.05, "message_consistency"),
        effects=(Effect("higher win rate", "win_rate", 1, 0.1, 1.0),),
    ),
    Entry(
        "opportunity.content_coverage", "Deal stages with sales content", "share of stages", "percent",
        "seeds: 60-70% of marketing content goes unused by sales",
        question=CONTENT_PER_STAGE, no=0.15, yes=0.85,
        slider=Slider("Deal stages with sales content (0-1)", 0.0, 1.0, 0.05, "content_coverage"),
        effects=(Effect("higher win rate", "win_rate", 1, 0.1, 1.0),),
    ),
    # --- levers: retention ---------------------------------------------------------------------
    Entry(
        "customers.monthly_churn", "Customers lost per month", "share a month", "percent",
        "MathMarketing: aligned firms lose 36% fewer customers (yes: 0.0125 = 0.64 x 0.0195); the survey's own "
        "groups, so a maturity level takes them as they are",
        question=SHARED_REVENUE_GOAL, no=0.0195, yes=0.0125, surveyed=True,
        slider=Slider("Customers lost per month", 0.0025, 0.05, 0.0025, "monthly_churn"),
        export=FromExport("outcome, closed_at and churned_at, with 20 or more won deals"),
        effects=(Effect("more revenue", "revenue", 1, 0.06, 0.005),),
    ),
    # --- uncertain parameters: reaching a lead -------------------------------------------------
    Entry(
        "follow_up.presence_minutes.median", "Time a new inquirer stays at the desk (median)", "minutes", "minutes",
        "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_FIRST_DIALS, "follow_up.presence_minutes"),
        prior=Prior(3, 30, "how long a new web inquirer stays at the desk, reachable at once: minutes "
                    "(MIT/InsideSales: contact odds fall within half an hour)", "log", group=REACHABLE),
    ),
    Entry(
        "follow_up.presence_minutes.sigma", "Spread of the time at the desk", "lognormal sigma", "number",
        "fitted to the published figures (`funnelsim ensemble`)",
        prior=Prior(0.1, 1.0, "how much inquirers differ in how long they stay (lognormal spread)", group=REACHABLE),
    ),
    Entry(
        "follow_up.contact_probability_present", "Calls that reach an inquirer still at the desk", "probability",
        "percent", "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_FIRST_DIALS),
        prior=Prior(0.5, 0.98, "a call while the inquirer is still at the desk: most get through", group=REACHABLE),
    ),
    Entry(
        "follow_up.contact_probability", "Cold calls that reach a fresh lead", "probability", "percent",
        "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_COLD_CALLS),
        prior=Prior(0.08, 0.40, "a cold call to a lead who raised a hand recently (MIT, 2nd-hand: slightly more "
                    "than 10% of all first calls reach the lead)", group=REACHABLE),
    ),
    Entry(
        "follow_up.contact_decay.odds_multiplier.1", "Odds a cold call gets through a day after the inquiry",
        "odds multiplier", "ratio", "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_COLD_CALLS, "follow_up.contact_decay"),
        prior=Prior(0.1, 1.0, "how much harder a cold call gets through a day after the inquiry than at once (the "
                    "lead has moved on or bought elsewhere)", "log", group=REACHABLE),
    ),
    Entry(
        "follow_up.contact_decay.odds_multiplier.2", "Odds a cold call gets through a week after the inquiry",
        "odds multiplier", "ratio", "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_COLD_CALLS, "follow_up.contact_decay"),
        prior=Prior(0.01, 1.0, "how much harder a cold call gets through a week after the inquiry (at most the day's)",
                    "log", at_most="follow_up.contact_decay.odds_multiplier.1", group=REACHABLE),
    ),
    # --- uncertain parameters: qualifying a lead -----------------------------------------------
    Entry(
        "qualification.probability_at_quality_50", "Average leads reached at once that qualify", "probability",
        "percent", "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_QUALIFIED),
        prior=Prior(0.6, 0.97, "an average-fit lead that sales accepted and reached at once qualifies: SALs "
                    "passed both teams' bars", group=QUALIFYING),
    ),
    Entry(
        "follow_up.qualification_decay.odds_multiplier.1", "Odds of qualifying when first reached a day late",
        "odds multiplier", "ratio", "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_QUALIFIED, "follow_up.qualification_decay"),
        prior=Prior(0.2, 1.0, "interest cooled for a day before the first conversation (odds multiplier)", "log", group=COOLING),
    ),
    Entry(
        "follow_up.qualification_decay.odds_multiplier.2", "Odds of qualifying when first reached a week late",
        "odds multiplier", "ratio", "fitted to the published figures (`funnelsim ensemble`)",
        export=FromExport(_QUALIFIED, "follow_up.qualification_decay"),
        prior=Prior(0.05, 1.0, "interest cooled for a week before the first conversation (odds multiplier, at most "
                    "the day's)", "log", at_most="follow_up.qualification_decay.odds_multiplier.1", group=COOLING),
    ),
    Entry(
        "qualification.quality_odds_ratio_per_10_points", "Odds of qualifying per 10 points of lead fit",
        "odds ratio", "ratio", "fitted to the published figures (`funnelsim ensemble`)",
        prior=Prior(1.1, 2.2, "better-fit leads qualify more often", "log", group=QUALIFYING),
    ),
    # --- uncertain parameters: the deal --------------------------------------------------------
    Entry(
        "opportunity.stages.value_demonstration.pass_probability", "Deals that pass the value demonstration",
        "probability", "percent", "fitted to the published figures (`funnelsim ensemble`)",
        export=_STAGE_OUTCOMES,
        prior=Prior(0.5, 0.95, "deals lost at the demonstration, for an average lead with one message and full content", group=DEAL_STAGES),
    ),
    Entry(
        "opportunity.stages.objection_handling.pass_probability", "Deals that pass objection handling",
        "probability", "percent", "fitted to the published figures (`funnelsim ensemble`)",
        export=_STAGE_OUTCOMES,
        prior=Prior(0.5, 0.95, "deals lost handling objections", group=DEAL_STAGES),
    ),
    Entry(
        "opportunity.stages.negotiation_close.pass_probability", "Deals that close after negotiation",
        "probability", "percent", "fitted to the published figures (`funnelsim ensemble`)",
        export=_STAGE_OUTCOMES,
        prior=Prior(0.4, 0.95, "deals lost in negotiation and close", group=DEAL_STAGES),
    ),
    Entry(
        "opportunity.quality_odds_ratio_per_10_points", "Deal odds per 10 points of lead fit", "odds ratio", "ratio",
        "fitted to the published figures (`funnelsim ensemble`)",
        prior=Prior(1.0, 1.6, "better-fit buyers close more often", "log", group=DEAL_ODDS),
    ),
    Entry(
        "opportunity.message_consistency_odds_ratio", "Deal odds with one message", "odds ratio per stage", "ratio",
        "fitted to the published figures (`funnelsim ensemble`)",
        prior=Prior(1.2, 3.0, "a deal's odds at each stage when website and sales decks tell one story, against "
                    "contradicting ones", "log", group=DEAL_ODDS),
    ),
    Entry(
        "opportunity.content_coverage_odds_ratio", "Deal odds with content for every stage", "odds ratio per stage",
        "ratio", "fitted to the published figures (`funnelsim ensemble`)",
        prior=Prior(1.1, 2.5, "a deal's odds at each stage with usable content for every stage, against none "
                    "(seeds: 60-70% of content goes unused)", "log", group=DEAL_ODDS),
    ),
    # --- uncertain parameters: the shopping window ---------------------------------------------
    Entry(
        "follow_up.shopping_window_hours.median", "Time a lead waits for a first touch before a competitor (median)",
        "hours", "hours", "fitted to the published figures (`funnelsim ensemble`)",
        prior=Prior(2, 72, "how long a lead waits for a first touch (a call, a voicemail) before engaging a "
                    "competitor (HBR: 'the short life of online sales leads')", "log", group=SHOPPING),
    ),
    Entry(
        "follow_up.shopping_window_hours.sigma", "Spread of the shopping window", "lognormal sigma", "number",
        "fitted to the published figures (`funnelsim ensemble`)",
        prior=Prior(0.5, 2.0, "how much leads differ in how long they wait (lognormal spread)", group=SHOPPING),
    ),
)

_BY_KEY: dict[str, Entry] = {entry.key: entry for entry in REGISTRY}


# --- lookups -----------------------------------------------------------------------------------


def lever(key: str) -> Entry:
    """The registry's entry for ``key`` (a lever or an uncertain parameter)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        close = difflib.get_close_matches(key, list(_BY_KEY), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise KeyError(f"{key}: not in the lever registry (funnelsim.config.levers){hint}") from None


def find(key: str) -> Entry | None:
    """The registry's entry for ``key``, or None when the registry does not know it."""
    return _BY_KEY.get(key)


def levers() -> list[Entry]:
    """Every lever: what a company decides (not the uncertain parameters)."""
    return [entry for entry in REGISTRY if not entry.uncertain]


def alignment_levers() -> list[Entry]:
    """The levers the assessment's questions move, in the registry's order."""
    return [entry for entry in REGISTRY if entry.question is not None]


def staffing_levers() -> list[Entry]:
    """The team sizes the assessment sizes for a company's own lead flow."""
    return [entry for entry in REGISTRY if entry.staffed]


def sliders() -> list[Entry]:
    """The levers the classroom has a slider for, in the order the panel shows them."""
    return [entry for entry in REGISTRY if entry.slider is not None]


def uncertain_parameters() -> list[Entry]:
    """The parameters the published evidence constrains only loosely, each with its ``prior``."""
    return [entry for entry in REGISTRY if entry.uncertain]


def questions() -> dict[str, Question]:
    """The assessment's questions by id, in the order they are asked (``Question.levers``: what each moves)."""
    return {question.id: question for question in QUESTIONS}


def export_needs() -> dict[str, str]:
    """What ``funnelsim calibrate`` needs from an export for each value it estimates, by the key it
    estimates (a whole distribution or curve where several entries are estimated together)."""
    needs: dict[str, str] = {}
    for entry in REGISTRY:
        if entry.export is not None:
            needs.setdefault(entry.export.estimated_as or entry.key, entry.export.needs)
    return needs


def not_in_the_data() -> list[str]:
    """The levers and uncertain parameters no CRM export informs (calibration keeps the baseline's)."""
    return [entry.key for entry in REGISTRY if entry.export is None]

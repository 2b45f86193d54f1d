"""The alignment assessment: eleven questions, a maturity level, and a scenario for the company.

The seeds describe four maturity levels (fully aligned, somewhat aligned, somewhat
misaligned, fully misaligned) by their signs: shared goals, meeting cadence, one lead
definition, integrated systems, feedback, a view of the whole journey, shared channels, an SLA,
closed-loop data, one message, content for every stage. Each question below checks one sign
and moves the levers it stands for, from the value a fully misaligned company would have
("no") to that of a fully aligned one ("yes"); "partly" lands half-way. The share of "yes"
gives the maturity level; the answers give a scenario file that extends the baseline and says,
beside every lever, which answer set it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from funnelsim.files import commented_yaml, write_scenario_file
from funnelsim.loading import ParameterError, read_yaml

__all__ = ["QUESTIONS", "LEVELS", "Assessment", "assess", "load_answers", "scenario_text", "write_scenario"]

ANSWERS = {"yes": 1.0, "partly": 0.5, "no": 0.0}


@dataclass(frozen=True)
class Question:
    text: str
    levers: dict[str, tuple[Any, ...]]  # key path: (value if "no", value if "yes"[, "log"])


QUESTIONS: dict[str, Question] = {
    "shared_revenue_goal": Question(
        "Do marketing and sales work to one shared revenue goal, retention included?",
        # MathMarketing: aligned firms lose 36% fewer customers (0.0125 = 0.64 x 0.0195)
        {"customers.monthly_churn": (0.0195, 0.0125)},
    ),
    "meeting_cadence": Question(
        "Do the teams meet formally at least every six weeks?",
        {"closed_loop.meeting_every_days": (120, 30)},
    ),
    "clear_sql_definition": Question(
        "Is there one written definition of a qualified lead that both teams use?",
        # yes: sales' bar at marketing's MQL bar (60), rejecting only bad records; no: a bar of
        # its own far above it, as with two definitions of a qualified lead
        {"sales_acceptance.threshold": (70.0, 60.5)},
    ),
    "integrated_systems": Question(
        "Are marketing automation and CRM integrated, so MQLs are routed to sales at once?",
        # no: separate systems, MQLs exported to sales once a day (the baseline's batch cadence;
        # a weekly export leaves a company that cannot earn back its leads, `funnelsim check`);
        # partly: routed, with manual checks ("log": "partly" is the geometric middle, about an
        # hour, as latencies span decades)
        {"handoff.mode": ("batch", "continuous"), "handoff.latency_hours.median": (8.0, 0.05, "log")},
    ),
    "feedback_both_ways": Question(
        "Is feedback between the teams welcomed and acted on?",
        {"closed_loop.noise_reduction_per_meeting": (0.0, 0.15)},
    ),
    "whole_journey_view": Question(
        "Can each team see the whole customer journey, before and after its own step?",
        {"scoring.noise_sd": (20.0, 10.0)},
    ),
    "shared_channels": Question(
        "Do the teams share internal channels (chat, dashboards), so sales knows which leads are hot?",
        {"follow_up.priority_routing": (False, True)},
    ),
    "sla_with_deadline": Question(
        "Is there an SLA that obliges sales to follow up every accepted lead by a deadline?",
        {"follow_up.follow_up_rate": (0.55, 0.95), "follow_up.max_attempts": (2, 6)},
    ),
    "closed_loop_reporting": Question(
        "Does marketing see what sales did with every lead and how it ended (closed-loop reporting)?",
        {"closed_loop.enabled": (False, True)},
    ),
    "consistent_messaging": Question(
        "Do the website, campaigns and sales decks tell one consistent story?",
        {"opportunity.message_consistency": (0.3, 0.95)},
    ),
    "content_per_stage": Question(
        "Does sales have usable marketing content for every stage of a deal?",
        {"opportunity.content_coverage": (0.15, 0.85)},  # seeds: 60-70% of content goes unused
    ),
}

# Lowest share of "yes" for each level, best first.
LEVELS = [
    ("fully aligned", 0.85),
    ("somewhat aligned", 0.55),
    ("somewhat misaligned", 0.25),
    ("fully misaligned", 0.0),
]


def _lever_value(lever: tuple[Any, ...], answer: float) -> Any:
    """The lever's value for an answer between 0 (no) and 1 (yes)."""
    no, yes, *options = lever
    scale = options[0] if options else "linear"
    if isinstance(no, (bool, str)):  # a switch: on from "partly"
        return yes if answer >= 0.5 else no
    if scale == "log":
        return round(float(math.exp(math.log(no) + (math.log(yes) - math.log(no)) * answer)), 4)
    value = no + (yes - no) * answer
    if isinstance(no, int) and isinstance(yes, int):
        return int(round(value))
    return round(float(value), 4)


@dataclass(frozen=True)
class Assessment:
    company: str
    answers: dict[str, float]

    @property
    def score(self) -> float:
        """Share of the signs of alignment present (0 to 1)."""
        return sum(self.answers.values()) / len(self.answers)

    @property
    def level(self) -> str:
        return next(name for name, floor in LEVELS if self.score >= floor - 1e-9)

    def lever_settings(self) -> dict[str, Any]:
        """Every lever the answers set, as ``key.path: value``."""
        settings = {}
        for item, question in QUESTIONS.items():
            for key, lever in question.levers.items():
                settings[key] = _lever_value(lever, self.answers[item])
        return settings


def _answer_value(item: str, raw: Any, label: str) -> float:
    if isinstance(raw, bool):  # YAML reads a bare yes/no as a boolean
        return 1.0 if raw else 0.0
    if isinstance(raw, str) and raw.lower() in ANSWERS:
        return ANSWERS[raw.lower()]
    if isinstance(raw, (int, float)) and 0 <= raw <= 1:
        return float(raw)
    raise ParameterError([f"{label}: answers.{item}: {raw!r}: allowed: yes, partly, no, or a number from 0 to 1"])


def assess(company: str, answers: dict[str, Any], label: str = "<answers>") -> Assessment:
    """Check that every question is answered (and nothing else) and score the answers."""
    unknown = sorted(set(answers) - set(QUESTIONS))
    missing = [q for q in QUESTIONS if q not in answers]
    problems = [f"{label}: answers.{k}: unknown question; allowed: {', '.join(QUESTIONS)}" for k in unknown]
    problems += [f"{label}: answers.{k}: missing: answer yes, partly or no" for k in missing]
    if problems:
        raise ParameterError(problems)
    return Assessment(company, {k: _answer_value(k, answers[k], label) for k in QUESTIONS})


def load_answers(path: str | Path) -> Assessment:
    """An assessment from a YAML file with ``company:`` and ``answers:``."""
    label = str(path)
    data = read_yaml(Path(path), label)
    if not isinstance(data.get("answers"), dict):
        raise ParameterError([f"{label}: answers: missing: a mapping of question: yes/partly/no"])
    extra = sorted(set(data) - {"company", "answers"})
    if extra:
        raise ParameterError([f"{label}: {k}: unknown key; allowed here: company, answers" for k in extra])
    return assess(str(data.get("company", Path(path).stem)), data["answers"], label)


def _word(answer: float) -> str:
    return {1.0: "yes", 0.5: "partly", 0.0: "no"}.get(answer, f"{answer:g}")


def scenario_text(assessment: Assessment, extends: str, name: str, teams: dict[str, int] | None = None) -> str:
    """A commented scenario file: the baseline plus every lever the answers set, and (``teams``)
    the SDR and AE teams sized for the company's own lead flow."""
    header = [
        f"{assessment.company}: {assessment.level} ({assessment.score:.0%} of the signs of alignment),",
        "written by `funnelsim assess`. Every lever below is set by the answer beside it.",
    ]
    top = {
        "extends": extends,
        "name": name,
        "description": f"From the alignment assessment of {assessment.company} ({assessment.score:.0%} of the signs).",
        "maturity": assessment.level,
    }
    nested: dict[str, Any] = {}
    comments: dict[str, str] = {}
    for item, question in QUESTIONS.items():
        for key, lever in question.levers.items():
            section, *rest = key.split(".")
            node = nested.setdefault(section, {})
            for part in rest[:-1]:
                node = node.setdefault(part, {})
            node[rest[-1]] = _lever_value(lever, assessment.answers[item])
            comments[key] = f"{_word(assessment.answers[item])}: {question.text}"
    for key, reps in (teams or {}).items():
        section, *rest = key.split(".")
        node = nested.setdefault(section, {})
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = reps
        comments[key] = "staffed for its own lead flow (funnelsim.staffing)"
    return commented_yaml(header, top, nested, comments)


def write_scenario(assessment: Assessment, target: Path, baseline: Path, force: bool = False, staff_teams: bool = True) -> Path:
    """Write the company's scenario file at ``target`` once it validates (see ``files``).

    With ``staff_teams`` the SDR and AE teams are sized for the lead flow the answers give
    (a short pilot simulation, ``staffing.team_sizes``); otherwise they stay the baseline's."""
    from funnelsim.schema import load_scenario, with_settings
    from funnelsim.staffing import team_sizes

    extends = os.path.relpath(baseline.resolve(), target.parent.resolve())
    teams = team_sizes(with_settings(load_scenario(baseline), assessment.lever_settings())) if staff_teams else None
    return write_scenario_file(scenario_text(assessment, extends, target.stem, teams), target, baseline, force)

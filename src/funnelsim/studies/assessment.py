"""The alignment assessment: eleven questions, a maturity level, and a scenario for the company.

The seeds describe four maturity levels (fully aligned, somewhat aligned, somewhat
misaligned, fully misaligned) by their signs: shared goals, meeting cadence, one lead
definition, integrated systems, feedback, a view of the whole journey, shared channels, an SLA,
closed-loop data, one message, content for every stage. Each question checks one sign and
moves the levers it stands for (the lever registry, ``funnelsim.config.levers``, says which and why)
toward the value the seeds give the least aligned firms ("no") or the most aligned ("yes");
"partly" points half-way. A company moves only part of the way from the typical company (the
baseline) toward that point: the reach the alignment surveys imply (``funnelsim.studies.reach``).
The share of "yes" gives the maturity level; the answers give a scenario file that extends the
baseline and says, beside every lever, which answer set it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funnelsim.config.files import commented_yaml, write_scenario_file
from funnelsim.config.levers import Question, alignment_levers, questions
from funnelsim.config.lever_values import reached, value_between
from funnelsim.config.errors import ParameterError
from funnelsim.config.yaml_files import read_yaml
from funnelsim.config.schema import Scenario, load_scenario, with_settings
from funnelsim.studies.reach import alignment_reach

__all__ = ["QUESTIONS", "LEVELS", "Assessment", "assess", "load_answers", "scenario_text", "write_scenario"]

ANSWERS = {"yes": 1.0, "partly": 0.5, "no": 0.0}
DIGITS = 4  # decimals of a lever value in a written scenario file

# The questions and the levers each moves, from "no" to "yes": the lever registry (funnelsim.config.levers).
QUESTIONS: dict[str, Question] = questions()

# Lowest share of "yes" for each level, best first.
LEVELS = [
    ("fully aligned", 0.85),
    ("somewhat aligned", 0.55),
    ("somewhat misaligned", 0.25),
    ("fully misaligned", 0.0),
]


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

    def spread_settings(self) -> dict[str, Any]:
        """Where the seeds put a firm with these answers on the spread of real firms, every lever
        from its least aligned value ("no") to its most aligned ("yes"), as ``key.path: value``."""
        return {
            lever.key: value_between(lever.no, lever.yes, self.answers[item], lever.scale, digits=DIGITS)
            for item, question in QUESTIONS.items()
            for lever in question.levers
        }

    def lever_settings(self, typical: Scenario, reach: float | None = None) -> dict[str, Any]:
        """Every lever the answers set for a company like ``typical`` (the scenario it extends):
        ``reach`` of the way from its value toward ``spread_settings`` (default: the reach fitted
        to the surveys, ``funnelsim.studies.reach``), as ``key.path: value``."""
        share = alignment_reach() if reach is None else reach
        data = typical.model_dump(mode="json", by_alias=True)
        ends = self.spread_settings()
        return {lever.key: reached(lever, data, ends[lever.key], share, digits=DIGITS) for lever in alignment_levers()}


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


def scenario_text(
    assessment: Assessment, typical: Scenario, extends: str, name: str, teams: dict[str, int] | None = None
) -> str:
    """A commented scenario file: the baseline ``typical`` plus every lever the answers set, and
    (``teams``) the SDR and AE teams sized for the company's own lead flow."""
    header = [
        f"{assessment.company}: {assessment.level} ({assessment.score:.0%} of the signs of alignment),",
        "written by `funnelsim assess`. Every lever below is set by the answer beside it: moved",
        f"{alignment_reach():.0%} of the way from the baseline toward the value the seeds give the least",
        "(no) or most (yes) aligned firms, the reach fitted to the alignment surveys",
        "(params/ensemble/alignment-reach.yaml).",
    ]
    top = {
        "extends": extends,
        "name": name,
        "description": f"From the alignment assessment of {assessment.company} ({assessment.score:.0%} of the signs).",
        "maturity": assessment.level,
    }
    nested: dict[str, Any] = {}
    comments: dict[str, str] = {}
    settings = assessment.lever_settings(typical)
    for item, question in QUESTIONS.items():
        for lever in question.levers:
            section, *rest = lever.key.split(".")
            node = nested.setdefault(section, {})
            for part in rest[:-1]:
                node = node.setdefault(part, {})
            node[rest[-1]] = settings[lever.key]
            comments[lever.key] = f"{_word(assessment.answers[item])}: {question.text}"
    for key, reps in (teams or {}).items():
        section, *rest = key.split(".")
        node = nested.setdefault(section, {})
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = reps
        comments[key] = "staffed for its own lead flow (funnelsim.experiments.staffing)"
    return commented_yaml(header, top, nested, comments)


def write_scenario(assessment: Assessment, target: Path, baseline: Path, force: bool = False, staff_teams: bool = True) -> Path:
    """Write the company's scenario file at ``target`` once it validates (see ``files``).

    With ``staff_teams`` the SDR and AE teams are sized for the lead flow the answers give
    (a short pilot simulation, ``staffing.team_sizes``); otherwise they stay the baseline's."""
    from funnelsim.experiments.staffing import team_sizes

    extends = os.path.relpath(baseline.resolve(), target.parent.resolve())
    typical = load_scenario(baseline)
    teams = team_sizes(with_settings(typical, assessment.lever_settings(typical))) if staff_teams else None
    return write_scenario_file(scenario_text(assessment, typical, extends, target.stem, teams), target, baseline, force)

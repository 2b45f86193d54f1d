"""Worked answers to the classroom's three exercises (the ``classroom_instructor`` notebook).

Each exercise is a handful of settings of the classroom's company (``classroom.classroom_scenario``)
simulated with the same seeds (common random numbers), so every comparison with today's
company is paired by replication. ``run_classroom_answers`` simulates the three exercises;
the worked answers are sentences whose numbers come from those runs, and the head-to-head
``verdict`` says which of two options does better only when its confidence interval excludes
no difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from funnelsim.config.schema import Scenario
from funnelsim.experiments.experiment import compare_runs, local_workers
from funnelsim.stats.analysis import compare_scenarios
from funnelsim.studies.classroom import CLASS_HORIZON_DAYS, CLASS_SEED, classroom_scenario

__all__ = ["EXERCISES", "SHOWN", "ClassroomAnswers", "Exercise", "hours", "run_classroom_answers", "verdict"]

TODAY = "today"
SHOWN = ["leads", "sals", "sdr_utilisation", "median_speed_to_lead_hours", "sqls", "wins", "cac", "bookings", "revenue"]

# The settings each exercise compares (scenario name: slider values), today's company first.
EXERCISES: dict[str, dict[str, dict[str, Any]]] = {
    "speed_to_lead": {
        TODAY: {},
        "handoff after a day": {"handoff.latency_hours.median": 24},
        "real-time routing": {"handoff.latency_hours.median": 0.05},
    },
    "people_or_discipline": {
        TODAY: {},
        "two more SDRs": {"sdr_team.reps": 8},
        "follow-up SLA": {"follow_up.follow_up_rate": 1.0},
    },
    "one_definition": {
        TODAY: {},
        "one definition": {"sales_acceptance.threshold": 64},
        "one definition + closed loop": {"sales_acceptance.threshold": 64, "closed_loop.enabled": True},
        "... + 6 more SDRs": {"sales_acceptance.threshold": 64, "closed_loop.enabled": True, "sdr_team.reps": 12},
    },
}


def hours(value: float) -> str:
    """A duration in hours as a person says it: under a minute, 45 min, 2.5 h."""
    if value < 1 / 60:
        return "under a minute"
    return f"{value * 60:.0f} min" if value < 1 else f"{value:.1f} h"


def verdict(row: Any, what: str, higher_is_better: bool, replications: int, challenger: str, incumbent: str) -> str:
    """Which of two options does better on a KPI, from one row of ``compare_scenarios``
    (``challenger`` against ``incumbent``: ``relative`` with ``relative_ci_low`` and
    ``relative_ci_high``). A CI that includes no difference names neither."""
    if row.relative_ci_low <= 0 <= row.relative_ci_high:
        return f"with {replications} replications the two cannot be told apart on {what} (the head-to-head CI includes no difference)"
    challenger_better = (row.relative > 0) == higher_is_better
    return f"{challenger if challenger_better else incumbent} does better on {what} (head to head {row.relative:+.0%})"


@dataclass
class Exercise:
    """The replications of an exercise's scenarios, compared with ``baseline`` by replication."""

    runs: pd.DataFrame
    baseline: str = TODAY

    def means(self) -> pd.DataFrame:
        """The mean of each shown KPI, one column per scenario."""
        return self.runs.groupby("scenario", sort=False)[SHOWN].mean().T

    def mean(self, kpi: str, scenario: str) -> float:
        """The mean of ``kpi`` in ``scenario`` across replications."""
        return float(cast(float, self.means().loc[kpi, scenario]))

    def effects(self, kpi: str) -> pd.DataFrame:
        """Each scenario's effect on ``kpi`` against the baseline, paired, with 95% CIs."""
        return compare_scenarios(self.runs, kpi, self.baseline, paired=True).table

    def change(self, kpi: str) -> pd.Series:
        """Each scenario's relative change of ``kpi`` against the baseline."""
        return self.effects(kpi).set_index("scenario")["relative"]

    def without(self, scenario: str, baseline: str) -> Exercise:
        """The same runs without ``scenario``, compared with ``baseline`` instead."""
        return Exercise(self.runs[self.runs["scenario"] != scenario], baseline)


@dataclass
class ClassroomAnswers:
    """The three exercises simulated, and their worked answers."""

    replications: int
    today: Scenario  # today's company, as the classroom simulates it
    speed_to_lead: Exercise
    people_or_discipline: Exercise
    one_definition: Exercise

    @property
    def head_to_head(self) -> Exercise:
        """Exercise 2 without today's company: two more SDRs against the follow-up SLA."""
        return self.people_or_discipline.without(TODAY, "follow-up SLA")

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables to save beside the report."""
        return {"exercise_1": self.speed_to_lead.runs, "exercise_2": self.people_or_discipline.runs,
                "exercise_3": self.one_definition.runs}

    def speed_to_lead_answer(self) -> str:
        """The worked answer to exercise 1 (Markdown)."""
        sqls, leads = self.speed_to_lead.change("sqls"), self.speed_to_lead.change("leads")
        return (
            f"**Worked answer.** Leads do not change ({leads['handoff after a day']:+.0%}): the handoff happens after them. "
            f"A day's handoff changes SQLs by {sqls['handoff after a day']:+.0%} and real-time routing by "
            f"{sqls['real-time routing']:+.0%}, because a lead's odds of being reached and of qualifying fall with its age at "
            "every attempt (the model's decay curves reproduce HBR 2011: about 7 times the odds in the first hour against the "
            "second). Wins follow the SQLs; revenue moves less in relative terms because it includes existing customers and "
            "deals take months to close. *Caveat:* the steepness of the decay is the model's strongest assumption; it rests on "
            "the lead-response studies, whose fast firms may differ from slow ones in more than speed."
        )

    def head_to_head_verdict(self, kpi: str, what: str, higher_is_better: bool) -> str:
        """Exercise 2's verdict on ``kpi``: two more SDRs against the follow-up SLA."""
        row = self.head_to_head.effects(kpi).iloc[0]
        return verdict(row, what, higher_is_better, self.replications, "two more SDRs", "the follow-up SLA")

    def people_or_discipline_answer(self) -> str:
        """The worked answer to exercise 2 (Markdown)."""
        exercise = self.people_or_discipline
        wins, cac, mean = exercise.change("wins"), exercise.change("cac"), exercise.mean
        return (
            f"**Worked answer.** Two more SDRs change new customers by {wins['two more SDRs']:+.0%} and CAC by "
            f"{cac['two more SDRs']:+.0%}; the SLA changes them by {wins['follow-up SLA']:+.0%} and {cac['follow-up SLA']:+.0%}. "
            f"Head to head, {self.head_to_head_verdict('wins', 'new customers', True)}, and "
            f"{self.head_to_head_verdict('cac', 'CAC', False)}. "
            f"The mechanisms differ: more SDRs shorten the wait for the first call (median speed to lead "
            f"{hours(mean('median_speed_to_lead_hours', TODAY))} today, {hours(mean('median_speed_to_lead_hours', 'two more SDRs'))} "
            f"with two more), and a younger lead is likelier to qualify; the SLA puts the "
            f"{1 - self.today.follow_up.follow_up_rate:.0%} of accepted leads nobody called back into play, but fills the team "
            f"(utilisation {mean('sdr_utilisation', TODAY):.0%} today, "
            f"{mean('sdr_utilisation', 'follow-up SLA'):.0%} with the SLA), so each lead waits longer. "
            f"The two SDRs cost {2 * 12 * self.today.sdr_team.cost_per_rep_month:,.0f} a year, which CAC already "
            "counts (marketing spend plus SDR and AE cost per new customer); the SLA costs nothing the model sees. "
            "*Caveat:* in a real team the follow-up rate is partly a capacity problem in disguise, and the gain from "
            "a faster first call rests on how long a lead shops around before buying elsewhere, which the published "
            "evidence pins down only loosely (the uncertain parameters of funnelsim.config.levers)."
        )

    def one_definition_answer(self) -> str:
        """The worked answer to exercise 3 (Markdown)."""
        exercise = self.one_definition
        mean, sqls, cac = exercise.mean, exercise.change("sqls"), exercise.change("cac")
        more_sdrs = "... + 6 more SDRs"
        return (
            f"**Worked answer.** With one definition sales accepts every MQL: SALs change by "
            f"{exercise.change('sals')['one definition']:+.0%}. "
            f"That is good news only if sales can work them. With six SDRs, utilisation goes from {mean('sdr_utilisation', TODAY):.0%} "
            f"to {mean('sdr_utilisation', 'one definition'):.0%}, the median wait for a first call from "
            f"{hours(mean('median_speed_to_lead_hours', TODAY))} to {hours(mean('median_speed_to_lead_hours', 'one definition'))}, "
            f"and because leads go cold, SQLs change by {sqls['one definition']:+.0%} and CAC by {cac['one definition']:+.0%}. "
            f"The closed loop moves budget toward the channels with the most SQLs per unit of spend, which are also the cheapest, "
            f"so more leads arrive for the same money (leads {exercise.change('leads')['one definition + closed loop']:+.0%}) and the "
            f"overloaded team falls further behind (SQLs {sqls['one definition + closed loop']:+.0%}). With six more SDRs the same "
            f"alignment {'pays' if sqls[more_sdrs] > 0 else 'still does not pay'}: SQLs {sqls[more_sdrs]:+.0%}, "
            f"CAC {cac[more_sdrs]:+.0%}. "
            "The lesson: an SLA is a promise about volume *and* speed; agreeing on one definition without the capacity to honour "
            "it turns good leads into cold ones. *Caveat:* the closed loop's learning per meeting is an assumption "
            "(`closed_loop.noise_reduction_per_meeting`) that no published study pins down."
        )


def simulate_exercise(settings: dict[str, dict[str, Any]], replications: int, horizon_days: int, seed: int,
                      workers: int | None = None) -> Exercise:
    """Simulate each named set of slider values with the same seeds, against today's company."""
    scenarios = [classroom_scenario(values, horizon_days).model_copy(update={"name": name}) for name, values in settings.items()]
    return Exercise(compare_runs(scenarios, replications, seed, workers or local_workers()).replications)


def run_classroom_answers(replications: int = 6, horizon_days: int = CLASS_HORIZON_DAYS, seed: int = CLASS_SEED) -> ClassroomAnswers:
    """Simulate the three exercises (``EXERCISES``), each scenario ``replications`` times."""
    exercises = {name: simulate_exercise(settings, replications, horizon_days, seed) for name, settings in EXERCISES.items()}
    return ClassroomAnswers(replications, classroom_scenario({}, horizon_days), **exercises)

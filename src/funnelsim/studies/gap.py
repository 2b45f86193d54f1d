"""Where the alignment gap comes from: each sign of alignment's part in the difference.

A fully aligned company books more revenue than a fully misaligned one because of eleven
different practices (the assessment's signs: one lead definition, integrated systems, an SLA,
closed-loop reporting, one message, ...). How much of the gap does each buy? Two questions,
each simulated with common random numbers and with every company staffed for its own lead flow
(a company that adopts a practice hires for the leads it brings, ``staffing``):

* **added alone**: the fully misaligned company adopts this one practice;
* **removed alone**: the fully aligned company drops this one practice.

A practice that works only together with others is worth little added alone and a lot removed
alone. Each sign's *part* is the average of the two. Where signs interact at most in pairs
(two practices that reinforce each other), that average is exactly the sign's Shapley value:
its contribution averaged over every order in which a company could adopt the eleven, and the
parts add up to the whole gap. What the parts leave over is the interplay of three or more
signs at once; ``waterfall`` shows it as its own step, so the steps always add up to the gap.
Twenty-four companies are simulated, where an exact Shapley value over eleven signs would need
2,048.
"""

from __future__ import annotations

import pandas as pd

from funnelsim.config.schema import Scenario, with_settings
from funnelsim.experiments.executors import run_in_order
from funnelsim.experiments.experiment import ScenarioRun, run_scenarios
from funnelsim.experiments.staffing import staff
from funnelsim.studies.assessment import QUESTIONS, Assessment

__all__ = ["GapSplit", "sign_contributions", "INTERPLAY"]

INTERPLAY = "Interplay of three or more signs"


class GapSplit:
    """One KPI's gap between the fully misaligned and the fully aligned company, split by sign."""

    def __init__(self, kpi: str, start: float, end: float, table: pd.DataFrame) -> None:
        self.kpi = kpi
        self.start = start  # the fully misaligned company's mean
        self.end = end  # the fully aligned company's mean
        self.table = table  # one row per sign, largest part first

    @property
    def gap(self) -> float:
        return self.end - self.start

    @property
    def interplay(self) -> float:
        """What the signs' parts leave over: the interplay of three or more signs."""
        return self.gap - float(self.table["part"].sum())

    def waterfall(self) -> pd.DataFrame:
        """The steps from the fully misaligned company to the fully aligned one: the start, each
        sign's part (largest first), the interplay of three or more signs, the end. ``bottom`` and
        ``top`` are where each bar starts and ends; the steps add up to the gap exactly."""
        rows = [{"step": "Fully misaligned", "kind": "level", "value": self.start, "bottom": 0.0, "top": self.start}]
        level = self.start
        steps = list(zip(self.table["name"], self.table["part"])) + [(INTERPLAY, self.interplay)]
        for name, part in steps:
            rows.append({"step": name, "kind": "sign" if name != INTERPLAY else "interplay", "value": part,
                         "bottom": level, "top": level + part})
            level += part
        rows.append({"step": "Fully aligned", "kind": "level", "value": self.end, "bottom": 0.0, "top": self.end})
        return pd.DataFrame(rows)


def _variant(base: Scenario, answers: dict[str, float], name: str, seed: int) -> Scenario:
    return staff(with_settings(base, Assessment(name, answers).lever_settings(base), name=name), seed)


def _variant_job(task: tuple[Scenario, dict[str, float], str, int]) -> Scenario:
    return _variant(*task)


def _variants(base: Scenario, plans: dict[str, dict[str, float]], seed: int, workers: int,
              executor: str | None = None, scheduler: str | None = None) -> list[Scenario]:
    """The company like ``base`` with each plan's answers, by name, each staffed for its own
    lead flow. Staffing a company takes a pilot run, so they run where the study's runs do (as
    in ``run_scenarios``: the ``executor``, or ``workers`` local processes)."""
    tasks = [(base, answers, name, seed) for name, answers in plans.items()]
    return run_in_order(_variant_job, tasks, executor, workers, scheduler)


def sign_contributions(
    typical: Scenario, replications: int, seed: int, workers: int = 1, kpis: tuple[str, ...] = ("revenue",),
    executor: str | None = None, scheduler: str | None = None,
) -> dict[str, GapSplit]:
    """For each of ``kpis``, the fully aligned vs fully misaligned gap split by sign.

    ``typical`` is the company whose other settings every variant keeps (the baseline); every
    KPI is read from the same simulations, run as in ``run_scenarios`` (``workers``,
    ``executor``, ``scheduler``)."""
    none = {q: 0.0 for q in QUESTIONS}
    every = {q: 1.0 for q in QUESTIONS}
    plans = {"fully misaligned": none, "fully aligned": every}
    for q in QUESTIONS:
        plans |= {f"added: {q}": none | {q: 1.0}, f"removed: {q}": every | {q: 0.0}}
    scenarios = _variants(typical, plans, seed, workers, executor, scheduler)
    runs = run_scenarios(scenarios, replications, seed, workers, leads=False,  # KPIs are all it reads
                         executor=executor, scheduler=scheduler)
    return {kpi: _split(runs, kpi) for kpi in kpis}


def _split(runs: dict[str, ScenarioRun], kpi: str) -> GapSplit:
    mean = {name: float(run.replications[kpi].mean()) for name, run in runs.items()}
    low, high = mean["fully misaligned"], mean["fully aligned"]
    gap = high - low
    rows = []
    for q, question in QUESTIONS.items():
        added = mean[f"added: {q}"] - low
        removed = high - mean[f"removed: {q}"]
        rows.append({
            "sign": q,
            "name": question.name,
            "question": question.text,
            "added_alone": added,
            "removed_alone": removed,
            "part": (added + removed) / 2,
            "share": (added + removed) / 2 / gap if gap else float("nan"),
        })
    table = pd.DataFrame(rows).sort_values("part", ascending=False, key=abs).reset_index(drop=True)
    return GapSplit(kpi, low, high, table)

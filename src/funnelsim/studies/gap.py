"""Where the alignment gap comes from: each sign of alignment's part in the revenue difference.

A fully aligned company books more revenue than a fully misaligned one because of eleven
different practices (the assessment's signs: one lead definition, integrated systems, an SLA,
closed-loop reporting, one message, ...). How much of the gap does each buy? Two simple
questions give the answer's bounds, each simulated with common random numbers and with every
company staffed for its own lead flow (a company that adopts a practice hires for the leads it
brings, ``staffing``):

* **added alone**: the fully misaligned company adopts this one practice;
* **removed alone**: the fully aligned company drops this one practice.

A practice that works only together with others is worth little added alone and a lot removed
alone; the average of the two is each sign's share of the gap (the first-and-last-position
approximation of a Shapley value; the parts need not add up to exactly the whole, and the
table says how far they are from it).
"""

from __future__ import annotations

import pandas as pd

from funnelsim.config.schema import Scenario, with_settings
from funnelsim.experiments.experiment import run_scenarios
from funnelsim.experiments.staffing import staff
from funnelsim.studies.assessment import QUESTIONS, Assessment

__all__ = ["sign_contributions"]


def _variant(base: Scenario, answers: dict[str, float], name: str, seed: int) -> Scenario:
    return staff(with_settings(base, Assessment(name, answers).lever_settings(base), name=name), seed)


def sign_contributions(
    typical: Scenario, replications: int, seed: int, workers: int = 1, kpis: tuple[str, ...] = ("revenue",)
) -> dict[str, tuple[pd.DataFrame, float]]:
    """For each of ``kpis``: each sign's part in the fully aligned vs fully misaligned gap, and the gap.

    ``typical`` is the company whose other settings every variant keeps (the baseline); every
    KPI is read from the same simulations."""
    none = {q: 0.0 for q in QUESTIONS}
    every = {q: 1.0 for q in QUESTIONS}
    scenarios = [_variant(typical, none, "fully misaligned", seed), _variant(typical, every, "fully aligned", seed)]
    for q in QUESTIONS:
        scenarios.append(_variant(typical, none | {q: 1.0}, f"added: {q}", seed))
        scenarios.append(_variant(typical, every | {q: 0.0}, f"removed: {q}", seed))
    runs = run_scenarios(scenarios, replications, seed, workers)
    return {kpi: _split(runs, kpi) for kpi in kpis}


def _split(runs: dict, kpi: str) -> tuple[pd.DataFrame, float]:
    mean = {name: float(run.replications[kpi].mean()) for name, run in runs.items()}
    low, high = mean["fully misaligned"], mean["fully aligned"]
    gap = high - low
    rows = []
    for q, question in QUESTIONS.items():
        added = mean[f"added: {q}"] - low
        removed = high - mean[f"removed: {q}"]
        rows.append({
            "sign": q,
            "question": question.text,
            "added_alone": added,
            "removed_alone": removed,
            "share": (added + removed) / 2 / gap if gap else float("nan"),
        })
    table = pd.DataFrame(rows).sort_values("share", ascending=False).reset_index(drop=True)
    return table, gap

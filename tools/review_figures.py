"""The figures of the model review (issue 11), measured on any checkout of funnelsim.

The review found the default funnel far from the published one, the alignment value carried by
a steep lead-response decay, implausible companies at both ends of the maturity scale and a
growth figure that was a transient of the starting customer count. This script measures each
of those figures the way the review did, from the output tables only (so it runs on the engine
before and after the fix), and prints them as one table:

    .venv/bin/python tools/review_figures.py [--replications 4]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from funnelsim import load_scenario, run_scenario
from funnelsim.config.schema import Scenario
from funnelsim.stats.analysis import growth_per_run
from funnelsim.studies.assessment import QUESTIONS, Assessment

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261122
STEADY = "installed_base" in Scenario.model_fields["customers"].annotation.model_fields


def scenario(name: str, *sets: str) -> Scenario:
    path = ROOT / "params" / (name if name.endswith(".yaml") else f"scenarios/{name}.yaml")
    return load_scenario(path, list(sets))


def run(sc: Scenario, reps: int):
    return run_scenario(sc, reps, SEED)


def rates(reps: pd.DataFrame) -> dict[str, float]:
    return {
        "SAL to SQL": float((reps.sqls / reps.sals).mean()),
        "SQL to won": float((reps.wins / reps.sqls).mean()),
        "lead to customer": float(reps.lead_to_customer_rate.mean()),
    }


def age_hours(leads: pd.DataFrame) -> pd.Series:
    """The lead's age at its first touch, counted from the inquiry (both engines)."""
    return leads["first_touch_age_hours"] if "first_touch_age_hours" in leads else leads["speed_to_lead_hours"]


def first_touch_odds(leads: pd.DataFrame, warmup: float) -> tuple[float, float]:
    """HBR's groups on one company's first touches: odds of qualifying, first hour vs 1-2 h and vs 24 h+."""
    touched = leads[leads.first_touch_at >= warmup].copy()
    touched["group"] = pd.cut(age_hours(touched), [0, 1, 2, 24, np.inf], right=False, labels=["a", "b", "c", "d"]).astype(str)
    touched["y"] = touched.sql_at.notna().astype(int)
    fit = smf.logit("y ~ C(group, Treatment('a'))", touched).fit(disp=0)
    p = fit.params
    return float(math.exp(-p["C(group, Treatment('a'))[T.b]"])), float(math.exp(-p["C(group, Treatment('a'))[T.d]"]))


def later_attempts(leads: pd.DataFrame, warmup: float) -> tuple[float, float]:
    """Share of contacts, and of SQLs, that come from attempts after the first."""
    reached = leads[(leads.contacted_at >= warmup)]
    later = reached.contacted_at > reached.first_touch_at
    return float(later.mean()), float((later & reached.sql_at.notna()).sum() / max(reached.sql_at.notna().sum(), 1))


def queue_rise(daily: pd.DataFrame, column: str, start: float) -> tuple[float, float]:
    window = daily[daily.day >= start].groupby("day")[column].mean()
    return float(window.iloc[:30].mean()), float(window.iloc[-30:].mean())


def growth(daily: pd.DataFrame, warmup: float) -> float:
    """Annual revenue growth: the mean over replications of the trend of log monthly revenue."""
    return math.expm1(float(np.mean(growth_per_run(daily, warmup)["annual_log_growth"])))


def lever_alone_share(reps: int) -> float:
    """Integrated systems added alone to fully misaligned, as a share of the fully aligned gap."""
    none = {q: 0.0 for q in QUESTIONS}

    typical = load_scenario(ROOT / "params" / "baseline.yaml")

    def revenue(answers: dict[str, float]) -> float:
        settings = Assessment("x", answers).lever_settings(typical)
        sets = [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in settings.items()]
        return float(run(load_scenario(ROOT / "params" / "baseline.yaml", sets), reps).replications.revenue.mean())

    low, high = revenue(none), revenue({q: 1.0 for q in QUESTIONS})
    return (revenue(none | {"integrated_systems": 1.0}) - low) / (high - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=4)
    n = parser.parse_args().replications
    rows: list[tuple[str, str]] = []

    def add(what: str, value: str) -> None:
        rows.append((what, value))
        print(f"{what:<70} {value}", flush=True)

    base = scenario("baseline.yaml")
    warm = base.simulation.warmup_days
    b = run(base, n)
    for k, v in rates(b.replications).items():
        add(f"baseline {k}", f"{v:.1%}")
    one, day = first_touch_odds(b.leads, warm)
    add("baseline first touches, odds of qualifying: first hour vs 1-2 h", f"{one:.1f}x")
    add("baseline first touches, odds of qualifying: first hour vs 24 h+", f"{day:.1f}x")
    contacts, sqls = later_attempts(b.leads, warm)
    add("baseline attempts 2+: share of contacts / share of SQLs", f"{contacts:.0%} / {sqls:.0%}")
    median = base.handoff.latency_hours.median
    slower = run(scenario("baseline.yaml", f"handoff.latency_hours.median={median + 0.25}"), n)
    add("15 more minutes of median handoff latency: change in wins",
        f"{(slower.replications.wins / b.replications.wins - 1).mean():+.1%}")
    add("integrated systems added alone: share of the fully aligned vs misaligned revenue gap", f"{lever_alone_share(n):.0%}")

    fm = run(scenario("fully-misaligned"), n)
    r = fm.replications
    add("fully misaligned: lead to customer", f"{r.lead_to_customer_rate.mean():.2%}")
    add("fully misaligned: CAC / average deal", f"{(r.cac / (r.bookings / r.wins)).mean():.1f}x")
    sal = fm.leads[fm.leads.sal_at >= warm]
    worked = sal[sal.attempts > 0]
    add("fully misaligned: SALs never contacted", f"{sal.contacted_at.isna().mean():.0%}")
    add("fully misaligned: worked SALs never contacted", f"{worked.contacted_at.isna().mean():.0%}")
    add("fully misaligned: SDR utilisation", f"{r.sdr_utilisation.mean():.0%}")
    add("fully misaligned: median speed-to-lead KPI, hours", f"{r.median_speed_to_lead_hours.mean():.1f}")
    add("fully misaligned: median age at first touch from the inquiry, hours",
        f"{age_hours(fm.leads[fm.leads.first_touch_at >= warm]).median():.1f}")

    fa = run(scenario("fully-aligned"), n)
    r = fa.replications
    start, end = queue_rise(fa.daily, "awaiting_ae", warm)
    add("fully aligned: SQLs waiting for an AE, first vs last month of the window", f"{start:,.0f} -> {end:,.0f}")
    add("fully aligned: AE deal slots in use", f"{r.ae_utilisation.mean():.0%}")
    add("fully aligned: sales cycle, days", f"{r.sales_cycle_days.mean():.0f}")
    add("fully aligned vs fully misaligned: revenue", f"{(fa.replications.revenue / fm.replications.revenue - 1).mean():+.0%}")
    add("fully aligned / fully misaligned: annual revenue growth", f"{growth(fa.daily, warm):+.0%} / {growth(fm.daily, warm):+.0%}")

    share = b.daily[b.daily.day >= warm]
    base_revenue = share.installed_base_revenue.sum() if "installed_base_revenue" in share else float("nan")
    if math.isfinite(base_revenue):
        add("baseline: share of revenue from the installed base", f"{base_revenue / share.revenue.sum():.0%}")
    for factor in (0.5, 1.0, 2.0):
        if STEADY:
            sets = [f"channels.{c}.leads_per_week={ch.leads_per_week * factor}" for c, ch in base.channels.items()]
            sets += [f"sdr_team.reps={max(1, round(base.sdr_team.reps * factor))}",
                     f"opportunity.ae_team.reps={max(1, round(base.opportunity.ae_team.reps * factor))}"]
            label = f"fully aligned growth at {factor}x the volume (so {factor}x the steady-state base)"
            sc = scenario("fully-aligned", *sets)
        else:
            label = f"fully aligned growth with {factor}x the initial customers"
            sc = scenario("fully-aligned", f"customers.initial_customers={round(base.customers.initial_customers * factor)}")
        add(label, f"{growth(run(sc, n).daily, warm):+.0%}")

    short = ("simulation.horizon_days=60", "simulation.warmup_days=0")
    few, many = run(scenario("baseline.yaml", *short, "follow_up.max_attempts=2"), 1), run(scenario("baseline.yaml", *short, "follow_up.max_attempts=6"), 1)
    key = ["channel", "arrival_number"] if "arrival_number" in few.leads else ["channel", "lead_id"]
    both = few.leads.merge(many.leads, on=key)
    add("max attempts 2 vs 6: leads with the same arrival time and quality",
        f"{((both.created_at_x == both.created_at_y) & (both.quality_x == both.quality_y)).sum() / len(few.leads):.1%}")
    lo, hi = (run(scenario("baseline.yaml", *short, f"closed_loop.max_budget_weight={w}"), 1).leads for w in (1.5, 3))
    add("max budget weight 1.5 vs 3: arrival times shared", f"{len(set(lo.created_at) & set(hi.created_at)) / len(lo):.0%}")
    noisy, sharp = (run(scenario("fully-misaligned", f"scoring.noise_sd={s}"), 1).replications.mqls.iloc[0] for s in (20, 10))
    add("fully misaligned, score noise 20 -> 10: MQLs", f"{noisy:,} -> {sharp:,}")
    churn = [scenario(n_).customers.monthly_churn for n_ in ("fully-misaligned", "fully-aligned")]
    add("churn lever, fully misaligned -> aligned", f"{churn[0]} -> {churn[1]} ({churn[1] / churn[0] - 1:+.0%}; MathMarketing: 36% fewer lost)")


if __name__ == "__main__":
    main()

"""Seeds: identical tables for the same seed, different for another; common random numbers."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import kpi_table, scenario

from funnelsim import run_replication, run_scenario
from funnelsim.experiments.experiment import run_scenarios

SHORT = ("simulation.horizon_days=150", "simulation.warmup_days=30")


def test_same_seed_gives_identical_tables():
    sc = scenario(*SHORT, "closed_loop.enabled=true")
    a, b = run_replication(sc, 42), run_replication(sc, 42)
    pd.testing.assert_frame_equal(a.leads, b.leads)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    assert a.kpis == b.kpis


def test_another_seed_gives_different_tables():
    sc = scenario(*SHORT)
    a, b = run_replication(sc, 42), run_replication(sc, 43)
    assert len(a.leads) != len(b.leads) or not a.leads.created_at.equals(b.leads.created_at)
    assert a.kpis["revenue"] != b.kpis["revenue"]


def test_run_replication_is_picklable_and_identical_in_a_subprocess():
    from concurrent.futures import ProcessPoolExecutor

    sc = scenario(*SHORT)
    pickle.dumps((run_replication, sc))
    with ProcessPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(run_replication, sc, 7).result()
    local = run_replication(sc, 7)
    pd.testing.assert_frame_equal(local.leads, remote.leads)


def test_run_scenario_tables_carry_replication_and_seed():
    sc = scenario(*SHORT)
    run = run_scenario(sc, replications=3, seed=5)
    assert sorted(run.replications.replication) == [0, 1, 2]
    assert run.replications.spawn_key.is_unique
    assert set(run.leads.replication.unique()) == {0, 1, 2}
    assert len(run.daily) == 3 * 150
    summary = run.summary()
    revenue = summary.set_index("kpi").loc["revenue"]
    assert revenue.ci_low <= revenue["mean"] <= revenue.ci_high
    # Replication i is the same run whichever way it is reached.
    again = run_scenario(sc, replications=2, seed=5)
    pd.testing.assert_frame_equal(
        run.replications.iloc[:2].reset_index(drop=True), again.replications.reset_index(drop=True)
    )


def test_run_scenario_rejects_zero_replications():
    with pytest.raises(ValueError):
        run_scenario(scenario(*SHORT), replications=0, seed=1)


def test_common_random_numbers_shrink_the_variance_of_a_difference():
    # Two close scenarios (follow-up rate 0.80 vs 0.85): with shared seeds, the paired
    # difference varies far less than either scenario does on its own. (The extra 5% of worked
    # leads bring their own chance of qualifying, which no seeding can pair away.)
    a = kpi_table(scenario(*SHORT, "follow_up.follow_up_rate=0.80"), 12, seed=100)
    b = kpi_table(scenario(*SHORT, "follow_up.follow_up_rate=0.85"), 12, seed=100)
    independent = kpi_table(scenario(*SHORT, "follow_up.follow_up_rate=0.85"), 12, seed=200)
    for kpi in ("sals", "wins", "revenue"):
        paired = np.var(b[kpi] - a[kpi], ddof=1)
        separate = np.var(a[kpi], ddof=1) + np.var(independent[kpi], ddof=1)
        assert paired < separate / 5, f"{kpi}: paired {paired:.3g} vs independent {separate:.3g}"


def test_scenario_runs_are_the_same_on_every_executor():
    """A study's scenario runs go to the sweep executors: in this process, on local processes or
    on a Dask cluster, the same tables in the same order."""
    tiny = ("simulation.horizon_days=40", "simulation.warmup_days=10")
    scenarios = [scenario(*tiny).model_copy(update={"name": "today"}),
                 scenario(*tiny, "sdr_team.reps=9").model_copy(update={"name": "more SDRs"})]
    runs = {executor: run_scenarios(scenarios, 3, seed=11, workers=2, executor=executor)
            for executor in ("serial", "processes", "dask")}
    for name in ("today", "more SDRs"):
        serial = runs["serial"][name]
        assert list(serial.replications["replication"]) == [0, 1, 2]
        for executor in ("processes", "dask"):
            other = runs[executor][name]
            pd.testing.assert_frame_equal(serial.replications, other.replications, check_exact=True)
            pd.testing.assert_frame_equal(serial.leads, other.leads, check_exact=True)
            pd.testing.assert_frame_equal(serial.daily, other.daily, check_exact=True)
    assert not runs["serial"]["today"].replications.equals(runs["serial"]["more SDRs"].replications)


def test_an_unknown_executor_is_named_with_the_ones_allowed():
    with pytest.raises(ValueError, match="executor 'gpu': allowed are serial, processes, dask"):
        run_scenarios([scenario(*SHORT)], 1, seed=1, executor="gpu")
    with pytest.raises(ValueError, match=r"a Dask scheduler \(tcp://host:8786\) needs the dask executor, not 'processes'"):
        run_scenarios([scenario(*SHORT)], 1, seed=1, executor="processes", scheduler="tcp://host:8786")


def test_leads_handed_on_in_order_are_the_tables_a_run_keeps_and_are_not_kept():
    """With ``leads_to`` every replication's leads table is handed on in the order of the runs
    (scenario by scenario, replication by replication), equal to the table a run keeps, and the
    run does not hold on to it: what it holds does not grow from one replication to the next (an
    empty view of a table would keep all of its rows alive until the run ends)."""
    import gc
    import tracemalloc

    tiny = ("simulation.horizon_days=40", "simulation.warmup_days=10")
    scenarios = [scenario(*tiny).model_copy(update={"name": "today"}),
                 scenario(*tiny, "sdr_team.reps=9").model_copy(update={"name": "more SDRs"})]
    kept = run_scenarios(scenarios, 3, seed=11, workers=1)
    handed: list[tuple[str, int]] = []
    tables: dict[str, list[pd.DataFrame]] = {"today": [], "more SDRs": []}
    copies, held = [0], []

    def sink(name: str, leads: pd.DataFrame) -> None:
        handed.append((name, int(leads["replication"].iloc[0])))
        tables[name].append(leads.copy())  # a copy of our own: the run's table must still go away
        copies[0] += int(leads.memory_usage(deep=True).sum())
        gc.collect()
        held.append(tracemalloc.get_traced_memory()[0] - copies[0])  # the run's, with the table being handed on

    tracemalloc.start()
    try:
        streamed = run_scenarios(scenarios, 3, seed=11, workers=1, leads_to=sink)
    finally:
        tracemalloc.stop()
    assert handed == [(name, r) for name in ("today", "more SDRs") for r in range(3)]
    one_table = copies[0] / len(handed)
    growth = (held[-1] - held[0]) / (len(held) - 1)  # a replication's daily table and KPIs, not its leads
    assert growth < 0.25 * one_table, f"the run holds on to its leads: {held} bytes, a table is {one_table:,.0f}"
    for name in ("today", "more SDRs"):
        assert streamed[name].leads.empty and list(streamed[name].leads.columns) == list(kept[name].leads.columns)
        pd.testing.assert_frame_equal(pd.concat(tables[name], ignore_index=True), kept[name].leads, check_exact=True)
        pd.testing.assert_frame_equal(streamed[name].replications, kept[name].replications, check_exact=True)
        pd.testing.assert_frame_equal(streamed[name].daily, kept[name].daily, check_exact=True)


@pytest.mark.parametrize("finishing", [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [1, 0, 3, 2, 5, 4], [2, 0, 1, 5, 3, 4]])
def test_results_in_task_order_come_as_soon_as_those_before_them_are_done(monkeypatch, finishing):
    """``in_order`` gives the tasks' results in their order however they finish, each as soon as
    every task before it is done, so a run writing leads to disk waits for no more than that."""
    from funnelsim.experiments import executors

    finished: list[int] = []

    def out_of_order(job, tasks, *args):
        for number in finishing:
            finished.append(number)
            yield job(tasks[number])

    monkeypatch.setattr(executors, "run_each", out_of_order)
    given = []
    for result in executors.in_order(lambda task: task * 10, list(range(6))):
        earliest = next(k for k in range(len(finishing) + 1) if set(range(result // 10 + 1)) <= set(finishing[:k]))
        assert len(finished) == earliest, f"result {result // 10} came after {finished}, ready after {finishing[:earliest]}"
        given.append(result)
    assert given == [0, 10, 20, 30, 40, 50]

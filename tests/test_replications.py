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

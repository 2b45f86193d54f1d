"""The model's parts that hold state: the lead records and the SDR team.

The records are preallocated numpy columns grown by doubling; a run whose records grow while
deals are open must give the same tables as one with room to spare. The SDR team counts the
attempts waiting for a rep without the reps' own requests to go home.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import simpy
from conftest import scenario

from funnelsim.experiments.experiment import replication_seeds
from funnelsim.model import context, simulate
from funnelsim.model.records import LEAD_COLUMNS, LeadRecords
from funnelsim.model.teams import RepPool


def test_every_record_column_is_a_declared_typed_attribute():
    declared = {name: kind for name, kind in LeadRecords.__annotations__.items() if kind in ("FloatColumn", "IntColumn")}
    assert set(declared) == set(LeadRecords.FLOAT_COLUMNS) | set(LeadRecords.INT_COLUMNS)
    assert all(declared[name] == "FloatColumn" for name in LeadRecords.FLOAT_COLUMNS)
    assert all(declared[name] == "IntColumn" for name in LeadRecords.INT_COLUMNS)
    records = LeadRecords(["a", "b"], capacity=16)
    for name in LeadRecords.FLOAT_COLUMNS:
        assert records.column(name).dtype == np.float64 and np.isnan(records.column(name)).all()
    for name in LeadRecords.INT_COLUMNS:
        assert records.column(name).dtype == np.int64
    assert set(LeadRecords.FLOAT_COLUMNS) - {"deal_size"} == {n for n, (t, _, _) in LEAD_COLUMNS.items() if t == "float64"}


def test_growing_records_keep_what_was_written():
    records = LeadRecords(["a"], capacity=16)
    ids = records.add(10)
    records.sql_at[ids] = np.arange(10.0)
    records.attempts[ids] = 3
    more = records.add(100)  # grows the arrays
    assert len(records.sql_at) >= 110 and list(more) == list(range(10, 110))
    assert list(records.sql_at[:10]) == list(range(10)) and np.isnan(records.sql_at[10:110]).all()
    assert (records.attempts[:10] == 3).all() and (records.attempts[10:110] == 0).all()


def test_records_that_grow_mid_run_give_the_same_tables(monkeypatch):
    """Deals stamp the stages they enter while other leads arrive: a stamp written after the
    records grew must land in the grown column, not in the array it replaced."""
    sc = scenario("simulation.horizon_days=200", "simulation.warmup_days=20")
    seed = replication_seeds(3, 1)[0]
    roomy = simulate(sc, seed)

    class Tight(LeadRecords):
        __slots__ = ()

        def __init__(self, channels: list[str], capacity: int = 1024):
            super().__init__(channels, capacity=16)  # grows a dozen times in the run

    monkeypatch.setattr(context, "LeadRecords", Tight)
    tight = simulate(sc, seed)
    assert tight.leads["objection_handling_at"].notna().sum() > 0
    pd.testing.assert_frame_equal(roomy.leads, tight.leads)
    pd.testing.assert_frame_equal(roomy.daily, tight.daily)


def test_the_sdr_queue_counts_calls_not_reps_going_home():
    env = simpy.Environment()
    reps = RepPool(env, capacity=2)
    on_call = [reps.call(0.0), reps.call(-70.0)]  # both reps busy
    waiting = [reps.call(-80.0), reps.call(0.0), reps.call(-50.0)]
    env.run(until=1)
    assert all(r.triggered for r in on_call) and not any(r.triggered for r in waiting)
    assert reps.calls_waiting() == 3
    home = reps.go_off_duty()
    assert len(reps.queue) == 5 and reps.calls_waiting() == 3
    assert reps.queue[:2] == home  # the reps go home before any lead is called
    assert [r.priority for r in reps.queue[2:]] == [-80.0, -50.0, 0.0]  # best score first

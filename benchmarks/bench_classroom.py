"""Benchmark of the classroom: how long one slider move takes, simulation and redraw.

Run: ``python benchmarks/bench_classroom.py`` (``make bench`` runs it). It prints, and asserts
nothing. A slider move re-runs the class's settings (nine months, one replication) beside
today's company, which is simulated once per seed and kept: the panel's first picture, drawn
when it is displayed, simulates both; every move after it simulates only the class's.

Printed: the median wall time of a move, split into the simulation and the redraw (figure
rendered, KPI table built), in seconds (the brief: within a couple of seconds), and as ratios
to a bare SimPy M/M/5 queue timed in the same process (``simpy_baseline.py``, the unit of
``bench_engine.py``): the move in customers of the bare queue, and the simulation's "x bare"
per lead, comparable with ``bench_engine.py``'s; then the panel's first picture.
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the headless backend
from simpy_baseline import seconds_per_customer  # noqa: E402

from funnelsim.config.paths import PARAMS_DIR  # noqa: E402
from funnelsim.present.explorer import EXPLORER_DAYS  # noqa: E402
from funnelsim.studies import classroom  # noqa: E402
from funnelsim.experiments.experiment import run_scenario  # noqa: E402
from funnelsim.studies.classroom import classroom_scenario, draw, kpi_table, play  # noqa: E402


PARAMS = PARAMS_DIR


def redraw(run: classroom.ClassroomRun, stacked: bool = False) -> float:
    """Seconds to draw the funnel and revenue figure, render it, and build the KPI table."""
    started = time.perf_counter()
    fig = draw(run, stacked)
    fig.canvas.draw()
    kpi_table(run)
    plt.close(fig)
    return time.perf_counter() - started


def main(repeats: int = 5) -> None:
    unit = seconds_per_customer()
    leads = len(run_scenario(classroom_scenario({}), 1, 1).leads)  # leads in one nine-month run (also warms up)
    classroom._today.cache_clear()
    started = time.perf_counter()
    cold = play({"sdr_team.reps": 8}, seed=1)
    cold_simulate = time.perf_counter() - started
    cold_total = cold_simulate + redraw(cold)
    simulate, drawing = [], []
    for i in range(repeats):
        started = time.perf_counter()
        run = play({"sdr_team.reps": 6 + i % 3, "handoff.latency_hours.median": 0.5 + i}, seed=1)
        simulate.append(time.perf_counter() - started)
        drawing.append(redraw(run))
    sim, draw_s = statistics.median(simulate), statistics.median(drawing)
    after = seconds_per_customer()
    print(f"unit: bare SimPy M/M/5: {unit * 1e6:.2f} us per customer (after the moves: {after * 1e6:.2f})")
    print(f"one slider move, median of {repeats}: simulate {sim:.2f} s + redraw {draw_s:.2f} s = {sim + draw_s:.2f} s "
          f"= {(sim + draw_s) / unit:,.0f} bare SimPy customers")
    print(f"simulation: {leads:,} leads in {sim:.2f} s = {sim / leads * 1e6:.1f} us per lead = "
          f"{sim / leads / unit:.2f} x bare")
    print(f"the panel's first picture (today's company simulated too): {cold_total:.2f} s "
          f"= {cold_total / unit:,.0f} bare SimPy customers")
    explorer_move(unit, repeats)


def explorer_move(unit: float, repeats: int) -> None:
    """The what-if explorer's move (``funnelsim app``): the fully aligned company, its own horizon."""
    base = PARAMS / "scenarios" / "fully-aligned.yaml"
    start = classroom.starting_values(base)
    play(start, 1, EXPLORER_DAYS, base)  # the starting company, simulated once
    moves = []
    for i in range(repeats):
        started = time.perf_counter()
        run = play(start | {"follow_up.follow_up_rate": 0.6 + 0.05 * i}, 1, EXPLORER_DAYS, base)
        moves.append(time.perf_counter() - started + redraw(run, stacked=True))
    move = statistics.median(moves)
    print(f"what-if explorer ({base.name}, {EXPLORER_DAYS} days), one slider move, median of {repeats}: {move:.2f} s "
          f"= {move / unit:,.0f} bare SimPy customers (in the browser add the widget round trip)")


if __name__ == "__main__":
    main()

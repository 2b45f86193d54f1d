"""Benchmark of the classroom: how long one slider move takes, simulation and redraw.

Run: ``python benchmarks/bench_classroom.py`` (``make bench`` runs it). It prints, and asserts
nothing: the median wall time of one re-run (today's company and the class's settings, nine
months each, one replication) and of the redraw, in seconds (the brief: within a couple of
seconds) and as a ratio to a bare SimPy M/M/5 queue's time per customer in the same process.
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the headless backend

from simpy_baseline import seconds_per_customer  # noqa: E402

from funnelsim.classroom import draw, kpi_table, play  # noqa: E402


def main(repeats: int = 5) -> None:
    unit = seconds_per_customer()
    simulate, redraw = [], []
    for i in range(repeats):
        started = time.perf_counter()
        run = play({"sdr_team.reps": 6 + i % 3, "handoff.latency_hours.median": 0.5 + i}, seed=1)
        simulate.append(time.perf_counter() - started)
        started = time.perf_counter()
        fig = draw(run)
        fig.canvas.draw()
        kpi_table(run)
        plt.close(fig)
        redraw.append(time.perf_counter() - started)
    sim, draw_s = statistics.median(simulate), statistics.median(redraw)
    print(f"bare SimPy M/M/5: {unit * 1e6:.2f} us per customer (the unit below)")
    print(f"one slider move: simulate {sim:.2f} s + redraw {draw_s:.2f} s = {sim + draw_s:.2f} s "
          f"= {(sim + draw_s) / unit:,.0f} SimPy customers")


if __name__ == "__main__":
    main()

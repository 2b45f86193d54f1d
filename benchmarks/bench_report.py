"""Benchmark of the alignment report (``make report``): where the user's wait goes.

Run from anywhere: ``python benchmarks/bench_report.py [--quick]`` (``make bench`` runs the quick
form). It prints figures and asserts nothing. The default renders the report at its embedded
defaults, as ``make report`` does (a few minutes on two cores); ``--quick`` with the small
parameters the test suite uses (well under a minute).

What is measured
    The report is rendered once with ``funnelsim.present.reports.render_report`` into a
    temporary folder. Its wall time is split into:

    * imports: the notebook's import lines, timed in a fresh Python process;
    * the study: the cell that runs ``run_alignment_impact`` (its simulations on local
      processes and its statistical fits), less the imports;
    * figures: the cells that draw (``plots.`` or ``_figure(`` in their source);
    * tables and sentences: every other cell;
    * HTML: exporting the executed notebook to the page (``reports._export_html``, timed again
      on the executed notebook);
    * kernel and papermill: the rest (starting the kernel, injecting the parameters, saving).

    Cell times are papermill's own (``metadata.papermill.duration`` of each cell). Each figure is
    also given as a ratio to the wall time of 50,000 customers of a bare SimPy M/M/5 queue timed
    in the same process (``simpy_baseline.py``, the unit of every benchmark here).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from simpy_baseline import seconds_per_customer

from funnelsim.present import reports

ROOT = Path(__file__).resolve().parents[1]
QUICK = {"replications": 2, "sweep_points": 12, "sweep_replications": 1, "uncertainty_draws": 4, "gap_replications": 1,
         "overrides": ["simulation.horizon_days=120", "simulation.warmup_days=30"]}
STUDY = "run_alignment_impact("


def _imports_seconds(source: str) -> float:
    """The wall time of a cell's import lines in a fresh Python process."""
    lines = [line for line in source.splitlines() if re.match(r"\s*(import|from)\s", line)]
    code = "import time\nt = time.perf_counter()\n" + "\n".join(lines) + "\nprint(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the test suite's small parameters")
    args = parser.parse_args()
    unit = seconds_per_customer() * 50_000
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        out = Path(folder) / "report"
        began = time.perf_counter()
        reports.render_report("alignment_impact", QUICK if args.quick else {}, out)
        wall = time.perf_counter() - began
        executed = nbformat.read(out / "report.ipynb", as_version=4)
        began = time.perf_counter()
        reports._export_html(out / "report.ipynb", Path(folder) / "again.html")
        html = time.perf_counter() - began
    parts = {"imports": 0.0, "the study (simulation and fits)": 0.0, "figures": 0.0, "tables and sentences": 0.0}
    for cell in executed.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []) or "injected-parameters" in cell.metadata.get("tags", []):
            continue
        seconds = float(cell.metadata.get("papermill", {}).get("duration") or 0.0)
        if STUDY in cell.source:
            imports = _imports_seconds(cell.source)
            parts["imports"] += imports
            parts["the study (simulation and fits)"] += seconds - imports
        elif "plots." in cell.source or "_figure(" in cell.source:
            parts["figures"] += seconds
        else:
            parts["tables and sentences"] += seconds
    parts["HTML export"] = html
    parts["kernel and papermill"] = wall - sum(parts.values())
    what = "the test suite's small parameters" if args.quick else "its embedded defaults (make report)"
    print(f"bench_report: Python {sys.version.split()[0]}; the alignment report at {what}")
    print(f"unit: 50,000 customers of a bare SimPy M/M/5 = {unit:.3f} s\n")
    print(f"{'part':<34}{'seconds':>9}{'share':>8}{'x unit':>9}")
    for name, seconds in parts.items():
        print(f"{name:<34}{seconds:>9.1f}{seconds / wall:>8.0%}{seconds / unit:>9.1f}")
    print(f"{'whole report':<34}{wall:>9.1f}{1:>8.0%}{wall / unit:>9.1f}")


if __name__ == "__main__":
    main()

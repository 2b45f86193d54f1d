"""Write the README's "How long it takes": each timed command of the README, run alone and timed.

The README's waits for its main commands are measured, not typed. This script runs, one after
another and with nothing else running, the commands whose wait the README states: the
alignment report (what ``make report`` runs), the check of the shipped scenarios, the claims
check report and the test suite (what ``make test`` runs), each in a fresh process from this
checkout with the virtual environment in place. Reports are written to a temporary folder
(``FUNNELSIM_REPORTS``), so nothing under ``reports/`` is touched and no earlier run is reused.
It rewrites the block between ``<!-- figures:timings -->`` and ``<!-- /figures:timings -->`` in
README.md with the wall time of each, the date, the number of CPUs and how fast the machine was
then (the benchmarks' unit, timed first; about ten minutes on two cores):

    .venv/bin/python tools/timing_figures.py [--skip-tests]
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from readme_figures import replace_block  # tools/ is this script's folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from simpy_baseline import seconds_per_customer  # noqa: E402  (the benchmarks' unit, to say how fast the machine was)

BIN = Path(sys.executable).parent
SCENARIOS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "params" / "scenarios").glob("*.yaml"))
# (what the README shows, what runs): the README's commands, as make or a shell would run them
COMMANDS = [
    ("`make report` (`funnelsim report alignment_impact`)", [str(BIN / "funnelsim"), "report", "alignment_impact"]),
    ("`funnelsim check params/baseline.yaml params/scenarios/*.yaml`",
     [str(BIN / "funnelsim"), "check", "params/baseline.yaml", *SCENARIOS]),
    ("`funnelsim report claims_check`", [str(BIN / "funnelsim"), "report", "claims_check"]),
]
TESTS = ("`make test` (`pytest -n 2 --dist loadgroup`)", [str(BIN / "python"), "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q"])


def timed(command: list[str], reports: Path) -> float:
    """The wall time of ``command`` in seconds, run from the checkout with its reports written
    under ``reports``; a failure stops the script."""
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "FUNNELSIM_REPORTS": str(reports)})
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return time.perf_counter() - began


def duration(seconds: float) -> str:
    """``18 s``, ``1 min 19 s``."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tests", action="store_true", help="leave the test suite out of the table")
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args()
    commands = COMMANDS + ([] if args.skip_tests else [TESTS])
    unit = seconds_per_customer() * 50_000
    rows = ["| command | wall time |", "|---|---|"]
    with tempfile.TemporaryDirectory(prefix="timing-figures-") as folder:
        for shown, command in commands:
            seconds = timed(command, Path(folder))
            rows.append(f"| {shown} | {duration(seconds)} |")
            print(rows[-1], flush=True)
    stamp = (f"*Each command run alone, one after another, by `tools/timing_figures.py` on "
             f"{datetime.date.today().isoformat()} ({os.cpu_count()} CPUs, the virtual environment in place, not counting "
             f"the first install; the benchmarks' unit, 50,000 customers of a bare SimPy M/M/5, took {unit:.2f} s just "
             "before: the same machine's speed varies by up to 40% from hour to hour).*")
    readme = Path(args.readme)
    readme.write_text(replace_block(readme.read_text(encoding="utf-8"), "timings", "\n".join(rows), stamp), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Write the README's "How sure are we" figures: the uncertainty example's output and the PSA benchmark.

The README never types a result. This script runs the README's `funnelsim uncertainty` example
(three companies over 30 plausible models, 2 replications each), analyses the same runs again
with a costly closed loop (`--resume --cost closed-loop=7500000`, where the choice becomes
close and measuring starts to pay), and runs `benchmarks/bench_uncertainty.py` (the cost of a
PSA and the cheapest honest settings). Each output is copied, as printed, into the blocks
between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->`` of README.md, with the wall
time it took. Run it after a change to the model, the ensemble or the shipped scenarios (a few
minutes on two cores; nothing else should run beside it, the benchmark times itself):

    .venv/bin/python tools/uncertainty_figures.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from readme_figures import replace_block  # tools/ is this script's folder

ROOT = Path(__file__).resolve().parents[1]
FUNNELSIM = Path(sys.executable).parent / "funnelsim"
EXAMPLE = ["params/baseline.yaml", "params/scenarios/realtime-routing.yaml", "params/scenarios/closed-loop.yaml",
           "--cost", "realtime-routing=30000", "--cost", "closed-loop=40000", "--threshold", "revenue=0.10"]
COSTLY = ["--cost", "realtime-routing=30000", "--cost", "closed-loop=7500000", "--threshold", "revenue=0.10"]


def _run(command: list[str]) -> tuple[str, float]:
    """A command's standard output and its wall time in minutes; a failure stops the script."""
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout.rstrip(), (time.perf_counter() - began) / 60


def _section(text: str, first: str) -> str:
    """The lines of ``text`` from the one starting with ``first`` to the next blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args()
    readme = Path(args.readme)
    text = readme.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="uncertainty-figures-") as folder:
        out = ["--out", str(Path(folder) / "study"), "--yes", "--no-progress"]
        example, minutes = _run([str(FUNNELSIM), "uncertainty", *EXAMPLE, *out])
        # the last line names this script's temporary folder: not for the README
        example = "\n".join(line for line in example.splitlines() if not line.startswith("Tables (CSV and parquet) in ")).rstrip()
        text = replace_block(text, "uncertainty", f"```\n{example}\n```",
                             f"*The first command above, as printed ({minutes:.1f} minutes on this two-core machine), "
                             "copied by `tools/uncertainty_figures.py`.*")
        costly, _ = _run([str(FUNNELSIM), "uncertainty", *EXAMPLE[:3], *COSTLY, *out, "--resume"])
        worth = _section(costly, "Which of your own numbers is worth measuring")
        text = replace_block(text, "uncertainty-costly", f"```\n{worth}\n```",
                             "*The same runs analysed again with a closed loop costing 7.5 million a year "
                             "(`--resume --cost closed-loop=7500000`), as printed, copied by `tools/uncertainty_figures.py`.*")
    bench, minutes = _run([sys.executable, "benchmarks/bench_uncertainty.py"])
    text = replace_block(text, "psa-cost", f"```\n{bench}\n```",
                         f"*`python benchmarks/bench_uncertainty.py`, as printed ({minutes:.1f} minutes), copied by "
                         "`tools/uncertainty_figures.py`.*")
    readme.write_text(text, encoding="utf-8")
    print(example, worth, bench, sep="\n\n")


if __name__ == "__main__":
    main()

"""Fit the reach of the signs of alignment to the surveys, and write it down with the README's figures.

The assessment moves each sign's lever only part of the way from the typical company toward the
value the seeds give the least or the most aligned firms: the reach (``funnelsim.studies.reach``).
This script fits it to the surveys' figures (``funnelsim.studies.reach_fit``: the model's fully
aligned and fully misaligned companies at every reach of a grid, paired by replication), writes
``params/ensemble/alignment-reach.yaml`` (which the assessment reads), and rewrites the block
between ``<!-- figures:reach -->`` and ``<!-- /figures:reach -->`` in README.md. Run it after a
change to the model, then regenerate the maturity levels with ``funnelsim assess`` and the other
figures with ``tools/readme_figures.py`` (a few minutes on two cores):

    .venv/bin/python tools/reach_figures.py
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import yaml

from funnelsim.config.files import atomic_write_text
from funnelsim.config.schema import load_scenario
from funnelsim.stats.measures import mean_ci
from funnelsim.studies.reach import DEFAULT_REACH_FILE, ReachFit, load_reach
from funnelsim.studies.reach_fit import fit_reach
from funnelsim.studies.targets import load_targets

from readme_figures import figure_arguments, replace_block  # tools/ is this script's folder

ROOT = Path(__file__).resolve().parents[1]
HEADER = """\
# How far a maturity level moves each sign's levers from the typical company toward the seeds'
# values for the least (no) or most (yes) aligned firms: fitted to the alignment surveys.
# Written by tools/reach_figures.py; do not edit by hand (see funnelsim.studies.reach).
"""


def _pct(value: float) -> str:
    return f"{value:+.0%}"


def _effect(logs: pd.Series) -> str:
    m = mean_ci(logs)
    return f"{_pct(math.expm1(m.value))} ({_pct(math.expm1(m.low))} to {_pct(math.expm1(m.high))})"


def block(fit: ReachFit, gaps: pd.DataFrame) -> str:
    targets = load_targets()
    claims = {i: targets.by_id(i) for i in fit.targets}
    head = ["each lever moves", *(f"{c.metric.replace('_', ' ')}: {c.source.split('(')[0].strip()} {_pct(c.figure)}" for c in claims.values())]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for reach, rows in gaps.groupby("reach"):
        cells = [_effect(rows[rows.metric == c.metric].log_ratio) for c in claims.values()]
        lines.append(f"| {reach:.1%} of the way | " + " | ".join(cells) + " |")
    per = []
    for target_id, t in fit.targets.items():
        c = claims[target_id]
        if t.reach is None:
            per.append(f"{c.source.split('(')[0].strip()}'s {_pct(c.figure)} is not met on the grid")
        else:
            noise = f" (simulation noise allows {t.low:.1%} to {t.high:.1%})" if t.low is not None and t.high is not None else ""
            per.append(f"{c.source.split('(')[0].strip()}'s {_pct(c.figure)} is met at {t.reach:.1%}{noise}")
    lines += ["", f"Fitted reach: **{fit.reach:.1%}** of the way, for every sign. " + "; ".join(per) + ". " +
              "The maturity levels (`params/scenarios/`) are written by `funnelsim assess` at this reach; "
              "HBR's population of firms still spans the whole spread."]
    return "\n".join(lines)


def main() -> None:
    args = figure_arguments(__doc__.splitlines()[0])
    command = f"tools/reach_figures.py --replications {args.replications} --seed {args.seed}"
    fit, gaps = fit_reach(load_scenario(ROOT / "params" / "baseline.yaml"), load_targets(), args.replications,
                          args.seed, args.workers, command=command)
    atomic_write_text(DEFAULT_REACH_FILE, HEADER + yaml.safe_dump(fit.model_dump(mode="json"), sort_keys=False, width=100))
    load_reach()  # what was written reads back
    stamp = (f"*Measured by `tools/reach_figures.py` ({args.replications} replications per company and reach, seed "
             f"{args.seed}); effects are fully aligned against fully misaligned, paired by replication, with 95% "
             "intervals of simulation noise.*")
    path = Path(args.readme)
    path.write_text(replace_block(path.read_text(encoding="utf-8"), "reach", block(fit, gaps), stamp), encoding="utf-8")
    print(block(fit, gaps))


if __name__ == "__main__":
    main()

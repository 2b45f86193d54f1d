"""How far a maturity level reaches: the share of the firms' spread that separates aligned from not.

The seeds describe what the least and the most aligned firms do (a working day's handoff
against minutes, half of the accepted leads worked against all of them, ...): the ends of the
spread of real firms, the lever registry's "no" and "yes". The surveys that measured what
alignment is worth (MathMarketing: 38% more proposals won; Miller Heiman: lead conversion 29%
against 24%) compared firms that *call themselves* aligned with the rest, and those groups differ
far less than the extremes. A company at a maturity level therefore moves only a share of the
way from the typical company toward the ends its answers point to: the *reach*. It is one number
for all eleven signs (two survey figures cannot tell eleven reaches apart), fitted to those two
figures by ``tools/reach_figures.py`` and kept with how it was fitted in
``params/ensemble/alignment-reach.yaml``; the assessment reads it from there. HBR's population of
firms (``funnelsim.studies.evidence``) still spans the whole spread, as HBR's firms did.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from funnelsim.config.loading import load_validated
from funnelsim.config.paths import PARAMS_DIR

__all__ = ["ReachFit", "TargetReach", "load_reach", "alignment_reach", "DEFAULT_REACH_FILE"]

DEFAULT_REACH_FILE = PARAMS_DIR / "ensemble" / "alignment-reach.yaml"
Share = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetReach(_Strict):
    """The reach at which one survey figure is met, with the reaches simulation noise cannot rule out."""

    figure: float
    reach: Share | None  # None: no reach on the fitted grid meets the figure
    low: Share | None
    high: Share | None


class ReachFit(_Strict):
    """The fitted reach and how it was fitted."""

    reach: Share
    method: str
    command: str
    seed: int
    replications: Annotated[int, Field(ge=1)]
    grid: list[Share] = Field(min_length=3)
    targets: dict[str, TargetReach] = Field(min_length=1)


def load_reach(path: str | Path = DEFAULT_REACH_FILE) -> ReachFit:
    """Read and check a reach file; a mistake names the file, the key and what is allowed."""
    return load_validated(path, ReachFit)


@functools.cache
def alignment_reach() -> float:
    """The fitted reach the assessment uses (read once per process)."""
    return load_reach().reach

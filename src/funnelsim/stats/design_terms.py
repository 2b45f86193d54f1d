"""Which lever effects a sweep's design can tell apart.

A sweep simulates a handful of lever combinations. A small design cannot separate everything:
in an 8-point screening fraction of seven levers, the effect of one lever moves in lock-step
with the interplay of two others, so no fit can say which of the two did it. Fitting both
anyway gives confident nonsense (tiny p-values on numbers that are an arbitrary split).

``estimable_terms`` reads the design itself, the distinct lever combinations, and picks the
terms a metamodel may fit: every lever's own effect (an error if two levers always move
together), then each two-lever interplay only where the design can tell it apart from the
terms already chosen (at least half of its variation across the points is its own; in a
regular two-level fraction a term is either wholly its own or wholly aliased). For every term left out it records which fitted terms it hides in, with
the sign and weight (+1 or −1 in a regular fraction): the design's alias structure, found by
least squares on the levers coded from −1 (lowest value in the sweep) to +1 (highest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["DesignTerms", "estimable_terms"]

Term = tuple[str, ...]  # ("a",): a lever's own effect; ("a", "b"): the interplay of two levers

_ALIASED = 1e-8  # share of a lever's variation left after the levers before it: below this it is aliased
_OWN = 0.5  # an interplay is fitted only if at least this share of its variation is its own
_SHOWN = 0.25  # weights smaller than this (on the coded scale) are not listed as confounding


@dataclass(frozen=True)
class DesignTerms:
    """The terms a design can estimate, and what each fitted term also carries."""

    terms: list[Term]
    points: int
    confounded: dict[Term, list[tuple[float, Term]]] = field(default_factory=dict)

    @property
    def saturated(self) -> bool:
        """True when the design has no combination to spare beyond the fitted terms, so how
        well the metamodel fits between points cannot be tested."""
        return len(self.terms) + 1 >= self.points

    def formula(self) -> str:
        """The terms as the right-hand side of a statsmodels formula."""
        return " + ".join(":".join(term) for term in self.terms)


def _coded(points: pd.DataFrame) -> pd.DataFrame:
    low, high = points.min(), points.max()
    flat = [str(name) for name in points.columns if not high[name] > low[name]]
    if flat:
        raise ValueError(f"lever {flat[0]} takes one value in every point of the sweep: its effect cannot be estimated")
    return (2 * points - (high + low)) / (high - low)


def _column(coded: pd.DataFrame, term: Term) -> np.ndarray:
    return np.prod([coded[name].to_numpy(float) for name in term], axis=0)


def estimable_terms(points: pd.DataFrame, interactions: bool = True) -> DesignTerms:
    """The terms to fit on ``points`` (one column per lever, one row per run or per distinct
    combination): each lever's own effect and, with ``interactions``, every two-lever
    interplay the design can tell apart from the terms before it. Interplays the design cannot
    tell apart are recorded as confounding even without ``interactions``: a lever's fitted
    effect still carries them. Raises ``ValueError`` when a lever is constant or two levers'
    own effects cannot be told apart."""
    distinct = points.astype(float).drop_duplicates().reset_index(drop=True)
    coded = _coded(distinct)
    names = [str(name) for name in distinct.columns]
    chosen: list[Term] = []
    matrix = np.ones((len(distinct), 1))
    confounded: dict[Term, list[tuple[float, Term]]] = {}
    for term in [*((name,) for name in names), *combinations(names, 2)]:
        column = _column(coded, term)
        weights, *_ = np.linalg.lstsq(matrix, column, rcond=None)
        left = column - matrix @ weights
        spread = float(np.sum((column - column.mean()) ** 2)) or 1.0
        if float(np.sum(left**2)) / spread > (_ALIASED if len(term) == 1 else _OWN):
            if len(term) == 1 or interactions:
                chosen.append(term)
                matrix = np.column_stack([matrix, column])
            continue
        if len(term) == 1:
            partners = [chosen[i - 1] for i in range(1, len(weights)) if abs(weights[i]) > _SHOWN]
            together = " and ".join(" × ".join(p) for p in partners) or "the average"
            raise ValueError(
                f"lever {term[0]} moves together with {together} in every point of the sweep: their effects cannot be "
                "told apart; use a design of higher resolution or more points"
            )
        for i in range(1, len(weights)):
            if abs(weights[i]) > _SHOWN:
                confounded.setdefault(chosen[i - 1], []).append((round(float(weights[i]), 3), term))
    return DesignTerms(chosen, len(distinct), confounded)

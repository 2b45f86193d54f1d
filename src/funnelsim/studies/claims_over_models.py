"""How sure is the claims check: each published claim beside the model over the evidence ensemble.

The claims check (``claims.py``) sets each published alignment figure beside the model's effect
for the same comparison at the model's central values. Over the evidence ensemble (every member
reproduces every published figure) the same comparison is made once per member, with common
random numbers, so for each claim:

* ``claim_effects_over_draws``: the model's effect per draw and replication, the aligned
  company against the claim's reference (growth claims: the first year of the misaligned
  company become aligned);
* ``claims_over_models``: its mean over the draws, the range across plausible models and the
  simulation noise beside it, the chance the effect points the claim's way and that it is at
  least the claim, and whether the claim lies inside the range;
* ``claims_range_summary``: the sentences that lead the report, with the uncertain parameter
  the effects lean on most and how a company measures it from its CRM export.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from funnelsim.studies.claims import CLAIMS, add_claim_kpis

__all__ = ["RANGE_COLUMNS", "claim_effects_over_draws", "claims_over_models", "claims_range_summary"]


RANGE_COLUMNS = ["claim", "statement", "kpi", "claimed", "mean", "range_low", "range_high", "noise_low", "noise_high",
                 "p_claim_direction", "p_at_least_claim", "claim_vs_range", "draws"]


def claim_effects_over_draws(runs: pd.DataFrame, typical: str, misaligned: str, aligned: str) -> pd.DataFrame:
    """Each claim's model effect per draw and replication (``psa.paired_effects``' layout, the
    claim's id in column ``scenario``), from a PSA's runs (``uncertainty_results.study_runs``: one row
    per draw, scenario and replication) of the ``typical``, ``misaligned`` and ``aligned``
    companies: the aligned company against the claim's reference in the same draw and
    replication; growth claims, the first year of the misaligned company become aligned."""
    from funnelsim.stats.psa import paired_effects

    data = pd.concat([add_claim_kpis(group, stayed=misaligned) for _, group in runs.groupby("draw", sort=True)],
                     ignore_index=True)
    frames = []
    for claim in CLAIMS:
        if claim.kpi == "transition_growth":  # already a change from the misaligned company
            rows = data[data["scenario"] == aligned]
            frames.append(pd.DataFrame({"draw": rows["draw"].to_numpy(), "scenario": claim.id,
                                        "replication": rows["replication"].to_numpy(), "kpi": claim.kpi,
                                        "scale": "relative", "effect": rows["transition_growth"].to_numpy(float)}))
            continue
        reference = typical if claim.reference == "typical" else misaligned
        pair = data[data["scenario"].isin([reference, aligned])]
        frames.append(paired_effects(pair, reference, [claim.kpi]).assign(scenario=claim.id))
    return pd.concat(frames, ignore_index=True)


def _against_range(claimed: float, low: float, high: float) -> str:
    """Where a claim lies against the model's range, read in the claim's direction."""
    if not np.isfinite(claimed):
        return "not comparable"
    if low <= claimed <= high:
        return "inside the range"
    sign = 1.0 if claimed >= 0 else -1.0
    return "model gives a larger effect" if claimed * sign < min(low * sign, high * sign) else "model gives a smaller effect"


def claims_over_models(effects: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per claim, from ``claim_effects_over_draws``: the model's mean effect over the draws, its
    range across plausible models and simulation-noise CI (``psa.summarise_effects``), the
    probability that the effect points the claim's way and that it is at least the claim, and
    whether the claim lies inside the range."""
    from funnelsim.stats.psa import summarise_effects

    rows = []
    for claim in CLAIMS:
        mine = effects[effects["scenario"] == claim.id]
        claimed = claim.change if claim.change is not None else float("nan")
        thresholds = {claim.kpi: claimed} if claim.change is not None else {}
        row = summarise_effects(mine, thresholds, level).iloc[0]
        up = claim.direction > 0
        p_direction = row["p_positive"] if up else 1 - row["p_positive"]
        p_claim = row["p_above"] if up else 1 - row["p_above"]
        rows.append({
            "claim": claim.id, "statement": claim.statement, "kpi": claim.kpi, "claimed": claimed,
            "mean": row["mean"], "range_low": row["range_low"], "range_high": row["range_high"],
            "noise_low": row["noise_low"], "noise_high": row["noise_high"],
            "p_claim_direction": p_direction if claim.change is not None else float("nan"),
            "p_at_least_claim": p_claim if claim.change is not None else float("nan"),
            "claim_vs_range": _against_range(claimed, row["range_low"], row["range_high"]),
            "draws": int(row["draws"]),
        })
    return pd.DataFrame(rows, columns=RANGE_COLUMNS)


def claims_range_summary(ranges: pd.DataFrame, sensitivity: pd.DataFrame, parameters: list[Any], draws: int) -> list[str]:
    """The sentences that lead the report: how many claims lie inside the range across plausible
    models, and the assumption the effects lean on most (the parameter that is the first driver
    of the most claims, ``uncertainty_results.sensitivity_table`` over the claims) with how a company
    measures it from its CRM (``uncertainty_results.how_to_measure``)."""
    from funnelsim.studies.uncertainty_results import how_to_measure

    comparable = ranges[ranges["claim_vs_range"] != "not comparable"]
    counts = comparable["claim_vs_range"].value_counts()
    lines = [
        f"Over {draws} plausible models (members of the evidence ensemble, each reproducing every published figure), "
        f"{counts.get('inside the range', 0)} of {len(comparable)} comparable claims lie inside the model's 95% range "
        f"for the same comparison; the model gives a larger effect than {counts.get('model gives a larger effect', 0)} "
        f"and a smaller one than {counts.get('model gives a smaller effect', 0)}."
    ]
    share = ((comparable["noise_high"] - comparable["noise_low"]) / (comparable["range_high"] - comparable["range_low"])).median()
    if np.isfinite(share):
        lines.append(
            f"Simulation noise alone spans {share:.0%} of the range's width (median over the claims): "
            + ("the evidence, not the simulation, limits how sure the check can be." if share < 0.5 else
               "much of the range is simulation noise, which more replications would shrink.")
        )
    pointing = comparable[comparable["p_claim_direction"] < 0.5]
    if len(pointing):
        lines.append("In most plausible models the effect points against the claim for: "
                     + ", ".join(f"'{c}'" for c in pointing["claim"]) + ".")
    known = sensitivity.dropna(subset=["index"])
    known = known[known["scenario"].isin(comparable["claim"])]
    if known.empty:
        lines.append(f"Too few plausible models ({draws}) to say which assumption the effects lean on most: "
                     "raise uncertainty_draws (5 or more), or run funnelsim uncertainty at full size.")
        return lines
    firsts = known.sort_values("index", ascending=False, kind="stable").drop_duplicates("scenario")
    tally = firsts.groupby("parameter").agg(claims=("scenario", "size"), index=("index", "mean"))
    key = str(tally.sort_values(["claims", "index"], ascending=False, kind="stable").index[0])
    entry = next(p for p in parameters if p.key == key)
    lead = firsts[firsts["parameter"] == key]
    lines.append(
        f"The answer leans most on '{entry.name}' ({entry.group}): of every uncertain parameter it explains the most "
        f"of the spread across plausible models for {len(lead)} of {len(firsts)} claims (alone "
        + (f"{lead['index'].iloc[0]:.0%}" if len(lead) == 1 else f"{lead['index'].min():.0%} to {lead['index'].max():.0%}")
        + f" of it, over {draws} draws); {how_to_measure(entry)}."
    )
    return lines

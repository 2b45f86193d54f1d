"""Staffing: a company hires the SDRs and account executives its own lead flow needs.

A company that aligns its teams and suddenly qualifies twice as many leads does not leave them
waiting for a handful of account executives for ever; it hires. And a company whose sales team
accepts a quarter of marketing's leads does not keep a room of idle SDRs. So a company's teams
are sized for its own flow: a pilot run with more reps than could ever be busy measures how
much work there is, and the team is the smallest that does it at a healthy load:

* SDRs: the hours of calls they make, at ``sdr_load`` of the hours they are in the office
  (the rest of an SDR's day is research, email and meetings);
* account executives: the deals open at once (Little's law: deals opened a day times the days
  a deal stays open), at ``ae_load`` of their deal slots, so a busy month does not make
  qualified buyers wait.
"""

from __future__ import annotations

import math

import numpy as np

from funnelsim.config.schema import Scenario, with_settings
from funnelsim.experiments.experiment import run_replication

__all__ = ["SDR_LOAD", "AE_LOAD", "staff", "team_sizes"]

SDR_LOAD = 0.5
AE_LOAD = 0.75
_PILOT_SDRS = 60  # more SDRs than any company in this model keeps busy (each costs events at closing)
_PILOT_AES = 400  # more AEs than any company in this model keeps busy
_PILOT_DAYS = 240.0
_PILOT_WARMUP = 90.0


def team_sizes(
    scenario: Scenario, seed: int | np.random.SeedSequence = 0, sdr_load: float = SDR_LOAD, ae_load: float = AE_LOAD
) -> dict[str, int]:
    """The SDR and AE team sizes that carry ``scenario``'s lead flow at the given loads."""
    horizon = min(scenario.simulation.horizon_days, _PILOT_DAYS)
    warmup = min(scenario.simulation.warmup_days, _PILOT_WARMUP, horizon / 2)
    pilot = with_settings(
        scenario,
        {
            "simulation.horizon_days": horizon,
            "simulation.warmup_days": warmup,
            "sdr_team.reps": _PILOT_SDRS,
            "opportunity.ae_team.reps": _PILOT_AES,
            "opportunity.ae_team.sql_patience_days": None,
        },
    )
    daily = run_replication(pilot, seed).daily
    window = daily[daily["day"] >= math.ceil(warmup)]
    available_per_rep = window["sdr_available_hours"].sum() / _PILOT_SDRS
    call_hours = window["sdr_busy_hours"].sum()
    sdrs = math.ceil(call_hours / (available_per_rep * sdr_load)) if available_per_rep > 0 else 1
    slots = scenario.opportunity.ae_team.deals_per_rep
    aes = math.ceil(window["open_opportunities"].mean() / (slots * ae_load))
    return {"sdr_team.reps": max(1, sdrs), "opportunity.ae_team.reps": max(1, aes)}


def staff(scenario: Scenario, seed: int | np.random.SeedSequence = 0, **loads: float) -> Scenario:
    """``scenario`` with its SDR and AE teams sized for its own lead flow (see ``team_sizes``)."""
    return with_settings(scenario, team_sizes(scenario, seed, **loads))

"""How sure are we? Every option simulated over the evidence ensemble, and what the answer leans on.

``funnelsim uncertainty A.yaml B.yaml ...`` runs a probabilistic sensitivity analysis (PSA):

1. **Draws**: ``draws`` members of the evidence ensemble (``params/ensemble/evidence.csv``, the
   parameter sets consistent with every published figure), chosen without replacement and
   deterministically from the seed (all of them when ``draws`` is the ensemble's size). A draw
   sets every uncertain parameter (how reachable a new inquirer is, how fast interest cools, how
   quality and one message move a deal's odds ...) to that member's values.
2. **Runs**: every option (scenario file) in every draw, ``replications`` times. Replication
   ``r`` uses the same seed in every option *and every draw* (common random numbers), so
   options are compared on the same leads with the same luck, and draws differ only by their
   parameters. The runs form a ``sweeps.Sweep`` of points (draw x option, each point its own
   scenario) run by ``execution.run_sweep`` into a results folder: any executor (serial, local
   processes, Dask) gives identical tables, each run is saved as it finishes, and ``--resume``
   finishes an interrupted study.
3. **Reference**: effects are measured against the *reference* company: ``baseline`` when given
   (a scenario file, typically the company as it is today), else the first option. It is
   simulated in every draw like the options, so every effect is paired by draw and replication.
4. **Teams stay as the files set them**: head counts are decisions, not uncertain parameters. In
   a draw where a company's teams could not carry its flow, its plausibility checks fail
   (``plausibility.py``), and the share of such draws is reported per option.
5. **A company's own measurements stay fixed**: an uncertain parameter set by the option's file
   itself, or by any file it extends other than the ensemble's base (``params/baseline.yaml``,
   whose values are one member of the ensemble), is a measurement (values estimated by
   ``funnelsim calibrate`` from the company's CRM export, say): it keeps its value in every
   draw. Such options are also run with every parameter drawn (variant ``all drawn``), and the
   report says how much narrower the range is thanks to the measurement.

``uncertainty_results`` reads a study's folder back: ``analyse`` turns it into the tables
(``psa.summarise_effects``, ``voi.first_order_indices``, ``voi.evppi``) and ``format_report``
into text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.config.paths import PARAMS_DIR
from funnelsim.config.errors import ParameterError
from funnelsim.config.loading import apply_overrides, parse_override, resolve_file
from funnelsim.config.yaml_files import read_yaml
from funnelsim.model.maths import DAYS_PER_YEAR
from funnelsim.config.schema import Scenario, scenario_from_dict, with_settings
from funnelsim.experiments.sweeps import Sweep, SweepPoint

__all__ = [
    "ALL_DRAWN",
    "DEFAULT_DRAWS",
    "DEFAULT_ENSEMBLE",
    "DEFAULT_KPIS",
    "DEFAULT_REPLICATIONS",
    "MEASURED",
    "UncertainParameter",
    "UncertaintyStudy",
    "build_study",
    "build_study_from_scenarios",
    "choose_draws",
    "load_ensemble",
    "measured_keys",
    "own_measurements",
    "run_uncertainty",
    "team_cost_per_year",
    "uncertain_parameters",
]

DEFAULT_ENSEMBLE = PARAMS_DIR / "ensemble" / "evidence.csv"
ENSEMBLE_BASE = PARAMS_DIR / "baseline.yaml"  # its uncertain values are one member of the ensemble
DEFAULT_KPIS = ("revenue", "wins")
DEFAULT_DRAWS = 30  # half the ensemble: two options in about 120 runs (the README's figures); --draws 59 for all
DEFAULT_REPLICATIONS = 2  # the fewest that measure simulation noise; common random numbers do the rest
MEASURED = "measured"  # the option as its file says: its own measurements kept
ALL_DRAWN = "all drawn"  # the same option with every uncertain parameter drawn
_DRAW_STREAM = 0x5053  # spawn key of the stream that chooses the draws (never a replication's)

@dataclass(frozen=True)
class UncertainParameter:
    """One uncertain parameter: its key, a name a marketer understands, the scale its effect is
    smooth on, its group (for what is worth measuring) and how a CRM export informs it."""

    key: str
    name: str
    scale: str  # "linear" or "log"
    group: str
    measure: str  # what funnelsim calibrate needs from an export to estimate it ("" if nothing)


def uncertain_parameters() -> list[UncertainParameter]:
    """The model's uncertain parameters, from the lever registry (``funnelsim.levers``)."""
    from funnelsim.config.levers import uncertain_parameters as registered

    return [
        UncertainParameter(entry.key, entry.name, entry.prior.scale, entry.prior.group,
                           entry.export.needs if entry.export is not None else "")
        for entry in registered()
        if entry.prior is not None  # every uncertain parameter has one
    ]


def load_ensemble(path: str | Path = DEFAULT_ENSEMBLE, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """The ensemble's members (rows marked ``member``): a ``member`` id (the row in the file)
    and one column per uncertain parameter key."""
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ParameterError([f"{path}: not a readable ensemble file ({exc})"]) from None
    keys = list(keys if keys is not None else [p.key for p in uncertain_parameters()])
    missing = [k for k in [*keys, "member"] if k not in table.columns]
    if missing:
        raise ParameterError([f"{path}: no column {missing[0]!r}; an ensemble file as funnelsim ensemble writes it"])
    members = table[table["member"].astype(str).str.lower() == "true"]
    if members.empty:
        raise ParameterError([f"{path}: no row is marked as a member of the ensemble"])
    out = members[keys].astype(float).copy()
    out.insert(0, "member", members.index.to_numpy())
    return out.reset_index(drop=True)


def choose_draws(ensemble: pd.DataFrame, draws: int, seed: int, label: str = "--draws") -> pd.DataFrame:
    """``draws`` members chosen without replacement, the same for the same seed (in member order)."""
    size = len(ensemble)
    if not 1 <= draws <= size:
        raise ParameterError([f"{label}: {draws}: allowed: 1 to {size} (the evidence ensemble has {size} members)"])
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_DRAW_STREAM,)))
    chosen = np.sort(rng.choice(size, size=draws, replace=False))
    return ensemble.iloc[chosen].reset_index(drop=True)


def _has(data: Any, key: str) -> bool:
    for part in key.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def measured_keys(path: str | Path, keys: Sequence[str], base: str | Path = ENSEMBLE_BASE) -> list[str]:
    """The ``keys`` that ``path``, or a file it extends other than ``base``, sets itself.

    A mapping that names its ``dist`` replaces the parent's whole, so all its keys count as set.
    """
    base = Path(base).resolve()
    own: set[str] = set()
    current: Path | None = Path(path).resolve()
    seen: set[Path] = set()
    while current is not None and current != base and current not in seen:
        seen.add(current)
        data = read_yaml(current, str(current))
        own.update(k for k in keys if _has(data, k))
        parent = data.get("extends")
        current = (current.parent / parent).resolve() if isinstance(parent, str) else None
    return [k for k in keys if k in own]


@dataclass(frozen=True)
class Option:
    """One scenario of the study: its name, file, validated scenario and its own measurements."""

    name: str
    file: str
    scenario: Scenario
    measured: tuple[str, ...]


@dataclass(frozen=True)
class UncertaintyStudy:
    """The runs of a PSA as a sweep, with what the analysis needs to read them back."""

    sweep: Sweep
    reference: str
    options: tuple[Option, ...]
    draws: pd.DataFrame
    parameters: tuple[UncertainParameter, ...]

    @property
    def runs(self) -> int:
        return self.sweep.runs


def team_cost_per_year(scenario: Scenario) -> float:
    """What a scenario's SDR and account executive teams cost a year."""
    monthly = (scenario.sdr_team.reps * scenario.sdr_team.cost_per_rep_month
               + scenario.opportunity.ae_team.reps * scenario.opportunity.ae_team.cost_per_rep_month)
    return 12.0 * monthly


def _window_years(scenario: Scenario) -> float:
    """The years the KPIs cover: the window from the end of warm-up to the horizon."""
    return (scenario.simulation.horizon_days - scenario.simulation.warmup_days) / DAYS_PER_YEAR


def _load_option(file: str, horizon_days: float | None, warmup_days: float | None, keys: Sequence[str],
                 overrides: Sequence[str] = ()) -> Option:
    path = Path(file)
    data = apply_overrides(resolve_file(path), list(overrides))
    data.setdefault("name", path.stem)
    timing = {}
    if horizon_days is not None:
        timing["horizon_days"] = horizon_days
    if warmup_days is not None:
        timing["warmup_days"] = warmup_days
    if timing:
        data["simulation"] = {**data.get("simulation", {}), **timing}
    changes = [*overrides, *(f"simulation.{k}={v:g}" for k, v in timing.items())]
    label = str(path) + (f" (with --set {', '.join(changes)})" if changes else "")
    scenario = scenario_from_dict(data, label)
    own = set(own_measurements(path, overrides))
    return Option(scenario.name, str(path), scenario, tuple(k for k in keys if k in own))


def build_study(
    files: Sequence[str],
    baseline: str | None = None,
    draws: int = DEFAULT_DRAWS,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 20261122,
    horizon_days: float | None = None,
    warmup_days: float | None = None,
    ensemble: str | Path = DEFAULT_ENSEMBLE,
    overrides: Sequence[str] = (),
) -> UncertaintyStudy:
    """Validate every file and draw, and lay the runs out as a sweep; raise ``ParameterError``.

    ``baseline`` is the reference company (default: the first of ``files``); ``horizon_days`` and
    ``warmup_days`` replace every scenario's own (a shorter study: the README shows how far that
    moves the answer). ``overrides`` (``key.path=value``, as ``--set``) apply to every file; an
    uncertain parameter set this way is an assumption of the user's and stays fixed, like a
    file's own measurement.
    """
    if replications < 1:
        raise ParameterError([f"--replications: {replications}: allowed: 1 or more"])
    parameters = tuple(uncertain_parameters())
    keys = [p.key for p in parameters]
    chosen = choose_draws(load_ensemble(ensemble, keys), draws, seed)
    ordered = ([baseline] if baseline else []) + [f for f in files if f != baseline]
    if not ordered:
        raise ParameterError(["give at least one scenario file"])
    problems: list[str] = []
    options: list[Option] = []
    for file in ordered:
        try:
            options.append(_load_option(file, horizon_days, warmup_days, keys, overrides))
        except ParameterError as exc:
            problems.extend(exc.lines)
    if problems:
        raise ParameterError(problems)
    return _study(options, chosen, parameters, replications, seed, str(ensemble),
                  {"horizon_days": horizon_days, "warmup_days": warmup_days})


def build_study_from_scenarios(
    scenarios: Sequence[Scenario],
    draws: int = DEFAULT_DRAWS,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = 20261122,
    measured: Mapping[str, Sequence[str]] | None = None,
    ensemble: str | Path = DEFAULT_ENSEMBLE,
    sources: Mapping[str, str] | None = None,
) -> UncertaintyStudy:
    """``build_study`` for scenarios built in code (a plan's options, a path's points): the first
    is the reference. ``measured`` gives, per scenario name, the uncertain parameters that are
    the company's own measurements (kept fixed in every draw, as a file's own values are in
    ``build_study``; ``own_measurements`` finds them for a file and its overrides); ``sources``
    names where each scenario came from (for the study's definition). Raises ``ParameterError``."""
    parameters = tuple(uncertain_parameters())
    keys = [p.key for p in parameters]
    chosen = choose_draws(load_ensemble(ensemble, keys), draws, seed)
    measured = measured or {}
    sources = sources or {}
    options = [Option(s.name, sources.get(s.name, s.name), s, tuple(k for k in keys if k in set(measured.get(s.name, ()))))
               for s in scenarios]
    if not options:
        raise ParameterError(["give at least one scenario"])
    return _study(options, chosen, parameters, replications, seed, str(ensemble), {})


def own_measurements(path: str | Path, overrides: Sequence[str] = ()) -> list[str]:
    """The uncertain parameters a scenario file (or a file it extends, other than the ensemble's
    base) or its ``overrides`` (``key.path=value``) set: the company's own numbers."""
    keys = [p.key for p in uncertain_parameters()]
    set_here = {".".join(parse_override(text)[0]) for text in overrides}
    own = set(measured_keys(path, keys)) | {k for k in keys if any(k == o or k.startswith(o + ".") for o in set_here)}
    return [k for k in keys if k in own]


def _study(options: Sequence[Option], chosen: pd.DataFrame, parameters: tuple[UncertainParameter, ...],
           replications: int, seed: int, ensemble: str, timing: Mapping[str, Any]) -> UncertaintyStudy:
    """Lay out the runs: every option in every draw (and its all-drawn twin), as one sweep."""
    if replications < 1:
        raise ParameterError([f"--replications: {replications}: allowed: 1 or more"])
    keys = [p.key for p in parameters]
    names = [o.name for o in options]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ParameterError([f"{repeated[0]!r}: two files give a scenario this name; each option needs its own name"])
    if len(options) < 2:
        raise ParameterError([f"{options[0].file}: nothing to compare it with: give another scenario file"])

    problems: list[str] = []
    points: list[SweepPoint] = []
    for _, draw in chosen.iterrows():
        member = int(draw["member"])
        for option in options:
            variants = [MEASURED] + ([ALL_DRAWN] if option.measured else [])
            for variant in variants:
                fixed = set(option.measured) if variant == MEASURED else set()
                settings = {k: float(draw[k]) for k in keys if k not in fixed}
                suffix = "" if variant == MEASURED else f" ({ALL_DRAWN})"
                try:
                    scenario = with_settings(option.scenario, settings, name=f"{option.name}{suffix} @ member {member}")
                except ParameterError as exc:
                    problems.extend(f"{line} (ensemble member {member})" for line in exc.lines)
                    continue
                used = {k: (float(_value(option.scenario, k)) if k in fixed else float(draw[k])) for k in keys}
                factors: dict[str, Any] = {
                    "draw": member,
                    "option": option.name,
                    "variant": variant,
                    "gross_margin": float(scenario.customers.gross_margin),
                    "team_cost_per_year": team_cost_per_year(scenario),
                    "window_years": _window_years(scenario),
                    **used,
                }
                points.append(SweepPoint(len(points), factors, scenario))
    if problems:
        raise ParameterError(list(dict.fromkeys(problems)))
    definition = {
        "kind": "uncertainty",
        "reference": options[0].name,
        "options": [{"name": o.name, "file": o.file, "measured": list(o.measured)} for o in options],
        "members": [int(m) for m in chosen["member"]],
        "ensemble": ensemble,
        "horizon_days": timing.get("horizon_days"),
        "warmup_days": timing.get("warmup_days"),
    }
    sweep = Sweep(
        name="uncertainty-" + "-".join(names),
        source=", ".join(o.file for o in options),
        design="uncertainty",
        factor_names=list(points[0].factors),
        points=points,
        replications=replications,
        seed=seed,
        common_random_numbers=True,
        definition=definition,
    )
    return UncertaintyStudy(sweep, options[0].name, tuple(options), chosen, parameters)


def _value(scenario: Scenario, key: str) -> Any:
    data: Any = scenario.model_dump(mode="json", by_alias=True)
    for part in key.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def run_uncertainty(
    study: UncertaintyStudy,
    folder: str | Path,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = False,
    notify: Any = None,
) -> int:
    """Run every missing run of ``study`` into ``folder`` (``execution.run_sweep``: resumable,
    any executor); return how many ran now. Raises what ``run_sweep`` raises."""
    from funnelsim.experiments.execution import run_sweep
    from funnelsim.experiments.results import ResultStore

    return run_sweep(study.sweep, ResultStore(folder), executor, workers, scheduler, resume, progress=progress,
                     notify=notify)

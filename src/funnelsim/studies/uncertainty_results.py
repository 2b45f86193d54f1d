"""How sure are we, read back: a probabilistic sensitivity analysis's runs as tables and words.

A study (``uncertainty.build_study``, run by ``uncertainty.run_uncertainty`` into a results folder)
leaves one run per draw of the evidence ensemble, option and replication. ``analyse`` reads the
folder and works out every table a report shows:

* each option's effect against the reference, per KPI: its mean, the range across plausible
  models and the simulation noise alone beside it, the chance it is positive
  (``psa.summarise_effects``), and the net benefit a year against each option's annual cost;
* per option, the share of draws in which the company fails a plausibility check;
* what the answer leans on: each uncertain parameter's first-order index
  (``voi.first_order_indices``);
* what knowing more is worth before choosing: the EVPI and each parameter group's EVPPI
  (``voi.evppi``);
* for an option with measurements of its own, how much narrower its range is than with every
  parameter drawn.

``format_report`` and ``write_report`` give the text and the files of ``funnelsim uncertainty``;
``range_table`` and ``value_table`` the tables a report shows, and ``leaning_sentence`` and
``how_to_measure`` the sentences other studies reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.config.errors import ParameterError
from funnelsim.config.schema import scenario_from_dict
from funnelsim.studies.uncertainty import ALL_DRAWN, DEFAULT_KPIS, MEASURED, UncertainParameter, uncertain_parameters

__all__ = [
    "analyse",
    "draw_parameters",
    "format_report",
    "how_to_measure",
    "leaning_sentence",
    "range_table",
    "sensitivity_table",
    "study_runs",
    "UncertaintyReport",
    "value_table",
    "write_report",
]

@dataclass
class UncertaintyReport:
    """Everything ``analyse`` finds in a study's results folder (see each table's columns)."""

    reference: str
    kpis: list[str]
    draws: int
    replications: int
    summary: pd.DataFrame  # psa.EFFECT_COLUMNS per option and KPI, and the payback rows
    plausibility: pd.DataFrame  # per option: share of draws failing a check, and which
    sensitivity: pd.DataFrame  # per option, KPI and parameter: first-order index
    evppi: pd.DataFrame  # per parameter group: what measuring it is worth a year
    evpi: float
    narrowing: pd.DataFrame  # options with measurements of their own: range measured vs all drawn
    costs: dict[str, float]
    parameters: list[UncertainParameter]
    sentences: list[str] = field(default_factory=list)  # the ranges, then what the answer leans on most
    value_sentences: list[str] = field(default_factory=list)  # what knowing more is worth (EVPI, EVPPI)


def _value_per_year(runs: pd.DataFrame) -> pd.Series:
    """What a run earns a year: gross margin on revenue less marketing spend, per year of the
    window, less the sales teams' yearly cost."""
    window = (runs["revenue"] * runs["gross_margin"] - runs["marketing_spend"]) / runs["window_years"]
    return window - runs["team_cost_per_year"]


def _for_psa(runs: pd.DataFrame, variant: str, options_with_twins: set[str]) -> pd.DataFrame:
    """One row per draw, option and replication: the measured rows, or the all-drawn twins."""
    if variant == MEASURED:
        chosen = runs[runs["variant"] == MEASURED]
    else:
        twin = runs["option"].isin(options_with_twins)
        chosen = runs[(twin & (runs["variant"] == ALL_DRAWN)) | (~twin & (runs["variant"] == MEASURED))]
    return chosen.rename(columns={"scenario": "point_scenario"}).rename(columns={"option": "scenario"})


def _plausibility(results: Any, runs: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """Per option: the share of draws in which the company fails a plausibility check, and which."""
    from funnelsim.experiments.experiment import ScenarioRun
    from funnelsim.studies.plausibility import plausibility_checks
    from funnelsim.studies.targets import load_targets

    limits = load_targets().plausibility
    daily = results.daily
    measured = runs[runs["variant"] == MEASURED]
    verdicts = []
    for point, rows in measured.groupby("point", sort=True):
        name = rows["scenario"].iloc[0]
        scenario = scenario_from_dict(manifest["parameters"][name], name)
        run = ScenarioRun(scenario=scenario, seed=0, leads=pd.DataFrame(), daily=daily[daily["point"] == point],
                          replications=rows)
        checks = plausibility_checks(run, limits)
        failed = checks.loc[~checks["passes"], "check"].tolist()
        verdicts.append({"option": rows["option"].iloc[0], "draw": rows["draw"].iloc[0], "fails": failed})
    table = pd.DataFrame(verdicts)
    out = []
    for option, group in table.groupby("option", sort=False):
        failing = group["fails"].map(bool)
        counts = pd.Series([c for fails in group["fails"] for c in fails]).value_counts()
        out.append({
            "option": option,
            "draws": len(group),
            "share_failing": float(failing.mean()),
            "checks_failed": "; ".join(f"{c} ({n} of {len(group)})" for c, n in counts.items()),
        })
    return pd.DataFrame(out, columns=["option", "draws", "share_failing", "checks_failed"])


def _scaled(values: pd.DataFrame, parameters: Sequence[UncertainParameter]) -> pd.DataFrame:
    """Parameter values on the scale their effect is smooth on (logarithms of multipliers)."""
    out = values.copy()
    for p in parameters:
        if p.scale == "log" and p.key in out:
            out[p.key] = np.log(out[p.key].astype(float))
    return out


def draw_parameters(runs: pd.DataFrame, parameters: Sequence[UncertainParameter]) -> pd.DataFrame:
    """One row per draw (indexed by draw, sorted): the uncertain parameters' values, on the
    scale their effect is smooth on (``_scaled``)."""
    keys = [p.key for p in parameters]
    return _scaled(runs.drop_duplicates("draw").set_index("draw")[keys].sort_index(), parameters)


def sensitivity_table(effects: pd.DataFrame, scaled: pd.DataFrame, parameters: Sequence[UncertainParameter],
                      bootstrap: int = 200) -> pd.DataFrame:
    """Per scenario, KPI and parameter of ``effects`` (``psa.paired_effects``' layout): the
    first-order index of each draw's mean effect (``voi.first_order_indices``) over the draws'
    parameters ``scaled`` (``draw_parameters``)."""
    from funnelsim.stats.voi import first_order_indices

    names = {p.key: p for p in parameters}
    rows = []
    for (option, kpi), group in effects.groupby(["scenario", "kpi"], sort=False):
        means = group.groupby("draw")["effect"].mean().reindex(scaled.index)
        table = first_order_indices(list(means.to_numpy(float)), scaled.reset_index(drop=True), bootstrap=bootstrap)
        for row in _records(table):
            p = names[str(row["parameter"])]
            rows.append({"scenario": option, "kpi": kpi, "parameter": p.key, "name": p.name, "group": p.group,
                         "index": row["index"], "low": row["low"], "high": row["high"], "size": row["size"]})
    return pd.DataFrame(rows, columns=["scenario", "kpi", "parameter", "name", "group", "index", "low", "high", "size"])


def how_to_measure(parameter: UncertainParameter) -> str:
    """How a company measures ``parameter`` from its own CRM (the registry's export text)."""
    if parameter.measure:
        return f"a company measures it from its own CRM export (funnelsim calibrate needs {parameter.measure})"
    return "no CRM export informs it: only better published evidence narrows it"


def leaning_sentence(sensitivity: pd.DataFrame, parameters: Sequence[UncertainParameter], draws: int,
                     subject: str | None = None) -> str:
    """The sentence naming the parameter with the largest index in ``sensitivity``
    (``sensitivity_table``'s rows) and how a company measures it; "" when no index is known.
    ``subject`` says whose spread it explains (default: the row's scenario's effect on its KPI)."""
    top = sensitivity.dropna(subset=["index"]).sort_values("index", ascending=False, kind="stable")
    if top.empty:
        return ""
    lead = _records(top)[0]
    entry = next(p for p in parameters if p.key == lead["parameter"])
    subject = subject or f"{lead['scenario']}'s effect on {lead['kpi']}"
    return (
        f"The answer leans most on '{entry.name}' ({lead['group']}): alone it explains {lead['index']:.0%} of "
        f"the spread of {subject} across {draws} plausible models"
        + (f" (bootstrap 95%: {lead['low']:.0%} to {lead['high']:.0%})" if np.isfinite(lead["high"]) else "")
        + f"; {how_to_measure(entry)}."
    )


def study_runs(folder: str | Path) -> tuple[dict[str, Any], pd.DataFrame, list[UncertainParameter]]:
    """A study's definition, its runs as the PSA reads them (the options as their files say,
    one row per draw, option and replication, the option in column ``scenario``, with
    ``value_per_year``) and the uncertain parameters it drew: for analyses of other KPIs than
    ``analyse`` makes (a claim's own comparison, say)."""
    from funnelsim.experiments.results import load_results

    results = load_results(folder)
    definition = results.manifest.get("definition", {})
    if definition.get("kind") != "uncertainty":
        raise ParameterError([f"{folder}: not the results of funnelsim uncertainty"])
    runs = results.runs
    if runs.empty:
        raise ParameterError([f"{folder}: no finished runs yet; finish the study with --resume"])
    parameters = [p for p in uncertain_parameters() if p.key in runs.columns]
    runs = runs.assign(value_per_year=_value_per_year(runs))
    return definition, _for_psa(runs, MEASURED, set()), parameters


def analyse(
    folder: str | Path,
    kpis: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    costs: Mapping[str, float] | None = None,
    level: float = 0.95,
    bootstrap: int = 200,
) -> UncertaintyReport:
    """Read a study's results folder and compute every table of the report.

    ``kpis`` (default: ``DEFAULT_KPIS``) are summarised as relative changes against the
    reference; ``thresholds`` give, per KPI, a relative change whose probability is reported;
    ``costs`` give each option's annual cost beyond the reference (for the payback and EVPPI).
    """
    from funnelsim.stats.psa import paired_effects, payback_effects, summarise_effects
    from funnelsim.experiments.results import load_results
    from funnelsim.stats.voi import evpi, evppi

    results = load_results(folder)
    manifest = results.manifest
    definition = manifest.get("definition", {})
    if definition.get("kind") != "uncertainty":
        raise ParameterError([f"{folder}: not the results of funnelsim uncertainty"])
    kpis = list(kpis or DEFAULT_KPIS)
    costs = {k: float(v) for k, v in (costs or {}).items()}
    reference = definition["reference"]
    twins = {o["name"] for o in definition["options"] if o["measured"]}
    runs = results.runs
    if runs.empty:
        raise ParameterError([f"{folder}: no finished runs yet; finish the study with --resume"])
    parameters = [p for p in uncertain_parameters() if p.key in runs.columns]
    runs = runs.assign(value_per_year=_value_per_year(runs))

    measured = _for_psa(runs, MEASURED, twins)
    effects = paired_effects(measured, reference, kpis)
    payback = payback_effects(measured, reference, costs)
    summary = pd.concat([summarise_effects(effects, thresholds, level), summarise_effects(payback, level=level)],
                        ignore_index=True)
    order = {o["name"]: i for i, o in enumerate(definition["options"])}  # as the files were given
    summary = summary.sort_values(["scale", "scenario"], key=lambda c: c.map(order) if c.name == "scenario" else c,
                                  kind="stable", ascending=[False, True]).reset_index(drop=True)

    narrowing = pd.DataFrame(columns=["scenario", "kpi", "width_measured", "width_all_drawn", "narrower_by"])
    if twins:
        drawn = _for_psa(runs, ALL_DRAWN, twins)
        wide = summarise_effects(paired_effects(drawn, reference, kpis), thresholds, level)
        both = summary.merge(wide, on=["scenario", "kpi"], suffixes=("", "_drawn"))
        involved = both["scenario"].isin(twins) | (reference in twins)
        both = both[involved]
        narrowing = pd.DataFrame({
            "scenario": both["scenario"],
            "kpi": both["kpi"],
            "width_measured": both["range_high"] - both["range_low"],
            "width_all_drawn": both["range_high_drawn"] - both["range_low_drawn"],
        })
        narrowing["narrower_by"] = 1 - narrowing["width_measured"] / narrowing["width_all_drawn"]

    scaled = draw_parameters(measured, parameters)
    sensitivity = sensitivity_table(effects, scaled, parameters, bootstrap)

    benefit = payback.groupby(["draw", "scenario"])["effect"].mean().unstack("scenario")
    benefit.insert(0, reference, 0.0)
    benefit = benefit.reindex(scaled.index)
    groups: dict[str, list[str]] = {}
    for p in parameters:
        groups.setdefault(p.group, []).append(p.key)
    value_table = evppi(benefit.reset_index(drop=True), scaled.reset_index(drop=True), groups)
    report = UncertaintyReport(
        reference=reference,
        kpis=kpis,
        draws=int(measured["draw"].nunique()),
        replications=int(manifest.get("replications", 0)),
        summary=summary,
        plausibility=_plausibility(results, runs, manifest),
        sensitivity=sensitivity,
        evppi=value_table,
        evpi=float(value_table.attrs.get("evpi", evpi(benefit))),
        narrowing=narrowing,
        costs=costs,
        parameters=parameters,
    )
    report.sentences = _sentences(report)
    report.value_sentences = _value_sentences(report)
    return report


def _pct(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:+.1%}"


def _money(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:,.0f}"


def _share(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:.2f}"


def _sentences(report: UncertaintyReport) -> list[str]:
    """The plain-words summary: the range for the first KPI, what it leans on, what to measure."""
    out = []
    kpi = report.kpis[0]
    summary = report.summary[report.summary["kpi"] == kpi]
    for row in _records(summary):
        out.append(
            f"{row['scenario']} against {report.reference}: {kpi} {_pct(row['mean'])} on average over {row['draws']} "
            f"plausible models; 95% of them give {_pct(row['range_low'])} to {_pct(row['range_high'])} (simulation "
            f"noise alone: {_pct(row['noise_low'])} to {_pct(row['noise_high'])}); the chance it is positive is "
            f"{row['p_positive']:.0%}."
        )
    if not report.sensitivity.empty:
        sentence = leaning_sentence(report.sensitivity[report.sensitivity["kpi"] == kpi], report.parameters, report.draws)
        if sentence:
            out.append(sentence)
    return out


def _value_sentences(report: UncertaintyReport) -> list[str]:
    """What knowing more would be worth before choosing among the options (EVPI, EVPPI)."""
    out = []
    known = report.evppi.dropna(subset=["evppi"])
    above = (known["evppi"] - known["floor"].fillna(0)).clip(lower=0)
    negligible = max(1.0, 0.01 * report.evpi)  # below a unit of currency, or 1% of the EVPI
    if len(known) and report.evpi > 0 and above.max() < negligible:
        out.append(
            f"Knowing every uncertain parameter before choosing would be worth {_money(report.evpi)} a year (EVPI), but "
            "learning no single group of them would change the choice (no EVPPI stands above what the method finds "
            "in shuffled values): the EVPI comes from simulation noise and from parameters that move together."
        )
    elif len(known) and report.evpi > 0:
        best = _records(known.loc[[above.idxmax()]])[0]
        out.append(
            f"Knowing every uncertain parameter before choosing is worth {_money(report.evpi)} a year (EVPI); of your "
            f"own numbers, '{best['group']}' is worth measuring most: {_money(best['evppi'])} a year (EVPPI; "
            f"{_money(best['floor'])} of that is what the method finds in shuffled values)."
        )
    elif len(known):
        out.append("No uncertain parameter is worth measuring before this choice: the same option is best in every "
                   "plausible model (EVPI 0).")
    if len(known) < len(report.evppi):
        out.append("Too few draws to say what some groups of parameters are worth measuring: run more draws "
                   "(--draws; uncertainty_draws in a report).")
    return out


def _text_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as mappings of column to value."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _effect_text(row: dict[str, Any], low: str, high: str) -> str:
    money = row["scale"] == "absolute"
    show = _money if money else _pct
    lo, hi = row[low], row[high]
    return "-" if not (np.isfinite(lo) and np.isfinite(hi)) else f"{show(lo)} to {show(hi)}"


def range_table(report: UncertaintyReport, kpi: str | None = None) -> pd.DataFrame:
    """One row per scenario for ``kpi`` (default: the first), as a report shows it: the mean
    effect, the range across plausible models first and the simulation noise beside it, the
    chance of a positive effect and the share of draws in which the company fails a
    plausibility check."""
    kpi = kpi or report.kpis[0]
    rows = report.summary[report.summary["kpi"] == kpi]
    failing = report.plausibility.set_index("option")["share_failing"]
    return pd.DataFrame({
        "scenario": rows["scenario"].to_numpy(),
        f"{kpi}: mean effect": [_pct(float(v)) for v in rows["mean"]],
        "range across plausible models (95%)": [_effect_text(r, "range_low", "range_high") for r in _records(rows)],
        "simulation noise alone (95% CI)": [_effect_text(r, "noise_low", "noise_high") for r in _records(rows)],
        "P(effect > 0)": [f"{v:.0%}" for v in rows["p_positive"]],
        "draws failing a plausibility check": [f"{failing.get(s, float('nan')):.0%}" for s in rows["scenario"]],
    })


def value_table(report: UncertaintyReport) -> pd.DataFrame:
    """Which of your own numbers is worth measuring before you decide, as a report shows it: per
    parameter group, its EVPPI a year, its share of the EVPI, the noise floor (the same
    regression on shuffled values) and the parameters in the group."""
    rows = _records(report.evppi)
    return pd.DataFrame({
        "parameter group": [r["group"] for r in rows],
        "worth knowing before you decide, a year (EVPPI)": [_money(r["evppi"]) if np.isfinite(r["evppi"])
                                                            else "too few draws" for r in rows],
        "share of the EVPI": [f"{r['share_of_evpi']:.0%}" if np.isfinite(r["share_of_evpi"]) else "-" for r in rows],
        "found in shuffled values (noise floor)": [_money(r["floor"]) for r in rows],
        "parameters": [", ".join(p.name for p in report.parameters if p.group == r["group"]) for r in rows],
    })


def format_report(
    report: UncertaintyReport, scenario_words: Callable[[str], str] = str, kpi_words: Callable[[str], str] = str
) -> str:
    """The report as text: the effects table, plausibility, what drives it, what to measure; options
    and KPIs named by ``scenario_words`` and ``kpi_words`` (the command line passes business names)."""
    out = [(f"How sure are we: every option against '{scenario_words(report.reference)}' over {report.draws} plausible models "
            f"(evidence ensemble members), {report.replications} replications each, common random numbers."), ""]
    rows = []
    for row in _records(report.summary):
        money = row["scale"] == "absolute"
        kpi = "net benefit a year" if money else kpi_words(str(row["kpi"]))
        threshold = (f"P(>{_pct(row['threshold'])}) {row['p_above']:.0%}"
                     if np.isfinite(row["threshold"]) and np.isfinite(row["p_above"]) else "")
        if money:
            threshold = f"P(pays back in a year) {row['p_positive']:.0%}"
        rows.append([
            scenario_words(str(row["scenario"])), kpi, (_money if money else _pct)(row["mean"]),
            _effect_text(row, "noise_low", "noise_high"), _effect_text(row, "range_low", "range_high"),
            f"{row['p_positive']:.0%}", threshold,
        ])
    out += _text_table(["option", "KPI", "mean effect", "simulation noise (95% CI)",
                        "range across plausible models (95%)", "P(>0)", ""], rows)
    if report.costs:
        out.append("Net benefit a year: gross margin on revenue less marketing spend and team cost, per year, against "
                   "the reference, less the annual cost given: " + ", ".join(f"{k} {_money(v)}" for k, v in report.costs.items()))
    else:
        out.append("Net benefit a year: gross margin on revenue less marketing spend and team cost, per year, against "
                   "the reference (no --cost given).")
    out += ["", "Could these companies exist in every plausible model? (plausibility checks per draw)"]
    prows = [[scenario_words(str(r["option"])), f"{r['share_failing']:.0%}", str(r["checks_failed"] or "-")]
             for r in _records(report.plausibility)]
    out += _text_table(["option", "draws failing a check", "which checks"], prows)
    if not report.narrowing.empty:
        out += ["", "Your own measurements narrow the range (95% range width, measured kept vs all drawn):"]
        nrows = [[scenario_words(str(r["scenario"])), kpi_words(str(r["kpi"])), _pct(r["width_measured"]).lstrip("+"),
                  _pct(r["width_all_drawn"]).lstrip("+"), f"{r['narrower_by']:.0%}"] for r in _records(report.narrowing)]
        out += _text_table(["option", "KPI", "measured", "all drawn", "narrower by"], nrows)
    if not report.sensitivity.empty:
        kpi = report.kpis[0]
        out += ["", (f"What drives the uncertainty of the effect on {kpi_words(kpi)} (first-order index: share of the spread "
                     "across plausible models explained by the parameter alone; spline regression over the draws):")]
        srows = []
        for option, group in report.sensitivity[report.sensitivity["kpi"] == kpi].groupby("scenario", sort=False):
            for r in _records(group.head(3)):
                srows.append([scenario_words(str(option)), str(r["name"]), _share(r["index"]), f"{_share(r['low'])} to {_share(r['high'])}"])
        out += _text_table(["option", "parameter", "index", "bootstrap 95%"], srows)
    if len(report.evppi):
        out += ["", (f"Which of your own numbers is worth measuring before you decide (EVPPI, a year; EVPI "
                     f"{_money(report.evpi)}):")]
        erows = [[str(r["group"]), _money(r["evppi"]) if np.isfinite(r["evppi"]) else "too few draws",
                  f"{r['share_of_evpi']:.0%}" if np.isfinite(r["share_of_evpi"]) else "-", _money(r["floor"])]
                 for r in _records(report.evppi)]
        out += _text_table(["parameter group", "worth a year", "of EVPI", "shuffled (noise floor)"], erows)
    out += ["", *report.sentences, *report.value_sentences]
    return "\n".join(out)


def write_report(report: UncertaintyReport, folder: str | Path) -> Path:
    """Write every table as CSV and parquet, and the text, into ``folder/analysis``."""
    from funnelsim.config.files import atomic_write_text
    from funnelsim.experiments.outputs import spreadsheet_safe, write_tables

    target = Path(folder) / "analysis"
    tables = {"summary": report.summary, "plausibility": report.plausibility, "sensitivity": report.sensitivity,
              "evppi": report.evppi, "narrowing": report.narrowing}
    write_tables(target, **tables)
    for name, table in tables.items():
        atomic_write_text(target / f"{name}.csv", spreadsheet_safe(table).to_csv(index=False))
    atomic_write_text(target / "report.txt", format_report(report) + "\n")
    return target

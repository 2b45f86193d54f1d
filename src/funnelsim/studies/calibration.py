"""Calibration: a company's own funnel, estimated from its CRM export, as a scenario file.

From the checked export (``crm_export``) this module estimates what the data can tell:

* how many leads each channel brings a week (Poisson CI), what a lead costs, and the
  hour-of-day, weekday and (with a year of data) month profiles of inquiries;
* the MQL and sales-acceptance bars, as the score thresholds that let through the observed
  shares of leads (a binomial CI mapped through the baseline's quality and score-noise model);
* how fast MQLs reach sales (handoff latency, a fitted distribution with a goodness-of-fit
  test), how many accepted leads sales works at all, and how a lead's chance of being reached
  and of qualifying falls with its age (logits on the model's own decay curve);
* each deal stage's pass rate and duration, deal sizes per channel, and the churn rate.

Every value comes with the number of leads it rests on, its confidence interval and the method.
What the export cannot inform (team sizes, lead quality, score noise, messaging, content) keeps
the baseline's value and is flagged as such in the scenario file; so does a value the data
cannot pin down (every stage stamped at the same instant, every lead with the same outcome),
flagged "cannot estimate" with the reason. Durations that never vary are written as constants.

The result is a ``calibrated_scenario.Calibration``, which writes the scenario file.
``run_calibration`` is the whole study, from the export to the scenario file and, with
replications, the calibrated scenario simulated against the export's own KPIs; ``funnelsim
calibrate`` and the ``calibration`` notebook call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson
from statsmodels.stats.weightstats import DescrStatsW

from funnelsim.config.levers import export_needs
from funnelsim.config.schema import Scenario
from funnelsim.model.maths import (
    DAYS_PER_MONTH,
    HOURS_PER_DAY,
    MINUTES_PER_HOUR,
    QualityShift,
    alignment_log_odds,
    base_probability_for,
    lead_score,
    logistic_array,
    monthly_churn_for,
    quality_mix,
)
from funnelsim.model.stages import DEAL_STAGE_NAMES, DEAL_STAGES, FUNNEL_STAGES
from funnelsim.studies.calibration_fits import (
    CannotEstimate,
    days_between,
    decay_logit,
    fit_duration,
    presence_fit,
)
from funnelsim.studies.calibrated_scenario import Calibration
from funnelsim.studies.crm_export import CheckedExport

__all__ = ["NEEDS", "calibrate", "funnel_counts"]

PASS_WINDOW_DAYS = 7.0  # a stage reached within this time of the previous one belongs to the same pass
FOLLOW_UP_MARGIN_DAYS = 14.0  # accepted leads this close to the export's end may not be worked yet
STAGE_MARGIN_DAYS = 90.0  # deal stages started this close to the end are left out of durations

# What each estimable value needs from the export (the registry says it for its levers and
# parameters); a value it cannot give keeps the baseline's and is listed as such at the top of
# the scenario file.
NEEDS = {
    **export_needs(),
    **{f"opportunity.stages.{stage}.duration_days": f"the deal stage timestamps and closed_at, with 20 or more stages "
       f"finished and started {STAGE_MARGIN_DAYS:g} days before the export ends" for stage in DEAL_STAGE_NAMES},
}


# --- helpers ---------------------------------------------------------------------------------


def _has(leads: pd.DataFrame, *fields: str) -> bool:
    return all(f in leads for f in fields)


def _share(successes: int, trials: int) -> tuple[float, float, float]:
    low, high = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    return successes / trials, float(low), float(high)


class _Rows:
    """Collects estimate rows and scenario settings."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.settings: dict[str, Any] = {}

    def add(self, key: str, value: Any, low: float, high: float, n: int, method: str, fit: str = "",
            set_it: bool = True) -> None:
        self.rows.append({"key": key, "value": value, "ci_low": low, "ci_high": high, "n": n, "method": method, "fit": fit,
                          "source": "export"})
        if set_it:
            self.settings[key] = value

    def keep_baseline(self, key: str, value: Any, why: str, set_it: bool = False) -> None:
        """A value the export cannot inform: the baseline's, flagged with the reason."""
        self.rows.append({"key": key, "value": value, "ci_low": np.nan, "ci_high": np.nan, "n": 0, "method": why, "fit": "",
                          "source": "baseline"})
        if set_it:
            self.settings[key] = value

    def cannot(self, keys: list[str], reason: str) -> None:
        """Values the data cannot pin down: the baseline's, flagged with the reason."""
        for key in keys:
            self.keep_baseline(key, None, f"cannot estimate: {reason}")

    def flag_missing(self, needs: dict[str, str]) -> None:
        """Flag every estimable value that got no estimate, with what it needs."""
        done = {row["key"] for row in self.rows}
        for key, what in needs.items():
            if key not in done:
                self.keep_baseline(key, None, f"not estimated: needs {what}")


@dataclass
class _LeadModel:
    """Simulated qualities and scores of a large lead sample under the baseline's quality and
    noise model, with the observed channel mix: what maps shares onto score thresholds. The
    scores are the model's own (``maths.lead_score``: on the quality scale of the mix), so a
    threshold read off here lets the same share through in a simulation."""

    quality: np.ndarray
    score: np.ndarray

    @classmethod
    def draw(cls, baseline: Scenario, channel_share: dict[str, float], size: int = 200_000, seed: int = 20261122) -> "_LeadModel":
        rng = np.random.default_rng(seed)
        known = {c: s for c, s in channel_share.items() if c in baseline.channels}
        weights = np.array(list(known.values()) or [1.0])
        names = list(known) or list(baseline.channels)[:1]
        counts = rng.multinomial(size, weights / weights.sum())
        quality = np.concatenate([baseline.channels[c].quality.sample(rng, n) for c, n in zip(names, counts)])
        channels = [baseline.channels[c] for c in names]
        mean, variance = quality_mix(weights, [c.quality.mean for c in channels], [c.quality.variance for c in channels])
        score = lead_score(quality, rng.standard_normal(len(quality)), mean, variance, baseline.scoring.noise_sd)
        return cls(quality, score)

    def threshold_for_share(self, share: float, among: np.ndarray | None = None) -> float:
        pool = self.score if among is None else self.score[among]
        return float(np.quantile(pool, 1 - min(max(share, 1e-6), 1 - 1e-6)))


# --- the estimates -----------------------------------------------------------------------------


def calibrate(export: CheckedExport, baseline: Scenario) -> Calibration:
    """Estimate every parameter the export informs; the rest stays at the baseline's value."""
    leads = export.leads
    rows = _Rows()
    observed: dict[str, pd.DataFrame] = {}
    start, end = leads["created_at"].min(), leads["created_at"].max()
    window = max((end - start).total_seconds() / 86400.0, 1.0)

    counts = _arrivals(leads, baseline, window / 7.0, rows)
    _seasonality(leads, start, end, rows)
    lead_model = _LeadModel.draw(baseline, {str(channel): float(s) for channel, s in (counts / counts.sum()).items()})
    mql_threshold = _score_bars(leads, lead_model, baseline.scoring.mql_threshold, end, rows)
    _handoff(leads, rows, observed)
    _follow_up(leads, baseline, lead_model, mql_threshold, end, rows, observed)
    _deals(leads, baseline, lead_model, rows, observed, end)
    _deal_sizes_kept(list(counts.index), baseline, rows)
    rows.flag_missing(NEEDS)
    observed["funnel"] = funnel_counts(leads)
    return Calibration(export.source, pd.DataFrame(rows.rows), rows.settings, observed, window)


def _arrivals(leads: pd.DataFrame, baseline: Scenario, weeks: float, rows: _Rows) -> pd.Series:
    """Leads a week and cost per lead of every channel; the leads per channel."""
    counts = leads["channel"].value_counts()
    for channel, n in counts.items():
        low, high = confint_poisson(int(n), weeks, method="exact-c")
        rows.add(f"channels.{channel}.leads_per_week", float(n / weeks), float(low), float(high), int(n),
                 f"{n:,} leads over {weeks:.1f} weeks (Poisson exact CI)")
        if "cost" in leads and leads.loc[leads["channel"] == channel, "cost"].notna().any():
            costs = DescrStatsW(leads.loc[leads["channel"] == channel, "cost"].dropna().to_numpy(float))
            clow, chigh = costs.tconfint_mean() if costs.nobs > 1 else (costs.mean, costs.mean)
            rows.add(f"channels.{channel}.cost_per_lead", float(costs.mean), float(clow), float(chigh), int(costs.nobs), "mean cost per lead")
        if channel not in baseline.channels:
            name, template = next(iter(baseline.channels.items()))
            why = f"not in the data: a channel new to the baseline, given the baseline's {name} value"
            rows.keep_baseline(f"channels.{channel}.quality", template.quality.model_dump(mode="json"), why, set_it=True)
            if f"channels.{channel}.cost_per_lead" not in rows.settings:
                rows.keep_baseline(f"channels.{channel}.cost_per_lead", template.cost_per_lead, why, set_it=True)
    for channel in baseline.channels:
        if channel not in counts.index:
            rows.add(f"channels.{channel}.leads_per_week", 0.0, 0.0, 0.0, 0, "no leads from this baseline channel in the export")
    return counts


def _score_bars(leads: pd.DataFrame, lead_model: _LeadModel, mql_threshold: float, end: pd.Timestamp, rows: _Rows) -> float:
    """Marketing's MQL bar and sales' acceptance bar, from the shares that pass each within
    ``PASS_WINDOW_DAYS`` (mapped through the baseline's quality and score noise); the MQL bar
    (the baseline's, ``mql_threshold``, when the export cannot tell)."""
    settled = leads[leads["created_at"] <= end - pd.Timedelta(days=PASS_WINDOW_DAYS)]
    if _has(leads, "mql_at") and len(settled):
        mql_fast = days_between(settled["mql_at"], settled["created_at"]) <= PASS_WINDOW_DAYS
        p, low, high = _share(int(mql_fast.sum()), len(settled))
        mql_threshold = lead_model.threshold_for_share(p)
        rows.add("scoring.mql_threshold", mql_threshold, lead_model.threshold_for_share(high), lead_model.threshold_for_share(low),
                 len(settled), f"score bar letting through the observed {p:.1%} MQLs within {PASS_WINDOW_DAYS:g} days "
                 "(mapped through the baseline's quality and score noise)")
    handed = settled.iloc[0:0]
    if _has(leads, "mql_at", "handed_off_at", "sal_at") and len(settled):
        handed = settled[mql_fast & settled["handed_off_at"].notna()]
    above = lead_model.score >= mql_threshold
    if len(handed):
        accepted = days_between(handed["sal_at"], handed["handed_off_at"]) <= PASS_WINDOW_DAYS
        p, low, high = _share(int(accepted.sum()), len(handed))
        bar = max(mql_threshold, lead_model.threshold_for_share(p, above))
        rows.add("sales_acceptance.threshold", bar, max(mql_threshold, lead_model.threshold_for_share(high, above)),
                 max(mql_threshold, lead_model.threshold_for_share(low, above)), len(handed),
                 f"sales' score bar accepting the observed {p:.1%} of MQLs handed over")
    return mql_threshold


def _handoff(leads: pd.DataFrame, rows: _Rows, observed: dict[str, pd.DataFrame]) -> None:
    """The handoff latency's distribution, from MQL to handoff within ``PASS_WINDOW_DAYS``."""
    gaps = pd.Series(dtype=float)
    if _has(leads, "mql_at", "handed_off_at"):
        gaps = days_between(leads["handed_off_at"], leads["mql_at"]) * HOURS_PER_DAY
    latency = gaps[(gaps >= 0) & (gaps <= PASS_WINDOW_DAYS * HOURS_PER_DAY)].to_numpy(float)
    if (latency > 0).sum() >= 20:
        try:
            spec, note, centre = fit_duration(latency)
        except CannotEstimate as exc:
            rows.cannot(["handoff.latency_hours"], str(exc))
        else:
            rows.add("handoff.latency_hours", spec, centre.ci_low, centre.ci_high, len(latency),
                     f"MQL to handoff, hours: {centre.what} {centre.value:.3g}", note)
            rows.settings["handoff.mode"] = "continuous"
            observed["handoff_latency_hours"] = pd.DataFrame({"hours": latency})


def _follow_up(leads: pd.DataFrame, baseline: Scenario, lead_model: _LeadModel, mql_threshold: float, end: pd.Timestamp,
               rows: _Rows, observed: dict[str, pd.DataFrame]) -> None:
    """The follow-up rate, how often a first dial reaches the lead by its age, and how often a
    lead reached qualifies by its age, from the leads' first passes."""
    if not _has(leads, "mql_at", "handed_off_at", "sal_at", "first_touch_at"):
        return
    first_pass = leads[(days_between(leads["handed_off_at"], leads["mql_at"]) <= PASS_WINDOW_DAYS)
                       & (days_between(leads["sal_at"], leads["handed_off_at"]) <= PASS_WINDOW_DAYS)]
    workable = first_pass[first_pass["sal_at"] <= end - pd.Timedelta(days=FOLLOW_UP_MARGIN_DAYS)]
    if len(workable):
        p, low, high = _share(int(workable["first_touch_at"].notna().sum()), len(workable))
        rows.add("follow_up.follow_up_rate", p, low, high, len(workable),
                 f"accepted leads ever touched (accepted at least {FOLLOW_UP_MARGIN_DAYS:g} days before the export ends)")
    touched = first_pass[first_pass["first_touch_at"].notna()].copy()
    touched["age_hours"] = days_between(touched["first_touch_at"], touched["mql_at"]) * HOURS_PER_DAY
    touched = touched[(touched["age_hours"] >= 0) & (touched["age_hours"] <= 14 * HOURS_PER_DAY)]
    if "contacted_at" in touched and len(touched) >= 50:
        reached = (touched["contacted_at"] == touched["first_touch_at"]).to_numpy()
        _contact(touched, reached, baseline, rows, observed)
        contacted = touched[reached]
        if len(contacted) >= 50 and "sql_at" in contacted:
            accepted_quality = lead_model.quality[lead_model.score >= rows.settings.get("sales_acceptance.threshold", mql_threshold)]
            _qualification(contacted, accepted_quality, baseline, rows, observed)


def _contact(touched: pd.DataFrame, reached: np.ndarray, baseline: Scenario, rows: _Rows,
             observed: dict[str, pd.DataFrame]) -> None:
    """How often a first dial reaches the lead at age 0 and how that decays with the lead's age:
    the model's own presence-window curve where enough dials came within 10 minutes, else a
    logit on the age of the cold dials (an hour or more after the inquiry)."""
    ages = touched["age_hours"].to_numpy(float)
    knots = list(baseline.follow_up.contact_decay.age_hours)
    presence = presence_fit(ages, reached, baseline) if (ages * MINUTES_PER_HOUR < 10).sum() >= 30 else None
    try:
        if presence is not None:
            fit = presence.cold
            method = "cold first dials that reached the lead, at age 0, from the same maximum-likelihood fit"
        else:
            cold = ages >= 1.0  # past any presence window: cold calls only
            if not cold.any() and np.ptp(ages) > 0:
                raise CannotEstimate("no first dial came an hour or more after the inquiry: the cold-call "
                                      "curve needs older leads")
            fit = decay_logit(ages[cold] if cold.any() else ages, reached[cold] if cold.any() else reached, knots)
            method = ("first dials an hour or more after the inquiry that reached the lead, extrapolated to "
                      "age 0 (logit on age)")
    except CannotEstimate as exc:
        rows.cannot(["follow_up.contact_probability", "follow_up.contact_decay"], str(exc))
        return
    if presence is not None:
        how = ("maximum likelihood of the model's own presence-window curve on first dials by age (the "
               "window's spread kept at the baseline's)")
        value, low, high = presence.contact_probability_present
        rows.add("follow_up.contact_probability_present", value, low, high, presence.n,
                 f"first dials while the inquirer is still at the desk that reached them: {how}")
        value, low, high = presence.presence_median
        rows.add("follow_up.presence_minutes", {"dist": "lognormal", "median": round(value, 3), "sigma": presence.presence_sigma},
                 low, high, presence.n, f"minutes an inquirer stays at the desk (median of the presence window): {how}")
    p0 = float(logistic_array(fit["intercept"]))
    rows.add("follow_up.contact_probability", p0, float(logistic_array(fit["intercept_ci"][0])),
             float(logistic_array(fit["intercept_ci"][1])), fit["n"], method)
    _add_decay(rows, "follow_up.contact_decay", knots, fit,
               "odds multipliers of a cold call reaching a lead by its age (piecewise linear log odds between the knots)")
    observed["contact_by_age"] = _by_age(touched["age_hours"], reached, knots)
    observed["decay_fits"] = _decay_table("contact_decay", knots, fit)


def _qualification(contacted: pd.DataFrame, accepted_quality: np.ndarray, baseline: Scenario, rows: _Rows,
                   observed: dict[str, pd.DataFrame]) -> None:
    """How often a lead reached at its first attempt qualifies, at age 0 for a quality-50 lead
    (``accepted_quality``: the quality of the leads sales accepts, to map the accepted mix's rate
    to one lead's), and how that decays with the lead's age, net of leads that chose a
    competitor first."""
    qualified = contacted["sql_at"].notna().to_numpy()
    knots_q = list(baseline.follow_up.qualification_decay.age_hours)
    ages_q = contacted["age_hours"].to_numpy(float)
    shopping = baseline.follow_up.shopping_window_hours
    keep = None if shopping is None else 1.0 - shopping.cdf(ages_q)
    decay_known = True
    try:
        fitq = decay_logit(ages_q, qualified, knots_q, keep)
    except CannotEstimate as exc:
        # leads first reached long after the inquiry have mostly bought elsewhere, so the
        # later part of the curve may not be identified: fit the first day alone
        decay_known, reason = False, str(exc)
        early = ages_q < knots_q[1]
        try:
            fitq = decay_logit(ages_q[early], qualified[early], knots_q[:2], None if keep is None else keep[early])
        except CannotEstimate as again:
            rows.cannot(["qualification.probability_at_quality_50", "follow_up.qualification_decay"], str(again))
            return
        rows.cannot(["follow_up.qualification_decay"], reason)
    shifts = QualityShift(baseline.qualification.quality_odds_ratio_per_10_points)(accepted_quality)
    base = [base_probability_for(float(logistic_array(x)), shifts) for x in (fitq["intercept"], *fitq["intercept_ci"])]
    rows.add("qualification.probability_at_quality_50", base[0], base[1], base[2], fitq["n"],
             f"leads reached at their first attempt who qualified, at age 0: {float(logistic_array(fitq['intercept'])):.1%} "
             "for the accepted mix, mapped to a quality-50 lead through the baseline's quality model"
             + ("" if decay_known else f" (from the leads first reached within {knots_q[1]:g} hours)"))
    observed["qualification_by_age"] = _by_age(contacted["age_hours"], qualified, knots_q)
    if decay_known:
        _add_decay(rows, "follow_up.qualification_decay", knots_q, fitq,
                   "odds multipliers of qualifying by the lead's age (logit; slightly flattened by the unobserved spread of quality"
                   + ("" if shopping is None else "; net of leads that chose a competitor first, with the shopping window kept "
                      "at the baseline's: an export cannot tell a lost lead from a cooled one") + ")")
        observed["decay_fits"] = pd.concat([observed.get("decay_fits"), _decay_table("qualification_decay", knots_q, fitq)],
                                           ignore_index=True)


def _deal_sizes_kept(channels: list[str], baseline: Scenario, rows: _Rows) -> None:
    """Each channel whose deal size the export could not estimate keeps the baseline's (a channel
    new to the baseline: the baseline's first channel's)."""
    for channel in channels:
        if f"channels.{channel}.deal_size" not in rows.settings:
            if channel in baseline.channels:
                rows.keep_baseline(f"channels.{channel}.deal_size", None, "not estimated: needs opportunity_at and amount, "
                                   "with 10 or more deals of the channel")
            else:
                name, template = next(iter(baseline.channels.items()))
                rows.keep_baseline(f"channels.{channel}.deal_size", template.deal_size.model_dump(mode="json"),
                                   f"not estimated (needs 10 or more deals): a channel new to the baseline, given the "
                                   f"baseline's {name} value", set_it=True)


def _add_decay(rows: _Rows, key: str, knots: list[float], fit: dict[str, Any], what: str) -> None:
    """A fitted decay curve as a scenario setting; the CI columns are those of the last multiplier."""
    each = ", ".join(f"{m:.3g} [{a:.3g}, {b:.3g}]" for m, a, b in zip(fit["multipliers"], fit["lows"], fit["highs"]))
    rows.add(key, {"age_hours": knots, "odds_multiplier": fit["multipliers"]}, fit["lows"][-1], fit["highs"][-1], fit["n"],
             f"{what}; each multiplier with its CI: {each}", f"McFadden pseudo-R2 {fit['pseudo_r2']:.3f}")


def _decay_table(curve: str, knots: list[float], fit: dict[str, Any]) -> pd.DataFrame:
    """A fitted decay curve: the odds multiplier at each age with its 95% CI."""
    return pd.DataFrame({"curve": curve, "age_hours": knots, "odds_multiplier": fit["multipliers"],
                         "ci_low": fit["lows"], "ci_high": fit["highs"], "n": fit["n"],
                         "rate_at_age_0": float(logistic_array(fit["intercept"]))})


def _by_age(age_hours: pd.Series, outcome: np.ndarray, knots: list[float]) -> pd.DataFrame:
    edges = [*knots, np.inf]
    labels = [f"{a:g}-{b:g} h" if np.isfinite(b) else f"{a:g} h or more" for a, b in zip(edges[:-1], edges[1:])]
    groups = pd.cut(age_hours.to_numpy(float), edges, right=False, labels=labels)
    rows = []
    for label in labels:
        mask = np.asarray(groups == label)
        if mask.sum():
            share, low, high = _share(int(outcome[mask].sum()), int(mask.sum()))
            rows.append({"age_group": label, "leads": int(mask.sum()), "share": share, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def funnel_counts(leads: pd.DataFrame) -> pd.DataFrame:
    """Leads reaching each stage of the export, and the conversion from the stage before."""
    rows = []
    for stage in FUNNEL_STAGES:
        if stage.status is not None:  # an export says how a deal ended in its outcome column
            if "outcome" in leads:
                rows.append({"stage": stage.label, "count": int((leads["outcome"] == stage.status).sum())})
        elif stage.reached_at in leads:
            rows.append({"stage": stage.label, "count": int(leads[stage.reached_at].notna().sum())})
    table = pd.DataFrame(rows)
    table["conversion"] = table["count"] / table["count"].shift(1)
    return table


def _seasonality(leads: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, rows: _Rows) -> None:
    created = leads["created_at"]
    days = pd.date_range(start.normalize(), end.normalize(), freq="D")
    hours = created.dt.hour.value_counts().reindex(range(24), fill_value=0).to_numpy(float)
    hour_profile = hours / hours.mean()
    chi = stats.chisquare(hours)
    rows.add("seasonality.hour", [round(float(v), 3) for v in hour_profile], np.nan, np.nan, len(created),
             "inquiries per hour of day, relative to the mean", f"chi-square against a flat day: p = {chi.pvalue:.2g}")
    _calendar_profile(rows, "seasonality.weekday", created.dt.day_of_week, days.day_of_week, range(7), len(days), 7,
                      "weekday (per calendar day of that weekday)", "week")
    _calendar_profile(rows, "seasonality.month", created.dt.month, days.month, range(1, 13), len(days), 365,
                      "month (per calendar day of that month)", "year")


def _calendar_profile(rows: _Rows, key: str, inquiries: pd.Series, calendar: Any, periods: range, covered: int,
                      needed: int, per: str, cycle: str) -> None:
    """Inquiries per weekday or month, per calendar day of it, relative to the mean, with a
    chi-square test against a flat cycle; kept at the baseline when the export is shorter than a cycle."""
    if covered < needed:
        rows.keep_baseline(key, None, f"not estimated: the inquiries cover {covered} calendar days, under a {cycle}")
        return
    counts = inquiries.value_counts().reindex(periods, fill_value=0).to_numpy(float)
    exposure = pd.Series(calendar).value_counts().reindex(periods, fill_value=0).to_numpy(float)
    rate = counts / exposure
    chi = stats.chisquare(counts, exposure / exposure.sum() * counts.sum())
    rows.add(key, [round(float(v), 3) for v in rate / rate.mean()], np.nan, np.nan, len(inquiries),
             f"inquiries per {per}, relative to the mean", f"chi-square against a flat {cycle}: p = {chi.pvalue:.2g}")


def _deals(leads: pd.DataFrame, baseline: Scenario, lead_model: _LeadModel, rows: _Rows,
           observed: dict[str, pd.DataFrame], end: pd.Timestamp) -> None:
    if not _has(leads, "opportunity_at", "closed_at") or leads["opportunity_at"].notna().sum() < 20:
        return
    opp = baseline.opportunity
    alignment = alignment_log_odds(opp)
    bar = rows.settings.get("sales_acceptance.threshold", baseline.sales_acceptance.threshold)
    shifts = QualityShift(opp.quality_odds_ratio_per_10_points)(lead_model.quality[lead_model.score >= bar])
    durations = []
    for i, deal_stage in enumerate(DEAL_STAGES):
        stage, start_col = deal_stage.name, deal_stage.entered_at
        next_col = DEAL_STAGES[i + 1].entered_at if i + 1 < len(DEAL_STAGES) else None
        if not _has(leads, start_col, next_col or "outcome"):
            continue
        entered = leads[leads[start_col].notna()]
        passed = entered[next_col].notna() if next_col else entered["outcome"].eq("won")
        resolved = passed | entered["closed_at"].notna()
        if resolved.sum() >= 10:
            p, low, high = _share(int(passed[resolved].sum()), int(resolved.sum()))
            to_param = [base_probability_for(x, shifts, alignment) for x in (p, low, high)]
            rows.add(f"opportunity.stages.{stage}.pass_probability", to_param[0], to_param[1], to_param[2], int(resolved.sum()),
                     f"deals passing the stage: {p:.1%} observed, mapped to a quality-50 lead with full messaging and content "
                     "through the baseline's quality, messaging and content effects")
        finished = entered[resolved & (entered[start_col] <= end - pd.Timedelta(days=STAGE_MARGIN_DAYS))]
        stop = finished[next_col].where(finished[next_col].notna(), finished["closed_at"]) if next_col else finished["closed_at"]
        days = days_between(stop, finished[start_col]).to_numpy(float)
        if (days > 0).sum() >= 20:
            try:
                spec, fit, centre = fit_duration(days)
            except CannotEstimate as exc:
                rows.cannot([f"opportunity.stages.{stage}.duration_days"], str(exc))
                continue
            rows.add(f"opportunity.stages.{stage}.duration_days", spec, centre.ci_low, centre.ci_high, int((days > 0).sum()),
                     f"days in the stage ({centre.what} {centre.value:.3g}; stages started at least "
                     f"{STAGE_MARGIN_DAYS:g} days before the export ends)", fit)
            durations.append(pd.DataFrame({"stage": stage, "days": days[days > 0]}))
    if durations:
        observed["stage_days"] = pd.concat(durations, ignore_index=True)

    if "amount" in leads:
        deals = leads[leads["opportunity_at"].notna() & (leads["amount"] > 0)]
        for channel, group in deals.groupby("channel", observed=True):
            amounts = group["amount"].to_numpy(float)
            if len(group) >= 10 and np.ptp(amounts) == 0:
                rows.add(f"channels.{channel}.deal_size", {"dist": "constant", "value": float(amounts[0])}, float(amounts[0]),
                         float(amounts[0]), len(group), f"deal amounts: every one {amounts[0]:,.0f}")
            elif len(group) >= 10:
                logs = DescrStatsW(np.log(amounts))
                low, high = logs.tconfint_mean()
                rows.add(f"channels.{channel}.deal_size", {"dist": "lognormal", "median": float(np.exp(logs.mean)), "sigma": float(logs.std)},
                         float(np.exp(low)), float(np.exp(high)), len(group), f"deal amounts: median {np.exp(logs.mean):,.0f} (lognormal)")

    if "outcome" in leads and "churned_at" in leads:
        won = leads[leads["outcome"] == "won"]
        if len(won) >= 20:
            stop = won["churned_at"].where(won["churned_at"].notna(), end)
            customer_days = float(days_between(stop, won["closed_at"]).clip(lower=0).sum())
            months = customer_days / DAYS_PER_MONTH
            events = int(won["churned_at"].notna().sum())
            if months > 0:
                low, high = confint_poisson(events, customer_days, method="exact-c")  # the daily churn hazard
                rows.add("customers.monthly_churn", monthly_churn_for(events / customer_days), monthly_churn_for(low),
                         monthly_churn_for(high), len(won),
                         f"{events} customers lost over {months:,.0f} customer-months (Poisson exact CI)")

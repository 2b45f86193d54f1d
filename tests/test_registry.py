"""The lever registry's functions: interpolation, --set text and display."""

from __future__ import annotations

import pytest

from funnelsim.levers import as_overrides, describe_change, format_value, lever, set_text, value_between


def test_value_between_interpolates_as_the_assessment_and_the_path_do():
    latency = lever("handoff.latency_hours.median")
    assert value_between(latency.no, latency.yes, 0.5, "log", digits=4) == 0.6325  # the geometric middle
    assert value_between(latency.no, latency.yes, 0.5, "log") == pytest.approx((8.0 * 0.05) ** 0.5)
    assert value_between(2, 6, 0.25, digits=4) == 3 and isinstance(value_between(2, 6, 0.25, digits=4), int)
    assert value_between(2, 6, 0.25) == 3.0
    assert value_between(0.55, 0.95, 1.0) == 0.95 and value_between(0.55, 0.95, 0.0) == 0.55  # the ends exactly
    assert value_between(0.55, 0.95, 2.0) == pytest.approx(1.35)  # beyond 1: further on
    assert value_between("batch", "continuous", 0.5, "switch") == "continuous"
    assert value_between(False, True, 0.49, "switch") is False


def test_overrides_round_where_the_scenario_wants_whole_numbers():
    text = as_overrides({"follow_up.max_attempts": 4.6, "follow_up.priority_routing": True, "handoff.mode": "batch",
                         "follow_up.follow_up_rate": 0.8125})
    assert text == ["follow_up.max_attempts=5", "follow_up.priority_routing=true", "handoff.mode=batch",
                    "follow_up.follow_up_rate=0.8125"]
    assert set_text("sdr_team.cost_per_rep_month", 7000) == "7000"  # not a lever: a whole number stays whole
    assert set_text("sdr_team.business_hours", None) == "null"


def test_values_read_as_a_marketer_reads_them():
    assert format_value("handoff.latency_hours.median", 8.0) == "8 h"
    assert format_value("handoff.latency_hours.median", 0.05) == "3 min"
    assert format_value("follow_up.follow_up_rate", 0.95) == "95%"
    assert format_value("customers.monthly_churn", 0.0125) == "1.25%"
    assert format_value("closed_loop.enabled", True) == "on"
    assert format_value("handoff.mode", "batch") == "batch export"
    assert format_value("sdr_team.reps", 6) == "6"
    assert format_value("closed_loop.meeting_every_days", 42) == "42 days"
    assert format_value("opportunity.message_consistency_odds_ratio", 1.988) == "×1.99"
    assert format_value("handoff.batch_at_hour", 9) == "9:00"
    assert format_value("sdr_team.business_hours", {"open_hour": 8, "close_hour": 19,
                                                    "working_days": ["mon", "tue", "wed", "thu", "fri"]}) == "8:00–19:00 Mon–Fri"
    assert format_value("sdr_team.business_hours", None) == "around the clock"
    assert describe_change("handoff.latency_hours.median", 8.0, 0.05) == "Handoff latency (median): 8 h → 3 min"

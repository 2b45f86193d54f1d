"""The vocabulary for people: every KPI and shipped scenario named, numbers formatted in their unit."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from funnelsim.model.records import REPLICATION_COLUMNS
from funnelsim.present import vocabulary as v

RAW_FLOAT = re.compile(r"(?<![\w.])\d*\.\d{3,}")


def test_every_kpi_and_every_shipped_scenario_has_a_business_name():
    kpis = {k for k, (dtype, unit, _) in REPLICATION_COLUMNS.items() if unit != "-" and k not in ("seed",)}
    assert kpis <= set(v.KPIS), kpis - set(v.KPIS)
    assert all(term.name and "_" not in term.name for term in v.KPIS.values())
    shipped = {yaml.safe_load(p.read_text())["name"] for p in [*ROOT.glob("params/scenarios/*.yaml"), ROOT / "params/baseline.yaml"]}
    assert shipped <= set(v.SCENARIOS), shipped - set(v.SCENARIOS)
    assert v.scenario_name("my-new_company") == "My new company"


@pytest.mark.parametrize(
    ("value", "text"),
    [(845, "$845"), (999.6, "$1k"), (12_345, "$12.3k"), (4_912_345, "$4.91M"), (-1_200_000, "−$1.2M"), (3e9, "$3B"),
     (float("nan"), "–")],
)
def test_money_has_three_significant_digits_and_a_symbol(value, text):
    assert v.money(value) == text


def test_the_currency_symbol_is_configurable():
    assert v.signed_money(4.9e6, "€") == "+€4.9M" and v.format_kpi("cac", 12_345, "£") == "£12.3k"
    assert v.format_kpi_change("revenue", -2.5e5, "€") == "−€250k"


def test_kpis_in_their_units():
    assert v.format_kpi("win_rate", 0.2077152) == "20.8%"
    assert v.format_kpi("median_speed_to_lead_hours", 0.6) == "36 min"
    assert v.format_kpi("median_speed_to_lead_hours", 26.31) == "26.3 h"
    assert v.format_kpi("sales_cycle_days", 42.34) == "42.3 days"
    assert v.format_kpi("sqls", 12_344.6) == "12,345"
    assert v.signed_percent(0.47) == "+47%" and v.signed_percent(-0.1234) == "−12.3%"
    assert v.format_kpi_change("win_rate", -0.023) == "−2.3 points"
    assert v.signed_percent(15.71) == "+1,571%" and v.percent(2.5) == "250%"
    assert [v.chance(p) for p in (0.0000111, 0.37, 0.999, 1.0)] == ["<1%", "37%", ">99%", "100%"]
    assert v.period(330) == "11 months" and v.period(720) == "2 years" and v.period(14) == "2 weeks"


def test_a_table_for_people():
    frame = pd.DataFrame({"scenario": ["fully-aligned", "somewhat-misaligned"], "revenue": [4_912_345.678, 1_234_567.0],
                          "win_rate": [0.2077152, 0.19], "paired": [True, False]})
    shown = v.people_frame(frame, {"scenario": ("Company", "scenario"), "revenue": ("Revenue", "revenue"),
                                   "win_rate": ("Win rate", "win_rate"), "paired": ("Paired by run", "text")})
    assert list(shown.columns) == ["Company", "Revenue", "Win rate", "Paired by run"]
    assert shown.to_dict("list") == {"Company": ["Fully aligned", "Somewhat misaligned"], "Revenue": ["$4.91M", "$1.23M"],
                                     "Win rate": ["20.8%", "19%"], "Paired by run": ["yes", "no"]}
    page = v.people_table(frame).to_html()
    assert "Revenue" in page and "Fully aligned" in page and "Win rate" in page
    assert not RAW_FLOAT.search(re.sub(r"<[^>]+>", " ", page.split("</style>")[-1]))
    assert "True" not in page and "False" not in page
    assert "row_heading" not in page  # no index column


@pytest.mark.parametrize("name, inside", [
    ("Revenue", "revenue"), ("Sales-qualified leads (SQLs)", "sales-qualified leads (SQLs)"), ("SDR utilisation", "SDR utilisation"),
    ("SDRs", "SDRs"), ("HBR found it", "HBR found it"), ("Fully aligned", "fully aligned"), ("A", "a"), ("", ""),
])
def test_a_name_inside_a_sentence_keeps_its_abbreviations(name, inside):
    assert v.in_sentence(name) == inside


@pytest.mark.parametrize("value, shown", [
    (45114.7, "45,115"), (8963.0, "8,963"), (656.2, "656.2"), (-507726.9, "-507,727"), (7.879163e07, "78,791,630"), (0.2758539, "0.2759"), (64.0, "64"),
    (1.0, "1"), (0.0, "0"), (0.00012, "0.00012"), (5.5e-05, "5.500e-05"), (1.918202e-141, "1.918e-141"), (float("nan"), "nan"),
])
def test_an_analyst_table_shows_numbers_without_exponents_but_for_the_very_small(value, shown):
    assert v.analyst_number(value) == shown


def test_a_plain_number_is_the_same_rule_everywhere():
    """A lever shown as a number, an analyst's table and the stats sentences share one rule."""
    from funnelsim.config.lever_values import format_as, plain_number
    from funnelsim.stats.analysis import replications_needed

    assert format_as("number", 45114.7) == plain_number(45114.7) == "45,115" and format_as("number", 0.8) == "0.8"
    assert v.analyst_number(0.2758539) == plain_number(0.2758539, digits=4) == "0.2759"
    sentence = replications_needed(pd.DataFrame({"revenue": [7.5e7, 8.0e7, 8.2e7, 7.9e7]}), "revenue", half_width=7.9e5).sentence
    assert "e+0" not in sentence and "±790,000" in sentence

"""`status` by level (issue 20): each unit's level and parent, rows in the tree's order, and the roll-up of
each unit with units below it (itself and all of those) and of each level, in the report, the table and
the JSON; counted by hand for a four-level organisation."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from cascadebook import load_strategy
from cascadebook.cli import cli
from cascadebook.mail.status import department_status
from levels_fixture import LEVELS, UNITS, build_cycle, strategy_yaml

# Every unit aligns to a corporate objective here: status is about who returned, not what they align to.
# WEB returns with an error; SEO (level 4) and OPD (level 1) do not return; the deadline has passed.
RETURNS = {
    "COM": [("CO1", "Key account push")],
    "MKT": [("CO3", "Campaign")],
    "WEB": [("CO3", "New site")],
    "SAL": [("CO1", "Northeast reps")],
    "OPS": [("CO5", "Depot")],
}
TODAY = date(2027, 2, 10)
STATES = ("returned", "returned with errors", "waiting", "late", "rejected")


def counts(units: int, returned=0, errors=0, late=0) -> dict:
    return {"units": units} | dict(zip(STATES, (returned, errors, 0, late, 0)))


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    return build_cycle(tmp_path_factory.mktemp("status"), RETURNS, errors=("WEB",), master=False)


@pytest.fixture(scope="module")
def report(cycle):
    return department_status(cycle.strategy, [cycle.returned], key=cycle.key, today=TODAY)


def test_rows_come_in_the_tree_order_with_level_parent_and_state(report):
    rows = [(d.code, d.level, d.parent, d.state) for d in report.departments]
    assert rows == [
        ("COM", 1, "", "returned"),
        ("MKT", 2, "COM", "returned"),
        ("WEB", 3, "MKT", "returned with errors"),
        ("SEO", 4, "WEB", "late"),
        ("SAL", 2, "COM", "returned"),
        ("OPD", 1, "", "late"),
        ("OPS", 2, "OPD", "returned"),
    ]
    assert {d.code: d.level for d in report.departments} == LEVELS


def test_each_unit_with_units_below_it_counts_itself_and_all_of_them(report):
    got = {u.code: (u.level, u.parent, u.counts) for u in report.by_unit()}
    assert got == {
        "COM": (1, "", counts(5, returned=3, errors=1, late=1)),  # COM, MKT, SAL; WEB; SEO
        "MKT": (2, "COM", counts(3, returned=1, errors=1, late=1)),  # MKT; WEB; SEO
        "WEB": (3, "MKT", counts(2, errors=1, late=1)),  # WEB; SEO
        "OPD": (1, "", counts(2, returned=1, late=1)),  # OPS; OPD itself
    }
    assert report.by_level() == {
        1: counts(2, returned=1, late=1),
        2: counts(3, returned=3),
        3: counts(1, errors=1),
        4: counts(1, late=1),
    }


def test_the_json_and_the_table_show_the_levels(cycle):
    args = ["status", str(cycle.strategy_path), str(cycle.returned), "--today", TODAY.isoformat()]
    data = json.loads(CliRunner().invoke(cli, [*args, "--json"], catch_exceptions=False).output)
    assert [(d["code"], d["level"], d["parent"]) for d in data["departments"]][:4] == [
        ("COM", 1, ""),
        ("MKT", 2, "COM"),
        ("WEB", 3, "MKT"),
        ("SEO", 4, "WEB"),
    ]
    assert data["by_unit"][0] == {"code": "COM", "name": "Commercial", "level": 1, "parent": ""} | counts(
        5, returned=3, errors=1, late=1
    )
    assert data["by_level"]["4"] == counts(1, late=1)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    lines = result.output.splitlines()
    assert any(line.startswith("│       SEO ") for line in lines)  # indented three steps under COM > MKT > WEB
    assert "By unit, with the units below it" in result.output
    assert "level 4: 1 unit(s): 1 late" in result.output


def test_a_flat_strategy_keeps_its_json_without_levels(cycle, tmp_path):
    flat = load_strategy(strategy_yaml(tmp_path, [(c, n, None, "objectives") for c, n, _, _ in UNITS]))
    report = department_status(flat, [cycle.returned], key=cycle.key, today=TODAY)
    data = report.to_dict()
    assert [d["code"] for d in data["departments"]] == sorted(LEVELS)
    assert "by_unit" not in data and "by_level" not in data
    assert not any("level" in d or "parent" in d for d in data["departments"])
    assert report.by_unit() == [] and report.by_level() == {}

"""Check-in progress stated as tables of hand-computed numbers: the share of the way of one actual, expected
progress, weights, RAG, and one cycle rolled up to initiatives, objectives, departments and the company.

Fast: items, actuals and the strategy are built in the test (no workbook).
"""

from __future__ import annotations

import math

import pytest

from cascadebook.consolidate.progress import (
    Actual,
    Item,
    ItemProgress,
    ProgressReport,
    Rollup,
    Share,
    Thresholds,
    compute_progress,
    expected_share,
    is_number,
    resolve_weights,
    share_of_way,
    weighted_mean,
)
from cascadebook.model import Department, Objective, Strategy

CYCLE = ("Q1", "Q2", "Q3", "Q4")

# (baseline, target, actual, direction, raw, progress); None: no progress
SHARES = [
    (40, 150, 62, "increase", 0.2, 0.2),  # (62 - 40) / (150 - 40) = 22 / 110
    (0.15, 0.22, 0.17, "increase", 2 / 7, 2 / 7),  # 0.02 / 0.07
    (None, 200, 50, "increase", 0.25, 0.25),  # a missing baseline counts as 0: 50 / 200
    ("n/a", 200, 50, "increase", 0.25, 0.25),  # so does one that is not a number
    (10, 8, 9.5, "decrease", 0.25, 0.25),  # (9.5 - 10) / (8 - 10) = -0.5 / -2
    (10, 8, 9.5, "increase", 0.25, 0.25),  # the direction only matters when target = baseline
    (10, 8, 11, "decrease", -0.5, 0.0),  # behind the baseline: capped at 0, raw kept
    (40, 150, 180, "increase", 140 / 110, 1.0),  # beyond the target: capped at 1
    (40, 150, 150, "increase", 1.0, 1.0),
    (40, 150, 40, "increase", 0.0, 0.0),
    # hold the line (target = baseline): 1 at the target or beyond it in the objective's direction, else 0
    (45, 45, 46, "increase", 1.0, 1.0),
    (45, 45, 45, "increase", 1.0, 1.0),
    (45, 45, 45 - 1e-10, "increase", 1.0, 1.0),  # within the tolerance
    (45, 45, 44, "increase", 0.0, 0.0),
    (8, 8, 7.5, "decrease", 1.0, 1.0),
    (8, 8, 8, "decrease", 1.0, 1.0),
    (8, 8, 8 + 1e-10, "decrease", 1.0, 1.0),
    (8, 8, 8.5, "decrease", 0.0, 0.0),
    (8, 8, 8, "maintain", 1.0, 1.0),
    (8, 8, 8 + 5e-9, "maintain", 1.0, 1.0),  # within 1e-9 of the target's size (8e-9)
    (8, 8, 8 + 1e-9, "decrease", 1.0, 1.0),  # at the edge of the tolerance: still reached
    (45, 45, 45 - 1e-9, "increase", 1.0, 1.0),
    (0, 0, 1e-9, "maintain", 1.0, 1.0),  # |1e-9 - 0| <= 1e-9 * max(1, 0)
    (0, 0, 1.5e-9, "maintain", 0.0, 0.0),  # the tolerance is 1e-9 at least, not more
    (8, 8, 8.5, "maintain", 0.0, 0.0),
    (8, 8, 7.5, "maintain", 0.0, 0.0),
    (None, 0, 0, "increase", 1.0, 1.0),  # 0 -> 0: holding at 0
    # a span of 1e-7 on a target of 1000 is within 1e-9 of its size (1e-6): held, not divided by
    (1000, 1000 + 1e-7, 1000.5, "increase", 1.0, 1.0),
    (1000, 1000 + 1e-7, 999, "increase", 0.0, 0.0),
    # a span of 1e-7 on a target under 1 is a real span (the tolerance is at least 1e-9): 0.5e-7 / 1e-7
    (0, 1e-7, 0.5e-7, "increase", 0.5, 0.5),
    (0, 1.5e-9, 0.75e-9, "increase", 0.5, 0.5),  # 1.5e-9 is beyond the tolerance of 1e-9: a span
    (-1e-9, 0, 0.5, "increase", 1.0, 1.0),  # a span of 1e-9 (at the tolerance) is held, not divided by
    (40, None, 60, "increase", None, None),
    (40, 150, None, "increase", None, None),
    (40, 150, True, "increase", None, None),  # a boolean is no actual
    (40, 150, math.nan, "increase", None, None),
    (40, math.inf, 60, "increase", None, None),
]


@pytest.mark.parametrize(("baseline", "target", "actual", "direction", "raw", "progress"), SHARES)
def test_the_share_of_the_way(baseline, target, actual, direction, raw, progress):
    share = share_of_way(baseline, target, actual, direction)
    if raw is None:
        assert share is None
    else:
        assert (share.raw, share.progress) == (pytest.approx(raw), pytest.approx(progress))
        assert share.capped == (abs(raw - progress) > 1e-6)


def test_the_direction_is_increase_unless_told():
    assert share_of_way(45, 45, 46) == Share(1.0, 1.0)  # at or above the held target
    assert share_of_way(45, 45, 44) == Share(0.0, 0.0)


def test_an_item_measures_its_actuals_in_its_objective_direction():
    held = Item("initiatives", "OPS", "OPS-I01", baseline=8, target=8, direction="decrease")
    assert held.share(7.5) == Share(1.0, 1.0)
    assert held.share(8.5) == Share(0.0, 0.0)
    assert Item("initiatives", "OPS", "OPS-I01", baseline=8, target=8).share(7.5) == Share(0.0, 0.0)
    assert Item("initiatives", "OPS", "OPS-I01", baseline=0, target=10).share(None) is None


@pytest.mark.parametrize(
    ("value", "number"),
    [(1, True), (0.5, True), (0, True), (True, False), (False, False), ("1", False), (None, False)]
    + [(math.nan, False), (math.inf, False), (-math.inf, False)],
)
def test_what_is_a_number(value, number):
    assert is_number(value) is number


# (period, due period, expected progress)
EXPECTED = [
    ("Q1", None, 0.25),  # (0 + 1) / (3 + 1): no due period, the cycle's last
    ("Q2", None, 0.5),
    ("Q4", None, 1.0),
    ("Q1", "Q4", 0.25),
    ("Q1", "Q2", 0.5),  # (0 + 1) / (1 + 1)
    ("Q2", "Q2", 1.0),
    ("Q3", "Q2", 1.0),  # overdue: (2 + 1) / (1 + 1) = 1.5, at most 1
    ("Q1", "Q1", 1.0),
    ("Q2", "Q3", 2 / 3),  # (1 + 1) / (2 + 1)
    ("Q2", "H2", 0.5),  # a due period not in the cycle: the cycle's last
    ("Q5", "Q2", 1.0),  # a period not in the cycle: should be done
]


@pytest.mark.parametrize(("period", "due", "expected"), EXPECTED)
def test_expected_progress(period, due, expected):
    assert expected_share(period, CYCLE, due) == pytest.approx(expected)


# (weights, resolved)
WEIGHTS = [
    ([0.6, None], [0.6, 0.6]),
    ([0.3, None, 0.1], [0.3, 0.2, 0.1]),  # the mean of 0.3 and 0.1
    ([None, None], [1.0, 1.0]),
    ([0, None], [1.0, 1.0]),  # no usable weight: all equal
    ([-1, -2], [1.0, 1.0]),  # negatives count as 0: none usable
    ([-1, 0.5, None], [0.0, 0.5, 0.25]),  # -1 counts as 0; the mean of 0 and 0.5
    ([2, 0], [2.0, 0.0]),  # a weight of 0 is a weight
    ([True, "x", 3], [3.0, 3.0, 3.0]),  # not numbers: missing
    ([], []),
]


@pytest.mark.parametrize(("weights", "resolved"), WEIGHTS)
def test_missing_weights(weights, resolved):
    assert resolve_weights(weights) == pytest.approx(resolved)


# (pairs of (weight, value), mean)
MEANS = [
    ([(0.6, 0.2), (0.4, None)], 0.2),  # not reporting: left out, not counted as 0
    ([(1, 0.2), (3, 0.6)], 0.5),  # (0.2 + 1.8) / 4
    ([(2, 0.0)], 0.0),  # a 0 is a value
    ([(0.4, None), (0.6, 0.2)], 0.2),  # one not reporting does not stop the others counting
    ([(1, None)], None),
    ([(0, 0.5)], None),  # no weight left
    ([], None),
]


@pytest.mark.parametrize(("pairs", "mean"), MEANS)
def test_weighted_mean(pairs, mean):
    result = weighted_mean(pairs)
    assert result == (None if mean is None else pytest.approx(mean))


# (thresholds, progress, expected, rag)
RAGS = [
    (Thresholds(), None, 0.5, None),
    (Thresholds(), 0.35, 0.5, "green"),  # pace 0.7: green at 0.7
    (Thresholds(), 0.35 - 1e-10, 0.5, "green"),  # within the tolerance
    (Thresholds(), 0.7 - 1e-9, 1.0, "green"),  # at the edge of the tolerance
    (Thresholds(), 0.34, 0.5, "amber"),  # pace 0.68
    (Thresholds(), 0.4 - 1e-9, 1.0, "amber"),
    (Thresholds(), 0.2, 0.5, "amber"),  # pace 0.4: amber at 0.4
    (Thresholds(), 0.19, 0.5, "red"),  # pace 0.38
    (Thresholds(), 0.0, 0.25, "red"),
    (Thresholds(), 0.7, 0, "green"),  # nothing expected yet: the progress is the pace
    (Thresholds(), 0.5, None, "amber"),
    (Thresholds(), 0.3, 0, "red"),
    (Thresholds(green=1.1, amber=1.05), 1.0, 1.0, "green"),  # done is green, whatever the pace needed
    (Thresholds(green=1.1, amber=1.05), 1 - 1e-10, 1.0, "green"),
    (Thresholds(green=1.1, amber=1.05), 1 - 1e-9, 1.0, "green"),  # at the edge of the tolerance
    (Thresholds(green=1.1, amber=1.05), 0.99, 1.0, "red"),
    (Thresholds(green=0.9, amber=0.5), 0.4, 0.5, "amber"),  # pace 0.8
    (Thresholds(green=0.9, amber=0.5), 0.45, 0.5, "green"),  # pace 0.9
    (Thresholds(green=0.9, amber=0.5), 0.2, 0.5, "red"),  # pace 0.4
]


@pytest.mark.parametrize(("thresholds", "progress", "expected", "rag"), RAGS)
def test_rag(thresholds, progress, expected, rag):
    assert thresholds.rag(progress, expected) == rag


def strategy(**kw) -> Strategy:
    return Strategy(
        "FY2027",
        (
            Objective("CO1", "Revenue", weight=3),
            Objective("CO2", "Churn", weight=1),
            Objective("CO3", "Quality"),  # no weight: the mean of 3 and 1 = 2
        ),
        (Department("A", "Alpha"), Department("B", "Beta"), Department("C", "Gamma")),
        periods=CYCLE,
        **kw,
    )


def test_thresholds_of_a_strategy():
    assert Thresholds.of(strategy(rag_green=0.9, rag_amber=0.5)) == Thresholds(0.9, 0.5)
    assert Thresholds.of(strategy()) == Thresholds(0.7, 0.4)
    assert Thresholds.of(strategy(rag_green=math.nan, rag_amber="0.5")) == Thresholds(0.7, 0.4)
    assert Thresholds.of(object()) == Thresholds(0.7, 0.4)


ITEMS = [
    # A-I01: 0 -> 100, weight 3, all of CO1, due Q4
    Item("initiatives", "A", "A-I01", baseline=0, target=100, weight=3, objectives=(("CO1", 1.0),), due_period="Q4"),
    # A-I02: 50 -> 10 (a decrease), weight 2, half CO1 half CO2, due Q2
    Item(
        "initiatives",
        "A",
        "A-I02",
        baseline=50,
        target=10,
        weight=2,
        objectives=(("CO1", 0.5), ("CO2", 0.5)),
        due_period="Q2",
    ),
    # B-I01: no baseline (0) -> 8, no weight, all of CO2, no due period (Q4)
    Item("initiatives", "B", "B-I01", target=8, objectives=(("CO2", 1.0),)),
    # B-I02: never reports
    Item("initiatives", "B", "B-I02", target=5, weight=4, objectives=(("CO3", 1.0),)),
    # a KPI: has a progress of its own, but does not roll up (even with a weight and an objective)
    Item("kpis", "B", "B-K01", baseline=0, target=10, weight=100, objectives=(("CO1", 1.0),)),
]
ACTUALS = [
    Actual("initiatives", "A", "A-I01", "Q1", 25, status="On track"),
    Actual("initiatives", "A", "A-I01", "Q2", None, status="Blocked"),  # blank: Q1's 25 carries on
    Actual("initiatives", "A", "a-i01", "Q3", 70),  # ids match case aside
    Actual("initiatives", "A", "A-I01", "Q3", 75),  # the later of two in a period wins
    Actual("initiatives", "A", "A-I01", "Q4", 100),  # Q4 is not checked in
    Actual("initiatives", "A", "A-I02", "Q1", 40),
    Actual("initiatives", "A", "A-I02", "Q2", 60),
    Actual("initiatives", "B", "B-I01", "Q2", 10),
    Actual("kpis", "B", "B-K01", "Q1", 5),
    Actual("initiatives", "B", "B-K01", "Q1", 0),  # another sheet's item of that id: not the KPI's
]


@pytest.fixture
def report() -> ProgressReport:
    """Built for each test (not once per module): mutmut runs only the tests that call compute_progress."""
    # Q9 is no period of the cycle; the rest are put in the cycle's order
    return compute_progress(strategy(), ITEMS, ACTUALS, ["Q3", "Q1", "Q9", "Q2"])


# (sheet, item, period, actual, reported in, raw, progress, expected, rag, status)
ITEM_PROGRESS = [
    # A-I01 due Q4: expected (i + 1) / 4
    ("initiatives", "A-I01", "Q1", 25, "Q1", 0.25, 0.25, 0.25, "green", "On track"),  # pace 1
    ("initiatives", "A-I01", "Q2", 25, "Q1", 0.25, 0.25, 0.5, "amber", ""),  # carried; pace 0.5
    ("initiatives", "A-I01", "Q3", 75, "Q3", 0.75, 0.75, 0.75, "green", ""),
    # A-I02 due Q2: expected (i + 1) / 2, at most 1; (40 - 50) / (10 - 50) = 0.25, (60 - 50) / -40 = -0.25
    ("initiatives", "A-I02", "Q1", 40, "Q1", 0.25, 0.25, 0.5, "amber", ""),  # pace 0.5
    ("initiatives", "A-I02", "Q2", 60, "Q2", -0.25, 0.0, 1.0, "red", ""),
    ("initiatives", "A-I02", "Q3", 60, "Q2", -0.25, 0.0, 1.0, "red", ""),
    # B-I01: nothing in Q1; 10 / 8 = 1.25 in Q2, capped to 1
    ("initiatives", "B-I01", "Q1", None, None, None, None, 0.25, None, ""),
    ("initiatives", "B-I01", "Q2", 10, "Q2", 1.25, 1.0, 0.5, "green", ""),
    ("initiatives", "B-I01", "Q3", 10, "Q2", 1.25, 1.0, 0.75, "green", ""),
    ("initiatives", "B-I02", "Q3", None, None, None, None, 0.75, None, ""),
    # the KPI: 5 / 10 = 0.5; pace 2, 1, 0.67
    ("kpis", "B-K01", "Q1", 5, "Q1", 0.5, 0.5, 0.25, "green", ""),
    ("kpis", "B-K01", "Q2", 5, "Q1", 0.5, 0.5, 0.5, "green", ""),
    ("kpis", "B-K01", "Q3", 5, "Q1", 0.5, 0.5, 0.75, "amber", ""),
]


@pytest.mark.parametrize(
    ("sheet", "item", "period", "actual", "reported_in", "raw", "progress", "expected", "rag", "status"), ITEM_PROGRESS
)
def test_item_progress(report, sheet, item, period, actual, reported_in, raw, progress, expected, rag, status):
    ip = report.item(sheet, item[0], item, period)
    got = (ip.item.id, ip.period, ip.actual, ip.reported_in, ip.raw, ip.progress, ip.expected, ip.rag, ip.status)
    want = (item, period, actual, reported_in, raw, progress, expected, rag, status)
    assert got == tuple(pytest.approx(v) if isinstance(v, float) else v for v in want)
    assert ip.carried == (reported_in is not None and reported_in != period)
    assert ip.capped == (raw is not None and raw != progress)


# (what, key, period, progress, expected, rag, reporting, total)
ROLLUPS = [
    # CO1: A-I01 weight 3 x share 1 = 3, A-I02 weight 2 x share 0.5 = 1 (total 4)
    ("objective", "CO1", "Q1", 0.25, 0.3125, "green", 2, 2),  # (3*0.25 + 0.25)/4; (3*0.25 + 0.5)/4; pace 0.8
    ("objective", "CO1", "Q2", 0.1875, 0.625, "red", 2, 2),  # (3*0.25 + 0)/4; (3*0.5 + 1)/4; pace 0.3
    ("objective", "CO1", "Q3", 0.5625, 0.8125, "amber", 2, 2),  # (3*0.75)/4; (3*0.75 + 1)/4; pace 0.69
    # CO2: A-I02 weight 2 x 0.5 = 1, B-I01 no weight (the mean of [2]: 2) x 1 = 2 (total 3)
    ("objective", "CO2", "Q1", 0.25, 0.5, "amber", 1, 2),  # B-I01 not reporting: only A-I02; pace 0.5
    ("objective", "CO2", "Q2", 2 / 3, 2 / 3, "green", 2, 2),  # (0 + 2*1)/3; (1 + 2*0.5)/3
    ("objective", "CO2", "Q3", 2 / 3, 5 / 6, "green", 2, 2),  # (0 + 2*1)/3; (1 + 2*0.75)/3; pace 0.8
    # CO3: only B-I02, which never reports
    ("objective", "CO3", "Q3", None, None, None, 0, 1),
    # A: A-I01 weight 3, A-I02 weight 2 (their objective shares do not matter here; total 5)
    ("department", "A", "Q1", 0.25, 0.35, "green", 2, 2),  # (0.75 + 0.5)/5; (0.75 + 1)/5; pace 0.71
    ("department", "A", "Q2", 0.15, 0.7, "red", 2, 2),  # (0.75 + 0)/5; (1.5 + 2)/5; pace 0.21
    ("department", "A", "Q3", 0.45, 0.85, "amber", 2, 2),  # (2.25 + 0)/5; (2.25 + 2)/5; pace 0.53
    # B: B-I01 and B-I02 (the KPI does not count)
    ("department", "B", "Q1", None, None, None, 0, 2),
    ("department", "B", "Q2", 1.0, 0.5, "green", 1, 2),
    ("department", "B", "Q3", 1.0, 0.75, "green", 1, 2),
    ("department", "C", "Q3", None, None, None, 0, 0),  # no initiatives
    # the company: CO1 weight 3, CO2 1, CO3 none (the mean: 2) and never reporting (total of reporting: 4)
    ("overall", "", "Q1", 0.25, 0.359375, "amber", 2, 3),  # (0.75 + 0.25)/4; (3*0.3125 + 0.5)/4; pace 0.70-
    ("overall", "", "Q2", (0.5625 + 2 / 3) / 4, (1.875 + 2 / 3) / 4, "amber", 2, 3),  # pace 0.48
    ("overall", "", "Q3", (1.6875 + 2 / 3) / 4, (2.4375 + 5 / 6) / 4, "green", 2, 3),  # pace 0.72
]


@pytest.mark.parametrize(("what", "key", "period", "progress", "expected", "rag", "reporting", "total"), ROLLUPS)
def test_rollups(report, what, key, period, progress, expected, rag, reporting, total):
    r = report.overall[period] if what == "overall" else getattr(report, what)(key, period)
    got = (r.key, r.period, r.progress, r.expected, r.rag, r.reporting, r.total)
    want = (key, period, progress, expected, rag, reporting, total)
    assert got == tuple(pytest.approx(v) if isinstance(v, float) else v for v in want)
    assert r.coverage == f"{reporting} of {total}"


def test_the_report_keeps_the_periods_checked_in_in_the_cycle_order(report):
    assert report.periods == ("Q1", "Q2", "Q3") and report.latest == "Q3" and report
    assert set(report.overall) == {"Q1", "Q2", "Q3"}
    assert report.actuals == ACTUALS
    assert report.thresholds == Thresholds(0.7, 0.4)
    # the titles: the objective's, the department's name, and the company's
    assert [report.objective(o, "Q1").title for o in ("CO1", "CO2", "CO3")] == ["Revenue", "Churn", "Quality"]
    assert [report.department(d, "Q1").title for d in "ABC"] == ["Alpha", "Beta", "Gamma"]
    assert report.overall["Q1"].title == "All objectives"


def test_lookups_default_to_the_latest_period(report):
    assert report.item("initiatives", "A", "a-i01") == report.item("initiatives", "A", "A-I01", "Q3")
    assert report.item("initiatives", "A", "A-I01").actual == 75
    assert report.objective("CO1") == report.objective("CO1", "Q3")
    assert report.department("A").period == "Q3"
    assert report.item("initiatives", "A", "A-I09") is None and report.objective("CO9") is None
    assert report.department("Z") is None and report.item("initiatives", "A", "A-I01", "Q4") is None


def test_the_strategy_thresholds_decide_the_rag():
    # A in Q1: pace 0.25 / 0.35 = 0.71: green at 0.7, amber at 0.8
    strict = compute_progress(strategy(rag_green=0.8, rag_amber=0.5), ITEMS, ACTUALS, ["Q1"])
    assert strict.department("A").rag == "amber" and strict.thresholds == Thresholds(0.8, 0.5)
    # given thresholds win over the strategy's
    given = compute_progress(strategy(rag_green=0.8), ITEMS, ACTUALS, ["Q1"], Thresholds(0.5, 0.2))
    assert given.department("A").rag == "green"


def test_the_initiatives_sheet_is_the_one_that_rolls_up():
    # with the KPIs' sheet named as the initiatives', only B-K01 (weight 100, CO1) rolls up
    kpis = compute_progress(strategy(), ITEMS, ACTUALS, ["Q1"], initiatives_sheet="kpis")
    assert (kpis.objective("CO1").progress, kpis.objective("CO1").total) == (0.5, 1)
    assert kpis.department("A").total == 0 and kpis.department("B").progress == 0.5


def test_no_periods_checked_in():
    empty = compute_progress(strategy(), ITEMS, ACTUALS, [])
    assert not empty and empty.latest is None and empty.overall == {}
    assert empty.item("initiatives", "A", "A-I01") is None
    assert empty.items[("initiatives", "A", "a-i01")] == {}
    assert empty.objectives["CO1"] == {} and empty.departments["A"] == {}


def test_the_report_as_a_dict(report):
    data = report.to_dict()
    assert data["periods"] == ["Q1", "Q2", "Q3"] and data["latest"] == "Q3"
    assert data["thresholds"] == {"green": 0.7, "amber": 0.4}
    assert data["overall"]["Q1"] == {
        "progress": pytest.approx(0.25),
        "expected": pytest.approx(0.359375),
        "rag": "amber",
        "reporting": 2,
        "total": 3,
    }
    assert data["objectives"]["CO1"]["Q2"] == {
        "progress": pytest.approx(0.1875),
        "expected": pytest.approx(0.625),
        "rag": "red",
        "reporting": 2,
        "total": 2,
    }
    assert data["departments"]["B"]["Q1"] == {
        "progress": None,
        "expected": None,
        "rag": None,
        "reporting": 0,
        "total": 2,
    }
    assert len(data["items"]) == len(ITEMS) * 3
    assert data["items"][1] == {
        "sheet": "initiatives",
        "department": "A",
        "id": "A-I01",
        "period": "Q2",
        "actual": 25,
        "reported_in": "Q1",
        "raw": 0.25,
        "progress": 0.25,
        "expected": 0.5,
        "rag": "amber",
        "status": "",
    }


# ---- small value objects


@pytest.mark.parametrize(
    ("unit", "baseline", "target", "percent"),
    [
        ("%", 0.15, 0.22, True),
        (" % ", 0.15, 0.22, True),
        ("%", -1, 1, True),  # fractions up to 1 either way
        ("%", 0.15, 1.5, False),  # planned in points
        ("%", None, 0.22, False),
        ("pct", 0.15, 0.22, False),
    ],
)
def test_a_percent_item_planned_as_fractions(unit, baseline, target, percent):
    assert Item("kpis", "A", "A-K01", unit=unit, baseline=baseline, target=target).is_percent is percent


def test_keys_are_case_blind_on_the_id():
    assert Item("kpis", "A", "A-K01").key == ("kpis", "A", "a-k01")
    assert Actual("kpis", "A", "A-K01", "Q1", 1).key == ("kpis", "A", "a-k01")


def test_capped_and_carried():
    item = Item("initiatives", "A", "A-I01")
    assert Share(1.2, 1.0).capped and not Share(0.5, 0.5).capped and not Share(1.0 + 1e-12, 1.0).capped
    done = ItemProgress(item, "Q2", 5, "Q1", 1.0 + 1e-12, 1.0, 0.5, "green")
    assert done.carried and not done.capped
    assert not ItemProgress(item, "Q2", 5, "Q2", 0.5, 0.5, 0.5, "green").carried
    assert not ItemProgress(item, "Q2", None, None, None, None, 0.5, None).carried
    assert not ItemProgress(item, "Q2", None, None, -1.0, None, 0.5, None).capped
    assert Rollup("CO1", "One", "Q1", None, None, None, 0, 3).coverage == "0 of 3"

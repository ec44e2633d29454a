"""Commitment against target, stated as tables: how an initiative's contribution, budget and headcount are
split over the objectives it serves, which contributions are left out and why, what each objective's
commitment adds up to, and which shortfall, surplus and cap findings that gives.

Fast: the strategy and the rows are built in the test (rows as the reader leaves them: typed values,
an objective split as a tuple of (objective id, weight)); the columns are the bundled spec's by role.
"""

from __future__ import annotations

from typing import Any

import pytest

from cascadebook.consolidate.commitments import (
    UNALIGNED,
    Allocation,
    Commitment,
    allocate,
    commitment_findings,
    commitments,
    left_out_text,
)
from cascadebook.model import Department, Objective, Record, Strategy
from cascadebook.spec.roles import BUDGET, CONTRIBUTION, HEADCOUNT, INITIATIVES, OBJECTIVE_REF, OBJECTIVE_SPLIT
from cascadebook.spec.schema import load_spec

SHEET = load_spec("department").sheet_by_role(INITIATIVES)
REF, SPLIT, CONTRIB = SHEET.key_of(OBJECTIVE_REF), SHEET.key_of(OBJECTIVE_SPLIT), SHEET.key_of(CONTRIBUTION)
MONEY, FTE = SHEET.key_of(BUDGET), SHEET.key_of(HEADCOUNT)

REVENUE = Objective("CO1", "Grow revenue", unit="EUR", baseline=100, target=150, budget_cap=500)  # change +50
MARGIN = Objective("CO2", "Grow margin", unit="EUR", baseline=10, target=30)  # change +20, same unit as CO1
CHURN = Objective("CO3", "Cut churn", unit="%", baseline=0.10, target=0.08, direction="decrease")  # change -0.02
CUSTOMERS = Objective("CO4", "Win customers", unit="count", baseline=40, target=60)  # change +20
QUALITY = Objective("CO5", "Hold quality", unit="score", direction="maintain")  # no baseline, no target
NPS = Objective("CO6", "Raise NPS", unit="%", baseline=10, target=25)  # a % typed in points: change +15
SHARE = Objective("CO7", "Win share", unit="%", baseline=0, target=1.5)  # in points from 0: change +1.5
DEFECTS = Objective("CO8", "No defects", unit="%", baseline=1.5, target=0, direction="decrease")  # to 0: -1.5
UPTIME = Objective("CO10", "Uptime", unit="%", baseline=0.6, target=0.7)  # fractions: change +0.1
POINT = Objective("CO11", "One point more", unit="%", baseline=10, target=11)  # in points: change +1
STRATEGY = Strategy(
    "FY2027",
    (REVENUE, MARGIN, CHURN, CUSTOMERS, QUALITY, NPS, SHARE, DEFECTS, UPTIME, POINT),
    (
        Department("MKT", "Marketing", budget_cap=1000, headcount_cap=5),
        Department("FIN", "Finance", budget_cap=0, headcount_cap=0),  # caps of 0 and nothing asked: no finding
        Department("OPS", "Operations"),  # no caps
    ),
)


def row(
    number: int, department: str = "MKT", *, objective: Any = None, split: Any = None, contribution: Any = None,
    budget: Any = None, headcount: Any = None,
) -> Record:  # fmt: skip
    values = {"id": f"{department}-I{number:02d}", REF: objective, SPLIT: split, CONTRIB: contribution}
    values |= {MONEY: budget, FTE: headcount}
    cells = {CONTRIB: f"N{number + 5}", SPLIT: f"O{number + 5}"}
    return Record("initiatives", department, f"{department}.xlsx", "Initiatives", number + 5, values, cells)


def shares(allocations: list[Allocation]) -> list[tuple]:
    """(objective, weight, contribution, budget, headcount, left out, stated) of each allocation."""
    return [
        (a.objective_id, a.weight, a.contribution, a.budget, a.headcount, a.left_out, a.stated) for a in allocations
    ]


def approx(rows: list[tuple]) -> list[tuple]:
    return [tuple(pytest.approx(v) if isinstance(v, float) else v for v in r) for r in rows]


# (the row, its allocations, its Unaligned share, the codes of the findings)
ALLOCATIONS = [
    pytest.param(
        row(1, objective="CO1", contribution=20, budget=100, headcount=2),
        [("CO1", 1.0, 20.0, 100.0, 2.0, None, None)],
        [],
        [],
        id="one objective takes it all",
    ),
    pytest.param(
        row(1, objective=" co1 ", contribution=20),  # the id as typed: case and spaces aside
        [("CO1", 1.0, 20.0, None, None, None, None)],
        [],
        [],
        id="the objective id is matched as typed",
    ),
    pytest.param(
        # 60/40 over two objectives in EUR: 30 * 0.6 = 18, 30 * 0.4 = 12; budget 200 -> 120 / 80; 5 FTE -> 3 / 2
        row(1, split=(("CO1", 0.6), ("CO2", 0.4)), contribution=30, budget=200, headcount=5),
        [("CO1", 0.6, 18.0, 120.0, 3.0, None, None), ("CO2", 0.4, 12.0, 80.0, 2.0, None, None)],
        [],
        [],
        id="a split shares everything by weight",
    ),
    pytest.param(
        # a split wins over the objective column
        row(1, objective="CO4", split=(("CO1", 1.0),), contribution=7),
        [("CO1", 1.0, 7.0, None, None, None, None)],
        [],
        [],
        id="the split wins over the objective",
    ),
    pytest.param(
        # EUR and count: the contribution (10) cannot be summed into both; left out as "unit", stated 6 and 4
        row(1, split=(("CO1", 0.6), ("CO4", 0.4)), contribution=10, budget=50),
        [("CO1", 0.6, None, 30.0, None, "unit", 6.0), ("CO4", 0.4, None, 20.0, None, "unit", 4.0)],
        [],
        ["contribution-unit"],
        id="a contribution split over different units is left out",
    ),
    pytest.param(
        # different units but no contribution: nothing to leave out, budget still split
        row(1, split=(("CO1", 0.5), ("CO4", 0.5)), budget=10),
        [("CO1", 0.5, None, 5.0, None, None, None), ("CO4", 0.5, None, 5.0, None, None, None)],
        [],
        [],
        id="different units without a contribution",
    ),
    pytest.param(
        # 80% + 40% = 120%: read in proportion, 0.8 / 1.2 = 2/3 and 0.4 / 1.2 = 1/3; 12 -> 8 and 4; 300 -> 200, 100
        row(1, split=(("CO1", 0.8), ("CO2", 0.4)), contribution=12, budget=300),
        [("CO1", 2 / 3, 8.0, 200.0, None, None, None), ("CO2", 1 / 3, 4.0, 100.0, None, None, None)],
        [],
        ["split-not-100"],
        id="a split over 100% is read in proportion",
    ),
    pytest.param(
        # 50% + 30% = 80%: as typed; the other 20% (budget 100 * 0.2 = 20, contribution 10 * 0.2 = 2) is Unaligned
        row(1, split=(("CO1", 0.5), ("CO2", 0.3)), contribution=10, budget=100, headcount=1),
        [("CO1", 0.5, 5.0, 50.0, 0.5, None, None), ("CO2", 0.3, 3.0, 30.0, 0.3, None, None)],
        [(UNALIGNED, 0.2, None, 20.0, 0.2, "split adds up to 80%", 2.0)],
        ["split-not-100"],
        id="a split under 100% leaves the rest unaligned",
    ),
    pytest.param(
        # 99.6%: within the 0.5% tolerance, no finding (the 0.4% left still goes to Unaligned, budget 1000 * 0.004)
        row(1, split=(("CO1", 0.5), ("CO2", 0.496)), budget=1000),
        [("CO1", 0.5, None, 500.0, None, None, None), ("CO2", 0.496, None, 496.0, None, None, None)],
        [(UNALIGNED, 0.004, None, 4.0, None, "objective not recognised", None)],
        [],
        id="a split within the tolerance",
    ),
    pytest.param(
        # 100.4%: within the tolerance, not scaled, nothing Unaligned
        row(1, split=(("CO1", 0.5), ("CO2", 0.504)), contribution=1000),
        [("CO1", 0.5, 500.0, None, None, None, None), ("CO2", 0.504, 504.0, None, None, None, None)],
        [],
        [],
        id="a split just over 100% within the tolerance",
    ),
    pytest.param(
        # 99.4%: 0.6% off, beyond the tolerance
        row(1, split=(("CO1", 0.5), ("CO2", 0.494))),
        [("CO1", 0.5, None, None, None, None, None), ("CO2", 0.494, None, None, None, None, None)],
        [(UNALIGNED, 0.006, None, None, None, "split adds up to 99%", None)],
        ["split-not-100"],
        id="a split just beyond the tolerance",
    ),
    pytest.param(
        # CO9 is no objective: its half is Unaligned (budget 40 * 0.5 = 20)
        row(1, split=(("CO1", 0.5), ("CO9", 0.5)), contribution=4, budget=40),
        [("CO1", 0.5, 2.0, 20.0, None, None, None)],
        [(UNALIGNED, 0.5, None, 20.0, None, "objective not recognised", 2.0)],
        ["unknown-objective"],
        id="an unknown objective in the split",
    ),
    pytest.param(
        # 50% + CO9 30%: under 100% and unknown; the unknown objective is the reason given (it is met last)
        row(1, split=(("CO1", 0.5), ("CO9", 0.3))),
        [("CO1", 0.5, None, None, None, None, None)],
        [(UNALIGNED, 0.5, None, None, None, "objective not recognised", None)],
        ["split-not-100", "unknown-objective"],
        id="an unknown objective in a split under 100%",
    ),
    pytest.param(
        row(1, objective="CO9", contribution=3, budget=10, headcount=1),
        [],
        [(UNALIGNED, 1.0, None, 10.0, 1.0, "objective not recognised", 3.0)],
        [],
        id="an unknown objective",
    ),
    pytest.param(
        row(1, objective="  ", budget=10),
        [],
        [(UNALIGNED, 1.0, None, 10.0, None, "no objective", None)],
        [],
        id="a blank objective",
    ),
    pytest.param(
        row(1, budget=10),
        [],
        [(UNALIGNED, 1.0, None, 10.0, None, "no objective", None)],
        [],
        id="no objective at all",
    ),
    pytest.param(
        # ids in a split as typed: the objective's own id is kept
        row(1, split=(("co1", 0.5), (" CO2 ", 0.5)), contribution=4),
        [("CO1", 0.5, 2.0, None, None, None, None), ("CO2", 0.5, 2.0, None, None, None, None)],
        [],
        [],
        id="split ids as typed",
    ),
    pytest.param(
        # a split the reader could not parse stays text: the objective column is read instead
        row(1, objective="CO1", split="CO1 60% / CO2", budget=10),
        [("CO1", 1.0, None, 10.0, None, None, None)],
        [],
        [],
        id="an unparsed split",
    ),
    pytest.param(
        row(1, objective="CO1", split=(), budget=10),  # an empty split reads as no split
        [("CO1", 1.0, None, 10.0, None, None, None)],
        [],
        [],
        id="an empty split",
    ),
    pytest.param(
        # CO3 is to decrease: +0.01 is the wrong way round
        row(1, objective="CO3", contribution=0.01),
        [("CO3", 1.0, None, None, None, "direction", 0.01)],
        [],
        ["contribution-direction"],
        id="a contribution against a decrease",
    ),
    pytest.param(
        row(1, objective="CO3", contribution=-0.01),
        [("CO3", 1.0, -0.01, None, None, None, None)],
        [],
        [],
        id="a contribution with a decrease",
    ),
    pytest.param(
        row(1, objective="CO1", contribution=-5),
        [("CO1", 1.0, None, None, None, "direction", -5.0)],
        [],
        ["contribution-direction"],
        id="a contribution against an increase",
    ),
    pytest.param(
        row(1, objective="CO1", contribution=0),  # zero is no direction
        [("CO1", 1.0, 0.0, None, None, None, None)],
        [],
        [],
        id="a zero contribution",
    ),
    pytest.param(
        row(1, objective="CO5", contribution=-3),  # maintain: either sign
        [("CO5", 1.0, -3.0, None, None, None, None)],
        [],
        [],
        id="a contribution to maintain",
    ),
    pytest.param(
        # CO3 moves 0.10 -> 0.08 (a change of 0.02 < 1): -2 is 2 percentage points typed as a number
        row(1, objective="CO3", contribution=-2),
        [("CO3", 1.0, None, None, None, "unit", -2.0)],
        [],
        ["contribution-unit"],
        id="percentage points on a % objective",
    ),
    pytest.param(
        row(1, objective="CO3", contribution=-1),  # |-1| >= 1: still points
        [("CO3", 1.0, None, None, None, "unit", -1.0)],
        [],
        ["contribution-unit"],
        id="one percentage point",
    ),
    pytest.param(
        row(1, objective="CO3", contribution=-0.99),  # under 1: a fraction (99 points, but not flagged)
        [("CO3", 1.0, -0.99, None, None, None, None)],
        [],
        [],
        id="a fraction on a % objective",
    ),
    pytest.param(
        # +2 on a decrease in %: both wrong; the direction is the reason it is left out (found first)
        row(1, objective="CO3", contribution=2),
        [("CO3", 1.0, None, None, None, "direction", 2.0)],
        [],
        ["contribution-direction", "contribution-unit"],
        id="wrong way and in points",
    ),
    pytest.param(
        # CO6 is a % planned in points (10 -> 25, a change of 15): 5 is 5 points, fine
        row(1, objective="CO6", contribution=5),
        [("CO6", 1.0, 5.0, None, None, None, None)],
        [],
        [],
        id="points on a % objective planned in points",
    ),
    pytest.param(
        # CO7 goes from 0 to 1.5 points: a baseline of 0 is a baseline, the change (1.5) is in points
        row(1, objective="CO7", contribution=1),
        [("CO7", 1.0, 1.0, None, None, None, None)],
        [],
        [],
        id="points on a % objective planned in points from 0",
    ),
    pytest.param(
        # CO8 goes from 1.5 points to 0: a target of 0 is a target, the change (-1.5) is in points
        row(1, objective="CO8", contribution=-1),
        [("CO8", 1.0, -1.0, None, None, None, None)],
        [],
        [],
        id="points on a % objective planned in points to 0",
    ),
    pytest.param(
        # CO10 goes from 0.6 to 0.7: a change of 0.1 (the change, not the sum 1.3, says fractions); 5 is points
        row(1, objective="CO10", contribution=5),
        [("CO10", 1.0, None, None, None, "unit", 5.0)],
        [],
        ["contribution-unit"],
        id="points on a % objective planned as fractions from 0.6",
    ),
    pytest.param(
        # CO11 goes from 10 to 11: a change of 1 is one point, not a fraction; 2 points are summed
        row(1, objective="CO11", contribution=2),
        [("CO11", 1.0, 2.0, None, None, None, None)],
        [],
        [],
        id="points on a % objective that moves one point",
    ),
    pytest.param(
        # not numbers: text, a boolean (True is not 1)
        row(1, objective="CO1", contribution="5", budget=True, headcount="2"),
        [("CO1", 1.0, None, None, None, None, None)],
        [],
        [],
        id="values that are not numbers",
    ),
    pytest.param(
        row(1, objective="CO1", contribution=2.5, budget=1.5, headcount=0.5),
        [("CO1", 1.0, 2.5, 1.5, 0.5, None, None)],
        [],
        [],
        id="floats",
    ),
]


@pytest.mark.parametrize(("record", "expected", "rest", "codes"), ALLOCATIONS)
def test_an_initiative_is_allocated_over_its_objectives(record, expected, rest, codes):
    unaligned: list[Allocation] = []
    allocations, findings = allocate(STRATEGY, SHEET, [record], unaligned)
    assert shares(allocations) == approx(expected)
    assert shares(unaligned) == approx(rest)
    assert [f.code for f in findings] == codes
    for a in [*allocations, *unaligned]:
        assert (a.department, a.initiative_id, a.index, a.record) == ("MKT", "MKT-I01", 0, record)
    for f in findings:  # every finding is at the initiative's cell
        assert (f.file, f.sheet, f.department) == ("MKT.xlsx", "Initiatives", "MKT")
        assert f.cell == ("O6" if f.code in ("split-not-100", "unknown-objective") else "N6")


def test_without_a_list_for_it_the_unaligned_share_is_dropped():
    allocations, findings = allocate(STRATEGY, SHEET, [row(1, split=(("CO1", 0.5),), budget=10)])
    assert shares(allocations) == [("CO1", 0.5, None, 5.0, None, None, None)]
    assert [f.code for f in findings] == ["split-not-100"]


def test_each_allocation_points_at_its_own_initiative():
    records = [row(1, objective="CO1"), row(2, "FIN", objective="CO9"), row(3, "OPS", objective="CO2")]
    unaligned: list[Allocation] = []
    allocations, _ = allocate(STRATEGY, SHEET, records, unaligned)
    assert [(a.department, a.initiative_id, a.index, a.record.row) for a in allocations] == [
        ("MKT", "MKT-I01", 0, 6),
        ("OPS", "OPS-I03", 2, 8),
    ]
    assert [(a.department, a.initiative_id, a.index) for a in unaligned] == [("FIN", "FIN-I02", 1)]


def test_a_sheet_without_the_roles_reads_them_as_blank():
    allocations, findings = allocate(STRATEGY, None, [row(1, objective="CO1", contribution=5)], [])
    assert allocations == [] and findings == []


# (the row, the finding's message)
MESSAGES = [
    (
        row(1, split=(("CO1", 0.8), ("CO2", 0.4))),
        "the weights add up to 120%, not 100%; read in proportion so the initiative counts once",
    ),
    (row(1, split=(("CO1", 0.5), ("CO2", 0.3))), "the weights add up to 80%, not 100%"),
    (row(1, split=(("CO1", 0.5), ("co9", 0.5))), "'co9' in the split is not an objective id"),
    (
        row(1, split=(("CO1", 0.6), ("CO4", 0.4)), contribution=10),
        (
            "the contribution is split over objectives measured in different units (EUR, count); "
            "it is not summed into their commitments"
        ),
    ),
    (
        row(1, objective="CO3", contribution=0.01),
        "CO3 is to decrease, so a contribution should be negative; found 0.01; it is not summed into the commitment",
    ),
    (
        row(1, objective="CO1", contribution=-5),
        "CO1 is to increase, so a contribution should be positive; found -5; it is not summed into the commitment",
    ),
    (
        row(1, objective="CO3", contribution=-2),
        (
            "CO3 is a percentage (0.1 to 0.08); -2 looks like percentage points — type -2% for -0.02; "
            "it is not summed into the commitment"
        ),
    ),
]


@pytest.mark.parametrize(("record", "message"), MESSAGES)
def test_what_allocating_says(record, message):
    _, findings = allocate(STRATEGY, SHEET, [record], [])
    assert [f.message for f in findings] == [message]


def allocation(department: str, objective: str, contribution=None, budget=None, headcount=None, **kw) -> Allocation:
    return Allocation(department, f"{department}-I", objective, 1.0, contribution, budget, headcount, [], 0, **kw)


def test_an_objective_commitment_adds_up_its_allocations():
    allocations = [
        allocation("MKT", "CO1", 20, 100, 1),
        allocation("OPS", "CO1", None, 50, None),  # states no contribution
        allocation("FIN", "CO1", None, None, 2, left_out="direction", stated=-4),
        allocation("MKT", "CO1", 5.5, 0.5, 0.5),
        allocation("MKT", "CO1", None, None, None, left_out="unit", stated=3),
        allocation("MKT", "CO1", None, None, None, left_out="direction", stated=-1),
        allocation("MKT", "CO2", 7, 1000, 9),  # another objective's
    ]
    by_id = {c.objective.id: c for c in commitments(STRATEGY, allocations)}
    # every objective, in the strategy's order
    assert list(by_id) == [o.id for o in STRATEGY.objectives] and len(by_id) == 10
    co1 = by_id["CO1"]
    # committed 20 + 5.5; stated by 2 of 6; budget 100 + 50 + 0.5; headcount 1 + 2 + 0.5
    assert (co1.committed, co1.stated, co1.initiatives, co1.budget, co1.headcount) == (25.5, 2, 6, 150.5, 3.5)
    assert co1.departments == ("FIN", "MKT", "OPS")
    assert co1.left_out == (("direction", 2), ("unit", 1))  # in the order first met
    assert (co1.left_out_count, co1.left_out_text) == (3, "3 contributions left out: direction 2, unit 1")
    # CO1 needs 150 - 100 = 50: gap 50 - 25.5 = 24.5, ratio 25.5 / 50 = 0.51
    assert (co1.target_change, co1.gap, co1.ratio) == (50, 24.5, 0.51)
    co2 = by_id["CO2"]
    assert (co2.committed, co2.stated, co2.initiatives, co2.departments) == (7, 1, 1, ("MKT",))
    assert (co2.left_out, co2.left_out_count, co2.left_out_text) == ((), 0, "")
    # CO2 needs 20: gap 13, ratio 0.35
    assert (co2.gap, co2.ratio) == (13, 0.35)
    none = by_id["CO4"]
    assert (none.committed, none.stated, none.initiatives, none.departments, none.budget, none.headcount) == (
        0,
        0,
        0,
        (),
        0,
        0,
    )
    assert (none.gap, none.ratio) == (20, 0)


def test_a_left_out_reason_without_a_stated_value_is_not_counted():
    # an Unaligned share of an initiative without a contribution: a reason but nothing left out
    c = commitments(STRATEGY, [allocation("MKT", "CO1", left_out="unit")])[0]
    assert (c.left_out, c.left_out_count) == ((), 0)


@pytest.mark.parametrize(
    ("objective", "change", "gap", "ratio"),
    [
        (Objective("X", "x", baseline=100, target=150), 50, 40, 0.2),  # committed 10: 50 - 10, 10 / 50
        (Objective("X", "x", baseline=0.10, target=0.08, direction="decrease"), pytest.approx(-0.02), None, None),
        (Objective("X", "x", baseline=None, target=150), None, None, None),  # no baseline: no change
        (Objective("X", "x", baseline=100, target=None), None, None, None),
        (Objective("X", "x", baseline=5, target=5), 0, -10, None),  # nothing to change: no ratio
        (Objective("X", "x", baseline=0, target=20), 20, 10, 0.5),  # a baseline of 0 is a baseline
    ],
)
def test_target_change_gap_and_ratio(objective, change, gap, ratio):
    c = Commitment(objective, committed=10, stated=1, initiatives=1, departments=("MKT",), budget=0, headcount=0)
    assert c.target_change == change
    if gap is not None:
        assert (c.gap, c.ratio) == (gap, ratio)
    elif change is None:
        assert (c.gap, c.ratio) == (None, None)


def test_a_decrease_commitment_ratio_is_positive_when_it_goes_the_right_way():
    c = Commitment(CHURN, committed=-0.01, stated=1, initiatives=1, departments=("MKT",), budget=0, headcount=0)
    # needs -0.02; committed -0.01: half of it, 0.01 still to commit
    assert (c.ratio, c.gap) == (pytest.approx(0.5), pytest.approx(-0.01))


@pytest.mark.parametrize(
    ("reasons", "text"),
    [
        ((), ""),
        ((("unit", 0),), ""),
        ((("unit", 1),), "1 contribution left out: unit"),
        ((("direction", 2),), "2 contributions left out: direction"),
        ((("unit", 1), ("direction", 2)), "3 contributions left out: unit 1, direction 2"),
        ((("unit", 0), ("direction", 2)), "2 contributions left out: direction"),  # a zero count is not named
    ],
)
def test_the_left_out_text(reasons, text):
    assert left_out_text(reasons) == text


def commitment(objective: Objective, committed: float, initiatives: int = 1, budget: float = 0, left_out=()):
    return Commitment(objective, committed, initiatives, initiatives, ("MKT",), budget, 0, left_out)


# (objective, committed, the finding's code and message; None: no finding)
COVERAGE = [
    # CO1 needs 50 EUR: 25 is 50%
    (REVENUE, 25, ("commitment-shortfall", "departments commit 25 EUR of the 50 EUR CO1 needs (50%)")),
    (REVENUE, 49.99, ("commitment-shortfall", "departments commit 49.99 EUR of the 50 EUR CO1 needs (100%)")),
    (REVENUE, 50, None),  # exactly the target
    (REVENUE, 75, None),  # 150%: not yet a surplus
    (REVENUE, 75.5, ("commitment-surplus", "departments commit 75.5 EUR of the 50 EUR CO1 needs (151%)")),
    (REVENUE, 12345.6, ("commitment-surplus", "departments commit 12,346 EUR of the 50 EUR CO1 needs (24691%)")),
    (REVENUE, -10, ("commitment-shortfall", "departments commit -10 EUR of the 50 EUR CO1 needs (-20%)")),
    # a % objective in points: CO3 needs -0.02 = -2 points; -0.01 is -1 points, 50%
    (CHURN, -0.01, ("commitment-shortfall", "departments commit -1 points of the -2 points CO3 needs (50%)")),
    (CHURN, -0.02, None),
    (CHURN, -0.0125, ("commitment-shortfall", "departments commit -1.25 points of the -2 points CO3 needs (62%)")),
    # a count is shown without its unit: 10 of 20 customers
    (CUSTOMERS, 10, ("commitment-shortfall", "departments commit 10 of the 20 CO4 needs (50%)")),
    (QUALITY, 5, None),  # no target change: nothing to compare
    # within 1e-9 of the ratio is on it: 0 -> 1 needs 1, so the committed amount is the ratio
    (Objective("CO9", "Unit", baseline=0, target=1), 1 - 1e-9, None),
    (Objective("CO9", "Unit", baseline=0, target=1), 1.5 + 1e-9, None),
    # units as typed: " Count " is a count, " % " a percentage
    (
        Objective("CO9", "Heads", unit=" Count ", baseline=0, target=20),
        10,
        ("commitment-shortfall", "departments commit 10 of the 20 CO9 needs (50%)"),
    ),
    (
        Objective("CO9", "Rate", unit=" % ", baseline=0.5, target=0.6),
        0.05,
        ("commitment-shortfall", "departments commit 5 points of the 10 points CO9 needs (50%)"),
    ),
]


@pytest.mark.parametrize(("objective", "committed", "expected"), COVERAGE)
def test_shortfall_and_surplus(objective, committed, expected):
    found = list(commitment_findings(STRATEGY, [commitment(objective, committed)], []))
    assert [(f.code, f.message) for f in found] == ([expected] if expected else [])
    for f in found:
        assert (f.sheet, f.location, f.department) == ("Commitments", objective.id, "")


def test_the_left_out_contributions_are_named_in_the_shortfall():
    c = commitment(REVENUE, 25, left_out=(("unit", 1), ("direction", 1)))
    (found,) = commitment_findings(STRATEGY, [c], [])
    assert found.message == (
        "departments commit 25 EUR of the 50 EUR CO1 needs (50%); 2 contributions left out: unit 1, direction 1"
    )


def test_no_initiative_no_shortfall():
    # an objective nobody serves is reported as uncovered elsewhere, not as a 0% commitment
    assert list(commitment_findings(STRATEGY, [commitment(REVENUE, 0, initiatives=0)], [])) == []


def test_a_large_or_zero_amount_is_written_plainly():
    big = Objective("CO7", "Big", unit="USD", baseline=0, target=2_500_000)
    plain = Objective("CO8", "Plain", unit="", baseline=0, target=999.5)
    (found,) = commitment_findings(STRATEGY, [commitment(big, 1234.4), commitment(plain, 1000)], [])
    assert found.message == "departments commit 1,234 USD of the 2,500,000 USD CO7 needs (0%)"
    (found,) = commitment_findings(STRATEGY, [commitment(plain, 10.25)], [])
    assert found.message == "departments commit 10.25 of the 999.5 CO8 needs (1%)"


# (the objective's budget asked, the finding's message or None)
OBJECTIVE_CAPS = [
    (499.99, None),
    (500, None),  # at the cap is within it
    (500.4, "CO1: initiatives ask 500, the cap is 500"),
    (1234.5, "CO1: initiatives ask 1,234, the cap is 500"),
]


@pytest.mark.parametrize(("budget", "message"), OBJECTIVE_CAPS)
def test_an_objective_budget_cap(budget, message):
    c = commitment(REVENUE, 50, budget=budget)  # committed exactly the change: no shortfall
    found = [(f.code, f.message, f.sheet, f.location) for f in commitment_findings(STRATEGY, [c], [])]
    assert found == ([("over-budget-cap", message, "Commitments", "CO1")] if message else [])


def test_an_objective_without_a_cap():
    assert list(commitment_findings(STRATEGY, [commitment(MARGIN, 20, budget=10**9)], [])) == []


# (the allocations, the department findings as (code, message, department))
DEPARTMENT_CAPS = [
    # MKT: cap 1000 and 5 FTE; 600 + 400 = 1000 and 3 + 2 = 5 are at the caps
    ([allocation("MKT", "CO1", budget=600, headcount=3), allocation("MKT", "CO2", budget=400, headcount=2)], []),
    # 600 + 400.5 = 1000.5 (shown rounded: 1,000) over 1000; 3 + 2.5 = 5.5 FTE over 5
    (
        [allocation("MKT", "CO1", budget=600, headcount=3), allocation("MKT", UNALIGNED, budget=400.5, headcount=2.5)],
        [
            ("over-budget-cap", "MKT: initiatives ask 1,000, the cap is 1,000", "MKT"),
            ("over-headcount-cap", "MKT: initiatives ask 5.5 FTE, the cap is 5", "MKT"),
        ],
    ),
    # blanks count as 0: 1200 + 0 = 1200 over; headcount 0 + 6 = 6 over
    (
        [allocation("MKT", "CO1", budget=1200), allocation("MKT", "CO2", headcount=6)],
        [
            ("over-budget-cap", "MKT: initiatives ask 1,200, the cap is 1,000", "MKT"),
            ("over-headcount-cap", "MKT: initiatives ask 6 FTE, the cap is 5", "MKT"),
        ],
    ),
    # another department's asks are not MKT's; OPS has no caps; FIN's caps of 0 are over at 0.5
    (
        [
            allocation("OPS", "CO1", budget=10**6, headcount=100),
            allocation("FIN", "CO1", budget=0.5, headcount=0.1),
            allocation("MKT", "CO1", budget=999, headcount=4.9),
        ],
        [
            ("over-budget-cap", "FIN: initiatives ask 0, the cap is 0", "FIN"),
            ("over-headcount-cap", "FIN: initiatives ask 0.1 FTE, the cap is 0", "FIN"),
        ],
    ),
    ([], []),  # nothing asked: FIN's caps of 0 are not exceeded
]


@pytest.mark.parametrize(("allocations", "expected"), DEPARTMENT_CAPS)
def test_department_caps(allocations, expected):
    found = list(commitment_findings(STRATEGY, [], allocations))
    assert [(f.code, f.message, f.department) for f in found] == expected
    assert all(f.location == f.department and f.sheet == "" for f in found)


def test_commitments_that_meet_a_percentage_target_exactly_are_no_shortfall():
    # CO3 needs 0.08 - 0.10, which is -0.020000000000000004 in floating point; two initiatives of -0.01
    # (1 point each) commit -0.02: the target is met, not a "shortfall (100%)"
    records = [row(1, objective="CO3", contribution=-0.01), row(2, "OPS", objective="CO3", contribution=-0.01)]
    allocations, findings = allocate(STRATEGY, SHEET, records, [])
    items = commitments(STRATEGY, allocations)
    assert findings == [] and items[2].committed == -0.02
    assert list(commitment_findings(STRATEGY, items, allocations)) == []
    # a hair short of it still is one
    records[1] = row(2, "OPS", objective="CO3", contribution=-0.0098)  # -0.0198 of -0.02: 99%
    allocations, _ = allocate(STRATEGY, SHEET, records, [])
    (found,) = commitment_findings(STRATEGY, commitments(STRATEGY, allocations), allocations)
    assert found.message == "departments commit -1.98 points of the -2 points CO3 needs (99%)"

"""The live checks and reconcile against expectations written by hand, not against each other.

The template's Check-column formulas and reconcile's row rules are built from the same functions
(intake/rules.py), so their agreement (test_livecheck.py) proves nothing about either: a rule wrong in both
stays unseen. Here a table says, row by row, what a person typed, the findings reconcile must give
(code and column) and what the Check column must say once LibreOffice has recalculated the filled
template. Both sides must meet the table.
"""

from __future__ import annotations

import re

import openpyxl
import pytest

from cascadebook import reconcile
from cascadebook.kinds import CHECK_HEADER
from cascadebook.template.department import HEADER_ROW
from conftest import clean_initiative, clean_kpi
from libreoffice import convert
from test_livecheck import needs_libreoffice

FILE = "returned/MKT.xlsx"

# One row a line, typed from row 5 of Marketing's Initiatives sheet down, in this order. CO1 is to
# increase (60 -> 72), CO5 to decrease (10 -> 8 days), CO9 is no objective. Columns: B objective,
# G baseline, H target, I due period, J owner, A id.
#   (what is typed, reconcile's findings on the row as {(code, column)}, the Check column's text)
T = "Target against the objective's direction"
TABLE = [
    (dict(objective_id="CO1", baseline=60, target=66), set(), ""),
    (dict(objective_id="CO1", baseline=60, target=60), {("target-direction", "H")}, T),  # an increase that stays put
    (dict(objective_id="CO5", baseline=10, target=10), {("target-direction", "H")}, T),  # a decrease that stays put
    (dict(objective_id="CO5", baseline=10, target=8), set(), ""),
    (dict(objective_id="CO5", baseline=10, target=12), {("target-direction", "H")}, T),
    (dict(objective_id="CO1", baseline=60, target=59), {("target-direction", "H")}, T),
    (dict(objective_id="CO1", baseline=60, target=60.5), set(), ""),
    (
        dict(objective_id="CO9", baseline=60, target=60),
        {("unknown-objective", "B")},
        "Objective not on the Objectives sheet",
    ),  # no direction to judge against
    (dict(objective_id="CO1", baseline="60", target=66), {("read-leniently", "G")}, "Baseline not a number"),
    # reconcile reads the text "60" and judges the direction; the sheet asks for a number first
    (
        dict(objective_id="CO1", baseline=60, target="60"),
        {("read-leniently", "H"), ("target-direction", "H")},
        "Target not a number",
    ),
    (
        dict(objective_id="CO1", baseline=60, target=66, owner=None, due_period="Q5"),
        {("period-outside-cycle", "I"), ("required-missing", "J")},
        "Due period not from the list; Owner missing",
    ),
    (
        dict(objective_id="CO1", baseline=60, target=66, kpi=False),
        {("initiative-without-kpis", "A")},
        "Nothing on the KPIs sheet for it yet",
    ),
]
FIRST = HEADER_ROW + 1


def _typed(n: int, line: dict) -> dict:
    values = {k: v for k, v in line.items() if k != "kpi"}
    objective, baseline, target = values.pop("objective_id"), values.pop("baseline"), values.pop("target")
    return clean_initiative(objective, f"Initiative {n}", baseline, target, **values)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    import shutil

    from cascadebook import generate, load_key, load_strategy
    from conftest import SAMPLE_STRATEGY
    from fill import fill_workbook

    root = tmp_path_factory.mktemp("expectations")
    shutil.copyfile(SAMPLE_STRATEGY, root / "strategy.yaml")
    strategy = load_strategy(root / "strategy.yaml")
    key = load_key(root / "strategy.yaml", create=True)
    [template] = generate(strategy, root / "outbox", key=key, departments=["MKT"])
    rows = [_typed(n, line) for n, (line, _, _) in enumerate(TABLE, 1)]
    kpis = [clean_kpi(f"MKT-I{n:02d}", f"KPI {n}") for n, (line, _, _) in enumerate(TABLE, 1) if line.get("kpi", True)]
    path = fill_workbook(template, root / "returned" / "MKT.xlsx", rows={"initiatives": rows, "kpis": kpis})
    return strategy, key, root, path


def test_the_table_covers_what_it_is_about():
    directions = [line for line, found, _ in TABLE if ("target-direction", "H") in found]
    assert len(directions) == 5 and any(line["baseline"] == line["target"] for line in directions)
    assert len(TABLE) <= 12  # the template's prefilled initiative ids


def test_reconcile_gives_the_findings_the_table_says(filled):
    strategy, key, root, _ = filled
    result = reconcile(strategy, [root / "returned"], key=key, jobs=1)
    got: dict[int, set] = {}
    for f in result.findings:
        if f.file == FILE and f.cell:
            row = int(re.sub(r"\D", "", f.cell))
            got.setdefault((f.sheet, row), set()).add((f.code, re.sub(r"\d", "", f.cell)))
    want = {("Initiatives", FIRST + i): found for i, (_, found, _) in enumerate(TABLE) if found}
    assert got == want
    assert [r.id for r in result.initiatives] == [f"MKT-I{n:02d}" for n in range(1, len(TABLE) + 1)]


@needs_libreoffice
def test_the_recalculated_check_column_says_what_the_table_says(filled):
    _, _, root, path = filled
    [recalculated] = convert([path], "xlsx", root / "recalc")
    book = openpyxl.load_workbook(recalculated, data_only=True)
    for title, lines in (("Initiatives", [text for _, _, text in TABLE]), ("KPIs", [])):
        ws = book[title]
        [column] = [c for c in range(1, ws.max_column + 1) if ws.cell(HEADER_ROW, c).value == CHECK_HEADER]
        shown = [ws.cell(r, column).value or "" for r in range(FIRST, FIRST + 40)]
        assert shown == lines + [""] * (40 - len(lines)), title

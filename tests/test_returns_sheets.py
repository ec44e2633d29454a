"""What people do to the sheets before they send them back, through the full reconcile."""

from __future__ import annotations

import pytest
from openpyxl.styles import PatternFill

from cascadebook import reconcile
from cascadebook.spec.schema import load_spec
from cascadebook.xlsx.addresses import a1
from conftest import clean_initiative, clean_kpi
from corpus import make_corpus as corpus

SPEC = load_spec()
INITIATIVES = SPEC.sheet("initiatives")
COL = {c.key: i for i, c in enumerate(INITIATIVES.columns, 1)}  # column key -> 1-based column in the template


def _codes(result, code):
    return sorted((f.sheet, f.cell) for f in result.findings if f.code == code)


def _move_row(ws, source: int, target: int, width: int) -> None:
    for c in range(1, width + 1):
        ws.cell(target, c).value = ws.cell(source, c).value
        ws.cell(source, c).value = None


def test_rows_sorted_inserted_deleted_blank_and_appended(strategy, key, returned, fill):
    rows = [clean_initiative("CO1", title, 1, 2) for title in ("A", "B", "C", "D")]
    path = fill("MKT", rows={"initiatives": rows})
    width = len(INITIATIVES.columns)

    def change(book):
        ws = book["Initiatives"]
        _move_row(ws, 5, 60, width)  # sort: C first, A third
        _move_row(ws, 7, 5, width)
        _move_row(ws, 60, 7, width)
        ws.insert_rows(6)  # a row inserted between: no id
        for key_, value in clean_initiative("CO2", "Inserted", 3, 4).items():
            ws.cell(6, COL[key_]).value = value
        ws.delete_rows(9)  # D deleted
        for key_, value in clean_initiative("CO3", "Appended", 5, 6).items():  # far below, blank rows between
            ws.cell(40, COL[key_]).value = value

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert [(r.row, r.id, r.get("title")) for r in result.initiatives] == [
        (5, "MKT-I03", "C"),
        (6, "MKT-I13", "Inserted"),
        (7, "MKT-I02", "B"),
        (8, "MKT-I01", "A"),
        (40, "MKT-I14", "Appended"),
    ]
    assert _codes(result, "id-assigned") == [("Initiatives", "A40"), ("Initiatives", "A6")]
    assert not [f for f in result.findings if f.department == "MKT" and f.severity.value == "error"]


def test_columns_moved_and_inserted_are_found_by_header(strategy, key, returned, fill):
    path = fill(
        "MKT",
        rows={
            "initiatives": [clean_initiative("CO1", "Campaign", 1, 2, owner="Priya")],
            "kpis": [clean_kpi("MKT-I01", "Leads")],
        },
    )

    def change(book):
        ws = book["Initiatives"]
        owner, metric = COL["owner"], COL["metric"]
        for r in (4, 5):  # swap two columns, header and value
            ws.cell(r, owner).value, ws.cell(r, metric).value = ws.cell(r, metric).value, ws.cell(r, owner).value
        ws.insert_cols(3)  # a column inserted before the title, no header, a note typed in it
        ws["C5"] = "my own remark"
        ws.insert_cols(3)
        ws["C4"], ws["C5"] = "Comment", "said in a meeting"

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [record] = result.initiatives
    assert (record.get("owner"), record.get("metric"), record.get("title")) == ("Priya", "Metric", "Campaign")
    assert record.cells["owner"] == a1(5, COL["metric"] + 2) and record.cells["title"] == "E5"
    extra = sorted((f.cell, f.rows, f.message) for f in result.findings if f.code == "extra-column")
    assert extra == [
        ("C4", (5,), "the column 'Comment' is not part of the template; its 1 value(s) (rows 5) are not in the master"),
        (
            "D4",
            (5,),
            "the column D (no header) is not part of the template; its 1 value(s) (rows 5) are not in the master",
        ),
    ]
    assert not _codes(result, "missing-column")


def test_renamed_sheets_are_found_by_title_or_header_row(strategy, key, returned, fill):
    path = fill(
        "MKT",
        rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)], "kpis": [clean_kpi("MKT-I01", "Leads")]},
    )

    def change(book):
        book["Initiatives"].title = "Our plan"
        book["KPIs"]["A1"] = None
        book["KPIs"].title = "Sheet9"

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    renamed = sorted((f.sheet, f.message) for f in result.findings if f.code == "sheet-renamed")
    assert renamed == [
        ("Our plan", "the 'Initiatives' sheet was found as 'Our plan' (by its title)"),
        ("Sheet9", "the 'KPIs' sheet was found as 'Sheet9' (by its header row)"),
    ]
    assert [(r.sheet_name, r.id) for r in result.initiatives] == [("Our plan", "MKT-I01")]
    assert [(r.sheet_name, r.id) for r in result.kpis] == [("Sheet9", "MKT-K01")]
    assert not _codes(result, "missing-sheet") and not _codes(result, "extra-sheet")


def test_extra_sheets_name_their_rows(strategy, key, returned, fill):
    path = fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, 2)]})

    def change(book):
        notes = book.create_sheet("Notes")
        notes["A1"], notes["B2"], notes["C5"] = "Ideas", "hire two people", 42
        book.create_sheet("Empty")
        book["Instructions"].title = "Read me"  # a renamed reference sheet is not an extra sheet

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [extra] = [f for f in result.findings if f.code == "extra-sheet"]
    assert (extra.sheet, extra.cell, extra.rows, extra.severity.value) == ("Notes", "A1", (1, 2, 5), "info")
    assert "its 3 non-empty row(s) (1-2, 5) are not in the master" in extra.message


def test_merged_cells_and_colour_without_values(strategy, key, returned, fill):
    path = fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Merged title", 1, 2)]})
    grey = PatternFill("solid", fgColor="FFBFBFBF")

    def change(book):
        ws = book["Initiatives"]
        ws.merge_cells(f"{a1(5, COL['title'])}:{a1(5, COL['expected_impact'])}")  # the impact is swallowed
        for r in list(range(30, 41)) + [300]:
            for c in range(1, len(INITIATIVES.columns) + 3):
                ws.cell(r, c).fill = grey

    corpus.edit(path, path, change)
    result = reconcile(strategy, [returned], key=key, jobs=1)
    assert [(r.row, r.get("title")) for r in result.initiatives] == [(5, "Merged title")]
    assert ("Initiatives", a1(5, COL["expected_impact"])) in _codes(result, "required-missing")
    assert not [f for f in result.findings if f.cell.endswith(("30", "300")) or 30 in f.rows]


def test_formulas_use_cached_values_and_uncalculated_ones_are_reported(strategy, key, returned, fill, tmp_path):
    rows = [clean_initiative("CO1", "Cached", 1, None), clean_initiative("CO2", "Uncalculated", 1, None)]
    filled = fill("MKT", "typed.xlsx", rows={"initiatives": rows})
    target = a1(5, COL["target"]), a1(6, COL["target"])
    corpus.raw_cells(
        returned / "MKT.xlsx", filled, "Initiatives", {target[0]: "<f>1+1</f><v>2</v>", target[1]: "<f>2*3</f>"}
    )
    filled.unlink()
    result = reconcile(strategy, [returned], key=key, jobs=1)
    values = {r.row: r.get("target") for r in result.initiatives}
    assert values == {5: 2, 6: None}
    [uncalculated] = [f for f in result.findings if f.code == "formula-without-value"]
    assert (uncalculated.sheet, uncalculated.cell, uncalculated.severity.value) == ("Initiatives", target[1], "warning")
    assert ("Initiatives", target[1]) in _codes(result, "required-missing")


MESSY = [  # (typed, column, read as, with a value-interpreted note)
    ("15%", "contribution_weight", 0.15, False),
    (15, "contribution_weight", 0.15, True),
    ("0.15", "contribution_weight", 0.15, False),
    ("1,200", "budget", 1200.0, False),
    ("1.200,50", "budget", 1200.5, False),
    ("$250k", "budget", 250000.0, False),
    ("€1.2m", "budget", 1200000.0, False),
    ("  22 ", "headcount", 22.0, False),
    ("n/a", "headcount", None, False),
    ("-", "budget", None, False),
    ("2027-Q3", "due_period", "Q3", False),
    ("Q3 2027", "due_period", "Q3", False),
]


def test_messy_values_through_reconcile(strategy, key, returned, fill):
    rows = [
        clean_initiative("CO1", f"Row {i}", 1, 2, **{column: typed}) for i, (typed, column, _, _) in enumerate(MESSY)
    ]
    fill("MKT", rows={"initiatives": rows})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    by_row = {r.row: r for r in result.initiatives}
    for i, (typed, column, expected, note) in enumerate(MESSY):
        got = by_row[5 + i].get(column)
        assert got == (pytest.approx(expected) if isinstance(expected, float) else expected), (typed, got)
        mine = {f.code for f in result.findings if f.cell == a1(5 + i, COL[column])}
        assert not mine & {"wrong-type", "required-missing"}, typed
        assert ("value-interpreted" in mine) == note, (typed, mine)


def test_a_wrong_value_is_kept_as_typed_with_the_value_found(strategy, key, returned, fill):
    fill("MKT", rows={"initiatives": [clean_initiative("CO1", "Campaign", 1, "about ten")]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    [wrong] = [f for f in result.findings if f.code == "wrong-type"]
    assert (wrong.cell, wrong.message) == (a1(5, COL["target"]), "Target should be a number, found 'about ten'")
    assert result.initiatives[0].get("target") == "about ten"

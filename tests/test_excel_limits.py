"""Excel's limits: a table past the row limit continues on another sheet; a cell past 32,767 characters
is cut with a visible marker. The row limit is lowered for the test (a million rows would take minutes)."""

from __future__ import annotations

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from cascadebook import reconcile, write_master
from cascadebook.master import book as master_module  # Excel's limits, as the master's writer reads them
from cascadebook.master.read import read_master
from cascadebook.xlsx.writer import CUT_MARKER, EXCEL_MAX_CHARS, cut
from conftest import clean_initiative, clean_kpi


def test_tables_continue_on_a_second_sheet_and_formulas_sum_both(strategy, key, fill, returned, tmp_path, monkeypatch):
    fill(
        "MKT",
        rows={
            "initiatives": [clean_initiative("CO1", f"idea {i}", 1, 2, budget=100) for i in range(7)],
            "kpis": [clean_kpi(f"MKT-I0{i + 1}", "k") for i in range(7)],
        },
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    monkeypatch.setattr(master_module, "EXCEL_MAX_ROWS", 5)  # 4 data rows per sheet
    path = write_master(result, tmp_path / "master.xlsx")
    book = CalamineWorkbook.from_path(str(path))
    assert {"Initiatives", "Initiatives (2)", "KPIs", "KPIs (2)"} <= set(book.sheet_names)
    first = book.get_sheet_by_name("Initiatives").to_python()
    second = book.get_sheet_by_name("Initiatives (2)").to_python()
    assert first[0] == second[0]  # the header row is repeated
    assert [r[1] for r in first[1:] + second[1:]] == [f"MKT-I0{i + 1}" for i in range(7)]
    formulas = openpyxl.load_workbook(path)["Summary"]
    budget = next(row[1].value for row in formulas.iter_rows() if row[0].value == "Budget requested")
    assert budget == "=SUM('Initiatives'!$L$2:$L$5)+SUM('Initiatives (2)'!$L$2:$L$4)"
    cached = openpyxl.load_workbook(path, data_only=True)["Summary"]
    assert next(row[1].value for row in cached.iter_rows() if row[0].value == "Budget requested") == 700
    # Read back (check-ins, diff, export): every row of the continuation, pointing at its own sheet.
    read = read_master(path).records["initiatives"]
    assert [r.id for r in read] == [f"MKT-I0{i + 1}" for i in range(7)]
    assert [(r.sheet_name, r.row) for r in read][3:5] == [("Initiatives", 5), ("Initiatives (2)", 2)]
    assert read[4].values["title"] == "idea 4" and read[4].cells["title"] == read[0].cells["title"][0] + "2"


def test_a_cell_past_excels_limit_is_cut_with_a_marker():
    text = "x" * (EXCEL_MAX_CHARS + 10)
    assert len(cut(text)) == EXCEL_MAX_CHARS and cut(text).endswith(CUT_MARKER)
    assert cut("short") == "short"


def _hierarchy_rows(book) -> list[list]:
    """Every Goal Hierarchy sheet's rows after its header, in sheet order."""
    names = [n for n in book.sheet_names if n.startswith("Goal Hierarchy")]
    return [row for n in names for row in book.get_sheet_by_name(n).to_python()[1:]]


@pytest.mark.parametrize("pack_above", [None, 0])  # plain rows, or packed ones rendered ahead and spooled
def test_the_goal_hierarchy_continues_on_further_sheets(
    strategy, key, fill, returned, tmp_path, monkeypatch, pack_above
):
    fill(
        "MKT",
        rows={
            "initiatives": [clean_initiative("CO1", f"idea {i}", 1, 2) for i in range(3)],
            "kpis": [clean_kpi(f"MKT-I0{i + 1}", f"k{i}") for i in range(3)],
        },
    )
    fill(
        "SAL",
        rows={
            "initiatives": [clean_initiative("CO2", "sell", 1, 2), clean_initiative("CO1", "more", 1, 3)],
            "kpis": [clean_kpi("SAL-I02", "k"), clean_kpi("SAL-I01", "j")],
        },
    )
    result = reconcile(strategy, [returned], key=key, jobs=1)
    whole = _hierarchy_rows(CalamineWorkbook.from_path(str(write_master(result, tmp_path / "whole.xlsx"))))
    monkeypatch.setattr(master_module, "EXCEL_MAX_ROWS", 5)  # 4 rows under each header
    result = reconcile(strategy, [returned], key=key, jobs=1, pack_above=pack_above)
    assert any(rows.is_packed for rows in result.records.values()) == (pack_above == 0)
    path = write_master(result, tmp_path / "split.xlsx")
    book = CalamineWorkbook.from_path(str(path))
    names = [n for n in book.sheet_names if n.startswith("Goal Hierarchy")]
    assert names == ["Goal Hierarchy"] + [f"Goal Hierarchy ({i})" for i in range(2, len(names) + 1)]
    sheets = [book.get_sheet_by_name(n).to_python() for n in names]
    assert all(len(rows) <= 5 and rows[0] == sheets[0][0] for rows in sheets)  # within the limit, header repeated
    split = _hierarchy_rows(book)
    # Each continuation that starts under an objective first repeats it, marked; nothing else differs.
    continued = [row for row in split if row[0] == "Objective (continued)"]
    assert continued and all(row[1] in {o.id for o in strategy.objectives} for row in continued)
    assert [row for row in split if row[0] != "Objective (continued)"] == whole
    assert [r[1] for r in whole if r[0] == "Initiative"] == ["MKT-I01", "MKT-I02", "MKT-I03", "SAL-I02", "SAL-I01"]
    assert [r[1] for r in whole if r[0].endswith("KPI")][3:] == ["SAL-K01", "SAL-K02"]  # under SAL-I02, SAL-I01
    # The outline goes on: initiatives at level 1, KPIs at level 2 on the continuation sheets too.
    seen = {
        (row[0].value, ws.row_dimensions[row[0].row].outline_level)
        for name in names[1:]
        for ws in [openpyxl.load_workbook(path)[name]]
        for row in ws.iter_rows(min_row=2)
    }
    kinds = {kind for kind, _ in seen}
    assert {"Initiative", "Objective (continued)"} <= kinds and any(k.endswith("KPI") for k in kinds)
    assert all(level == {"Initiative": 1}.get(kind, 2 if kind.endswith("KPI") else 0) for kind, level in seen)


def test_matrix_links_stop_at_excels_limit_and_the_text_stays(strategy, key, fill, returned, tmp_path, monkeypatch):
    import warnings

    fill("MKT", rows={"initiatives": [clean_initiative(o, f"idea {o}", 1, 2) for o in ("CO1", "CO2", "CO3")]})
    result = reconcile(strategy, [returned], key=key, jobs=1)
    monkeypatch.setattr(master_module, "MAX_HYPERLINKS", 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # xlsxwriter warns (on the user's terminal) past its own limit
        path = write_master(result, tmp_path / "master.xlsx")
    ws = openpyxl.load_workbook(path)["Alignment Matrix"]
    row = next(r for r in ws.iter_rows(min_row=2) if str(r[0].value).startswith("MKT"))
    cells = {ws.cell(1, c.column).value.split(" ")[0]: c for c in row[1:4]}
    # the cells' texts are plain; each count in "Initiatives per cell" links to its cell's first initiative
    count_row = next(r for r in ws.iter_rows(min_row=row[0].row + 1) if r[0].value == "MKT")
    counts = {o: count_row[cells[o].column - 1] for o in ("CO1", "CO2", "CO3")}
    assert [bool(cells[o].hyperlink) for o in ("CO1", "CO2", "CO3")] == [False, False, False]
    assert [bool(counts[o].hyperlink) for o in ("CO1", "CO2", "CO3")] == [True, True, False]
    assert [counts[o].hyperlink.location for o in ("CO1", "CO2")] == ["'Initiatives'!A2", "'Initiatives'!A3"]
    assert [cells[o].value.split(" ")[0] for o in ("CO1", "CO2", "CO3")] == ["MKT-I01", "MKT-I02", "MKT-I03"]

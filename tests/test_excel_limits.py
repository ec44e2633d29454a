"""Excel's limits: a table past the row limit continues on another sheet; a cell past 32,767 characters
is cut with a visible marker. The row limit is lowered for the test (a million rows would take minutes)."""
from __future__ import annotations

import openpyxl
from python_calamine import CalamineWorkbook

from cascadebook import master as master_module
from cascadebook import reconcile, write_master
from cascadebook.xlsx import CUT_MARKER, EXCEL_MAX_CHARS, cut
from conftest import clean_initiative, clean_kpi


def test_tables_continue_on_a_second_sheet_and_formulas_sum_both(strategy, key, fill, returned, tmp_path,
                                                                 monkeypatch):
    fill("MKT", rows={"initiatives": [clean_initiative("CO1", f"idea {i}", 1, 2, budget=100) for i in range(7)],
                      "kpis": [clean_kpi(f"MKT-I0{i + 1}", "k") for i in range(7)]})
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


def test_a_cell_past_excels_limit_is_cut_with_a_marker():
    text = "x" * (EXCEL_MAX_CHARS + 10)
    assert len(cut(text)) == EXCEL_MAX_CHARS and cut(text).endswith(CUT_MARKER)
    assert cut("short") == "short"

"""SheetStream renders the master's large sheets itself: prove it writes what xlsxwriter writes.

Each case writes the same rows twice into a streaming (constant_memory) workbook, once through
xlsxwriter's own ``write_*`` calls and once through :class:`cascadebook.xlsx.SheetStream`, and
compares every part of the two packages byte for byte.
"""
from __future__ import annotations

import zipfile
from datetime import date, datetime

import openpyxl
import pytest
import xlsxwriter

from cascadebook.xlsx import CUT_MARKER, EXCEL_MAX_CHARS, SheetStream, write_value

HOSTILE_TEXT = [
    "plain", "a & b < c > d", 'quote " and apostrophe \'', "line\nbreak", "tab\tinside", " leading", "trailing ",
    "\ttab first", "new line last\n", "bell \x07 and unit \x1f", "\x00nul", "_x0041_ looks escaped", "_x00zz_ not",
    "non-character \ufffe\uffff", "emoji 🚀 and accents éü", "=HYPERLINK(\"http://x\")", "  ", "x" * 40_000,
    "<b>bold?</b>", "]]> cdata end", "&amp; already",
]
NUMBERS = [0, 1, -1, 0.1, 1 / 3, 1e20, -0.0, 123456789012345678, 2.5e-300, 42.0, True, False]
DATES = [date(2027, 3, 31), datetime(2027, 12, 31, 23, 59, 59), datetime(1900, 3, 1)]


def _rows():
    rows = []
    for i, text in enumerate(HOSTILE_TEXT):
        rows.append((i % 3, [text, NUMBERS[i % len(NUMBERS)], None, DATES[i % len(DATES)], "", (("CO1", 0.6), ("CO3", 0.4)),
                             f"row {i}"]))
    rows.append((0, [None, None, None]))  # an empty row: nothing written
    rows.append((0, [None, "", None]))  # (an empty row with an outline level is lost by xlsxwriter in this mode)
    rows += [(1, [n, str(n), n]) for n in NUMBERS]
    return rows


def _book(path, stream: bool):
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                           "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"created": datetime(2027, 1, 1)})
    plain = book.add_format({"valign": "top"})
    money = book.add_format({"num_format": "#,##0", "valign": "top"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    formats = [plain, money, None, day, None, plain, None]
    ws = book.add_worksheet("Data")
    ws.set_column(6, 6, 20, money)  # a column format: cells without their own take it
    ws.write_string(0, 0, "header")
    if stream:
        out = SheetStream(ws, 1, date_format=day)
        for level, values in _rows():
            out.row(values, formats, level)
        out.close()
    else:
        for r, (level, values) in enumerate(_rows(), 1):
            if level:
                ws.set_row(r, None, None, {"level": level})
            for c, value in enumerate(values):
                if value is None or value == "":
                    continue
                write_value(ws, r, c, value, formats[c])
    ws.write_string(len(_rows()) + 2, 0, "after the stream")
    book.close()


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def test_stream_writes_what_xlsxwriter_writes(tmp_path):
    _book(tmp_path / "xlsxwriter.xlsx", stream=False)
    _book(tmp_path / "stream.xlsx", stream=True)
    expected, got = _parts(tmp_path / "xlsxwriter.xlsx"), _parts(tmp_path / "stream.xlsx")
    assert expected.keys() == got.keys()
    for name in expected:
        assert got[name] == expected[name], name
    ws = openpyxl.load_workbook(tmp_path / "stream.xlsx")["Data"]
    assert ws["A2"].value == "plain"
    assert ws["A11"].value == "bell _x0007_ and unit _x001F_"  # Excel's escape; Excel shows the characters
    long_text = ws.cell(1 + HOSTILE_TEXT.index("x" * 40_000) + 1, 1).value
    assert len(long_text) == EXCEL_MAX_CHARS and long_text.endswith(CUT_MARKER)
    assert ws.row_dimensions[2].outlineLevel == 0 and ws.row_dimensions[3].outlineLevel == 1


def test_rich_string_lookalike_and_non_finite_numbers_stay_text(tmp_path):
    """xlsxwriter copies '<r>...</r>' into the file unescaped and refuses NaN; the stream writes text."""
    path = tmp_path / "odd.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("Data")
    out = SheetStream(ws, 0)
    out.row(["<r><t>injected</t></r>", float("nan"), float("inf"), "<r>broken"], [None] * 4)
    out.close()
    book.close()
    ws = openpyxl.load_workbook(path)["Data"]
    assert [c.value for c in ws[1]] == ["<r><t>injected</t></r>", "nan", "inf", "<r>broken"]


def test_stream_refuses_a_sheet_that_is_not_streamed(tmp_path):
    book = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    with pytest.raises(ValueError):
        SheetStream(book.add_worksheet(), 0)
    book.close()


def test_master_with_and_without_the_stream_is_the_same_file(tmp_path, monkeypatch):
    """The shipped samples' master, written with SheetStream and cell by cell: identical packages."""
    from pathlib import Path

    from cascadebook import load_key, load_strategy, reconcile, write_master

    samples = Path(__file__).resolve().parents[1] / "samples"
    strategy = load_strategy(samples / "strategy.yaml")
    result = reconcile(strategy, [samples / "returned"], key=load_key(samples / "strategy.yaml"), jobs=1)
    assert result.initiatives and result.kpis
    write_master(result, tmp_path / "stream.xlsx")
    monkeypatch.setattr(SheetStream, "supported", staticmethod(lambda ws: False))
    write_master(result, tmp_path / "cells.xlsx")
    fast, slow = _parts(tmp_path / "stream.xlsx"), _parts(tmp_path / "cells.xlsx")
    assert fast.keys() == slow.keys()
    assert [n for n in fast if fast[n] != slow[n] and n != "docProps/core.xml"] == []

"""SheetStream renders the master's large sheets itself: prove it writes what xlsxwriter writes.

Each case writes the same rows twice into a streaming (constant_memory) workbook, once through
xlsxwriter's own ``write_*`` calls and once through :class:`cascadebook.xlsx.writer.SheetStream`, and
compares every part of the two packages byte for byte.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime

import openpyxl
import pytest
import xlsxwriter

from cascadebook.xlsx.writer import CUT_MARKER, EXCEL_MAX_CHARS, SheetStream, write_value

HOSTILE_TEXT = [
    "plain",
    "a & b < c > d",
    'quote " and apostrophe \'',
    "line\nbreak",
    "tab\tinside",
    " leading",
    "trailing ",
    "\ttab first",
    "new line last\n",
    "bell \x07 and unit \x1f",
    "\x00nul",
    "_x0041_ looks escaped",
    "_x00zz_ not",
    "non-character \ufffe\uffff",
    "emoji 🚀 and accents éü",
    "=HYPERLINK(\"http://x\")",
    "  ",
    "x" * 40_000,
    "<b>bold?</b>",
    "]]> cdata end",
    "&amp; already",
]
NUMBERS = [0, 1, -1, 0.1, 1 / 3, 1e20, -0.0, 123456789012345678, 2.5e-300, 42.0, True, False]
DATES = [date(2027, 3, 31), datetime(2027, 12, 31, 23, 59, 59), datetime(1900, 3, 1)]


def _rows():
    rows = []
    for i, text in enumerate(HOSTILE_TEXT):
        rows.append(
            (
                i % 3,
                [
                    text,
                    NUMBERS[i % len(NUMBERS)],
                    None,
                    DATES[i % len(DATES)],
                    "",
                    (("CO1", 0.6), ("CO3", 0.4)),
                    f"row {i}",
                ],
            )
        )
    rows.append((0, [None, None, None]))  # an empty row: nothing written
    rows.append((0, [None, "", None]))  # (an empty row with an outline level is lost by xlsxwriter in this mode)
    rows += [(1, [n, str(n), n]) for n in NUMBERS]
    return rows


def _book(path, stream: str | None):
    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    book.set_properties({"created": datetime(2027, 1, 1)})
    plain = book.add_format({"valign": "top"})
    money = book.add_format({"num_format": "#,##0", "valign": "top"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    formats = [plain, money, None, day, None, plain, None]
    ws = book.add_worksheet("Data")
    ws.set_column(6, 6, 20, money)  # a column format: cells without their own take it
    ws.write_string(0, 0, "header")
    if stream == "row":
        out = SheetStream(ws, 1, date_format=day)
        for level, values in _rows():
            out.row(values, formats, level)
        out.close()
    elif stream == "render":  # every row rendered first (as the Goal Hierarchy's spools), then placed
        out = SheetStream(ws, 1, date_format=day)
        rendered = [out.render(values, formats, level) for level, values in _rows()]
        for row in rendered:
            out.put(row)
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


@pytest.mark.parametrize("stream", ["row", "render"])
def test_stream_writes_what_xlsxwriter_writes(tmp_path, stream):
    _book(tmp_path / "xlsxwriter.xlsx", stream=None)
    _book(tmp_path / "stream.xlsx", stream=stream)
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


def test_text_that_looks_like_rich_string_xml_is_shown_as_typed_in_the_master(tmp_path, fill, strategy, key):
    """A department types '<r>&</r>' as a title: the master opens and shows it exactly, on every sheet."""
    from python_calamine import CalamineWorkbook

    from cascadebook import load_spec, reconcile, write_master
    from conftest import clean_initiative

    typed = ["<r>&</r>", "<r><t>hidden</t></r>"]
    path = fill(
        "MKT", rows={"initiatives": [clean_initiative("CO1", typed[0], 1, 2), clean_initiative("CO2", typed[1], 1, 2)]}
    )
    result = reconcile(strategy, [path], key=key, jobs=1)
    master = write_master(result, tmp_path / "master.xlsx")
    book = CalamineWorkbook.from_path(master)
    initiatives = book.get_sheet_by_name("Initiatives").to_python()
    title = load_spec("department").sheet("initiatives").column("title").header
    titles = [row[initiatives[0].index(title)] for row in initiatives[1:]]
    assert titles == typed
    hierarchy = [v for row in book.get_sheet_by_name("Goal Hierarchy").to_python() for v in row]
    assert all(t in hierarchy for t in typed)
    matrix = " ".join(str(v) for row in book.get_sheet_by_name("Alignment Matrix").to_python() for v in row)
    assert all(t in matrix for t in typed)
    openpyxl.load_workbook(master)  # a well-formed package


@pytest.mark.parametrize("streaming", [True, False])
def test_safe_workbook_shows_rich_string_lookalikes_as_typed(tmp_path, streaming):
    """Check-ins and the master's cell-by-cell sheets write department text through xlsxwriter."""
    from python_calamine import CalamineWorkbook

    from cascadebook.xlsx.writer import Workbook

    typed = ["<r>&</r>", "<r><t>hidden</t></r>", "<r>" + "&" * 20_000 + "</r>"]
    path = tmp_path / "safe.xlsx"
    book = Workbook(str(path), {"constant_memory": streaming})
    ws = book.add_worksheet("Data")
    for r, text in enumerate(typed):
        write_value(ws, r, 0, text)
    ws.write_url(len(typed), 0, "internal:Data!A1", string=typed[0])
    book.close()
    openpyxl.load_workbook(path)  # well-formed
    got = [row[0] for row in CalamineWorkbook.from_path(path).get_sheet_by_name("Data").to_python()]
    assert got[:2] == typed[:2] and got[3] == typed[0]
    assert got[2].startswith("<r>&&&") and got[2].endswith(CUT_MARKER)  # escaped, it passed the cell limit


@pytest.mark.parametrize(
    "formula",
    [
        "=SUM('Initiatives'!$L$2:$L$5)+SUM('Initiatives (2)'!$L$2:$L$4)",
        '=COUNTIFS(Contributions!$A$2:$A$9,$A3,Contributions!$D$2:$D$9,B$2)',
        '=COUNTIF(X!A:A,"FILTER(")',
        "=IFERROR(A1/B1,0)",
        "{=SUM(A1:A3*B1:B3)}",
        "SUM(A1)",
        "=FILTER(A1:A9,B1:B9>0)",
        "=X.FILTER(A1:B2)",
        "=_xlfn.XLOOKUP(1,A:A,B:B)",
        "=sum(A1)",
        "=SINGLE(A1)",
        "=ISINGLE(A1)",
        "=SORT(A1:A3)",
        "=UNIQUE(A1:A3)+SUM(A1)",
        "=LET(x,1,x)",
        "=CONCAT(A1,B1)",
        '="a(b"&SUM(1)',
    ],
)
@pytest.mark.parametrize("future", [False, True])
def test_formulas_are_prepared_as_xlsxwriter_prepares_them(tmp_path, formula, future):
    from xlsxwriter.worksheet import Worksheet

    from cascadebook.xlsx.writer import Workbook as SafeWorkbook

    book = SafeWorkbook(str(tmp_path / "f.xlsx"), {"use_future_functions": future})
    ws = book.add_worksheet()
    assert ws._prepare_formula(formula) == Worksheet._prepare_formula(ws, formula)
    assert ws._prepare_formula(formula, True) == Worksheet._prepare_formula(ws, formula, True)
    book.close()

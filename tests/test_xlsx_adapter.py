"""The xlsxwriter adapter: what it takes from xlsxwriter's internals is still there and still behaves.

cascadebook/xlsx/internals.py is the only module that uses xlsxwriter's private API, and pyproject.toml
pins xlsxwriter to the versions these tests passed on. Every test here fails with "xlsxwriter X.Y
changed <what>; update cascadebook/xlsx/internals.py and the pin", so a new xlsxwriter that breaks a
trick is caught by name, before a department meets a broken workbook; widening the pin needs this
file green on the new version. The behaviour tests write a small workbook through each adapter
function and the same through xlsxwriter's public API, and compare the files (or read them back).
"""

from __future__ import annotations

import inspect
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from cascadebook.xlsx import internals
from cascadebook.xlsx.internals import (
    CLASSIC_FUNCTIONS,
    RELIES_ON,
    PlainFormulaWorksheet,
    SafeWorkbook,
    SafeWorksheet,
    add_table,
    column_format,
    forget_row,
    number_styles,
    style_index,
)
from cascadebook.xlsx.writer import SheetStream

ROOT = Path(__file__).resolve().parents[1]
VERSION = xlsxwriter.__version__


def changed(what: str) -> str:
    return (
        f"xlsxwriter {VERSION} changed {what}; update cascadebook/xlsx/internals.py "
        "and the xlsxwriter pin in pyproject.toml"
    )


# ---- the pin ------------------------------------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _pin() -> list[tuple[str, tuple[int, ...]]]:
    """The xlsxwriter requirement of pyproject.toml's dependencies, as [(operator, version), ...]."""
    found = re.findall(
        r'^\s*"xlsxwriter\s*([^";]*)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE | re.IGNORECASE
    )
    assert len(found) == 1, f"pyproject.toml: one xlsxwriter requirement expected, found {found}"
    clauses = [re.fullmatch(r"(>=|<=|<|>|==)\s*(\d+(?:\.\d+)*)", c.strip()) for c in found[0].split(",")]
    assert all(clauses), f"pyproject.toml: an xlsxwriter pin of plain versions expected, got {found[0]!r}"
    return [(m.group(1), _version(m.group(2))) for m in clauses]


def _inside(version: tuple[int, ...], op: str, bound: tuple[int, ...]) -> bool:
    width = max(len(version), len(bound))
    v, b = version + (0,) * (width - len(version)), bound + (0,) * (width - len(bound))
    return {">=": v >= b, ">": v > b, "<=": v <= b, "<": v < b, "==": v == b}[op]


def test_the_pin_has_both_bounds():
    """A new xlsxwriter may change any internal the adapter uses: it comes in only by widening the pin."""
    ops = {op for op, _ in _pin()}
    assert ops & {">=", "=="} and ops & {"<", "<=", "=="}, f"pyproject.toml: pin xlsxwriter both ways, got {_pin()}"


def test_installed_xlsxwriter_is_inside_the_pin():
    installed = _version(re.match(r"[\d.]+", VERSION).group(0).rstrip("."))
    outside = [f"{op}{'.'.join(map(str, bound))}" for op, bound in _pin() if not _inside(installed, op, bound)]
    assert not outside, (
        f"xlsxwriter {VERSION} is outside the pin ({', '.join(outside)}) in pyproject.toml: run "
        "tests/test_xlsx_adapter.py on it and widen the pin if it is green"
    )


# ---- every internal name, with its parameters ----------------------------------------------------------


def _streaming_sheet(tmp_path, options=None):
    book = xlsxwriter.Workbook(str(tmp_path / "probe.xlsx"), {"constant_memory": True, **(options or {})})
    return book, book.add_worksheet("Data")


@pytest.mark.parametrize("name", sorted(RELIES_ON))
def test_every_internal_the_adapter_relies_on_is_there(tmp_path, name):
    from xlsxwriter import worksheet as worksheet_module

    owner_name, attribute = name.split(".")
    owner = {"Worksheet": Worksheet, "Workbook": Workbook, "Format": Format}.get(owner_name) or getattr(
        worksheet_module, owner_name, None
    )
    assert owner is not None, changed(f"{owner_name} (gone from xlsxwriter.worksheet)")
    parameters = RELIES_ON[name]
    if parameters is not None:
        method = inspect.getattr_static(owner, attribute, None)
        assert method is not None, changed(f"{name} (gone)")
        got = tuple(inspect.signature(getattr(owner, attribute)).parameters)
        assert got == parameters, changed(f"the parameters of {name}: {got}, the adapter calls it with {parameters}")
        return
    book, ws = _streaming_sheet(tmp_path)
    fmt = book.add_format({"bold": True})
    ws.set_column(0, 0, 12, fmt)
    instance = {"Worksheet": ws, "Workbook": book, "Format": fmt, "ColumnInfo": ws.col_info.get(0)}[owner_name]
    assert hasattr(instance, attribute) or hasattr(type(instance), attribute), changed(f"{name} (gone)")
    book.close()


# ---- the adapter uses no internal it does not declare; nothing else uses any -------------------------

XLSXWRITER_CLASSES = (Workbook, Worksheet, Format)
# Internal state of xlsxwriter objects (no leading underscore, not documented): reading or writing one
# outside the adapter is as private as a _name. Names the package also gives its own objects (name,
# index, table, formats, title, comments, ...) are left out: the scan could not tell the two apart.
INTERNAL_STATE = (
    "previous_row",
    "row_info",
    "row_sizes",
    "col_info",
    "fh",
    "row_data_fh",
    "dim_rowmin",
    "dim_rowmax",
    "dim_colmin",
    "dim_colmax",
    "outline_row_level",
    "constant_memory",
    "excel_version",
    "tables",
    "hyperlinks",
    "hlink_count",
    "str_table",
    "use_future_functions",
    "date_1904",
    "remove_timezone",
    "tmpdir",
    "xf_index",
    "xf_format_indices",
    "worksheets_objs",
    "worksheet_class",
)


def _private_names() -> set[str]:
    """Every _name xlsxwriter's workbook, worksheet and format classes define, and their instances hold."""
    names = {n for cls in XLSXWRITER_CLASSES for n in dir(cls) if n.startswith("_") and not n.startswith("__")}
    names |= {n for n in vars(Format()) if n.startswith("_")} | {n for n in vars(Worksheet()) if n.startswith("_")}
    names |= {"_text", "_link", "_anchor", "_original_url"}  # xlsxwriter.url.Url, the hyperlinks' values
    return names


def _private_methods() -> set[str]:
    return {n for n in _private_names() if any(callable(getattr(cls, n, None)) for cls in XLSXWRITER_CLASSES)}


_PRIVATE = "|".join(sorted(map(re.escape, _private_names())))
_STATE = "|".join(INTERNAL_STATE)
PATTERNS = {
    # what -> regular expression over the code (comments and docstrings are not code)
    "a private xlsxwriter method or attribute": rf"\.({_PRIVATE})\b",
    "xlsxwriter's internal state": rf"\.({_STATE})\b",
    "xlsxwriter's internal state by name": rf"\b(?:get|set|has)attr\([^,]+,\s*[\"']({_STATE}|{_PRIVATE})[\"']",
    "an override of a private xlsxwriter method": rf"^\s+def ({'|'.join(sorted(_private_methods()))})\(",
    "a subclass of an xlsxwriter class": r"^\s*class \w+\((?:xlsxwriter\.)?(?:\w+\.)*(Workbook|Worksheet|Format)\)",
}


def _code(source: str) -> list[tuple[int, str]]:
    """The lines of ``source`` with comments, docstrings and import statements blanked out (string arguments are kept)."""
    import ast
    import io
    import tokenize

    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):  # module paths (cascadebook.master.tables), not attributes
            for n in range(node.lineno - 1, node.end_lineno or node.lineno):
                lines[n] = ""
            continue
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                for n in range(body[0].lineno - 1, body[0].end_lineno):
                    lines[n] = ""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    return list(enumerate(lines, 1))


def _uses(source: str, self_too: bool = False) -> list[tuple[int, str, str]]:
    """(line, what, name) for each match of PATTERNS; ``self.x`` counts only when ``self_too``."""
    found = []
    for number, line in _code(source):
        for what, pattern in PATTERNS.items():
            for match in re.finditer(pattern, line):
                if not self_too and line[: match.start()].endswith("self"):
                    continue
                found.append((number, what, match.group(1)))
    return found


def test_the_scan_finds_what_it_looks_for():
    sample = (
        "class S(Worksheet):\n"
        "    def _prepare_formula(self, f, e=False):\n"
        "        return f\n"
        "fmt._get_xf_index()  # a comment about ws.row_info is not code\n"
        "if getattr(ws, 'constant_memory', False):\n"
        "    ws.previous_row = 3\n"
        "url = ws.hyperlinks[1][2]\n"
        "url._text = 'x'\n"
        "class B(xlsxwriter.Workbook):\n"
        "    pass\n"
    )
    found = {(number, name) for number, _, name in _uses(sample)}
    assert found == {
        (1, "Worksheet"),
        (2, "_prepare_formula"),
        (4, "_get_xf_index"),
        (5, "constant_memory"),
        (6, "previous_row"),
        (7, "hyperlinks"),
        (8, "_text"),
        (9, "Workbook"),
    }, found


def test_no_module_outside_the_adapter_uses_xlsxwriter_internals():
    package = ROOT / "src" / "cascadebook"
    offences = [
        f"{path.relative_to(ROOT)}:{number}: {what} ({name})"
        for path in sorted(package.rglob("*.py"))
        if path.parent.name != "xlsx"
        for number, what, name in _uses(path.read_text(encoding="utf-8"))
    ]
    assert not offences, (
        "xlsxwriter's internals belong in cascadebook/xlsx/internals.py, behind a named function with a "
        "docstring saying why (and in its RELIES_ON, which tests/test_xlsx_adapter.py checks):\n" + "\n".join(offences)
    )


def test_the_adapter_declares_every_internal_it_uses():
    """Each internal name in cascadebook/xlsx/ is in RELIES_ON, so the checks above cover it."""
    declared = {name.split(".")[1] for name in RELIES_ON}
    undeclared = []
    for path in sorted((ROOT / "src" / "cascadebook" / "xlsx").glob("*.py")):
        for number, what, name in _uses(path.read_text(encoding="utf-8"), self_too=path.name == "internals.py"):
            if what != "a subclass of an xlsxwriter class" and name not in declared:
                undeclared.append(f"{path.name}:{number}: {name}")
    assert not undeclared, "add these to internals.RELIES_ON (with their parameters):\n" + "\n".join(undeclared)


def test_only_internals_touches_xlsxwriter_internals():
    """writer.py and the rest of cascadebook/xlsx/ go through internals.py's named functions."""
    others = [
        f"{path.name}:{number}: {name}"
        for path in sorted((ROOT / "src" / "cascadebook" / "xlsx").glob("*.py"))
        if path.name != "internals.py"
        for number, _, name in _uses(path.read_text(encoding="utf-8"))
    ]
    assert not others, others


# ---- formulas ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("expand", [False, True])
def test_xlsxwriter_leaves_every_classic_function_alone(expand):
    """SafeWorksheet skips xlsxwriter's renaming for formulas calling only these: it must not rename one."""
    ws = Worksheet()
    renamed = [
        name
        for name in sorted(CLASSIC_FUNCTIONS)
        if Worksheet._prepare_formula(ws, f"={name}(A1)", expand) != f"{name}(A1)"
    ]
    assert not renamed, changed(f"how it prepares formulas: it now renames {renamed}")


FORMULAS = [
    "=SUM(A1:A3)",
    "{=SUM(A1:A3*B1:B3)}",
    '=IF(LEN(TRIM(A2))=0,"",IF(ISNUMBER(SEARCH("x",LOWER(A2))),"has x","no x"))',
    "=COUNTIFS(Data!$A$2:$A$9,$A3,Data!$B$2:$B$9,B$2)",
    '=SUMPRODUCT((A2:A9="a")*(B2:B9>0))',
    '=INDEX(A1:A9,MATCH("b",B1:B9,0))&MID(C1,2,3)&LEFT(C1,1)',
]


def _sheet_xml(path: Path, sheet: int = 1) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{sheet}.xml")


def _formula_book(path: Path, worksheet_class) -> None:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("Data", worksheet_class)
    for r, formula in enumerate(FORMULAS):
        ws.write_formula(r, 3, formula, None, 0)
    ws.conditional_format(0, 0, 9, 0, {"type": "formula", "criteria": "=ISNUMBER(SEARCH(\"x\",A1))"})
    ws.data_validation(0, 1, 9, 1, {"validate": "custom", "value": "=LEN(TRIM(B1))>0"})
    book.close()


@pytest.mark.parametrize("worksheet_class", [PlainFormulaWorksheet, SafeWorksheet])
def test_worksheet_classes_write_formulas_as_xlsxwriter_does(tmp_path, worksheet_class):
    """Through ``add_worksheet(name, worksheet_class)``: the same sheet, byte for byte, as a plain Worksheet's."""
    _formula_book(tmp_path / "public.xlsx", None)
    _formula_book(tmp_path / "adapter.xlsx", worksheet_class)
    assert _sheet_xml(tmp_path / "adapter.xlsx") == _sheet_xml(tmp_path / "public.xlsx"), changed(
        "Worksheet._prepare_formula (what write_formula, conditional_format and data_validation write)"
    )
    ws = openpyxl.load_workbook(tmp_path / "adapter.xlsx")["Data"]
    got = [ws.cell(r + 1, 4).value for r in range(len(FORMULAS))]
    assert [getattr(v, "text", v) for v in got] == [f.strip("{}") for f in FORMULAS]


def test_safe_workbook_makes_safe_worksheets(tmp_path):
    book = SafeWorkbook(str(tmp_path / "x.xlsx"))
    assert type(book.add_worksheet("A")) is SafeWorksheet, changed("Workbook.worksheet_class")
    assert type(book.add_worksheet("B", PlainFormulaWorksheet)) is PlainFormulaWorksheet, changed(
        "add_worksheet(name, worksheet_class)"
    )
    book.close()


# ---- text that looks like rich-string XML ---------------------------------------------------------------

LOOKALIKE = "<r>&</r>"


@pytest.mark.parametrize("streaming", [False, True])
def test_every_public_string_write_goes_through_write_string(tmp_path, streaming):
    """write, write_string, write_row, write_url's text, table headers, merge_range: all shown as typed."""
    path = tmp_path / "safe.xlsx"
    book = SafeWorkbook(str(path), {"constant_memory": streaming, "strings_to_urls": False})
    ws = book.add_worksheet("Data")
    add_table(ws, 0, 0, 1, 1, {"name": "T", "columns": [{"header": LOOKALIKE}, {"header": "b"}]})
    ws.write(1, 0, LOOKALIKE)
    ws.write_string(1, 1, LOOKALIKE)
    ws.write_row(2, 0, [LOOKALIKE, LOOKALIKE])
    ws.write_url(3, 0, "internal:Data!A1", string=LOOKALIKE)
    ws.merge_range(4, 0, 4, 1, LOOKALIKE)
    book.close()
    got = openpyxl.load_workbook(path)["Data"]
    cells = [got["A1"], got["A2"], got["B2"], got["A3"], got["B3"], got["A4"], got["A5"]]
    assert [c.value for c in cells] == [LOOKALIKE] * len(cells), changed(
        "Worksheet._write_string (a public write of text no longer goes through it)"
    )


# ---- streaming sheets ------------------------------------------------------------------------------------

ROWS = [
    (0, ["plain", 1.5, date(2027, 3, 31), None, "bell \x07", True]),
    (1, ["a & b < c", -2, datetime(2027, 12, 31, 23, 59, 59), "_x0041_", " lead", False]),
    (2, ["", 0, None, "x", "trail ", 3]),
]


def _stream_book(path: Path, through_stream: bool, date_1904: bool) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "date_1904": date_1904})
    ws = book.add_worksheet("Data")
    bold, money, day = (
        book.add_format({"bold": True}),
        book.add_format({"num_format": "#,##0"}),
        book.add_format({"num_format": "yyyy-mm-dd"}),
    )
    ws.set_column(1, 1, 12, money)  # a column format: cells without their own take it
    ws.write_string(0, 0, "header", bold)
    ws.set_row(0, 20)  # a row xlsxwriter still buffers when the stream begins
    formats = [bold, None, day, None, None, None]
    if through_stream:
        stream = SheetStream(ws, 1)
        for level, values in ROWS:
            stream.row(values, formats, level)
        stream.close()
    else:
        for r, (level, values) in enumerate(ROWS, 1):
            if level:
                ws.set_row(r, None, None, {"level": level})
            for c, value in enumerate(values):
                if value is None or value == "":
                    continue
                fmt = formats[c]
                if isinstance(value, bool):
                    ws.write_boolean(r, c, value, fmt)
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value, fmt)
                elif isinstance(value, date):
                    ws.write_datetime(
                        r,
                        c,
                        value if isinstance(value, datetime) else datetime(value.year, value.month, value.day),
                        fmt,
                    )
                else:
                    ws.write_string(r, c, value, fmt)
    ws.write_string(len(ROWS) + 2, 0, "after the stream")
    book.close()


@pytest.mark.parametrize("date_1904", [False, True])
def test_stream_rows_are_what_xlsxwriter_writes(tmp_path, date_1904):
    """begin_rows, end_rows, date_serial, control_escape, style_index and column_format, together."""
    _stream_book(tmp_path / "public.xlsx", False, date_1904)
    _stream_book(tmp_path / "stream.xlsx", True, date_1904)
    assert _sheet_xml(tmp_path / "stream.xlsx") == _sheet_xml(tmp_path / "public.xlsx"), changed(
        "how a constant_memory sheet's rows are written (see begin_rows/end_rows and the functions SheetStream calls)"
    )
    with zipfile.ZipFile(tmp_path / "stream.xlsx") as a, zipfile.ZipFile(tmp_path / "public.xlsx") as b:
        assert a.read("xl/styles.xml") == b.read("xl/styles.xml"), changed("Format._get_xf_index (style numbering)")
    ws = openpyxl.load_workbook(tmp_path / "stream.xlsx")["Data"]
    assert ws["A2"].value == "plain" and ws["C2"].value == datetime(2027, 3, 31) and ws["B4"].number_format == "#,##0"
    assert ws.row_dimensions[3].outlineLevel == 1 and ws.dimensions == "A1:F6"


def test_column_format_and_style_index(tmp_path):
    book, ws = _streaming_sheet(tmp_path)
    first, second = book.add_format({"bold": True}), book.add_format({"italic": True})
    ws.set_column(2, 2, 10, second)
    assert column_format(ws, 2) is second and column_format(ws, 0) is None, changed("Worksheet.col_info")
    number_styles([second, first])
    assert (style_index(second), style_index(first)) == (1, 2), changed("Format._get_xf_index (numbering order)")
    book.close()


# ---- tables on streaming sheets -----------------------------------------------------------------------


def _table_book(path: Path, streaming: bool, rows: int) -> None:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": streaming})
    ws = book.add_worksheet("Data")
    header = book.add_format({"bold": True})
    options = {"name": "Things", "style": "Table Style Medium 2", "columns": [{"header": "ID"}, {"header": "Title"}]}
    if streaming:
        add_table(ws, 0, 0, rows, 1, options, header)
    else:
        ws.add_table(0, 0, rows, 1, options)
        for c, column in enumerate(options["columns"]):
            ws.write_string(0, c, column["header"], header)
    for r in range(1, rows + 1):
        ws.write_string(r, 0, f"T{r}")
        ws.write_string(r, 1, f"thing {r}")
    book.close()


def test_add_table_on_a_streaming_sheet_is_the_public_table(tmp_path):
    _table_book(tmp_path / "public.xlsx", False, 50)
    _table_book(tmp_path / "stream.xlsx", True, 50)
    with zipfile.ZipFile(tmp_path / "stream.xlsx") as a, zipfile.ZipFile(tmp_path / "public.xlsx") as b:
        assert a.read("xl/tables/table1.xml") == b.read("xl/tables/table1.xml"), changed(
            "Worksheet.add_table / Worksheet.tables (the table part of a streaming sheet)"
        )
    streamed, public = (openpyxl.load_workbook(tmp_path / name)["Data"] for name in ("stream.xlsx", "public.xlsx"))
    assert [[c.value for c in row] for row in streamed.iter_rows()] == [
        [c.value for c in row] for row in public.iter_rows()
    ]
    assert streamed.tables["Things"].ref == "A1:B51" and streamed["A1"].value == "ID" and streamed["A1"].font.b


# ---- forgetting streamed rows -----------------------------------------------------------------------------


def _outline_book(path: Path, forget: bool) -> int:
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("Data")
    for r in range(200):
        ws.set_row(r, None, None, {"level": 1 + r % 2})
        ws.write_string(r, 0, f"row {r}")
        if forget:
            forget_row(ws, r - 1)
    kept = len(ws.row_info)
    book.close()
    return kept


def test_forget_row_drops_only_what_is_on_disk(tmp_path):
    kept_all = _outline_book(tmp_path / "public.xlsx", False)
    kept = _outline_book(tmp_path / "forget.xlsx", True)
    assert kept_all == 200 and kept <= 2, changed("Worksheet.row_info (set_row's properties of streamed rows)")
    assert _sheet_xml(tmp_path / "forget.xlsx") == _sheet_xml(tmp_path / "public.xlsx"), changed(
        "Worksheet.row_info / row_sizes (read again after a row is streamed)"
    )


# ---- the public behaviour the master's links rely on --------------------------------------------------------


def test_a_link_keeps_its_short_text_when_the_cell_is_written_again(tmp_path):
    """The matrix writes a link with its first line, then the cell's full text over it (public API only)."""
    path = tmp_path / "links.xlsx"
    book = SafeWorkbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("Data")
    ws.write_url(0, 0, "internal:Data!B5", None, string="first line", tip="Go")
    ws.write_string(0, 0, "first line\nsecond line")
    book.close()
    cell = openpyxl.load_workbook(path)["Data"]["A1"]
    assert cell.value == "first line\nsecond line" and cell.hyperlink.location == "Data!B5"
    assert cell.hyperlink.display == "first line", changed("write_url's display text")


def test_internals_names_its_reliances_in_docstrings():
    """Each function and class of the adapter says in its docstring what it relies on."""
    public = [
        obj
        for name, obj in vars(internals).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == internals.__name__
    ]
    missing = [
        obj.__name__ for obj in public if "Relies on" not in (obj.__doc__ or "") and obj.__name__ != "as_rich_literal"
    ]
    assert not missing, f"say what these rely on and why: {missing}"

"""Every use of xlsxwriter's private API, in one place, each named after what it is for.

xlsxwriter has no public way to do four things the tool needs: show text that looks like its
rich-string XML as typed (a department could break the master with it), skip its per-formula
regular expressions (most of a template's generation time), add a table to a streaming sheet
(and not record two million cells to do it), and write a streaming sheet's rows itself (the
master's large sheets, about three times as fast as its ``write_*``). The functions and classes below do
those through its internals; nothing else in the package touches them (tests/test_xlsx_adapter.py
greps for it). ``RELIES_ON`` lists every internal name used here, with its expected parameters:
tests/test_xlsx_adapter.py checks each against the installed xlsxwriter, writes a small workbook
through each function and compares it with the same written through the public API, and checks
that the installed version is inside the pin in pyproject.toml. A new xlsxwriter that changes one
of them fails there first, by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO

import xlsxwriter
from xlsxwriter.utility import xl_range
from xlsxwriter.worksheet import Worksheet

from cascadebook.xlsx.limits import CUT_MARKER, EXCEL_MAX_CHARS

# Internal name -> the parameters it is called with (None: an attribute read or written).
RELIES_ON: dict[str, tuple[str, ...] | None] = {
    "Worksheet._prepare_formula": ("self", "formula", "expand_future_functions"),
    "Worksheet._write_string": ("self", "row", "col", "string", "cell_format"),
    "Worksheet._write_single_row": ("self", "current_row_num"),
    "Worksheet._convert_date_time": ("self", "dt_obj"),
    "Worksheet._escape_control_characters": ("data",),
    "Format._get_xf_index": ("self",),
    "Workbook.worksheet_class": None,
    "Worksheet.constant_memory": None,
    "Worksheet.excel_version": None,
    "Worksheet.comments": None,
    "Worksheet.table": None,
    "Worksheet.tables": None,
    "Worksheet.previous_row": None,
    "Worksheet.row_info": None,
    "Worksheet.row_sizes": None,
    "Worksheet.col_info": None,
    "Worksheet.fh": None,
    "Worksheet.dim_rowmin": None,
    "Worksheet.dim_rowmax": None,
    "Worksheet.dim_colmin": None,
    "Worksheet.dim_colmax": None,
    "Worksheet.outline_row_level": None,
    "Worksheet.use_future_functions": None,
    "ColumnInfo.column_format": None,
}


# ---- formulas ----------------------------------------------------------------------------------------

# Functions whose names xlsxwriter never rewrites (it prefixes newer ones with _xlfn.): a formula
# calling only these is prepared by stripping its '=' (see SafeWorksheet._prepare_formula).
# tests/test_xlsx_adapter.py checks that xlsxwriter leaves each one unchanged.
CLASSIC_FUNCTIONS = frozenset(
    {
        "ABS",
        "AND",
        "AVERAGE",
        "COUNT",
        "COUNTA",
        "COUNTBLANK",
        "COUNTIF",
        "COUNTIFS",
        "IF",
        "IFERROR",
        "INDEX",
        "ISBLANK",
        "ISNUMBER",
        "ISTEXT",
        "LEN",
        "MATCH",
        "MAX",
        "MIN",
        "NOT",
        "OR",
        "ROUND",
        "SUM",
        "SUMIF",
        "SUMIFS",
        "SUMPRODUCT",
        "TRIM",
        "UPPER",
    }
)
_FUNCTION_CALL = re.compile(r"([A-Za-z_.][A-Za-z0-9_.]*)\(")


def _strip_formula(formula: str) -> str:
    """What xlsxwriter's ``_prepare_formula`` does first: drop array braces and the leading '='."""
    formula = formula.removeprefix("{")
    formula = formula.removeprefix("=")
    formula = formula.removesuffix("}")
    return formula


class PlainFormulaWorksheet(Worksheet):
    """A worksheet for formulas that call no function xlsxwriter renames: they are only stripped.

    Relies on ``Worksheet._prepare_formula(formula, expand_future_functions)``, which every
    ``write_formula``, conditional format and data validation calls, and which runs some seventy
    regular expressions over the formula to prefix newer functions with ``_xlfn.``. A template has
    over a thousand Check formulas of ~800 characters: with those expressions a template took five
    times as long to write (1.1 s of CPU against 0.21 s, benchmark corpus, December 2026), and a
    check that only classic functions are called (as SafeWorksheet does) would cost a fifth of a
    second per template by itself. The caller vouches that its formulas use no newer function
    (tests/test_livecheck.py proves it for the template's: xlsxwriter's own preparation leaves
    every one unchanged); a formula that might should go on a :class:`SafeWorksheet`.
    """

    def _prepare_formula(self, formula, expand_future_functions=False):
        return _strip_formula(formula)


def as_rich_literal(text: str) -> str:
    """Text that looks like rich-string XML, as a real rich string that shows exactly that text.

    xlsxwriter copies a string that starts with ``<r>`` and ends with ``</r>`` into the file as raw
    XML (its rich-string format): typed by a department, ``<r>&</r>`` would break the workbook and
    ``<r><t>x</t></r>`` would show as "x". Wrapped, escaped, in one run, it shows as typed.
    """
    body, marker = text, ""
    while True:
        escaped = (body + marker).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        wrapped = f'<r><t xml:space="preserve">{escaped}</t></r>'
        if len(wrapped) <= EXCEL_MAX_CHARS:
            return wrapped
        body = body[: len(body) - max(1, (len(wrapped) - EXCEL_MAX_CHARS) // 5)]  # escapes are 1-5 chars
        marker = CUT_MARKER


class SafeWorksheet(Worksheet):
    """A worksheet whose every string -- ``write_string``, ``write_url``'s text, table headers -- is
    shown as typed, whatever it looks like (see :func:`as_rich_literal`),
    and whose formulas calling only :data:`CLASSIC_FUNCTIONS` skip xlsxwriter's renaming.

    Relies on ``Worksheet._write_string(row, col, string, cell_format)``, through which all of
    those writes go: xlsxwriter copies a string that starts with ``<r>`` and ends with ``</r>`` into
    the file as raw XML, so a department's ``<r>&</r>`` would break the master. No public option
    turns that off, and catching it at the one place every string passes is what makes it certain.
    """

    def _write_string(self, row, col, string, cell_format=None):
        if isinstance(string, str) and string.startswith("<r>") and string.endswith("</r>"):
            string = as_rich_literal(string)
        return super()._write_string(row, col, string, cell_format)

    def _prepare_formula(self, formula, expand_future_functions=False):
        """xlsxwriter runs ~30 regular expressions over every formula to prefix newer functions
        (a fifth of the master's time at 10,000 departments, for its COUNTIFs); a formula that
        calls only classic functions comes out of them unchanged, so it skips them."""
        if not (self.use_future_functions or expand_future_functions) and "INGLE(" not in formula:
            body = _strip_formula(formula)
            if all(name in CLASSIC_FUNCTIONS for name in _FUNCTION_CALL.findall(body)):
                return body
        return super()._prepare_formula(formula, expand_future_functions)


class SafeWorkbook(xlsxwriter.Workbook):
    """The workbook class for files that hold what departments typed (the master, check-ins).

    Relies on ``Workbook.worksheet_class``, the class ``add_worksheet`` instantiates (xlsxwriter's
    documented way to subclass worksheets)."""

    worksheet_class = SafeWorksheet


# ---- styles ------------------------------------------------------------------------------------------


def style_index(fmt) -> int:
    """The number of ``fmt`` in the workbook's cell styles (``s="..."`` of a cell), assigned now if new.

    Relies on ``Format._get_xf_index()``, which xlsxwriter calls when it writes a cell: a stream
    that writes cells itself has to number their styles the same way."""
    return fmt._get_xf_index()


def number_styles(formats) -> None:
    """Number ``formats`` now, in this order, so the styles of a sheet come out numbered the same
    whether its rows were rendered ahead (out of order) or written in order. Relies on
    ``Format._get_xf_index()``, as :func:`style_index` does."""
    for fmt in formats:
        fmt._get_xf_index()


def column_format(ws, col: int):
    """The format ``set_column`` gave column ``col`` (None without one): what Excel shows in an
    unformatted cell of it, and what xlsxwriter writes as the cell's style.

    Relies on ``Worksheet.col_info`` (column -> ``ColumnInfo`` with ``column_format``)."""
    info = ws.col_info.get(col)
    return info.column_format if info is not None else None


# ---- streaming sheets (constant_memory) ---------------------------------------------------------------


def is_streaming(ws) -> bool:
    """Whether ``ws`` belongs to a ``constant_memory`` workbook (rows go to disk as they are left).

    Relies on ``Worksheet.constant_memory``, the workbook option copied onto each sheet."""
    return bool(getattr(ws, "constant_memory", False))


def can_stream_rows(ws) -> bool:
    """Whether :class:`cascadebook.xlsx.writer.SheetStream` may write ``ws``'s rows itself: a
    streaming sheet, in Excel 2007 row format (no sparklines or other 2010 features that change the
    row XML), with no cell comments (xlsxwriter writes those per row).

    Relies on ``Worksheet.constant_memory``, ``excel_version`` and ``comments``."""
    return is_streaming(ws) and getattr(ws, "excel_version", 2007) == 2007 and not getattr(ws, "comments", None)


def begin_rows(ws, first_row: int) -> IO[str]:
    """Hand a streaming sheet's row file to a writer of its own, from ``first_row`` down; returns it.

    Relies on ``Worksheet._write_single_row(current_row_num)`` (the row xlsxwriter still buffers,
    cells or ``set_row`` properties, goes to the file first), ``previous_row`` (the row it buffers),
    ``table``, ``row_info`` and ``fh`` (the row file, which it copies into the package at close).
    """
    if ws.table or ws.previous_row in ws.row_info:
        ws._write_single_row(first_row)
    ws.previous_row = max(ws.previous_row, first_row)
    return ws.fh


def end_rows(
    ws,
    next_row: int,
    rows: tuple[int | None, int | None] | None,
    cols: tuple[int | None, int | None] | None,
    level: int,
) -> None:
    """Tell the sheet what a writer of its own put in its row file: rows up to ``next_row`` are
    written, ``rows`` and ``cols`` (first, last; None if no cell) widen its dimension, ``level`` is
    the deepest outline level used (for the outline symbols).

    Relies on ``Worksheet.previous_row``, ``dim_rowmin``/``dim_rowmax``/``dim_colmin``/``dim_colmax``
    and ``outline_row_level``, which xlsxwriter reads when it writes the sheet's header at close."""
    ws.previous_row = max(ws.previous_row, next_row)
    if rows is not None and cols is not None:
        ws.dim_rowmin = rows[0] if ws.dim_rowmin is None else min(ws.dim_rowmin, rows[0])
        ws.dim_rowmax = rows[1] if ws.dim_rowmax is None else max(ws.dim_rowmax, rows[1])
        ws.dim_colmin = cols[0] if ws.dim_colmin is None else min(ws.dim_colmin, cols[0])
        ws.dim_colmax = cols[1] if ws.dim_colmax is None else max(ws.dim_colmax, cols[1])
    ws.outline_row_level = max(ws.outline_row_level, level)


def date_serial(ws) -> Callable:
    """``datetime -> Excel serial number`` as this sheet's workbook writes it (1900 or 1904 date
    system, time zones removed or not). Relies on ``Worksheet._convert_date_time(dt_obj)``."""
    return ws._convert_date_time


def control_escape(ws) -> Callable[[str], str]:
    """``text -> text`` with control characters written as Excel's ``_xHHHH_`` escapes, exactly as
    xlsxwriter escapes them in a cell. Relies on ``_escape_control_characters(data)`` (a static
    method of xlsxwriter's XML writer, which worksheets inherit)."""
    return ws._escape_control_characters


def forget_row(ws, row: int) -> None:
    """Drop what xlsxwriter keeps of a streamed row once it is on disk.

    ``set_row`` (the outline level of each row of the Goal Hierarchy) stores the row's properties
    for good, although a ``constant_memory`` sheet has written the row out when the next one began;
    kept, they grow with the rows (about 150 bytes each). They are only read again to place images,
    which the master has none of. Relies on ``Worksheet.previous_row``, ``row_info`` and ``row_sizes``.
    """
    if is_streaming(ws) and row < ws.previous_row:
        ws.row_info.pop(row, None)
        ws.row_sizes.pop(row, None)


def add_table(
    ws, first_row: int, first_col: int, last_row: int, last_col: int, options: dict, header_format=None
) -> None:
    """``worksheet.add_table`` that also works on a ``constant_memory`` (streaming) workbook, at the
    cost of a small table whatever the size of the real one.

    xlsxwriter refuses tables in that mode only because ``add_table`` writes the header cells out of
    row order. Called before any cell of the sheet is written, the table part is added with the
    mode switched off for that one call, and the header row is then written again as ordinary
    streamed cells (the table part itself only needs its range and column names).

    ``add_table`` also records every cell of the range in a dict, to refuse an overlapping table
    later: 2 million entries (200 MB, seconds) for the master of a thousand departments, which
    never adds a second table to a sheet. So the table is added over its header and first row
    only, and its ranges -- the only parts that depend on the last row when it has no totals row,
    formulas or data -- are then set to the real ones.

    Relies on ``Worksheet.constant_memory`` (switched off for the call) and ``Worksheet.tables``
    (its last entry, a dict with ``range``, ``a_range`` and ``autofilter``).
    """
    streaming = is_streaming(ws)
    simple = (
        not options.get("total_row")
        and "data" not in options
        and not any(c.get("formula") for c in options.get("columns", ()))
    )
    small_last_row = min(last_row, first_row + 1) if simple else last_row
    if streaming:
        ws.constant_memory = False
    try:
        ws.add_table(first_row, first_col, small_last_row, last_col, options)
    finally:
        if streaming:
            ws.constant_memory = True
    if small_last_row != last_row:
        table = ws.tables[-1]
        table["range"] = table["a_range"] = xl_range(first_row, first_col, last_row, last_col)
        if table.get("autofilter"):
            table["autofilter"] = table["a_range"]
    if streaming:
        for c, column in enumerate(options.get("columns", ())):
            ws.write_string(first_row, first_col + c, column["header"], header_format)

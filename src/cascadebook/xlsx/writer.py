"""Writing one Python value into an xlsxwriter cell, the same way in every workbook the tool writes.

Text is always written with ``write_string`` (never parsed as a formula, a number or a URL), and cut
to Excel's cell limit with a visible marker rather than producing a file Excel refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

EXCEL_MAX_CHARS = 32767
EXCEL_MAX_ROWS = 1_048_576


def continued_sheet(name: str, number: int) -> str:
    """The name of a sheet's continuation past Excel's last row: 'Name', 'Name (2)', 'Name (3)', ..."""
    return name if number == 1 else f"{name} ({number})"


def continued_table(name: str, number: int) -> str:
    """The name of the Excel table on that continuation: 'Name', 'Name2', 'Name3', ..."""
    return name if number == 1 else f"{name}{number}"


CUT_MARKER = " … [cut at Excel's 32,767-character cell limit]"


def cut(text: str) -> str:
    if len(text) <= EXCEL_MAX_CHARS:
        return text
    return text[: EXCEL_MAX_CHARS - len(CUT_MARKER)] + CUT_MARKER


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


# Functions whose names xlsxwriter never rewrites (it prefixes newer ones with _xlfn.): a formula
# calling only these is prepared by stripping its '=' (see SafeWorksheet._prepare_formula).
_CLASSIC_FUNCTIONS = frozenset(
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


class SafeWorksheet(Worksheet):
    """A worksheet whose every string -- ``write_string``, ``write_url``'s text, table headers -- is
    shown as typed, whatever it looks like (see :func:`as_rich_literal`)."""

    def _write_string(self, row, col, string, cell_format=None):
        if isinstance(string, str) and string.startswith("<r>") and string.endswith("</r>"):
            string = as_rich_literal(string)
        return super()._write_string(row, col, string, cell_format)

    def _prepare_formula(self, formula, expand_future_functions=False):
        """xlsxwriter runs ~30 regular expressions over every formula to prefix newer functions
        (a fifth of the master's time at 10,000 departments, for its COUNTIFs); a formula that
        calls only classic functions comes out of them unchanged, so it skips them."""
        if not (getattr(self, "use_future_functions", False) or expand_future_functions) and "INGLE(" not in formula:
            body = formula[1:] if formula.startswith("{") else formula
            body = body[1:] if body.startswith("=") else body
            body = body[:-1] if body.endswith("}") else body
            if all(name in _CLASSIC_FUNCTIONS for name in _FUNCTION_CALL.findall(body)):
                return body
        return super()._prepare_formula(formula, expand_future_functions)


class Workbook(xlsxwriter.Workbook):
    """The workbook class for files that hold what departments typed (the master, check-ins)."""

    worksheet_class = SafeWorksheet


def write_value(ws, r: int, c: int, value: Any, fmt=None) -> None:
    """Write ``value`` by its Python type (0-based row and column)."""
    if value is None or value == "":
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(r, c, value, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, fmt)
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt)
    elif isinstance(value, tuple):  # an objective split: (("CO1", 0.6), ("CO3", 0.4))
        ws.write_string(r, c, " / ".join(f"{k} {v:.0%}" for k, v in value), fmt)
    else:
        ws.write_string(r, c, cut(str(value)), fmt)


def write_rows(
    ws,
    first_row: int,
    rows: Iterable[Sequence[Any]],
    formats: Sequence[Any],
    decorate: Callable[[Any, int, int], None] | None = None,
    index_offset: int = 0,
    date_format=None,
) -> int:
    """Write rows of values from ``first_row`` down (0-based); returns the last row written.

    The hot loop of the master (millions of cells at a thousand departments): the common types are
    dispatched inline and empty cells are not written at all, so the cost per cell stays close to
    xlsxwriter's own; anything else goes through :func:`write_value`. ``decorate(ws, row, index)``
    runs after each row's cells, ``index`` being ``index_offset`` + the row. A date in a column
    without a format gets ``date_format`` (a bare date would show as a serial number).
    """
    write_string, write_number = ws.write_string, ws.write_number
    r = first_row - 1
    for r, row in enumerate(rows, first_row):
        for c, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if value:
                    write_string(r, c, value if len(value) <= EXCEL_MAX_CHARS else cut(value), formats[c])
            elif kind is float or kind is int:
                write_number(r, c, value, formats[c])
            elif value is not None:
                fmt = formats[c]
                if fmt is None and isinstance(value, date):
                    fmt = date_format
                write_value(ws, r, c, value, fmt)
        if decorate is not None:
            decorate(ws, r, index_offset + r)
    return r


def forget_row(ws, row: int) -> None:
    """Drop what xlsxwriter keeps of a streamed row once it is on disk.

    ``set_row`` (the outline level of each row of the Goal Hierarchy) stores the row's properties
    for good, although a ``constant_memory`` sheet has written the row out when the next one began;
    kept, they grow with the rows (about 150 bytes each). They are only read again to place images,
    which the master has none of.
    """
    if getattr(ws, "constant_memory", False) and row < ws.previous_row:
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
    """
    from xlsxwriter.utility import xl_range

    streaming = getattr(ws, "constant_memory", False)
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


_NEEDS_CONTROL_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_NEEDS_XML_ESCAPE = re.compile("[&<>]")
_NEEDS_ANY_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff&<>]|_x[0-9a-fA-F]{4}_")
_LETTERS = [xl_col_to_name(c) for c in range(702)]  # A..ZZ, as far as any sheet of the master reaches
# A rendered row's open row number: a NUL is never in rendered text (control characters are escaped).
_ROW_NUMBER = "\x00"
RenderedRow = tuple  # (xml with the row number open, first column, last column (-1, -1: empty), outline level)


def _row_xml(number: str, cells: list[str], level: int) -> str:
    """A row element around its cells; an empty row is written only to keep its outline level."""
    if not cells:
        return f'<row r="{number}" outlineLevel="{level}"/>' if level else ""
    head = f'<row r="{number}" outlineLevel="{level}">' if level else f'<row r="{number}">'
    return head + "".join(cells) + "</row>"


class SheetStream:
    """Rows of a ``constant_memory`` worksheet rendered straight to its row file.

    The master's large sheets are a few million cells at a thousand departments, and xlsxwriter's
    ``write_*`` spend about 5 µs on each (argument checks, a cell tuple, attribute lists, regular
    expressions). This writes the same XML -- byte for byte what xlsxwriter writes for those cells,
    which ``tests/test_xlsx_stream.py`` proves on hostile strings -- with the work per cell cut to
    what the cell needs, into the file xlsxwriter itself streams the sheet's rows to and later
    copies into the package. Two differences, both on purpose: text that looks like rich-string XML
    (``<r>...</r>``) is escaped like any text (xlsxwriter would copy it into the file unescaped, so a
    department could break the master with it), and a number that is not finite is written as its
    text (xlsxwriter refuses it).

    Use it for rows below everything written so far; cells of those rows must not be written
    through ``ws.write_*`` afterwards.
    """

    def __init__(self, ws, first_row: int, date_format=None):
        if not self.supported(ws):
            raise ValueError("SheetStream needs a constant_memory worksheet (Excel 2007 row format)")
        if ws.table or ws.previous_row in ws.row_info:
            ws._write_single_row(first_row)  # the rows xlsxwriter still buffers go first
        ws.previous_row = max(ws.previous_row, first_row)
        self.ws = ws
        self.next_row = first_row
        self.date_format = date_format
        self.col_min = self.col_max = None
        self.first_row = self.last_row = None
        self.level = 0
        self.parts: list[str] = []
        self._styles: dict[int, str] = {}
        self._bodies: dict[str, str] = {}  # text -> its escaped inline-string XML (see _string)

    @staticmethod
    def supported(ws) -> bool:
        return (
            bool(getattr(ws, "constant_memory", False))
            and getattr(ws, "excel_version", 2007) == 2007
            and not getattr(ws, "comments", None)
        )

    def _style(self, fmt, c: int) -> str:
        if fmt is None:
            info = self.ws.col_info.get(c)
            fmt = info.column_format if info is not None else None
            if fmt is None:
                return ""
        key = id(fmt)
        if key not in self._styles:
            index = fmt._get_xf_index()
            self._styles[key] = f' s="{index}"'
        return self._styles[key]

    def row(self, values: Sequence[Any], formats: Sequence[Any], level: int = 0) -> None:
        """Render the next row; empty values are not written (an empty row is skipped)."""
        r = self._next()
        number = str(r + 1)
        cells, first, last = self._cells(values, formats, number)
        xml = _row_xml(number, cells, level)
        if xml:
            self.parts.append(xml)
        if first is not None:
            self._extend(r, first, last, level)

    def render(self, values: Sequence[Any], formats: Sequence[Any], level: int = 0) -> RenderedRow:
        """A row rendered now and :meth:`put` later, wherever it lands (its row number is left open).

        For a sheet whose rows come in another order than they are made: the Goal Hierarchy goes
        objective by objective, the records department by department. Keeping rendered rows costs
        less than keeping their values (dates, numbers, lists) and rendering them when placed.
        The rendering depends on the workbook only (formats, date system), not on this sheet's rows.
        """
        cells, first, last = self._cells(values, formats, _ROW_NUMBER)
        return (
            _row_xml(_ROW_NUMBER, cells, level),
            -1 if first is None else first,
            -1 if last is None else last,
            level,
        )

    def put(self, rendered: RenderedRow) -> None:
        """Place a row made by :meth:`render` (of this or another stream of the workbook) next."""
        r = self._next()
        xml, first, last, level = rendered
        if xml:
            self.parts.append(xml.replace(_ROW_NUMBER, str(r + 1)))
        if first >= 0:
            self._extend(r, first, last, level)

    def _next(self) -> int:
        r = self.next_row
        if r >= EXCEL_MAX_ROWS:
            raise ValueError("row beyond Excel's last row")
        self.next_row += 1
        return r

    def _extend(self, r: int, first: int, last: int, level: int) -> None:
        """Note a written row for the sheet's dimension and outline; flush now and then."""
        if level > self.level:
            self.level = level
        if self.first_row is None:
            self.first_row = r
        self.last_row = r
        self.col_min = first if self.col_min is None else min(self.col_min, first)
        self.col_max = last if self.col_max is None else max(self.col_max, last)
        if len(self.parts) > 4096:
            self.flush()

    def _cells(
        self, values: Sequence[Any], formats: Sequence[Any], number: str
    ) -> tuple[list[str], int | None, int | None]:
        """The XML of a row's non-empty cells, and its first and last column with a value."""
        cells = []
        first = last = None
        for c, value in enumerate(values):
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                cells.append(self._string(value, c, number, formats[c]))
            elif value is None:
                continue
            elif (kind is float or kind is int) and value - value == 0:  # finite
                cells.append(f'<c r="{_LETTERS[c]}{number}"{self._style(formats[c], c)}><v>{value:.16G}</v></c>')
            elif kind is bool:
                cells.append(f'<c r="{_LETTERS[c]}{number}"{self._style(formats[c], c)} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, date):
                stamp = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
                fmt = formats[c] if formats[c] is not None else self.date_format
                serial = self.ws._convert_date_time(stamp)
                cells.append(f'<c r="{_LETTERS[c]}{number}"{self._style(fmt, c)}><v>{serial:.16G}</v></c>')
            elif isinstance(value, tuple):
                cells.append(self._string(" / ".join(f"{k} {v:.0%}" for k, v in value), c, number, formats[c]))
            else:
                cells.append(self._string(str(value), c, number, formats[c]))
            if first is None:
                first = c
            last = c
        return cells, first, last

    def _string(self, text: str, c: int, number: str, fmt) -> str:
        body = self._bodies.get(text)
        if body is None:
            body = self._body(text)
            if len(text) <= 64:  # codes, owners, units, periods, levels: the values that repeat
                if len(self._bodies) >= 50_000:
                    self._bodies.clear()
                self._bodies[text] = body
        return f'<c r="{_LETTERS[c]}{number}"{self._style(fmt, c)}{body}'

    def _body(self, text: str) -> str:
        """What follows a text cell's style: the inline string, escaped as xlsxwriter escapes it."""
        if len(text) > EXCEL_MAX_CHARS:
            text = cut(text)
        if _NEEDS_ANY_ESCAPE.search(text):  # one scan for the common case: nothing to escape
            if _NEEDS_CONTROL_ESCAPE.search(text):
                text = self.ws._escape_control_characters(text)
            if _NEEDS_XML_ESCAPE.search(text):
                text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        # (after escaping, as xlsxwriter decides it; &, < and > are not whitespace)
        preserve = ' xml:space="preserve"' if text and (text[0].isspace() or text[-1].isspace()) else ""
        return f' t="inlineStr"><is><t{preserve}>{text}</t></is></c>'

    def flush(self) -> None:
        if self.parts:
            self.ws.fh.write("".join(self.parts))
            self.parts.clear()

    def close(self) -> None:
        """Write what is buffered and tell the worksheet how far its data now reaches."""
        self.flush()
        ws = self.ws
        ws.previous_row = max(ws.previous_row, self.next_row)
        if self.last_row is not None:
            ws.dim_rowmin = self.first_row if ws.dim_rowmin is None else min(ws.dim_rowmin, self.first_row)
            ws.dim_rowmax = self.last_row if ws.dim_rowmax is None else max(ws.dim_rowmax, self.last_row)
            ws.dim_colmin = self.col_min if ws.dim_colmin is None else min(ws.dim_colmin, self.col_min)
            ws.dim_colmax = self.col_max if ws.dim_colmax is None else max(ws.dim_colmax, self.col_max)
        ws.outline_row_level = max(ws.outline_row_level, self.level)

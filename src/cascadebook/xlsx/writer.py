"""Writing one Python value into an xlsxwriter cell, the same way in every workbook the tool writes.

Text is always written with ``write_string`` (never parsed as a formula, a number or a URL), and cut
to Excel's cell limit with a visible marker rather than producing a file Excel refuses. The rest of
the package writes workbooks through xlsxwriter's public API and this module; what needs xlsxwriter's
internals (the streamed rows of :class:`SheetStream`, the worksheet classes, tables on streaming
sheets) calls the named functions of :mod:`cascadebook.xlsx.internals`, and nothing else does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from cascadebook.xlsx.internals import (
    PlainFormulaWorksheet,
    SafeWorkbook,
    SafeWorksheet,
    add_table,
    as_rich_literal,
    begin_rows,
    can_stream_rows,
    column_format,
    control_escape,
    date_serial,
    end_rows,
    forget_row,
    number_styles,
    style_index,
)
from cascadebook.xlsx.limits import (
    CUT_MARKER,
    EXCEL_MAX_CHARS,
    EXCEL_MAX_ROWS,
    continued_sheet,
    continued_table,
    cut,
)

__all__ = [
    "BLANK",
    "CUT_MARKER",
    "EXCEL_MAX_CHARS",
    "EXCEL_MAX_ROWS",
    "Formula",
    "PlainFormulaWorksheet",
    "RenderedRow",
    "SafeWorksheet",
    "SheetStream",
    "Workbook",
    "add_table",
    "as_rich_literal",
    "continued_sheet",
    "continued_table",
    "cut",
    "forget_row",
    "number_styles",
    "write_rows",
    "write_value",
]

Workbook = SafeWorkbook  # for files that hold what departments typed (the master, check-ins)


class _Blank:
    """The value of a cell written empty but with its format (an input cell's fill and unlocking);
    ``None`` and ``""`` are not written at all."""

    def __repr__(self) -> str:
        return "BLANK"


BLANK: Any = _Blank()


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula cell among a table's values: ``text`` without its '=', and ``value``, the result cached
    with it (what viewers that do not recalculate show). Streamed rows write the formula as given, so
    it must call only functions Excel 2007 has (no ``_xlfn.`` prefix is added)."""

    text: str
    value: Any = 0


def write_value(ws, r: int, c: int, value: Any, fmt=None) -> None:
    """Write ``value`` by its Python type (0-based row and column)."""
    if value is None or value is BLANK or value == "":
        ws.write_blank(r, c, None, fmt)
    elif type(value) is Formula:
        ws.write_formula(r, c, "=" + value.text, fmt, value.value)
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


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_NEEDS_CONTROL_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_NEEDS_XML_ESCAPE = re.compile("[&<>]")
_NEEDS_ANY_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff&<>]|_x[0-9a-fA-F]{4}_")
_LETTERS = [xl_col_to_name(c) for c in range(702)]  # A..ZZ, as far as any sheet of the master reaches
# A rendered row's open row number: a NUL is never in rendered text (control characters are escaped).
_ROW_NUMBER = "\x00"
RenderedRow = tuple  # (xml with the row number open, first column, last column (-1, -1: empty), outline level)


def whole_pixels(points: float) -> float:
    """A row height (points) on Excel's pixel grid, as xlsxwriter's ``set_row`` stores it: a stream's
    row and a row written cell by cell get the same ``ht``."""
    return int(points * 4.0 / 3.0 + 0.5) * 0.75


def _row_xml(number: str, cells: list[str], level: int, height: float | None = None) -> str:
    """A row element around its cells; an empty row is written only to keep its outline level.
    ``height`` (points) is a row's own height, for wrapped text (xlsxwriter's attributes and order)."""
    tall = f' ht="{height:.16g}" customHeight="1"' if height else ""
    if not cells:
        return f'<row r="{number}"{tall} outlineLevel="{level}"/>' if level else ""
    head = f'<row r="{number}"{tall} outlineLevel="{level}">' if level else f'<row r="{number}"{tall}>'
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
        self.ws = ws
        self.file = begin_rows(ws, first_row)  # the rows xlsxwriter still buffers go first
        self._serial = date_serial(ws)
        self._escape = control_escape(ws)
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
        """Whether the stream can write ``ws``'s rows: a constant_memory sheet, Excel 2007 rows, no comments."""
        return can_stream_rows(ws)

    def _style(self, fmt, c: int) -> str:
        if fmt is None:
            fmt = column_format(self.ws, c)
            if fmt is None:
                return ""
        key = id(fmt)
        if key not in self._styles:
            self._styles[key] = f' s="{style_index(fmt)}"'
        return self._styles[key]

    def row(self, values: Sequence[Any], formats: Sequence[Any], level: int = 0, height: float | None = None) -> None:
        """Render the next row; empty values are not written (an empty row is skipped). ``height``:
        the row's height in points (for wrapped text), or the sheet's default."""
        r = self._next()
        number = str(r + 1)
        cells, first, last = self._cells(values, formats, number)
        xml = _row_xml(number, cells, level, height)
        if xml:
            self.parts.append(xml)
        if first is not None:
            self._extend(r, first, last, level)

    def render(
        self, values: Sequence[Any], formats: Sequence[Any], level: int = 0, height: float | None = None
    ) -> RenderedRow:
        """A row rendered now and :meth:`put` later, wherever it lands (its row number is left open).

        For a sheet whose rows come in another order than they are made: the Goal Hierarchy goes
        objective by objective, the records department by department. Keeping rendered rows costs
        less than keeping their values (dates, numbers, lists) and rendering them when placed.
        The rendering depends on the workbook only (formats, date system), not on this sheet's rows.
        """
        cells, first, last = self._cells(values, formats, _ROW_NUMBER)
        return (
            _row_xml(_ROW_NUMBER, cells, level, height),
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
        self.level = max(self.level, level)
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
            elif kind is Formula:
                cells.append(self._formula(value, c, number, formats[c]))
            elif isinstance(value, date):
                stamp = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
                fmt = formats[c] if formats[c] is not None else self.date_format
                serial = self._serial(stamp)
                cells.append(f'<c r="{_LETTERS[c]}{number}"{self._style(fmt, c)}><v>{serial:.16G}</v></c>')
            elif isinstance(value, tuple):
                cells.append(self._string(" / ".join(f"{k} {v:.0%}" for k, v in value), c, number, formats[c]))
            elif value is BLANK:
                style = self._style(formats[c], c)
                if not style:
                    continue
                cells.append(f'<c r="{_LETTERS[c]}{number}"{style}/>')
            else:
                cells.append(self._string(str(value), c, number, formats[c]))
            if first is None:
                first = c
            last = c
        return cells, first, last

    def _formula(self, formula: Formula, c: int, number: str, fmt) -> str:
        """A formula cell and its cached result, as xlsxwriter's ``write_formula`` writes them."""
        value = formula.value
        kind = ""
        if isinstance(value, bool):
            kind, cached = ' t="b"', str(int(value))
        elif isinstance(value, (int, float)):
            cached = str(value)  # as xlsxwriter's write_formula caches it
        else:
            cached = _xml_text(str(value if value is not None else ""))
            kind = ' t="str"' if cached else ""
        return f'<c r="{_LETTERS[c]}{number}"{self._style(fmt, c)}{kind}><f>{_xml_text(formula.text)}</f><v>{cached}</v></c>'

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
                text = self._escape(text)
            if _NEEDS_XML_ESCAPE.search(text):
                text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        # (after escaping, as xlsxwriter decides it; &, < and > are not whitespace)
        preserve = ' xml:space="preserve"' if text and (text[0].isspace() or text[-1].isspace()) else ""
        return f' t="inlineStr"><is><t{preserve}>{text}</t></is></c>'

    def flush(self) -> None:
        if self.parts:
            self.file.write("".join(self.parts))
            self.parts.clear()

    def close(self) -> None:
        """Write what is buffered and tell the worksheet how far its data now reaches."""
        self.flush()
        written = self.last_row is not None
        end_rows(
            self.ws,
            self.next_row,
            (self.first_row, self.last_row) if written else None,
            (self.col_min, self.col_max) if written else None,
            self.level,
        )

"""Writing one Python value into an xlsxwriter cell, the same way in every workbook the tool writes.

Text is always written with ``write_string`` (never parsed as a formula, a number or a URL), and cut
to Excel's cell limit with a visible marker rather than producing a file Excel refuses.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, Iterable, Sequence

EXCEL_MAX_CHARS = 32767
CUT_MARKER = " … [cut at Excel's 32,767-character cell limit]"


def cut(text: str) -> str:
    if len(text) <= EXCEL_MAX_CHARS:
        return text
    return text[: EXCEL_MAX_CHARS - len(CUT_MARKER)] + CUT_MARKER


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


def write_rows(ws, first_row: int, rows: Iterable[Sequence[Any]], formats: Sequence[Any],
               decorate: Callable[[Any, int, int], None] | None = None, index_offset: int = 0,
               date_format=None) -> int:
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


def add_table(ws, first_row: int, first_col: int, last_row: int, last_col: int, options: dict,
              header_format=None) -> None:
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
    simple = not options.get("total_row") and "data" not in options and not any(
        c.get("formula") for c in options.get("columns", ()))
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

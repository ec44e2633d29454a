"""Writing one Python value into an xlsxwriter cell, the same way in every workbook the tool writes.

Text is always written with ``write_string`` (never parsed as a formula, a number or a URL), and cut
to Excel's cell limit with a visible marker rather than producing a file Excel refuses.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

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


def add_table(ws, first_row: int, first_col: int, last_row: int, last_col: int, options: dict,
              header_format=None) -> None:
    """``worksheet.add_table`` that also works on a ``constant_memory`` (streaming) workbook.

    xlsxwriter refuses tables in that mode only because ``add_table`` writes the header cells out of
    row order. Called before any cell of the sheet is written, the table part is added with the
    mode switched off for that one call, and the header row is then written again as ordinary
    streamed cells (the table part itself only needs its range and column names).
    """
    streaming = getattr(ws, "constant_memory", False)
    if streaming:
        ws.constant_memory = False
    try:
        ws.add_table(first_row, first_col, last_row, last_col, options)
    finally:
        if streaming:
            ws.constant_memory = True
    if streaming:
        for c, column in enumerate(options.get("columns", ())):
            ws.write_string(first_row, first_col + c, column["header"], header_format)

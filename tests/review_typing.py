"""Finance typing into a saved master with openpyxl, as a person would in Excel: the row found by its
initiative id, the column by its header (both asked of the spec), the cells set, the file saved. Shared
by the review tests (carry-over, rules, the decisions command, the next round)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from cascadebook import load_spec
from cascadebook.spec.roles import ID, INITIATIVES

_SHEET = load_spec().require_sheet(INITIATIVES)


def type_into_master(path: Path, decisions: dict[str, dict[str, object]]) -> None:
    """``decisions``: initiative id -> master header -> value (None clears the cell, as Delete does)."""
    book = openpyxl.load_workbook(path)
    ws = book[_SHEET.title]
    header = {c.value: c.column for c in ws[1]}
    rows = {ws.cell(r, header[_SHEET.header_of(ID)]).value: r for r in range(2, ws.max_row + 1)}
    for ident, cells in decisions.items():
        for name, value in cells.items():
            ws.cell(rows[ident], header[name]).value = value
    book.save(path)

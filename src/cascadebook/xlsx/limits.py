"""Excel's limits, and how the tool stays inside them: cut text, continued sheets and tables."""

from __future__ import annotations

EXCEL_MAX_CHARS = 32767
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
CUT_MARKER = " … [cut at Excel's 32,767-character cell limit]"


def cut(text: str) -> str:
    """Text within Excel's cell limit, with a visible marker where it was cut (Excel refuses more)."""
    if len(text) <= EXCEL_MAX_CHARS:
        return text
    return text[: EXCEL_MAX_CHARS - len(CUT_MARKER)] + CUT_MARKER


def continued_sheet(name: str, number: int) -> str:
    """The name of a sheet's continuation past Excel's last row: 'Name', 'Name (2)', 'Name (3)', ..."""
    return name if number == 1 else f"{name} ({number})"


def continued_table(name: str, number: int) -> str:
    """The name of the Excel table on that continuation: 'Name', 'Name2', 'Name3', ..."""
    return name if number == 1 else f"{name}{number}"

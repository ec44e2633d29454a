"""The look every workbook cascadebook writes shares: fills, number formats, protection, and the
header, title and intro formats (xlsxwriter format properties), so a template, a check-in and the
master read as one family and a change of colour is made once."""

from __future__ import annotations

from typing import Any

INPUT_FILL = "#FFF2CC"
PREFILLED_FILL = "#E7E6E6"
# the live checks' colours: a row with a problem, a row ready to send (and an approved decision shown)
PROBLEM_FILL, PROBLEM_FONT = "#FFC7CE", "#9C0006"
READY_FILL, READY_FONT = "#C6EFCE", "#006100"
HEADER_FILL = "#1F3864"

NUMBER_FORMATS = {
    "number": "General",
    "integer": "0",
    "percent": "0.0%",
    "currency": "#,##0",
    "date": "yyyy-mm-dd",
}
PROTECT_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_columns": True,
    "format_rows": True,
    "insert_rows": True,
    "delete_rows": True,
    "sort": True,
    "autofilter": True,
}

# The master: protected against accidental edits only (no password), with finance still free to sort,
# filter, resize and select; only its review inputs (the decisions) are unlocked.
MASTER_PROTECT_OPTIONS = {
    "select_locked_cells": True,
    "select_unlocked_cells": True,
    "format_columns": True,
    "format_rows": True,
    "sort": True,
    "autofilter": True,
}


def header_format() -> dict[str, Any]:
    """A table's header row: white bold text on the dark fill, wrapped, with a border."""
    return {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": HEADER_FILL,
        "text_wrap": True,
        "valign": "vcenter",
        "border": 1,
    }


def title_format(size: int) -> dict[str, Any]:
    """A sheet's title (and the master's subtitles) in the header colour."""
    return {"bold": True, "font_size": size, "font_color": HEADER_FILL}


def intro_format() -> dict[str, Any]:
    """The grey italic, wrapped text that explains a sheet."""
    return {"italic": True, "font_color": "#404040", "text_wrap": True, "valign": "top"}

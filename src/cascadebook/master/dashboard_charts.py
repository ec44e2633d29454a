"""The Dashboard's page grid, colours and native charts (xlsxwriter), apart from the sheet's cells.

Why apart: the charts are built from where master/dashboard.py puts its tiles and helper tables, so
the grid they share lives here with them; dashboard.py writes the cells and anchors these charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cascadebook.master.summary import SUBMISSION_CODE, SUMMARY_SHEET

DASHBOARD_SHEET = "Dashboard"
COLUMNS = 12  # the page's grid: tiles of three columns, charts of four or six
COLUMN_WIDTH = 11.5  # 85 pixels
CHART_ROW = 6  # 0-based row of the first row of charts
CHART_ROWS = (14, 13)  # rows each row of charts takes (20 pixels a row)
TABLE_ROW = CHART_ROW + sum(CHART_ROWS) + 1  # the helper tables' title

SHORT, COVERED, SURPLUS, GAP = "#F4B183", "#A9D08E", "#5B9BD5", "#F8CBAD"
TARGET, CAP, INK, TILE = "#C00000", "#C00000", "#1F3864", "#D9E1F2"

# The objectives' helper table (0-based columns): id, initiatives, committed %, status, then the
# committed % once more in the column of its status (one series each), the target, and the gap band.
O_ID, O_INITIATIVES, O_RATIO, O_STATUS, O_SHORT, O_COVERED, O_SURPLUS, O_TARGET, O_GAP = range(9)
STATE_HEADERS = ("Short", "Covered", "Surplus")  # the status columns' headers (and their series' names)
STATE_COLUMNS = ((O_SHORT, "short"), (O_COVERED, "covered"), (O_SURPLUS, "surplus"))  # column, status
R_LABEL, R_COUNT = 9, 11  # the returns' helper table: state (two columns merged), departments


@dataclass(frozen=True)
class ReturnState:
    """A row of the returns' table: its label, its formula over the Summary's Submissions table, the
    departments it counts (computed here), and its colour in the chart."""

    label: str
    formula: str
    count: int
    colour: str


def _axis_font(size: int = 8) -> dict:
    return {"num_font": {"size": size}}


def _title(text: str) -> dict:
    return {"name": text, "name_font": {"size": 11, "bold": True, "color": INK}, "overlay": False}


def _labels(number: str) -> dict:
    return {"value": True, "num_format": number, "font": {"size": 8}}


def _series(sheet: str, first: int, col: int, last: int, data: Sequence[Any]) -> dict:
    """A series' values over cells ``first``..``last`` of column ``col``, with the values they hold.

    A streamed (constant_memory) sheet cannot give xlsxwriter its cells back for the chart's cache,
    so the series is handed them (add_series' ``values_data``): a viewer that draws from the cache
    without recalculating shows the same bars, and a column of text is cached as text (the categories).
    """
    return {"values": [sheet, first, col, last, col], "values_data": list(data)}


def _categories(sheet: str, first: int, col: int, last: int, data: Sequence[Any]) -> dict:
    return {"categories": [sheet, first, col, last, col], "categories_data": [str(v) for v in data]}


def _commitments_chart(book, first: int, last: int, data: dict[int, list]):
    """Committed % of each objective's target change, a bar per objective coloured by its status,
    against a line at 100% (the target)."""
    chart = book.add_chart({"type": "column"})
    categories = _categories(DASHBOARD_SHEET, first, O_ID, last, data[O_ID])
    for (col, _), colour in zip(STATE_COLUMNS, (SHORT, COVERED, SURPLUS)):
        chart.add_series(
            {
                "name": [DASHBOARD_SHEET, first - 1, col],
                "name_data": [STATE_HEADERS[col - O_SHORT]],
                **categories,
                **_series(DASHBOARD_SHEET, first, col, last, data[col]),
                "fill": {"color": colour},
                "border": {"color": "#7F7F7F", "width": 0.5},
                "data_labels": {**_labels("0%;-0%;;"), "position": "inside_end"},  # clear of the target line
                "overlap": 100,
                "gap": 60,
            }
        )
    target = book.add_chart({"type": "line"})
    target.add_series(
        {
            "name": "Target (100%)",
            **categories,
            **_series(DASHBOARD_SHEET, first, O_TARGET, last, data[O_TARGET]),
            "line": {"color": TARGET, "width": 2, "dash_type": "dash"},
            "marker": {"type": "none"},
        }
    )
    chart.combine(target)
    chart.set_title(_title("Commitments against each objective's target"))
    chart.set_y_axis({"num_format": "0%", "major_gridlines": _GRID, **_axis_font()})
    chart.set_x_axis(_axis_font())
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": 505, "height": CHART_ROWS[0] * 20 - 8})
    return chart


def _coverage_chart(book, first: int, last: int, data: dict[int, list], headers: Sequence[str]):
    """Initiatives per objective; an objective nobody serves gets a full-width red band saying so."""
    chart = book.add_chart({"type": "bar"})
    categories = _categories(DASHBOARD_SHEET, first, O_ID, last, data[O_ID])
    chart.add_series(
        {
            "name": [DASHBOARD_SHEET, first - 1, O_INITIATIVES],  # the initiatives' header (the spec's word)
            "name_data": [headers[O_INITIATIVES]],
            **categories,
            **_series(DASHBOARD_SHEET, first, O_INITIATIVES, last, data[O_INITIATIVES]),
            "fill": {"color": SURPLUS},
            "data_labels": _labels("0;-0;;"),
            "overlap": 100,
            "gap": 50,
        }
    )
    chart.add_series(
        {
            "name": "Gap: nobody serves it",
            **categories,
            **_series(DASHBOARD_SHEET, first, O_GAP, last, data[O_GAP]),
            "fill": {"color": GAP},
            "border": {"color": TARGET},
            "data_labels": {
                **_labels('"gap: no initiative";;;'),
                "position": "inside_base",
                "font": {"size": 8, "bold": True, "color": TARGET},
            },
        }
    )
    chart.set_title(_title("Coverage: initiatives per objective"))
    chart.set_x_axis({"min": 0, "num_format": "0", "major_gridlines": _GRID, **_axis_font()})
    chart.set_y_axis({"reverse": True, **_axis_font()})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": 505, "height": CHART_ROWS[0] * 20 - 8})
    return chart


def _department_chart(
    book,
    title: str,
    rows: tuple[int, int],
    cols: tuple[int, int, int],
    data: tuple[list, list, list, list],
    number: str,
):
    """Two columns per department (the Summary's Submissions table), requested and approved by finance,
    with its cap marked where it has one."""
    (first, last), (value_col, approved_col, cap_col), (codes, values, approved, caps) = rows, cols, data
    chart = book.add_chart({"type": "column"})
    categories = _categories(SUMMARY_SHEET, first, SUBMISSION_CODE, last, codes)
    chart.add_series(
        {
            "name": "Requested",
            **categories,
            **_series(SUMMARY_SHEET, first, value_col, last, values),
            "fill": {"color": SURPLUS},
            "gap": 60,
        }
    )
    chart.add_series(
        {
            "name": "Approved",
            **categories,
            **_series(SUMMARY_SHEET, first, approved_col, last, approved),
            "fill": {"color": COVERED},
            "gap": 60,
        }
    )
    cap = book.add_chart({"type": "line"})
    cap.add_series(
        {
            "name": "Cap",
            **categories,
            **_series(SUMMARY_SHEET, first, cap_col, last, caps),
            "line": {"none": True},
            "marker": {"type": "diamond", "size": 8, "fill": {"color": CAP}, "border": {"color": CAP}},
        }
    )
    chart.combine(cap)
    chart.set_title(_title(title))
    chart.set_y_axis({"num_format": number, "min": 0, "major_gridlines": _GRID, **_axis_font()})
    chart.set_x_axis(_axis_font())
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": 336, "height": CHART_ROWS[1] * 20 - 8})
    chart.show_blanks_as("gap")
    return chart


def _returns_chart(book, first: int, states: Sequence[ReturnState]):
    """The departments by the state of their return, one coloured bar per state."""
    last = first + len(states) - 1
    chart = book.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": "Departments",
            **_categories(DASHBOARD_SHEET, first, R_LABEL, last, [s.label for s in states]),
            **_series(DASHBOARD_SHEET, first, R_COUNT, last, [s.count for s in states]),
            "points": [{"fill": {"color": s.colour}} for s in states],
            "data_labels": _labels("0"),
            "gap": 40,
        }
    )
    chart.set_title(_title("Returns"))
    chart.set_x_axis({"min": 0, "num_format": "0", "major_unit": 1, "major_gridlines": _GRID, **_axis_font()})
    chart.set_y_axis({"reverse": True, **_axis_font()})
    chart.set_legend({"none": True})
    chart.set_size({"width": 336, "height": CHART_ROWS[1] * 20 - 8})
    return chart


_GRID = {"visible": True, "line": {"color": "#E7E6E6"}}

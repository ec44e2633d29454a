"""The Dashboard's level block (issue 20): per level of the org tree, returns and budget, and the budget of
each level-1 unit with every unit below it, as a chart.

Written only when some unit reports to another, below the note that ends a flat Dashboard (whose page and
cells stay as they were); every figure refers to the Summary's "By level" and "By unit"
(master/rollup_levels.py), cached with the value computed there.
"""

from __future__ import annotations

from typing import Any

from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import MasterWriter, write_formula
from cascadebook.master.dashboard_charts import (
    CHART_ROWS,
    COLUMNS,
    COVERED,
    DASHBOARD_SHEET,
    SURPLUS,
    _axis_font,
    _categories,
    _series,
    _title,
)
from cascadebook.master.review_figures import ReviewFigures
from cascadebook.master.rollup_levels import Places, level_headers, totals
from cascadebook.master.rollups import OWN, by_unit_columns
from cascadebook.master.summary import SUMMARY_SHEET
from cascadebook.org import OrgTree
from cascadebook.xlsx.addresses import column_letter, quote_sheet

MAX_LEVEL_TILES = 6  # tiles of two columns across the page; deeper levels are in the Summary's "By level"


def write_dashboard_levels(w: MasterWriter, ws: Any, f: Any, result: Reconciliation, tree: OrgTree, top: int,
                           figures: ReviewFigures, first_submission_row: int) -> int:  # fmt: skip
    """The Dashboard's level block from row ``top`` (0-based), below what a flat Dashboard has: per level,
    a tile "returned N of M" and a tile of the budget requested, then the budget by level-1 unit (with
    every unit below it), requested and approved, as a chart over a small table beside it. Every figure
    refers to the Summary's "By level" and "By unit" (``first_submission_row``: the Submissions table's
    last 1-based row, where the roll-ups start below). ``f``: the Dashboard's formats. Returns the
    block's last row."""
    places = Places.of(tree, first_submission_row + 2)
    summary = quote_sheet(SUMMARY_SHEET)
    headers = level_headers(result)
    returned, budget, approved = (OWN.index(k) for k in ("return_status", "submitted_budget", "approved_budget"))
    shown = list(range(1, min(tree.depth, MAX_LEVEL_TILES) + 1))
    span = COLUMNS // len(shown)
    ws.write_string(top, 0, "By level", w.subtitle)
    if tree.depth > MAX_LEVEL_TILES:
        ws.write_string(top, 3, f"levels 1 to {MAX_LEVEL_TILES} of {tree.depth}: all in the Summary's By level", f.note)
    for t, (k, fmt, label) in enumerate(
        ((returned, f.tile, "returned"), (budget, f.tile_money, f"{headers[2 + budget].lower()} requested"))
    ):
        r = top + 1 + 2 * t
        ws.set_row(r, 40)
        for i, level in enumerate(shown):
            units = [c for c in tree.order() if tree.level(c) == level]
            values = totals(result, figures, units)
            row = places.level_row(level) + 1
            cell = f"{summary}!${column_letter(2 + k + 1)}${row}"
            ws.merge_range(r, span * i, r, span * i + span - 1, "", fmt)
            if k == returned:
                write_formula(
                    ws, r, span * i, f'{cell}&" of "&{summary}!$B${row}', f"{values[k]:g} of {len(units)}", fmt
                )
            else:
                write_formula(ws, r, span * i, cell, values[k], fmt)
        for i, level in enumerate(shown):
            ws.merge_range(r + 1, span * i, r + 1, span * i + span - 1, f"Level {level} {label}", f.tile_label)
    # the level-1 units (divisions) with every unit below them: a table the chart draws from
    table = top + 6
    rolled, _ = by_unit_columns(result)
    names = ["Level-1 unit", headers[2 + budget], headers[2 + approved]]
    for c, h in enumerate(names, COLUMNS - 3):
        ws.write_string(table, c, h, f.header)
    data: list[list[Any]] = [[], [], []]
    money = w.book.add_format({"font_size": 9, "border": 1, "border_color": "#BFBFBF", "num_format": w.money_format})
    for i, code in enumerate(tree.roots):
        r = table + 1 + i
        row = places.unit_rows[code] + 1
        values = totals(result, figures, (code, *tree.descendants(code)))
        write_formula(ws, r, COLUMNS - 3, f"{summary}!$A${row}", code, f.cell)
        for c, k in ((COLUMNS - 2, budget), (COLUMNS - 1, approved)):
            write_formula(ws, r, c, f"{summary}!${column_letter(rolled + k + 1)}${row}", values[k], money)
        for col, v in zip(data, (code, values[budget], values[approved])):
            col.append(v)
    first, last = table + 1, table + len(tree.roots)
    chart = w.book.add_chart({"type": "bar"})
    categories = _categories(DASHBOARD_SHEET, first, COLUMNS - 3, last, data[0])
    for name, c, values, colour in (
        ("Requested", COLUMNS - 2, data[1], SURPLUS),
        ("Approved", COLUMNS - 1, data[2], COVERED),
    ):
        chart.add_series(
            {"name": name, **categories, **_series(DASHBOARD_SHEET, first, c, last, values), "fill": {"color": colour},
             "gap": 60}
        )  # fmt: skip
    chart.set_title(_title(f"{headers[2 + budget]} by level-1 unit, with every unit below it"))
    chart.set_x_axis({"min": 0, "num_format": w.money_format, **_axis_font()})
    chart.set_y_axis({"reverse": True, **_axis_font()})
    chart.set_legend({"position": "bottom", "font": {"size": 8}})
    chart.set_size({"width": 85 * (COLUMNS - 3) - 12, "height": CHART_ROWS[1] * 20 - 8})
    ws.insert_chart(table, 0, chart, {"x_offset": 2, "y_offset": 4})
    return max(table + CHART_ROWS[1], last)

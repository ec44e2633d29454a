"""Roll-ups per level of the org tree (issue 20): the Summary's "By level" and the Dashboard's level block.

Written only when some unit reports to another (``OrgTree.nested``), below what a flat master has, so a
flat master stays as it was. "By level" sums the Summary's "By unit" table's own ("unit only") columns
by its Level column (SUMIF), so it follows every edit the unit figures follow; the Dashboard's block
refers to "By level" and to the level-1 units' rows of "By unit". Every figure is cached with the value
computed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cascadebook.consolidate.commitments import RATIO_TOLERANCE
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import MasterWriter, write_formula
from cascadebook.master.review_figures import ReviewFigures
from cascadebook.master.rollups import (
    OWN,
    SUMMARY_WIDTH,
    ByUnitSource,
    _day,
    _progress,
    _served,
    by_unit_columns,
    by_unit_headers,
    group_progress,
    grouped_lines,
    own_figure,
    progress_items,
    write_by_unit,
)
from cascadebook.org import OrgTree
from cascadebook.spec.roles import INITIATIVES
from cascadebook.xlsx.addresses import column_letter
from cascadebook.xlsx.layout import header_height


@dataclass(frozen=True)
class Places:
    """Where the Summary's level roll-ups are (0-based rows): "By level"'s title, "By unit"'s title and
    its first unit's row, and each unit's row there by code."""

    by_level: int
    by_unit: int
    depth: int
    unit_rows: dict[str, int]

    def level_row(self, level: int) -> int:
        """The 0-based row of ``level`` (1 = reports to the company) in "By level"."""
        return self.by_level + 1 + level

    @classmethod
    def of(cls, tree: OrgTree, top: int) -> Places:
        """``top``: the 0-based row the roll-ups start at (two rows below the Submissions table)."""
        by_unit = top + tree.depth + 4
        lines = grouped_lines(tree, subtotals=False)
        return cls(top, by_unit, tree.depth, {line.code: by_unit + 2 + i for i, line in enumerate(lines)})


def level_headers(result: Reconciliation) -> list[str]:
    return ["Level", "Units", *by_unit_headers(result)]


def write_levels(
    w: MasterWriter,
    ws: Any,
    result: Reconciliation,
    tree: OrgTree,
    top: int,
    source: ByUnitSource,
    figures: ReviewFigures,
) -> int:
    """ "By level" (units, returned, late, with errors, initiatives, budget requested and approved,
    headcount per level), then "By unit"; returns the last row written."""
    places = Places.of(tree, top)
    by_unit_first = places.by_unit + 2  # 0-based
    by_unit_last = by_unit_first + len(tree.units) - 1
    _, own = by_unit_columns(result)

    def column(c: int) -> str:
        letter = column_letter(c + 1)
        return f"${letter}${by_unit_first + 1}:${letter}${by_unit_last + 1}"

    money = {OWN.index("submitted_budget"), OWN.index("approved_budget")}
    ws.write_string(top, 0, "By level", w.subtitle)
    w.header_row(ws, top + 1, level_headers(result))
    levels = column(2)
    extra_headers, extras = _level_extras(result, tree, places.depth)
    ws.set_row(top + 1, header_height([(h, SUMMARY_WIDTH) for h in [*level_headers(result), *extra_headers]]))
    right_aligned = w.book.add_format({"align": "right"})  # "1 of 3" under its header, beside the numbers
    right = 2 + len(OWN)  # past the summed figures (rows are written in order: the master streams them)
    for k, header in enumerate(extra_headers):
        ws.write_string(top + 1, right + k, header, w.header)
    for level in range(1, places.depth + 1):
        r = places.level_row(level)
        units = [c for c in tree.order() if tree.level(c) == level]
        ws.write_number(r, 0, level)
        write_formula(ws, r, 1, f"COUNTIF({levels},$A{r + 1})", len(units))
        values = totals(result, figures, units)
        for k, value in enumerate(values):
            fmt = w.money if k in money else None
            write_formula(ws, r, 2 + k, f"SUMIF({levels},$A{r + 1},{column(own + k)})", value, fmt)
        for k, value in enumerate(extras[level]):
            is_progress = extra_headers[k].startswith("Progress")
            w.value(ws, r, right + k, value, w.percent if is_progress else right_aligned)
    ws.write_string(
        places.level_row(places.depth) + 1,
        0,
        "Level 1 reports to the company, level 2 to a level-1 unit, and so on; each unit counted once, at its level.",
    )
    return write_by_unit(w, ws, result, tree, places.by_unit, source, figures)


def _level_extras(result: Reconciliation, tree: OrgTree, depth: int) -> tuple[list[str], dict[int, list[Any]]]:
    """What "By level" shows right of the summed figures (values, as "By unit"'s coverage and progress): how
    many corporate objectives the level's units serve, with check-ins their latest progress, and in a cascade
    how many of the level's parent initiatives their children commit in full. Headers, and values by level."""
    served = _served(result)
    items = progress_items(result)
    found = _progress(result)
    cascade = result.cascade
    headers = [
        "Objectives covered",
        *([f"Progress ({found[0]})"] if found else []),
        *(["Parent initiatives committed in full"] if cascade is not None else []),
    ]
    values: dict[int, list[Any]] = {}
    for level in range(1, depth + 1):
        units = tuple(u for u in tree.order() if tree.level(u) == level)
        row: list[Any] = [len(set().union(*(served.get(u, set()) for u in units)))]
        if found:
            row.append(group_progress(items, units))
        if cascade is not None:
            mine = [p.ratio for p in cascade.commitments if p.level == level and p.ratio is not None]
            full = sum(1 for ratio in mine if ratio >= 1 - RATIO_TOLERANCE)
            row.append(f"{full} of {len(mine)}" if mine else "")
        values[level] = row
    return headers, values


def totals(result: Reconciliation, figures: ReviewFigures, codes: list[str] | tuple[str, ...]) -> list[float]:
    """The own figures (OWN's order) summed over ``codes``, as the sheet's SUMs compute them."""
    counts = result.department_counts()
    deadline, day = result.strategy.response_deadline, _day(result.generated_at)
    past = bool(deadline is not None and day is not None and day > deadline)
    inits_key = result.spec.require_sheet(INITIATIVES).key
    return [sum(own_figure(counts[c], figures, c, k, past, inits_key) for c in codes) for k in range(len(OWN))]

"""Roll-ups along the org tree (issue 20): the Alignment Matrix's subtotals and the Summary's "By unit".

Written only when some unit reports to another (``OrgTree.nested``): a flat strategy's master stays
as it was, byte for byte. Every figure is a live formula over the rows or the table it rolls up, with
its value cached for viewers that do not recalculate; rows carry Excel outline levels so a parent's
group collapses to the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import MasterWriter, write_formula
from cascadebook.org import OrgTree
from cascadebook.spec.roles import BUDGET, HEADCOUNT
from cascadebook.xlsx.addresses import column_letter

MAX_OUTLINE = 7  # Excel's deepest outline level: deeper units are shown at it


@dataclass(frozen=True)
class Line:
    """A row of a grouped view: a unit's own row, or (``subtotal``) the row that closes its group."""

    code: str
    level: int  # the unit's level in the tree (1 reports to the company)
    subtotal: bool = False

    @property
    def outline(self) -> int:
        return min(self.level - 1, MAX_OUTLINE)


def grouped_lines(tree: OrgTree, subtotals: bool = True) -> list[Line]:
    """Units depth-first (children by code), each unit with children followed, after its descendants,
    by its subtotal line when ``subtotals``. Not recursive, so any depth is written."""
    lines: list[Line] = []
    stack: list[tuple[str, bool]] = [(code, False) for code in reversed(tree.roots)]
    while stack:
        code, closing = stack.pop()
        level = tree.level(code)
        if closing:
            lines.append(Line(code, level, subtotal=True))
            continue
        lines.append(Line(code, level))
        children = tree.children_of(code)
        if children and subtotals:
            stack.append((code, True))
        stack.extend((child, False) for child in reversed(children))
    return lines


def set_outline(ws, r: int, line: Line, height: float | None = None) -> None:
    """A grouped row's outline level (0-based ``r``), keeping a height already chosen for it."""
    if line.outline or height is not None:
        ws.set_row(r, height, None, {"level": line.outline})


def subtotal(column: int, first: int, last: int) -> str:
    """SUBTOTAL(9) over a column's 1-based rows: nested subtotal rows inside the range are not counted twice."""
    letter = column_letter(column + 1)
    return f"SUBTOTAL(9,{letter}{first}:{letter}{last})"


def write_by_unit(
    w: MasterWriter,
    ws: Any,
    result: Reconciliation,
    tree: OrgTree,
    top: int,
    submissions: tuple[int, int],
    columns: dict[str, int],
    reconciled_cell: str,
) -> int:
    """The Summary's "By unit": per unit, itself and every unit below it: how many units, returned, late
    (not returned when reconciled, after the deadline), with errors, budget and headcount requested.

    Each figure is SUMPRODUCT(COUNTIF(the unit's block of codes here, the Submissions codes) × a
    Submissions column): a unit's descendants are the rows right below it (depth-first), so its block
    is one range. ``columns``: the Submissions table's column (0-based) of code, status, errors, budget
    and headcount; ``submissions``: its first and last 1-based rows. Returns the last row written."""
    first, last = submissions

    def sub(key: str) -> str:
        letter = column_letter(columns[key] + 1)
        return f"${letter}${first}:${letter}${last}"

    s = result.strategy
    counts = result.department_counts()
    deadline = s.response_deadline
    day = _day(result.generated_at)  # as the Dashboard measures "late"
    past = bool(deadline is not None and day is not None and day > deadline)
    ws.outline_settings(True, False, True, False)  # a unit's row is above its group: the button there too
    ws.write_string(top, 0, "By unit", w.subtitle)
    ws.write_string(top, 3, "Past the deadline then", w.label)
    past_formula = (
        f'IFERROR(IF(DATEVALUE(LEFT({reconciled_cell},10))>DATE({deadline.year},{deadline.month},{deadline.day}),'
        f'"yes","no"),"no")'
        if deadline is not None
        else '"no"'
    )
    write_formula(ws, top, 5, past_formula, "yes" if past else "no")
    past_cell = f"$F${top + 1}"
    headers = ["Code", "Unit", "Level", "Units", "Returned", "Late", "With errors", "Budget", "Headcount"]
    w.header_row(ws, top + 1, headers)
    lines = grouped_lines(tree, subtotals=False)
    start = top + 2  # 0-based row of the first unit
    for i, line in enumerate(lines):
        r = start + i
        block_end = r + len(tree.descendants(line.code))
        block = f"$A${r + 1}:$A${block_end + 1}"
        units = [line.code, *tree.descendants(line.code)]
        mine = [counts[c] for c in units]
        ws.write_string(r, 0, line.code, w.indented(line.level - 1))
        ws.write_string(r, 1, tree.units[line.code.casefold()].name)
        ws.write_number(r, 2, line.level)
        write_formula(ws, r, 3, f"ROWS({block})", len(units))

        def over(criteria: str, numeric: bool = False, block: str = block) -> str:
            """A Submissions column (or test on it) summed over the rows of the units of ``block``."""
            if numeric:
                return f"SUMPRODUCT(COUNTIF({block},{sub('code')}),{criteria})"
            return f"SUMPRODUCT(COUNTIF({block},{sub('code')})*({criteria}))"

        write_formula(ws, r, 4, over(f'{sub("status")}="returned"'), sum(1 for c in mine if c["status"] == "returned"))
        waiting = sum(1 for c in mine if c["status"] == "not returned")
        late = over(f'{sub("status")}="not returned"')
        write_formula(ws, r, 5, f'IF({past_cell}="yes",{late},0)', waiting if past else 0)
        write_formula(ws, r, 6, over(f"{sub('errors')}>0"), sum(1 for c in mine if c["error"]))
        write_formula(ws, r, 7, over(sub("budget"), True), sum(_number(c[BUDGET]) for c in mine), w.money)
        write_formula(ws, r, 8, over(sub("headcount"), True), sum(_number(c[HEADCOUNT]) for c in mine))
        set_outline(ws, r, line)
    ws.write_string(
        start + len(lines),
        0,
        "Each unit's figures include every unit below it; collapse a unit's group with the outline buttons.",
    )
    return start + len(lines)


def _number(value: Any) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None

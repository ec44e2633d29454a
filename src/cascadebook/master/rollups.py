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
from cascadebook.master.book import MasterWriter, column_label, write_formula
from cascadebook.org import OrgTree
from cascadebook.spec.roles import BUDGET, HEADCOUNT, INITIATIVES
from cascadebook.xlsx.addresses import column_letter
from cascadebook.xlsx.layout import header_height

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

    On the right, each unit's own figures (COUNTIFS / SUMIF over the Submissions table by its code); on
    the left, the SUM of those over the unit's block: its descendants are the rows right below it
    (depth-first), so the block is one range. (SUMPRODUCT(COUNTIF(block, codes) × column) needs no own
    columns but took LibreOffice 68 s to recalculate at 2,030 units, against 5 s for the flat master.)
    ``columns``: the Submissions table's column (0-based) of code, status, errors, budget and headcount;
    ``submissions``: its first and last 1-based rows. Returns the last row written."""
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
    inits = result.spec.require_sheet(INITIATIVES)
    figures = ["Returned", "Late", "With errors", column_label(inits, BUDGET), column_label(inits, HEADCOUNT)]
    money = 3  # the budget's place among the figures
    w.header_row(ws, top + 1, ["Code", "Unit", "Level", "Units", *figures])
    own = 4 + len(figures) + 1  # the first "unit only" column (0-based), after an empty one
    for k, header in enumerate(figures):
        ws.write_string(top + 1, own + k, f"{header} (unit only)", w.header)
    ws.set_row(top + 1, header_height([(f"{h} (unit only)", 13.0) for h in figures]))  # wrapped in two lines
    lines = grouped_lines(tree, subtotals=False)
    start = top + 2  # 0-based row of the first unit
    for i, line in enumerate(lines):
        r = start + i
        below = tree.descendants(line.code)
        block_end = r + len(below) + 1  # 1-based row of the unit's last descendant (or its own)
        code = f"$A{r + 1}"
        mine = counts[line.code]
        ws.write_string(r, 0, line.code, w.indented(line.level - 1))
        ws.write_string(r, 1, tree.units[line.code.casefold()].name)
        ws.write_number(r, 2, line.level)
        write_formula(ws, r, 3, f"ROWS($A${r + 1}:$A${block_end})", len(below) + 1)
        # the unit's own figures, each one COUNTIFS / SUMIF over the Submissions table ...
        own_values = [_own(mine, k, past) for k in range(len(figures))]
        own_formulas = [
            f'COUNTIFS({sub("code")},{code},{sub("return_status")},"returned")',
            f'IF({past_cell}="yes",COUNTIFS({sub("code")},{code},{sub("return_status")},"not returned"),0)',
            f'COUNTIFS({sub("code")},{code},{sub("errors")},">0")',
            f"SUMIF({sub('code')},{code},{sub('submitted_budget')})",
            f"SUMIF({sub('code')},{code},{sub('submitted_headcount')})",
        ]
        # ... and with every unit below it: a SUM of those over the unit's block (its descendants are the
        # rows right below it), cheap to recalculate at thousands of units
        for k, (formula, value) in enumerate(zip(own_formulas, own_values)):
            fmt = w.money if k == money else None
            write_formula(ws, r, own + k, formula, value, fmt)
            letter = column_letter(own + k + 1)
            rolled = sum(_own(counts[c], k, past) for c in (line.code, *below))
            write_formula(ws, r, 4 + k, f"SUM({letter}{r + 1}:{letter}{block_end})", rolled, fmt)
        set_outline(ws, r, line)
    ws.write_string(
        start + len(lines),
        0,
        "Each unit's figures include every unit below it (its own alone on the right); collapse a unit's "
        "group with the outline buttons.",
    )
    return start + len(lines)


def _own(count: dict[str, Any], k: int, past: bool) -> float:
    """A unit's own figure ``k`` (returned, late, with errors, budget, headcount) as the sheet computes it."""
    return [
        int(count["status"] == "returned"),
        int(past and count["status"] == "not returned"),
        int(bool(count["error"])),
        _number(count[BUDGET]),
        _number(count[HEADCOUNT]),
    ][k]


def _number(value: Any) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None

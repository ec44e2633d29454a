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

from cascadebook.consolidate.progress import ItemProgress, ProgressReport, resolve_weights, weighted_mean
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import MasterWriter, column_label, write_formula
from cascadebook.master.review_figures import ReviewFigures
from cascadebook.master.tables import Contributions
from cascadebook.org import OrgTree
from cascadebook.spec.roles import APPROVED_BUDGET, BUDGET, HEADCOUNT, INITIATIVES
from cascadebook.xlsx.addresses import column_letter, quote_sheet
from cascadebook.xlsx.layout import header_height, row_height

MATRIX_SHEET = "Alignment Matrix"  # master/matrix.py
SUMMARY_WIDTH = 13.0  # the Summary's columns right of the Submissions table's file (master/summary.py)
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


@dataclass(frozen=True)
class ByUnitSource:
    """Where the Summary's "By unit" reads from: the Submissions table's columns (0-based, by what they
    hold: code, return_status, errors, initiative_count, submitted_budget, approved_budget, submitted_headcount)
    and 1-based rows, the cell holding the reconcile time, and the Alignment Matrix's counts (the
    1-based row of its first unit line and the 0-based column of its first objective)."""

    columns: dict[str, int]
    submissions: tuple[int, int]
    reconciled_cell: str
    matrix_first: int


# The unit's own figures, in their order: the Submissions column each sums (None: the late rule), and
# whether it is money (the budget's format)
OWN = (
    "return_status",
    "late",
    "errors",
    "initiative_count",
    "submitted_budget",
    "approved_budget",
    "submitted_headcount",
)


def by_unit_headers(result: Reconciliation) -> list[str]:
    """The rolled-up figures' headers, in OWN's order (the spec's words for the plan's columns)."""
    inits = result.spec.require_sheet(INITIATIVES)
    return [
        "Returned",
        "Late",
        "With errors",
        inits.title,
        column_label(inits, BUDGET),
        Contributions.of(result.spec).approved_budget,
        column_label(inits, HEADCOUNT),
    ]


def by_unit_columns(result: Reconciliation) -> tuple[int, int]:
    """The 0-based columns of the By unit table's first rolled-up figure and first "unit only" one."""
    extra = 2 + bool(_progress(result))  # objectives covered, uncovered, progress
    return 4, 4 + len(OWN) + extra + 1


def write_by_unit(
    w: MasterWriter,
    ws: Any,
    result: Reconciliation,
    tree: OrgTree,
    top: int,
    source: ByUnitSource,
    figures: ReviewFigures,
) -> int:
    """The Summary's "By unit": per unit, itself and every unit below it: how many units, returned, late
    (not returned when reconciled, after the deadline), with errors, initiatives, budget requested and
    approved (finance's decisions), headcount; the corporate objectives the unit's group serves and
    those it leaves uncovered; with check-ins, its group's progress.

    On the right, each unit's own figures (COUNTIFS / SUMIF over the Submissions table by its code); on
    the left, the SUM of those over the unit's block: its descendants are the rows right below it
    (depth-first), so the block is one range. (SUMPRODUCT(COUNTIF(block, codes) × column) needs no own
    columns but took LibreOffice 68 s to recalculate at 2,030 units, against 5 s for the flat master.)
    Coverage counts the objectives of the unit's line in the Alignment Matrix's counts: its subtotal
    line (a parent) or its own (a leaf) sums the group already. Progress is a value (as the Progress
    sheet's): the group's initiatives weighted as compute_progress weights an objective's. Returns the
    last row written."""
    first, last = source.submissions

    def sub(key: str) -> str:
        letter = column_letter(source.columns[key] + 1)
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
        f'IFERROR(IF(DATEVALUE(LEFT({source.reconciled_cell},10))>DATE({deadline.year},{deadline.month},'
        f'{deadline.day}),"yes","no"),"no")'
        if deadline is not None
        else '"no"'
    )
    write_formula(ws, top, 5, past_formula, "yes" if past else "no")
    past_cell = f"$F${top + 1}"
    figure_headers = by_unit_headers(result)
    progress = _progress(result)
    rolled, own = by_unit_columns(result)
    coverage = rolled + len(OWN)
    extra = ["Objectives covered", "Uncovered objectives", *([f"Progress ({progress[0]})"] if progress else [])]
    w.header_row(ws, top + 1, ["Code", "Unit", "Level", "Units", *figure_headers, *extra])
    for k, header in enumerate(figure_headers):
        ws.write_string(top + 1, own + k, f"{header} (unit only)", w.header)
    wrapped = [(f"{h} (unit only)", 13.0) for h in figure_headers] + [(h, 13.0) for h in extra]
    ws.set_row(top + 1, header_height(wrapped))  # wrapped in two lines
    lines = grouped_lines(tree, subtotals=False)
    matrix_rows = matrix_count_rows(tree, source.matrix_first)
    served = _served(result)
    items = progress_items(result)
    objectives = [o.id for o in s.objectives]
    money = {OWN.index("submitted_budget"), OWN.index("approved_budget")}
    inits_key = result.spec.require_sheet(INITIATIVES).key
    # at the top of its row, as the unit's code: a row is as tall as its uncovered objectives' list
    top_money = w.book.add_format({"num_format": w.money_format, "valign": "top"})
    top_percent = w.book.add_format({"num_format": "0%", "valign": "top"})
    start = top + 2  # 0-based row of the first unit
    for i, line in enumerate(lines):
        r = start + i
        below = tree.descendants(line.code)
        group = (line.code, *below)
        block_end = r + len(below) + 1  # 1-based row of the unit's last descendant (or its own)
        code = f"$A{r + 1}"
        ws.write_string(r, 0, line.code, w.indented(line.level - 1))
        ws.write_string(r, 1, tree.units[line.code.casefold()].name, w.top)
        ws.write_number(r, 2, line.level, w.top)
        write_formula(ws, r, 3, f"ROWS($A${r + 1}:$A${block_end})", len(below) + 1, w.top)
        # the unit's own figures, each one COUNTIFS / SUMIF over the Submissions table ...
        own_formulas = [
            f'COUNTIFS({sub("code")},{code},{sub("return_status")},"returned")',
            f'IF({past_cell}="yes",COUNTIFS({sub("code")},{code},{sub("return_status")},"not returned"),0)',
            f'COUNTIFS({sub("code")},{code},{sub("errors")},">0")',
            *(f"SUMIF({sub('code')},{code},{sub(key)})" for key in OWN[3:]),
        ]
        # ... and with every unit below it: a SUM of those over the unit's block (its descendants are the
        # rows right below it), cheap to recalculate at thousands of units
        for k, formula in enumerate(own_formulas):
            fmt = top_money if k in money else w.top
            write_formula(
                ws, r, own + k, formula, own_figure(counts[line.code], figures, line.code, k, past, inits_key), fmt
            )
            letter = column_letter(own + k + 1)
            value = sum(own_figure(counts[c], figures, c, k, past, inits_key) for c in group)
            write_formula(ws, r, rolled + k, f"SUM({letter}{r + 1}:{letter}{block_end})", value, fmt)
        mine = set().union(*(served.get(c, set()) for c in group))
        text = _coverage_cells(w, ws, r, coverage, matrix_rows[line.code], objectives, mine)
        if progress:
            w.value(ws, r, coverage + 2, group_progress(items, group), top_percent)
        tall = row_height([(text, SUMMARY_WIDTH - 2)])  # a little narrower: Calc wraps sooner
        set_outline(ws, r, line, tall if tall > row_height([]) else None)  # the list wraps in its cell
    ws.write_string(
        start + len(lines),
        0,
        "Each unit's figures include every unit below it (its own alone on the right); collapse a unit's "
        "group with the outline buttons.",
    )
    return start + len(lines)


def matrix_count_rows(tree: OrgTree, first: int) -> dict[str, int]:
    """Each unit's 1-based row among the Alignment Matrix's counts that sums its group: a parent's
    subtotal line, a leaf's own line (``first``: the row of the first line, as master/matrix.py lays
    grouped_lines out)."""
    rows: dict[str, int] = {}
    for i, line in enumerate(grouped_lines(tree)):
        if line.subtotal or not tree.children_of(line.code):
            rows[line.code] = first + i
    return rows


def _coverage_cells(w: MasterWriter, ws: Any, r: int, c: int, row: int, objectives: list[str], mine: set[str]) -> str:
    """Objectives covered (a count of the matrix row's objective cells above 0) and the uncovered ones'
    ids (", "-joined; MID drops the first separator), wrapped; returns the list."""
    matrix = quote_sheet(MATRIX_SHEET)
    if not objectives:
        ws.write_number(r, c, 0)
        return ""
    cells = [f"{matrix}!{column_letter(k + 2)}{row}" for k in range(len(objectives))]
    end = column_letter(len(objectives) + 1)
    covered = [o for o in objectives if o in mine]
    write_formula(ws, r, c, f'COUNTIF({matrix}!$B${row}:${end}${row},">0")', len(covered), w.top)
    text = ", ".join(o for o in objectives if o not in mine)
    pieces = "&".join(f'IF({cell}>0,"",{_string(", " + o)})' for cell, o in zip(cells, objectives))
    formula = f"MID({pieces},3,32767)"
    if len(formula) < 8000:  # Excel's longest formula is 8,192 characters: a long list is a value
        write_formula(ws, r, c + 1, formula, text, w.wrap)
    else:
        ws.write_string(r, c + 1, text, w.wrap)
    return text


def _string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _served(result: Reconciliation) -> dict[str, set[str]]:
    """The objectives each unit's initiatives serve (its shares in the Contributions table)."""
    served: dict[str, set[str]] = {}
    for a in result.allocations:
        served.setdefault(a.department, set()).add(a.objective_id)
    return served


def _progress(result: Reconciliation) -> tuple[str, ProgressReport] | None:
    """The latest checked-in period and the progress report, when there are check-ins."""
    report = result.progress
    if report is None or not report or report.latest is None:
        return None
    return report.latest, report


def progress_items(result: Reconciliation) -> dict[str, list[ItemProgress]]:
    """Each unit's initiatives' progress in the latest checked-in period (none without check-ins):
    gathered once, so a group's progress costs its own units' items, not every item per unit."""
    found = _progress(result)
    if found is None:
        return {}
    period, report = found
    key = result.spec.require_sheet(INITIATIVES).key
    out: dict[str, list[ItemProgress]] = {}
    for (sheet, unit, _), per in report.items.items():
        if sheet == key and period in per:
            out.setdefault(unit, []).append(per[period])
    return out


def group_progress(items: dict[str, list[ItemProgress]], group: tuple[str, ...]) -> float | None:
    """The latest progress of a group of units (``items``: :func:`progress_items`): their initiatives'
    progress, weighted by contribution weight as compute_progress weights an objective's (a missing
    weight counts as the mean of the group's known ones; none known: all equal); None when no
    initiative of the group reports."""
    members = [ip for code in group for ip in items.get(code, ())]
    weights = resolve_weights([ip.item.weight for ip in members])
    return weighted_mean((wt, ip.progress) for wt, ip in zip(weights, members))


def own_figure(count: dict[str, Any], figures: ReviewFigures, code: str, k: int, past: bool, inits_key: str) -> float:
    """A unit's own figure ``k`` (in OWN's order) as the sheet computes it."""
    key = OWN[k]
    if key == "return_status":
        return int(count["status"] == "returned")
    if key == "late":
        return int(past and count["status"] == "not returned")
    if key == "errors":
        return int(bool(count["error"]))
    if key == "initiative_count":
        return _number(count.get(inits_key, 0))
    if key == "approved_budget":
        return figures.of(code).approved[APPROVED_BUDGET]
    return _number(count[BUDGET if key == "submitted_budget" else HEADCOUNT])


def _number(value: Any) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None

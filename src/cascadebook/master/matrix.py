"""The Alignment Matrix: departments x objectives, counts and weights as live formulas, and its heatmap."""

from __future__ import annotations

from cascadebook.consolidate.commitments import UNALIGNED, UNALIGNED_TITLE
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import MasterWriter, Table, cell_ref, literal, sum_over, write_formula
from cascadebook.master.rollups import MATRIX_SHEET, Line, grouped_lines, set_outline, subtotal
from cascadebook.master.tables import Contributions, allocation_runs
from cascadebook.model import Record
from cascadebook.org import OrgTree
from cascadebook.spec.roles import (
    IMPACT,
    INITIATIVES,
    TITLE,
)
from cascadebook.spec.schema import SheetSpec
from cascadebook.xlsx.addresses import column_letter, quote_sheet
from cascadebook.xlsx.layout import fit_width, header_height, row_height, text_lines
from cascadebook.xlsx.writer import (
    cut,
)

MATRIX_WIDTH = 36  # an objective's column, in characters
MAX_LINES = 26  # a matrix row is at most this tall (Excel's rows stop at 409 points)


def write_matrix(w: MasterWriter, result: Reconciliation, tables: dict[str, Table]) -> None:
    """Departments × objectives: initiatives with their impact in the cells, then counts as a heatmap.

    After the objectives, an "Unaligned (objective not recognised)" column holds the initiatives (or
    the shares of them) that no recognised objective takes, so every initiative is in a cell.
    """
    s = result.strategy
    n_obj = len(s.objectives)
    sheet = result.spec.require_sheet(INITIATIVES)
    line = _MatrixLine(sheet)
    ws = w.sheet(MATRIX_SHEET)
    ws.write_string(0, 0, "Department", w.header)
    ws.set_column(0, 0, fit_width([f"{d.code} · {d.name}" for d in s.departments], 24, 36))
    for c, o in enumerate(s.objectives, 1):
        ws.write_string(0, c, f"{o.id} · {o.title}", w.header)
        ws.set_column(c, c, MATRIX_WIDTH)
    ws.write_string(0, n_obj + 1, UNALIGNED_TITLE, w.header)
    ws.set_column(n_obj + 1, n_obj + 1, MATRIX_WIDTH)
    ws.write_string(0, n_obj + 2, sheet.title, w.header)
    ws.set_column(n_obj + 2, n_obj + 2, 11)
    titles = [f"{o.id} · {o.title}" for o in s.objectives] + [UNALIGNED_TITLE]
    ws.set_row(0, header_height([(t, MATRIX_WIDTH) for t in titles]))
    ws.freeze_panes(1, 1)
    # One department's cells at a time (its initiatives' lines, joined per objective): a pandas
    # pivot of every line of a 10,000-department matrix was the master's largest allocation
    # (+160 MB); the per-cell counts for the heatmap below are kept on the way.
    runs = allocation_runs(result.allocations)
    unaligned_runs = allocation_runs(result.unaligned)
    returned = result.accepted()
    tree = OrgTree.of(s.departments)
    # grouped by the org tree when a unit reports to another (each parent, then its descendants,
    # indented and outlined); a flat strategy's matrix is as it always was, by code
    layout = (
        grouped_lines(tree) if tree.nested else [Line(d.code, 1) for d in sorted(s.departments, key=lambda d: d.code)]
    )
    departments = [tree.units[line.code.casefold()] for line in layout if not line.subtotal]
    level = {line.code: line for line in layout if not line.subtotal}
    contrib, inits = tables["contributions"], tables[sheet.key]
    objective = Contributions.of(result.spec).objective
    initiatives_sheet = quote_sheet(inits.sheet)
    counts: dict[tuple[str, str], int] = {}
    firsts: dict[tuple[str, str], int] = {}  # a non-empty cell's first initiative row (1-based)
    columns = [*(o.id for o in s.objectives), UNALIGNED]
    for r, d in enumerate(departments, 1):
        ws.write_string(r, 0, f"{d.code} · {d.name}", w.indented(level[d.code].outline) if tree.nested else w.label)
        cells: dict[str, list] = {}  # objective -> [lines, first initiative row]
        tallest = 1  # lines of the row's fullest cell, for its height (up to MAX_LINES)
        for part, part_runs in ((result.allocations, runs), (result.unaligned, unaligned_runs)):
            for start, end in part_runs.get(d.code, ()):
                for a in part[start:end]:
                    cell = cells.setdefault(a.objective_id, [[], a.index + 2])
                    cell[0].append(line(a.record, a.weight))
                    cell[1] = min(cell[1], a.index + 2)
        for c, objective_id in enumerate(columns, 1):
            if objective_id in cells:
                lines, row = cells[objective_id]
                counts[(d.code, objective_id)] = len(lines)
                text = cut("\n".join(lines))
                tallest = max(tallest, text_lines(text, MATRIX_WIDTH))
                firsts[(d.code, objective_id)] = row
                # plain wrapped text: LibreOffice shows a hyperlinked text cell as a link field with one
                # line, unwrapped; the cell's link is on its count below (a number keeps its link there)
                ws.write_string(r, c, text, w.cell)
            elif d.code not in returned:
                ws.write_string(r, c, "not returned", w.missing)
            elif objective_id != UNALIGNED:
                ws.write_blank(r, c, None, w.gap)
        height = row_height([("", 1)]) * min(tallest, MAX_LINES) + 2 if tallest > 1 else None
        if tree.nested:
            set_outline(ws, r, level[d.code], height)
        elif height is not None:
            ws.set_row(r, height)
        tally = result.tally().get(d.code, {})
        write_formula(
            ws, r, n_obj + 2, sum_over("COUNTIF", inits, "Department", literal(d.code)), int(tally.get(sheet.key, 0))
        )
    # Counts per cell: live formulas over the Contributions table, shaded as a heatmap. "Total" counts
    # the cells' lines (an initiative split over objectives is in each); the initiatives' column counts it once.
    # A count of a non-empty cell links to the cell's first initiative row (up to Excel's links per sheet).
    links = 0
    top = len(departments) + 2
    ws.write_string(top, 0, "Initiatives per cell", w.subtitle)
    ws.write_string(top + 1, 0, "Department", w.header)
    for c, objective_id in enumerate(columns, 1):
        ws.write_string(top + 1, c, objective_id, w.header)
    ws.write_string(top + 1, n_obj + 2, "Total", w.header)
    ws.write_string(top + 1, n_obj + 3, sheet.title, w.header)
    opened: dict[str, int] = {}  # a parent's code -> its (1-based) row, for its subtotal row's ranges
    for i, entry in enumerate(layout):
        r = top + 2 + i
        if entry.subtotal:
            _write_subtotal(w, ws, r, entry, opened[entry.code], counts, tree, columns, result)
            continue
        d = tree.units[entry.code.casefold()]
        opened[d.code] = r + 1
        tally = result.tally().get(d.code, {})
        ws.write_string(r, 0, d.code, w.indented(entry.outline) if tree.nested else w.label)
        if tree.nested:
            set_outline(ws, r, entry)
        for c, objective_id in enumerate(columns, 1):
            formula = sum_over(
                "COUNTIFS",
                contrib,
                "Department",
                cell_ref(r + 1, 1),
                objective,
                ("lit", f"{column_letter(c + 1)}${top + 2}"),
            )
            first = firsts.get((d.code, objective_id))
            if first is not None and links < w.max_hyperlinks:
                links += 1
                # the link is kept, the formula then takes the cell (xlsxwriter keeps links apart from cells)
                ws.write_url(r, c, f"internal:{initiatives_sheet}!A{first}", tip="Go to the initiative rows")
            write_formula(ws, r, c, formula, int(counts.get((d.code, objective_id), 0)))
        end = column_letter(n_obj + 2)
        write_formula(
            ws,
            r,
            n_obj + 2,
            f"SUM(B{r + 1}:{end}{r + 1})",
            int(tally.get("allocations", 0)) + int(tally.get("unaligned", 0)),
        )
        write_formula(
            ws,
            r,
            n_obj + 3,
            sum_over("COUNTIF", inits, "Department", cell_ref(r + 1, 1)),
            int(tally.get(sheet.key, 0)),
        )
    last = top + 1 + len(layout)
    ws.write_string(last + 1, 0, "Total", w.total)
    for c in range(1, n_obj + 4):
        letter = column_letter(c + 1)
        if c <= n_obj:
            value = int(result.tally().get(s.objectives[c - 1].id, {}).get("objective_allocations", 0))
        elif c == n_obj + 1:
            value = len(result.unaligned)
        elif c == n_obj + 2:
            value = len(result.allocations) + len(result.unaligned)
        else:
            value = sum(int(result.tally().get(d.code, {}).get(sheet.key, 0)) for d in departments)
        # with subtotal rows, SUBTOTAL: it leaves out the subtotals within its range
        function = "SUBTOTAL(9," if tree.nested else "SUM("
        write_formula(ws, last + 1, c, f"{function}{letter}{top + 3}:{letter}{last + 1})", value, w.total)
    ws.write_string(
        last + 2,
        0,
        "An initiative split over several objectives is counted in each of their columns "
        "and in Total, once in Initiatives. A count links to its cell's first initiative.",
    )
    ws.conditional_format(
        top + 2,
        1,
        last,
        n_obj,
        {
            "type": "3_color_scale",
            "min_color": "#FCE4D6",
            "mid_color": "#FFF2CC",
            "max_color": "#A9D08E",
            "min_type": "num",
            "min_value": 0,
            "mid_type": "num",
            "mid_value": 1,
            "max_type": "max",
            # grouped: the units' own rows only, so a subtotal does not set the scale's top
            **({"multi_range": _unit_ranges(layout, top + 2, n_obj)} if tree.nested else {}),
        },
    )
    ws.conditional_format(
        top + 2, n_obj + 1, last, n_obj + 1, {"type": "cell", "criteria": ">", "value": 0, "format": w.warn}
    )


def _unit_ranges(layout: list[Line], first: int, n_obj: int) -> str:
    """The objective cells of the units' own rows (``first``: the 0-based row of the layout's first line)."""
    end = column_letter(n_obj + 1)
    return " ".join(f"B{first + i + 1}:{end}{first + i + 1}" for i, line in enumerate(layout) if not line.subtotal)


def _write_subtotal(
    w: MasterWriter,
    ws,
    r: int,
    line: Line,
    first: int,
    counts: dict[tuple[str, str], int],
    tree: OrgTree,
    columns: list[str],
    result: Reconciliation,
) -> None:
    """A parent's subtotal row (0-based ``r``) below its descendants: SUBTOTAL over its group's rows,
    from the parent's own (``first``, 1-based) to the row above, per objective and the totals."""
    units = [line.code, *tree.descendants(line.code)]
    tally = result.tally()
    ws.write_string(r, 0, f"{line.code} subtotal", w.indented(line.outline, total=True))
    values = [sum(counts.get((u, objective_id), 0) for u in units) for objective_id in columns]
    key = result.spec.require_sheet(INITIATIVES).key
    lines = sum(int(tally.get(u, {}).get("allocations", 0)) + int(tally.get(u, {}).get("unaligned", 0)) for u in units)
    values += [lines, sum(int(tally.get(u, {}).get(key, 0)) for u in units)]
    for c, value in enumerate(values, 1):
        write_formula(ws, r, c, subtotal(c, first, r), value, w.total)
    set_outline(ws, r, line)


class _MatrixLine:
    """An initiative's line in a matrix cell: its id, title, share and expected impact (by role)."""

    def __init__(self, sheet: SheetSpec):
        self.title, self.impact = sheet.key_of(TITLE), sheet.key_of(IMPACT)

    def __call__(self, record: Record, weight: float) -> str:
        impact = record.values.get(self.impact) or ""
        share = f" ({weight:.0%})" if weight < 1 else ""
        return f"{record.id} {record.values.get(self.title) or ''}{share}" + (f" → {impact}" if impact else "")

"""The Cascade sheet (issue 20): per parent initiative, what the initiatives aligned to it commit against
its own target change, level by level; then the Cascade matrix, child units x the parent initiatives they
align to, grouped under the corporate objective each serves.

Written only when the result has a cascade (some unit aligns to its parent's plan): a flat master has no
such sheet. The commitments are reconcile's (consolidate/cascade.py ``ParentCommitment``): the gap and the
share committed are live formulas over the row's own cells (with their values cached), the committed sums
are values, because the link weights they are weighted by are in no table of the master.
"""

from __future__ import annotations

from collections.abc import Iterable

from cascadebook.consolidate.cascade import Cascade, ParentCommitment
from cascadebook.consolidate.commitments import RATIO_TOLERANCE, SURPLUS_RATIO
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import MasterWriter, write_formula
from cascadebook.master.chain import MAX_OUTLINE, ChainWalk
from cascadebook.parent_plan import Key, key_of, serves_text
from cascadebook.xlsx.addresses import a1
from cascadebook.xlsx.limits import EXCEL_MAX_COLUMNS

CASCADE_SHEET = "Cascade"
MATRIX_SHEET = MATRIX_TITLE = "Cascade matrix"
CASCADE_HEADERS = [
    "Level",
    "Unit",
    "Initiative",
    "Title",
    "Serves",
    "Measure",
    "Target change",
    "Committed",
    "Gap",
    "Committed %",
    "Children",
    "Left out",
]
CASCADE_WIDTHS = [7, 9, 12, 40, 22, 10, 13, 13, 13, 12, 10, 24]
CHANGE, COMMITTED, GAP, RATIO = 6, 7, 8, 9  # 0-based columns
FIRST_ROW = 3  # 0-based: title, note, blank, then the header


def write_cascade(w: MasterWriter, result: Reconciliation) -> None:
    """The Cascade sheet, when the result has a cascade."""
    cascade = result.cascade
    if cascade is None:
        return
    ws = w.sheet(CASCADE_SHEET)
    ws.write_string(
        0, 0, f"{result.strategy.cycle}: the cascade — what each parent initiative's children commit", w.title
    )
    ws.merge_range(
        1,
        0,
        1,
        len(CASCADE_HEADERS) - 1,
        "One row per initiative that others align to, in the order of the Goal Hierarchy (each objective's chain "
        "tops, then the levels below them). Committed: its children's contributions, each times the share of the "
        "child that serves it, in the parent's unit; contributions against its direction or split over units are "
        "left out (and flagged). Shaded: a shortfall (red) or a surplus of more than half again (amber).",
        w.wrap,
    )
    ws.set_row(1, 32)
    w.header_row(ws, FIRST_ROW, CASCADE_HEADERS, CASCADE_WIDTHS)
    ws.freeze_panes(FIRST_ROW + 1, 3)
    ws.repeat_rows(FIRST_ROW)
    ws.outline_settings(True, False, True, False)
    r = FIRST_ROW + 1
    ordered = tree_order(result, cascade)  # walked once: the matrix's columns follow the same order
    for c in ordered:
        _commitment_row(w, ws, r, c, cascade)
        r += 1
    if r == FIRST_ROW + 1:
        ws.write_string(r, 0, "No initiative has others aligned to it yet.", w.wrap)
    _matrix(w, w.sheet(MATRIX_SHEET), result, cascade, ordered)  # its own sheet: its columns are its own width


def tree_order(result: Reconciliation, cascade: Cascade) -> list[ParentCommitment]:
    """The parent initiatives in the Goal Hierarchy's order, each once (where it is first met); those
    the walk does not meet (a parent whose own chain leads nowhere) after them, by unit and id."""
    by_key: dict[Key, ParentCommitment] = {key_of(c.department, c.initiative_id): c for c in cascade.commitments}
    walk = ChainWalk(result, cascade)
    out: list[ParentCommitment] = []
    seen: set[Key] = set()
    for objective in result.strategy.objectives:
        for step in walk.under(objective.id):
            key = key_of(step.record.department, step.record.id)
            if key in by_key and key not in seen:
                seen.add(key)
                out.append(by_key[key])
    out.extend(c for key, c in by_key.items() if key not in seen)
    return out


def serves(cascade: Cascade, department: str, initiative_id: str) -> str:
    """The corporate objectives an initiative reaches: ``CO1`` or ``CO1 50% / CO3 50%``."""
    return serves_text(cascade.chains.objectives.get(key_of(department, initiative_id), ()))


def _commitment_row(w: MasterWriter, ws, r: int, c: ParentCommitment, cascade: Cascade) -> None:
    level = c.level
    ws.set_row(r, None, None, {"level": min(level, MAX_OUTLINE)})
    ws.write_number(r, 0, level, w.top)
    ws.write_string(r, 1, c.department, w.indented(level - 1))
    ws.write_string(r, 2, c.initiative_id, w.top)
    ws.write_string(r, 3, c.title, w.wrap)
    ws.write_string(r, 4, serves(cascade, c.department, c.initiative_id), w.top)
    ws.write_string(r, 5, c.unit, w.top)
    num_format = w.unit_format(c.unit, (c.change, c.committed))
    number = w.numeric(num_format)
    ratio = c.ratio
    shade = (
        None
        if ratio is None or not c.stated
        else w.bad
        if ratio < 1 - RATIO_TOLERANCE
        else w.warn
        if ratio > SURPLUS_RATIO
        else None
    )
    if c.change is None:
        ws.write_blank(r, CHANGE, None, number)
    else:
        ws.write_number(r, CHANGE, c.change, number)
    ws.write_number(r, COMMITTED, c.committed, number)
    change, committed = a1(r + 1, CHANGE + 1), a1(r + 1, COMMITTED + 1)
    if c.change is None:
        ws.write_blank(r, GAP, None, number)
        ws.write_blank(r, RATIO, None, w.percent)
    else:
        write_formula(ws, r, GAP, f"{change}-{committed}", c.gap, _shaded(w, shade, num_format))
        write_formula(
            ws,
            r,
            RATIO,
            f'IF({change}=0,"",{committed}/{change})',
            "" if ratio is None else ratio,
            _shaded(w, shade, "0%"),
        )
    ws.write_number(r, 10, c.children, w.top)
    ws.write_string(r, 11, c.left_out_text, w.wrap)


def _shaded(w: MasterWriter, shade, num_format: str):
    """A gap or share cell in ``num_format``: shaded red for a shortfall, amber for a surplus."""
    if shade is None:
        return w.numeric(num_format)
    colour = "#F8CBAD" if shade is w.bad else "#FFE699"
    made = w.__dict__.setdefault("_cascade_shades", {})
    if (colour, num_format) not in made:
        made[(colour, num_format)] = w.book.add_format({"bg_color": colour, "valign": "top", "num_format": num_format})
    return made[(colour, num_format)]


def _matrix(w: MasterWriter, ws, result: Reconciliation, cascade: Cascade, ordered: list[ParentCommitment]) -> None:
    """Child units x parent initiatives: how many of the unit's initiatives align to each (a split counts
    its share, as in the Alignment Matrix), the parent initiatives grouped under the objective they serve
    most (a two-row header: objective, then initiative id)."""
    links = cascade.chains.links
    columns = _columns(result, cascade, ordered) if links else []
    shown = columns[: EXCEL_MAX_COLUMNS - 2]  # a wider sheet is cut by Excel, silently: say so instead
    beyond = len(columns) - len(shown)
    ws.write_string(
        0, 0, f"{MATRIX_TITLE}: how many of each unit's initiatives align to each parent initiative", w.title
    )
    note = "A split counts its share, as in the Alignment Matrix. Columns: grouped by the objective each serves most."
    if beyond:
        note += (
            f" {beyond:,} parent initiatives beyond Excel's {EXCEL_MAX_COLUMNS:,} columns are not shown here: the "
            "Cascade sheet lists every one, and the Initiatives table each row's parent initiative."
        )
    ws.write_string(1, 0, note, w.top)
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 9)
    r = 2
    if not links:
        ws.write_string(r + 1, 0, "No unit aligns to its parent's initiatives yet.", w.wrap)
        return
    place = {key_of(department, initiative_id): c for c, (_, department, initiative_id) in enumerate(shown)}
    cells: dict[str, dict[int, float]] = {}  # unit -> column -> initiatives (a split counts its share)
    for link in links:
        c = place.get(key_of(link.parent_department, link.parent_id))
        if c is not None:
            mine = cells.setdefault(link.department, {})
            mine[c] = mine.get(c, 0.0) + link.weight
    aligned = {link.department for link in links}
    units = [code for code in cascade.tree.order() if code in aligned]
    top, ids = r + 1, r + 2
    ws.write_string(top, 0, "Objective", w.header)
    ws.write_string(top, 1, "", w.header)
    c = 2
    for objective_id, group in _grouped(shown):  # row by row: the master's sheets are streamed
        if len(group) > 1:
            ws.merge_range(top, c, top, c + len(group) - 1, objective_id, w.header)
        else:
            ws.write_string(top, c, objective_id, w.header)
        c += len(group)
    ws.write_string(ids, 0, "Unit", w.header)
    ws.write_string(ids, 1, "Parent", w.header)
    for c, (_, _, initiative_id) in enumerate(shown, 2):
        ws.write_string(ids, c, initiative_id, w.header)
        ws.set_column(c, c, max(10, len(initiative_id) + 2))
    row = ids + 1
    for code in units:
        ws.write_string(row, 0, code, w.indented(cascade.level(code) - 1))
        ws.write_string(row, 1, cascade.tree.parent(code) or "", w.top)
        for col, value in sorted(cells.get(code, {}).items()):
            if value:
                ws.write_number(row, 2 + col, round(value, 6), w.good)
        row += 1


def _columns(result: Reconciliation, cascade: Cascade, ordered: list[ParentCommitment]) -> list[tuple[str, str, str]]:
    """(objective id it serves most, unit, initiative id) of every parent initiative (``ordered``: in tree order)."""
    out = []
    for c in ordered:
        parts = cascade.chains.objectives.get(key_of(c.department, c.initiative_id), ())
        main = max(parts, key=lambda p: p[1])[0] if parts else "—"
        out.append((main, c.department, c.initiative_id))
    order = {o.id: n for n, o in enumerate(result.strategy.objectives)}
    out.sort(key=lambda col: order.get(col[0], len(order)))  # stable: tree order within an objective
    return out


def _grouped(columns: list[tuple[str, str, str]]) -> Iterable[tuple[str, list[tuple[str, str]]]]:
    group: list[tuple[str, str]] = []
    current = None
    for objective_id, department, initiative_id in columns:
        if objective_id != current and group:
            yield current or "", group
            group = []
        current = objective_id
        group.append((department, initiative_id))
    if group:
        yield current or "", group

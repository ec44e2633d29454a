"""The Dashboard, the master's first sheet: the story finance wants first, on one landscape page.

Tiles of key figures (finance's review among them: initiatives decided, budget approved), then native
charts: commitments against each objective's target, coverage (initiatives per objective, gaps standing
out), budget and headcount by department, requested and approved, against their caps, and the returns'
status. Every figure is a live formula over the master's own sheets (the Summary's
Submissions table, the Commitments sheet, the data tables), cached with the value computed here from the
Reconciliation, so the charts follow when finance edits a number and viewers that do not recalculate
still show the numbers. What a chart needs beyond those sheets is in the small helper tables under the
charts, on this sheet, in plain view.

The sheet is written first and streamed (constant_memory) like every other: strictly top to bottom,
merged cells only within a row; the charts are anchored to cells and added in any order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import (
    OBJECTIVE_COLUMNS,
    MasterWriter,
    Table,
    column_label,
    literal,
    sum_over,
    write_formula,
)
from cascadebook.master.commitments_sheet import (
    COMMITMENT_INITIATIVES,
    COMMITMENT_RATIO,
    COMMITMENT_STATUS,
    COMMITMENTS_SHEET,
    commitment_headers,
    commitment_status,
)
from cascadebook.master.dashboard_charts import (
    CHART_ROW,
    CHART_ROWS,
    COLUMN_WIDTH,
    COLUMNS,
    COVERED,
    DASHBOARD_SHEET,
    GAP,
    INK,
    O_GAP,
    O_ID,
    O_INITIATIVES,
    O_RATIO,
    O_STATUS,
    O_TARGET,
    R_COUNT,
    R_LABEL,
    STATE_COLUMNS,
    STATE_HEADERS,
    TABLE_ROW,
    TARGET,
    TILE,
    ReturnState,
    _commitments_chart,
    _coverage_chart,
    _department_chart,
    _returns_chart,
)
from cascadebook.master.dashboard_levels import write_dashboard_levels
from cascadebook.master.review_figures import ReviewFigures
from cascadebook.master.summary import (
    SUBMISSION_APPROVED_BUDGET,
    SUBMISSION_APPROVED_HEADCOUNT,
    SUBMISSION_BUDGET,
    SUBMISSION_BUDGET_CAP,
    SUBMISSION_ERRORS,
    SUBMISSION_HEADCOUNT,
    SUBMISSION_HEADCOUNT_CAP,
    SUBMISSION_STATUS,
    SUMMARY_SHEET,
    submission_rows,
)
from cascadebook.org import OrgTree
from cascadebook.spec.roles import APPROVED_BUDGET, APPROVED_HEADCOUNT, BUDGET, HEADCOUNT, INITIATIVES
from cascadebook.spec.schema import Spec
from cascadebook.xlsx.addresses import column_letter, quote_sheet


def objective_headers(spec: Spec) -> list[str]:
    """The objectives' helper table's headers: the Commitments sheet's where a column shows one of its."""
    commitments = commitment_headers(spec)
    return [
        OBJECTIVE_COLUMNS[1],  # the objective (its id)
        *(commitments[c] for c in (COMMITMENT_INITIATIVES, COMMITMENT_RATIO, COMMITMENT_STATUS)),
        *STATE_HEADERS,
        OBJECTIVE_COLUMNS[-1],  # the target: 100% of the target change
        "Gap",
    ]


def write_dashboard(w: MasterWriter, result: Reconciliation, tables: dict[str, Table], figures: ReviewFigures) -> None:
    """Add the Dashboard sheet (call it before any other sheet, so it is the first and the active one);
    ``figures``: finance's review (decided, approved), master/review_figures.py."""
    book, s = w.book, result.strategy
    ws = w.sheet(DASHBOARD_SHEET, repeat_header=False)
    ws.activate()
    ws.hide_gridlines(2)
    ws.set_column(0, COLUMNS - 1, COLUMN_WIDTH)
    f = _Formats(book, w.money_format)
    objectives = list(result.commitments)
    counts = result.department_counts()
    first_dep, last_dep = submission_rows(result)
    summary = quote_sheet(SUMMARY_SHEET)

    def submissions(col: int) -> str:
        letter = column_letter(col + 1)
        return f"{summary}!${letter}${first_dep}:${letter}${last_dep}"

    status_range, errors_range = submissions(SUBMISSION_STATUS), submissions(SUBMISSION_ERRORS)

    # Title, then when the master was reconciled (the moment "late" is measured at) and the deadline
    ws.set_row(0, 26)
    ws.write_string(0, 0, f"{s.cycle} dashboard — {s.company}".rstrip(" —"), w.title)
    # The reconcile time as the Summary writes it (ISO text, UTC); its first ten characters are the day
    day = _day(result.generated_at)
    past = bool(s.response_deadline and day and day > s.response_deadline)
    ws.write_string(1, 0, "Reconciled at", f.label)
    ws.merge_range(1, 1, 1, 2, result.generated_at, f.value)
    ws.merge_range(1, 3, 1, 4, "Response deadline", f.label)
    if s.response_deadline is not None:
        ws.write_datetime(1, 5, datetime.combine(s.response_deadline, datetime.min.time()), f.day)
    else:
        ws.write_string(1, 5, "none set", f.value)
    ws.merge_range(1, 6, 1, 7, "Past the deadline then", f.label)
    when, deadline = "DATEVALUE(LEFT($B$2,10))", "$F$2"
    write_formula(
        ws, 1, 8, f'IFERROR(IF(ISNUMBER({deadline}),IF({when}>{deadline},"yes","no"),"no"),"no")',
        "yes" if past else "no", f.value,
    )  # fmt: skip
    past_cell = "$I$2"

    # Tiles: live formulas, as the Summary's facts
    accepted = sum(1 for c in counts.values() if c["status"] == "returned")
    covered = sum(1 for c in objectives if c.initiatives)
    inits_sheet = result.spec.require_sheet(INITIATIVES)
    inits, findings = tables[inits_sheet.key], tables["findings"]
    budget = sum(t.get(BUDGET, 0) for t in result.tally().values())
    budget_header = inits_sheet.header_of(BUDGET)
    commitments = quote_sheet(COMMITMENTS_SHEET)
    n_obj = len(objectives)

    def commitment_col(col: int, row: int | None = None) -> str:
        letter = column_letter(col + 1)
        if row is not None:
            return f"{commitments}!${letter}${row}"
        return f"{commitments}!${letter}$2:${letter}${max(n_obj, 1) + 1}"

    tiles: list[tuple[str, str | None, Any, Any]] = [
        (f"Departments returned (of {len(s.departments)})", f'COUNTIF({status_range},"returned")', accepted, f.tile),
        (f"Objectives covered (of {n_obj})", f'COUNTIF({commitment_col(COMMITMENT_INITIATIVES)},">0")', covered, f.tile),
        (
            f"{inits_sheet.title} decided (of {len(result.initiatives)})",
            figures.decided(),
            figures.of(None).decided,
            f.tile,
        ),
        (
            f"{column_label(inits_sheet, BUDGET)} requested",
            sum_over("SUM", inits, budget_header) if budget_header else None,
            budget,
            f.tile_money,
        ),
        (
            f"{column_label(inits_sheet, BUDGET)} approved",
            figures.approved_total(APPROVED_BUDGET),
            figures.of(None).approved[APPROVED_BUDGET],
            f.tile_money,
        ),
        (
            "Errors open",
            sum_over("COUNTIF", findings, "Severity", literal("error")),
            result.counts["error"],
            f.tile_bad if result.counts["error"] else f.tile,
        ),
    ]  # fmt: skip
    ws.set_row(3, 46)
    span = COLUMNS // len(tiles)
    for i, (_, formula, value, fmt) in enumerate(tiles):
        ws.merge_range(3, span * i, 3, span * i + span - 1, "", fmt)
        if formula is None:
            w.value(ws, 3, span * i, value, fmt)
        else:
            write_formula(ws, 3, span * i, formula, value, fmt)
    for i, (label, *_) in enumerate(tiles):
        ws.merge_range(4, span * i, 4, span * i + span - 1, label, f.tile_label)

    # The helper tables: per objective (from the Commitments sheet) and the returns' states (Summary)
    top = TABLE_ROW
    ws.write_string(top, 0, "Behind the charts: formulas over the Commitments and Summary sheets", w.subtitle)
    headers = objective_headers(result.spec)
    for c, h in enumerate(headers):
        ws.write_string(top + 1, c, h, f.header)
    ws.merge_range(top + 1, R_LABEL, top + 1, R_COUNT - 1, "Returns", f.header)
    ws.write_string(top + 1, R_COUNT, "Departments", f.header)
    first = top + 2  # 0-based row of the first objective
    last = first + max(n_obj, 1) - 1
    most = max((c.initiatives for c in objectives), default=0)
    served = f"${column_letter(O_INITIATIVES + 1)}${first + 1}:${column_letter(O_INITIATIVES + 1)}${last + 1}"
    states = _return_states(counts, status_range, errors_range, past_cell, past, s.response_deadline)
    columns = [_objective_values(c, most) for c in objectives]
    data = {col: [v[col] for v in columns] for col in range(len(headers))}  # the charts' caches
    for i in range(max(n_obj, len(states))):
        r = first + i
        if i < n_obj:
            _objective_row(ws, f, r, columns[i], i + 2, commitment_col, served)
        if i < len(states):
            state = states[i]
            ws.merge_range(r, R_LABEL, r, R_COUNT - 1, state.label, f.cell)
            write_formula(ws, r, R_COUNT, state.formula, state.count, f.count)
    bottom = first + max(n_obj, len(states)) - 1
    note = bottom + 1
    ws.write_string(
        note,
        0,
        "Committed % is the share of each objective's target change the departments commit (100% = the target); "
        "short under 100%, surplus over 150%. Late: not returned when the master was reconciled, after the deadline.",
        f.note,
    )

    # The charts, anchored to cells above the tables
    if n_obj:
        ws.insert_chart(CHART_ROW, 0, _commitments_chart(book, first, last, data), {"x_offset": 2, "y_offset": 4})
        ws.insert_chart(CHART_ROW, 6, _coverage_chart(book, first, last, data, headers), {"x_offset": 6, "y_offset": 4})
    below = CHART_ROW + CHART_ROWS[0]
    if s.departments:
        departments = sorted(s.departments, key=lambda d: d.code)  # as the Submissions table lists them
        codes = [d.code for d in departments]
        money = column_label(inits_sheet, BUDGET)
        people = column_label(inits_sheet, HEADCOUNT)
        for n, (title, cols, key, role, caps, number) in enumerate(
            (
                (f"{money} by department, against its cap",
                 (SUBMISSION_BUDGET, SUBMISSION_APPROVED_BUDGET, SUBMISSION_BUDGET_CAP), BUDGET, APPROVED_BUDGET,
                 [d.budget_cap for d in departments], w.money_format),
                (f"{people} by department, against its cap",
                 (SUBMISSION_HEADCOUNT, SUBMISSION_APPROVED_HEADCOUNT, SUBMISSION_HEADCOUNT_CAP), HEADCOUNT,
                 APPROVED_HEADCOUNT, [d.headcount_cap for d in departments], "0"),
            )
        ):  # fmt: skip
            values = [counts[code][key] for code in codes]
            approved = [figures.of(code).approved[role] for code in codes]
            chart = _department_chart(
                book, title, (first_dep - 1, last_dep - 1), cols, (codes, values, approved, caps), number
            )
            ws.insert_chart(below, 4 * n, chart, {"x_offset": 2 + 2 * n, "y_offset": 4})
    ws.insert_chart(below, 8, _returns_chart(book, first, states), {"x_offset": 6, "y_offset": 4})

    tree = OrgTree.of(s.departments)
    if tree.nested:  # the level block, below a flat Dashboard's last row
        note = write_dashboard_levels(w, ws, f, result, tree, note + 2, figures, last_dep)

    # One landscape page, whatever the other sheets print
    ws.print_area(0, 0, note, COLUMNS - 1)
    ws.fit_to_pages(1, 1)
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    ws.center_horizontally()
    stamp = result.generated_at
    ws.set_header(f"&L{_escape(s.company[:80])} — {_escape(s.cycle[:40])}&C&A&RReconciled {_escape(stamp[:40])}")
    ws.set_footer("&CPage &P of &N")


class _Formats:
    def __init__(self, book, money: str = "#,##0"):
        """``money``: the master's money format (the strategy's currency), for the budget tile."""
        add = book.add_format
        # shrunk to fit: six tiles of two columns, and a budget can be long
        tile = {
            "bold": True,
            "font_size": 24,
            "align": "center",
            "valign": "vcenter",
            "font_color": INK,
            "shrink": True,
        }
        self.tile = add({**tile, "bg_color": TILE, "num_format": "#,##0"})
        self.tile_money = add({**tile, "bg_color": TILE, "num_format": money})
        self.tile_bad = add({**tile, "bg_color": GAP, "num_format": "#,##0", "font_color": "#9C0006"})
        self.tile_label = add(
            {"align": "center", "valign": "top", "bg_color": TILE, "font_color": INK, "font_size": 10, "shrink": True}
        )
        self.label = add({"bold": True, "align": "right", "font_color": "#595959"})
        self.value = add({"align": "left", "indent": 1})
        self.day = add({"num_format": "yyyy-mm-dd", "align": "left", "indent": 1})
        self.header = add({"bold": True, "font_size": 9, "bg_color": INK, "font_color": "#FFFFFF", "align": "center"})
        border = {"font_size": 9, "border": 1, "border_color": "#BFBFBF"}
        self.cell = add(border)
        self.count = add({**border, "num_format": "0"})
        self.percent = add({**border, "num_format": "0%"})
        self.note = add({"italic": True, "font_size": 8, "font_color": "#595959"})


def _objective_values(c, most: int) -> dict[int, Any]:
    """The values one objective's helper row caches (and its charts' caches hold; None: blank)."""
    status = commitment_status(c)
    return {
        O_ID: c.objective.id,
        O_INITIATIVES: c.initiatives,
        O_RATIO: c.ratio,
        O_STATUS: status,
        **{col: c.ratio if status == name else None for col, name in STATE_COLUMNS},
        O_TARGET: 1,
        O_GAP: None if c.initiatives else max(1, most),
    }


def _objective_row(ws, f: _Formats, r: int, values: dict[int, Any], row: int, commitment_col, served: str) -> None:
    """One objective's helper row: its Commitments row's id, initiatives, committed % and status, then
    the committed % in its status's column (a series each, coloured), the target (100%) and the gap band
    (as wide as the most served objective's bar, so an objective nobody serves stands out)."""
    n = r + 1

    def cached(col: int) -> Any:
        return "" if values[col] is None else values[col]

    for col, source, fmt in (
        (O_ID, 0, f.cell),
        (O_INITIATIVES, COMMITMENT_INITIATIVES, f.count),
        (O_RATIO, COMMITMENT_RATIO, f.percent),
        (O_STATUS, COMMITMENT_STATUS, f.cell),
    ):
        write_formula(ws, r, col, commitment_col(source, row), cached(col), fmt)
    ratio_cell, status_cell = f"${column_letter(O_RATIO + 1)}{n}", f"${column_letter(O_STATUS + 1)}{n}"
    for col, name in STATE_COLUMNS:
        write_formula(ws, r, col, f'IF({status_cell}="{name}",{ratio_cell},"")', cached(col), f.percent)
    ws.write_number(r, O_TARGET, 1, f.percent)
    count = f"${column_letter(O_INITIATIVES + 1)}{n}"
    write_formula(ws, r, O_GAP, f'IF({count}=0,MAX(1,MAX({served})),"")', cached(O_GAP), f.count)


def _return_states(
    counts: dict[str, dict[str, object]],
    status: str,
    errors: str,
    past_cell: str,
    past: bool,
    deadline: date | None,
) -> list[ReturnState]:
    """The returns by state, each department in one: the Summary's status and errors, and whether the
    deadline had passed when the master was reconciled (not returned by then: late)."""
    rows = list(counts.values())

    def number(test) -> int:
        return sum(1 for c in rows if test(c))

    waiting = number(lambda c: c["status"] == "not returned")
    return [
        ReturnState(
            "Returned",
            f'COUNTIFS({status},"returned",{errors},0)',
            number(lambda c: c["status"] == "returned" and not c["error"]),
            COVERED,
        ),
        ReturnState(
            "Returned with errors",
            f'COUNTIFS({status},"returned",{errors},">0")',
            number(lambda c: c["status"] == "returned" and c["error"]),
            "#FFD966",
        ),
        ReturnState(
            "Rejected", f'COUNTIF({status},"rejected")', number(lambda c: c["status"] == "rejected"), "#C55A11"
        ),
        ReturnState(
            "Late (not returned)",
            f'IF({past_cell}="yes",COUNTIF({status},"not returned"),0)',
            waiting if past else 0,
            TARGET,
        ),
        ReturnState(
            "Not returned, not yet due" if deadline is not None else "Not returned (no deadline)",
            f'IF({past_cell}="yes",0,COUNTIF({status},"not returned"))',
            0 if past else waiting,
            "#BFBFBF",
        ),
    ]


def _day(text: str) -> date | None:
    """The day of an ISO reconcile time (its first ten characters, as the sheet's formula reads it)."""
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _escape(text: str) -> str:
    """Text in a page header: '&' starts a control code, so a literal one is doubled."""
    return text.replace("&", "&&")

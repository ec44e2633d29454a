"""The master's progress views: the Progress sheet (roll-ups, data bars, RAG, native charts), the
Check-ins table, and the progress columns of the Goal Hierarchy.

The headers of the Check-ins table are defined here once (the fixed ones) or come from the
check-in spec (the department's inputs); ``master_read`` reads the table back by the same names.
"""

from __future__ import annotations

from typing import Any

from cascadebook.consolidate.progress import AMBER, GREEN, RED, ProgressReport
from cascadebook.intake.dispatch import checkin_spec as bundled
from cascadebook.master.cascade_sheet import tree_order
from cascadebook.spec.roles import INITIATIVES, plan_role
from cascadebook.spec.schema import Column, Spec
from cascadebook.template.styles import header_format, intro_format, title_format
from cascadebook.xlsx.writer import EXCEL_MAX_ROWS, add_table, continued_sheet, continued_table, write_value

PROGRESS_SHEET = "Progress"
CHECKINS_SHEET = "Check-ins"
CHECKINS_TABLE = "CheckIns"
CHECKIN_LEAD = ("Department", "Period", "Sheet", "ID")  # then the check-in spec's input columns
CHECKIN_TAIL = ("Progress", "Source file")
HIERARCHY_HEADERS = ("Progress", "RAG")
OBJECTIVE_HEADERS = ("ID", "Objective", "Weight", "Reporting")
DEPARTMENT_HEADERS = ("Code", "Department", "Head", "Reporting")
SUMMARY_HEADERS = ("Progress", "Expected", "RAG")

HEADER_FILL = "#1F3864"
BAR_COLOUR = "#5B9BD5"
RAG_STYLE = {GREEN: ("#C6EFCE", "#006100"), AMBER: ("#FFEB9C", "#9C5700"), RED: ("#FFC7CE", "#9C0006")}


def checkin_columns(spec: Spec) -> list[Column]:
    """The check-in spec's input columns, each once, in the order of the sheets."""
    seen: dict[str, Column] = {}
    for sheet in spec.sheets:
        for col in sheet.input_columns:
            seen.setdefault(col.key, col)
    return list(seen.values())


def checkin_headers(spec: Spec) -> list[str]:
    return [*CHECKIN_LEAD, *[c.header for c in checkin_columns(spec)], *CHECKIN_TAIL]


class _Formats:
    def __init__(self, book):
        add = book.add_format
        self.title = add(title_format(16))
        self.subtitle = add(title_format(12))
        self.note = add(intro_format())
        self.header = add(header_format())
        self.text = add({"valign": "top"})
        self.bold = add({"bold": True, "valign": "top"})
        self.percent = add({"num_format": "0%", "valign": "top"})
        self.bold_percent = add({"num_format": "0%", "bold": True, "valign": "top"})
        self.number = add({"valign": "top"})
        self.date = add({"num_format": "yyyy-mm-dd", "valign": "top"})
        self.rag = {
            k: add({"bg_color": bg, "font_color": fg, "bold": True, "align": "center", "valign": "top"})
            for k, (bg, fg) in RAG_STYLE.items()
        }
        self._units: dict[str, Any] = {}
        self._book = book

    def unit(self, num_format: str):
        """A cell in a unit's number format (``Spec.number_format``), made once per format."""
        if num_format not in self._units:
            self._units[num_format] = self._book.add_format({"num_format": num_format, "valign": "top"})
        return self._units[num_format]


def _rollup_cells(ws, r: int, rollups: dict, periods: list[str], latest, fmt: _Formats, percent) -> None:
    """Reporting coverage, progress per period, latest progress, expected and RAG of one roll-up row;
    the lead columns before them (id, name, weight or head) are the caller's."""
    lead = len(OBJECTIVE_HEADERS)  # the department table has as many lead columns
    now = rollups.get(latest)
    write_value(ws, r, lead - 1, now.coverage if now else "", fmt.text)
    for c, period in enumerate(periods, lead):
        roll = rollups.get(period)
        write_value(ws, r, c, roll.progress if roll else None, percent)
    progress_col = lead + len(periods)
    write_value(ws, r, progress_col, now.progress if now else None, percent)
    write_value(ws, r, progress_col + 1, now.expected if now else None, percent)
    _rag(ws, r, progress_col + 2, now.rag if now else None, fmt)


def _rag(ws, r: int, c: int, rag: str | None, fmt: _Formats) -> None:
    if rag:
        ws.write_string(r, c, rag.capitalize(), fmt.rag[rag])
    else:
        ws.write_blank(r, c, None)


def _data_bar(ws, first_row: int, col: int, last_row: int, last_col: int | None = None) -> None:
    if last_row < first_row:
        return
    ws.conditional_format(
        first_row,
        col,
        last_row,
        col if last_col is None else last_col,
        {
            "type": "data_bar",
            "bar_color": BAR_COLOUR,
            "bar_solid": True,
            "min_type": "num",
            "min_value": 0,
            "max_type": "num",
            "max_value": 1,
        },
    )


def write_progress(book, result: Any, *, checkin_spec: Spec | None = None, max_rows: int = EXCEL_MAX_ROWS) -> None:
    """Add the Progress and Check-ins sheets for ``result.progress`` (a ProgressReport) to ``book``.

    ``result`` needs ``strategy`` and ``progress``; the Progress sheet shows per objective and per
    department the rolled-up progress of every checked-in period, the latest with a data bar,
    expected progress and RAG, and three native charts that refer to those cells.
    """

    report: ProgressReport = result.progress
    fmt = _Formats(book)
    ws, below = _progress_sheet(book, fmt, result.strategy, report)
    if getattr(result, "cascade", None) is not None:
        _through_the_chain(ws, below, fmt, result, report)
    currency = getattr(result.strategy, "currency", "") or ""
    _checkins_sheet(book, fmt, report, checkin_spec or bundled(), result.spec, max_rows, currency)


def _progress_sheet(book, fmt: _Formats, strategy, report: ProgressReport) -> tuple[Any, int]:
    """The sheet, and its first row free below the charts."""
    ws = book.add_worksheet(PROGRESS_SHEET)
    periods = list(report.periods)
    latest = report.latest
    lead = len(OBJECTIVE_HEADERS)
    first_period = lead
    progress_col = lead + len(periods)
    rag_col = progress_col + 2
    widths = [9, 46, 14, 10, *[8] * len(periods), 10, 10, 8]
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.write_string(0, 0, f"{strategy.cycle} progress — latest check-in {latest}", fmt.title)
    t = report.thresholds
    ws.merge_range(
        1,
        0,
        1,
        rag_col,
        (
            "Progress is the share of the way from baseline to target, capped to 0–100%; objectives and departments "
            "roll up their initiatives by contribution weight. Expected is where they should be by now; RAG compares "
            f"progress with it: green at {t.green:.0%} of expected or more, amber at {t.amber:.0%} or more, else red. "
            "Reporting: initiatives with an actual, of those planned."
        ),
        fmt.note,
    )
    ws.set_row(1, 48)

    # By objective
    ws.write_string(3, 0, "By objective", fmt.subtitle)
    header_row = 4
    for c, h in enumerate([*OBJECTIVE_HEADERS, *periods, *SUMMARY_HEADERS]):
        ws.write_string(header_row, c, h, fmt.header)
    first = header_row + 1
    r = first
    for objective in strategy.objectives:
        write_value(ws, r, 0, objective.id, fmt.text)
        write_value(ws, r, 1, objective.title, fmt.text)
        write_value(ws, r, 2, objective.weight, fmt.percent)
        _rollup_cells(ws, r, report.objectives.get(objective.id, {}), periods, latest, fmt, fmt.percent)
        r += 1
    last_objective = r - 1
    _data_bar(ws, first, progress_col, last_objective)
    ws.write_string(r, 1, "All objectives (by objective weight)", fmt.bold)
    _rollup_cells(ws, r, report.overall, periods, latest, fmt, fmt.bold_percent)

    # By department
    r += 2
    ws.write_string(r, 0, "By department", fmt.subtitle)
    dep_header = r + 1
    for c, h in enumerate([*DEPARTMENT_HEADERS, *periods, *SUMMARY_HEADERS]):
        ws.write_string(dep_header, c, h, fmt.header)
    dep_first = r = dep_header + 1
    for department in sorted(strategy.departments, key=lambda d: d.code):
        write_value(ws, r, 0, department.code, fmt.text)
        write_value(ws, r, 1, department.name, fmt.text)
        write_value(ws, r, 2, department.head, fmt.text)
        _rollup_cells(ws, r, report.departments.get(department.code, {}), periods, latest, fmt, fmt.percent)
        r += 1
    dep_last = r - 1
    _data_bar(ws, dep_first, progress_col, dep_last)
    ws.freeze_panes(header_row + 1, 2)

    # Native charts below the tables, each referring to the cells above.
    chart_row = dep_last + 3
    if last_objective >= first:
        by_objective = book.add_chart({"type": "bar"})
        by_objective.add_series(
            {
                "name": f"Progress {latest}",
                "categories": [PROGRESS_SHEET, first, 0, last_objective, 0],
                "values": [PROGRESS_SHEET, first, progress_col, last_objective, progress_col],
                "fill": {"color": BAR_COLOUR},
                "data_labels": {"value": True, "num_format": "0%"},
            }
        )
        by_objective.set_title({"name": f"Progress by objective ({latest})"})
        by_objective.set_x_axis({"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True}})
        by_objective.set_y_axis({"reverse": True})
        by_objective.set_legend({"none": True})
        by_objective.set_size({"width": 450, "height": 300})
        ws.insert_chart(chart_row, 0, by_objective)

        by_period = book.add_chart({"type": "line"})
        for row in range(first, last_objective + 1):
            by_period.add_series(
                {
                    "name": [PROGRESS_SHEET, row, 0],
                    "categories": [
                        PROGRESS_SHEET,
                        header_row,
                        first_period,
                        header_row,
                        first_period + len(periods) - 1,
                    ],
                    "values": [PROGRESS_SHEET, row, first_period, row, first_period + len(periods) - 1],
                    "marker": {"type": "circle", "size": 6},
                }
            )
        by_period.set_title({"name": "Progress by period"})
        by_period.set_y_axis({"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True}})
        by_period.set_legend({"position": "right"})
        by_period.set_size({"width": 910, "height": 300})
        ws.insert_chart(chart_row + 16, 0, by_period)

    if dep_last >= dep_first:
        by_department = book.add_chart({"type": "bar"})
        by_department.add_series(
            {
                "name": f"Progress {latest}",
                "categories": [PROGRESS_SHEET, dep_first, 0, dep_last, 0],
                "values": [PROGRESS_SHEET, dep_first, progress_col, dep_last, progress_col],
                "fill": {"color": "#70AD47"},
                "data_labels": {"value": True, "num_format": "0%"},
            }
        )
        by_department.set_title({"name": f"Progress by department ({latest})"})
        by_department.set_x_axis({"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True}})
        by_department.set_y_axis({"reverse": True})
        by_department.set_legend({"none": True})
        by_department.set_size({"width": 450, "height": 300})
        ws.insert_chart(chart_row, 0, by_department, {"x_offset": 460})
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    return ws, chart_row + CHARTS_TALL


CHARTS_TALL = 33  # rows the charts take (two 300-pixel charts, one above the other)
CHAIN_HEADERS = ("Unit", "Initiative", "Title", "From children")


def _through_the_chain(ws, r: int, fmt: _Formats, result: Any, report: ProgressReport) -> None:
    """Below the charts, for a cascade (issue 20): each initiative that others align to, its progress per
    period and whether it is its own actual's or its children's (how many of them reported, weighted by
    link and contribution weight, consolidate/progress.py). Objectives count only chain tops."""
    periods = list(report.periods)
    sheet = result.spec.sheet_key(INITIATIVES)
    ws.write_string(r, 0, "Through the cascade", fmt.subtitle)
    ws.write_string(
        r + 1,
        0,
        "An initiative others align to, without an actual of its own, takes its progress from theirs; the "
        "objectives above count only the initiatives aligned straight to them, so nothing is counted twice.",
        fmt.note,
    )
    for c, h in enumerate([*CHAIN_HEADERS, *periods, *SUMMARY_HEADERS]):
        ws.write_string(r + 2, c, h, fmt.header)
    first = r = r + 3
    for parent in tree_order(result, result.cascade):
        per = report.items.get((sheet, parent.department, parent.initiative_id.casefold()), {})
        now = per.get(report.latest or "")
        write_value(ws, r, 0, parent.department, fmt.text)
        write_value(ws, r, 1, parent.initiative_id, fmt.text)
        write_value(ws, r, 2, parent.title, fmt.text)
        if now is None or now.progress is None:
            ws.write_blank(r, 3, None, fmt.text)
        elif now.from_children:
            ws.write_string(r, 3, f"{now.from_children} of {parent.children}", fmt.text)
        else:
            ws.write_string(r, 3, "own actual", fmt.text)
        for c, period in enumerate(periods, len(CHAIN_HEADERS)):
            item = per.get(period)
            write_value(ws, r, c, item.progress if item else None, fmt.percent)
        progress_col = len(CHAIN_HEADERS) + len(periods)
        write_value(ws, r, progress_col, now.progress if now else None, fmt.percent)
        write_value(ws, r, progress_col + 1, now.expected if now else None, fmt.percent)
        _rag(ws, r, progress_col + 2, now.rag if now else None, fmt)
        r += 1
    _data_bar(ws, first, len(CHAIN_HEADERS) + len(periods), r - 1)


def _checkins_sheet(
    book, fmt: _Formats, report: ProgressReport, spec: Spec, plan: Spec, max_rows: int, currency: str = ""
) -> None:
    """The Check-ins table; past Excel's row limit it goes on in 'Check-ins (2)', ... (each a table).

    An actual is on the plan's sheet of its item (``plan``'s keys); the table names the check-in sheet
    that reports on it (by their roles), initiatives first. Its numbers (the actual) are shown in the
    item's unit, as the plan's tables show its baseline and target (``Spec.number_format``)."""
    columns = checkin_columns(spec)
    headers = checkin_headers(spec)
    titles = {plan.sheet_key(plan_role(s.role)) or s.key: s.title for s in spec.sheets}
    initiatives = plan.sheet_key(INITIATIVES)
    order = {p: i for i, p in enumerate(report.periods)}
    actuals = sorted(
        report.actuals, key=lambda a: (order.get(a.period, 99), a.department, a.sheet != initiatives, a.row)
    )
    size = max_rows - 1
    widths = [11, 8, 12, 12, *[max(c.width, 10) for c in columns], 10, 36]
    numeric = {len(CHECKIN_LEAD) + i: c.type in ("number", "integer") for i, c in enumerate(columns)}
    for number, start in enumerate(range(0, max(len(actuals), 1), size), 1):
        chunk = actuals[start : start + size]
        ws = book.add_worksheet(continued_sheet(CHECKINS_SHEET, number))
        add_table(
            ws,
            0,
            0,
            max(len(chunk), 1),
            len(headers) - 1,
            {
                "name": continued_table(CHECKINS_TABLE, number),
                "style": "Table Style Medium 2",
                "columns": [{"header": h} for h in headers],
            },
            fmt.header,
        )
        for r, actual in enumerate(chunk, 1):
            own = report.items.get(actual.key, {}).get(actual.period)
            progress = own.progress if own is not None and not own.carried else None
            row = [
                actual.department,
                actual.period,
                titles.get(actual.sheet, actual.sheet),
                actual.id,
                *[actual.values.get(c.key) for c in columns],
                progress,
                actual.file,
            ]
            item = next(iter(report.items.get(actual.key, {}).values()), None)
            in_unit = None
            if item is not None:
                shown = (item.item.baseline, item.item.target, actual.value)
                in_unit = fmt.unit(plan.number_format(item.item.unit, currency, shown))
            for c, value in enumerate(row):
                if c == len(row) - 2:
                    cell = fmt.percent
                elif numeric.get(c) and isinstance(value, (int, float)) and not isinstance(value, bool):
                    cell = in_unit
                else:
                    cell = None
                write_value(ws, r, c, value, cell)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)


class HierarchyProgress:
    """Progress and RAG columns on the Goal Hierarchy, from ``column`` on, written row by row.

    The master streams its sheets (each row is final once the next is written), so the hierarchy
    asks for its progress cells while it writes each row: level 0 is the vision and mission (the
    first of them shows the company's progress), 1 an objective, 2 an initiative, 3 a KPI. Values
    are the latest checked-in period's.
    """

    def __init__(self, book, report: ProgressReport, column: int, plan: tuple[str, str]):
        """``plan``: the keys of the spec's initiatives and KPIs sheets (the items' sheets)."""
        self.fmt, self.report, self.column, self.plan = _Formats(book), report, column, plan
        self.seen_top = False
        self.rows = 0

    def header(self, ws) -> None:
        for c, h in enumerate(HIERARCHY_HEADERS):
            ws.write_string(0, self.column + c, f"{h} {self.report.latest}" if c == 0 else h, self.fmt.header)
        ws.set_column(self.column, self.column, 12)
        ws.set_column(self.column + 1, self.column + 1, 8)

    def row(self, ws, r: int, level: int, ident: str, department: str) -> None:
        report, value, rag = self.report, None, None
        if level == 0 and not self.seen_top:
            self.seen_top = True
            roll = report.overall.get(report.latest or "")
            value, rag = (roll.progress, roll.rag) if roll else (None, None)
        elif level == 1:
            roll = report.objective(ident)
            value, rag = (roll.progress, roll.rag) if roll else (None, None)
        elif level in (2, 3):
            item = report.item(self.plan[level - 2], department, ident)
            value, rag = (item.progress, item.rag) if item else (None, None)
        write_value(ws, r, self.column, value, self.fmt.percent)
        _rag(ws, r, self.column + 1, rag, self.fmt)
        self.rows = max(self.rows, r)

    def finish(self, ws) -> None:
        """Close the columns on this sheet (the hierarchy may go on in another)."""
        _data_bar(ws, 1, self.column, self.rows)
        self.rows = 0

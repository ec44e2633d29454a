"""The master goal-hierarchy workbook finance reviews: written with xlsxwriter, atomically.

Every total is a live Excel formula over the master's own tables (with its value cached, so viewers
that do not recalculate still show the right number), so finance can audit any figure in Excel.
Every string from a department is written with ``write_string`` and the workbook has
``strings_to_formulas`` off, so text such as ``=HYPERLINK(...)`` is shown, never run.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import xlsxwriter

from cascadebook.atomic import atomic_path
from cascadebook.consolidate.commitments import UNALIGNED, UNALIGNED_TITLE, left_out_text
from cascadebook.consolidate.gc_tuning import long_lived
from cascadebook.consolidate.packed import RecordList, Spool, value_rows
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.findings import Finding
from cascadebook.kinds import MASTER, stamp
from cascadebook.master.progress_sheet import HierarchyProgress, write_progress
from cascadebook.model import Record
from cascadebook.spec.roles import (
    BASELINE,
    BUDGET,
    CONTRIBUTION_WEIGHT,
    DUE_PERIOD,
    HEADCOUNT,
    ID,
    IMPACT,
    INITIATIVE_REF,
    INITIATIVES,
    KPIS,
    LEVEL,
    OBJECTIVE_REF,
    OWNER,
    ROLES,
    TARGET,
    TEAM,
    TITLE,
)
from cascadebook.spec.schema import SheetSpec, Spec
from cascadebook.template.department import HEADER_FILL, NUMBER_FORMATS
from cascadebook.xlsx.addresses import a1, column_letter, quote_sheet
from cascadebook.xlsx.writer import (
    EXCEL_MAX_ROWS,
    SheetStream,
    add_table,
    continued_sheet,
    continued_table,
    cut,
    forget_row,
    number_styles,
    write_rows,
    write_value,
)
from cascadebook.xlsx.writer import (
    Workbook as SafeWorkbook,
)

MAX_HYPERLINKS = 65_530  # Excel's limit per worksheet
SEVERITY_COLOURS = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}
GAP_FILL = "#FCE4D6"
COMMITMENTS_SHEET = "Commitments"
# The Commitments sheet's columns: the strategy's objective (its own fields, not the department spec's),
# then what the departments commit. Where a column adds up a spec column of a role, it is headed as the
# spec heads it (commitment_headers); these are the bundled spec's words, for the layout's fixed places.
OBJECTIVE_COLUMNS = ("ID", "Objective", "Perspective", "Unit", "Direction", "Baseline", "Target")
COMMITMENT_INITIATIVES, COMMITMENT_BUDGET, COMMITMENT_HEADCOUNT = 11, 13, 14  # 0-based columns


def _label(sheet: SheetSpec | None, role: str) -> str:
    """The master's header for the values of a spec column of ``role`` (spec/schema: ``label_of``)."""
    return sheet.label_of(role) if sheet is not None else ROLES[role].header


def commitment_headers(spec: Spec) -> list[str]:
    """The Commitments sheet's headers; the initiatives, budget and headcount ones as the spec says them."""
    initiatives = spec.sheet_by_role(INITIATIVES)
    return [
        *OBJECTIVE_COLUMNS,
        "Target change",
        "Committed",
        "Gap",
        "Committed %",
        initiatives.title if initiatives is not None else INITIATIVES,
        "Departments",
        _label(initiatives, BUDGET),
        _label(initiatives, HEADCOUNT),
        "Budget cap",
        "Status",
        "Left out",
        "Why left out",
    ]


@dataclass(frozen=True)
class _Contributions:
    """The Contributions table's headers: each initiative's share of an objective, headed as the spec
    heads the initiative's columns (the objective, weight, budget, headcount, id and title)."""

    initiative_id: str
    objective: str
    weight: str
    budget: str
    headcount: str
    initiative: str
    contribution: str = "Contribution"  # the weighted share (the spec's column is the whole)

    @classmethod
    def of(cls, spec: Spec) -> _Contributions:
        sheet = spec.sheet_by_role(INITIATIVES)
        return cls(
            _label(sheet, ID),
            _label(sheet, OBJECTIVE_REF),
            _label(sheet, CONTRIBUTION_WEIGHT),
            _label(sheet, BUDGET),
            _label(sheet, HEADCOUNT),
            _label(sheet, TITLE),
        )


UNIT_FORMATS = {"%": "0.0%", "usd": "#,##0", "eur": "#,##0", "gbp": "#,##0", "currency": "#,##0"}


@dataclass
class Table:
    """A data table of the master: rows are written once; formulas refer to its columns by header.

    ``rows`` is a function that yields the rows when the table is written, and ``length`` says how
    many it will yield: the master never holds its rows as a second copy of the reconcile result
    (at 10,000 departments that copy alone was larger than the result).
    """

    sheet: str
    name: str
    headers: list[str]
    rows: Callable[[], Iterable[Sequence[Any]]]
    length: int
    formats: list[Any] | None = None
    widths: list[float] | None = None
    decorate: Callable[[Any, int, int], None] | None = None  # (ws, sheet row, index): after a row's cells

    def chunks(self) -> list[tuple[str, int]]:
        """Sheets needed to hold the rows within Excel's row limit ('Sheet', 'Sheet (2)', ...) and
        how many rows each holds."""
        size = EXCEL_MAX_ROWS - 1
        cached = self.__dict__.get("_chunks")
        if cached is None or cached[0] != (size, self.length):  # asked once per formula cell
            counts = [min(size, self.length - start) for start in range(0, self.length, size)] or [0]
            cached = (size, self.length), [(continued_sheet(self.sheet, i + 1), n) for i, n in enumerate(counts)]
            self.__dict__["_chunks"] = cached
        return cached[1]

    def ranges(self, header: str) -> list[str]:
        col = column_letter(self.headers.index(header) + 1)
        return [f"{quote_sheet(sheet)}!${col}$2:${col}${max(n, 1) + 1}" for sheet, n in self.chunks()]


def _sum_over(function: str, table: Table, *args: str | tuple[str, str]) -> str:
    """COUNTIF / SUMIF / COUNTIFS over every chunk of a table, added together.

    ``args`` are column headers (turned into ranges) or ("lit", text) for criteria.
    """
    parts = []
    for i in range(len(table.chunks())):
        items = [a[1] if isinstance(a, tuple) else table.ranges(a)[i] for a in args]
        parts.append(f"{function}({','.join(items)})")
    return "+".join(parts)


def _lit(text: str) -> tuple[str, str]:
    return ("lit", '"' + text.replace('"', '""') + '"')


def _ref(row: int, col: int, absolute_col: bool = True) -> tuple[str, str]:
    return ("lit", ("$" if absolute_col else "") + a1(row, col))


class _Writer:
    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        add = book.add_format
        self.title = add({"bold": True, "font_size": 16, "font_color": HEADER_FILL})
        self.subtitle = add({"bold": True, "font_size": 12, "font_color": HEADER_FILL})
        self.header = add(
            {
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": HEADER_FILL,
                "text_wrap": True,
                "valign": "vcenter",
                "border": 1,
            }
        )
        self.label = add({"bold": True, "valign": "top"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.gap = add({"bg_color": GAP_FILL, "border": 1, "border_color": "#BFBFBF", "valign": "top"})
        self.cell = add(
            {"text_wrap": True, "valign": "top", "border": 1, "border_color": "#BFBFBF", "font_color": "#1F3864"}
        )
        self.missing = add(
            {
                "italic": True,
                "font_color": "#808080",
                "bg_color": "#EDEDED",
                "border": 1,
                "border_color": "#BFBFBF",
                "valign": "top",
            }
        )
        self.link = add({"font_color": "#0563C1", "underline": 1})
        self.percent = add({"num_format": "0%"})
        self.money = add({"num_format": "#,##0"})
        self.total = add({"bold": True, "top": 1})
        self.total_money = add({"bold": True, "top": 1, "num_format": "#,##0"})
        self.severity = {k: add({"bg_color": v}) for k, v in SEVERITY_COLOURS.items()}
        self.bad = add({"bg_color": "#F8CBAD"})
        self.warn = add({"bg_color": "#FFE699"})
        self.good = add({"bg_color": "#C6EFCE"})
        self.levels = [
            add({"bold": True, "font_size": 12, "bg_color": "#D9E1F2"}),
            add({"bold": True, "indent": 1}),
            add({"indent": 2}),
            add({"indent": 3, "italic": True}),
        ]
        self._formats: dict[str, Any] = {}

    def numeric(self, num_format: str | None):
        key = num_format or ""
        if key not in self._formats:
            self._formats[key] = self.book.add_format(
                {"num_format": num_format, "valign": "top"} if num_format else {"valign": "top"}
            )
        return self._formats[key]

    def typed(self, column_type: str):
        return self.numeric(NUMBER_FORMATS.get(column_type))

    def unit(self, unit: str):
        return self.numeric(UNIT_FORMATS.get(unit.strip().casefold(), "General"))

    def value(self, ws, r: int, c: int, value: Any, fmt=None) -> None:
        write_value(ws, r, c, value, fmt)

    def header_row(self, ws, r: int, headers: Sequence[str], widths: Sequence[float] | None = None) -> None:
        for c, h in enumerate(headers):
            ws.write_string(r, c, h, self.header)
            if widths:
                ws.set_column(c, c, widths[c])

    def table(self, table: Table) -> list:
        """Write a table (continued on further sheets past Excel's row limit) with a filter row."""
        sheets = []
        rows = iter(table.rows())
        for sheet_name, count in table.chunks():
            ws = self.sheet(sheet_name, landscape=True)
            add_table(
                ws,
                0,
                0,
                max(count, 1),
                len(table.headers) - 1,
                {
                    "name": continued_table(table.name, len(sheets) + 1),
                    "style": "Table Style Medium 2",
                    "columns": [{"header": h} for h in table.headers],
                },
                self.header,
            )
            offset = len(sheets) * (EXCEL_MAX_ROWS - 1)
            formats = table.formats or [None] * len(table.headers)
            if table.decorate is None and SheetStream.supported(ws):
                stream = SheetStream(ws, 1, date_format=self.typed("date"))
                for row in islice(rows, count):
                    stream.row(row, formats)
                stream.close()
            else:
                write_rows(
                    ws, 1, islice(rows, count), formats, table.decorate, offset - 1, date_format=self.typed("date")
                )
            for c, width in enumerate(table.widths or [16] * len(table.headers)):
                ws.set_column(c, c, width)
            ws.freeze_panes(1, 0)
            sheets.append(ws)
        return sheets

    def sheet(self, name: str, *, landscape: bool = True, repeat_header: bool = True):
        """A worksheet set up for review and print: landscape, one page wide, header row repeated."""
        ws = self.book.add_worksheet(name)
        if landscape:
            ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)
        if repeat_header:
            ws.repeat_rows(0)
        ws.set_footer("&L&A&R&P / &N")
        return ws


def write_master(result: Reconciliation, path: str | Path) -> Path:
    """Write the master workbook atomically; returns its path."""
    path = Path(path)
    with long_lived():  # the result outlives the writer's short-lived rows
        return _write_master(result, path)


def _write_master(result: Reconciliation, path: Path) -> Path:
    tables = _tables(result)
    with atomic_path(path) as tmp, tempfile.TemporaryDirectory(prefix="cascadebook-rows-") as rows_dir:
        # Streaming (constant_memory): each row goes to disk once written, so memory does not grow
        # with the rows; every sheet below is therefore written strictly top to bottom.
        book = SafeWorkbook(
            str(tmp),
            {
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "constant_memory": True,
                "tmpdir": rows_dir,
            },
        )
        book.set_properties(
            {
                "title": f"{result.strategy.cycle} goal map",
                "company": result.strategy.company,
                "comments": "Written by cascadebook reconcile",
            }
        )
        stamp(book, MASTER, cycle=result.strategy.cycle, generated_at=result.generated_at)  # intake skips it
        book.set_calc_mode("auto")
        w = _Writer(book)
        _summary(w, result, tables)
        if result.progress:  # check-ins were reconciled: Progress and Check-ins sheets
            write_progress(book, result, max_rows=EXCEL_MAX_ROWS)
        _commitments(w, result, tables)
        _matrix(w, result, tables)
        _hierarchy(w, result, rows_dir)
        first = result.spec.sheet_key(INITIATIVES)
        for key in (first, "contributions", *[s.key for s in result.spec.sheets if s.key != first]):
            if key in tables:
                w.table(tables[key])
        _findings(w, result, tables["findings"], path.resolve().parent)
        w.table(tables["sources"])
        book.close()
    return path


def _tables(result: Reconciliation) -> dict[str, Table]:
    """The master's data tables; formulas elsewhere refer to their columns by header."""
    tables: dict[str, Table] = {}
    objective_of = _MainObjectives([*result.allocations, *result.unaligned])
    labels = _Contributions.of(result.spec)
    for sheet in result.spec.sheets:
        # a sheet under the initiatives (the KPIs) also shows its initiative's main objective
        extra = [labels.objective] if sheet.by_role(INITIATIVE_REF) else []
        records = result.records.get(sheet.key, [])
        tables[sheet.key] = Table(
            sheet.title,
            sheet.title.replace(" ", ""),
            ["Department", *[c.header for c in sheet.columns], *extra, "Source file", "Source row"],
            _record_rows(records, sheet, objective_of if extra else None),
            len(records),
            [
                "type:text",
                *[f"type:{c.type}" for c in sheet.columns],
                *["type:text"] * len(extra),
                "type:text",
                "type:integer",
            ],
            [12, *[c.width for c in sheet.columns], *[10] * len(extra), 28, 10],
        )
    allocations, unaligned = result.allocations, result.unaligned
    # every initiative's shares: the objectives it serves, then what no recognised objective takes
    # (Objective "Unaligned"); a contribution not summed is in "Left out", with why
    title_key = result.spec.require_sheet(INITIATIVES).key_of(TITLE)
    tables["contributions"] = Table(
        "Contributions",
        "Contributions",
        [
            "Department",
            labels.initiative_id,
            labels.objective,
            labels.weight,
            labels.contribution,
            labels.budget,
            labels.headcount,
            labels.initiative,
            "Left out",
            "Why left out",
        ],
        lambda: (
            [
                a.department,
                a.initiative_id,
                a.objective_id,
                a.weight,
                a.contribution,
                a.budget,
                a.headcount,
                a.record.values.get(title_key),
                a.stated,
                a.left_out,
            ]
            for part in (allocations, unaligned)
            for a in part
        ),
        len(allocations) + len(unaligned),
        [
            "type:text",
            "type:text",
            "type:text",
            "type:percent",
            "type:number",
            "type:currency",
            "type:number",
            "type:text",
            "type:number",
            "type:text",
        ],
        [12, 13, 11, 9, 14, 13, 11, 50, 12, 24],
    )
    findings = result.findings
    tables["findings"] = Table(
        "Findings",
        "Findings",
        ["Severity", "Code", "Department", "File", "Sheet", "Cell", "Message", "Hint", "Link"],
        lambda: (
            [f.severity.value, f.code, f.department, f.file, f.sheet, f.cell or f.location, f.message, f.hint, ""]
            for f in findings
        ),
        len(findings),
        None,
        [9, 24, 11, 30, 13, 8, 70, 50, 8],
    )
    per_file: dict[tuple[str, str], int] = {}
    for f in findings:
        per_file[(f.file, f.severity.value)] = per_file.get((f.file, f.severity.value), 0) + 1
    sources = [
        [
            s.file,
            s.department,
            s.status,
            s.reason,
            s.modified,
            s.received,
            s.row_count,
            per_file.get((s.file, "error"), 0),
            per_file.get((s.file, "warning"), 0),
        ]
        for s in result.sources
    ]
    tables["sources"] = Table(
        "Sources",
        "Sources",
        ["File", "Department", "Status", "Reason", "Saved at", "Received", "Rows read", "Errors", "Warnings"],
        lambda: sources,
        len(sources),
        None,
        [36, 11, 12, 40, 22, 22, 10, 8, 9],
    )
    return tables


def allocation_runs(allocations: Sequence[Any]) -> dict[str, list[tuple[int, int]]]:
    """Where each department's allocations are, as runs of positions [start, end).

    Reconcile appends a department's allocations together, so each department has one run; the
    per-department views of the master (main objectives, matrix cells) use these instead of an
    index entry per initiative (400,000 of them at 10,000 departments).
    """
    runs: dict[str, list[tuple[int, int]]] = {}
    start = 0
    for i in range(1, len(allocations) + 1):
        if i == len(allocations) or allocations[i].department != allocations[start].department:
            runs.setdefault(allocations[start].department, []).append((start, i))
            start = i
    return runs


class _MainObjectives:
    """An initiative's main objective (its largest share), looked up by department and initiative
    id; built for one department at a time, as the tables ask department by department."""

    def __init__(self, allocations: Sequence[Any]):
        self.allocations = allocations
        self.runs: dict[str, list[tuple[int, int]]] | None = None
        self.department: str | None = None
        self.mine: dict[str, str] = {}

    def get(self, key: tuple[str, str]) -> str | None:
        department, initiative = key
        if department != self.department:
            if self.runs is None:
                self.runs = allocation_runs(self.allocations)
            best: dict[str, Any] = {}
            for start, end in self.runs.get(department, ()):
                for a in self.allocations[start:end]:
                    ident = a.initiative_id.casefold()
                    if ident not in best or a.weight > best[ident].weight:
                        best[ident] = a
            self.department, self.mine = department, {k: a.objective_id for k, a in best.items()}
        return self.mine.get(initiative)


def _record_rows(
    records: list[Record], sheet, objective_of: _MainObjectives | None
) -> Callable[[], Iterable[list[Any]]]:
    """The rows of one input sheet's table, made while they are written (see :class:`Table`)."""
    keys = [c.key for c in sheet.columns]
    ref = next((i for i, c in enumerate(sheet.columns) if c.role == INITIATIVE_REF), None)

    def rows() -> Iterable[list[Any]]:
        for department, file, number, values in value_rows(records, keys):
            row = [department, *values]
            if objective_of is not None:
                row.append(objective_of.get((department, str(values[ref] or "").casefold())))
            row += (file, number)
            yield row

    return rows


def _resolve_formats(w: _Writer, tables: dict[str, Table]) -> None:
    for table in tables.values():
        if table.formats:
            table.formats = [
                w.typed(f[5:]) if isinstance(f, str) and f.startswith("type:") else f for f in table.formats
            ]


def _formula(ws, r: int, c: int, formula: str, value: Any, fmt=None) -> None:
    ws.write_formula(r, c, "=" + formula, fmt, value)


def _summary(w: _Writer, result: Reconciliation, tables: dict[str, Table]) -> None:
    _resolve_formats(w, tables)
    s = result.strategy
    ws = w.sheet("Summary", repeat_header=False)
    ws.activate()
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 30)
    ws.set_column(2, 12, 13)
    ws.write_string(0, 0, f"{s.cycle} goal map — {s.company}".rstrip(" —"), w.title)
    accepted = result.accepted()
    counts = result.counts
    spec = result.spec
    inits_sheet, kpis_sheet = spec.require_sheet(INITIATIVES), spec.sheet_by_role(KPIS)
    inits, kpis = tables[inits_sheet.key], tables.get(spec.sheet_key(KPIS))
    findings = tables["findings"]
    covered = sum(1 for c in result.commitments if c.initiatives)
    budget = sum(t.get(BUDGET, 0) for t in result.tally().values())
    headcount = sum(t.get(HEADCOUNT, 0) for t in result.tally().values())
    commit_rows = len(s.objectives)
    initiatives_col = column_letter(COMMITMENT_INITIATIVES + 1)
    budget_header, headcount_header = inits_sheet.header_of(BUDGET), inits_sheet.header_of(HEADCOUNT)

    kpi_facts: list[tuple[str, Callable[[Any, int], None]]] = []
    if kpis is not None and kpis_sheet is not None and kpis_sheet.by_role(ID):
        count_kpis = _sum_over("COUNTA", kpis, kpis_sheet.header_of(ID))
        kpi_facts.append((kpis_sheet.title, lambda ws, r: _formula(ws, r, 1, count_kpis, len(result.kpis))))

    def total(header: str, value: Any, fmt=None, department: tuple[str, str] | None = None):
        """A sum over a column of the initiatives table (per department when given), or the value
        alone when the spec has no such column."""

        def write(ws, r: int, c: int) -> None:
            if not header:
                w.value(ws, r, c, value, fmt)
            elif department is None:
                _formula(ws, r, c, _sum_over("SUM", inits, header), value, fmt)
            else:
                _formula(ws, r, c, _sum_over("SUMIF", inits, "Department", department, header), value, fmt)

        return write

    facts: list[tuple[str, Callable[[Any, int], None]]] = [
        ("Vision", lambda ws, r: ws.write_string(r, 1, s.vision, w.wrap)),
        ("Mission", lambda ws, r: ws.write_string(r, 1, s.mission, w.wrap)),
        ("Reconciled at", lambda ws, r: ws.write_string(r, 1, result.generated_at)),
        (
            "Departments returned",
            lambda ws, r: (  # the Submissions table's "returned" rows (check-ins aside)
                _formula(ws, r, 1, f'COUNTIF({submissions_status},"returned")', len(accepted)),
                ws.write_string(r, 2, f"of {len(s.departments)}"),
            ),
        ),
        (
            "Objectives covered",
            lambda ws, r: (
                _formula(
                    ws,
                    r,
                    1,
                    f"COUNTIF({quote_sheet(COMMITMENTS_SHEET)}!${initiatives_col}$2:"
                    f"${initiatives_col}${commit_rows + 1},\">0\")",
                    covered,
                ),
                ws.write_string(r, 2, f"of {len(s.objectives)}"),
            ),
        ),
        (
            inits_sheet.title,
            lambda ws, r: _formula(
                ws, r, 1, _sum_over("COUNTA", inits, inits_sheet.header_of(ID)), len(result.initiatives)
            ),
        ),
        *kpi_facts,
        (f"{_label(inits_sheet, BUDGET)} requested", lambda ws, r: total(budget_header, budget, w.money)(ws, r, 1)),
        (f"{_label(inits_sheet, HEADCOUNT)} requested", lambda ws, r: total(headcount_header, headcount)(ws, r, 1)),
        (
            "Errors",
            lambda ws, r: _formula(
                ws, r, 1, _sum_over("COUNTIF", findings, "Severity", _lit("error")), counts["error"]
            ),
        ),
        (
            "Warnings",
            lambda ws, r: _formula(
                ws, r, 1, _sum_over("COUNTIF", findings, "Severity", _lit("warning")), counts["warning"]
            ),
        ),
        (
            "Info",
            lambda ws, r: _formula(ws, r, 1, _sum_over("COUNTIF", findings, "Severity", _lit("info")), counts["info"]),
        ),
    ]
    first_submission = len(facts) + 6  # 1-based row of the first department in the Submissions table below
    submissions_status = f"$D${first_submission}:$D${first_submission + max(len(s.departments), 1) - 1}"
    for r, (label, write) in enumerate(facts, 2):
        ws.write_string(r, 0, label, w.label)
        write(ws, r)
    r = len(facts) + 3
    ws.write_string(r, 0, "Submissions", w.subtitle)
    r += 1
    headers = [
        "Code",
        "Department",
        "Head",
        "Status",
        "File",
        inits_sheet.title,
        kpis_sheet.title if kpis_sheet is not None else "",
        _label(inits_sheet, BUDGET),
        "Budget cap",
        _label(inits_sheet, HEADCOUNT),
        "Headcount cap",
        "Errors",
        "Warnings",
    ]
    w.header_row(ws, r, headers)
    top = r + 1
    per_department = result.department_counts()  # the terminal table's, the JSON report's and status's numbers
    for d in sorted(s.departments, key=lambda d: d.code):
        r += 1
        tally = f = per_department[d.code]
        status = tally["status"]
        code_cell = _ref(r + 1, 1)
        ws.write_string(r, 0, d.code)
        ws.write_string(r, 1, d.name)
        ws.write_string(r, 2, d.head)
        ws.write_string(r, 3, status, w.missing if status == "not returned" else None)
        ws.write_string(r, 4, tally["file"])
        _formula(ws, r, 5, _sum_over("COUNTIF", inits, "Department", code_cell), int(tally.get(inits_sheet.key, 0)))
        if kpis is not None and kpis_sheet is not None:
            _formula(ws, r, 6, _sum_over("COUNTIF", kpis, "Department", code_cell), int(tally.get(kpis_sheet.key, 0)))
        total(budget_header, tally.get(BUDGET, 0), w.money, code_cell)(ws, r, 7)
        w.value(ws, r, 8, d.budget_cap, w.money)
        total(headcount_header, tally.get(HEADCOUNT, 0), None, code_cell)(ws, r, 9)
        w.value(ws, r, 10, d.headcount_cap)
        _formula(
            ws, r, 11, _sum_over("COUNTIFS", findings, "Department", code_cell, "Severity", _lit("error")), f["error"]
        )
        _formula(
            ws,
            r,
            12,
            _sum_over("COUNTIFS", findings, "Department", code_cell, "Severity", _lit("warning")),
            f["warning"],
        )
    bottom = r
    for value_col, cap_col in ((7, 8), (9, 10)):
        cap = column_letter(cap_col + 1)
        val = column_letter(value_col + 1)
        ws.conditional_format(
            top,
            value_col,
            bottom,
            value_col,
            {
                "type": "formula",
                "criteria": f"=AND(ISNUMBER(${cap}{top + 1}),${val}{top + 1}>${cap}{top + 1})",
                "format": w.bad,
            },
        )
    ws.conditional_format(top, 11, bottom, 11, {"type": "cell", "criteria": ">", "value": 0, "format": w.bad})
    ws.conditional_format(top, 12, bottom, 12, {"type": "cell", "criteria": ">", "value": 0, "format": w.warn})


def _commitments(w: _Writer, result: Reconciliation, tables: dict[str, Table]) -> None:
    """Per objective: target change, what departments commit, the gap, budget and headcount; then
    the share of initiatives no recognised objective takes, so the totals are the Summary's."""
    ws = w.sheet(COMMITMENTS_SHEET)
    contrib = tables["contributions"]
    labels = _Contributions.of(result.spec)
    objective = labels.objective  # the Contributions column of each share's objective
    headers = commitment_headers(result.spec)
    w.header_row(ws, 0, headers, [10, 44, 15, 8, 10, 12, 12, 13, 13, 13, 11, 10, 18, 13, 10, 13, 10, 9, 36])
    ws.set_row(0, 30)
    ws.freeze_panes(1, 2)
    left_out_col = headers.index("Left out")

    def left_out(i: int, n: int, count: int, text: str) -> None:  # contributions not summed, and why
        _formula(
            ws, i, left_out_col, _sum_over("COUNTIFS", contrib, objective, _ref(n, 1), "Left out", _lit("<>")), count
        )
        ws.write_string(i, left_out_col + 1, text)

    for i, c in enumerate(result.commitments, 1):
        o, n = c.objective, i + 1
        unit = w.unit(o.unit)
        for col, value in enumerate([o.id, o.title, o.perspective, o.unit, o.direction]):
            w.value(ws, i, col, value, w.wrap if col == 1 else None)
        w.value(ws, i, 5, o.baseline, unit)
        w.value(ws, i, 6, o.target, unit)
        _formula(ws, i, 7, f"G{n}-F{n}", c.target_change, unit)
        _formula(ws, i, 8, _sum_over("SUMIF", contrib, objective, _ref(n, 1), labels.contribution), c.committed, unit)
        _formula(ws, i, 9, f"H{n}-I{n}", c.gap, unit)
        _formula(ws, i, 10, f'IF(H{n}=0,"",I{n}/H{n})', "" if c.ratio is None else c.ratio, w.percent)
        _formula(ws, i, 11, _sum_over("COUNTIF", contrib, objective, _ref(n, 1)), c.initiatives)
        ws.write_string(i, 12, ", ".join(c.departments))
        _formula(ws, i, 13, _sum_over("SUMIF", contrib, objective, _ref(n, 1), labels.budget), c.budget, w.money)
        _formula(ws, i, 14, _sum_over("SUMIF", contrib, objective, _ref(n, 1), labels.headcount), c.headcount)
        w.value(ws, i, 15, o.budget_cap, w.money)
        _formula(
            ws,
            i,
            16,
            f'IF(L{n}=0,"gap",IF(K{n}="","",IF(K{n}<1,"short",IF(K{n}>1.5,"surplus","covered"))))',
            _status(c),
        )
        left_out(i, n, c.left_out_count, c.left_out_text)
    last = len(result.commitments)
    # The initiatives' shares no objective takes (objective unknown or blank, split short of 100%)
    unaligned = result.unaligned
    i, n = last + 1, last + 2
    ws.write_string(i, 0, UNALIGNED, w.label)
    ws.write_string(i, 1, UNALIGNED_TITLE, w.wrap)
    _formula(ws, i, 11, _sum_over("COUNTIF", contrib, objective, _ref(n, 1)), len(unaligned))
    ws.write_string(i, 12, ", ".join(sorted({a.department for a in unaligned})))
    _formula(
        ws,
        i,
        13,
        _sum_over("SUMIF", contrib, objective, _ref(n, 1), labels.budget),
        sum(a.budget for a in unaligned if a.budget is not None),
        w.money,
    )
    _formula(
        ws,
        i,
        14,
        _sum_over("SUMIF", contrib, objective, _ref(n, 1), labels.headcount),
        sum(a.headcount for a in unaligned if a.headcount is not None),
    )
    reasons: dict[str, int] = {}
    for a in unaligned:
        if a.stated is not None:
            reasons[a.left_out or ""] = reasons.get(a.left_out or "", 0) + 1
    left_out(i, n, sum(reasons.values()), left_out_text(reasons.items()))
    total = last + 2
    ws.write_string(total, 0, "Total", w.total)
    totals = {  # objectives and the Unaligned line: the Summary's budget and headcount
        13: sum(c.budget for c in result.commitments) + sum(a.budget or 0 for a in unaligned),
        14: sum(c.headcount for c in result.commitments) + sum(a.headcount or 0 for a in unaligned),
        left_out_col: sum(c.left_out_count for c in result.commitments) + sum(reasons.values()),
    }
    for col in range(1, len(headers)):
        if col in totals:
            letter = column_letter(col + 1)
            _formula(
                ws, total, col, f"SUM({letter}2:{letter}{total})", totals[col], w.total_money if col == 13 else w.total
            )
        else:
            ws.write_blank(total, col, None, w.total)
    ws.conditional_format(
        1,
        10,
        last,
        10,
        {
            "type": "data_bar",
            "bar_color": "#5B9BD5",
            "bar_solid": True,
            "min_type": "num",
            "min_value": 0,
            "max_type": "num",
            "max_value": 1.5,
        },
    )
    ws.conditional_format(1, 16, last, 16, {"type": "cell", "criteria": "==", "value": '"gap"', "format": w.bad})
    ws.conditional_format(1, 16, last, 16, {"type": "cell", "criteria": "==", "value": '"short"', "format": w.warn})
    ws.conditional_format(1, 16, last, 16, {"type": "cell", "criteria": "==", "value": '"covered"', "format": w.good})
    ws.conditional_format(
        1, 13, last, 13, {"type": "formula", "criteria": "=AND(ISNUMBER($P2),$N2>$P2)", "format": w.bad}
    )
    ws.conditional_format(
        1, left_out_col, last + 1, left_out_col, {"type": "cell", "criteria": ">", "value": 0, "format": w.warn}
    )
    ws.autofilter(0, 0, last + 1, len(headers) - 1)


def _status(c) -> str:
    if not c.initiatives:
        return "gap"
    if c.ratio is None:
        return ""
    return "short" if c.ratio < 1 else ("surplus" if c.ratio > 1.5 else "covered")


def _matrix(w: _Writer, result: Reconciliation, tables: dict[str, Table]) -> None:
    """Departments × objectives: initiatives with their impact in the cells, then counts as a heatmap.

    After the objectives, an "Unaligned (objective not recognised)" column holds the initiatives (or
    the shares of them) that no recognised objective takes, so every initiative is in a cell.
    """
    s = result.strategy
    n_obj = len(s.objectives)
    sheet = result.spec.require_sheet(INITIATIVES)
    line = _MatrixLine(sheet)
    ws = w.sheet("Alignment Matrix")
    ws.write_string(0, 0, "Department", w.header)
    ws.set_column(0, 0, 24)
    for c, o in enumerate(s.objectives, 1):
        ws.write_string(0, c, f"{o.id} · {o.title}", w.header)
        ws.set_column(c, c, 36)
    ws.write_string(0, n_obj + 1, UNALIGNED_TITLE, w.header)
    ws.set_column(n_obj + 1, n_obj + 1, 36)
    ws.write_string(0, n_obj + 2, sheet.title, w.header)
    ws.set_column(n_obj + 2, n_obj + 2, 11)
    ws.set_row(0, 45)
    ws.freeze_panes(1, 1)
    # One department's cells at a time (its initiatives' lines, joined per objective): a pandas
    # pivot of every line of a 10,000-department matrix was the master's largest allocation
    # (+160 MB); the per-cell counts for the heatmap below are kept on the way.
    runs = allocation_runs(result.allocations)
    unaligned_runs = allocation_runs(result.unaligned)
    returned = result.accepted()
    departments = sorted(s.departments, key=lambda d: d.code)
    contrib, inits = tables["contributions"], tables[sheet.key]
    objective = _Contributions.of(result.spec).objective
    initiatives_sheet = quote_sheet(inits.sheet)
    links = 0
    counts: dict[tuple[str, str], int] = {}
    columns = [*(o.id for o in s.objectives), UNALIGNED]
    for r, d in enumerate(departments, 1):
        ws.write_string(r, 0, f"{d.code} · {d.name}", w.label)
        cells: dict[str, list] = {}  # objective -> [lines, first initiative row]
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
                if links < MAX_HYPERLINKS:
                    links += 1
                    # xlsxwriter keeps a link's text until the file is closed, for its optional display
                    # attribute (56 MB of matrix text at 10,000 departments): the link gets the first
                    # line, which says where it goes just as well, and the cell is then given all of them.
                    ws.write_url(
                        r,
                        c,
                        f"internal:{initiatives_sheet}!A{row}",
                        w.cell,
                        string=cut(lines[0]),
                        tip="Go to the initiative rows",
                    )
                    ws.write_string(r, c, text, w.cell)
                else:  # Excel's limit of links per sheet: the text stays, the link does not
                    ws.write_string(r, c, text, w.cell)
            elif d.code not in returned:
                ws.write_string(r, c, "not returned", w.missing)
            elif objective_id != UNALIGNED:
                ws.write_blank(r, c, None, w.gap)
        tally = result.tally().get(d.code, {})
        _formula(
            ws, r, n_obj + 2, _sum_over("COUNTIF", inits, "Department", _lit(d.code)), int(tally.get(sheet.key, 0))
        )
    # Counts per cell: live formulas over the Contributions table, shaded as a heatmap. "Total" counts
    # the cells' lines (an initiative split over objectives is in each); the initiatives' column counts it once.
    top = len(departments) + 2
    ws.write_string(top, 0, "Initiatives per cell", w.subtitle)
    ws.write_string(top + 1, 0, "Department", w.header)
    for c, objective_id in enumerate(columns, 1):
        ws.write_string(top + 1, c, objective_id, w.header)
    ws.write_string(top + 1, n_obj + 2, "Total", w.header)
    ws.write_string(top + 1, n_obj + 3, sheet.title, w.header)
    for i, d in enumerate(departments):
        r = top + 2 + i
        tally = result.tally().get(d.code, {})
        ws.write_string(r, 0, d.code, w.label)
        for c, objective_id in enumerate(columns, 1):
            formula = _sum_over(
                "COUNTIFS",
                contrib,
                "Department",
                _ref(r + 1, 1),
                objective,
                ("lit", f"{column_letter(c + 1)}${top + 2}"),
            )
            _formula(ws, r, c, formula, int(counts.get((d.code, objective_id), 0)))
        end = column_letter(n_obj + 2)
        _formula(
            ws,
            r,
            n_obj + 2,
            f"SUM(B{r + 1}:{end}{r + 1})",
            int(tally.get("allocations", 0)) + int(tally.get("unaligned", 0)),
        )
        _formula(
            ws,
            r,
            n_obj + 3,
            _sum_over("COUNTIF", inits, "Department", _ref(r + 1, 1)),
            int(tally.get(sheet.key, 0)),
        )
    last = top + 1 + len(departments)
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
        _formula(ws, last + 1, c, f"SUM({letter}{top + 3}:{letter}{last + 1})", value, w.total)
    ws.write_string(
        last + 2,
        0,
        "An initiative split over several objectives is counted in each of their columns "
        "and in Total, once in Initiatives.",
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
        },
    )
    ws.conditional_format(
        top + 2, n_obj + 1, last, n_obj + 1, {"type": "cell", "criteria": ">", "value": 0, "format": w.warn}
    )


class _MatrixLine:
    """An initiative's line in a matrix cell: its id, title, share and expected impact (by role)."""

    def __init__(self, sheet: SheetSpec):
        self.title, self.impact = sheet.key_of(TITLE), sheet.key_of(IMPACT)

    def __call__(self, record: Record, weight: float) -> str:
        impact = record.values.get(self.impact) or ""
        share = f" ({weight:.0%})" if weight < 1 else ""
        return f"{record.id} {record.values.get(self.title) or ''}{share}" + (f" → {impact}" if impact else "")


HIERARCHY_SHEET = "Goal Hierarchy"
CONTINUED = " (continued)"


def _hierarchy(w: _Writer, result: Reconciliation, rows_dir: str | None = None) -> None:
    with Spool(rows_dir) as spool:  # beside xlsxwriter's own row files
        _write_hierarchy(w, result, spool)


def _write_hierarchy(w: _Writer, result: Reconciliation, spool: Spool) -> None:
    """Vision → objectives → initiatives → KPIs as a foldable outline, streamed row by row.

    Past Excel's last row the outline goes on in 'Goal Hierarchy (2)', ... : each continuation
    sheet has the header and first repeats the objective it is in the middle of, marked
    "Objective (continued)" so a filter on "Objective" still counts each objective once.
    """
    s = result.strategy
    headers = ["Level", "ID", "Goal", "Department", "Owner", "Metric / impact", "Baseline", "Target", "Due"]
    progress = None
    if result.progress:  # progress and RAG at every level, beside the goals
        plan = (result.spec.sheet_key(INITIATIVES), result.spec.sheet_key(KPIS))
        progress = HierarchyProgress(w.book, result.progress, len(headers), plan)
    formats = [[w.levels[level] if c == 2 else None for c in range(len(headers))] for level in range(4)]
    outline = [None, None, {"level": 1}, {"level": 2}]
    date_format = w.typed("date")
    # styles numbered in the order rows are placed, also when packed rows are rendered ahead (_rows_by_objective)
    number_styles((*(level[2] for level in formats), date_format))

    def start(number: int):
        ws = w.sheet(continued_sheet(HIERARCHY_SHEET, number))
        w.header_row(ws, 0, headers, [12, 11, 60, 12, 20, 40, 11, 11, 12])
        ws.freeze_panes(1, 0)
        ws.outline_settings(True, False, True, False)
        ws.autofilter(0, 0, 0, len(headers) - 1)
        if progress is not None:
            progress.header(ws)
        # (a Progress column is written cell by cell)
        stream = SheetStream(ws, 1, date_format=date_format) if progress is None and SheetStream.supported(ws) else None
        return ws, stream

    def finish(ws, stream) -> None:
        if stream is not None:
            stream.close()
        if progress is not None:
            progress.finish(ws)

    number = 1
    ws, stream = start(number)
    render = (
        None
        if stream is None
        # rows rendered ahead fit any sheet of the hierarchy
        else (lambda values, level, first=stream: first.render(values, formats[level], level - 1))
    )
    below, unattached = _rows_by_objective(result, spool, render)

    def rows() -> Iterable[tuple[int, Any]]:  # made while written: never a copy of every record
        yield 0, ["Vision", "", s.vision]
        yield 0, ["Mission", "", s.mission]
        for o in s.objectives:
            yield 1, ["Objective", o.id, o.title, "", o.owner, o.metric, o.baseline, o.target, o.deadline]
            yield from below(o.id)
        if result.unaligned:  # nothing is left out: initiatives no recognised objective takes, then
            yield 1, [UNALIGNED, "", UNALIGNED_TITLE]  # KPIs whose initiative is not recognised
            yield from below(UNALIGNED)
        if unattached:
            yield 1, [UNATTACHED, "", UNATTACHED_TITLE]
            yield from below(UNATTACHED)

    r = 1
    objective: list[Any] = []
    for level, values in rows():
        if level == 1:
            objective = values
        if r >= EXCEL_MAX_ROWS:
            finish(ws, stream)
            number += 1
            ws, stream = start(number)
            r = 1
            if level > 1 and objective:
                _hierarchy_row(
                    ws,
                    stream,
                    r,
                    1,
                    [objective[0] + CONTINUED, *objective[1:]],
                    formats,
                    outline,
                    progress,
                    date_format,
                )
                r += 1
        _hierarchy_row(ws, stream, r, level, values, formats, outline, progress, date_format)
        r += 1
    finish(ws, stream)


def _hierarchy_row(ws, stream, r: int, level: int, values: Any, formats, outline, progress, date_format) -> None:
    """One row: ``values`` is a list of cell values or a row the stream rendered ahead (a tuple)."""
    if stream is not None:
        if type(values) is tuple:
            stream.put(values)
        else:
            stream.row(values, formats[level], max(level - 1, 0))
        return
    if outline[level]:
        ws.set_row(r, None, None, outline[level])
    write_rows(ws, r, (values,), formats[level], date_format=date_format)
    if progress:
        progress.row(ws, r, level, values[1], values[3] if len(values) > 3 else "")
    forget_row(ws, r - 1)


class _HierarchyRows:
    """The Goal Hierarchy's rows of an initiative and of a KPI, their cells found by role (the
    hierarchy's own columns -- Level, Goal, Owner, Metric / impact, Baseline, Target, Due -- hold
    objectives, initiatives and KPIs alike)."""

    def __init__(self, spec: Spec):
        initiatives, kpis = spec.sheet_by_role(INITIATIVES), spec.sheet_by_role(KPIS)
        on = lambda sheet, *roles: [sheet.key_of(r) if sheet is not None else "" for r in roles]  # noqa: E731
        self.initiative_keys = on(initiatives, TITLE, OWNER, IMPACT, BASELINE, TARGET, DUE_PERIOD)
        self.kpi_keys = on(kpis, TITLE, OWNER, TEAM, BASELINE, TARGET, DUE_PERIOD)
        self.level, self.parent_key = on(kpis, LEVEL, INITIATIVE_REF)

    def initiative(self, i: Record) -> tuple[int, list[Any]]:
        v = i.values
        title, owner, impact, baseline, target, due = (v.get(k) for k in self.initiative_keys)
        return 2, ["Initiative", i.id, title, i.department, owner, impact, baseline, target, due]

    def kpi(self, k: Record) -> tuple[int, list[Any]]:
        v = k.values
        title, owner, team, baseline, target, due = (v.get(key) for key in self.kpi_keys)
        return 3, [f"{v.get(self.level) or 'KPI'} KPI", k.id, title, k.department, owner, team, baseline, target, due]

    def parent(self, k: Record) -> str:
        """A KPI's initiative id, case folded."""
        return str(k.values.get(self.parent_key) or "").casefold()


UNATTACHED = "Unattached"  # the Goal Hierarchy's section of KPIs whose initiative is not recognised
UNATTACHED_TITLE = "KPIs whose initiative is not recognised"


def _rows_by_objective(
    result: Reconciliation, spool: Spool, render: Callable[[list[Any], int], Any] | None = None
) -> tuple[Callable[[str], Iterable[tuple[int, Any]]], int]:
    """The Goal Hierarchy's initiative and KPI rows under one objective, in allocation order, and
    how many KPIs have no recognised initiative.

    Besides the objectives' ids, :data:`UNALIGNED` gives the initiatives (and their KPIs) that no
    recognised objective takes, and :data:`UNATTACHED` the KPIs whose initiative is not recognised.

    The sheet goes objective by objective, the records department by department. Plain records are
    looked up where they are. Packed ones (consolidate/packed.py) would be decoded once per objective that way,
    so each department is decoded once instead and its rows are put aside per objective on disk
    (in ``spool``), rendered already when ``render`` is given (what the sheet's stream makes of a
    row's values).
    """
    kpis = result.kpis
    made = _HierarchyRows(result.spec)
    parts = (result.allocations, result.unaligned)
    if not (getattr(result.initiatives, "is_packed", False) or getattr(kpis, "is_packed", False)):
        by_initiative: dict[tuple[str, str], list[int]] = {}
        for index, k in enumerate(kpis):
            by_initiative.setdefault((k.department, made.parent(k)), []).append(index)
        by_objective: dict[str, list] = {}
        known: set[tuple[str, str]] = set()
        for part in parts:
            for a in part:
                by_objective.setdefault(a.objective_id, []).append(a)
                known.add((a.department, a.initiative_id.casefold()))
        unattached = sorted(i for key, found in by_initiative.items() if key not in known for i in found)

        def plain(objective_id: str) -> Iterable[tuple[int, list[Any]]]:
            if objective_id == UNATTACHED:
                for index in unattached:
                    yield made.kpi(kpis[index])
                return
            for a in by_objective.get(objective_id, []):
                i = a.record
                yield made.initiative(i)
                for index in by_initiative.get((i.department, i.id.casefold()), []):
                    yield made.kpi(kpis[index])

        return plain, len(unattached)

    def keep(row: tuple[int, list[Any]]) -> tuple[int, Any]:
        return row if render is None else (row[0], render(row[1], row[0]))

    kpi_chunks = kpis.departments() if isinstance(kpis, RecordList) else {}
    runs = [allocation_runs(part) for part in parts]
    unattached_count = 0
    for department in sorted({*runs[0], *runs[1], *kpi_chunks}):  # the records' order (reconcile sorts)
        mine: dict[str, list[Record]] = {}
        theirs: list[Record] = []  # the department's KPIs in order
        for chunk in kpi_chunks.get(department, ()):
            for k in kpis.chunk(chunk):
                if k.department == department:
                    mine.setdefault(made.parent(k), []).append(k)
                    theirs.append(k)
        used: set[str] = set()
        for part, part_runs in zip(parts, runs):
            for start, end in part_runs.get(department, ()):
                for a in part[start:end]:
                    i = a.record
                    used.add(i.id.casefold())
                    spool.put(a.objective_id, keep(made.initiative(i)))
                    for k in mine.get(i.id.casefold(), ()):
                        spool.put(a.objective_id, keep(made.kpi(k)))
        for k in theirs:
            if made.parent(k) not in used:
                spool.put(UNATTACHED, keep(made.kpi(k)))
                unattached_count += 1

    return spool.pop, unattached_count


def _findings(w: _Writer, result: Reconciliation, table: Table, master_dir: Path) -> None:
    paths = {s.file: s.path for s in result.sources}

    def decorate(ws, r: int, i: int) -> None:  # colour the severity and link the cell, in row order
        f = result.findings[i]
        ws.write_string(r, 0, f.severity.value, w.severity[f.severity.value])
        target = _link(f, paths.get(f.file), master_dir)
        if target and r <= MAX_HYPERLINKS:
            ws.write_url(r, 8, target, w.link, string="open", tip=_tip(f.where))

    table.decorate = decorate
    w.table(table)


# Hyperlinks built from what departments typed (their file and sheet names): a sheet name Excel itself
# would refuse ([]:*?/\, control characters, over 31 characters) gets no anchor, and a link over
# Excel's limits (2079 characters, 255 for the anchor) is shortened or left out, never half-written.
SAFE_SHEET_NAME = re.compile(r"[^\[\]:*?/\\\x00-\x1f\x7f]{1,31}")
SAFE_CELL = re.compile(r"\$?[A-Z]{1,3}\$?[0-9]{1,7}")
MAX_URL, MAX_ANCHOR = 2079, 255
URL_ESCAPES = {ch: f"%{ord(ch):02x}" for ch in '%" <>[]^`{}#'}


def _tip(text: str) -> str:
    """A hyperlink's screen tip within Excel's 255 UTF-16 units."""
    while len(text.encode("utf-16-le")) > 2 * MAX_ANCHOR:
        text = text[:-1]
    return text


def _link(f: Finding, source: str | None, master_dir: Path) -> str | None:
    """A link to the finding's cell in the returned file, relative to the master's folder."""
    if not source:
        return None
    try:
        rel = os.path.relpath(source, master_dir)
    except ValueError:  # another drive on Windows
        rel = source
    if any(ord(ch) < 32 or ch == "\x7f" for ch in rel):  # a file name no hyperlink can carry safely
        return None
    rel = "".join(URL_ESCAPES.get(ch, ch) for ch in rel)  # as xlsxwriter escapes, plus "#" (it ends the path)
    anchor = ""
    if f.sheet and f.cell and SAFE_SHEET_NAME.fullmatch(f.sheet) and SAFE_CELL.fullmatch(f.cell):
        anchor = f"#{quote_sheet(f.sheet)}!{f.cell}"  # a sheet name typed by a department, quoted
    target = f"external:{rel}{anchor}"
    if len(target) - len("external:") > MAX_URL or len(anchor) > MAX_ANCHOR:
        target = f"external:{rel}"
    return target if len(target) - len("external:") <= MAX_URL else None

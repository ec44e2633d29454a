"""The master goal-hierarchy workbook finance reviews: written with xlsxwriter, atomically.

Every string from a department is written with ``write_string`` (and the workbook has
``strings_to_formulas`` off), so text such as ``=HYPERLINK(...)`` is shown, never run.
"""
from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any, Sequence

import xlsxwriter

from .atomic import atomic_path
from .cells import quote_sheet
from .findings import Finding
from .model import Record
from .reconcile import Reconciliation
from .spec import SheetSpec
from .templates import HEADER_FILL, NUMBER_FORMATS

EXCEL_MAX_CHARS = 32767
SEVERITY_COLOURS = {"error": "#F8CBAD", "warning": "#FFE699", "info": "#DDEBF7"}
GAP_FILL = "#FCE4D6"


class _Writer:
    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        add = book.add_format
        self.title = add({"bold": True, "font_size": 16, "font_color": HEADER_FILL})
        self.subtitle = add({"bold": True, "font_size": 12, "font_color": HEADER_FILL})
        self.header = add({"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_FILL, "text_wrap": True,
                           "valign": "vcenter", "border": 1})
        self.label = add({"bold": True})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.gap = add({"bg_color": GAP_FILL, "border": 1, "border_color": "#BFBFBF", "valign": "top"})
        self.cell = add({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#BFBFBF"})
        self.missing = add({"italic": True, "font_color": "#808080", "bg_color": "#EDEDED", "border": 1,
                            "border_color": "#BFBFBF", "valign": "top"})
        self.link = add({"font_color": "#0563C1", "underline": 1})
        self.severity = {k: add({"bg_color": v}) for k, v in SEVERITY_COLOURS.items()}
        self.levels = [add({"bold": True, "font_size": 12, "bg_color": "#D9E1F2"}),
                       add({"bold": True, "indent": 1}), add({"indent": 2}), add({"indent": 3, "italic": True})]
        self._types: dict[str, Any] = {}

    def typed(self, column_type: str):
        if column_type not in self._types:
            fmt = NUMBER_FORMATS.get(column_type)
            self._types[column_type] = self.book.add_format({"num_format": fmt, "valign": "top"} if fmt
                                                            else {"valign": "top"})
        return self._types[column_type]

    def value(self, ws, r: int, c: int, value: Any, fmt=None) -> None:
        """Write a value by its Python type; text is always text, never a formula."""
        if value is None or value == "":
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, fmt)
        elif isinstance(value, datetime):
            ws.write_datetime(r, c, value, fmt)
        elif isinstance(value, date):
            ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt)
        else:
            ws.write_string(r, c, str(value)[:EXCEL_MAX_CHARS], fmt)

    def table(self, ws, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              formats: Sequence[Any] | None = None, widths: Sequence[float] | None = None) -> None:
        """An Excel table with a filter row; values written one by one so text stays text."""
        last_row = max(len(rows), 1)
        ws.add_table(0, 0, last_row, len(headers) - 1, {
            "name": name, "style": "Table Style Medium 2",
            "columns": [{"header": h} for h in headers],
        })
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row):
                self.value(ws, r, c, value, formats[c] if formats else None)
        for c, width in enumerate(widths or [16] * len(headers)):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)


def write_master(result: Reconciliation, path: str | Path) -> Path:
    """Write the master workbook atomically; returns its path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                               "strings_to_numbers": False, "in_memory": True})
        book.set_properties({"title": f"{result.strategy.cycle} goal map", "company": result.strategy.company,
                             "comments": "Written by cascadebook reconcile"})
        w = _Writer(book)
        _summary(w, result)
        _matrix(w, result)
        _hierarchy(w, result)
        for sheet in result.spec.sheets:
            _records_sheet(w, result, sheet)
        _findings(w, result, path.resolve().parent)
        _sources(w, result)
        book.close()
    return path


def _summary(w: _Writer, result: Reconciliation) -> None:
    s = result.strategy
    ws = w.book.add_worksheet("Summary")
    ws.activate()
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 44)
    ws.set_column(2, 8, 14)
    ws.write_string(0, 0, f"{s.cycle} goal map — {s.company}".rstrip(" —"), w.title)
    accepted = result.accepted()
    contributors = result.contributors()
    counts = result.counts
    facts = [
        ("Vision", s.vision), ("Mission", s.mission), ("Reconciled at", result.generated_at),
        ("Departments returned", f"{len(accepted)} of {len(s.departments)}"),
        ("Objectives covered", f"{sum(1 for v in contributors.values() if v)} of {len(s.objectives)}"),
        *[(sheet.title, len(result.records.get(sheet.key, []))) for sheet in result.spec.sheets],
        ("Errors", counts["error"]), ("Warnings", counts["warning"]), ("Info", counts["info"]),
    ]
    for r, (label, value) in enumerate(facts, 2):
        ws.write_string(r, 0, label, w.label)
        w.value(ws, r, 1, value, w.wrap)
    r = len(facts) + 3
    ws.write_string(r, 0, "Submissions", w.subtitle)
    headers = ["Code", "Department", "Head", "Status", "File",
               *[sheet.title for sheet in result.spec.sheets], "Errors", "Warnings"]
    r += 1
    for c, h in enumerate(headers):
        ws.write_string(r, c, h, w.header)
    by_department = {src.department: src for src in result.sources if src.status == "rejected"}
    by_department.update(accepted)
    for d in sorted(s.departments, key=lambda d: d.code):
        r += 1
        source = by_department.get(d.code)
        status = "not returned" if source is None else ("returned" if source.status == "accepted" else source.status)
        per_sheet = [sum(1 for rec in result.records.get(sh.key, []) if rec.department == d.code)
                     for sh in result.spec.sheets]
        f = result.findings_for(d.code)
        row = [d.code, d.name, d.head, status, source.file if source else "", *per_sheet, f["error"], f["warning"]]
        for c, value in enumerate(row):
            w.value(ws, r, c, value, w.missing if status == "not returned" and c == 3 else None)
    r += 2
    ws.write_string(r, 0, "Coverage", w.subtitle)
    r += 1
    for c, h in enumerate(["Objective", "Title", "Perspective", "Departments", "Initiatives"]):
        ws.write_string(r, c, h, w.header)
    per_objective = {}
    for rec in result.initiatives:
        per_objective[rec.values.get("objective_id")] = per_objective.get(rec.values.get("objective_id"), 0) + 1
    for o in s.objectives:
        r += 1
        departments = contributors.get(o.id, [])
        fmt = None if departments else w.gap
        for c, value in enumerate([o.id, o.title, o.perspective, ", ".join(departments) or "none (gap)",
                                   per_objective.get(o.id, 0)]):
            w.value(ws, r, c, value, fmt)


def _matrix(w: _Writer, result: Reconciliation) -> None:
    import pandas as pd

    s = result.strategy
    ws = w.book.add_worksheet("Alignment Matrix")
    ws.write_string(0, 0, "Department", w.header)
    ws.set_column(0, 0, 24)
    for c, o in enumerate(s.objectives, 1):
        ws.write_string(0, c, f"{o.id} · {o.title}", w.header)
        ws.set_column(c, c, 38)
    ws.set_row(0, 45)
    ws.freeze_panes(1, 1)
    frame = pd.DataFrame(
        [(r.department, r.values.get("objective_id"), _matrix_line(r)) for r in result.initiatives],
        columns=["department", "objective", "line"],
    )
    cells = frame.groupby(["department", "objective"], sort=True)["line"].agg("\n".join).unstack() \
        if len(frame) else pd.DataFrame()
    returned = result.accepted()
    for r, d in enumerate(sorted(s.departments, key=lambda d: d.code), 1):
        ws.write_string(r, 0, f"{d.code} · {d.name}", w.label)
        for c, o in enumerate(s.objectives, 1):
            text = cells.at[d.code, o.id] if d.code in cells.index and o.id in cells.columns else None
            if isinstance(text, str):
                ws.write_string(r, c, text[:EXCEL_MAX_CHARS], w.cell)
            elif d.code not in returned:
                ws.write_string(r, c, "not returned", w.missing)
            else:
                ws.write_blank(r, c, None, w.gap)


def _matrix_line(record: Record) -> str:
    impact = record.get("expected_impact", "")
    return f"{record.id} {record.get('title', '')}" + (f" → {impact}" if impact else "")


def _hierarchy(w: _Writer, result: Reconciliation) -> None:
    s = result.strategy
    ws = w.book.add_worksheet("Goal Hierarchy")
    headers = ["Level", "ID", "Goal", "Department", "Owner", "Metric / impact", "Baseline", "Target", "Due"]
    widths = [12, 11, 60, 12, 20, 40, 11, 11, 12]
    for c, (h, width) in enumerate(zip(headers, widths)):
        ws.write_string(0, c, h, w.header)
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    ws.outline_settings(True, False, True, False)
    rows: list[tuple[int, list[Any]]] = [
        (0, ["Vision", "", s.vision]),
        (0, ["Mission", "", s.mission]),
    ]
    kpis_by_initiative: dict[tuple[str, str], list[Record]] = {}
    for k in result.kpis:
        kpis_by_initiative.setdefault((k.department, str(k.get("initiative_id", "")).casefold()), []).append(k)
    for o in s.objectives:
        rows.append((1, ["Objective", o.id, o.title, "", o.owner, o.metric, o.baseline, o.target, o.deadline]))
        for i in (r for r in result.initiatives if r.values.get("objective_id") == o.id):
            rows.append((2, ["Initiative", i.id, i.get("title", ""), i.department, i.get("owner", ""),
                             i.get("expected_impact", ""), i.get("baseline"), i.get("target"), i.get("due_period")]))
            for k in kpis_by_initiative.get((i.department, i.id.casefold()), []):
                rows.append((3, [f"{k.get('level', 'KPI')} KPI", k.id, k.get("name", ""), k.department,
                                 k.get("owner", ""), k.get("team", ""), k.get("baseline"), k.get("target"),
                                 k.get("due_period")]))
    for r, (level, values) in enumerate(rows, 1):
        ws.set_row(r, None, None, {"level": max(level - 1, 0)})
        for c, value in enumerate(values):
            w.value(ws, r, c, value, w.levels[level] if c == 2 else (w.typed("date") if isinstance(value, date) else None))


def _records_sheet(w: _Writer, result: Reconciliation, sheet: SheetSpec) -> None:
    ws = w.book.add_worksheet(sheet.title)
    extra = ["Objective"] if any(c.source == "initiatives" for c in sheet.columns) else []
    headers = ["Department", *[c.header for c in sheet.columns], *extra, "Source file", "Source row"]
    formats = [None, *[w.typed(c.type) for c in sheet.columns], *[None] * len(extra), None, None]
    widths = [12, *[c.width for c in sheet.columns], *[10] * len(extra), 28, 10]
    objective_of = {(r.department, r.id.casefold()): r.values.get("objective_id") for r in result.initiatives}
    rows = []
    for record in result.records.get(sheet.key, []):
        row = [record.department, *[record.values.get(c.key) for c in sheet.columns]]
        if extra:
            ref = next(c.key for c in sheet.columns if c.source == "initiatives")
            row.append(objective_of.get((record.department, str(record.values.get(ref) or "").casefold())))
        rows.append([*row, record.file, record.row])
    w.table(ws, sheet.title.replace(" ", ""), headers, rows, formats, widths)


def _findings(w: _Writer, result: Reconciliation, master_dir: Path) -> None:
    ws = w.book.add_worksheet("Findings")
    headers = ["Severity", "Code", "Department", "File", "Sheet", "Cell", "Message", "Hint", "Link"]
    paths = {s.file: s.path for s in result.sources}
    rows = [[f.severity.value, f.code, f.department, f.file, f.sheet, f.cell or f.location, f.message, f.hint, ""]
            for f in result.findings]
    w.table(ws, "Findings", headers, rows, widths=[9, 24, 11, 30, 13, 8, 70, 50, 12])
    for r, f in enumerate(result.findings, 1):
        ws.write_string(r, 0, f.severity.value, w.severity[f.severity.value])
        target = _link(f, paths.get(f.file), master_dir)
        if target and r <= 65000:  # Excel's limit on hyperlinks per sheet
            ws.write_url(r, 8, target, w.link, string="open", tip=f.where[:255])


def _link(f: Finding, source: str | None, master_dir: Path) -> str | None:
    if not source:
        return None
    try:
        rel = os.path.relpath(source, master_dir)
    except ValueError:  # another drive on Windows
        rel = source
    rel = rel.replace("#", "%23")
    anchor = f"#{quote_sheet(f.sheet)}!{f.cell}" if f.sheet and f.cell and ":" not in f.cell else ""
    return f"external:{rel}{anchor}"


def _sources(w: _Writer, result: Reconciliation) -> None:
    ws = w.book.add_worksheet("Sources")
    headers = ["File", "Department", "Status", "Reason", "Saved at", "Rows read", "Errors", "Warnings"]
    per_file: dict[tuple[str, str], int] = {}
    for f in result.findings:
        per_file[(f.file, f.severity.value)] = per_file.get((f.file, f.severity.value), 0) + 1
    rows = [[s.file, s.department, s.status, s.reason, s.modified, s.row_count,
             per_file.get((s.file, "error"), 0), per_file.get((s.file, "warning"), 0)] for s in result.sources]
    w.table(ws, "Sources", headers, rows, widths=[36, 11, 12, 40, 22, 10, 8, 9])

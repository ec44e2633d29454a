"""The decision workbook a department receives: its initiatives with finance's decisions (``cascadebook decisions``).

One sheet a department head can read and print: each initiative with its request beside what was
approved, the decision, the reviewer and the comment; Revise rows highlighted (they come back),
Rejected rows greyed, undecided ones saying so; the totals requested against approved below. Headers
come from the spec (the plan's columns by role, the review's by role), as in the master.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cascadebook.atomic import all_or_nothing, atomic_path, check_folder, check_writable
from cascadebook.cycle.decisions import UNKNOWN, DecisionReview, DepartmentDecisions, InitiativeDecision
from cascadebook.kinds import DECISIONS, stamp
from cascadebook.spec.roles import (
    APPROVE,
    APPROVE_CHANGED,
    APPROVED_BUDGET,
    APPROVED_HEADCOUNT,
    BUDGET,
    DECISION,
    HEADCOUNT,
    ID,
    INITIATIVES,
    OBJECTIVE_REF,
    REJECT,
    REVIEW_COMMENT,
    REVIEWER,
    REVISE,
    TITLE,
)
from cascadebook.spec.units import currency_format
from cascadebook.template.styles import HEADER_FILL, header_format, intro_format, title_format
from cascadebook.xlsx.layout import row_height
from cascadebook.xlsx.printing import PageText, print_setup
from cascadebook.xlsx.writer import Workbook as SafeWorkbook
from cascadebook.xlsx.writer import write_value

SHEET = "Decisions"
HEADER_ROW = 3  # 0-based: title, summary line, a blank row, then the table
REVISE_FILL = "#FCE4D6"  # Revise rows: the department acts on them
REJECTED_FILL, REJECTED_FONT = "#EDEDED", "#7F7F7F"  # Rejected rows: greyed
UNKNOWN_FILL = "#FFC7CE"  # a label the spec does not know (the master has a decision-unknown finding)
MONEY, COUNT, TEXT, WRAP = "money", "count", "text", "wrap"


def decision_workbook_name(cycle: str, code: str) -> str:
    return f"{cycle}_{code}_decisions.xlsx"


def write_decision_workbooks(
    review: DecisionReview, outdir: str | Path, *, generated_at: str | None = None
) -> list[Path]:
    """One workbook per department of ``review`` in ``outdir``, all written or none (atomic); their paths
    in the departments' order."""
    outdir = Path(outdir)
    targets = [outdir / decision_workbook_name(review.cycle, d.code) for d in review.departments]
    check_folder(outdir)
    check_writable(targets, suffixes=(".xlsx",), what="decision workbook")
    made = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    with all_or_nothing():
        for department, target in zip(review.departments, targets):
            write_decision_workbook(review, department, target, generated_at=made)
    return targets


def write_decision_workbook(
    review: DecisionReview, department: DepartmentDecisions, path: str | Path, *, generated_at: str = ""
) -> Path:
    """``department``'s decision workbook at ``path`` (atomically)."""
    spec = review.spec
    sheet = spec.require_sheet(INITIATIVES)
    rv = spec.review
    # (header, width, kind, value of an initiative): the plan's columns and the review's, by role
    columns: list[tuple[str, float, str, Callable[[InitiativeDecision], Any]]] = [
        (sheet.label_of(ID), 12, TEXT, lambda i: i.initiative_id),
        (sheet.label_of(OBJECTIVE_REF), 10, TEXT, lambda i: i.objective),
        (sheet.label_of(TITLE), 32, WRAP, lambda i: i.title),
        (sheet.label_of(BUDGET), 13, MONEY, lambda i: i.requested_budget),
        (rv.header_of(APPROVED_BUDGET), 13, MONEY, lambda i: i.approved_budget),
        (sheet.label_of(HEADCOUNT), 11, COUNT, lambda i: i.requested_headcount),
        (rv.header_of(APPROVED_HEADCOUNT), 11, COUNT, lambda i: i.approved_headcount),
        (rv.header_of(DECISION), 20, TEXT, lambda i: i.shown),
        (rv.header_of(REVIEWER), 14, TEXT, lambda i: i.reviewer),
        (rv.header_of(REVIEW_COMMENT), 40, WRAP, lambda i: i.comment),
    ]
    widths = [w for _, w, _, _ in columns]
    path = Path(path)
    with atomic_path(path) as tmp:
        book = SafeWorkbook(str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
        book.set_properties(
            {
                "title": f"{review.cycle} decisions - {department.name}",
                "company": review.company,
                "comments": "Written by cascadebook decisions from the master " + review.master,
                "created": datetime(2000, 1, 1),
            }
        )
        stamp(book, DECISIONS, cycle=review.cycle, generated_at=generated_at)
        formats = _Formats(book, review.currency)
        ws = book.add_worksheet(SHEET)
        ws.hide_gridlines(2)
        who = f"{department.name} ({department.code})" if department.name != department.code else department.code
        ws.write_string(0, 0, f"{review.cycle} decisions — {who}", formats.title)
        ws.merge_range(1, 0, 1, len(columns) - 1, summary_line(department, spec), formats.intro)
        ws.set_row(1, 32)
        for c, (header, width, _, _) in enumerate(columns):
            ws.write_string(HEADER_ROW, c, header, formats.header)
            ws.set_column(c, c, width)
        ws.set_row(HEADER_ROW, 32)
        r = HEADER_ROW
        for r, item in enumerate(department.initiatives, HEADER_ROW + 1):
            look = _look(item)
            texts = []
            for c, (_, width, kind, value) in enumerate(columns):
                shown = value(item)
                italic = kind == TEXT and shown == item.shown and not item.label
                write_value(ws, r, c, shown, formats.cell(look, kind, italic=italic))
                if kind == WRAP:
                    texts.append((shown, width))
            ws.set_row(r, row_height(texts))
        last = r
        totals = department.totals()
        total_row = last + 1
        ws.write_string(total_row, 0, "Total", formats.cell("total", TEXT))
        for c in range(1, len(columns)):
            ws.write_blank(total_row, c, None, formats.cell("total", TEXT))
        for c, key in (
            (3, "requested_budget"),
            (4, "approved_budget"),
            (5, "requested_headcount"),
            (6, "approved_headcount"),
        ):
            ws.write_number(total_row, c, totals[key], formats.cell("total", columns[c][2]))
        legend = total_row + 2
        ws.write_string(legend, 0, "Legend", formats.cell("note", TEXT, bold=True))
        ws.write_string(
            legend, 2, f"{rv.label_of(REVISE) or REVISE}: to rework and send back", formats.cell(REVISE, TEXT)
        )
        ws.write_string(legend + 1, 2, f"{rv.label_of(REJECT) or REJECT}: not approved", formats.cell(REJECT, TEXT))
        ws.write_string(
            legend + 2,
            2,
            f"An approved amount left blank in the master is the amount requested; {rv.header_of(DECISION)} "
            "'not decided yet': finance has not decided.",
            formats.cell("note", TEXT, italic=True),
        )
        ws.freeze_panes(HEADER_ROW + 1, 0)
        if department.initiatives:
            ws.autofilter(HEADER_ROW, 0, last, len(columns) - 1)
        page = PageText(review.company, review.cycle, who, generated_at.replace("T", " ")[:16])
        print_setup(ws, page, width=sum(widths), repeat=HEADER_ROW, area=(legend + 2, len(columns) - 1))
        book.close()
    return path


def summary_line(department: DepartmentDecisions, spec) -> str:
    """'3 of 4 initiatives decided: 1 Approved, ...; 1 not decided yet.' with the spec's labels."""
    counts = department.counts()
    review = spec.review
    parts = [f"{counts[m]} {review.label_of(m) or m}" for m in (APPROVE, APPROVE_CHANGED, REVISE, REJECT)]
    if counts[UNKNOWN]:
        parts.append(f"{counts[UNKNOWN]} not understood")
    text = f"{counts['decided']} of {len(department.initiatives)} initiative(s) decided: {', '.join(parts)}"
    if counts["undecided"]:
        text += f"; {counts['undecided']} not decided yet"
    return text + "."


def _look(item: InitiativeDecision) -> str:
    if item.meaning in (REVISE, REJECT, UNKNOWN):
        return item.meaning
    return "plain"


class _Formats:
    """Cell formats by row look (plain, revise, reject, unknown, total, note) and column kind, made once each."""

    def __init__(self, book, currency: str) -> None:
        self.book = book
        self.money = currency_format(currency or None)
        self.title = book.add_format(title_format(14))
        self.intro = book.add_format({**intro_format(), "valign": "top"})
        self.header = book.add_format(header_format())
        self._made: dict[tuple[str, str, bool, bool], Any] = {}

    def cell(self, look: str, kind: str, *, italic: bool = False, bold: bool = False):
        key = (look, kind, italic, bold)
        if key not in self._made:
            props: dict[str, Any] = {"valign": "top", "border": 1, "border_color": "#BFBFBF"}
            if look == "note":  # the legend's words: no grid around them
                props = {"valign": "top"}
            if kind == MONEY:
                props["num_format"] = self.money
            elif kind == COUNT:
                props["num_format"] = "#,##0.##"
            elif kind == WRAP:
                props["text_wrap"] = True
            if look == REVISE:
                props["bg_color"] = REVISE_FILL
            elif look == REJECT:
                props.update(bg_color=REJECTED_FILL, font_color=REJECTED_FONT)
            elif look == UNKNOWN:
                props["bg_color"] = UNKNOWN_FILL
            elif look == "total":
                props.update(bold=True, top=2, top_color=HEADER_FILL)
            if italic:
                props.update(italic=True, font_color="#7F7F7F")
            if bold:
                props["bold"] = True
            self._made[key] = self.book.add_format(props)
        return self._made[key]

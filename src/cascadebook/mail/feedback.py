"""Feedback: a copy of a returned workbook with its problems marked, and a reply to whoever sent it.

The copy is the department's own workbook (same hidden metadata, same custom properties, same
protection), so once fixed it reconciles as that department's submission, and being saved later
it wins over the first return. It gains a comment and a red fill on every cell with a problem and
a "To fix" sheet in front listing them with links. The original file is never modified.

Running feedback again on a returned copy replaces the old marks: the "To fix" sheet keeps, in
hidden columns, each marked cell's original fill so it can be put back first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cascadebook.atomic import all_or_nothing, atomic_path
from cascadebook.findings import Finding, Severity
from cascadebook.inbox.common import MailError
from cascadebook.mail.compose import build_message, common_values, head_address, select_departments, write_eml
from cascadebook.model import Strategy
from cascadebook.pipeline import reconcile
from cascadebook.xlsx.addresses import quote_sheet

TO_FIX = "To fix"
AUTHOR = "cascadebook"
MARK_FILL = "FFFFC7CE"
HEADER_FILL = "FF1F3864"
RESTORE_COLUMN = 20  # hidden columns T.. on the To fix sheet: sheet, cell, original fill
EDITABLE = (".xlsx", ".xlsm", ".xltx", ".xltm")
# Findings that are for the strategy office, not something the department can fix in its workbook.
NOT_THEIRS = frozenset(
    {
        "signature-unverified",
        "stale-template",
        "superseded-submission",
        "rows-not-taken",
        "skipped-file",
        "department-not-returned",
        "sender-not-head",
        "objective-uncovered",
        "commitment-shortfall",
        "commitment-surplus",
        "over-budget-cap",
        "over-headcount-cap",
    }
)


def actionable(findings: Sequence[Finding]) -> list[Finding]:
    """Errors and warnings the department can fix in its workbook, in sheet and cell order."""
    chosen = [f for f in findings if f.severity is not Severity.INFO and f.code not in NOT_THEIRS]
    return sorted(chosen, key=Finding.sort_key)


def _fill_to_json(fill) -> str:
    def colour(c):
        if c is None:
            return None
        if c.type == "rgb":
            return {"rgb": c.rgb}
        if c.type == "theme":
            return {"theme": c.theme, "tint": c.tint}
        if c.type == "indexed":
            return {"indexed": c.indexed}
        return None

    return json.dumps({"patternType": fill.patternType, "fg": colour(fill.fgColor), "bg": colour(fill.bgColor)})


def _fill_from_json(text: str):
    from openpyxl.styles import Color, PatternFill

    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return PatternFill()

    def colour(c):
        return Color(**c) if c else Color()

    return PatternFill(
        patternType=data.get("patternType"), fgColor=colour(data.get("fg")), bgColor=colour(data.get("bg"))
    )


def _unmark(book) -> None:
    """Undo an earlier feedback: restore fills, drop our comments, remove the To fix sheet."""
    if TO_FIX not in book.sheetnames:
        return
    sheet = book[TO_FIX]
    for row in sheet.iter_rows(min_row=1, min_col=RESTORE_COLUMN, max_col=RESTORE_COLUMN + 2, values_only=True):
        name, ref, fill = row
        if name in book.sheetnames and ref:
            try:
                book[name][ref].fill = _fill_from_json(fill)
            except (ValueError, KeyError):
                continue
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is not None and cell.comment.author == AUTHOR:
                    cell.comment = None
    book.remove(sheet)


def annotate_workbook(source: str | Path, target: str | Path, findings: Sequence[Finding], *, title: str = "") -> Path:
    """Copy ``source`` to ``target`` with each finding as a comment on its cell, the cell filled red,
    and a "To fix" sheet in front listing them (with links to the cells)."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise MailError(f"{target}: the annotated copy must not overwrite the returned workbook")
    macro = source.suffix.lower() in (".xlsm", ".xltm")
    book = openpyxl.load_workbook(source, keep_vba=macro, keep_links=True)
    _unmark(book)

    mark = PatternFill("solid", fgColor=MARK_FILL)
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.sheet in book.sheetnames and f.cell:
            by_cell.setdefault((f.sheet, f.cell), []).append(f)
    restore = []
    for (sheet_name, ref), items in by_cell.items():
        try:
            cell = book[sheet_name][ref]
        except (ValueError, KeyError):
            continue
        restore.append((sheet_name, ref, _fill_to_json(cell.fill)))
        text = "\n".join(f"{f.severity.value.upper()}: {f.message}\nHow to fix: {f.hint}" for f in items)
        lines = sum(1 + len(t) // 40 for t in text.splitlines())
        comment = Comment(text, AUTHOR, width=320, height=min(40 + 15 * lines, 400))
        if cell.comment is not None:  # keep what the department wrote
            comment = Comment(f"{cell.comment.text}\n---\n{text}", AUTHOR, width=320, height=min(60 + 15 * lines, 420))
        cell.comment = comment
        cell.fill = mark

    ws = book.create_sheet(TO_FIX, 0)
    ws.sheet_properties.tabColor = "C00000"
    ws["A1"] = title or f"{len(findings)} point(s) to fix"
    ws["A1"].font = Font(bold=True, size=14, color="C00000")
    ws["A2"] = (
        "Each cell below is marked in red with a comment. Fix it, save the workbook (keep the .xlsx format) "
        "and send it back. This sheet can stay; it is not read."
    )
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A2:F2")
    ws.row_dimensions[2].height = 32
    headers = ("#", "Severity", "Sheet", "Cell", "Problem", "How to fix")
    for c, header in enumerate(headers, 1):
        cell = ws.cell(row=4, column=c, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    for width, letter in zip((5, 10, 14, 8, 70, 60), "ABCDEF"):
        ws.column_dimensions[letter].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, f in enumerate(findings, 5):
        ws.cell(row=r, column=1, value=r - 4).alignment = wrap
        ws.cell(row=r, column=2, value=f.severity.value).alignment = wrap
        ws.cell(row=r, column=3, value=f.sheet or "").alignment = wrap
        ref = ws.cell(row=r, column=4, value=f.cell or "")
        ref.alignment = wrap
        if f.sheet in book.sheetnames and f.cell:
            ref.hyperlink = Hyperlink(ref=ref.coordinate, location=f"{quote_sheet(f.sheet)}!{f.cell}", display=f.cell)
            ref.font = Font(color="0563C1", underline="single")
        ws.cell(row=r, column=5, value=f.message).alignment = wrap
        ws.cell(row=r, column=6, value=f.hint).alignment = wrap
        lines = max(1, -(-len(f.message) // 66), -(-len(f.hint) // 56))
        ws.row_dimensions[r].height = 15 * lines
        if f.severity is Severity.ERROR:
            ws.cell(row=r, column=2).font = Font(bold=True, color="C00000")
    ws.freeze_panes = "A5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "4:4"
    for r, (sheet_name, ref, fill) in enumerate(restore, 1):
        ws.cell(row=r, column=RESTORE_COLUMN, value=sheet_name)
        ws.cell(row=r, column=RESTORE_COLUMN + 1, value=ref)
        ws.cell(row=r, column=RESTORE_COLUMN + 2, value=fill)
    from openpyxl.utils import get_column_letter

    for c in range(RESTORE_COLUMN, RESTORE_COLUMN + 3):
        ws.column_dimensions[get_column_letter(c)].hidden = True
    book.active = 0
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True

    with atomic_path(target) as tmp:
        book.save(tmp)
    return target


@dataclass
class FeedbackItem:
    department: str
    file: str  # the returned workbook as reconcile named it
    findings: list[Finding]
    workbook: Path | None = None  # the annotated copy
    eml: Path | None = None  # the reply
    to: str = ""
    note: str = ""


def feedback(
    strategy: Strategy,
    inputs: Sequence[str | Path],
    folder: str | Path,
    settings,
    *,
    spec=None,
    key: bytes | None = None,
    jobs: int | None = 1,
    template: str | Path | None = None,
    departments: Sequence[str] | None = None,
) -> list[FeedbackItem]:
    """For each department's returned workbook with something to fix: an annotated copy and a reply .eml."""

    tpl = settings.template("feedback", template)
    wanted = {d.code for d in select_departments(strategy, departments)}
    result = reconcile(strategy, inputs, spec=spec, key=key, jobs=jobs)
    folder = Path(folder)
    items = []
    with all_or_nothing():  # every copy and reply, or none (a copy still open in Excel: atomic.OutputError)
        _feedback_items(strategy, result, folder, settings, tpl, wanted, spec, items)
    return items


def _feedback_items(strategy, result, folder: Path, settings, tpl, wanted, spec, items: list) -> None:

    for code, ret in sorted(result.accepted().items()):
        if code not in wanted:
            continue
        found = actionable(
            [
                f
                for f in result.findings
                if f.department == code and (f.file == ret.file or not f.file) and f.code != "department-not-returned"
            ]
        )
        if not found:
            continue
        dep = strategy.department(code)
        origin = ret.origin
        item = FeedbackItem(code, ret.file, found)
        suffix = Path(ret.path).suffix.lower()
        if suffix in EDITABLE:
            item.workbook = annotate_workbook(
                ret.path,
                folder / f"{strategy.cycle}_{code} - to fix{suffix}",
                found,
                title=f"{dep.name} ({code}): {len(found)} point(s) to fix",
            )
        else:
            item.note = f"a {suffix} workbook cannot be annotated; the reply lists the points"
        to = origin.sender if origin and origin.sender else ""
        item.to = to or dep.email
        recipient = to or head_address(dep)
        from_head = not to or to.casefold() == dep.email.casefold()
        sender_name = origin.sender_name if origin and origin.sender_name else dep.head if from_head else "colleague"
        cc = list(settings.cc) + ([] if from_head else [head_address(dep)])  # the head hears of it too
        values = common_values(strategy, dep, item.workbook.name if item.workbook else "", spec)
        errors = sum(1 for f in found if f.severity is Severity.ERROR)
        values.update(
            {
                "sender_name": sender_name or dep.head,
                "file": Path(ret.path).name,
                "problems": _problem_lines(found),
                "problem_count": str(len(found)),
                "error_count": str(errors),
                "warning_count": str(len(found) - errors),
                "original_subject": origin.subject if origin else "",
            }
        )
        subject, body = tpl.render(values)
        msg = build_message(
            settings,
            to=[recipient],
            subject=subject,
            body=body,
            attachments=[item.workbook] if item.workbook else [],
            kind="feedback",
            cycle=strategy.cycle,
            department=code,
            cc=cc,
            in_reply_to=origin.message_id if origin else "",
        )
        item.eml = write_eml(msg, folder / f"{strategy.cycle}_{code} - to fix.eml")
        items.append(item)


def _problem_lines(findings: Sequence[Finding]) -> str:
    lines = []
    for n, f in enumerate(findings, 1):
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or "workbook")
        lines.append(f"{n}. {where} ({f.severity.value}): {f.message}")
    return "\n".join(lines)

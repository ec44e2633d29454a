"""The Findings sheet: every finding with a link to the file, sheet and cell it points at."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.findings import Finding
from cascadebook.master.book import MasterWriter, Table
from cascadebook.xlsx.addresses import quote_sheet

MAX_URL, MAX_ANCHOR = 2079, 255


def write_findings(w: MasterWriter, result: Reconciliation, table: Table, master_dir: Path, master: str = "") -> None:
    """``master``: the master's own file name; a finding about the master itself (a decision carried
    over, master/review.py) links to its cell in this workbook."""
    paths = {s.file: s.path for s in result.sources}

    def decorate(ws, r: int, i: int) -> None:  # colour the severity and link the cell, in row order
        f = result.findings[i]
        ws.write_string(r, 0, f.severity.value, w.severity[f.severity.value])
        if master and f.file == master and f.file not in paths:
            target = _internal(f)
        else:
            target = _link(f, paths.get(f.file), master_dir)
        if target and r <= w.max_hyperlinks:
            ws.write_url(r, 8, target, w.link, string="open", tip=_tip(f.where))

    table.decorate = decorate
    w.table(table)


# Hyperlinks built from what departments typed (their file and sheet names): a sheet name Excel itself
# would refuse ([]:*?/\, control characters, over 31 characters) gets no anchor, and a link over
# Excel's limits (2079 characters, 255 for the anchor) is shortened or left out, never half-written.
SAFE_SHEET_NAME = re.compile(r"[^\[\]:*?/\\\x00-\x1f\x7f]{1,31}")
SAFE_CELL = re.compile(r"\$?[A-Z]{1,3}\$?[0-9]{1,7}")
URL_ESCAPES = {ch: f"%{ord(ch):02x}" for ch in '%" <>[]^`{}#'}


def _tip(text: str) -> str:
    """A hyperlink's screen tip within Excel's 255 UTF-16 units."""
    while len(text.encode("utf-16-le")) > 2 * MAX_ANCHOR:
        text = text[:-1]
    return text


def _internal(f: Finding) -> str | None:
    """A link to a cell of the master itself."""
    if f.sheet and f.cell and SAFE_SHEET_NAME.fullmatch(f.sheet) and SAFE_CELL.fullmatch(f.cell):
        return f"internal:{quote_sheet(f.sheet)}!{f.cell}"
    return None


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

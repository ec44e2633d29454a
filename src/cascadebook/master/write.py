"""The master goal-hierarchy workbook finance reviews: written with xlsxwriter, atomically.

Every total is a live Excel formula over the master's own tables (with its value cached, so viewers
that do not recalculate still show the right number), so finance can audit any figure in Excel.
Every string from a department is written with ``write_string`` and the workbook has
``strings_to_formulas`` off, so text such as ``=HYPERLINK(...)`` is shown, never run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from cascadebook.atomic import atomic_path
from cascadebook.consolidate.gc_tuning import long_lived
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.kinds import MASTER, stamp
from cascadebook.master.book import MasterWriter
from cascadebook.master.cascade_sheet import write_cascade
from cascadebook.master.commitments_sheet import write_commitments
from cascadebook.master.dashboard import write_dashboard
from cascadebook.master.findings_sheet import write_findings
from cascadebook.master.hierarchy import write_hierarchy
from cascadebook.master.matrix import write_matrix
from cascadebook.master.progress_sheet import write_progress
from cascadebook.master.review import CarriedReview
from cascadebook.master.review_figures import ReviewFigures
from cascadebook.master.summary import write_summary
from cascadebook.master.tables import data_tables
from cascadebook.spec.roles import (
    INITIATIVES,
)
from cascadebook.template.styles import MASTER_PROTECT_OPTIONS
from cascadebook.xlsx.writer import (
    Workbook as SafeWorkbook,
)


def write_master(result: Reconciliation, path: str | Path, review: CarriedReview | None = None) -> Path:
    """Write the master workbook atomically; returns its path. ``review``: finance's decisions carried
    from an earlier master (master/review.py ``carry_decisions``) into the review columns; without it
    the review columns are empty, ready for finance."""
    path = Path(path)
    with long_lived():  # the result outlives the writer's short-lived rows
        return _write_master(result, path, review)


def _write_master(result: Reconciliation, path: Path, review: CarriedReview | None) -> Path:
    figures = ReviewFigures(result, review)  # decided and approved, per department and objective
    tables = data_tables(result, review, figures)
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
        w = MasterWriter(book, result)
        write_dashboard(w, result, tables, figures)  # first: the story at a glance, over the sheets below
        write_summary(w, result, tables, figures)
        if result.progress:  # check-ins were reconciled: Progress and Check-ins sheets
            write_progress(book, result, max_rows=w.max_rows)
        write_commitments(w, result, tables, figures)
        write_matrix(w, result, tables)
        write_hierarchy(w, result, rows_dir)
        write_cascade(w, result)  # only for a cascade (issue 20)
        first = result.spec.sheet_key(INITIATIVES)
        for key in (first, "contributions", *[s.key for s in result.spec.sheets if s.key != first]):
            if key in tables:
                w.table(tables[key])
        if "orphans" in tables:
            w.table(tables["orphans"])
        write_findings(w, result, tables["findings"], path.resolve().parent, path.name)
        w.table(tables["sources"])
        for ws in book.worksheets():  # against accidental edits only: sorting and filtering still work
            ws.protect("", MASTER_PROTECT_OPTIONS)
        book.close()
    return path

"""The Summary sheet: the vision, who returned, the totals as live formulas over the tables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.master.book import (
    MasterWriter,
    Table,
    cell_ref,
    column_label,
    literal,
    resolve_formats,
    sum_over,
    write_formula,
)
from cascadebook.master.commitments_sheet import COMMITMENT_INITIATIVES, COMMITMENTS_SHEET
from cascadebook.master.review_figures import ReviewFigures
from cascadebook.master.rollup_levels import write_levels
from cascadebook.master.rollups import ByUnitSource
from cascadebook.master.tables import Contributions
from cascadebook.org import OrgTree
from cascadebook.spec.roles import (
    APPROVED_BUDGET,
    APPROVED_HEADCOUNT,
    BUDGET,
    HEADCOUNT,
    ID,
    INITIATIVES,
    KPIS,
)
from cascadebook.xlsx.addresses import column_letter, quote_sheet
from cascadebook.xlsx.layout import fit_width, header_height, merged_width, row_height

SUMMARY_SHEET = "Summary"
# The Submissions table's columns (0-based), those the Dashboard charts and counts by name: code, status,
# initiatives, decided and undecided (finance's review), budget, approved budget and the cap, headcount,
# approved headcount and the cap, errors, warnings.
SUBMISSION_CODE, SUBMISSION_STATUS, SUBMISSION_INITIATIVES, SUBMISSION_KPIS = 0, 3, 5, 6
SUBMISSION_DECIDED, SUBMISSION_UNDECIDED = 7, 8
SUBMISSION_BUDGET, SUBMISSION_APPROVED_BUDGET, SUBMISSION_BUDGET_CAP = 9, 10, 11
SUBMISSION_HEADCOUNT, SUBMISSION_APPROVED_HEADCOUNT, SUBMISSION_HEADCOUNT_CAP = 12, 13, 14
SUBMISSION_ERRORS, SUBMISSION_WARNINGS = 15, 16
_FIXED_FACTS = 14  # the facts above the Submissions table, the KPIs' count aside


def _counts_kpis(result: Reconciliation) -> bool:
    """Whether the facts count the KPIs (the spec has a KPIs sheet with an id column)."""
    kpis_sheet = result.spec.sheet_by_role(KPIS)
    return kpis_sheet is not None and bool(kpis_sheet.by_role(ID))


def submission_rows(result: Reconciliation) -> tuple[int, int]:
    """The 1-based sheet rows of the first and last department of the Submissions table (departments
    sorted by code), for formulas and charts of other sheets written before the Summary."""
    first = _FIXED_FACTS + _counts_kpis(result) + 6
    return first, first + max(len(result.strategy.departments), 1) - 1


def write_summary(w: MasterWriter, result: Reconciliation, tables: dict[str, Table], figures: ReviewFigures) -> None:
    """The facts (totals, and finance's review: decided, approved), then a row per department; every
    figure a live formula over the data tables (``figures``: the review's, master/review_figures.py)."""
    resolve_formats(w, tables)
    s = result.strategy
    ws = w.sheet(SUMMARY_SHEET, repeat_header=False)
    departments = sorted(s.departments, key=lambda d: d.code)
    per_department = result.department_counts()  # the terminal table's, the JSON report's and status's numbers
    widths = [
        max(26.0, fit_width([d.code for d in departments], 8, 26)),
        max(30.0, fit_width([d.name for d in departments], 12, 36)),
        fit_width([d.head for d in departments], 13, 26),
        13.0,
        fit_width([per_department[d.code]["file"] for d in departments], 13, 40),  # wraps beyond
        *[13.0] * (SUBMISSION_WARNINGS - 4),
    ]
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
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
    approved_budget, approved_headcount = (
        Contributions.of(spec).approved_budget,
        Contributions.of(spec).approved_headcount,
    )
    review = figures.of(None)

    kpi_facts: list[tuple[str, Callable[[Any, int], None]]] = []
    if kpis is not None and kpis_sheet is not None and _counts_kpis(result):
        count_kpis = sum_over("COUNTA", kpis, kpis_sheet.header_of(ID))
        kpi_facts.append((kpis_sheet.title, lambda ws, r: write_formula(ws, r, 1, count_kpis, len(result.kpis))))

    def total(header: str, value: Any, fmt=None, department: tuple[str, str] | None = None):
        """A sum over a column of the initiatives table (per department when given), or the value
        alone when the spec has no such column."""

        def write(ws, r: int, c: int) -> None:
            if not header:
                w.value(ws, r, c, value, fmt)
            elif department is None:
                write_formula(ws, r, c, sum_over("SUM", inits, header), value, fmt)
            else:
                write_formula(ws, r, c, sum_over("SUMIF", inits, "Department", department, header), value, fmt)

        return write

    def decided_fact(ws, r: int) -> None:
        write_formula(ws, r, 1, figures.decided(), review.decided)
        ws.write_string(r, 2, f"of {len(result.initiatives)}")

    def statement(ws, r: int, text: str) -> None:
        """The vision or mission, merged across the Submissions table's width, as tall as it wraps."""
        ws.merge_range(r, 1, r, 8, text, w.wrap)
        ws.set_row(r, row_height([(text, merged_width(widths[1:9]))]))

    facts: list[tuple[str, Callable[[Any, int], None]]] = [
        ("Vision", lambda ws, r: statement(ws, r, s.vision)),
        ("Mission", lambda ws, r: statement(ws, r, s.mission)),
        ("Reconciled at", lambda ws, r: ws.write_string(r, 1, result.generated_at)),
        (
            "Departments returned",
            lambda ws, r: (  # the Submissions table's "returned" rows (check-ins aside)
                write_formula(ws, r, 1, f'COUNTIF({submissions_status},"returned")', len(accepted)),
                ws.write_string(r, 2, f"of {len(s.departments)}"),
            ),
        ),
        (
            "Objectives covered",
            lambda ws, r: (
                write_formula(
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
            lambda ws, r: write_formula(
                ws, r, 1, sum_over("COUNTA", inits, inits_sheet.header_of(ID)), len(result.initiatives)
            ),
        ),
        *kpi_facts,
        (
            f"{column_label(inits_sheet, BUDGET)} requested",
            lambda ws, r: total(budget_header, budget, w.money)(ws, r, 1),
        ),
        (
            f"{column_label(inits_sheet, HEADCOUNT)} requested",
            lambda ws, r: total(headcount_header, headcount)(ws, r, 1),
        ),
        (f"{inits_sheet.title} decided", decided_fact),
        (
            f"{column_label(inits_sheet, BUDGET)} approved",
            lambda ws, r: write_formula(
                ws, r, 1, figures.approved_total(APPROVED_BUDGET), review.approved[APPROVED_BUDGET], w.money
            ),
        ),
        (
            f"{column_label(inits_sheet, HEADCOUNT)} approved",
            lambda ws, r: write_formula(
                ws, r, 1, figures.approved_total(APPROVED_HEADCOUNT), review.approved[APPROVED_HEADCOUNT]
            ),
        ),
        (
            "Errors",
            lambda ws, r: write_formula(
                ws, r, 1, sum_over("COUNTIF", findings, "Severity", literal("error")), counts["error"]
            ),
        ),
        (
            "Warnings",
            lambda ws, r: write_formula(
                ws, r, 1, sum_over("COUNTIF", findings, "Severity", literal("warning")), counts["warning"]
            ),
        ),
        (
            "Info",
            lambda ws, r: write_formula(
                ws, r, 1, sum_over("COUNTIF", findings, "Severity", literal("info")), counts["info"]
            ),
        ),
    ]
    first_submission, last_submission = submission_rows(result)  # of the Submissions table below
    assert first_submission == len(facts) + 6, "submission_rows counts the facts as they are written"
    submissions_status = f"$D${first_submission}:$D${last_submission}"
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
        "Decided",
        "Undecided",
        column_label(inits_sheet, BUDGET),
        approved_budget,
        "Budget cap",
        column_label(inits_sheet, HEADCOUNT),
        approved_headcount,
        "Headcount cap",
        "Errors",
        "Warnings",
    ]
    assert len(headers) == SUBMISSION_WARNINGS + 1 and headers[SUBMISSION_DECIDED] == "Decided"
    w.header_row(ws, r, headers)
    ws.set_row(r, header_height(zip(headers, widths)))
    top = r + 1
    for d in departments:
        r += 1
        tally = f = per_department[d.code]
        status = tally["status"]
        code_cell = cell_ref(r + 1, 1)
        ws.write_string(r, 0, d.code)
        ws.write_string(r, 1, d.name)
        ws.write_string(r, 2, d.head)
        ws.write_string(r, 3, status, w.missing if status == "not returned" else None)
        ws.write_string(r, 4, tally["file"], w.wrap)
        count = int(tally.get(inits_sheet.key, 0))
        write_formula(ws, r, SUBMISSION_INITIATIVES, sum_over("COUNTIF", inits, "Department", code_cell), count)
        if kpis is not None and kpis_sheet is not None:
            write_formula(
                ws,
                r,
                SUBMISSION_KPIS,
                sum_over("COUNTIF", kpis, "Department", code_cell),
                int(tally.get(kpis_sheet.key, 0)),
            )
        decided = figures.of(d.code)
        write_formula(ws, r, SUBMISSION_DECIDED, figures.decided(code_cell), decided.decided)
        row = r + 1
        write_formula(
            ws,
            r,
            SUBMISSION_UNDECIDED,
            f"{column_letter(SUBMISSION_INITIATIVES + 1)}{row}-{column_letter(SUBMISSION_DECIDED + 1)}{row}",
            count - decided.decided,
        )
        total(budget_header, tally.get(BUDGET, 0), w.money, code_cell)(ws, r, SUBMISSION_BUDGET)
        write_formula(
            ws,
            r,
            SUBMISSION_APPROVED_BUDGET,
            figures.approved_total(APPROVED_BUDGET, code_cell),
            decided.approved[APPROVED_BUDGET],
            w.money,
        )
        w.value(ws, r, SUBMISSION_BUDGET_CAP, d.budget_cap, w.money)
        total(headcount_header, tally.get(HEADCOUNT, 0), None, code_cell)(ws, r, SUBMISSION_HEADCOUNT)
        write_formula(
            ws,
            r,
            SUBMISSION_APPROVED_HEADCOUNT,
            figures.approved_total(APPROVED_HEADCOUNT, code_cell),
            decided.approved[APPROVED_HEADCOUNT],
        )
        w.value(ws, r, SUBMISSION_HEADCOUNT_CAP, d.headcount_cap)
        write_formula(
            ws,
            r,
            SUBMISSION_ERRORS,
            sum_over("COUNTIFS", findings, "Department", code_cell, "Severity", literal("error")),
            f["error"],
        )
        write_formula(
            ws,
            r,
            SUBMISSION_WARNINGS,
            sum_over("COUNTIFS", findings, "Department", code_cell, "Severity", literal("warning")),
            f["warning"],
        )
    bottom = r
    for value_col, cap_col in (
        (SUBMISSION_BUDGET, SUBMISSION_BUDGET_CAP),
        (SUBMISSION_APPROVED_BUDGET, SUBMISSION_BUDGET_CAP),
        (SUBMISSION_HEADCOUNT, SUBMISSION_HEADCOUNT_CAP),
        (SUBMISSION_APPROVED_HEADCOUNT, SUBMISSION_HEADCOUNT_CAP),
    ):
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
    for col, fmt in ((SUBMISSION_ERRORS, w.bad), (SUBMISSION_WARNINGS, w.warn)):
        ws.conditional_format(top, col, bottom, col, {"type": "cell", "criteria": ">", "value": 0, "format": fmt})
    tree = OrgTree.of(s.departments)
    if tree.nested:  # a flat strategy's Summary ends here, as it always did
        reconciled = 2 + [label for label, _ in facts].index("Reconciled at")
        source = ByUnitSource(
            {
                "code": SUBMISSION_CODE,
                "return_status": SUBMISSION_STATUS,
                "errors": SUBMISSION_ERRORS,
                "initiative_count": SUBMISSION_INITIATIVES,
                "submitted_budget": SUBMISSION_BUDGET,
                "approved_budget": SUBMISSION_APPROVED_BUDGET,
                "submitted_headcount": SUBMISSION_HEADCOUNT,
            },
            (first_submission, last_submission),
            f"$B${reconciled + 1}",
            len(s.departments) + 5,  # the Alignment Matrix's first count line (master/matrix.py)
        )
        write_levels(w, ws, result, tree, bottom + 3, source, figures)

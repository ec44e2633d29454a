"""The master's data tables (Initiatives, KPIs, Contributions, Findings, ...): what each holds, row by row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from cascadebook.consolidate.packed import value_rows
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.kinds import MASTER_FINDINGS_HEADERS, MASTER_ROW_SOURCE_HEADERS
from cascadebook.master.book import Table, column_label
from cascadebook.master.decisions_read import ORPHANS_SHEET
from cascadebook.master.review import CarriedReview, orphan_headers, orphan_rows, review_values, unlocked
from cascadebook.master.review_figures import ReviewFigures, share_cells
from cascadebook.model import Record
from cascadebook.spec.roles import (
    APPROVED_BUDGET,
    APPROVED_HEADCOUNT,
    BASELINE,
    BUDGET,
    CONTRIBUTION_WEIGHT,
    DECISION,
    HEADCOUNT,
    ID,
    INITIATIVE_REF,
    INITIATIVES,
    OBJECTIVE_REF,
    ROLES,
    TARGET,
    TITLE,
    UNIT,
)
from cascadebook.spec.schema import Spec
from cascadebook.xlsx.writer import BLANK

CONTRIBUTION_WEIGHT_COLUMN = 4  # the Contributions table's weight column (1-based, D): the approved shares multiply it


@dataclass(frozen=True)
class Contributions:
    """The Contributions table's headers: each initiative's share of an objective, headed as the spec
    heads the initiative's columns (the objective, weight, budget, headcount, id and title)."""

    initiative_id: str
    objective: str
    weight: str
    budget: str
    headcount: str
    initiative: str
    approved_budget: str  # the share of what finance approved (master/review_figures.py), headed as the review's
    approved_headcount: str
    contribution: str = "Contribution"  # the weighted share (the spec's column is the whole)

    @classmethod
    def of(cls, spec: Spec) -> Contributions:
        sheet = spec.sheet_by_role(INITIATIVES)
        return cls(
            column_label(sheet, ID),
            column_label(sheet, OBJECTIVE_REF),
            column_label(sheet, CONTRIBUTION_WEIGHT),
            column_label(sheet, BUDGET),
            column_label(sheet, HEADCOUNT),
            column_label(sheet, TITLE),
            spec.review.header_of(APPROVED_BUDGET) or ROLES[APPROVED_BUDGET].header,
            spec.review.header_of(APPROVED_HEADCOUNT) or ROLES[APPROVED_HEADCOUNT].header,
        )


def data_tables(
    result: Reconciliation, review: CarriedReview | None = None, figures: ReviewFigures | None = None
) -> dict[str, Table]:
    """The master's data tables; formulas elsewhere refer to their columns by header. The Initiatives
    table ends with the spec's review columns (finance's decisions, ``review``: those carried from an
    earlier master, master/review.py) before the source columns. ``figures`` (made from ``review`` when
    not given) is bound to the Initiatives table: the Contributions table's approved shares refer to it."""
    tables: dict[str, Table] = {}
    if figures is None:
        figures = ReviewFigures(result, review)
    objective_of = MainObjectives([*result.allocations, *result.unaligned])
    labels = Contributions.of(result.spec)
    reviewed = result.spec.sheet_key(INITIATIVES) if result.spec.review.enabled else ""
    for sheet in result.spec.sheets:
        # a sheet under the initiatives (the KPIs) also shows its initiative's main objective
        extra = [labels.objective] if sheet.by_role(INITIATIVE_REF) else []
        columns = result.spec.review.columns if sheet.key == reviewed else ()
        records = result.records.get(sheet.key, [])
        tables[sheet.key] = Table(
            sheet.title,
            sheet.title.replace(" ", ""),
            [
                "Department",
                *[c.header for c in sheet.columns],
                *extra,
                *[c.header for c in columns],
                *MASTER_ROW_SOURCE_HEADERS,
            ],
            record_rows(
                records,
                sheet,
                objective_of if extra else None,
                _review_cells(result.spec, review) if columns else None,
            ),
            len(records),
            [
                "type:text",
                *[f"type:{c.type}" for c in sheet.columns],
                *["type:text"] * len(extra),
                *[f"{_review_kind(result.spec, c)}:{c.type}" for c in columns],
                "type:text",
                "type:integer",
            ],
            [12, *[c.width for c in sheet.columns], *[10] * len(extra), *[c.width for c in columns], 28, 10],
            finish=_decision_dropdown(result.spec, 1 + len(sheet.columns) + len(extra)) if columns else None,
            **_in_unit(sheet),
        )
    if result.spec.review.enabled:  # decisions whose initiative is gone: never dropped (master/review.py)
        review_columns = [c for c in result.spec.review.columns if c is not result.spec.review.check]
        orphans = review.orphans if review is not None else []
        tables["orphans"] = Table(
            ORPHANS_SHEET,
            "DecisionsWithoutInitiative",
            orphan_headers(result.spec),
            lambda: orphan_rows(result.spec, orphans),
            len(orphans),
            ["type:text", "type:text", *[f"type:{c.type}" for c in review_columns], "type:text"],
            [12, 13, *[c.width for c in review_columns], 40],
        )
    figures.bind(tables[result.spec.sheet_key(INITIATIVES)])
    allocations, unaligned = result.allocations, result.unaligned
    # every initiative's shares: the objectives it serves, then what no recognised objective takes
    # (Objective "Unaligned"); a contribution not summed is in "Left out", with why
    title_key = result.spec.require_sheet(INITIATIVES).key_of(TITLE)
    unit_of = {o.id.casefold(): o.unit for o in result.strategy.objectives}
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
            labels.approved_budget,
            labels.approved_headcount,
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
                *share_cells(figures, k, a, CONTRIBUTION_WEIGHT_COLUMN),
            ]
            for k, a in enumerate(chain(allocations, unaligned))
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
            "type:currency",
            "type:number",
        ],
        [12, 13, 11, 9, 14, 13, 11, 50, 12, 24, 13, 11],
        unit=lambda row: unit_of.get(str(row[2] or "").casefold(), ""),  # the objective's unit
        unit_columns=(4,),
    )
    findings = result.findings
    tables["findings"] = Table(
        MASTER_FINDINGS_HEADERS[0],
        MASTER_FINDINGS_HEADERS[0],
        list(MASTER_FINDINGS_HEADERS[1:]),
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


def _in_unit(sheet) -> dict[str, Any]:
    """A spec sheet's table shows its baseline and target in each row's unit (by roles; the contribution
    is in the objective's unit, shown so on the Contributions table)."""
    columns = [c.key for c in sheet.columns]
    unit = sheet.key_of(UNIT)
    if not unit:
        return {}
    at = columns.index(unit) + 1  # after Department
    measured = tuple(columns.index(key) + 1 for key in (sheet.key_of(r) for r in (BASELINE, TARGET)) if key)
    return dict(unit=lambda row: row[at], unit_columns=measured) if measured else {}


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


class MainObjectives:
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


def record_rows(
    records: list[Record],
    sheet,
    objective_of: MainObjectives | None,
    review: Callable[[int], list[Any]] | None = None,
) -> Callable[[], Iterable[list[Any]]]:
    """The rows of one input sheet's table, made while they are written (see :class:`Table`);
    ``review(i)``: the review cells of the ``i``-th row (the Initiatives table)."""
    keys = [c.key for c in sheet.columns]
    ref = next((i for i, c in enumerate(sheet.columns) if c.role == INITIATIVE_REF), None)

    def rows() -> Iterable[list[Any]]:
        for i, (department, file, number, values) in enumerate(value_rows(records, keys)):
            row = [department, *values]
            if objective_of is not None:
                row.append(objective_of.get((department, str(values[ref] or "").casefold())))
            if review is not None:
                row += review(i)
            row += (file, number)
            yield row

    return rows


def _review_kind(spec: Spec, column) -> str:
    """How a review column looks: an input finance types (unlocked, shaded) or one reconcile writes (locked)."""
    return "review-input" if unlocked(spec, column) else "review-locked"


def _review_cells(spec: Spec, review: CarriedReview | None) -> Callable[[int], list[Any]]:
    """The review cells of the Initiatives table's ``i``-th row: an empty input is still written (with its
    format: unlocked and shaded), an empty locked cell is not (locked is Excel's default)."""
    empty = review_values(spec, None, BLANK, None)
    if review is None or not review.rows:
        return lambda i: empty
    rows = review.rows
    return lambda i: review_values(spec, rows[i], BLANK, None) if i in rows else empty


def _decision_dropdown(spec: Spec, first: int) -> Callable[[Any, int], None]:
    """The Decision column's dropdown (a list of the spec's decision labels) over a sheet's ``count`` rows;
    ``first``: the 0-based column of the first review column."""
    at = first + [c.key for c in spec.review.columns].index(spec.review.key_of(DECISION))
    labels = list(spec.review.labels)

    def finish(ws, count: int) -> None:
        ws.data_validation(
            1,
            at,
            max(count, 1),
            at,
            {
                "validate": "list",
                "source": labels,
                "input_title": spec.review.header_of(DECISION)[:32],
                "input_message": ", ".join(labels)[:255],
                "error_title": "Not a decision",
                "error_message": f"Pick one of: {', '.join(labels)}"[:255],
            },
        )

    return finish

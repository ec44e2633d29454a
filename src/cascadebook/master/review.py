"""Carrying finance's decisions from one master to the next, so a re-run of reconcile loses none.

A decision belongs to an initiative by (department, initiative id), casefolded, never by row: the new
master puts it on that initiative's row wherever it now is. What the initiative was when decided (the
snapshot: title, objective, target, budget, by the spec's ``records:`` columns) is kept beside it, and
compared with the new row: a difference is written into the Review check column ("changed since
reviewed: Target 150 -> 180") and reported as ``decision-changed``, so a resubmission that changed or
renumbered an initiative is caught rather than silently approved. Finance acknowledges a change by
clearing that cell: the next run takes the snapshot from the row as finance saw it then. A decision whose initiative is gone
(the department dropped it, or its return was not taken this time) goes to the "Decisions without an
initiative" sheet (``decision-orphaned``), is read back from there by the next run, and returns to its
initiative when the initiative does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from cascadebook.consolidate.packed import value_rows
from cascadebook.consolidate.reconcile import Reconciliation
from cascadebook.findings import Finding
from cascadebook.kinds import DEPARTMENT_HEADER
from cascadebook.master.decisions_read import ORPHANS_SHEET, ORPHANS_WHY, ReviewRead
from cascadebook.model import Decision
from cascadebook.spec.roles import DECISION, ID, INITIATIVES
from cascadebook.spec.schema import Column, SheetSpec, Spec, normalise_header
from cascadebook.xlsx.addresses import a1
from cascadebook.xlsx.limits import EXCEL_MAX_ROWS, continued_sheet


@dataclass(frozen=True)
class Carried:
    """A decision on the new master's Initiatives table: ``decision.where`` is its new cell, ``check``
    the Review check text ("" when the initiative is as it was when decided)."""

    decision: Decision
    check: str = ""


@dataclass(frozen=True)
class Orphan:
    """A decision whose initiative is not in the new master, with why."""

    decision: Decision
    why: str


@dataclass
class CarriedReview:
    """What ``write_master(result, path, review=...)`` writes into the review columns: ``rows`` by the
    0-based position of the initiative in ``result.initiatives``, the orphans in order, and the
    findings carrying made (already added to ``result.findings`` by :func:`carry_decisions`)."""

    rows: dict[int, Carried] = field(default_factory=dict)
    orphans: list[Orphan] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def decisions(self) -> list[Decision]:
        """Every decision carried, on an initiative or not."""
        return [c.decision for c in self.rows.values()] + [o.decision for o in self.orphans]


def review_column(sheet: SheetSpec, index: int) -> int:
    """The 1-based column of the ``index``-th review column on the master's Initiatives table: after
    Department and the initiatives sheet's columns (tables.data_tables puts them there)."""
    return 2 + len(sheet.columns) + index


def table_cell(title: str, position: int, column: int) -> tuple[str, str]:
    """(sheet, A1) of the ``position``-th (0-based) data row of a master table titled ``title``,
    continued past Excel's row limit as the master writes it."""
    per_sheet = EXCEL_MAX_ROWS - 1
    return continued_sheet(title, position // per_sheet + 1), a1(position % per_sheet + 2, column)


def carry_decisions(read: ReviewRead, result: Reconciliation, *, into: str | Path | None = None) -> CarriedReview:
    """The decisions of ``read`` (an earlier master's, master/decisions_read.py) placed on ``result``'s
    initiatives, compared with them, and the rest kept as orphans; the findings go into ``result.findings``
    too (the Findings sheet, the JSON report). ``into``: the master being written (its name is the
    findings' file; default: the master read)."""
    spec = result.spec
    sheet = spec.require_sheet(INITIATIVES)
    name = Path(into if into is not None else read.path).name
    carried = CarriedReview()
    if not spec.review.enabled:
        return carried
    pending: dict[tuple[str, str], Decision] = {}
    extra: list[Orphan] = []
    for decision in (*read.decisions, *read.orphans):
        if decision.key in pending or not all(decision.key):
            why = "a second decision for the same initiative" if all(decision.key) else "no department or id"
            extra.append(Orphan(decision, why))
        else:
            pending[decision.key] = decision
    snapshot_keys = [(col.records, sheet.key_of(col.records)) for col in spec.review.snapshots]
    keys = [sheet.key_of(ID), *[key for _, key in snapshot_keys]]
    decision_at = _decision_column(spec, sheet)
    check_at = _check_column(spec, sheet)
    for i, (department, _file, _row, values) in enumerate(value_rows(result.initiatives, keys)):
        found = pending.pop((str(department).strip().casefold(), str(values[0] or "").strip().casefold()), None)
        if found is None:
            continue
        now = {role: values[j] for j, (role, key) in enumerate(snapshot_keys, 1) if key}
        changes = _changes(found.reviewed, now, sheet)
        where_sheet, where_cell = table_cell(sheet.title, i, decision_at)
        decision = replace(found, where=f"{where_sheet}!{where_cell}")
        check = f"changed since reviewed: {'; '.join(changes)}" if changes else ""
        carried.rows[i] = Carried(decision, check)
        if changes:
            at_sheet, at_cell = table_cell(sheet.title, i, check_at or decision_at)
            carried.findings.append(
                Finding(
                    "decision-changed",
                    f"{found.initiative_id} changed since {_label(found, spec)} was made: {'; '.join(changes)}",
                    file=name,
                    sheet=at_sheet,
                    cell=at_cell,
                    department=found.department,
                )
            )
    returned = {d.strip().casefold() for d in result.accepted()}
    gone = [
        Orphan(
            d,
            f"the initiative is no longer in {d.department}'s plan"
            if d.department.strip().casefold() in returned
            else f"no plan of {d.department} was taken this time",
        )
        for d in pending.values()
    ]
    orphan_decision = 3 + [c.key for c in spec.review.columns if c is not spec.review.check].index(
        spec.review.key_of(DECISION)
    )
    for k, orphan in enumerate([*gone, *extra]):
        where_sheet, where_cell = table_cell(ORPHANS_SHEET, k, orphan_decision)
        decision = replace(orphan.decision, where=f"{where_sheet}!{where_cell}")
        carried.orphans.append(Orphan(decision, orphan.why))
        carried.findings.append(
            Finding(
                "decision-orphaned",
                f"{decision.initiative_id or '(no id)'}: {_label(decision, spec)} has no initiative: {orphan.why}; "
                f"it is kept on the {ORPHANS_SHEET!r} sheet",
                file=name,
                sheet=where_sheet,
                cell=where_cell,
                department=decision.department,
            )
        )
    result.findings.extend(carried.findings)
    result.findings.sort(key=Finding.sort_key)
    return carried


def decisions_missing(here: ReviewRead, there: ReviewRead) -> list[Decision]:
    """The decisions of ``here`` (on initiatives or orphaned) that ``there`` has not: none for the same
    initiative, or one whose typed values differ (:func:`same_value`, column by column). The snapshots
    are not compared: they are reconcile's, not finance's."""
    theirs: dict[tuple[str, str], list[Decision]] = {}
    for d in (*there.decisions, *there.orphans):
        theirs.setdefault(d.key, []).append(d)

    def same(a: Decision, b: Decision) -> bool:
        keys = set(a.values) | set(b.values)
        return all(same_value(a.values.get(k), b.values.get(k)) for k in keys)

    return [d for d in (*here.decisions, *here.orphans) if not any(same(d, t) for t in theirs.get(d.key, ()))]


def _decision_column(spec: Spec, sheet: SheetSpec) -> int:
    keys = [c.key for c in spec.review.columns]
    return review_column(sheet, keys.index(spec.review.key_of(DECISION)))


def _check_column(spec: Spec, sheet: SheetSpec) -> int | None:
    check = spec.review.check
    return review_column(sheet, list(spec.review.columns).index(check)) if check is not None else None


def _label(decision: Decision, spec: Spec) -> str:
    label = decision.values.get(spec.review.key_of(DECISION))
    return f"the decision {str(label)!r}" if label not in (None, "") else "the review"


def _changes(reviewed: dict[str, Any] | Any, now: dict[str, Any], sheet: SheetSpec) -> list[str]:
    """'Target 150 -> 180' for each snapshot role whose value differs from the row's now."""
    out = []
    for role, value in now.items():
        before = reviewed.get(role)
        if not same_value(before, value):
            out.append(f"{sheet.label_of(role)} {show(before)} -> {show(value)}")
    return out


def same_value(a: Any, b: Any) -> bool:
    """Whether two values of a column are the same for a reviewer: numbers equal (150 and 150.0), text equal
    case and spacing aside, blank and empty alike."""
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, date) or isinstance(b, date):
        return str(a)[:10] == str(b)[:10]
    return normalise_header(_plain(a)) == normalise_header(_plain(b))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _plain(value: Any) -> str:
    if isinstance(value, tuple):  # an objective split
        return " / ".join(f"{k} {v:.0%}" for k, v in value)
    return str(value)


def show(value: Any) -> str:
    """A value as the check text shows it: 600,000, 0.15, the text, or (blank)."""
    if value in (None, ""):
        return "(blank)"
    number = _number(value)
    if number is not None:
        return f"{int(number):,}" if number.is_integer() else f"{number:,.6g}"
    text = _plain(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unlocked(spec: Spec, column: Column) -> bool:
    """Whether finance types into a review column: the inputs, and the Review check (clearing it
    acknowledges a change, master/decisions_read.py); the snapshots are locked (reconcile writes them)."""
    return column in spec.review.inputs or column is spec.review.check


def review_values(spec: Spec, carried: Carried | None, blank: Any, locked_blank: Any) -> list[Any]:
    """The review cells of one Initiatives row, in the spec's order: what finance typed, the snapshot,
    the check; ``blank`` / ``locked_blank`` for an empty unlocked (:func:`unlocked`) / locked cell."""
    out: list[Any] = []
    review = spec.review
    for col in review.columns:
        if carried is None:
            out.append(locked_blank if col.records else blank)
        elif col.records:
            out.append(_or(carried.decision.reviewed.get(col.records), locked_blank))
        elif col is review.check:
            out.append(carried.check or blank)
        else:
            out.append(_or(carried.decision.values.get(col.key), blank))
    return out


def orphan_headers(spec: Spec) -> list[str]:
    """The orphans table's headers: Department, the initiative id, the review columns but the check, Why."""
    sheet = spec.require_sheet(INITIATIVES)
    review = spec.review
    return [
        DEPARTMENT_HEADER,
        sheet.header_of(ID),
        *[c.header for c in review.columns if c is not review.check],
        ORPHANS_WHY,
    ]


def orphan_rows(spec: Spec, orphans: Iterable[Orphan]) -> Iterable[list[Any]]:
    review = spec.review
    for orphan in orphans:
        d = orphan.decision
        cells = [d.reviewed.get(c.records) if c.records else d.values.get(c.key) for c in review.columns]
        yield [
            d.department,
            d.initiative_id,
            *[v for v, c in zip(cells, review.columns) if c is not review.check],
            orphan.why,
        ]


def _or(value: Any, blank: Any) -> Any:
    return blank if value in (None, "") else value

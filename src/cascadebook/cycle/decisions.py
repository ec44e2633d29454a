"""Finance's decisions read back from the master and checked, per department (``cascadebook decisions``).

Finance decides in the master's review columns (master/decisions_read.py reads them); this module
puts each decision beside the initiative it is about (its request: budget and headcount, by the
spec's roles), works out what was approved by the decision's meaning (REVIEW-DESIGN "What a decision
means": approve = the typed amount, else the request; approve_changed = the typed amount; revise =
nothing yet; reject = 0), and checks what a department must never receive: an approval above the
request, a Revise without a comment to act on, a label that is not one of the dropdown's, an approval
of a row the master holds errors for, a decision on an initiative that changed since. Each finding
names the master's sheet and cell, where finance fixes it.

The per-department workbooks are written by cycle/decisions_book.py; the reply drafts by
mail/decisions.py (the command composes the two).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cascadebook.findings import Finding, Severity, count_by_severity
from cascadebook.kinds import MASTER_FINDINGS_HEADERS, MASTER_ROW_SOURCE_HEADERS, META_PROPERTY_PREFIX
from cascadebook.master.decisions_read import read_decisions
from cascadebook.master.read import _table, open_master, read_master
from cascadebook.master.review import same_value, show
from cascadebook.model import Decision, Record, Strategy
from cascadebook.spec.review import approved_amount
from cascadebook.spec.roles import (
    APPROVE,
    APPROVE_CHANGED,
    APPROVED_BUDGET,
    APPROVED_HEADCOUNT,
    BUDGET,
    DECISION,
    DECISION_MEANINGS,
    HEADCOUNT,
    INITIATIVES,
    OBJECTIVE_REF,
    REJECT,
    REVIEW_CHECK,
    REVIEW_COMMENT,
    REVIEWER,
    REVISE,
    TITLE,
)
from cascadebook.spec.schema import Spec, normalise_header
from cascadebook.xlsx.addresses import a1

UNKNOWN = "unknown"  # a typed label that is not one of the spec's decisions (counted apart)
UNDECIDED = "not decided yet"


@dataclass(frozen=True)
class InitiativeDecision:
    """One initiative of the master with finance's decision on it (``meaning`` "" when undecided,
    :data:`UNKNOWN` for a label the spec does not have). ``approved_*`` follow the decision's meaning:
    None when nothing is approved yet (undecided, revise, unknown), 0 when rejected."""

    department: str
    initiative_id: str
    title: str
    objective: str
    requested_budget: float | None
    requested_headcount: float | None
    label: str = ""
    meaning: str = ""
    approved_budget: float | None = None
    approved_headcount: float | None = None
    reviewer: str = ""
    comment: str = ""
    where: str = ""  # the initiative's row on the master: "Initiatives!A12"

    @property
    def decided(self) -> bool:
        return self.meaning in DECISION_MEANINGS

    @property
    def shown(self) -> str:
        """The decision as the department reads it: the label, or "not decided yet"."""
        return self.label or UNDECIDED

    def to_dict(self) -> dict[str, Any]:
        return {
            "initiative_id": self.initiative_id,
            "title": self.title,
            "objective": self.objective,
            "decision": self.label,
            "meaning": self.meaning or None,
            "requested_budget": self.requested_budget,
            "approved_budget": self.approved_budget,
            "requested_headcount": self.requested_headcount,
            "approved_headcount": self.approved_headcount,
            "reviewer": self.reviewer,
            "comment": self.comment,
            "cell": self.where,
        }


@dataclass
class DepartmentDecisions:
    """A department's initiatives in the master's order, each with its decision, and the findings."""

    code: str
    name: str
    initiatives: list[InitiativeDecision] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many initiatives per meaning, plus ``unknown``, ``decided`` and ``undecided``."""
        out = {m: sum(1 for i in self.initiatives if i.meaning == m) for m in (*DECISION_MEANINGS, UNKNOWN)}
        out["decided"] = sum(out[m] for m in DECISION_MEANINGS)
        out["undecided"] = len(self.initiatives) - out["decided"]
        return out

    def totals(self) -> dict[str, float]:
        """Requested (every initiative) against approved (the approved amounts, 0 for rejected)."""
        return {
            "requested_budget": _sum(i.requested_budget for i in self.initiatives),
            "approved_budget": _sum(i.approved_budget for i in self.initiatives),
            "requested_headcount": _sum(i.requested_headcount for i in self.initiatives),
            "approved_headcount": _sum(i.approved_headcount for i in self.initiatives),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "department": self.code,
            "name": self.name,
            "initiatives": len(self.initiatives),
            "counts": self.counts(),
            "totals": self.totals(),
            "decisions": [i.to_dict() for i in self.initiatives],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class DecisionReview:
    """Every department with at least one initiative in the master, with its decisions and findings."""

    master: str
    cycle: str
    spec: Spec
    departments: list[DepartmentDecisions] = field(default_factory=list)
    company: str = ""  # the strategy's, for the page header ("" without a strategy)
    currency: str = ""  # the strategy's currency code, for money formats

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for d in self.departments for f in d.findings), key=Finding.sort_key)

    @property
    def exit_code(self) -> int:
        """0, or 1 when a finding is an error (as reconcile)."""
        return 1 if any(f.severity is Severity.ERROR for f in self.findings) else 0

    def to_dict(self, outputs: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
        """The JSON report; ``outputs``: department code -> {"workbook": path, "draft": path} written."""
        departments = []
        for d in self.departments:
            data = d.to_dict()
            data.update((outputs or {}).get(d.code, {}))
            departments.append(data)
        return {
            "master": self.master,
            "cycle": self.cycle,
            "counts": count_by_severity(self.findings),
            "departments": departments,
            "findings": [f.to_dict() for f in self.findings],
        }


def review_decisions(master: str | Path, spec: Spec, strategy: Strategy | None = None) -> DecisionReview:
    """The decisions in ``master`` per department, checked. Raises ``MasterError`` for a file that is not
    a master, and ``ReviewDamaged`` (a MasterError whose ``damage`` names the cells) for damaged review
    columns: no decision is reported from a master whose review cannot be read for sure."""
    master = Path(master)
    read = read_decisions(master, spec)
    data = read_master(master, spec)
    layout = _layout(master, spec)
    by_row = {(d.where.partition("!")[0].casefold(), _row(d.where)): d for d in read.decisions}
    departments: dict[str, DepartmentDecisions] = {}
    for record in data.initiatives:
        code = record.department
        department = strategy.department(code) if strategy is not None else None
        group = departments.setdefault(
            code.casefold(),
            DepartmentDecisions(department.code if department else code, department.name if department else code),
        )
        decision = by_row.get((record.sheet_name.casefold(), record.row))
        item, findings = _check(record, decision, spec, layout, master.name)
        group.initiatives.append(item)
        group.findings.extend(findings)
    cycle = strategy.cycle if strategy is not None else master_cycle(master)
    out = DecisionReview(
        master.name,
        cycle or master.stem,
        spec,
        sorted(departments.values(), key=lambda d: d.code),
        strategy.company if strategy is not None else "",
        strategy.currency if strategy is not None else "",
    )
    for d in out.departments:
        d.findings.sort(key=Finding.sort_key)
    return out


@dataclass(frozen=True)
class _Layout:
    """Where things are in the master: the review columns by role (1-based), each initiative row's
    source (file, row) and the rows the master's Findings table holds errors for."""

    columns: dict[str, int]
    sources: dict[tuple[str, int], tuple[str, int]]
    errors: dict[tuple[str, int], list[str]]  # (source file, source row) -> "code: message"


def rows_with_errors(master: Path, spec: Spec) -> set[tuple[str, int]]:
    """The master's Initiatives rows (sheet name casefolded, 1-based row) that its Findings table holds an
    error for: not accepted by reconcile, so not offered to a cascade round's children (cycle/cascade_round.py)."""
    layout = _layout(master, spec)
    return {at for at, source in layout.sources.items() if source in layout.errors}


def _layout(master: Path, spec: Spec) -> _Layout:
    sheet = spec.require_sheet(INITIATIVES)
    with open_master(master) as (book, names):
        initiatives = _table(book, sheet.title, names)
        findings = _table(book, MASTER_FINDINGS_HEADERS[0], names)
    assert initiatives is not None  # read_master has found it
    header, rows = initiatives
    at = {normalise_header(h): c for c, h in reversed(list(enumerate(header))) if isinstance(h, str)}
    columns = {
        c.role: at[normalise_header(c.header)] + 1
        for c in spec.review.columns
        if c.role and normalise_header(c.header) in at
    }
    file_at, row_at = (at.get(normalise_header(h)) for h in MASTER_ROW_SOURCE_HEADERS)
    sources: dict[tuple[str, int], tuple[str, int]] = {}
    if file_at is not None and row_at is not None:
        for name, r, values in rows:
            file, row = _get(values, file_at), _get(values, row_at)
            if file and isinstance(row, (int, float)):
                sources[(name.casefold(), r)] = (str(file), int(row))
    errors: dict[tuple[str, int], list[str]] = {}
    if findings is not None:
        f_header, f_rows = findings
        f_at = {normalise_header(h): c for c, h in enumerate(f_header) if isinstance(h, str)}
        severity, code, _dep, file_c, sheet_c, cell_c, message = (
            f_at.get(normalise_header(h)) for h in MASTER_FINDINGS_HEADERS[1:8]
        )
        for _, _, values in f_rows:
            if str(_get(values, severity) or "").casefold() != Severity.ERROR.value:
                continue
            if normalise_header(_get(values, sheet_c) or "") != normalise_header(sheet.title):
                continue
            row = _row(str(_get(values, cell_c) or ""))
            if row:
                errors.setdefault((str(_get(values, file_c) or ""), row), []).append(
                    f"{_get(values, code)}: {_get(values, message)}"
                )
    return _Layout(columns, sources, errors)


def _check(
    record: Record, decision: Decision | None, spec: Spec, layout: _Layout, master: str
) -> tuple[InitiativeDecision, list[Finding]]:
    """The initiative with what was approved, and the findings on its decision."""
    sheet = spec.require_sheet(INITIATIVES)
    review = spec.review
    values = record.values
    budget, headcount = _number(values.get(sheet.key_of(BUDGET))), _number(values.get(sheet.key_of(HEADCOUNT)))
    typed = decision.values if decision is not None else {}
    label = _text(typed.get(review.key_of(DECISION)))
    meaning = review.meaning(label) if label else ""
    if label and not meaning:
        meaning = UNKNOWN
    findings: list[Finding] = []

    def at(role: str, code: str, message: str) -> None:
        column = layout.columns.get(role) or layout.columns.get(DECISION, 1)
        findings.append(
            Finding(
                code,
                f"{record.id}: {message}",
                file=master,
                sheet=record.sheet_name,
                cell=a1(record.row, column),
                department=record.department,
            )
        )

    approved: dict[str, float | None] = {}
    for role, request, what in ((APPROVED_BUDGET, budget, "budget"), (APPROVED_HEADCOUNT, headcount, "headcount")):
        raw = typed.get(review.key_of(role))
        amount = _number(raw)
        if raw not in (None, "") and amount is None:
            at(role, "approved-not-a-number", f"the approved {what} {str(raw)!r} is not a number")
        approved[role] = approved_amount(meaning, raw, request)  # spec/review.py: the formulas' rule
        if meaning in (APPROVE, APPROVE_CHANGED):
            if amount is not None and request is not None and amount > request + 1e-9:
                at(
                    role,
                    f"approved-{what}-above-request",
                    f"approved {what} {show(amount)} is above the {show(request)} requested",
                )
            elif amount is not None and request is None and amount > 0:
                at(role, f"approved-{what}-above-request", f"approved {what} {show(amount)} where none was requested")
    if meaning == APPROVE_CHANGED and all(
        typed.get(review.key_of(r)) in (None, "") for r in (APPROVED_BUDGET, APPROVED_HEADCOUNT)
    ):
        at(
            APPROVED_BUDGET,
            "approved-amount-missing",
            f"{label!r} without an approved budget or headcount: taken as requested",
        )
    comment = _text(typed.get(review.key_of(REVIEW_COMMENT)))
    if meaning == REVISE and not comment:
        at(
            REVIEW_COMMENT,
            "revise-without-comment",
            f"{label!r} without a comment: the department cannot tell what to revise",
        )
    if meaning == UNKNOWN:
        at(DECISION, "decision-unknown", f"{label!r} is not a decision (the dropdown's: {', '.join(review.labels)})")
    source = layout.sources.get((record.sheet_name.casefold(), record.row))
    errors = layout.errors.get(source, []) if source else []
    if errors and meaning in (APPROVE, APPROVE_CHANGED):
        at(
            DECISION,
            "decision-on-error",
            f"{label!r} on an initiative with {len(errors)} error(s) in the master: {errors[0]}",
        )
    if decision is not None and meaning:
        changes = [
            f"{sheet.label_of(role)} {show(before)} -> {show(values.get(sheet.key_of(role)))}"
            for role, before in decision.reviewed.items()
            if sheet.key_of(role) and not same_value(before, values.get(sheet.key_of(role)))
        ]
        if changes:
            at(
                REVIEW_CHECK,
                "decision-unconfirmed",
                f"changed since {label!r} was made ({'; '.join(changes)}), not re-confirmed",
            )
    item = InitiativeDecision(
        department=record.department,
        initiative_id=record.id,
        title=_text(values.get(sheet.key_of(TITLE))),
        objective=_text(values.get(sheet.key_of(OBJECTIVE_REF))),
        requested_budget=budget,
        requested_headcount=headcount,
        label=label,
        meaning=meaning,
        approved_budget=approved[APPROVED_BUDGET],
        approved_headcount=approved[APPROVED_HEADCOUNT],
        reviewer=_text(typed.get(review.key_of(REVIEWER))),
        comment=comment,
        where=f"{record.sheet_name}!{a1(record.row, 1)}",
    )
    return item, findings


def reply_values(department: DepartmentDecisions, spec: Spec, currency: str = "") -> dict[str, str]:
    """The ``decisions`` placeholders of a department's reply (mail/decisions.py, email_decisions.txt)."""
    counts, totals = department.counts(), department.totals()
    sheet = spec.require_sheet(INITIATIVES)

    def money(value: float | None) -> str:
        return " ".join(p for p in (currency, f"{value:,.0f}") if p) if value is not None else ""

    lines = []
    for i in department.initiatives:
        parts = [f"- {i.initiative_id} {i.title}: {i.shown}"]
        if i.meaning in (APPROVE, APPROVE_CHANGED):
            if i.approved_budget is not None:
                parts.append(
                    f"{sheet.label_of(BUDGET).lower()} {money(i.approved_budget)} of {money(i.requested_budget or 0)}"
                )
            if i.approved_headcount is not None:
                parts.append(
                    f"{sheet.label_of(HEADCOUNT).lower()} {show(i.approved_headcount)} of {show(i.requested_headcount or 0)}"
                )
        line = ", ".join(parts)
        lines.append(f"{line} ({i.comment})" if i.comment else line)
    undecided = counts["undecided"]
    return {
        "initiative_count": str(len(department.initiatives)),
        "decided_count": str(counts["decided"]),
        "undecided_count": str(undecided),
        "approved_count": str(counts[APPROVE] + counts[APPROVE_CHANGED]),
        "changed_count": str(counts[APPROVE_CHANGED]),
        "revise_count": str(counts[REVISE]),
        "rejected_count": str(counts[REJECT]),
        "requested_budget": money(totals["requested_budget"]),
        "approved_budget": money(totals["approved_budget"]),
        "requested_headcount": show(totals["requested_headcount"]),
        "approved_headcount": show(totals["approved_headcount"]),
        "decisions": "\n".join(lines),
        "undecided_line": (
            f"\n{undecided} initiative(s) are {UNDECIDED}; you will hear about them when they are.\n"
            if undecided
            else ""
        ),
    }


def master_cycle(path: str | Path) -> str:
    """The cycle the master was written for (its ``cascadebook.cycle`` document property), "" if none."""
    from defusedxml import ElementTree

    try:
        with zipfile.ZipFile(path) as package:
            data = package.read("docProps/custom.xml")
        root = ElementTree.fromstring(data)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return ""
    for prop in root:
        if prop.get("name") == f"{META_PROPERTY_PREFIX}cycle" and len(prop):
            return (prop[0].text or "").strip()
    return ""


def _get(values: list[Any], c: int | None) -> Any:
    return values[c] if c is not None and c < len(values) and values[c] != "" else None


def _row(where: str) -> int:
    digits = "".join(ch for ch in where.rpartition("!")[2] if ch.isdigit())
    return int(digits) if digits else 0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sum(values) -> float:
    return float(sum(v for v in values if v is not None))

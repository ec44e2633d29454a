"""Reconcile: identify every returned workbook, keep the newest per department, validate, consolidate.

Reading is a pure function per file (``read_return``), so it runs in a process pool and is merged
back in input order: the result is the same whatever the number of jobs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cascadebook.consolidate.cascade import Cascade, reconcile_cascade
from cascadebook.consolidate.checkins import reconcile_checkins
from cascadebook.consolidate.commitments import Allocation, Commitment, allocate, commitment_findings, commitments
from cascadebook.consolidate.left_out import not_taken
from cascadebook.consolidate.newest import newest_wins
from cascadebook.consolidate.packed import RecordList
from cascadebook.consolidate.progress import ProgressReport
from cascadebook.findings import Finding, Severity, count_by_severity
from cascadebook.inbox.sender import sender_finding  # a workbook that came by e-mail: was it its head's?
from cascadebook.intake.dispatch import is_checkin
from cascadebook.intake.reader import Return
from cascadebook.model import Record, Strategy
from cascadebook.parent_plan import cascades
from cascadebook.spec.roles import BUDGET, HEADCOUNT, INITIATIVES, KPIS
from cascadebook.spec.schema import Spec


@dataclass
class Reconciliation:
    strategy: Strategy
    spec: Spec
    sources: list[Return]
    records: dict[str, Sequence[Record]]  # a RecordList per sheet key (consolidate/packed.py)
    findings: list[Finding]
    allocations: list[Allocation] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0).isoformat())
    progress: ProgressReport | None = None
    _tally: dict | None = field(
        default=None, repr=False, compare=False
    )  # from check-in returns (cycle/checkin.py); None without any
    # the share of each initiative no recognised objective takes (objective unknown or blank, split
    # short of 100%), as allocations to commitments.UNALIGNED: every view that counts rows shows it
    unaligned: list[Allocation] = field(default_factory=list)
    # the cascade (issue 20): None unless some unit aligns to its parent's plan (consolidate/cascade.py)
    cascade: Cascade | None = None

    @property
    def initiatives(self) -> list[Record]:
        """The rows of the spec's initiatives sheet (whatever its key)."""
        return self.records.get(self.spec.sheet_key(INITIATIVES), [])

    @property
    def kpis(self) -> list[Record]:
        """The rows of the spec's KPIs sheet (whatever its key)."""
        return self.records.get(self.spec.sheet_key(KPIS), [])

    @property
    def counts(self) -> dict[str, int]:
        return count_by_severity(self.findings)

    @property
    def exit_code(self) -> int:
        return 1 if self.counts["error"] else 0

    def accepted(self) -> dict[str, Return]:
        return {s.department: s for s in self.sources if s.status == "accepted" and not is_checkin(s)}

    def contributors(self) -> dict[str, list[str]]:
        """Objective id -> the departments with an initiative against it (sorted)."""
        found: dict[str, set[str]] = {o.id: set() for o in self.strategy.objectives}
        for allocation in self.allocations:
            found[allocation.objective_id].add(allocation.department)
        return {k: sorted(v) for k, v in found.items()}

    def department_counts(self) -> dict[str, dict[str, object]]:
        """Per department of the strategy (by code): its status ("returned", "rejected", "not returned"),
        rows per sheet key, budget, headcount and findings per severity (every finding that names the
        department: its files', its coverage and caps', its check-ins'). The one place per-department
        numbers come from: the terminal table, the JSON report, ``status`` and the master's Summary
        (whose formulas recalculate to the same) all show these."""
        accepted = self.accepted()
        rejected = {s.department: s.file for s in self.sources if s.status == "rejected"}  # the last, by name
        tally = self.tally()
        out: dict[str, dict[str, object]] = {}
        for d in sorted(self.strategy.departments, key=lambda d: d.code):
            mine = tally.get(d.code, {})
            out[d.code] = {
                "status": "returned" if d.code in accepted else "rejected" if d.code in rejected else "not returned",
                "file": accepted[d.code].file if d.code in accepted else rejected.get(d.code, ""),
                **{s.key: int(mine.get(s.key, 0)) for s in self.spec.sheets},
                BUDGET: mine.get(BUDGET, 0),
                HEADCOUNT: mine.get(HEADCOUNT, 0),
                **self.findings_for(d.code),
            }
        return out

    def findings_for(self, department: str) -> dict[str, int]:
        tally = self.tally().get(department, {})
        return {s.value: int(tally.get(s.value, 0)) for s in Severity}

    def tally(self) -> dict[str, dict[str, float]]:
        """Per department: rows per sheet key, budget, headcount, allocations and findings per
        severity; per objective: allocations. Summaries ask per department; asking the lists per
        department would cost departments × rows (40 million steps at 1,000 departments). The rows'
        part was added up where each file was validated (:func:`record_totals`): the rows may be
        packed (consolidate/packed.py) and would otherwise be decoded for it."""
        if self._tally is None:
            out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
            for source in self.accepted().values():
                mine = out[source.department]
                for key, value in source.totals.items():
                    mine[key] += value
            for a in self.allocations:
                out[a.department]["allocations"] += 1
                out[a.objective_id]["objective_allocations"] += 1
            for a in self.unaligned:
                out[a.department]["unaligned"] += 1
            for f in self.findings:
                out[f.department][f.severity.value] += 1
            self._tally = out
        return self._tally

    def to_dict(self) -> dict:
        return {
            "cycle": self.strategy.cycle,
            "generated_at": self.generated_at,
            "counts": {
                **self.counts,
                "sources": len(self.sources),
                **{k: len(v) for k, v in self.records.items()},
                "departments_returned": len(self.accepted()),
                "departments": len(self.strategy.departments),
            },
            "departments": self.department_counts(),
            "sources": [
                {
                    "file": s.file,
                    "department": s.department,
                    "status": s.status,
                    "reason": s.reason,
                    "modified": s.modified,
                    "received": s.received,
                    "rows": s.row_count,
                }
                for s in self.sources
            ],
            "findings": [f.to_dict() for f in self.findings],
            **({"progress": self.progress.to_dict()} if self.progress else {}),
            **({"cascade": self.cascade.to_dict()} if self.cascade is not None else {}),
        }


def record_totals(records: dict[str, Sequence[Record]], spec: Spec) -> dict[str, float]:
    """One department's rows per sheet key and its initiatives' budget and headcount (under the
    role names ``budget`` and ``headcount``: the report's words, whatever the spec's keys)."""
    totals: dict[str, float] = {key: len(rows) for key, rows in records.items() if rows}
    sheet = spec.sheet_by_role(INITIATIVES)
    rows = records.get(sheet.key, ()) if sheet is not None else ()
    for role in (BUDGET, HEADCOUNT):
        key = sheet.key_of(role) if sheet is not None else ""
        values = (r.values.get(key) for r in rows) if key else ()
        totals[role] = sum(v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    return totals


def consolidate(strategy: Strategy, spec: Spec, sources: list[Return], skipped: list[Return]) -> Reconciliation:
    checkins = [r for r in sources if is_checkin(r)]  # progress reports: reconcile_checkins below
    sources = [r for r in sources if not is_checkin(r)]

    for ret in sources:
        origin = ret.origin  # the message it came in (inbox), carried by the Return itself
        if origin is None:
            continue
        ret.received = ret.received or origin.date
        wrong_sender = sender_finding(strategy, ret.department, origin.sender, ret.file, origin.source)
        if wrong_sender and ret.status == "accepted":
            ret.findings.append(wrong_sender)
    newest = newest_wins((r for r in sources if r.status == "accepted"), key=lambda r: r.department)

    findings: list[Finding] = []
    records: dict[str, RecordList] = {s.key: RecordList() for s in spec.sheets}
    for ret in sources:
        if ret.status in ("superseded", "rejected"):
            ret.findings = not_taken(ret)
        findings.extend(ret.findings)
    for code in sorted(newest):
        ret = newest[code]
        findings.extend(ret.row_findings)
        for sheet_key, rows in ret.records.items():
            records.setdefault(sheet_key, RecordList()).add(
                rows if isinstance(rows, RecordList) else list(rows), department=code
            )
    for ret in skipped:
        findings.extend(ret.findings)

    unaligned: list[Allocation] = []
    initiatives = spec.sheet_by_role(INITIATIVES)
    planned: Sequence[Record] = records.get(initiatives.key, []) if initiatives else []
    cascade = None
    if initiatives is not None and cascades(strategy):
        cascade, cascade_findings = reconcile_cascade(strategy, initiatives, planned, newest, findings)
        findings.extend(cascade_findings)
    allocations, allocation_findings = allocate(
        strategy, initiatives, planned, unaligned, cascade.chains if cascade is not None else None
    )
    findings.extend(allocation_findings)
    result = Reconciliation(
        strategy,
        spec,
        sorted(sources + skipped, key=lambda r: r.file),
        records,
        findings,
        allocations,
        commitments(strategy, allocations),
        unaligned=unaligned,
        cascade=cascade,
    )
    findings.extend(_coverage(result, newest))
    findings.extend(commitment_findings(strategy, result.commitments, [*allocations, *unaligned]))
    if checkins:
        result.sources = sorted(result.sources + checkins, key=lambda r: r.file)
        result.progress, progress_findings = reconcile_checkins(result, checkins)
        findings.extend(progress_findings)
    findings.sort(key=Finding.sort_key)
    return result


def _coverage(result: Reconciliation, returned: dict[str, Return]) -> Iterable[Finding]:
    strategy = result.strategy
    for objective, departments in result.contributors().items():
        if not departments:
            yield Finding(
                "objective-uncovered",
                f"no department has an initiative against {objective}",
                sheet="Objectives",
                location=objective,
            )
    contributing = {a.department for a in result.allocations}
    for department in strategy.departments:
        if department.code not in returned:
            yield Finding(
                "department-not-returned",
                f"{department.name} ({department.code}) has not returned "
                f"its template; head: {department.head} <{department.email}>",
                department=department.code,
            )
        elif department.code not in contributing:
            yield Finding(
                "department-no-contribution",
                f"{department.name} returned no initiative against a corporate objective",
                file=returned[department.code].file,
                department=department.code,
            )

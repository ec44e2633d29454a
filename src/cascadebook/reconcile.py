"""Reconcile: identify every returned workbook, keep the newest per department, validate, consolidate.

Reading is a pure function per file (``read_return``), so it runs in a process pool and is merged
back in input order: the result is the same whatever the number of jobs.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from cascadebook.cells import row_ranges
from cascadebook.commitments import Allocation, Commitment, allocate, commitment_findings, commitments
from cascadebook.findings import Finding, Severity, count_by_severity
from cascadebook.heap import long_lived
from cascadebook.checkin import columns_outside, is_checkin, read_any, reconcile_checkins, spec_of
from cascadebook.model import Record, Strategy
from cascadebook.progress import ProgressReport
from cascadebook.returns import WORKBOOK_SUFFIXES, Return, expand_inputs
from cascadebook.signing import verify
from cascadebook.spec import Spec, resolve_spec, spec_candidates
from cascadebook.store import RecordList
from cascadebook.validate import validate_records

Progress = Callable[[int, int, str], None]
PACK_ABOVE = 2_000  # workbooks; below it rows stay plain objects (fastest), above it they are packed


@dataclass
class Reconciliation:
    strategy: Strategy
    spec: Spec
    sources: list[Return]
    records: dict[str, Sequence[Record]]  # a RecordList per sheet key (store.py)
    findings: list[Finding]
    allocations: list[Allocation] = field(default_factory=list)
    commitments: list[Commitment] = field(default_factory=list)
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0).isoformat())
    progress: ProgressReport | None = None
    _tally: dict | None = field(
        default=None, repr=False, compare=False
    )  # from check-in returns (checkin.py); None without any
    # the share of each initiative no recognised objective takes (objective unknown or blank, split
    # short of 100%), as allocations to commitments.UNALIGNED: every view that counts rows shows it
    unaligned: list[Allocation] = field(default_factory=list)

    @property
    def initiatives(self) -> list[Record]:
        return self.records.get("initiatives", [])

    @property
    def kpis(self) -> list[Record]:
        return self.records.get("kpis", [])

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
                "budget": mine.get("budget", 0),
                "headcount": mine.get("headcount", 0),
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
        packed (store.py) and would otherwise be decoded for it."""
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
        }


@dataclass(frozen=True)
class _Intake:
    """Everything done to one file on its own — read, identify, validate — so it runs in a worker.

    A workbook later superseded by a newer one was validated for nothing; that is cheaper than a
    second, serial pass over the accepted ones.
    """

    spec: Spec
    strategy: Strategy
    key: bytes | None
    pack: bool = False  # many files: hand each department's rows back packed (see store.py)
    specs: tuple[Spec, ...] = ()  # other specs a return may be signed with (spec.spec_candidates)

    def __call__(self, path: Path, name: str) -> Return:
        ret = read_any(path, self.spec, name, self.specs)
        _identify(ret, self.strategy, self.key)
        if ret.status == "accepted" and not is_checkin(ret):
            own = spec_of(ret, self.spec, self.specs)  # the spec the department's template was made with
            ret.records, ret.row_findings = validate_records(self.strategy, own, ret.records, ret.department)
            if own is not self.spec:
                ret.row_findings.extend(columns_outside(ret, own, self.spec))
            ret.validated = True
            ret.totals = record_totals(ret.records)
            if self.pack:
                ret.records = {k: RecordList(rows).packed() for k, rows in ret.records.items()}
        return ret


def record_totals(records: dict[str, Sequence[Record]]) -> dict[str, float]:
    """One department's rows per sheet key and its initiatives' budget and headcount."""
    totals: dict[str, float] = {key: len(rows) for key, rows in records.items() if rows}
    for field_ in ("budget", "headcount"):
        values = (r.values.get(field_) for r in records.get("initiatives", ()))
        totals[field_] = sum(v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    return totals


def _read_all(files: list[tuple[Path, str]], intake: _Intake, jobs: int, progress: Progress | None) -> list[Return]:
    total = len(files)
    if jobs <= 1 or total < 4:
        results = []
        for i, (path, name) in enumerate(files, 1):
            results.append(intake(path, name))
            if progress:
                progress(i, total, name)
        return results
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = []
        chunk = max(1, min(64, total // (jobs * 8)))
        for i, ret in enumerate(pool.map(intake, [p for p, _ in files], [n for _, n in files], chunksize=chunk), 1):
            results.append(ret)
            if progress:
                progress(i, total, ret.file)
        return results


def _identify(ret: Return, strategy: Strategy, key: bytes | None) -> None:
    """Accept or reject a readable return by its metadata; the file name is never trusted."""
    ret.read_findings = len(ret.findings)  # what reading found; a file not used keeps only why (_not_taken)
    meta = ret.metadata
    if meta is None:
        return
    if ret.identity_problem:  # two copies of the identity disagree: copied from another template
        ret.status, ret.reason = "rejected", "identity metadata copied or edited"
        ret.findings.append(
            Finding("signature-mismatch", ret.identity_problem, file=ret.file, department=meta.department)
        )
        return
    content = ret.identified_by == "content"  # no metadata left: titles and ids, nothing to verify
    several = [c for c in ret.content_departments if strategy.department(c) is not None]
    if content and len({c.casefold() for c in several} | {meta.department.casefold()}) > 1:
        shown = ", ".join(sorted({meta.department, *several}, key=str.casefold))
        ret.status, ret.reason = "rejected", f"rows of several departments ({shown})"
        ret.findings.append(
            Finding(
                "several-departments",
                f"the workbook has no cascadebook metadata and its "
                f"rows belong to several departments ({shown}), so it is no single "
                "department's return (a master, or plans merged into one workbook); none "
                "of its rows was taken",
                file=ret.file,
            )
        )
        ret.metadata = replace(meta, department="")  # no department's return: it stands for none of them
        return
    if meta.cycle != strategy.cycle and not (content and not meta.cycle):
        ret.status, ret.reason = "rejected", f"template of cycle {meta.cycle}, not {strategy.cycle}"
        ret.findings.append(
            Finding(
                "other-cycle",
                f"the template belongs to cycle {meta.cycle!r}, this reconcile is {strategy.cycle!r}",
                file=ret.file,
                department=meta.department,
            )
        )
        return
    if strategy.department(meta.department) is None:
        ret.status, ret.reason = "rejected", f"unknown department {meta.department}"
        ret.findings.append(
            Finding(
                "unknown-department",
                f"department {meta.department!r} is not in the strategy",
                file=ret.file,
                department=meta.department,
            )
        )
        return
    if content:
        ret.findings.append(
            Finding(
                "identified-by-content",
                f"no cascadebook metadata is left; the workbook was "
                f"taken as {meta.department}'s from its visible content ({ret.reason}"
                f"{'' if meta.cycle else ', cycle not shown'}), unverified",
                file=ret.file,
                department=meta.department,
            )
        )
        ret.status, ret.reason = "accepted", f"{ret.reason}, unverified"
        return
    if key is None:
        ret.findings.append(
            Finding(
                "signature-unverified",
                "no signing key was found, so the template's identity could not be verified",
                file=ret.file,
                department=meta.department,
            )
        )
    elif not verify(meta, key):
        ret.status, ret.reason = "rejected", "metadata does not match its signature"
        ret.findings.append(
            Finding(
                "signature-mismatch",
                f"the metadata says {meta.department} but its signature does not match; it was edited or copied",
                file=ret.file,
                department=meta.department,
            )
        )
        return
    if ret.spec_problem:  # its rows read by another spec's headers would be thinned: refused instead
        ret.status, ret.reason = "rejected", f"template spec {meta.spec_name}@{meta.spec_version} not found"
        ret.findings.append(Finding("spec-mismatch", ret.spec_problem, file=ret.file, department=meta.department))
        return
    if meta.fingerprint != strategy.fingerprint():
        ret.findings.append(
            Finding(
                "stale-template",
                "the objectives changed after this template was generated",
                file=ret.file,
                department=meta.department,
            )
        )
    ret.status = "accepted"


def _not_taken(ret: Return) -> list[Finding]:
    """The findings of a file whose rows are not used (superseded or rejected): why, and where its rows
    are. What reading and checking it found is no longer live: its warnings and errors are dropped
    (its info findings, which name rows not in the master, stay), and so are the identity notes of a
    superseded file; a rejected file keeps the finding that says why it was rejected."""
    why = ret.findings[ret.read_findings :] if ret.status == "rejected" else []
    kept = [f for f in ret.findings[: ret.read_findings] if f.severity is Severity.INFO]
    kept += why or [f for f in ret.findings[ret.read_findings :] if f.severity is Severity.INFO]
    return kept + list(_rows_not_taken(ret))


def _rows_not_taken(ret: Return) -> Iterable[Finding]:
    for sheet_key, rows in ret.records.items():
        if rows:
            numbers = tuple(r.row for r in rows)
            yield Finding(
                "rows-not-taken",
                f"{len(rows)} row(s) not taken ({ret.reason}): rows {row_ranges(numbers)}",
                file=ret.file,
                sheet=ret.sheet_names.get(sheet_key, sheet_key),
                cell=f"A{numbers[0]}",
                department=ret.department,
                rows=numbers,
            )


def reconcile(
    strategy: Strategy,
    inputs: Iterable[str | Path],
    *,
    spec: Spec | None = None,
    key: bytes | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    pack_above: int | None = None,
    specs: Sequence[Spec] | None = None,
) -> Reconciliation:
    """Read, identify, validate and consolidate every returned workbook under ``inputs``.

    With more than ``pack_above`` workbooks (default :data:`PACK_ABOVE`) each department's rows are
    kept packed (compressed) and decoded as they are used: memory then grows by a tenth of what the
    rows take as Python objects, for a few percent more time.

    A return signed with another spec than ``spec`` is read and validated with that spec when it is
    among ``specs`` (default: :func:`~cascadebook.spec.spec_candidates`, the specs beside the
    strategy and the bundled one), and refused (``spec-mismatch``) when it is not.
    """
    spec = spec or resolve_spec(None, strategy)  # the strategy's own: its spec:, else department.yaml beside it
    specs = tuple(spec_candidates(spec, strategy.source or None) if specs is None else specs)
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    files, skipped = [], []
    for path, name in expand_inputs(list(inputs)):
        if path.name.startswith(("~$", ".~lock")) or path.suffix.lower() not in WORKBOOK_SUFFIXES:
            skipped.append(
                Return(
                    path=str(path),
                    file=name,
                    status="skipped",
                    reason="not a workbook",
                    findings=[Finding("skipped-file", "not a workbook (or an editor's lock file)", file=name)],
                )
            )
        else:
            files.append((path, name))
    pack = len(files) > (PACK_ABOVE if pack_above is None else pack_above)
    sources = _read_all(files, _Intake(spec, strategy, key, pack, specs), jobs, progress)
    with long_lived():  # what was read is kept; consolidating it makes 400,000 allocations and more
        return _consolidate(strategy, spec, sources, skipped)


def _consolidate(strategy: Strategy, spec: Spec, sources: list[Return], skipped: list[Return]) -> Reconciliation:
    checkins = [r for r in sources if is_checkin(r)]  # progress reports: reconcile_checkins below
    sources = [r for r in sources if not is_checkin(r)]

    newest: dict[str, Return] = {}
    from cascadebook.mail.collect import origin_of, sender_finding  # a workbook that came by e-mail: its message

    for ret in sources:
        origin = origin_of(ret.path, ret.file)
        if origin is None:
            continue
        ret.received = ret.received or origin.date
        wrong_sender = sender_finding(strategy, ret.department, origin.sender, ret.file, origin.source)
        if wrong_sender and ret.status == "accepted":
            ret.findings.append(wrong_sender)
    # Newest wins, but a signed return always wins over a workbook identified only by its content.
    for ret in sorted(
        (r for r in sources if r.status == "accepted"),
        key=lambda r: (r.identified_by != "content", r.received or r.modified, r.file),
        reverse=True,
    ):
        if ret.department in newest:
            kept = newest[ret.department]
            ret.status, ret.reason = "superseded", f"superseded by {kept.file}"
            if ret.identified_by == "content" and kept.identified_by != "content":
                message = (
                    f"{kept.file} is {ret.department}'s signed return; this workbook was identified only "
                    "by its visible content, so it does not replace it, whatever their dates"
                )
            else:
                message = (
                    f"{kept.file} is a newer submission from {ret.department} ({kept.received or kept.modified}"
                    f" vs {ret.received or ret.modified})"
                )
            ret.findings.append(Finding("superseded-submission", message, file=ret.file, department=ret.department))
        else:
            newest[ret.department] = ret

    findings: list[Finding] = []
    records: dict[str, RecordList] = {s.key: RecordList() for s in spec.sheets}
    for ret in sources:
        if ret.status in ("superseded", "rejected"):
            ret.findings = _not_taken(ret)
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
    allocations, allocation_findings = allocate(strategy, records.get("initiatives", []), unaligned)
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


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)

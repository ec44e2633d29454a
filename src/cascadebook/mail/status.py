"""Who has returned, who is late, who returned with errors; and reminders for the missing.

Status runs the same reconcile as the master (same identity checks, same rules), so "returned
with errors" here means exactly what the master's Findings sheet will show.

When units report to other units (issue 20's org tree), each row carries its level and parent, rows
come in the tree's order (a unit, then the units below it), and the report adds a roll-up per unit
with units below it and per level: a division head asks "how far is my division", not "how far is
each of my forty teams". A flat strategy's report is as it always was (same order, same JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path

from cascadebook.findings import Finding, Severity
from cascadebook.inbox.common import MailError, parse_iso
from cascadebook.mail.compose import build_message, common_values, find_templates, format_date, head_address, write_eml
from cascadebook.model import Strategy
from cascadebook.org import OrgTree
from cascadebook.pipeline import reconcile

STATES = ("returned", "returned with errors", "waiting", "late", "rejected")


@dataclass
class DepartmentStatus:
    code: str
    name: str
    head: str
    email: str
    state: str  # returned, returned with errors, waiting, late, rejected
    late: bool = False  # returned after the deadline, or still missing after it
    returned_at: str = ""  # mail date, else the workbook's save time (ISO)
    file: str = ""
    sender: str = ""
    errors: int = 0
    warnings: int = 0
    reason: str = ""  # why a received workbook could not be used
    findings: list[Finding] = field(default_factory=list, repr=False)
    level: int = 1  # in the org tree: 1 reports to the company
    parent: str = ""  # the unit it reports to ("" at level 1)

    @property
    def missing(self) -> bool:
        return self.state in ("waiting", "late", "rejected")

    def to_dict(self, nested: bool = False) -> dict:
        """``nested``: with the unit's level and parent (left out for a flat strategy, whose JSON is unchanged)."""
        data = asdict(self)
        data["findings"] = [f.to_dict() for f in self.findings]
        if not nested:
            del data["level"], data["parent"]
        return data


@dataclass(frozen=True)
class UnitRollup:
    """A unit with units below it, counted with all of them: how many units, and how many in each state."""

    code: str
    name: str
    level: int
    parent: str
    counts: dict[str, int]  # "units" and every state of STATES

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "level": self.level, "parent": self.parent, **self.counts}


@dataclass
class StatusReport:
    cycle: str
    deadline: date | None
    today: date
    departments: list[DepartmentStatus]
    result: object = field(default=None, repr=False)  # the Reconciliation behind it
    tree: OrgTree | None = field(default=None, repr=False)  # the strategy's org tree

    @property
    def nested(self) -> bool:
        return self.tree is not None and self.tree.nested

    def count(self, state: str) -> int:
        return sum(1 for d in self.departments if d.state == state)

    def _counts(self, rows: Sequence[DepartmentStatus]) -> dict[str, int]:
        return {"units": len(rows), **{s: sum(1 for d in rows if d.state == s) for s in STATES}}

    def by_unit(self) -> list[UnitRollup]:
        """Each unit with units below it (in the tree's order), counted with every unit below it."""
        if self.tree is None or not self.tree.nested:
            return []
        tree, rows = self.tree, {d.code: d for d in self.departments}
        return [
            UnitRollup(
                code,
                rows[code].name,
                rows[code].level,
                rows[code].parent,
                self._counts([rows[c] for c in (code, *tree.descendants(code)) if c in rows]),
            )
            for code in tree.order()
            if tree.children_of(code) and code in rows
        ]

    def by_level(self) -> dict[int, dict[str, int]]:
        """Level -> how many units sit at it, and how many of them are in each state (empty when flat)."""
        if not self.nested:
            return {}
        levels = sorted({d.level for d in self.departments})
        return {n: self._counts([d for d in self.departments if d.level == n]) for n in levels}

    @property
    def missing(self) -> list[DepartmentStatus]:
        return [d for d in self.departments if d.missing]

    def to_dict(self) -> dict:
        return {
            "cycle": self.cycle,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "today": self.today.isoformat(),
            "counts": {s: self.count(s) for s in STATES},
            "departments": [d.to_dict(self.nested) for d in self.departments],
        } | (
            {
                "by_unit": [u.to_dict() for u in self.by_unit()],
                "by_level": {str(n): counts for n, counts in self.by_level().items()},
            }
            if self.nested
            else {}
        )


def _after_deadline(moment: str, deadline: date | None) -> bool:
    when = parse_iso(moment)
    if when is None or deadline is None:
        return False
    return when > datetime.combine(deadline, time(23, 59, 59), tzinfo=timezone.utc)


def department_status(
    strategy: Strategy,
    inputs: Sequence[str | Path],
    *,
    spec=None,
    key: bytes | None = None,
    today: date | None = None,
    jobs: int | None = 1,
) -> StatusReport:

    today = today or date.today()
    result = reconcile(strategy, inputs, spec=spec, key=key, jobs=jobs)
    accepted = result.accepted()
    counts = result.department_counts()  # the master's and the JSON report's numbers, not counted again here
    named: dict[str, list[Finding]] = {}  # reconcile's findings (the sender check included), per department
    for f in result.findings:
        if f.severity is not Severity.INFO:
            named.setdefault(f.department, []).append(f)
    tree = OrgTree.of(strategy.departments)
    # the tree's order: a flat strategy's is by code, as always; a nested one's a unit then those below it
    place = {code: n for n, code in enumerate(tree.order())} if tree.nested else {}
    rows = []
    for dep in sorted(strategy.departments, key=lambda d: (place.get(d.code, len(place)), d.code)):
        row = DepartmentStatus(dep.code, dep.name, dep.head, dep.email, state="waiting")
        if tree.nested:
            row.level, row.parent = tree.level(dep.code), tree.parent(dep.code) or ""
        row.findings = named.get(dep.code, [])
        row.errors, row.warnings = counts[dep.code]["error"], counts[dep.code]["warning"]
        ret = accepted.get(dep.code)
        if ret is not None:
            origin = ret.origin
            row.file = ret.file
            row.sender = origin.sender if origin else ""
            row.returned_at = (origin.date if origin and origin.date else "") or ret.modified
            row.late = _after_deadline(row.returned_at, strategy.response_deadline)
            # The state is the used file's; the counts are the department's (as the Summary and the JSON
            # report count them), which may include a rejected or superseded copy's problems: said in a note.
            own = sum(1 for f in row.findings if f.severity is Severity.ERROR and f.file == ret.file)
            row.state = "returned with errors" if own else "returned"
            if row.errors > own:
                row.reason = f"{row.errors - own} error(s) in files not used (see the master's Sources)"
        else:
            rejected = [s for s in result.sources if s.department == dep.code and s.status == "rejected"]
            if rejected:
                row.state, row.file, row.reason = "rejected", rejected[-1].file, rejected[-1].reason
            elif strategy.response_deadline is not None and today > strategy.response_deadline:
                row.state = "late"
            row.late = strategy.response_deadline is not None and today > strategy.response_deadline
        rows.append(row)
    return StatusReport(strategy.cycle, strategy.response_deadline, today, rows, result, tree)


def write_reminders(
    report: StatusReport,
    strategy: Strategy,
    folder: str | Path,
    settings,
    *,
    spec=None,
    outbox: str | Path | None = None,
    key: bytes | None = None,
    template: str | Path | None = None,
) -> list[Path]:
    """A reminder .eml for each department without a usable return (with its template again, given OUTBOX)."""

    tpl = settings.template("reminder", template)
    templates = find_templates(strategy, outbox, spec=spec, key=key) if outbox else {}
    if outbox and report.missing and not any(row.code in templates for row in report.missing):
        raise MailError(f"no current template for the missing departments in {outbox}")
    written = []
    for row in report.missing:
        dep = strategy.department(row.code)
        attachment = templates.get(dep.code)
        values = common_values(strategy, dep, attachment.name if attachment else "", spec)
        values["due_line"] = _due_line(strategy.response_deadline, report.today)
        if row.state == "rejected":
            values["due_line"] += (
                f" The workbook we received ({row.file}) could not be used: {row.reason}. "
                "Please fill in the template attached to the original message."
            )
        values["attachment_line"] = f"The template is attached again ({attachment.name}).\n" if attachment else ""
        subject, body = tpl.render(values)
        msg = build_message(
            settings,
            to=[head_address(dep)],
            subject=subject,
            body=body,
            attachments=[attachment] if attachment else [],
            kind="reminder",
            cycle=strategy.cycle,
            department=dep.code,
        )
        written.append(write_eml(msg, Path(folder) / f"{strategy.cycle}_{dep.code} reminder.eml"))
    return written


def _due_line(deadline: date | None, today: date) -> str:

    if deadline is None:
        return "Please send it as soon as you can."
    days = (today - deadline).days
    if days > 0:
        return f"The deadline was {format_date(deadline)}, {days} day{'s' if days != 1 else ''} ago."
    if days == 0:
        return f"The deadline is today, {format_date(deadline)}."
    return f"The deadline is {format_date(deadline)}, in {-days} day{'s' if days != -1 else ''}."

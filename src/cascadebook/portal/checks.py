"""One upload checked the moment it arrives, by the same code ``reconcile`` runs on every file.

``pipeline.check_file`` reads the workbook through the hostile-file gate, identifies and validates it
exactly as reconcile does, so the findings a head sees on the page are those the master will carry
for that file. Only the verdict whether to keep it is the portal's: a workbook reconcile would not take
(rejected: unreadable, hostile, foreign, another cycle's) or one of another department is refused, and
nothing of it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cascadebook.findings import Finding
from cascadebook.inbox.sources import Input
from cascadebook.model import Origin, Strategy
from cascadebook.pipeline import check_file
from cascadebook.spec.schema import Spec


@dataclass(frozen=True)
class Checked:
    """What the check of one upload found: reconcile's status and findings for it, and whether to keep it."""

    status: str  # reconcile's: accepted, rejected
    department: str  # the department the workbook identified as ("" when it could not be)
    findings: list[Finding] = field(default_factory=list)
    refused: str = ""  # why it is not stored ("" when it is)

    @property
    def kept(self) -> bool:
        return not self.refused


@dataclass(frozen=True)
class Checker:
    """Everything needed to check an upload, picklable: runs in a worker process under load."""

    strategy: Strategy
    spec: Spec
    specs: tuple[Spec, ...]
    key: bytes | None

    def __call__(self, path: Path, name: str, department: str, uploaded_at: str, source: str) -> Checked:
        item = Input(path, name, Origin(source, date=uploaded_at))
        ret, findings = check_file(self.strategy, item, spec=self.spec, key=self.key, specs=self.specs)
        if ret.status != "accepted":
            return Checked(ret.status, ret.department or "", findings, ret.reason or "the workbook cannot be used")
        if (ret.department or "").casefold() != department.casefold():
            wrong = Finding(
                "portal-wrong-department",
                f"this is {ret.department}'s workbook, uploaded on {department}'s page; it was not stored",
                file=name,
                department=department,
            )
            return Checked(ret.status, ret.department or "", [wrong, *findings], wrong.message)
        return Checked(ret.status, ret.department or "", findings)

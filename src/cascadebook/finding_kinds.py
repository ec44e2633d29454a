"""What a finding code is: its severity, scope, title and hint (``FindingKind``), and the severities.

Below the catalogue's data (finding_codes_intake.py, finding_codes_cycle.py) and findings.py, which joins
them into ``CATALOGUE``; split so that no module of the catalogue passes ~500 lines.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class FindingKind:
    """One entry of the findings catalogue: what a code means, how severe it is, what to do about it.

    (The row checks that produce findings are ``intake.rules.RowRule``.)"""

    code: str
    severity: Severity
    scope: str  # strategy, file, row, coverage
    title: str
    hint: str


def kind(code: str, severity: str, scope: str, title: str, hint: str) -> FindingKind:
    return FindingKind(code, Severity(severity), scope, title, hint)

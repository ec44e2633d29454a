"""Findings: every problem the tool reports is data with a stable code, never a loose string.

The catalogue (finding_codes_intake.py, finding_codes_cycle.py, joined here as ``CATALOGUE``) is the
single place a code, its severity, its title and its hint are written; README's findings table is
generated from it (a test keeps them in step).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cascadebook.finding_codes_cycle import CYCLE_KINDS
from cascadebook.finding_codes_intake import INTAKE_KINDS
from cascadebook.finding_kinds import FindingKind, Severity

__all__ = ["CATALOGUE", "Finding", "FindingKind", "Severity"]

CATALOGUE: dict[str, FindingKind] = {k.code: k for k in (*INTAKE_KINDS, *CYCLE_KINDS)}


@dataclass(frozen=True)
class Finding:
    """One problem, with where it is as Excel shows it (file, sheet, A1 cell, 1-based row)."""

    code: str
    message: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    department: str = ""
    location: str = ""  # for YAML strategies: the key path, e.g. objectives[2].target
    rows: tuple[int, ...] = field(default=())  # for rows-not-taken: the row numbers concerned

    def __post_init__(self) -> None:
        if self.code not in CATALOGUE:
            raise KeyError(f"unknown finding code {self.code!r}")

    @property
    def kind(self) -> FindingKind:
        return CATALOGUE[self.code]

    @property
    def severity(self) -> Severity:
        return self.kind.severity

    @property
    def hint(self) -> str:
        return self.kind.hint

    @property
    def where(self) -> str:
        place = f"{self.sheet}!{self.cell}" if self.sheet and self.cell else self.sheet or self.location
        return ": ".join(p for p in (self.file, place) if p)

    def sort_key(self) -> tuple:
        return (self.severity.rank, self.department, self.file, self.sheet, _cell_order(self.cell), self.code)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["rows"] = list(self.rows)
        data["severity"] = self.severity.value
        data["hint"] = self.hint
        return data


def _cell_order(cell: str) -> tuple[int, str]:
    digits = "".join(ch for ch in cell if ch.isdigit())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (int(digits) if digits else 0, letters.rjust(3))


def count_by_severity(findings) -> dict[str, int]:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


def catalogue_markdown() -> str:
    """The README's findings table, generated from the catalogue so the two cannot drift."""
    lines = ["| code | severity | scope | what | hint |", "|---|---|---|---|---|"]
    for rule in CATALOGUE.values():
        lines.append(f"| `{rule.code}` | {rule.severity.value} | {rule.scope} | {rule.title} | {rule.hint} |")
    return "\n".join(lines)


MORE_IN_MASTER = "see the master's Findings sheet"


def format_finding_line(f: Finding) -> str:
    """One finding as a linter prints it: ``file: Sheet!Cell: severity code: message``."""
    where = f.where or (f"department {f.department}" if f.department else "cycle")
    return f"{where}: {f.severity.value} {f.code}: {f.message}"


def finding_lines(
    findings, severities=(Severity.ERROR,), cap: int | None = 50, more: str = MORE_IN_MASTER
) -> list[str]:
    """The findings of ``severities`` as lines, errors first, grouped by department, file and sheet, in cell
    order; past ``cap`` lines one more line says how many were left out and where to see them."""
    wanted = {Severity(s) for s in severities}
    chosen = sorted((f for f in findings if f.severity in wanted), key=Finding.sort_key)
    lines = [format_finding_line(f) for f in (chosen if cap is None else chosen[:cap])]
    if cap is not None and len(chosen) > cap:
        lines.append(f"… and {len(chosen) - cap} more ({more})")
    return lines


def cell_finding(code: str, message: str, record: Any, key: str) -> Finding:
    """A finding at one cell of a returned row (a ``model.Record``): its file, sheet and department,
    and the cell of column ``key`` (column A of its row when the row has no such cell)."""
    return Finding(
        code,
        message,
        file=record.file,
        sheet=record.sheet_name,
        cell=record.cells.get(key, f"A{record.row}"),
        department=record.department,
    )

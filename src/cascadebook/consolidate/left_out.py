"""What is said of a file whose rows are not used (superseded or rejected): why, and where its rows are."""

from __future__ import annotations

from collections.abc import Iterable

from cascadebook.findings import Finding, Severity
from cascadebook.intake.reader import Return
from cascadebook.xlsx.addresses import row_ranges


def not_taken(ret: Return) -> list[Finding]:
    """The findings of a file whose rows are not used (superseded or rejected): why, and where its rows
    are. What reading and checking it found is no longer live: its warnings and errors are dropped
    (its info findings, which name rows not in the master, stay), and so are the identity notes of a
    superseded file; a rejected file keeps the finding that says why it was rejected."""
    why = ret.findings[ret.read_findings :] if ret.status == "rejected" else []
    kept = [f for f in ret.findings[: ret.read_findings] if f.severity is Severity.INFO]
    kept += why or [f for f in ret.findings[ret.read_findings :] if f.severity is Severity.INFO]
    return kept + list(rows_not_taken(ret))


def rows_not_taken(ret: Return) -> Iterable[Finding]:
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

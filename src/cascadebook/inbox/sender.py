"""The sender check: was a workbook sent by its department head?"""

from __future__ import annotations

from cascadebook.findings import Finding
from cascadebook.inbox.common import address_of


def sender_finding(
    strategy, department: str, sender: str, file: str, source: str = "", forwarded_by: str = ""
) -> Finding | None:
    """``sender-not-head`` when a workbook came from an address other than its department head's.

    ``sender`` is the author of the message the workbook was attached to (for a forwarded message, the
    original sender, not ``forwarded_by``)."""
    dep = strategy.department(department) if department else None
    if dep is None or not sender or not dep.email or address_of(sender) == address_of(dep.email):
        return None
    where = f" ({source})" if source and source != file else ""
    if forwarded_by:
        where = f" (forwarded by {forwarded_by}{'; ' + where[2:-1] if where else ''})"
    return Finding(
        "sender-not-head",
        f"{dep.code}'s workbook was sent by {sender}, not by the department head {dep.head} <{dep.email}>{where}",
        file=file,
        department=dep.code,
    )

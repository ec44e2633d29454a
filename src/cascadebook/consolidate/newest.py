"""Newest wins: of several accepted returns for the same thing, one is used and the others are superseded.

Plans are keyed by department, check-ins by department and period; both go through :func:`newest_wins`,
so the order is the same for both: a signed return (identified by its metadata) always beats one
identified only by its visible content, whatever their dates; then the later received (an e-mail's
date) or, without one, last-saved time wins; then the later file name, so a tie is decided the same
way on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from cascadebook.findings import Finding
from cascadebook.intake.reader import Return

K = TypeVar("K", bound=Hashable)


def newer_first(ret: Return) -> tuple[bool, str, str]:
    """The sort key, newest last: signed before content-identified, then received or modified, then name."""
    return (ret.identified_by != "content", ret.received or ret.modified, ret.file)


def newest_wins(
    returns: Iterable[Return], key: Callable[[Return], K], what: Callable[[Return], str] | None = None
) -> dict[K, Return]:
    """The newest of ``returns`` per ``key``; every other one is marked superseded (status and reason)
    and gets a ``superseded-submission`` finding naming the one used.

    ``what`` names a return in that finding (a check-in: "Q2 check-in"); without it a plan's is a
    "submission", and its signed workbook a "return". What a superseded file's other findings become is the caller's
    (``left_out.not_taken``).
    """
    newest: dict[K, Return] = {}
    for ret in sorted(returns, key=newer_first, reverse=True):
        at = key(ret)
        kept = newest.get(at)
        if kept is None:
            newest[at] = ret
            continue
        ret.status, ret.reason = "superseded", f"superseded by {kept.file}"
        noun = what(kept) if what else ""
        if ret.identified_by == "content" and kept.identified_by != "content":
            message = (
                f"{kept.file} is {ret.department}'s signed {noun or 'return'}; this workbook was identified only "
                "by its visible content, so it does not replace it, whatever their dates"
            )
        else:
            message = (
                f"{kept.file} is a newer {noun or 'submission'} from {ret.department} "
                f"({kept.received or kept.modified} vs {ret.received or ret.modified})"
            )
        ret.findings.append(Finding("superseded-submission", message, file=ret.file, department=ret.department))
    return newest

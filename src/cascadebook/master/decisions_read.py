"""Reading finance's decisions back from a master: its review columns and its orphans sheet.

Finance decides in the master (spec ``review:`` columns on the Initiatives table); the next
``reconcile`` carries those decisions over (master/review.py), and later steps send them back. A
decision is never taken from a master whose review columns cannot be read for sure: a review header
missing or given twice is :class:`ReviewDamaged`, naming the sheet and cell, and reconcile then
refuses to replace that master. A master written before review columns existed has none of their
headers: it simply has no decisions.

Everything is found by the spec: the table by the initiatives sheet's title, its columns by header,
the review columns by role (ReviewSpec), so a renamed header in the spec is read as renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cascadebook.kinds import DEPARTMENT_HEADER
from cascadebook.master.read import MasterError, _clean, _table, open_master
from cascadebook.model import Decision
from cascadebook.spec.roles import DECISION, ID, INITIATIVES
from cascadebook.spec.schema import Column, SheetSpec, Spec, normalise_header
from cascadebook.xlsx.addresses import a1

ORPHANS_SHEET = "Decisions without an initiative"  # 31 characters: Excel's longest sheet name
ORPHANS_WHY = "Why"  # the orphans table's last column: why the decision has no initiative


class ReviewDamaged(MasterError):
    """A master whose review columns cannot be read for sure (a header missing or given twice): its
    decisions would be lost or mixed up, so it is not replaced. ``damage``: one line per problem, each
    naming the sheet and cell."""

    def __init__(self, path: str | Path, damage: list[str]) -> None:
        self.path = str(path)
        self.damage = tuple(damage)
        more = f" (and {len(damage) - 1} more)" if len(damage) > 1 else ""
        super().__init__(
            f"{Path(path).name}: the review columns are damaged, so its decisions cannot be read: {damage[0]}{more}; "
            "restore them (undo, or copy the header from the previous master) and run again"
        )


@dataclass(frozen=True)
class ReviewRead:
    """What a master holds of finance's review: the decisions on its Initiatives table, those on its
    orphans sheet (their initiative was gone when it was written), and what is damaged (see
    :class:`ReviewDamaged`; empty unless read with ``strict=False``)."""

    path: str
    decisions: tuple[Decision, ...] = ()
    orphans: tuple[Decision, ...] = ()
    damage: tuple[str, ...] = ()
    has_review: bool = False  # the master has review columns (False: written before they existed)


def read_decisions(path: str | Path, spec: Spec, *, strict: bool = True) -> ReviewRead:
    """The decisions in the master at ``path``, read with ``spec``'s review columns.

    A row is a decision when any of its review input columns (``spec.review.inputs``) is filled. Its
    ``reviewed`` snapshot is the master's snapshot columns when any is filled (the decision was carried
    before), else the row's own values of those roles (what finance saw when deciding); on the
    Initiatives table a blank Review check cell re-takes it from the row too: finance cleared "changed
    since reviewed" to acknowledge the change (an unchanged row's snapshot equals the row anyway). Raises
    :class:`MasterError` for a file that is not a master (no Initiatives table) and, with ``strict``,
    :class:`ReviewDamaged` for damaged review columns."""
    path = Path(path)
    sheet = spec.require_sheet(INITIATIVES)
    with open_master(path) as (book, names):
        table = _table(book, sheet.title, names)
        if table is None:
            raise MasterError(f"{path.name}: no {sheet.title!r} sheet; is it a cascadebook master?")
        orphan_table = _table(book, ORPHANS_SHEET, names)
    review = spec.review
    damage: list[str] = []
    header, rows = table
    found = _find_headers(header, review.columns, sheet.title, damage)
    has_review = bool(found) or orphan_table is not None
    decisions: list[Decision] = []
    orphans: list[Decision] = []
    if has_review and review.enabled:
        _require(found, review, sheet.title, len(sheet.columns) + 1, damage)
        plan = _plan_columns(header, sheet, spec, damage, sheet.title, path.name)
        decisions = [d for r in rows if (d := _decision(r, found, plan, spec, sheet.title)) is not None]
        if orphan_table is None:  # every master with review columns has it, empty or not
            damage.append(f"the {ORPHANS_SHEET!r} sheet is missing (renamed or deleted)")
        else:
            o_header, o_rows = orphan_table
            o_found = _find_headers(o_header, review.columns, ORPHANS_SHEET, damage)
            _require(o_found, review, ORPHANS_SHEET, None, damage)
            o_plan = _plan_columns(o_header, sheet, spec, damage, ORPHANS_SHEET, path.name, snapshot_roles=False)
            orphans = [d for r in o_rows if (d := _decision(r, o_found, o_plan, spec, ORPHANS_SHEET)) is not None]
    if damage and strict:
        raise ReviewDamaged(path, damage)
    return ReviewRead(str(path), tuple(decisions), tuple(orphans), tuple(damage), has_review)


def _find_headers(header: list[Any], columns: tuple[Column, ...], title: str, damage: list[str]) -> dict[str, int]:
    """Review column key -> 0-based column, by header; a header given twice is damage."""
    wanted = {normalise_header(c.header): c for c in columns}
    found: dict[str, int] = {}
    for c, value in enumerate(header):
        col = wanted.get(normalise_header(value)) if isinstance(value, str) else None
        if col is None:
            continue
        if col.key in found:
            damage.append(
                f"{title}!{a1(1, found[col.key] + 1)} and {title}!{a1(1, c + 1)}: the review header {col.header!r} "
                "is there twice (delete the copy)"
            )
            continue
        found[col.key] = c
    return found


def _require(found: dict[str, int], review, title: str, first: int | None, damage: list[str]) -> None:
    """Every review column with a role must be there (one without a role, or a snapshot, may be new in
    the spec; the orphans sheet has no check column): a missing one is damage, named by where reconcile
    wrote it (``first``: the 0-based column of the first review column; None: the orphans sheet)."""
    for k, col in enumerate(review.columns):
        if col.key in found or not col.role or (first is None and col is review.check):
            continue
        at = a1(1, first + k + 1) if first is not None else "row 1"
        damage.append(f"{title}!{at}: the review header {col.header!r} is missing (renamed or deleted)")


def _plan_columns(
    header: list[Any],
    sheet: SheetSpec,
    spec: Spec,
    damage: list[str],
    title: str,
    name: str,
    snapshot_roles: bool = True,
) -> dict[str, int]:
    """The table's own columns a decision needs: Department, the initiative id and (on the Initiatives
    table) the initiative's columns the snapshots record, as ``__department``, ``__id`` and role -> column."""
    wanted = {normalise_header(DEPARTMENT_HEADER): "__department", normalise_header(sheet.header_of(ID)): "__id"}
    if snapshot_roles:
        for col in spec.review.snapshots:
            plan = sheet.by_role(col.records)
            if plan is not None:
                wanted.setdefault(normalise_header(plan.header), col.records)
    found: dict[str, int] = {}
    for c, value in enumerate(header):
        key = wanted.get(normalise_header(value)) if isinstance(value, str) else None
        if key and key not in found:
            found[key] = c
    for key, what in (("__department", DEPARTMENT_HEADER), ("__id", sheet.header_of(ID))):
        if key not in found:
            damage.append(f"{title}!row 1: the {what!r} header is missing, so decisions cannot be matched ({name})")
    return found


def _decision(
    row: tuple[str, int, list[Any]], found: dict[str, int], plan: dict[str, int], spec: Spec, title: str
) -> Decision | None:
    sheet_name, r, values = row

    def get(c: int | None) -> Any:
        return _clean(values[c]) if c is not None and c < len(values) else None

    review = spec.review
    typed = {col.key: get(found.get(col.key)) for col in review.inputs}
    if all(v is None for v in typed.values()):
        return None
    department, ident = get(plan.get("__department")), get(plan.get("__id"))
    snapshot = {col.records: get(found.get(col.key)) for col in review.snapshots}
    if all(v is None for v in snapshot.values()):  # decided since the last reconcile: what finance saw
        snapshot = {col.records: get(plan.get(col.records)) for col in review.snapshots}
    elif _acknowledged(found, get, review):  # finance cleared "changed since reviewed": the row as now
        snapshot = {role: get(plan[role]) if role in plan else value for role, value in snapshot.items()}
    decision = review.key_of(DECISION)
    at = found.get(decision, 0)
    return Decision(
        department=str(department or ""),
        initiative_id=_text(ident),
        values=typed,
        reviewed=snapshot,
        meaning=review.meaning(typed.get(decision)),
        where=f"{title if sheet_name.casefold() == title.casefold() else sheet_name}!{a1(r, at + 1)}",
    )


def _acknowledged(found: dict[str, int], get, review) -> bool:
    """Whether the row's Review check cell is blank (a table with a check column: the Initiatives one).
    Reconcile writes it blank only when the initiative is as its snapshot, so a blank cell beside a
    snapshot that differs is finance clearing the flag; either way the snapshot becomes the row's values."""
    check = review.check
    return check is not None and check.key in found and get(found[check.key]) is None


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)

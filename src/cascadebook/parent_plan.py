"""A parent unit's plan as its children align to it, and the chain from any initiative up to the
corporate objectives (the cascade, issue 20).

A unit whose strategy entry says ``aligns_to: parent`` names, in its initiatives' objective column (role
``objective_ref``) or objective split (role ``objective_split``), the ids of its parent unit's initiatives
instead of corporate objective ids: ``COM-I03``, or ``COM-I03 60% / COM-I04 40%``. A corporate objective id
is still taken there (a row aligned straight to the company). Following the links up, every initiative
reaches corporate objectives with weights (the product of the weights along the way), which is what the
Alignment Matrix, coverage and the Goal Hierarchy count it under.

Both sides use this module: ``generate --cascade`` (the plan a template offers, and its fingerprint, read
from a master) and reconcile (the plans returned in the same run). It is pure: records in, links out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cascadebook.model import Record, Strategy
from cascadebook.org import OrgTree
from cascadebook.spec.roles import BASELINE, OBJECTIVE_REF, OBJECTIVE_SPLIT, TARGET, TITLE
from cascadebook.spec.schema import SheetSpec
from cascadebook.spec.values import parse_value

PARENT = "parent"  # Department.aligns_to for a unit aligned to its parent's plan
Key = tuple[str, str]  # (unit code, initiative id), casefolded
Parts = tuple[tuple[str, float], ...]  # (corporate objective id, weight)


def key_of(department: str, initiative_id: str) -> Key:
    return (department.strip().casefold(), initiative_id.strip().casefold())


def cascades(strategy: Strategy) -> bool:
    """Whether some unit aligns to its parent's plan (else every chain is one link long: today's flat cycle)."""
    return any(d.aligns_to == PARENT and d.parent for d in strategy.departments)


def aligns_to_parent(strategy: Strategy, code: str) -> bool:
    unit = strategy.department(code)
    return unit is not None and unit.aligns_to == PARENT and bool(unit.parent)


def refs(record: Record, sheet: SheetSpec) -> list[tuple[str, float]]:
    """What a row names in its objective column or split, with weights: ``[("COM-I03", 0.6), ...]``.

    A split read back from a master is text (``CO1 60% / CO3 40%``) and parsed here; from a returned
    workbook it is already the parsed tuple. A split that does not parse counts as not given."""
    split = record.values.get(sheet.key_of(OBJECTIVE_SPLIT)) if sheet.by_role(OBJECTIVE_SPLIT) else None
    if isinstance(split, str) and split.strip():
        split = parse_value(split, "allocation").value
    if isinstance(split, tuple) and split:
        return [(str(ref).strip(), float(weight)) for ref, weight in split]
    typed = str(record.values.get(sheet.key_of(OBJECTIVE_REF)) or "").strip()
    return [(typed, 1.0)] if typed else []


def offered(records: Iterable[Record], sheet: SheetSpec, rejected: Iterable[Key] = ()) -> list[Record]:
    """The initiatives of a parent's plan a child may align to: those with an id and a title, less the ones
    finance rejected (``rejected``: keys of :func:`key_of`), in the plan's order."""
    no = set(rejected)
    title = sheet.key_of(TITLE)
    return [
        r
        for r in records
        if r.id.strip() and str(r.values.get(title) or "").strip() and key_of(r.department, r.id) not in no
    ]


def plan_fingerprint(records: Iterable[Record], sheet: SheetSpec) -> str:
    """16 hex digits naming what a parent's offered plan says: ids, titles, what each serves and its
    target. A template records it; reconcile compares it with the plan returned now."""
    title, target = sheet.key_of(TITLE), sheet.key_of(TARGET)
    canonical = sorted(
        [
            r.id.strip().casefold(),
            str(r.values.get(title) or "").strip(),
            [[ref.casefold(), round(w, 6)] for ref, w in refs(r, sheet)],
            _plain(r.values.get(target)),
        ]
        for r in records
    )
    blob = json.dumps(canonical, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def serves_text(parts: Parts) -> str:
    """The corporate objectives an initiative reaches, as people read them: ``CO1``, or ``CO1 50% / CO3 50%``."""
    if len(parts) == 1 and abs(parts[0][1] - 1) < 1e-9:
        return parts[0][0]
    return " / ".join(f"{objective} {weight:.0%}" for objective, weight in parts)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def direction(record: Record, sheet: SheetSpec, objective_direction: str = "") -> str:
    """Which way a parent initiative moves its metric: from its own baseline and target when both are
    numbers, else the direction of the corporate objective it serves."""
    base, target = _number(record.values.get(sheet.key_of(BASELINE))), _number(record.values.get(sheet.key_of(TARGET)))
    if base is not None and target is not None:
        return "increase" if target > base else "decrease" if target < base else "maintain"
    return objective_direction


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def direct_objectives(strategy: Strategy, record: Record, sheet: SheetSpec) -> Parts:
    """The corporate objectives a row names itself (not through a parent initiative), with the weights
    :func:`trace` gives them: a chain top's share of the objectives, which progress rolls up."""
    named = refs(record, sheet)
    total = sum(w for _, w in named)
    scale = 1 / total if total > 1 + 1e-9 else 1.0
    parts: dict[str, float] = {}
    for ref, weight in named:
        objective = strategy.objective(ref)
        if objective is not None:
            parts[objective.id] = parts.get(objective.id, 0.0) + weight * scale
    return tuple(parts.items())


@dataclass(frozen=True)
class Link:
    """A child initiative serving a parent initiative with a weight (its share of the child)."""

    department: str
    initiative_id: str
    parent_department: str
    parent_id: str
    weight: float
    where: Record = field(compare=False, repr=False)  # the child's row (its cells, for findings)


@dataclass(frozen=True)
class Problem:
    """A reference of a row of a unit aligned to its parent that leads nowhere (reconcile's findings)."""

    kind: str  # "unknown" (not an initiative the parent offers), "not-returned" (the parent has no plan)
    record: Record
    ref: str
    parent: str  # the parent unit's code


@dataclass
class Chains:
    """Every initiative's corporate objectives through its chain, and the links between initiatives."""

    objectives: dict[Key, Parts] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    cascaded: set[Key] = field(default_factory=set)  # initiatives of units aligned to their parent's plan
    records: dict[Key, Record] = field(default_factory=dict)  # every initiative traced, by key

    up: dict[Key, list[Link]] = field(default_factory=dict)  # child initiative -> its links to its parents
    down: dict[Key, list[Link]] = field(default_factory=dict)  # parent initiative -> the links of its children

    def parents_of(self, department: str, initiative_id: str) -> list[Link]:
        return self.up.get(key_of(department, initiative_id), [])

    def children_of(self, department: str, initiative_id: str) -> list[Link]:
        return self.down.get(key_of(department, initiative_id), [])

    def link(self, link: Link) -> None:
        self.links.append(link)
        self.up.setdefault(key_of(link.department, link.initiative_id), []).append(link)
        self.down.setdefault(key_of(link.parent_department, link.parent_id), []).append(link)


def trace(
    strategy: Strategy,
    tree: OrgTree,
    sheet: SheetSpec,
    plans: Mapping[str, Sequence[Record]],
    rejected: Iterable[Key] = (),
) -> Chains:
    """Follow every initiative of ``plans`` (unit code -> its initiatives) up to the corporate objectives.

    Units are taken parents first (``tree.order``), so a parent's objectives are known when its children
    are read; no recursion, any depth. A split's weights over 100% are read in proportion (as
    ``commitments.allocate`` does); the share a reference that leads nowhere would carry stays
    unresolved (the caller counts it as Unaligned)."""
    chains = Chains()
    by_code = {code.casefold(): rows for code, rows in plans.items()}
    no = set(rejected)
    for code in tree.order():
        rows = by_code.get(code.casefold(), ())
        unit = tree.unit(code)
        parent = tree.parent(code) if unit is not None and unit.aligns_to == PARENT else None
        parent_rows = by_code.get(parent.casefold(), ()) if parent else ()
        offered_ids = {r.id.strip().casefold(): r.id for r in offered(parent_rows, sheet, no)} if parent else {}
        for record in rows:
            if not record.id:
                continue
            mine = key_of(code, record.id)
            chains.records.setdefault(mine, record)
            if parent:
                chains.cascaded.add(mine)
            named = refs(record, sheet)
            total = sum(w for _, w in named)
            scale = 1 / total if total > 1 + 1e-9 else 1.0
            parts: dict[str, float] = {}
            for ref, weight in named:
                weight *= scale
                objective = strategy.objective(ref)
                if objective is not None:
                    parts[objective.id] = parts.get(objective.id, 0.0) + weight
                elif parent and ref.casefold() in offered_ids:
                    parent_id = offered_ids[ref.casefold()]
                    chains.link(Link(record.department, record.id, parent, parent_id, weight, record))
                    for objective_id, w in chains.objectives.get(key_of(parent, parent_id), ()):
                        parts[objective_id] = parts.get(objective_id, 0.0) + weight * w
                elif parent:
                    kind = "unknown" if parent_rows else "not-returned"
                    chains.problems.append(Problem(kind, record, ref, parent))
            chains.objectives[mine] = tuple(parts.items())
    return chains

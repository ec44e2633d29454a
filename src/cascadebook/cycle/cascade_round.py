"""A cascade round: ``generate STRATEGY --from MASTER --cascade`` (issue 20).

For every unit that aligns to its parent's plan (``aligns_to: parent`` in the strategy) and whose parent's
plan is in MASTER (reconcile accepted it), a template whose objective column offers the parent's
initiatives: those with an id and a title, less the ones finance rejected in MASTER's review columns. The
template shows them on a Parent plan sheet with the corporate objective each serves, and its signed metadata
records its level, its parent and the offered plan's fingerprint, so the next reconcile notices a parent plan
that changed since. A unit already in MASTER gets its own rows prefilled, as ``generate --from`` does.
Units that cannot have such a template yet are listed with the reason, never silently left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cascadebook.consolidate.cascade import by_unit
from cascadebook.cycle.decisions import rows_with_errors
from cascadebook.cycle.export import read_master_or_export
from cascadebook.master.decisions_read import read_decisions
from cascadebook.master.read import MasterData, prefill_rows
from cascadebook.model import Decision, Strategy
from cascadebook.org import OrgTree
from cascadebook.parent_plan import PARENT, Key, direction, key_of, offered, plan_fingerprint, serves_text, trace
from cascadebook.spec.roles import INITIATIVES, REJECT
from cascadebook.spec.schema import Spec
from cascadebook.template.department import generate
from cascadebook.template.parent_sheet import ParentPlan


@dataclass
class CascadeRound:
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (unit code, why no template)


def _is_export(master: str | Path) -> bool:
    return Path(master).is_dir() or Path(master).suffix.lower() in (".yaml", ".yml")


def decisions_in(master: str | Path, spec: Spec) -> list[Decision]:
    """Finance's decisions in MASTER (an export folder has none); a damaged master raises ``ReviewDamaged``."""
    return [] if _is_export(master) else list(read_decisions(master, spec).decisions)


def not_accepted(master: str | Path, data: MasterData, spec: Spec) -> list[Key]:
    """The initiatives MASTER's Findings table holds an error for (an export keeps no findings: none)."""
    if _is_export(master):
        return []
    sheet = spec.sheet_by_role(INITIATIVES)
    if sheet is None:
        return []
    wrong = rows_with_errors(Path(master), spec)
    return [
        key_of(r.department, r.id) for r in data.records.get(sheet.key, ()) if (r.sheet_name.casefold(), r.row) in wrong
    ]


def read_round(master: str | Path, spec: Spec) -> tuple[MasterData, list[Decision]]:
    """What a next round starts from: MASTER's plans (a master workbook or an export) and finance's decisions."""
    return read_master_or_export(master, spec), decisions_in(master, spec)


def by_department(decisions: Iterable[Decision]) -> dict[str, list[Decision]]:
    out: dict[str, list[Decision]] = {}
    for decision in decisions:
        out.setdefault(decision.department, []).append(decision)
    return out


def generate_from(
    strategy: Strategy,
    master: str | Path,
    outbox: str | Path,
    *,
    spec: Spec,
    key: bytes | None = None,
    departments: Iterable[str] | None = None,
    generated_at: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Path]:
    """``generate --from MASTER``: every department's template prefilled with its rows in MASTER (ids kept),
    finance's decisions shown beside them."""
    data, decisions = read_round(master, spec)
    return generate(
        strategy,
        outbox,
        spec=spec,
        departments=departments,
        key=key,
        generated_at=generated_at,
        prefill=prefill_rows(data, spec),
        decisions=by_department(decisions),
        progress=progress,
    )


def parent_plans(
    strategy: Strategy, data: MasterData, spec: Spec, rejected: Iterable[Key] = ()
) -> tuple[dict[str, ParentPlan], list[tuple[str, str]]]:
    """Unit code -> the plan its template offers, for every unit aligned to its parent whose parent's plan is
    in ``data``; and (code, why) for those aligned to their parent that cannot have one yet. ``rejected``:
    initiatives not offered (finance rejected them, or reconcile found an error on their row)."""
    sheet = spec.sheet_by_role(INITIATIVES)
    if sheet is None:
        return {}, []
    tree = OrgTree.of(strategy.departments)
    plans = by_unit(data.records.get(sheet.key, ()))
    by_code = {code.casefold(): rows for code, rows in plans.items()}
    chains = trace(strategy, tree, sheet, plans)
    rejected = set(rejected)
    out: dict[str, ParentPlan] = {}
    skipped: list[tuple[str, str]] = []
    for code in tree.order():
        unit = tree.unit(code)
        parent_code = tree.parent(code)
        if unit is None or unit.aligns_to != PARENT or parent_code is None:
            continue
        parent = tree.unit(parent_code)
        rows = by_code.get(parent_code.casefold(), [])
        if parent is None or not rows:
            skipped.append((code, f"{parent_code} has no plan in the master yet"))
            continue
        whole = offered(rows, sheet)
        rows = offered(rows, sheet, rejected)
        if not rows:
            skipped.append(
                (code, f"{parent_code}'s plan has no initiative to align to (each is rejected, untitled or in error)")
            )
            continue
        serves, ways = [], []
        for record in rows:
            parts = chains.objectives.get(key_of(record.department, record.id), ())
            serves.append(serves_text(parts))
            first = strategy.objective(parts[0][0]) if parts else None
            ways.append(direction(record, sheet, first.direction if first else ""))
        out[code] = ParentPlan(parent, tuple(rows), tuple(serves), tuple(ways), plan_fingerprint(whole, sheet))
    return out, skipped


def generate_cascade(
    strategy: Strategy,
    master: str | Path,
    outbox: str | Path,
    *,
    spec: Spec,
    key: bytes | None = None,
    departments: Iterable[str] | None = None,
    generated_at: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> CascadeRound:
    """Write the cascade round's templates into ``outbox`` (all or none, as ``generate``)."""
    data, decisions = read_round(master, spec)
    rejected = [d.key for d in decisions if d.meaning == REJECT]
    plans, skipped = parent_plans(strategy, data, spec, [*rejected, *not_accepted(master, data, spec)])
    wanted = {c.casefold() for c in departments} if departments else None
    if wanted is not None:
        known = {d.code.casefold() for d in strategy.departments}
        if wanted - known:
            raise KeyError(f"unknown department code(s): {', '.join(sorted(wanted - known))}")
        plans = {code: plan for code, plan in plans.items() if code.casefold() in wanted}
        skipped = [(code, why) for code, why in skipped if code.casefold() in wanted]
    result = CascadeRound(skipped=skipped)
    if not plans:
        return result
    result.written = generate(
        strategy,
        outbox,
        spec=spec,
        departments=list(plans),
        key=key,
        generated_at=generated_at,
        prefill=prefill_rows(data, spec),
        decisions=by_department(decisions),
        progress=progress,
        parent_plans=plans,
    )
    return result

"""Reconcile across levels: every plan of the cascade checked against its parent's, and commitments rolled
up the chain (issue 20).

Plans of all levels reconcile together: a division's, its departments' and their teams' in one run.
``parent_plan.trace`` follows each initiative up to the corporate objectives; here that becomes findings
(a reference to an initiative the parent does not have, a parent that has not returned its plan, a parent
plan changed since the child's template was made) and, per parent initiative, its commitment: what its
children's contributions add up to, in its own unit, against its own target change. A contribution that
goes against the parent's direction, or is split over parents measured in different units, is flagged and
not summed (as for objectives, consolidate/commitments.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cascadebook.consolidate.commitments import LEFT_OUT_CODES, RATIO_TOLERANCE, SURPLUS_RATIO, left_out_text
from cascadebook.findings import Finding, cell_finding
from cascadebook.intake.reader import Return
from cascadebook.model import Record, Strategy
from cascadebook.org import OrgTree
from cascadebook.parent_plan import Chains, Key, direction, key_of, offered, plan_fingerprint, trace
from cascadebook.spec.roles import BASELINE, CONTRIBUTION, OBJECTIVE_REF, OBJECTIVE_SPLIT, TARGET, TITLE, UNIT
from cascadebook.spec.schema import SheetSpec


@dataclass(frozen=True)
class ParentCommitment:
    """One parent initiative: what the initiatives aligned to it commit, against its own target change."""

    department: str
    initiative_id: str
    title: str
    level: int
    unit: str
    change: float | None  # its target - baseline (None without both)
    committed: float  # the children's summed contributions, weighted by the share each gives it
    stated: int  # links whose contribution is summed
    children: int  # initiatives aligned to it (links)
    left_out: tuple[tuple[str, int], ...] = ()

    @property
    def gap(self) -> float | None:
        return None if self.change is None else self.change - self.committed

    @property
    def ratio(self) -> float | None:
        return None if not self.change else self.committed / self.change

    @property
    def left_out_text(self) -> str:
        return left_out_text(self.left_out)


@dataclass
class Cascade:
    """What reconcile knows of the cascade: the chains, the org tree and each parent initiative's commitment."""

    chains: Chains
    tree: OrgTree
    commitments: list[ParentCommitment] = field(default_factory=list)

    def level(self, code: str) -> int:
        return self.tree.level(code) if self.tree.unit(code) is not None else 1

    def to_dict(self) -> dict:
        """The JSON report's ``cascade``: each unit's level and parent, every link between initiatives, and
        each parent initiative's commitment (in its own unit)."""
        return {
            "units": {
                code: {"level": self.tree.level(code), "parent": self.tree.parent(code)} for code in self.tree.order()
            },
            "links": [
                {
                    "department": link.department,
                    "initiative": link.initiative_id,
                    "parent_department": link.parent_department,
                    "parent_initiative": link.parent_id,
                    "weight": link.weight,
                }
                for link in self.chains.links
            ],
            "commitments": [
                {
                    "department": c.department,
                    "initiative": c.initiative_id,
                    "level": c.level,
                    "unit": c.unit,
                    "target_change": c.change,
                    "committed": c.committed,
                    "gap": c.gap,
                    "ratio": c.ratio,
                    "children": c.children,
                    "left_out": c.left_out_text,
                }
                for c in self.commitments
            ],
        }


def by_unit(initiatives: Iterable[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for record in initiatives:
        out.setdefault(record.department, []).append(record)
    return out


def reconcile_cascade(
    strategy: Strategy,
    sheet: SheetSpec,
    initiatives: Sequence[Record],
    newest: Mapping[str, Return],
    found: Iterable[Finding] = (),
) -> tuple[Cascade, list[Finding]]:
    """Trace every accepted initiative up its chain; report what does not lead anywhere; roll commitments up.
    ``found``: the findings so far, whose errors on a parent's row make a child aligned to it worth a look."""
    tree = OrgTree.of(strategy.departments)
    plans = by_unit(initiatives)
    chains = trace(strategy, tree, sheet, plans)
    findings = list(_problems(chains, sheet, newest))
    findings.extend(_on_rows_in_error(chains, sheet, [*found, *findings]))
    findings.extend(_changed_plans(tree, sheet, plans, newest))
    result = Cascade(chains, tree)
    result.commitments, flagged = _commitments(strategy, tree, sheet, chains)
    findings.extend(flagged)
    return result, findings


def _problems(chains: Chains, sheet: SheetSpec, newest: Mapping[str, Return]) -> Iterable[Finding]:
    split_key, ref_key = sheet.key_of(OBJECTIVE_SPLIT), sheet.key_of(OBJECTIVE_REF)
    waiting: dict[str, list[Record]] = {}
    for problem in chains.problems:
        record = problem.record
        split = record.values.get(split_key)
        where = split_key if isinstance(split, tuple) and split else ref_key
        if problem.kind == "unknown":
            yield cell_finding(
                "parent-initiative-unknown",
                f"{problem.ref} is not an initiative of {problem.parent}'s plan, nor a corporate objective id",
                record,
                where,
            )
        else:
            waiting.setdefault(record.department, []).append(record)
    for code, rows in sorted(waiting.items()):
        parent = next(iter({p.parent for p in chains.problems if p.record.department == code}))
        source = newest.get(code)
        yield Finding(
            "parent-not-returned",
            f"{parent} has not returned its plan: {len(rows)} initiative row{'s' if len(rows) > 1 else ''} "
            f"of {code} aligned to its initiatives count as Unaligned until it does",
            file=source.file if source else rows[0].file,
            sheet=rows[0].sheet_name,
            cell=rows[0].cells.get(ref_key, f"A{rows[0].row}"),
            department=code,
        )


def _on_rows_in_error(chains: Chains, sheet: SheetSpec, found: Iterable[Finding]) -> Iterable[Finding]:
    """A child aligned to a parent initiative whose row has an error: it counts under it, and is told so (the
    next cascade round does not offer that initiative until it is mended)."""
    wrong: dict[tuple[str, str, int], str] = {}
    for f in found:
        row = _row_of(f.cell)
        if f.severity.value == "error" and row:
            wrong.setdefault((f.department.casefold(), f.sheet.casefold(), row), f.code)
    if not wrong:
        return
    ref_key = sheet.key_of(OBJECTIVE_REF)
    for link in chains.links:
        parent = chains.records.get(key_of(link.parent_department, link.parent_id))
        if parent is None:
            continue
        code = wrong.get((parent.department.casefold(), parent.sheet_name.casefold(), parent.row))
        if code:
            yield cell_finding(
                "parent-initiative-in-error",
                f"{link.parent_id} has an error in {link.parent_department}'s plan ({code}); this row counts under "
                "it until it is mended",
                link.where,
                ref_key,
            )


def _row_of(cell: str) -> int:
    digits = "".join(ch for ch in cell if ch.isdigit())
    return int(digits) if digits and cell[:1].isalpha() else 0


def _changed_plans(
    tree: OrgTree, sheet: SheetSpec, plans: Mapping[str, Sequence[Record]], newest: Mapping[str, Return]
) -> Iterable[Finding]:
    """A child's template records the parent plan it offered (metadata ``parent_plan``): a parent plan
    returned since with other initiatives, titles, alignments or targets is worth a look."""
    for code, ret in sorted(newest.items()):
        meta = ret.metadata
        if meta is None or not meta.parent_plan:
            continue
        parent = tree.parent(code) or meta.parent
        rows = plans.get(parent or "", [])
        if not rows:
            continue  # the parent has not returned: parent-not-returned says so for the rows that need it
        now = plan_fingerprint(offered(rows, sheet), sheet)
        moved = meta.parent and parent and meta.parent.casefold() != parent.casefold()
        if now != meta.parent_plan or moved:
            why = (
                f"the template was made from {meta.parent}'s plan, and {code} now reports to {parent}"
                if moved
                else f"{parent}'s plan has changed since this template was made (initiatives added, removed or edited)"
            )
            yield Finding("parent-plan-changed", why, file=ret.file, department=code)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _commitments(
    strategy: Strategy,
    tree: OrgTree,
    sheet: SheetSpec,
    chains: Chains,
) -> tuple[list[ParentCommitment], list[Finding]]:
    """Per parent initiative with children: the children's contributions (in its unit) against its own
    target change; shortfall and surplus as findings, as for objectives."""
    records = chains.records
    base_key, target_key, title_key = sheet.key_of(BASELINE), sheet.key_of(TARGET), sheet.key_of(TITLE)
    unit_key, contribution_key = sheet.key_of(UNIT), sheet.key_of(CONTRIBUTION)
    children = chains.down
    findings: list[Finding] = []
    mixed = _mixed_units(chains, records, unit_key, contribution_key)
    out = []
    for parent_key, links in children.items():
        parent = records.get(parent_key)
        if parent is None:
            continue
        parts = chains.objectives.get(parent_key, ())
        first = strategy.objective(parts[0][0]) if parts else None
        way = direction(parent, sheet, first.direction if first else "")
        committed, stated, reasons = 0.0, 0, dict.fromkeys(LEFT_OUT_CODES.values(), 0)
        for link in links:
            child = link.where
            value = _number(child.values.get(contribution_key)) if contribution_key else None
            if value is None:
                continue
            share = value * link.weight
            if key_of(child.department, child.id) in mixed:
                reasons[LEFT_OUT_CODES["contribution-unit"]] += 1
                continue
            if share and way in ("increase", "decrease") and (share > 0) != (way == "increase"):
                reasons[LEFT_OUT_CODES["contribution-direction"]] += 1
                findings.append(
                    cell_finding(
                        "contribution-direction",
                        f"{parent.id} is to {way}, so a contribution to it should be "
                        f"{'positive' if way == 'increase' else 'negative'}; found {share:g}; it is not summed "
                        "into its commitment",
                        child,
                        contribution_key,
                    )
                )
                continue
            committed += share
            stated += 1
        base, target = _number(parent.values.get(base_key)), _number(parent.values.get(target_key))
        out.append(
            ParentCommitment(
                parent.department,
                parent.id,
                str(parent.values.get(title_key) or ""),
                tree.level(parent.department) if tree.unit(parent.department) else 1,
                str(parent.values.get(unit_key) or "") if unit_key else "",
                None if base is None or target is None else target - base,
                committed,
                stated,
                len(links),
                tuple((why, n) for why, n in reasons.items() if n),
            )
        )
    for child_key in sorted(mixed):
        child = records[child_key]
        findings.append(
            cell_finding(
                "contribution-unit",
                "the contribution is split over parent initiatives measured in different units; it is not "
                "summed into their commitments",
                child,
                contribution_key,
            )
        )
    out.sort(key=lambda c: (c.department, c.initiative_id))
    findings.extend(_verdicts(out))
    return out, findings


def _mixed_units(chains: Chains, records: Mapping[Key, Record], unit_key: str, contribution_key: str) -> set[Key]:
    """Children with a contribution split over parent initiatives of different units (it has no one unit)."""
    units: dict[Key, set[str]] = {}
    for link in chains.links:
        if not contribution_key or _number(link.where.values.get(contribution_key)) is None:
            continue
        parent = records.get(key_of(link.parent_department, link.parent_id))
        unit = str(parent.values.get(unit_key) or "").strip().casefold() if parent is not None and unit_key else ""
        units.setdefault(key_of(link.department, link.initiative_id), set()).add(unit)
    return {k for k, found in units.items() if len(found) > 1}


def _verdicts(commitments: Iterable[ParentCommitment]) -> Iterable[Finding]:
    for c in commitments:
        ratio = c.ratio
        if ratio is None or not c.stated:
            continue
        what = (
            f"{c.department} {c.initiative_id} ({c.title}): its {c.children} child initiative"
            f"{'s commit' if c.children > 1 else ' commits'} {c.committed:g} of a target change of {c.change:g} "
            f"({ratio:.0%})"
        )
        if ratio < 1 - RATIO_TOLERANCE:
            yield Finding("parent-commitment-shortfall", what, department=c.department, location=c.initiative_id)
        elif ratio > SURPLUS_RATIO:
            yield Finding("parent-commitment-surplus", what, department=c.department, location=c.initiative_id)

"""Commitment against target: what departments commit adds up to what the company promised?

An initiative serves one objective, or several through its "Objective split" (CO1 60% / CO3 40%).
Each (initiative, objective) pair is an Allocation carrying its weighted share of the initiative's
contribution (stated in the objective's own unit), budget and headcount. Per objective, the
committed contribution is compared with the target change (target - baseline).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cascadebook.findings import Finding, cell_finding
from cascadebook.model import Objective, Record, Strategy
from cascadebook.parent_plan import Chains, key_of
from cascadebook.spec.roles import BUDGET, CONTRIBUTION, HEADCOUNT, OBJECTIVE_REF, OBJECTIVE_SPLIT
from cascadebook.spec.schema import SheetSpec

SPLIT_TOLERANCE = 0.005
SURPLUS_RATIO = 1.5
# A commitment that meets the target exactly is not a shortfall because of floating point: a % objective from
# 0.10 to 0.08 needs 0.08 - 0.10 = -0.020000000000000004, so two commitments of -0.01 make a ratio of 0.9999999999.
RATIO_TOLERANCE = 1e-9
UNALIGNED = "Unaligned"  # the Objective of an initiative's share that no recognised objective takes
UNALIGNED_TITLE = "Unaligned (objective not recognised)"
_WHY = {"unknown": "parent initiative not recognised", "not-returned": "parent plan not returned"}
LEFT_OUT_CODES = {"contribution-unit": "unit", "contribution-direction": "direction"}  # finding -> why not summed


@dataclass(slots=True)  # (frozen slots dataclasses do not unpickle on Python 3.10)
class Allocation:
    department: str
    initiative_id: str
    objective_id: str
    weight: float
    contribution: float | None  # weighted share, in the objective's unit
    budget: float | None
    headcount: float | None
    initiatives: Sequence[Record] = field(repr=False, compare=False)  # where the initiative's record is
    index: int = field(repr=False)
    left_out: str | None = None  # why the contribution is not summed ("unit", "direction", ...); None: summed
    stated: float | None = None  # the weighted share as typed, when it is left out (``contribution`` is None)

    @property
    def record(self) -> Record:
        """The initiative itself, looked up when asked: with many departments the initiatives are
        packed (see :mod:`cascadebook.consolidate.packed`), and an allocation must not keep one decoded."""
        return self.initiatives[self.index]


@dataclass(frozen=True)
class Commitment:
    objective: Objective
    committed: float
    stated: int  # allocations that state a contribution
    initiatives: int
    departments: tuple[str, ...]
    budget: float
    headcount: float
    left_out: tuple[tuple[str, int], ...] = ()  # (why, how many) contributions not summed

    @property
    def left_out_count(self) -> int:
        return sum(n for _, n in self.left_out)

    @property
    def left_out_text(self) -> str:
        """ "2 contributions left out: unit 1, direction 1" (or "")."""
        return left_out_text(self.left_out)

    @property
    def target_change(self) -> float | None:
        o = self.objective
        return None if o.target is None or o.baseline is None else o.target - o.baseline

    @property
    def gap(self) -> float | None:
        """Target change not yet committed (negative: committed beyond the target)."""
        change = self.target_change
        return None if change is None else change - self.committed

    @property
    def ratio(self) -> float | None:
        change = self.target_change
        return None if not change else self.committed / change


def left_out_text(reasons: Iterable[tuple[str, int]]) -> str:
    reasons = [(why, n) for why, n in reasons if n]
    total = sum(n for _, n in reasons)
    if not total:
        return ""
    why = reasons[0][0] if len(reasons) == 1 else ", ".join(f"{w} {n}" for w, n in reasons)
    return f"{total} contribution{'s' if total > 1 else ''} left out: {why}"


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def allocate(
    strategy: Strategy,
    sheet: SheetSpec | None,
    initiatives: Sequence[Record],
    unaligned: list[Allocation] | None = None,
    chains: Chains | None = None,
) -> tuple[list[Allocation], list[Finding]]:
    """Split every initiative over the objectives it serves; report splits that do not add up.

    ``sheet`` is the spec's initiatives sheet: its columns of role ``objective_ref``, ``objective_split``,
    ``contribution``, ``budget`` and ``headcount`` are the ones read (a role it lacks reads as blank).

    A contribution flagged for its unit or its direction is not summed (the allocation keeps it as
    ``stated`` and says why in ``left_out``). When ``unaligned`` is given, the share of each
    initiative that no recognised objective takes (its objective is unknown or blank, a part of its
    split is unknown, its split does not add up to 100%) is appended to it as an allocation to
    :data:`UNALIGNED`, so every initiative's budget and headcount is somewhere.

    ``chains`` (the cascade, parent_plan.trace): an initiative of a unit aligned to its parent's plan is
    allocated to the corporate objectives its chain reaches, with the weights along it; its contribution
    counts toward its parent initiative (consolidate/cascade.py), not straight toward the objective, so
    the objective's commitment does not count it twice.
    """
    allocations: list[Allocation] = []
    findings: list[Finding] = []
    key = sheet.key_of if sheet is not None else (lambda role: "")
    split_key, objective_key, contribution_key = key(OBJECTIVE_SPLIT), key(OBJECTIVE_REF), key(CONTRIBUTION)
    budget_key, headcount_key = key(BUDGET), key(HEADCOUNT)
    why_cascade = (
        {(p.record.department, p.record.row): _WHY[p.kind] for p in chains.problems} if chains is not None else {}
    )
    for index, record in enumerate(initiatives):
        if chains is not None and key_of(record.department, record.id) in chains.cascaded:
            budget, headcount = _number(record.values.get(budget_key)), _number(record.values.get(headcount_key))
            reached = chains.objectives.get(key_of(record.department, record.id), ())
            typed = str(record.values.get(objective_key) or "").strip() or record.values.get(split_key)
            why = why_cascade.get((record.department, record.row)) or (
                "objective not recognised" if typed else "no objective"
            )
            for objective_id, weight in reached:
                allocations.append(_shared(record, initiatives, index, objective_id, weight, budget, headcount))
            rest = 1 - sum(w for _, w in reached)
            if unaligned is not None and rest > 1e-9:
                left = _shared(record, initiatives, index, UNALIGNED, rest, budget, headcount)
                left.left_out = why
                unaligned.append(left)
            continue
        split = record.values.get(split_key)
        parts: list[tuple[str, float]] = []
        why_unaligned = "objective not recognised"
        if isinstance(split, tuple) and split:
            total = sum(w for _, w in split)
            scale = 1.0
            if abs(total - 1) > SPLIT_TOLERANCE:
                # Over 100%: read in proportion, so the budget is not counted more than once (a negative
                # Unaligned share would balance it, and mean nothing to a reader). Under: the rest is Unaligned.
                scale = 1 / total if total > 1 else 1.0
                findings.append(
                    cell_finding(
                        "split-not-100",
                        f"the weights add up to {total:.0%}, not 100%"
                        + ("; read in proportion so the initiative counts once" if total > 1 else ""),
                        record,
                        split_key,
                    )
                )
                why_unaligned = f"split adds up to {total:.0%}"
            for objective_id, weight in split:
                weight *= scale
                objective = strategy.objective(objective_id)
                if objective is None:
                    findings.append(
                        cell_finding(
                            "unknown-objective",
                            f"{objective_id!r} in the split is not an objective id",
                            record,
                            split_key,
                        )
                    )
                    why_unaligned = "objective not recognised"
                else:
                    parts.append((objective.id, weight))
        else:
            typed = str(record.values.get(objective_key) or "").strip()
            objective = strategy.objective(typed)
            if objective is not None:
                parts.append((objective.id, 1.0))
            elif not typed:
                why_unaligned = "no objective"
        contribution = _number(record.values.get(contribution_key))
        budget, headcount = _number(record.values.get(budget_key)), _number(record.values.get(headcount_key))
        units = {strategy.objective(o).unit for o, _ in parts}
        mixed = contribution is not None and len(units) > 1
        if mixed:
            findings.append(
                cell_finding(
                    "contribution-unit",
                    f"the contribution is split over objectives measured "
                    f"in different units ({', '.join(sorted(units))}); it is not summed into "
                    "their commitments",
                    record,
                    contribution_key,
                )
            )
        for objective_id, weight in parts:
            share = None if contribution is None else contribution * weight
            left_out = "unit" if mixed else None
            if share is not None and not mixed:
                flagged = list(_check_share(strategy.objective(objective_id), share, record, contribution_key))
                findings.extend(flagged)
                left_out = next((LEFT_OUT_CODES[f.code] for f in flagged if f.code in LEFT_OUT_CODES), None)
            allocations.append(
                Allocation(
                    record.department,
                    record.id,
                    objective_id,
                    weight,
                    None if left_out else share,
                    None if budget is None else budget * weight,
                    None if headcount is None else headcount * weight,
                    initiatives,
                    index,
                    left_out,
                    share if left_out else None,
                )
            )
        rest = 1 - sum(w for _, w in parts)
        if unaligned is not None and rest > 1e-9:
            left = _shared(record, initiatives, index, UNALIGNED, rest, budget, headcount)
            left.left_out, left.stated = why_unaligned, None if contribution is None else contribution * rest
            unaligned.append(left)
    return allocations, findings


def _shared(
    record: Record,
    initiatives: Sequence[Record],
    index: int,
    objective_id: str,
    weight: float,
    budget: float | None,
    headcount: float | None,
) -> Allocation:
    """An initiative's share ``weight`` of its budget and headcount for one objective (or Unaligned), with no
    contribution summed: the caller sets one, or why it is left out."""
    return Allocation(
        record.department,
        record.id,
        objective_id,
        weight,
        None,
        None if budget is None else budget * weight,
        None if headcount is None else headcount * weight,
        initiatives,
        index,
    )


def _check_share(objective: Objective, share: float, record: Record, key: str) -> Iterable[Finding]:
    """What is wrong with one share of a contribution (found at the cell of ``key``, the contribution)."""
    if share and objective.direction in ("increase", "decrease") and (share > 0) != (objective.direction == "increase"):
        yield cell_finding(
            "contribution-direction",
            f"{objective.id} is to {objective.direction}, so a contribution "
            f"should be {'positive' if objective.direction == 'increase' else 'negative'}; found "
            f"{share:g}; it is not summed into the commitment",
            record,
            key,
        )
    change = (objective.target or 0) - (objective.baseline or 0)
    if objective.unit.strip() == "%" and abs(share) >= 1 and abs(change) < 1:
        yield cell_finding(
            "contribution-unit",
            f"{objective.id} is a percentage ({objective.baseline:g} to "
            f"{objective.target:g}); {share:g} looks like percentage points — type {share:g}% "
            f"for {share / 100:g}; it is not summed into the commitment",
            record,
            key,
        )


def commitments(strategy: Strategy, allocations: list[Allocation]) -> list[Commitment]:
    out = []
    for objective in strategy.objectives:
        mine = [a for a in allocations if a.objective_id == objective.id]
        out.append(
            Commitment(
                objective=objective,
                committed=sum(a.contribution for a in mine if a.contribution is not None),
                stated=sum(1 for a in mine if a.contribution is not None),
                initiatives=len(mine),
                departments=tuple(sorted({a.department for a in mine})),
                budget=sum(a.budget for a in mine if a.budget is not None),
                headcount=sum(a.headcount for a in mine if a.headcount is not None),
                left_out=_reasons(mine),
            )
        )
    return out


def _reasons(allocations: Iterable[Allocation]) -> tuple[tuple[str, int], ...]:
    """(why, how many) contributions were left out, in the order first met."""
    counts: dict[str, int] = {}
    for a in allocations:
        if a.left_out and a.stated is not None:
            counts[a.left_out] = counts.get(a.left_out, 0) + 1
    return tuple(counts.items())


def _amount(value: float, unit: str) -> str:
    if unit.strip() == "%":
        return f"{value * 100:,.3g} points"
    text = f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return text if unit.strip().casefold() in ("", "count") else f"{text} {unit}"


def commitment_findings(
    strategy: Strategy, items: list[Commitment], allocations: list[Allocation]
) -> Iterable[Finding]:
    for c in items:
        change, o = c.target_change, c.objective
        if c.initiatives and change:
            ratio = c.committed / change
            what = (
                f"departments commit {_amount(c.committed, o.unit)} of the {_amount(change, o.unit)} "
                f"{o.id} needs ({ratio:.0%})" + (f"; {c.left_out_text}" if c.left_out else "")
            )
            if ratio < 1 - RATIO_TOLERANCE:
                yield Finding("commitment-shortfall", what, sheet="Commitments", location=o.id)
            elif ratio > SURPLUS_RATIO + RATIO_TOLERANCE:
                yield Finding("commitment-surplus", what, sheet="Commitments", location=o.id)
        if o.budget_cap is not None and c.budget > o.budget_cap:
            yield Finding(
                "over-budget-cap",
                f"{o.id}: initiatives ask {c.budget:,.0f}, the cap is {o.budget_cap:,.0f}",
                sheet="Commitments",
                location=o.id,
            )
    asked: dict[str, list[float]] = {}  # department -> [budget, headcount], in one pass (not one per department)
    for a in allocations:
        totals = asked.setdefault(a.department, [0, 0])
        totals[0] += a.budget or 0
        totals[1] += a.headcount or 0
    for d in strategy.departments:
        budget, headcount = asked.get(d.code, (0, 0))
        if d.budget_cap is not None and budget > d.budget_cap:
            yield Finding(
                "over-budget-cap",
                f"{d.code}: initiatives ask {budget:,.0f}, the cap is {d.budget_cap:,.0f}",
                department=d.code,
                location=d.code,
            )
        if d.headcount_cap is not None and headcount > d.headcount_cap:
            yield Finding(
                "over-headcount-cap",
                f"{d.code}: initiatives ask {headcount:g} FTE, the cap is {d.headcount_cap:g}",
                department=d.code,
                location=d.code,
            )

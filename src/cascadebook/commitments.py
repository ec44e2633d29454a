"""Commitment against target: what departments commit adds up to what the company promised?

An initiative serves one objective, or several through its "Objective split" (CO1 60% / CO3 40%).
Each (initiative, objective) pair is an Allocation carrying its weighted share of the initiative's
contribution (stated in the objective's own unit), budget and headcount. Per objective, the
committed contribution is compared with the target change (target - baseline).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .findings import Finding
from .model import Objective, Record, Strategy

SPLIT_TOLERANCE = 0.005
SURPLUS_RATIO = 1.5


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

    @property
    def record(self) -> Record:
        """The initiative itself, looked up when asked: with many departments the initiatives are
        packed (see :mod:`cascadebook.store`), and an allocation must not keep one decoded."""
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


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _cell_finding(code: str, message: str, record: Record, key: str) -> Finding:
    return Finding(code, message, file=record.file, sheet=record.sheet_name,
                   cell=record.cells.get(key, f"A{record.row}"), department=record.department)


def allocate(strategy: Strategy, initiatives: Sequence[Record]) -> tuple[list[Allocation], list[Finding]]:
    """Split every initiative over the objectives it serves; report splits that do not add up."""
    allocations: list[Allocation] = []
    findings: list[Finding] = []
    for index, record in enumerate(initiatives):
        split = record.values.get("objective_split")
        parts: list[tuple[str, float]] = []
        if isinstance(split, tuple) and split:
            total = sum(w for _, w in split)
            if abs(total - 1) > SPLIT_TOLERANCE:
                findings.append(_cell_finding("split-not-100", f"the weights add up to {total:.0%}, not 100%",
                                              record, "objective_split"))
            for objective_id, weight in split:
                objective = strategy.objective(objective_id)
                if objective is None:
                    findings.append(_cell_finding("unknown-objective", f"{objective_id!r} in the split is not an "
                                                  "objective id", record, "objective_split"))
                else:
                    parts.append((objective.id, weight))
        else:
            objective = strategy.objective(str(record.values.get("objective_id") or ""))
            if objective is not None:
                parts.append((objective.id, 1.0))
        contribution = _number(record.values.get("contribution"))
        budget, headcount = _number(record.values.get("budget")), _number(record.values.get("headcount"))
        units = {strategy.objective(o).unit for o, _ in parts}
        if contribution is not None and len(units) > 1:
            findings.append(_cell_finding("contribution-unit", f"the contribution is split over objectives measured "
                                          f"in different units ({', '.join(sorted(units))})", record, "contribution"))
        for objective_id, weight in parts:
            share = None if contribution is None else contribution * weight
            allocations.append(Allocation(
                record.department, record.id, objective_id, weight, share,
                None if budget is None else budget * weight, None if headcount is None else headcount * weight,
                initiatives, index))
            if share is not None:
                findings.extend(_check_share(strategy.objective(objective_id), share, record))
    return allocations, findings


def _check_share(objective: Objective, share: float, record: Record) -> Iterable[Finding]:
    if share and objective.direction in ("increase", "decrease") and (share > 0) != (objective.direction == "increase"):
        yield _cell_finding("contribution-direction", f"{objective.id} is to {objective.direction}, so a contribution "
                            f"should be {'positive' if objective.direction == 'increase' else 'negative'}; found "
                            f"{share:g}", record, "contribution")
    change = (objective.target or 0) - (objective.baseline or 0)
    if objective.unit.strip() == "%" and abs(share) >= 1 and abs(change) < 1:
        yield _cell_finding("contribution-unit", f"{objective.id} is a percentage ({objective.baseline:g} to "
                            f"{objective.target:g}); {share:g} looks like percentage points — type {share:g}% "
                            f"for {share / 100:g}", record, "contribution")


def commitments(strategy: Strategy, allocations: list[Allocation]) -> list[Commitment]:
    out = []
    for objective in strategy.objectives:
        mine = [a for a in allocations if a.objective_id == objective.id]
        out.append(Commitment(
            objective=objective,
            committed=sum(a.contribution for a in mine if a.contribution is not None),
            stated=sum(1 for a in mine if a.contribution is not None),
            initiatives=len(mine),
            departments=tuple(sorted({a.department for a in mine})),
            budget=sum(a.budget for a in mine if a.budget is not None),
            headcount=sum(a.headcount for a in mine if a.headcount is not None),
        ))
    return out


def _amount(value: float, unit: str) -> str:
    if unit.strip() == "%":
        return f"{value * 100:,.3g} points"
    text = f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return text if unit.strip().casefold() in ("", "count") else f"{text} {unit}"


def commitment_findings(strategy: Strategy, items: list[Commitment], allocations: list[Allocation]) -> Iterable[Finding]:
    for c in items:
        change, o = c.target_change, c.objective
        if c.initiatives and change:
            ratio = c.committed / change
            what = f"departments commit {_amount(c.committed, o.unit)} of the {_amount(change, o.unit)} " \
                   f"{o.id} needs ({ratio:.0%})"
            if ratio < 1:
                yield Finding("commitment-shortfall", what, sheet="Commitments", location=o.id)
            elif ratio > SURPLUS_RATIO:
                yield Finding("commitment-surplus", what, sheet="Commitments", location=o.id)
        if o.budget_cap is not None and c.budget > o.budget_cap:
            yield Finding("over-budget-cap", f"{o.id}: initiatives ask {c.budget:,.0f}, the cap is {o.budget_cap:,.0f}",
                          sheet="Commitments", location=o.id)
    asked: dict[str, list[float]] = {}  # department -> [budget, headcount], in one pass (not one per department)
    for a in allocations:
        totals = asked.setdefault(a.department, [0, 0])
        totals[0] += a.budget or 0
        totals[1] += a.headcount or 0
    for d in strategy.departments:
        budget, headcount = asked.get(d.code, (0, 0))
        if d.budget_cap is not None and budget > d.budget_cap:
            yield Finding("over-budget-cap", f"{d.code}: initiatives ask {budget:,.0f}, the cap is {d.budget_cap:,.0f}",
                          department=d.code, location=d.code)
        if d.headcount_cap is not None and headcount > d.headcount_cap:
            yield Finding("over-headcount-cap", f"{d.code}: initiatives ask {headcount:g} FTE, the cap is "
                          f"{d.headcount_cap:g}", department=d.code, location=d.code)

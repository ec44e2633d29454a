"""Progress: how far each initiative and KPI has come, rolled up to objectives, departments and the company.

Pure functions over typed values; nothing here reads or writes a workbook.

* **Progress** of an item is the share of the way from its baseline to its target that the actual
  has covered: ``(actual - baseline) / (target - baseline)``. This is direction-aware by itself (for
  a decrease, target < baseline and a falling actual is progress). It is capped to [0, 1]; the raw
  value is kept so beyond-target and behind-baseline actuals can be reported. A missing baseline
  counts as 0. When target equals baseline (hold the line), progress is 1 when the actual is at
  the target or beyond it in the objective's direction, else 0.
* **Carry forward**: in a period without a new actual, an item keeps its last reported actual.
  An item that never reported is left out of the roll-up (it is reported as missing instead).
* **Roll-up**: an objective's progress is the weighted mean of its initiatives' progress; an
  initiative's weight is its contribution weight times its share of the objective (from the
  objective split, 1 when it serves one objective). An initiative without a weight counts as an
  average one (the mean of the known weights); with no weights at all, all count equally. A
  department's progress rolls up its initiatives the same way; the company's rolls up the
  objectives by their weights in the strategy.
* **Through the cascade** (issue 20): a parent initiative without an actual of its own takes its
  progress from the initiatives aligned to it (``links``), weighted by each link's weight times the
  child's contribution weight (resolved among its siblings as above), any depth. Only chain tops --
  initiatives aligned straight to objectives -- count toward the objectives (their ``objectives`` are
  their direct parts only), so a child's progress is counted once, through its parent.
* **RAG** compares progress with where the item should be by now: expected progress at period
  *p* is (index of *p* + 1) / (index of the due period + 1), at most 1 (the last period of the cycle
  when there is no due period). Pace = progress / expected; green when pace >= the strategy's green
  threshold (default 0.7), amber when >= amber (default 0.4), else red.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cascadebook.spec.roles import INITIATIVES, SHEET_ROLES

GREEN, AMBER, RED = "green", "amber", "red"
DEFAULT_GREEN, DEFAULT_AMBER = 0.7, 0.4
TOLERANCE = 1e-9


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Thresholds:
    """Pace thresholds for RAG: green at or above ``green``, amber at or above ``amber``, else red."""

    green: float = DEFAULT_GREEN
    amber: float = DEFAULT_AMBER

    @classmethod
    def of(cls, strategy: Any) -> Thresholds:
        green = getattr(strategy, "rag_green", None)
        amber = getattr(strategy, "rag_amber", None)
        return cls(green if is_number(green) else DEFAULT_GREEN, amber if is_number(amber) else DEFAULT_AMBER)

    def rag(self, progress: float | None, expected: float | None) -> str | None:
        if progress is None:
            return None
        if progress >= 1 - TOLERANCE:
            return GREEN
        pace = progress / expected if expected else progress
        if pace >= self.green - TOLERANCE:
            return GREEN
        if pace >= self.amber - TOLERANCE:
            return AMBER
        return RED


@dataclass(frozen=True)
class Share:
    """Progress of one actual: ``raw`` as computed, ``progress`` capped to [0, 1]."""

    raw: float
    progress: float

    @property
    def capped(self) -> bool:
        return abs(self.raw - self.progress) > TOLERANCE


def share_of_way(
    baseline: float | None, target: float | None, actual: float | None, direction: str = "increase"
) -> Share | None:
    """The share of the way from baseline to target covered by ``actual`` (None when unknown)."""
    if not is_number(target) or not is_number(actual):
        return None
    base = float(baseline) if is_number(baseline) else 0.0
    span = target - base
    if abs(span) <= TOLERANCE * max(1.0, abs(target)):
        if direction == "decrease":
            reached = actual <= target + TOLERANCE
        elif direction == "increase":
            reached = actual >= target - TOLERANCE
        else:
            reached = abs(actual - target) <= TOLERANCE * max(1.0, abs(target))
        raw = 1.0 if reached else 0.0
    else:
        raw = (actual - base) / span
    return Share(raw, min(1.0, max(0.0, raw)))


def expected_share(period: str, periods: Sequence[str], due_period: str | None = None) -> float:
    """Where an item should be at ``period`` if it moves evenly to its due period (1 once due)."""
    if period not in periods:
        return 1.0
    index = periods.index(period)
    due = periods.index(due_period) if due_period in periods else len(periods) - 1
    return min(1.0, (index + 1) / (due + 1))


def resolve_weights(weights: Sequence[float | None]) -> list[float]:
    """Missing weights count as the mean of the known ones; no (or only zero) weights: all equal."""
    known = [max(0.0, float(w)) for w in weights if is_number(w)]
    if not known or sum(known) <= 0:
        return [1.0] * len(weights)
    mean = sum(known) / len(known)
    return [max(0.0, float(w)) if is_number(w) else mean for w in weights]


def weighted_mean(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    """Mean of the values that are not None, by weight; None when nothing (or no weight) is left."""
    total = weight_sum = 0.0
    for weight, value in pairs:
        if value is None:
            continue
        total += weight * value
        weight_sum += weight
    return total / weight_sum if weight_sum > 0 else None


Link = tuple[tuple[str, str, str], tuple[str, str, str], float]  # (parent key, child key, weight): Item.key


@dataclass(frozen=True)
class Item:
    """A planned initiative or KPI, as progress needs it (strategy-independent)."""

    sheet: str  # spec sheet key: initiatives, kpis
    department: str
    id: str
    title: str = ""
    baseline: float | None = None
    target: float | None = None
    unit: str = ""
    due_period: str | None = None
    weight: float | None = None  # contribution weight
    objectives: tuple[tuple[str, float], ...] = ()  # (objective id, share of the initiative)
    parent: str = ""  # a KPI's initiative id
    direction: str = "increase"  # of the objective; decides when target equals baseline

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.sheet, self.department, self.id.casefold())

    @property
    def is_percent(self) -> bool:
        """A % item planned as fractions (0.15 -> 0.22): an actual typed as 18 means 18%."""
        return self.unit.strip() == "%" and all(is_number(v) and abs(v) <= 1 for v in (self.baseline, self.target))

    def share(self, actual: float | None) -> Share | None:
        return share_of_way(self.baseline, self.target, actual, self.direction)


@dataclass(frozen=True)
class Actual:
    """One check-in row: what a department reported for an item in a period, with where it is."""

    sheet: str  # the plan's sheet key of the item (as Item.sheet), whatever the check-in sheet is called
    department: str
    id: str
    period: str
    value: float | None  # the parsed actual; None when blank or unreadable
    values: Mapping[str, Any] = field(default_factory=dict)  # every input column by key, as parsed (or typed)
    previous: float | None = None  # the "last actual" printed in the workbook
    file: str = ""
    sheet_name: str = ""
    row: int = 0
    cell: str = ""  # A1 of the actual
    status: str = ""  # the department's view (the check-in's column of role status)
    comment: str = ""  # what happened (its column of role comment), stripped

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.sheet, self.department, self.id.casefold())


@dataclass(frozen=True)
class ItemProgress:
    item: Item
    period: str
    actual: float | None
    reported_in: str | None  # the period the actual was reported in (earlier when carried forward)
    raw: float | None
    progress: float | None
    expected: float
    rag: str | None
    status: str = ""
    from_children: int = 0  # > 0: no actual of its own; progress of this many aligned initiatives

    @property
    def carried(self) -> bool:
        return self.reported_in is not None and self.reported_in != self.period

    @property
    def capped(self) -> bool:
        return self.raw is not None and self.progress is not None and abs(self.raw - self.progress) > TOLERANCE


@dataclass(frozen=True)
class Rollup:
    """An objective's, a department's or the company's progress in one period."""

    key: str
    title: str
    period: str
    progress: float | None
    expected: float | None
    rag: str | None
    reporting: int  # items with a progress
    total: int  # items planned

    @property
    def coverage(self) -> str:
        return f"{self.reporting} of {self.total}"


@dataclass
class ProgressReport:
    periods: tuple[str, ...]  # the periods checked in, in the cycle's order
    thresholds: Thresholds
    items: dict[tuple[str, str, str], dict[str, ItemProgress]]
    objectives: dict[str, dict[str, Rollup]]
    departments: dict[str, dict[str, Rollup]]
    overall: dict[str, Rollup]
    actuals: list[Actual] = field(default_factory=list)

    @property
    def latest(self) -> str | None:
        return self.periods[-1] if self.periods else None

    def __bool__(self) -> bool:
        return bool(self.periods)

    def item(self, sheet: str, department: str, item_id: str, period: str | None = None) -> ItemProgress | None:
        return self.items.get((sheet, department, item_id.casefold()), {}).get(period or self.latest or "")

    def objective(self, objective_id: str, period: str | None = None) -> Rollup | None:
        return self.objectives.get(objective_id, {}).get(period or self.latest or "")

    def department(self, code: str, period: str | None = None) -> Rollup | None:
        return self.departments.get(code, {}).get(period or self.latest or "")

    def to_dict(self) -> dict:
        def rollup(r: Rollup) -> dict:
            return {
                "progress": r.progress,
                "expected": r.expected,
                "rag": r.rag,
                "reporting": r.reporting,
                "total": r.total,
            }

        return {
            "periods": list(self.periods),
            "latest": self.latest,
            "thresholds": {"green": self.thresholds.green, "amber": self.thresholds.amber},
            "overall": {p: rollup(r) for p, r in self.overall.items()},
            "objectives": {k: {p: rollup(r) for p, r in v.items()} for k, v in self.objectives.items()},
            "departments": {k: {p: rollup(r) for p, r in v.items()} for k, v in self.departments.items()},
            "items": [
                {
                    "sheet": ip.item.sheet,
                    "department": ip.item.department,
                    "id": ip.item.id,
                    "period": p,
                    "actual": ip.actual,
                    "reported_in": ip.reported_in,
                    "raw": ip.raw,
                    "progress": ip.progress,
                    "expected": ip.expected,
                    "rag": ip.rag,
                    "status": ip.status,
                    **({"from_children": ip.from_children} if ip.from_children else {}),
                }
                for per in self.items.values()
                for p, ip in per.items()
            ],
        }


def compute_progress(
    strategy: Any,
    items: Sequence[Item],
    actuals: Sequence[Actual],
    periods: Sequence[str],
    thresholds: Thresholds | None = None,
    initiatives_sheet: str = SHEET_ROLES[INITIATIVES].key,
    links: Sequence[Link] = (),
) -> ProgressReport:
    """Progress of every item in every checked-in period, and the roll-ups.

    ``strategy`` gives the cycle's periods, the objectives (id, title, weight) and the departments.
    ``periods`` are the periods checked in; the latest one with an actual wins within a period.
    ``initiatives_sheet`` is the key of the spec's initiatives sheet: its items roll up (KPIs do not).
    ``links``: (parent item key, child item key, weight) of the cascade; a parent without an actual of
    its own takes its progress from its children (:func:`_through_children`).
    """
    thresholds = thresholds or Thresholds.of(strategy)
    cycle = tuple(strategy.periods)
    periods = tuple(p for p in cycle if p in set(periods))
    reported: dict[tuple[str, str, str], dict[str, Actual]] = {}
    for actual in actuals:
        if actual.value is not None:
            reported.setdefault(actual.key, {})[actual.period] = actual

    per_item: dict[tuple[str, str, str], dict[str, ItemProgress]] = {}
    for item in items:
        history = reported.get(item.key, {})
        out: dict[str, ItemProgress] = {}
        last: Actual | None = None
        for period in periods:
            last = history.get(period, last)
            share = item.share(last.value) if last is not None else None
            expected = expected_share(period, cycle, item.due_period)
            progress = share.progress if share else None
            status = history[period].status if period in history else ""
            out[period] = ItemProgress(
                item,
                period,
                last.value if last else None,
                last.period if last else None,
                share.raw if share else None,
                progress,
                expected,
                thresholds.rag(progress, expected),
                status,
            )
        per_item[item.key] = out
    if links:
        _through_children(per_item, {i.key: i for i in items}, links, periods, thresholds)

    initiatives = [i for i in items if i.sheet == initiatives_sheet]

    def roll(key: str, title: str, members: list[tuple[Item, float]]) -> dict[str, Rollup]:
        out = {}
        for period in periods:
            entries = [(w, per_item[i.key][period]) for i, w in members]
            progress = weighted_mean((w, ip.progress) for w, ip in entries)
            expected = weighted_mean((w, ip.expected if ip.progress is not None else None) for w, ip in entries)
            reporting = sum(1 for _, ip in entries if ip.progress is not None)
            out[period] = Rollup(
                key, title, period, progress, expected, thresholds.rag(progress, expected), reporting, len(entries)
            )
        return out

    objectives: dict[str, dict[str, Rollup]] = {}
    for objective in strategy.objectives:
        members = [(i, share) for i in initiatives for oid, share in i.objectives if oid == objective.id]
        weights = resolve_weights([i.weight for i, _ in members])
        objectives[objective.id] = roll(
            objective.id, objective.title, [(i, w * share) for (i, share), w in zip(members, weights)]
        )

    departments: dict[str, dict[str, Rollup]] = {}
    for department in strategy.departments:
        members = [i for i in initiatives if i.department == department.code]
        weights = resolve_weights([i.weight for i in members])
        departments[department.code] = roll(department.code, department.name, list(zip(members, weights)))

    overall: dict[str, Rollup] = {}
    weights = resolve_weights([o.weight for o in strategy.objectives])
    for period in periods:
        entries = [(w, objectives[o.id][period]) for o, w in zip(strategy.objectives, weights)]
        progress = weighted_mean((w, r.progress) for w, r in entries)
        expected = weighted_mean((w, r.expected if r.progress is not None else None) for w, r in entries)
        overall[period] = Rollup(
            "",
            "All objectives",
            period,
            progress,
            expected,
            thresholds.rag(progress, expected),
            sum(1 for _, r in entries if r.progress is not None),
            len(entries),
        )

    return ProgressReport(periods, thresholds, per_item, objectives, departments, overall, list(actuals))


def _through_children(
    per_item: dict[tuple[str, str, str], dict[str, ItemProgress]],
    items: Mapping[tuple[str, str, str], Item],
    links: Sequence[Link],
    periods: Sequence[str],
    thresholds: Thresholds,
) -> None:
    """A parent initiative with no actual (in a period, carried forward included) gets the weighted mean
    of its children's progress in that period -- theirs own or, in turn, their children's. Children come
    first (a depth-first walk with a memo, so any depth; a cycle, which ``org`` rules out, stops there)."""
    children: dict[tuple[str, str, str], list[tuple[tuple[str, str, str], float]]] = {}
    for parent, child, weight in links:
        if parent in items and child in items:
            children.setdefault(parent, []).append((child, weight))
    done: set[tuple[str, str, str]] = set()

    def settle(key: tuple[str, str, str], seen: frozenset) -> None:
        if key in done or key in seen or key not in children:
            return
        mine = children[key]
        for child, _ in mine:
            settle(child, seen | {key})
        weights = resolve_weights([items[child].weight for child, _ in mine])
        for period in periods:
            own = per_item[key][period]
            if own.actual is not None:
                continue
            entries = [(w * link, per_item[child][period]) for (child, link), w in zip(mine, weights)]
            progress = weighted_mean((w, ip.progress) for w, ip in entries)
            if progress is None:
                continue
            reporting = sum(1 for _, ip in entries if ip.progress is not None)
            per_item[key][period] = ItemProgress(
                own.item,
                period,
                None,
                None,
                progress,
                progress,
                own.expected,
                thresholds.rag(progress, own.expected),
                own.status,
                reporting,
            )
        done.add(key)

    for key in list(children):
        settle(key, frozenset())

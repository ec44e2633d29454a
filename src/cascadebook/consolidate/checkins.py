"""Check-ins into progress: newest wins per department and period, actuals read against the plan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cascadebook.consolidate.left_out import not_taken, rows_not_taken
from cascadebook.consolidate.progress import Actual, Item, ProgressReport, Thresholds, compute_progress, is_number
from cascadebook.findings import Finding, Severity
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.intake.reader import Return
from cascadebook.model import Record, Strategy
from cascadebook.spec.schema import SheetSpec
from cascadebook.spec.values import display, parse_value


def _num(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def _finding(code: str, message: str, record: Record, key: str) -> Finding:
    return Finding(
        code,
        message,
        file=record.file,
        sheet=record.sheet_name,
        cell=record.cells.get(key, f"A{record.row}"),
        department=record.department,
    )


def _direction(strategy: Strategy, objective_ids: Iterable[str]) -> str:
    for oid in objective_ids:
        objective = strategy.objective(oid)
        if objective is not None:
            return objective.direction
    return "increase"


def plan_items(result: Any) -> dict[tuple[str, str, str], Item]:
    """The reconciled plan (initiatives and KPIs) as progress items, keyed like ``Item.key``."""
    strategy = result.strategy
    split: dict[tuple[str, str], list[tuple[str, float]]] = {}
    allocations = getattr(result, "allocations", None)
    if allocations:
        for a in allocations:
            split.setdefault((a.department, a.initiative_id.casefold()), []).append((a.objective_id, a.weight))
    items: dict[tuple[str, str, str], Item] = {}
    for record in result.records.get("initiatives", []):
        objectives = split.get((record.department, record.id.casefold()))
        if objectives is None and allocations is None:
            objective = strategy.objective(str(record.values.get("objective_id") or ""))
            objectives = [(objective.id, 1.0)] if objective else []
        item = Item(
            "initiatives",
            record.department,
            record.id,
            str(record.values.get("title") or ""),
            _num(record.values.get("baseline")),
            _num(record.values.get("target")),
            str(record.values.get("unit") or ""),
            _period(record.values.get("due_period")),
            _num(record.values.get("contribution_weight")),
            tuple(objectives or ()),
            direction=_direction(strategy, [o for o, _ in objectives or ()]),
        )
        items.setdefault(item.key, item)
    for record in result.records.get("kpis", []):
        parent = str(record.values.get("initiative_id") or "")
        owner = items.get(("initiatives", record.department, parent.casefold()))
        item = Item(
            "kpis",
            record.department,
            record.id,
            str(record.values.get("name") or ""),
            _num(record.values.get("baseline")),
            _num(record.values.get("target")),
            str(record.values.get("unit") or ""),
            _period(record.values.get("due_period")),
            parent=parent,
            direction=owner.direction if owner else "increase",
        )
        items.setdefault(item.key, item)
    return items


def _period(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def _item_from_checkin(strategy: Strategy, record: Record, sheet: SheetSpec) -> Item:
    """A check-in row whose item is not in the reconciled plan: use the plan columns it carries."""

    def parsed(key: str, kind: str) -> Any:
        if not sheet.has(key):
            return None
        p = parse_value(record.values.get(key), kind)
        return p.value if p.ok else None

    objective = strategy.objective(str(parsed("objective_id", "text") or ""))
    objectives = ((objective.id, 1.0),) if objective else ()
    return Item(
        sheet.key,
        record.department,
        record.id,
        str(parsed("title", "text") or parsed("name", "text") or ""),
        parsed("baseline", "number"),
        parsed("target", "number"),
        str(parsed("unit", "text") or ""),
        parsed("due_period", "text"),
        parsed("contribution_weight", "percent"),
        objectives,
        parent=str(parsed("initiative_id", "text") or ""),
        direction=objective.direction if objective else "increase",
    )


def _read_row(
    strategy: Strategy, sheet: SheetSpec, record: Record, item: Item, period: str, findings: list[Finding]
) -> Actual:
    values: dict[str, Any] = {}
    value: float | None = None
    for col in sheet.input_columns:
        raw = record.values.get(col.key)
        kind = "percent" if col.key == "actual" and item.is_percent else col.type
        parsed = parse_value(
            raw, kind, choices=col.choices or None, periods=strategy.periods, cycle_year=strategy.cycle_year
        )
        if parsed.blank:
            values[col.key] = None
            continue
        if parsed.error:
            values[col.key] = raw if isinstance(raw, (str, int, float)) else display(raw)  # as typed
            code = "actual-wrong-type" if col.key == "actual" else "wrong-type"
            findings.append(
                _finding(
                    code, f"{item.id}: {col.header} should be {parsed.error}, found {display(raw)}", record, col.key
                )
            )
            continue
        if parsed.note:
            findings.append(_finding("value-interpreted", f"{col.header}: {parsed.note}", record, col.key))
        values[col.key] = parsed.value
        if col.key == "actual":
            value = float(parsed.value)
    previous = None
    if sheet.has("previous_actual"):
        p = parse_value(record.values.get("previous_actual"), "number")
        previous = float(p.value) if p.ok else None
    return Actual(
        sheet.key,
        record.department,
        item.id,
        period,
        value,
        values,
        previous,
        record.file,
        record.sheet_name,
        record.row,
        record.cells.get("actual", f"A{record.row}"),
    )


def reconcile_checkins(result: Any, sources: Sequence[Return]) -> tuple[ProgressReport, list[Finding]]:
    """Turn the identified check-in returns into progress; returns the report and the new findings.

    Newest wins per department and period (the others are superseded, as for plans). ``result``
    is the plan's Reconciliation (strategy, records, allocations, sources).
    """
    strategy: Strategy = result.strategy
    spec = checkin_spec()
    findings: list[Finding] = []

    def not_used(ret: Return, status: str, reason: str, finding: Finding) -> None:
        """Like a plan's: a check-in not used raises nothing live, only why and where its rows are."""
        ret.status, ret.reason = status, reason
        ret.findings = [f for f in ret.findings if f.severity is Severity.INFO] + [finding, *rows_not_taken(ret)]

    for ret in sources:  # rejected on identity: why, and which rows were not taken
        if ret.status == "rejected":
            ret.findings = not_taken(ret)
    newest: dict[tuple[str, str], Return] = {}
    accepted = [r for r in sources if r.status == "accepted"]
    for ret in sorted(accepted, key=lambda r: (getattr(r, "received", "") or r.modified, r.file), reverse=True):
        period = ret.metadata.period
        if period not in strategy.periods:
            not_used(
                ret,
                "rejected",
                f"check-in for {period!r}, not a period of {strategy.cycle}",
                Finding(
                    "period-outside-cycle",
                    f"the check-in is for {period!r}, not one of {', '.join(strategy.periods)}",
                    file=ret.file,
                    department=ret.department,
                ),
            )
            continue
        kept = newest.get((ret.department, period))
        if kept is not None:
            not_used(
                ret,
                "superseded",
                f"superseded by {kept.file}",
                Finding(
                    "superseded-submission",
                    f"{kept.file} is a newer {period} check-in from {ret.department}",
                    file=ret.file,
                    department=ret.department,
                ),
            )
            continue
        newest[(ret.department, period)] = ret
        ret.reason = f"{period} check-in"
    for ret in sources:  # what reading and identifying found; for a check-in not used, why and where its rows are
        findings.extend(ret.findings)

    order = {p: i for i, p in enumerate(strategy.periods)}
    periods = tuple(sorted({p for _, p in newest}, key=order.__getitem__))
    items = plan_items(result)
    actuals: list[Actual] = []
    for (department, period), ret in sorted(newest.items(), key=lambda kv: (order[kv[0][1]], kv[0][0])):
        seen: set[tuple[str, str, str]] = set()
        for sheet in spec.sheets:
            for record in ret.records.get(sheet.key, []):
                if not record.id:  # typed below the listed items: no item to report on, said, not dropped
                    findings.append(
                        Finding(
                            "checkin-row-not-taken",
                            f"row {record.row} has no id of a listed {sheet.title} item, so "
                            f"its {period} values are not in the progress",
                            file=record.file,
                            sheet=record.sheet_name,
                            cell=f"A{record.row}",
                            department=department,
                            rows=(record.row,),
                        )
                    )
                    continue
                key = (sheet.key, department, record.id.casefold())
                if key in seen:
                    findings.append(
                        Finding(
                            "checkin-row-not-taken",
                            f"row {record.row} repeats {record.id}; only its first row is read for {period}",
                            file=record.file,
                            sheet=record.sheet_name,
                            cell=f"A{record.row}",
                            department=department,
                            rows=(record.row,),
                        )
                    )
                    continue
                seen.add(key)
                item = items.get(key)
                if item is None:
                    item = items[key] = _item_from_checkin(strategy, record, sheet)
                actual = _read_row(strategy, sheet, record, item, period, findings)
                actuals.append(actual)
                if actual.value is None and actual.values.get("actual") is None:
                    findings.append(_finding("actual-missing", f"{item.id}: no actual for {period}", record, "actual"))
        titles = {s.key: s.title for s in spec.sheets}
        for key, item in items.items():
            if item.department == department and key not in seen:
                findings.append(
                    Finding(
                        "actual-missing",
                        f"{item.id}: no actual for {period} (the row is blank or missing)",
                        file=ret.file,
                        sheet=titles.get(item.sheet, item.sheet),
                        department=department,
                    )
                )

    # Backwards moves without a comment, against the last earlier actual (else the workbook's "last actual").
    last: dict[tuple[str, str, str], float] = {}
    by_row = {(a.key, a.period): a for a in actuals}
    for actual in sorted(actuals, key=lambda a: order[a.period]):
        item = items[actual.key]
        before = last.get(actual.key, actual.previous)
        if actual.value is not None:
            sign_ = (item.target or 0) - (item.baseline or 0) if is_number(item.target) else 0
            if before is not None and sign_ and (actual.value - before) * sign_ < 0 and not actual.comment:
                findings.append(
                    Finding(
                        "actual-backwards",
                        f"{item.id}: {actual.value:g} for {actual.period} moved back from {before:g} "
                        f"(the target is {item.target:g}) and there is no comment",
                        file=actual.file,
                        sheet=actual.sheet_name,
                        cell=actual.cell,
                        department=actual.department,
                    )
                )
            last[actual.key] = actual.value

    report = compute_progress(strategy, list(items.values()), actuals, periods, Thresholds.of(strategy))
    for (key, period), actual in by_row.items():
        own = report.items.get(key, {}).get(period)
        if actual.value is not None and own is not None and own.capped and not own.carried:
            beyond = own.raw > 1
            findings.append(
                Finding(
                    "progress-capped",
                    f"{own.item.id}: the {period} actual {actual.value:g} is "
                    f"{'beyond the target' if beyond else 'behind the baseline'} "
                    f"({own.raw:.0%} of the way; counted as {own.progress:.0%})",
                    file=actual.file,
                    sheet=actual.sheet_name,
                    cell=actual.cell,
                    department=actual.department,
                )
            )

    # Departments with a plan that sent no check-in for a period others reported on.
    expected = {i.department for i in items.values()}
    for period in periods:
        for department in sorted(expected):
            if (department, period) not in newest:
                d = strategy.department(department)
                who = f"{d.name} ({d.code}); head: {d.head} <{d.email}>" if d else department
                findings.append(
                    Finding(
                        "checkin-missing",
                        f"no {period} check-in from {who}; its last reported actuals are used",
                        department=department,
                    )
                )
    return report, findings

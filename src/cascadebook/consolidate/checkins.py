"""Check-ins into progress: newest wins per department and period, actuals read against the plan.

A check-in's rows are parsed and checked by the plan's engine (intake/validate.py) in the intake
worker, told what differs for a check-in (``CHECKIN_CHECKING``); newest wins by the plan's rule
(newest.py). What only progress can say is said here: rows not taken, actuals missing or moving
backwards, progress capped, check-ins missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from cascadebook.consolidate.left_out import not_taken, rows_not_taken
from cascadebook.consolidate.newest import newest_wins
from cascadebook.consolidate.progress import (
    Actual,
    Item,
    Link,
    ProgressReport,
    Thresholds,
    compute_progress,
    is_number,
)
from cascadebook.findings import Finding, Severity, cell_finding
from cascadebook.intake.dispatch import checkin_spec
from cascadebook.intake.reader import Return
from cascadebook.intake.rules import VALUE_TYPE, Context, Row
from cascadebook.intake.validate import Checking, validate_records
from cascadebook.model import Record, Strategy
from cascadebook.parent_plan import direct_objectives, key_of
from cascadebook.spec.roles import (
    ACTUAL,
    BASELINE,
    COMMENT,
    CONTRIBUTION_WEIGHT,
    DUE_PERIOD,
    INITIATIVE_REF,
    INITIATIVES,
    KPIS,
    OBJECTIVE_REF,
    PREVIOUS_ACTUAL,
    STATUS,
    TARGET,
    TITLE,
    UNIT,
    plan_role,
)
from cascadebook.spec.schema import SheetSpec, Spec
from cascadebook.spec.values import parse_value


def _num(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def _direction(strategy: Strategy, objective_ids: Iterable[str]) -> str:
    for oid in objective_ids:
        objective = strategy.objective(oid)
        if objective is not None:
            return objective.direction
    return "increase"


def _getter(sheet: SheetSpec | None) -> Callable[[Record, str], Any]:
    """``get(record, role)``: a record's value in the sheet's column of that role (None without one)."""
    keys = {} if sheet is None else {c.role: c.key for c in sheet.columns if c.role}

    def get(record: Record, role: str) -> Any:
        return record.values.get(keys[role]) if role in keys else None

    return get


def plan_items(result: Any) -> dict[tuple[str, str, str], Item]:
    """The reconciled plan (initiatives and KPIs) as progress items, keyed like ``Item.key`` (the plan's
    sheet keys); their columns found by role in the plan's spec."""
    strategy, spec = result.strategy, result.spec
    split: dict[tuple[str, str], list[tuple[str, float]]] = {}
    allocations = getattr(result, "allocations", None)
    if allocations:
        for a in allocations:
            split.setdefault((a.department, a.initiative_id.casefold()), []).append((a.objective_id, a.weight))
    items: dict[tuple[str, str, str], Item] = {}
    initiatives, kpis = spec.sheet_by_role(INITIATIVES), spec.sheet_by_role(KPIS)
    cascade = getattr(result, "cascade", None)
    cascaded = cascade.chains.cascaded if cascade is not None else None
    get = _getter(initiatives)
    for record in result.records.get(initiatives.key, []) if initiatives else ():
        objectives = split.get((record.department, record.id.casefold()))
        if objectives is None and allocations is None:
            objective = strategy.objective(str(get(record, OBJECTIVE_REF) or ""))
            # a unit aligned to its parent's plan names a parent initiative here (issue 20), not an
            # objective: the item is still made, with no objective, so its progress counts for its unit
            objectives = [(objective.id, 1.0)] if objective else []
        item = Item(
            initiatives.key,
            record.department,
            record.id,
            str(get(record, TITLE) or ""),
            _num(get(record, BASELINE)),
            _num(get(record, TARGET)),
            str(get(record, UNIT) or ""),
            _period(get(record, DUE_PERIOD)),
            _num(get(record, CONTRIBUTION_WEIGHT)),
            tuple(objectives or ()),
            direction=_direction(strategy, [o for o, _ in objectives or ()]),
        )
        if cascaded is not None and key_of(record.department, record.id) in cascaded:
            # only chain tops count toward the objectives: its parent initiative counts it (progress.py)
            item = replace(item, objectives=direct_objectives(strategy, record, initiatives))
        items.setdefault(item.key, item)
    get = _getter(kpis)
    for record in result.records.get(kpis.key, []) if kpis else ():
        parent = str(get(record, INITIATIVE_REF) or "")
        owner = items.get((initiatives.key if initiatives else "", record.department, parent.casefold()))
        item = Item(
            kpis.key,
            record.department,
            record.id,
            str(get(record, TITLE) or ""),
            _num(get(record, BASELINE)),
            _num(get(record, TARGET)),
            str(get(record, UNIT) or ""),
            _period(get(record, DUE_PERIOD)),
            parent=parent,
            direction=owner.direction if owner else "increase",
        )
        items.setdefault(item.key, item)
    return items


def chain_links(result: Any) -> list[Link]:
    """The cascade's links as progress items' keys (parent, child, weight); none for a flat cycle."""
    cascade = getattr(result, "cascade", None)
    if cascade is None:
        return []
    sheet = result.spec.sheet_key(INITIATIVES)
    return [
        (
            (sheet, k.parent_department, k.parent_id.casefold()),
            (sheet, k.department, k.initiative_id.casefold()),
            k.weight,
        )
        for k in cascade.chains.links
    ]


def _period(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def _item_from_checkin(strategy: Strategy, record: Record, sheet: SheetSpec, plan_key: str) -> Item:
    """A check-in row whose item is not in the reconciled plan: use the plan columns it carries (by role)."""
    get = _getter(sheet)

    def parsed(role: str, kind: str) -> Any:
        p = parse_value(get(record, role), kind)
        return p.value if p.ok else None

    objective = strategy.objective(str(parsed(OBJECTIVE_REF, "text") or ""))
    objectives = ((objective.id, 1.0),) if objective else ()
    return Item(
        plan_key,
        record.department,
        record.id,
        str(parsed(TITLE, "text") or ""),
        parsed(BASELINE, "number"),
        parsed(TARGET, "number"),
        str(parsed(UNIT, "text") or ""),
        parsed(DUE_PERIOD, "text"),
        parsed(CONTRIBUTION_WEIGHT, "percent"),
        objectives,
        parent=str(parsed(INITIATIVE_REF, "text") or ""),
        direction=objective.direction if objective else "increase",
    )


def _percent_actual(record: Record) -> Mapping[str, str]:
    """A % item planned as fractions (progress.Item.is_percent): its actual is read as a percentage, so
    18 typed means 18%. Decided from the plan columns the check-in carries, what the person saw (the
    workbook formats that actual as a percentage), so the worker decides it without the plan."""
    sheet = checkin_spec().sheet(record.sheet)
    get = _getter(sheet)

    def number(role: str) -> float | None:
        p = parse_value(get(record, role), "number")
        return _num(p.value) if p.ok else None

    unit = parse_value(get(record, UNIT), "text")
    item = Item(record.sheet, record.department, record.id, "", number(BASELINE), number(TARGET), str(unit.value or ""))
    return {sheet.key_of(ACTUAL): "percent"} if item.is_percent and sheet.by_role(ACTUAL) else {}


def _taken(row: Row, ctx: Context) -> bool:
    """Progress reads the first row of each listed id; the others are ``checkin-row-not-taken``
    (reconcile_checkins), so the rules do not check them."""
    first = ctx.first_by_id.get(row.sheet.key, {})
    return bool(row.record.id) and first.get(row.record.id.casefold()) is row


def _words(f: Finding, row: Row) -> Finding:
    """A check-in's value of the wrong type names the item its row reports on, and an actual of the
    wrong type is ``actual-wrong-type`` (README's findings)."""
    if f.code != "wrong-type":
        return f
    actual = row.sheet.key_of(ACTUAL)
    code = "actual-wrong-type" if actual and f.cell == row.record.cells.get(actual) else f.code
    return replace(f, code=code, message=f"{row.record.id}: {f.message}")


# A check-in is checked like a plan, by the same rules, for what differs: only the department's input
# columns (the rest is the plan, locked), no live checks in the workbook (so no read-leniently), an
# actual of a % item read as a percentage, only the rows progress reads, and its own words for a
# wrong actual. The required actual is said per period by reconcile_checkins (actual-missing).
CHECKIN_CHECKING = Checking(
    rules=(VALUE_TYPE,), inputs_only=True, live=False, types=_percent_actual, reads=_taken, words=_words
)


def validate_checkin(strategy: Strategy, ret: Return) -> None:
    """Parse and check a check-in's rows (in the intake worker, as a plan's): typed records, row findings."""
    ret.records, ret.row_findings = validate_records(
        strategy, checkin_spec(), ret.records, ret.department, CHECKIN_CHECKING
    )
    ret.validated = True


def _actual(sheet: SheetSpec, record: Record, item: Item, period: str) -> Actual:
    """A validated check-in row as progress reads it: its input values, as parsed (or as typed); the
    actual, last actual, status and comment from the check-in sheet's columns of those roles."""
    values = {col.key: record.values.get(col.key) for col in sheet.input_columns}
    get = _getter(sheet)
    value = get(record, ACTUAL)
    previous = None
    if sheet.by_role(PREVIOUS_ACTUAL):
        p = parse_value(get(record, PREVIOUS_ACTUAL), "number")
        previous = _num(p.value) if p.ok else None
    status, comment = get(record, STATUS), get(record, COMMENT)
    return Actual(
        item.sheet,
        record.department,
        item.id,
        period,
        float(value) if is_number(value) else None,
        values,
        previous,
        record.file,
        record.sheet_name,
        record.row,
        record.cells.get(sheet.key_of(ACTUAL), f"A{record.row}"),
        str(status) if status is not None else "",
        str(comment).strip() if comment is not None else "",
    )


def plan_key(plan: Spec, sheet: SheetSpec) -> str:
    """The key of the plan's sheet a check-in sheet reports on (by their roles); the check-in sheet's
    own key when the plan has none (its rows then stand on their own, see _item_from_checkin)."""
    return plan.sheet_key(plan_role(sheet.role)) or sheet.key


def _what(ret: Return) -> str:
    """How a check-in is named in a reason or finding: "Q2 check-in"."""
    return f"{ret.metadata.period} check-in"


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
    dated = []
    for ret in (r for r in sources if r.status == "accepted"):
        period = ret.metadata.period
        if period in strategy.periods:
            dated.append(ret)
            continue
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
    # Newest wins per department and period, by the plan's rule (newest.py).
    newest = newest_wins(dated, key=lambda r: (r.department, r.metadata.period), what=_what)
    for ret in dated:
        if ret.status == "superseded":
            ret.findings = not_taken(ret)  # like a plan's: only why, and where its rows are
        else:
            ret.reason = _what(ret)
    for ret in sources:  # what reading and identifying found; for a check-in not used, why and where its rows are
        findings.extend(ret.findings)

    order = {p: i for i, p in enumerate(strategy.periods)}
    periods = tuple(sorted({p for _, p in newest}, key=order.__getitem__))
    items = plan_items(result)
    actuals: list[Actual] = []
    for (department, period), ret in sorted(newest.items(), key=lambda kv: (order[kv[0][1]], kv[0][0])):
        if not ret.validated:  # read without the intake worker
            validate_checkin(strategy, ret)
        findings.extend(ret.row_findings)  # the rules' findings on the rows read below
        seen: set[tuple[str, str, str]] = set()
        for sheet in spec.sheets:
            plan = plan_key(result.spec, sheet)
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
                key = (plan, department, record.id.casefold())
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
                    item = items[key] = _item_from_checkin(strategy, record, sheet, plan)
                actual = _actual(sheet, record, item, period)
                actuals.append(actual)
                at = sheet.key_of(ACTUAL)
                if actual.value is None and actual.values.get(at) is None:
                    findings.append(cell_finding("actual-missing", f"{item.id}: no actual for {period}", record, at))
        titles = {plan_key(result.spec, s): s.title for s in spec.sheets}
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

    report = compute_progress(
        strategy,
        list(items.values()),
        actuals,
        periods,
        Thresholds.of(strategy),
        initiatives_sheet=result.spec.sheet_key(INITIATIVES),
        links=chain_links(result),
    )
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

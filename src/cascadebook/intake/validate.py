"""Validation: parse every value against the spec, then run the row rules of :mod:`cascadebook.intake.rules`.

The rules are written once, in intake/rules.py, each with its Python check (run here, for reconcile) and
its formula (written into the template by template/department.py, for the live checks), so what a department
head sees while typing and what reconcile reports are the same problems. Each finding points at the
exact cell. Records keep every row (nothing is dropped for being wrong); a value that cannot be
parsed is kept as typed so the master still shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cascadebook.findings import Finding
from cascadebook.intake.rules import ROW_RULES, Context, Row, finding
from cascadebook.model import Record, Strategy
from cascadebook.spec.schema import SheetSpec, Spec
from cascadebook.spec.values import BLANK, Parsed, display, value_parser


def parse_row(
    strategy: Strategy, sheet: SheetSpec, record: Record, objective_ids: dict[str, str], cycle_year: int | None
) -> Row:
    """Parse one record's values; the typed record keeps unparseable values as typed."""
    raw_values = record.values
    values = dict(raw_values)
    parsed = {}
    for key, parse, memo, objective in _plan(sheet, strategy.periods, cycle_year):
        raw = raw_values.get(key)
        if raw is None or raw == "":  # an empty cell (most optional cells): blank without asking the parser
            parsed[key] = BLANK
            values[key] = None
            continue
        if memo is not None and type(raw) is str:  # a text read before in this column (see value_parser)
            p = memo.get(raw) or parse(raw)
        else:
            p = parse(raw)
        parsed[key] = p
        if p.blank:
            values[key] = None
        elif p.error:
            values[key] = raw if isinstance(raw, (str, int, float)) else display(raw)  # as typed
        elif objective:
            values[key] = objective_ids.get(str(p.value).casefold(), p.value)  # CO3, not co3
        else:
            values[key] = p.value
    typed = Record(record.sheet, record.department, record.file, record.sheet_name, record.row, values, record.cells)
    return Row(sheet, typed, raw_values, parsed)


Plan = list[tuple[str, Callable[[object], Parsed], "dict[str, Parsed] | None", bool]]
_PLANS: dict[tuple[int, tuple[str, ...], int | None], tuple[SheetSpec, Plan]] = {}


def _plan(sheet: SheetSpec, periods: tuple[str, ...], cycle_year: int | None) -> Plan:
    """Per column of a sheet: its key, its bound parser, and whether it names an objective -- worked
    out once per sheet object (keyed by identity: hashing a spec costs more than parsing a row)."""
    key = (id(sheet), tuple(periods), cycle_year)
    hit = _PLANS.get(key)
    if hit is None or hit[0] is not sheet:
        plan = []
        for col in sheet.columns:
            parse = value_parser(col.type, choices=col.choices or None, periods=periods, cycle_year=cycle_year)
            plan.append(
                (col.key, parse, getattr(parse, "memo", None), col.type == "reference" and col.source == "objectives")
            )
        hit = _PLANS[key] = (sheet, plan)
    return hit[1]


def assign_ids(rows: list[Row], sheet: SheetSpec, department: str, findings: list[Finding]) -> None:
    """Rows added below the prefilled ids get the next free id (duplicates are a rule of their own)."""
    used = {r.record.id.casefold() for r in rows if r.record.id}
    number = sheet.prefilled_rows  # never reuse a prefilled id, even of a row left empty
    for row in rows:
        if row.record.id:
            continue
        while True:
            number += 1
            candidate = sheet.make_id(department, number)
            if candidate.casefold() not in used:
                break
        used.add(candidate.casefold())
        row.record = replace(row.record, values={**row.record.values, "id": candidate})
        findings.append(
            finding("id-assigned", f"row {row.record.row} had no id; it is {candidate} in the master", row, "id")
        )


def validate_records(
    strategy: Strategy, spec: Spec, records: dict[str, list[Record]], department: str
) -> tuple[dict[str, list[Record]], list[Finding]]:
    """Parse and check one department's rows; returns the typed records and the findings."""
    findings: list[Finding] = []
    objective_ids = {o.id.casefold(): o.id for o in strategy.objectives}
    cycle_year = strategy.cycle_year  # a regular expression each time it is asked: ask once
    rows: dict[str, list[Row]] = {}
    for sheet in spec.sheets:
        rows[sheet.key] = [parse_row(strategy, sheet, r, objective_ids, cycle_year) for r in records.get(sheet.key, [])]
        if sheet.has("id"):
            assign_ids(rows[sheet.key], sheet, department, findings)
    ctx = Context(strategy, spec, department, rows)
    for sheet in spec.sheets:
        rules = [rule.findings for rule in ROW_RULES if rule.relevant(sheet, spec)]  # the others yield nothing here
        for row in rows[sheet.key]:
            for rule in rules:
                findings.extend(rule(row, ctx))
    return {key: [row.record for row in items] for key, items in rows.items()}, findings

"""Validation: parse every value against the spec, then run the row rules of :mod:`cascadebook.intake.rules`.

The rules are written once, in intake/rules.py, each with its Python check (run here, for reconcile) and
its formula (written into the template by template/department.py, for the live checks), so what a department
head sees while typing and what reconcile reports are the same problems. Each finding points at the
exact cell. Records keep every row (nothing is dropped for being wrong); a value that cannot be
parsed is kept as typed so the master still shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from cascadebook.findings import Finding
from cascadebook.intake.rules import ROW_RULES, Context, Row, RowRule, finding
from cascadebook.model import Record, Strategy
from cascadebook.spec.roles import ID
from cascadebook.spec.schema import Column, SheetSpec, Spec
from cascadebook.spec.values import BLANK, Parsed, display, value_parser


def parse_row(
    strategy: Strategy,
    sheet: SheetSpec,
    record: Record,
    objective_ids: dict[str, str],
    cycle_year: int | None,
    types: Mapping[str, str] | None = None,
) -> Row:
    """Parse one record's values; the typed record keeps unparseable values as typed. ``types``: columns
    this row reads as another type than the spec's (see :class:`Checking`)."""
    raw_values = record.values
    values = dict(raw_values)
    parsed = {}
    for key, parse, memo, objective in _plan(sheet, strategy.periods, cycle_year):
        raw = raw_values.get(key)
        if raw is None or raw == "":  # an empty cell (most optional cells): blank without asking the parser
            parsed[key] = BLANK
            values[key] = None
            continue
        if types and key in types:
            parse, memo = _parser(sheet.column(key), types[key], strategy.periods, cycle_year), None
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
    typed = Record(
        record.sheet, record.department, record.file, record.sheet_name, record.row, values, record.cells, record.id_key
    )
    return Row(sheet, typed, raw_values, parsed, types or {})


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


_PARSERS: dict[tuple[str, ...], Callable[[object], Parsed]] = {}


def _parser(col: Column, kind: str, periods: tuple[str, ...], cycle_year: int | None) -> Callable[[object], Parsed]:
    """A column's parser for another type than its own, made once per type, choices and periods."""
    key = (kind, *col.choices, "|", *periods, str(cycle_year))
    parse = _PARSERS.get(key)
    if parse is None:
        parse = _PARSERS[key] = value_parser(kind, choices=col.choices or None, periods=periods, cycle_year=cycle_year)
    return parse


@dataclass(frozen=True)
class Checking:
    """How one kind of return is checked. The default is a plan's: every column, every rule, every row.

    Another kind (a check-in, ``consolidate/checkins.py``) goes through the same parsing and the same
    rules, told only what differs, so a value means the same and is reported the same wherever it is
    typed. The callables are module-level functions, so a ``Checking`` can be named in a worker process.
    """

    rules: tuple[RowRule, ...] = ROW_RULES
    # Only the columns the department fills in: a check-in's prefilled (locked) columns are the plan's,
    # checked when the plan came in. Without the prefilled id column no id is assigned either.
    inputs_only: bool = False
    # The workbook checks values while they are typed (the template's Check column): a value it
    # flags that reconcile reads anyway is ``read-leniently``. Without, a value read is only said how.
    live: bool = True
    # Per row: columns read as another type than the spec's (a check-in's actual of a % item is a percent).
    types: Callable[[Record], Mapping[str, str]] | None = None
    # The rows whose values are used; the rules check only those (a check-in's row without an id, or
    # repeating one, is reported as not taken instead).
    reads: Callable[[Row, Context], bool] | None = None
    # How this kind says a rule's finding: its own code or words for the same problem.
    words: Callable[[Finding, Row], Finding] | None = None


PLAN = Checking()
_INPUTS: dict[int, tuple[Spec, Spec]] = {}


def _inputs_only(spec: Spec) -> Spec:
    """``spec`` with only the columns the department fills in, once per spec object (the rules'
    look-ups are kept per sheet object, so the same view is handed back every time)."""
    hit = _INPUTS.get(id(spec))
    if hit is None or hit[0] is not spec:
        sheets = tuple(replace(s, columns=s.input_columns) for s in spec.sheets)
        hit = _INPUTS[id(spec)] = (spec, replace(spec, sheets=sheets))
    return hit[1]


def assign_ids(rows: list[Row], sheet: SheetSpec, department: str, findings: list[Finding]) -> None:
    """Rows added below the prefilled ids get the next free id (duplicates are a rule of their own)."""
    key = sheet.key_of(ID)
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
        row.record = replace(row.record, values={**row.record.values, key: candidate}, id_key=key)
        findings.append(
            finding("id-assigned", f"row {row.record.row} had no id; it is {candidate} in the master", row, key)
        )


def validate_records(
    strategy: Strategy,
    spec: Spec,
    records: dict[str, list[Record]],
    department: str,
    checking: Checking = PLAN,
) -> tuple[dict[str, list[Record]], list[Finding]]:
    """Parse and check one department's rows; returns the typed records and the findings.

    ``checking`` says how this kind of return is checked (a plan's by default; see :class:`Checking`)."""
    findings: list[Finding] = []
    objective_ids = {o.id.casefold(): o.id for o in strategy.objectives}
    cycle_year = strategy.cycle_year  # a regular expression each time it is asked: ask once
    if checking.inputs_only:
        spec = _inputs_only(spec)
    types = checking.types
    rows: dict[str, list[Row]] = {}
    for sheet in spec.sheets:
        rows[sheet.key] = [
            parse_row(strategy, sheet, r, objective_ids, cycle_year, types(r) if types else None)
            for r in records.get(sheet.key, [])
        ]
        if sheet.by_role(ID):
            assign_ids(rows[sheet.key], sheet, department, findings)
    ctx = Context(strategy, spec, department, rows, live=checking.live)
    reads, words = checking.reads, checking.words
    for sheet in spec.sheets:
        # the rules that can yield something on this sheet
        rules = [rule.findings for rule in checking.rules if rule.relevant(sheet, spec)]
        for row in rows[sheet.key]:
            if reads is not None and not reads(row, ctx):
                continue
            for rule in rules:
                if words is None:
                    findings.extend(rule(row, ctx))
                else:
                    findings.extend(words(f, row) for f in rule(row, ctx))
    return {key: [row.record for row in items] for key, items in rows.items()}, findings

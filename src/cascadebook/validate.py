"""Row rules: parse every value against the spec and check rows across sheets.

Each rule yields Findings pointing at the exact cell. Records keep every row (nothing is dropped
for being wrong); a value that cannot be parsed is kept as typed text so the master still shows it.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable

from .findings import Finding
from .model import Record, Strategy
from .spec import Column, SheetSpec, Spec
from .values import display, parse_value

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LOOKS_LIKE_PERIOD = re.compile(r"^\s*(?:fy)?\s*(?:\d{4}\s*[-/ ]?\s*)?[qh]\s*\d", re.I)


def _finding(code: str, message: str, record: Record, key: str) -> Finding:
    return Finding(code, message, file=record.file, sheet=record.sheet_name,
                   cell=record.cells.get(key, f"A{record.row}"), department=record.department)


class SheetValidator:
    """Parses and checks one sheet's records; knows the ids other sheets may refer to."""

    def __init__(self, strategy: Strategy, spec: Spec, sheet: SheetSpec):
        self.strategy = strategy
        self.spec = spec
        self.sheet = sheet
        self.objective_ids = {o.id.casefold(): o.id for o in strategy.objectives}

    def parse(self, record: Record, findings: list[Finding]) -> Record:
        values = dict(record.values)
        for col in self.sheet.columns:
            raw = record.values.get(col.key)
            parsed = parse_value(raw, col.type, choices=col.choices or None, periods=self.strategy.periods,
                                 cycle_year=self.strategy.cycle_year)
            if parsed.blank:
                values[col.key] = None
                if col.required:
                    findings.append(_finding("required-missing", f"{col.header} is required", record, col.key))
                continue
            if parsed.error:
                values[col.key] = raw if isinstance(raw, (str, int, float)) else display(raw)  # as typed
                findings.append(self._type_finding(col, raw, parsed.error, record))
                continue
            value = parsed.value
            if col.type == "reference" and col.source == "objectives":
                canonical = self.objective_ids.get(str(value).casefold())
                if canonical is None:
                    findings.append(_finding("unknown-objective", f"{display(raw)} is not an objective id "
                                             f"(known: {', '.join(self.objective_ids.values())})", record, col.key))
                else:
                    value = canonical
            if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and col.type in ("text", "reference"):
                findings.append(_finding("formula-text", f"{col.header} starts with {value[0]!r}; kept as text",
                                         record, col.key))
            if parsed.note:
                findings.append(_finding("value-interpreted", f"{col.header}: {parsed.note}", record, col.key))
            values[col.key] = value
        return replace(record, values=values)

    def _type_finding(self, col: Column, raw, expected: str, record: Record) -> Finding:
        if col.type == "period" and isinstance(raw, str) and LOOKS_LIKE_PERIOD.match(raw):
            return _finding("period-outside-cycle", f"{col.header} {display(raw)} is not a period of "
                            f"{self.strategy.cycle} ({', '.join(self.strategy.periods)})", record, col.key)
        return _finding("wrong-type", f"{col.header} should be {expected}, found {display(raw)}", record, col.key)


def assign_ids(records: list[Record], sheet: SheetSpec, department: str, findings: list[Finding]) -> list[Record]:
    """Rows added below the prefilled ids get the next free id; duplicated ids are reported."""
    used = {r.id.casefold() for r in records if r.id}
    number = sheet.prefilled_rows  # never reuse a prefilled id, even of a row left empty
    seen: dict[str, Record] = {}
    out = []
    for record in records:
        if not record.id:
            while True:
                number += 1
                candidate = sheet.make_id(department, number)
                if candidate.casefold() not in used:
                    break
            used.add(candidate.casefold())
            record = replace(record, values={**record.values, "id": candidate})
            findings.append(_finding("id-assigned", f"row {record.row} had no id; it is {candidate} in the master",
                                     record, "id"))
        key = record.id.casefold()
        if key in seen:
            findings.append(_finding("duplicate-initiative", f"id {record.id} is also used on row {seen[key].row}",
                                     record, "id"))
        else:
            seen[key] = record
        out.append(record)
    return out


def validate_records(strategy: Strategy, spec: Spec, records: dict[str, list[Record]],
                     department: str) -> tuple[dict[str, list[Record]], list[Finding]]:
    """Parse and check one department's rows; returns the typed records and the findings."""
    findings: list[Finding] = []
    out: dict[str, list[Record]] = {}
    for sheet in spec.sheets:
        validator = SheetValidator(strategy, spec, sheet)
        parsed = [validator.parse(r, findings) for r in records.get(sheet.key, [])]
        if sheet.has("id"):
            parsed = assign_ids(parsed, sheet, department, findings)
        out[sheet.key] = parsed
    findings.extend(_cross_sheet(strategy, spec, out))
    return out, findings


def _cross_sheet(strategy: Strategy, spec: Spec, records: dict[str, list[Record]]) -> Iterable[Finding]:
    ids = {s.key: {r.id.casefold() for r in records.get(s.key, [])} for s in spec.sheets}
    referenced: dict[str, set[str]] = {s.key: set() for s in spec.sheets}
    for sheet in spec.sheets:
        for col in sheet.columns:
            if col.type != "reference" or col.source == "objectives":
                continue
            for record in records.get(sheet.key, []):
                value = record.values.get(col.key)
                if not isinstance(value, str) or not value:
                    continue
                if value.casefold() in ids.get(col.source, set()):
                    referenced[col.source].add(value.casefold())
                else:
                    target = spec.sheet(col.source).title
                    yield _finding("unknown-initiative", f"{value} is not an id on the {target} sheet",
                                   record, col.key)
    for record in records.get("initiatives", []):
        objective = strategy.objective(str(record.get("objective_id", "")))
        baseline, target = record.get("baseline"), record.get("target")
        if objective and _is_number(baseline) and _is_number(target) and not objective.moves_right_way(baseline, target):
            yield _finding("target-direction", f"{objective.id} is to {objective.direction} but the target "
                           f"{target:g} is not {'above' if objective.direction == 'increase' else 'below'} "
                           f"the baseline {baseline:g}", record, "target")
    if "initiatives" in referenced and any(c.source == "initiatives" for s in spec.sheets for c in s.columns):
        for record in records.get("initiatives", []):
            if record.id.casefold() not in referenced["initiatives"]:
                yield _finding("initiative-without-kpis", f"{record.id} has no KPI on the KPIs sheet", record, "id")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

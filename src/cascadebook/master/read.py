"""Reading a master workbook back: the initiatives and KPIs, and the actuals of earlier check-ins.

The master is the record of a cycle, so the next steps (check-ins, the next cycle's templates, the
cycle-over-cycle diff) start from it rather than from the returned files. Its tables are written
from the specs, so they are read back by the same specs: a column is found by its spec header,
and a value lands under its spec key. Nothing here needs the strategy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cascadebook.intake.dispatch import checkin_spec
from cascadebook.kinds import DEPARTMENT_HEADER
from cascadebook.master.progress_sheet import CHECKIN_LEAD, CHECKIN_TAIL, CHECKINS_SHEET, checkin_columns
from cascadebook.model import Record
from cascadebook.spec.roles import ACTUAL, ID, INITIATIVES, KPIS, ROLES, SHEET_ROLES, plan_role
from cascadebook.spec.schema import Spec, load_spec, normalise_header
from cascadebook.xlsx.addresses import a1
from cascadebook.xlsx.writer import continued_sheet

# The first column of the master's Initiatives and KPIs tables (master._records_sheet).


class MasterError(ValueError):
    """The file is not a master workbook this version can read."""


@contextmanager
def open_master(path: Path) -> Iterator[tuple[Any, dict[str, str]]]:
    """A master opened with calamine, and its sheet names by their casefolded name; an unreadable file is
    a :class:`MasterError` (one user error, whatever the reader raised). Closed when the block ends."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
        raise MasterError(f"{path.name}: cannot read the workbook ({type(exc).__name__}: {exc})") from None
    try:
        yield book, {n.casefold(): n for n in book.sheet_names}
    finally:
        book.close()


@dataclass(frozen=True)
class CheckinValue:
    """One row of the master's Check-ins table: what a department reported for an item in a period."""

    department: str
    period: str
    sheet: str  # the plan's sheet key of the item (its initiatives or KPIs sheet)
    id: str
    values: Mapping[str, Any] = field(default_factory=dict)  # by check-in spec key: actual, status, ...
    progress: float | None = None
    actual_key: str = ROLES[ACTUAL].key  # the check-in spec's column of role actual

    @property
    def actual(self) -> float | None:
        value = self.values.get(self.actual_key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class MasterData:
    path: str
    records: Mapping[str, tuple[Record, ...]]  # spec sheet key -> rows
    checkins: tuple[CheckinValue, ...] = ()
    spec: Spec | None = field(default=None, compare=False)  # the spec the master was read with

    def sheet_key(self, role: str) -> str:
        """The key of the sheet with ``role`` in the spec read with (the conventional one without)."""
        return self.spec.sheet_key(role) if self.spec is not None else SHEET_ROLES[role].key

    @property
    def initiatives(self) -> tuple[Record, ...]:
        return self.records.get(self.sheet_key(INITIATIVES), ())

    @property
    def kpis(self) -> tuple[Record, ...]:
        return self.records.get(self.sheet_key(KPIS), ())

    def departments(self) -> list[str]:
        return sorted({r.department for rows in self.records.values() for r in rows})

    def for_department(self, code: str) -> dict[str, list[Record]]:
        wanted = code.casefold()
        return {key: [r for r in rows if r.department.casefold() == wanted] for key, rows in self.records.items()}

    def history(self, sheet: str, department: str, item_id: str) -> dict[str, CheckinValue]:
        """Period -> what was reported for this item (the master's Check-ins table)."""
        wanted = (sheet, department.casefold(), item_id.casefold())
        return {c.period: c for c in self.checkins if (c.sheet, c.department.casefold(), c.id.casefold()) == wanted}

    def periods(self) -> list[str]:
        seen: list[str] = []
        for c in self.checkins:
            if c.period not in seen:
                seen.append(c.period)
        return seen


def _clean(value: Any) -> Any:
    if value == "" or value is None:
        return None
    if isinstance(value, datetime) and (value.hour, value.minute, value.second) == (0, 0, 0):
        return value.date()
    return value


def _table(book, title: str, names: dict[str, str]) -> tuple[list[Any], list[tuple[str, int, list[Any]]]] | None:
    """A table's header row and its data rows as (sheet name, sheet row, row), from 'Title' and
    from its continuations past Excel's row limit ('Title (2)', ...)."""

    header: list[Any] = []
    rows: list[tuple[str, int, list[Any]]] = []
    number = 1
    while (name := names.get(continued_sheet(title, number).casefold())) is not None:
        values = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if number == 1:
            header = values[0] if values else []
        rows += [(name, r, row) for r, row in enumerate(values[1:], 2)]
        number += 1
    return None if number == 1 else (header, rows)


def _header_map(row: list[Any], wanted: dict[str, str]) -> dict[str, int]:
    """Spec key -> 0-based column, by header text."""
    found: dict[str, int] = {}
    for c, value in enumerate(row):
        key = wanted.get(normalise_header(value)) if isinstance(value, str) else None
        if key and key not in found:
            found[key] = c
    return found


def read_master(path: str | Path, spec: Spec | None = None, checkin_spec: Spec | None = None) -> MasterData:
    """Read a master workbook's Initiatives, KPIs and Check-ins tables (by spec headers).

    A text export is read by :func:`cascadebook.cycle.export.read_master_or_export`, which takes both."""
    spec = spec or load_spec("department")
    path = Path(path)
    with open_master(path) as (book, names):
        records: dict[str, tuple[Record, ...]] = {}
        for sheet in spec.sheets:
            table = _table(book, sheet.title, names)
            if table is None:
                raise MasterError(f"{path.name}: no {sheet.title!r} sheet; is it a cascadebook master?")
            wanted = {normalise_header(c.header): c.key for c in sheet.columns}
            wanted[normalise_header(DEPARTMENT_HEADER)] = "__department"
            header, rows = table
            columns = _header_map(header, wanted)
            id_key = sheet.key_of(ID)
            if "__department" not in columns or id_key not in columns:
                raise MasterError(f"{path.name}: the {sheet.title!r} sheet has no {DEPARTMENT_HEADER!r} or id column")
            out = []
            for sheet_name, r, row in rows:
                department = _clean(row[columns["__department"]]) if columns["__department"] < len(row) else None
                if not department:
                    continue
                values = {
                    col.key: (
                        _clean(row[columns[col.key]]) if col.key in columns and columns[col.key] < len(row) else None
                    )
                    for col in sheet.columns
                }
                if values.get(id_key) is not None:
                    values[id_key] = str(values[id_key])
                cells = {key: a1(r, c + 1) for key, c in columns.items() if key != "__department"}
                where = sheet.title if sheet_name.casefold() == sheet.title.casefold() else sheet_name  # a continuation
                out.append(Record(sheet.key, str(department), path.name, where, r, values, cells, id_key))
            records[sheet.key] = tuple(out)

        checkins: list[CheckinValue] = []
        table = _table(book, CHECKINS_SHEET, names)
        if table and table[0]:
            header, rows = table
            cspec = checkin_spec or _checkin_spec()
            inputs = checkin_columns(cspec)
            lead_keys = ["__department", "__period", "__sheet", "__id"]
            wanted = {normalise_header(h): k for h, k in zip(CHECKIN_LEAD, lead_keys)}
            wanted.update({normalise_header(c.header): c.key for c in inputs})
            wanted[normalise_header(CHECKIN_TAIL[0])] = "__progress"
            columns = _header_map(header, wanted)
            # the table names each row's check-in sheet by its title; the item is on the plan's sheet of its role
            sheet_keys = {s.title.casefold(): spec.sheet_key(plan_role(s.role)) or s.key for s in cspec.sheets}
            actual_key = checkin_actual_key(cspec)

            def get(row, key):
                c = columns.get(key)
                return _clean(row[c]) if c is not None and c < len(row) else None

            for _, _, row in rows:
                department, period, sheet_title, ident = (get(row, k) for k in lead_keys)
                if not (department and period and ident):
                    continue
                progress = get(row, "__progress")
                checkins.append(
                    CheckinValue(
                        str(department),
                        str(period),
                        sheet_keys.get(str(sheet_title or "").casefold(), str(sheet_title)),
                        str(ident),
                        {c.key: get(row, c.key) for c in inputs},
                        float(progress) if isinstance(progress, (int, float)) else None,
                        actual_key,
                    )
                )
    return MasterData(str(path), records, tuple(checkins), spec)


def checkin_actual_key(cspec: Spec) -> str:
    """The key of the check-in spec's actual (its column of role ``actual``, the same on every sheet)."""
    return next((s.key_of(ACTUAL) for s in cspec.sheets if s.by_role(ACTUAL)), ROLES[ACTUAL].key)


def _checkin_spec() -> Spec:

    return checkin_spec()


def prefill_rows(master: MasterData, spec: Spec | None = None) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Department code -> spec sheet key -> rows of values by column key, for ``generate --from``.

    Every column of ``spec`` that the master has is carried over (ids included, so KPIs keep
    pointing at their initiatives); columns the master lacks stay blank.
    """
    spec = spec or load_spec("department")
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for code in master.departments():
        mine = master.for_department(code)
        out[code] = {
            sheet.key: [
                {col.key: record.values.get(col.key) for col in sheet.columns if col.key in record.values}
                for record in mine.get(sheet.key, [])
            ]
            for sheet in spec.sheets
        }
    return out

"""One sheet's live checks, assembled from the row rules: the Check column's formula per row, the
cells each check turns red, and the counts the status panel shows (what template/department.py writes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cascadebook.findings import CATALOGUE, Finding
from cascadebook.intake.formulas import LIST_KINDS, NUMBER_KINDS, ROW, Check, Env, blank_formula, key_letter, q
from cascadebook.intake.rules import (
    DIRECTION,
    DUPLICATE_ID,
    OBJECTIVE_ID,
    REQUIRED,
    SHEET_ID,
    UNREFERENCED,
    VALUE_TYPE,
    Direction,
)
from cascadebook.spec.roles import ID, TARGET
from cascadebook.spec.schema import Column, SheetSpec, Spec
from cascadebook.xlsx.addresses import column_letter


def _chain(links: list[tuple[str, Check | None]], default: Check | None) -> tuple[str, list[Check]]:
    """Nested IFs over (condition, check) links: the first true condition gives its message (or none).

    A cell has one problem at most (blank, else not of its type, else not a known id, ...), as in
    reconcile. Returns the Check-column fragment (it yields '; message' or '') and its checks.
    """

    def msg(check: Check | None) -> str:
        return q(f"; {check.message}") if check else '""'

    while links and links[-1][1] is None and default is None:  # trailing "fine" links change nothing
        links = links[:-1]
    if not links and default is None:
        return "", []
    fragment = msg(default)
    for cond, check in reversed(links):
        fragment = f"IF({cond},{msg(check)},{fragment})"
    return fragment, [c for _, c in [*links, ("", default)] if c is not None]


def _column_chain(col: Column, env: Env) -> tuple[str, list[Check]]:
    ref = env.ref(col.key)
    blank = blank_formula(col, ref)
    required = REQUIRED.check(col) if col.required else None
    if col.type in NUMBER_KINDS:  # most cells hold numbers: ask that first
        accepts = VALUE_TYPE.accepts_formula(col, ref, env.periods)
        return _chain([(accepts, None), (blank, required)], VALUE_TYPE.check(col))
    if col.type in LIST_KINDS and any("|" in str(o) for o in (col.choices if col.type == "choice" else env.periods)):
        return _chain([(blank, required)], None)  # a "|" in an option defeats the |list| look-up: on return
    if col.type in LIST_KINDS:
        if required is None:
            return _chain(
                [(VALUE_TYPE.accepts_formula(col, ref, env.periods, or_blank=True), None)], VALUE_TYPE.check(col)
            )
        accepts = VALUE_TYPE.accepts_formula(col, ref, env.periods)
        return _chain([(blank, required), (accepts, None)], VALUE_TYPE.check(col))
    if col.type == "reference" and col.source == "objectives":
        return _chain(
            [(blank, required), (OBJECTIVE_ID.unknown_formula(ref), OBJECTIVE_ID.check(col, env.ids_listed_on))], None
        )
    if col.type == "reference":
        source = env.spec.sheet(col.source)
        checks = SHEET_ID.checks(col, source)
        links = [(blank, required), (SHEET_ID.unknown_formula(ref, source), checks[0])]
        if len(checks) > 1:
            links.append((SHEET_ID.untitled_formula(ref, source), checks[1]))
        return _chain(links, None)
    return _chain([(blank, required)], None)  # text, allocation: only whether it is there


@dataclass(frozen=True)
class SheetChecks:
    """Everything the template writes for one input sheet's live checks."""

    sheet: SheetSpec
    checks: tuple[Check, ...]  # in the order their messages appear in the Check column
    check_formula: str  # the Check column (ROW form), "" on a row that is fine or not started
    column: int  # 0-based index of the Check column (right after the spec's columns)
    first: int  # first and last data row, 1-based
    last: int

    @property
    def letter(self) -> str:
        return column_letter(self.column + 1)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The codes the status panel counts for this sheet, in catalogue order."""
        codes = {c.code for c in self.checks}
        return tuple(c for c in CATALOGUE if c in codes)

    def at(self, template: str, row: int) -> str:
        return template.replace(ROW, str(row))

    def rows(self) -> Iterable[tuple[int, str]]:
        """(0-based row, formula) for every data row: the template is split once, joined per row."""
        parts = self.check_formula.split(ROW)
        for row in range(self.first, self.last + 1):
            yield row - 1, str(row).join(parts)

    def cf_formula(self, check: Check) -> str:
        """The red-cell condition for the first data row: the row's Check text names this problem.

        Reading the Check cell of the same row keeps the red cells and the words in step by
        construction, and keeps other sheets out of conditional formats (Google Sheets refuses them).
        """
        return f'=ISNUMBER(FIND({q(f"; {check.message};")},"; "&${self.letter}{self.first}&";"))'

    def started_rows_formula(self) -> str:
        """How many rows have anything typed (the panel says "Nothing filled in yet" at 0)."""
        ranges = "&".join(
            f"${column_letter(i)}${self.first}:${column_letter(i)}${self.last}"
            for i, c in enumerate(self.sheet.columns, 1)
            if c.is_input
        )
        return f"SUMPRODUCT(--(LEN(TRIM({ranges}))>0))"

    def count_formula(self, code: str) -> str:
        """How many problems of one kind the Check column shows (each message at most once a row)."""
        rng = f"${self.letter}${self.first}:${self.letter}${self.last}"
        terms = [f"ISNUMBER(FIND({q(f'; {c.message};')},\"; \"&{rng}&\";\"))" for c in self.checks if c.code == code]
        return f"SUMPRODUCT({'+'.join(terms) if len(terms) > 1 else '--' + terms[0]})"

    def expected(self, findings: Iterable[Finding]) -> list[Check]:
        """The checks the sheet shows for one row, given reconcile's findings for that row."""
        letters = {c.key: column_letter(i) for i, c in enumerate(self.sheet.columns, 1)}
        found = {(f.code, f.cell.rstrip("0123456789")) for f in findings}
        shown = [c for c in self.checks if any((code, letters[c.key]) in found for code in c.codes)]
        return [c for c in shown if not any(d is not c and d.key in c.after for d in shown)]


def started_test(sheet: SheetSpec, row: int | str) -> str:
    """TRUE when anything is typed in the row's input cells: a row reconcile reads. The Check column
    and the ids of the rows below the prefilled ones (shown once the row is started) both ask it."""
    inputs = "&".join(f"{key_letter(sheet, c.key)}{row}" for c in sheet.input_columns)
    return f"LEN(TRIM({inputs}))>0"


@lru_cache(maxsize=64)
def sheet_checks(
    spec: Spec, sheet_key: str, periods: tuple[str, ...], header_row: int, ids_listed_on: str = "Objectives"
) -> SheetChecks:
    """Build (once per spec and strategy periods) the checks and formulas of one input sheet. ``ids_listed_on``:
    where the objective column's ids are listed (a cascaded template lists its parent's initiatives instead)."""
    sheet = spec.sheet(sheet_key)
    env = Env(spec, sheet, periods, header_row, ids_listed_on)
    fragments: list[str] = []
    checks: list[Check] = []

    def add(fragment: str, more: list[Check]) -> None:
        if fragment:
            fragments.append(fragment)
        checks.extend(more)

    def add_row_check(check: Check | None) -> None:
        if check is not None:
            add(f"IF({check.test},{q('; ' + check.message)},\"\")", [check])

    for col in sheet.columns:
        if col.is_input:
            add(*_column_chain(col, env))
        if col.role == TARGET and Direction.applies(sheet):
            add_row_check(DIRECTION.check(env))
    if sheet.by_role(ID):  # about the row as a whole: said last
        add_row_check(DUPLICATE_ID.check(env))
        add_row_check(UNREFERENCED.check(env))
    messages = [c.message for c in checks]
    if len(set(messages)) != len(messages) or any(";" in m or ROW in m for m in messages):
        raise ValueError(f"sheet {sheet.title!r}: check messages must be unique and free of ';'")
    started = started_test(sheet, ROW)
    body = "&".join(fragments) or '""'
    formula = f'=IF({started},MID({body},3,{sum(len(m) + 2 for m in messages) or 1}),"")'
    return SheetChecks(sheet, tuple(checks), formula, len(sheet.columns), env.first, env.last())

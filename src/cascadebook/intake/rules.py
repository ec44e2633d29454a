"""Row rules, written once: reconcile's findings and the template's live checks both come from here.

Each rule knows its finding code(s), its words, how to check a parsed row in Python (what
``reconcile`` reports, run by :mod:`cascadebook.intake.validate`) and how to say the same thing as a
spreadsheet formula for one row of the template (what the Check column, the red cells and the
status panel show while a department head types, written by :mod:`cascadebook.template.department`).

Formulas use only functions that Excel 2016+, LibreOffice and Google Sheets evaluate alike (IF,
AND, LEN, TRIM, LOWER, MID, FIND, ISNUMBER, INT, SIGN, INDEX, MATCH, SUMPRODUCT), no volatile
function, no array constant and no whole-column reference: every range is the template's own input
rows. The red cells read the row's Check text, so they never refer to another sheet. Lists (choices, periods, the "n/a" words) are matched with
``FIND("|"&LOWER(TRIM(cell))&"|", "|a|b|")``: exact, case-insensitive, and free of the wildcards
that COUNTIF and MATCH would read in what people type. Ids are compared with
``SUMPRODUCT(--(Ids=TRIM(cell)))`` for the same reason.

The template is strict where reconcile is forgiving, on purpose, and the two still agree finding
for finding: the template asks for a number in a number column, so text there ("1,200" typed into a
cell formatted as text, "$250k", "15 %") is flagged in the sheet, while reconcile reads it (spec/values.py)
and reports ``read-leniently`` (info) with the value it read. Likewise a period typed as "Q3 2027"
or a date. The ``sheet_*`` functions below are the Python twins of what the formulas see; reconcile
uses them to decide when a value it could read is one the template flags.

Known differences, all rare (see README, "Live checks"): Excel's TRIM removes spaces only (a cell
holding only a tab or a non-breaking space is blank to reconcile, not to the sheet); a date typed into
a number column is a number to the sheet and an error to reconcile; LibreOffice treats TRUE/FALSE as
the numbers 1/0; an id typed on an otherwise empty row counts as "on the sheet" for the sheet's
checks, not for reconcile's (which only sees started rows); a target typed as text is checked
against the objective's direction by reconcile at once, by the sheet once it is retyped as a number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from cascadebook.findings import CATALOGUE, Finding, cell_finding
from cascadebook.intake.formulas import (
    DIRECTIONS,
    FORMULA_PREFIXES,
    LIST_KINDS,
    LOOKS_LIKE_PERIOD,
    OBJECTIVE_DIRECTIONS,
    OBJECTIVE_IDS,
    ROW,
    TYPED_KINDS,
    Check,
    Env,
    found_in_list,
    id_range_name,
    looks_like_formula,
    markers_for,
    options_list,
    pipe_list,
    q,
    sheet_in,
    sheet_number,
    title_range_name,
)
from cascadebook.model import Objective, Record, Strategy
from cascadebook.parent_plan import aligns_to_parent
from cascadebook.spec.roles import BASELINE, ID, OBJECTIVE_REF, TARGET, TITLE
from cascadebook.spec.schema import Column, SheetSpec, Spec
from cascadebook.spec.values import Parsed, display, note_reason

# ---- names of the template's ranges (one place, used by template/department.py and the formulas) -----------


# ---- what a formula sees: the Python twins ------------------------------------------------------


# ---- formula pieces ------------------------------------------------------------------------------


# ---- checks: one problem, one cell, one message --------------------------------------------------


# ---- the rules -------------------------------------------------------------------------------------


@dataclass
class Row:
    """One started row as reconcile sees it: what was typed, how it parsed, and the typed record."""

    sheet: SheetSpec
    record: Record
    raw: Mapping[str, Any]
    parsed: Mapping[str, Parsed]
    types: Mapping[str, str] = field(default_factory=dict)  # columns read as another type on this row only

    def column(self, col: Column) -> Column:
        """``col`` as this row reads it (validate.Checking.types: a check-in's actual of a % item is a percent)."""
        kind = self.types.get(col.key) if self.types else None
        return col if kind is None or kind == col.type else replace(col, type=kind)


class Context:
    """What the rules need to know beyond one row: objectives, ids on each sheet, references."""

    def __init__(
        self, strategy: Strategy, spec: Spec, department: str, rows: Mapping[str, list[Row]], live: bool = True
    ):
        self.strategy = strategy
        self.live = live  # the workbook checks its values while typed (a plan's Check column); a check-in's does not
        self.spec = spec
        self.department = department
        # a unit aligned to its parent's plan names its parent's initiatives in the objective column: those
        # are checked against the parent's returned plan when all plans are in (consolidate/cascade.py)
        self.cascaded = aligns_to_parent(strategy, department)
        self.objective_ids = {o.id.casefold(): o.id for o in strategy.objectives}
        self.objectives: dict[str, Objective] = {}  # Strategy.objective, as a look-up: the first of an id
        for o in strategy.objectives:
            self.objectives.setdefault(o.id.casefold(), o)
        self.first_by_id: dict[str, dict[str, Row]] = {}
        self.prefilled: dict[str, set[str]] = {}
        for sheet in spec.sheets:
            first: dict[str, Row] = {}
            for row in rows.get(sheet.key, ()):
                if row.record.id:
                    first.setdefault(row.record.id.casefold(), row)
            self.first_by_id[sheet.key] = first
            self.prefilled[sheet.key] = (
                {sheet.make_id(department, n).casefold() for n in range(1, sheet.prefilled_rows + 1)}
                if sheet.by_role(ID)
                else set()
            )
        self.referenced: dict[str, set[str]] = {s.key: set() for s in spec.sheets}
        for sheet in spec.sheets:
            for col in sheet_references(sheet):
                for row in rows.get(sheet.key, ()):
                    value = row.record.values.get(col.key)
                    if isinstance(value, str) and value and self.known(col.source, value):
                        self.referenced[col.source].add(value.casefold())

    def objective(self, objective_id: str) -> Objective | None:
        """``strategy.objective(objective_id)``, without a scan per row."""
        return self.objectives.get(objective_id.strip().casefold())

    def known(self, sheet_key: str, value: str) -> bool:
        """An id on the sheet: a started row's, or a prefilled one (the template wrote it)."""
        key = value.casefold()
        return key in self.first_by_id.get(sheet_key, {}) or key in self.prefilled.get(sheet_key, set())


def finding(code: str, message: str, row: Row, key: str) -> Finding:
    """A finding at the cell of ``key`` on ``row``."""
    return cell_finding(code, message, row.record, key)


def sheet_references(sheet: SheetSpec) -> list[Column]:
    """Columns pointing at another sheet's ids (a KPI's initiative)."""
    return [c for c in sheet.columns if c.type == "reference" and c.source != "objectives"]


def objective_column(sheet: SheetSpec) -> Column | None:
    """The column naming the objective a row serves (role ``objective_ref``), when it is a reference to them."""
    col = sheet.by_role(OBJECTIVE_REF)
    return col if col is not None and col.type == "reference" and col.source == "objectives" else None


class RowRule:
    """A row rule: its codes, the codes the sheet shows while typing, its Python check."""

    codes: tuple[str, ...] = ()
    sheet_codes: frozenset[str] = frozenset()  # the rest are checked on return only

    def findings(self, row: Row, ctx: Context) -> Iterable[Finding]:
        raise NotImplementedError

    def relevant(self, sheet: SheetSpec, spec: Spec) -> bool:
        """False when ``findings`` can yield nothing on any row of ``sheet`` (validate skips the rule there)."""
        return True


_PICK = {
    "required": lambda c: c.required,
    "typed": lambda c: c.type in TYPED_KINDS,
    "text": lambda c: c.type in ("text", "reference"),
    "objective": lambda c: c.type == "reference" and c.source == "objectives",
    "references": lambda c: c.type == "reference" and c.source != "objectives",
}
_PICKED: dict[tuple[int, str], tuple[SheetSpec, tuple[Column, ...]]] = {}


def _columns(sheet: SheetSpec, what: str) -> tuple[Column, ...]:
    """A sheet's columns a rule looks at, worked out once per sheet object (reconcile checks many rows;
    keyed by identity because hashing a spec costs more than the check)."""
    hit = _PICKED.get((id(sheet), what))
    if hit is None or hit[0] is not sheet:
        hit = _PICKED[(id(sheet), what)] = (sheet, tuple(c for c in sheet.columns if _PICK[what](c)))
    return hit[1]


_SOURCES: dict[tuple[int, int], tuple[Spec, Column, SheetSpec]] = {}


def _source(spec: Spec, col: Column) -> SheetSpec:
    """``spec.sheet(col.source)``, once per spec and column object."""
    hit = _SOURCES.get((id(spec), id(col)))
    if hit is None or hit[0] is not spec or hit[1] is not col:
        hit = _SOURCES[(id(spec), id(col))] = (spec, col, spec.sheet(col.source))
    return hit[2]


class Required(RowRule):
    """A started row needs its required values."""

    codes = ("required-missing",)
    sheet_codes = frozenset(codes)

    def message(self, col: Column) -> str:
        return f"{col.header} missing"

    def check(self, col: Column) -> Check:
        return Check("required-missing", self.sheet_codes, col.key, self.message(col))

    def findings(self, row, ctx):
        for col in _columns(row.sheet, "required"):
            if row.parsed[col.key].blank:
                yield finding("required-missing", f"{col.header} is required", row, col.key)

    def relevant(self, sheet, spec):
        return bool(_columns(sheet, "required"))


_ACCEPTING: dict[tuple[int, tuple[str, ...]], tuple[SheetSpec, tuple[tuple[Column, Any], ...]]] = {}


class ValueType(RowRule):
    """Numbers, dates and listed values: in the sheet strictly, on return as spec/values.py reads them."""

    codes = ("wrong-type", "period-outside-cycle", "read-leniently", "value-interpreted")
    sheet_codes = frozenset(codes[:3])

    EXPECTED: ClassVar[dict[str, str]] = {
        "number": "a number",
        "currency": "a number",
        "integer": "a whole number",
        "percent": "a number or percentage",
        "date": "a date",
        "boolean": "yes or no",
        "choice": "a value from the list",
        "period": "a period from the list",
    }
    SAYS: ClassVar[dict[str, str]] = {
        **EXPECTED,
        "percent": "a percentage",
        "choice": "from the list",
        "period": "from the list",
    }

    def message(self, col: Column) -> str:
        return f"{col.header} not {self.SAYS[col.type]}"

    def options(self, col: Column, periods: Sequence[str]) -> str:
        """The |list| a listed value must be in (lower case)."""
        return options_list(col.type, col.choices, tuple(periods))

    def accepts_formula(self, col: Column, ref: str, periods: Sequence[str], or_blank: bool = False) -> str:
        """TRUE when the sheet takes the value as it is (``or_blank``: or when it is blank, in one look-up)."""
        if col.type in LIST_KINDS:
            options = q(self.options(col, periods))
            if or_blank:  # the blank |list| ends with "|", the options start with one: join them
                options = f"{markers_for(col)[0]}&{q(self.options(col, periods)[1:])}"
            return found_in_list(ref, options)
        if col.type == "integer":
            return f"IF(ISNUMBER({ref}),INT({ref})={ref},FALSE)"
        if col.type == "date":
            return f"IF(ISNUMBER({ref}),AND({ref}>=20000,{ref}<=80000),FALSE)"
        return f"ISNUMBER({ref})"

    def sheet_accepts(self, col: Column, raw: Any, periods: Sequence[str]) -> bool:
        """Twin of accepts_formula on a value as read from the file."""
        if col.type in LIST_KINDS:
            return sheet_in(raw, self.options(col, periods))
        number = sheet_number(raw)
        if number is None:
            return False
        if col.type == "integer":
            return number.is_integer()
        if col.type == "date":
            return 20000 <= number <= 80000
        return True

    def check(self, col: Column) -> Check:
        if col.type == "period":
            return Check("period-outside-cycle", self.sheet_codes, col.key, self.message(col))
        return Check("wrong-type", self.sheet_codes - {"period-outside-cycle"}, col.key, self.message(col))

    def accepts(self, col: Column, periods: Sequence[str]):
        """``sheet_accepts`` with the column and periods bound (the |list| worked out once)."""
        if col.type in LIST_KINDS:
            pipes = self.options(col, periods)
            seen: dict[str, bool] = {}  # a listed column's texts repeat: each is looked up once

            def listed(raw: Any) -> bool:
                if type(raw) is not str:
                    return sheet_in(raw, pipes)
                hit = seen.get(raw)
                if hit is None:
                    hit = sheet_in(raw, pipes)
                    if len(seen) < 4096:
                        seen[raw] = hit
                return hit

            return listed
        if col.type in ("integer", "date"):
            return lambda raw: self.sheet_accepts(col, raw, periods)

        def number(raw: Any) -> bool:
            t = type(raw)
            return t is float or t is int or sheet_number(raw) is not None  # bool is not int here

        return number

    def _accepting(self, sheet: SheetSpec, periods: Sequence[str]) -> tuple[tuple[Column, Any], ...]:
        """(column, accepts) of a sheet's typed columns, once per sheet object and periods."""
        key = (id(sheet), tuple(periods))
        hit = _ACCEPTING.get(key)
        if hit is None or hit[0] is not sheet:
            hit = _ACCEPTING[key] = (sheet, tuple((c, self.accepts(c, periods)) for c in _columns(sheet, "typed")))
        return hit[1]

    def relevant(self, sheet, spec):
        return bool(_columns(sheet, "typed"))

    def findings(self, row, ctx):
        periods = ctx.strategy.periods
        parsed_by_key = row.parsed
        for col, accepts in self._accepting(row.sheet, periods):
            parsed = parsed_by_key[col.key]
            if parsed.blank:
                continue
            if row.types and col.key in row.types:
                col = row.column(col)
                accepts = self.accepts(col, periods)
            raw = row.raw.get(col.key)
            if parsed.error:
                if col.type == "period" and isinstance(raw, str) and LOOKS_LIKE_PERIOD.match(raw):
                    yield finding(
                        "period-outside-cycle",
                        f"{col.header} {display(raw)} is not a period of {ctx.strategy.cycle} ({', '.join(periods)})",
                        row,
                        col.key,
                    )
                else:
                    yield finding(
                        "wrong-type", f"{col.header} should be {parsed.error}, found {display(raw)}", row, col.key
                    )
            elif ctx.live and not accepts(raw):  # without live checks nothing flagged it: only how it was read
                why = note_reason(parsed.note)  # the reading is said here once; the note adds only why
                note = f" ({why})" if why else ""
                yield finding(
                    "read-leniently",
                    f"{col.header} {display(raw)} was read as "
                    f"{display(parsed.value)}{note}; the template asks for {self.EXPECTED[col.type]}",
                    row,
                    col.key,
                )
            elif parsed.note:
                yield finding("value-interpreted", f"{col.header}: {parsed.note}", row, col.key)


class FormulaText(RowRule):
    """Text that a spreadsheet would run as a formula is kept as text (reported on return)."""

    codes = ("formula-text",)

    def findings(self, row, ctx):
        for col in _columns(row.sheet, "text"):
            value = row.record.values.get(col.key)
            if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and looks_like_formula(value):
                yield finding(
                    "formula-text",
                    f"{col.header} starts with {value[0]!r} and would run as a formula in a spreadsheet; kept as text",
                    row,
                    col.key,
                )

    def relevant(self, sheet, spec):
        return bool(_columns(sheet, "text"))


class ObjectiveId(RowRule):
    """An objective id must be one of the strategy's (looked up on the Objectives sheet)."""

    codes = ("unknown-objective",)
    sheet_codes = frozenset(codes)

    def message(self, col: Column, listed_on: str = "Objectives") -> str:
        """``listed_on``: the sheet the ids are listed on (a cascaded template's are on its Parent plan sheet)."""
        return f"{col.header} not on the {listed_on} sheet"

    def unknown_formula(self, ref: str) -> str:
        return f"SUMPRODUCT(--({OBJECTIVE_IDS}=TRIM({ref})))=0"

    def check(self, col: Column, listed_on: str = "Objectives") -> Check:
        return Check("unknown-objective", self.sheet_codes, col.key, self.message(col, listed_on))

    def findings(self, row, ctx):
        if ctx.cascaded:
            return
        for col in _columns(row.sheet, "objective"):
            if not row.parsed[col.key].ok:
                continue
            if str(row.record.values.get(col.key)).casefold() not in ctx.objective_ids:
                yield finding(
                    "unknown-objective",
                    f"{display(row.raw.get(col.key))} is not an objective id "
                    f"(known: {', '.join(ctx.objective_ids.values())})",
                    row,
                    col.key,
                )

    def relevant(self, sheet, spec):
        return bool(_columns(sheet, "objective"))


class SheetId(RowRule):
    """A reference to another sheet (a KPI's initiative) must be an id there, of a row with a title."""

    codes = ("unknown-initiative", "untitled-initiative")
    sheet_codes = frozenset(codes)

    def unknown_message(self, col: Column, source: SheetSpec) -> str:
        return f"{col.header} not on the {source.title} sheet"

    def untitled_message(self, col: Column, source: SheetSpec) -> str:
        return f"{col.header} has no title on the {source.title} sheet"

    def unknown_formula(self, ref: str, source: SheetSpec) -> str:
        return f"SUMPRODUCT(--({id_range_name(source)}=TRIM({ref})))=0"

    def untitled_formula(self, ref: str, source: SheetSpec) -> str:
        """TRUE when the id's row has no title (the id is known to be on the sheet)."""
        return f'TRIM(INDEX({title_range_name(source)},MATCH(TRIM({ref}),{id_range_name(source)},0)))=""'

    def checks(self, col: Column, source: SheetSpec) -> list[Check]:
        out = [
            Check("unknown-initiative", frozenset({"unknown-initiative"}), col.key, self.unknown_message(col, source))
        ]
        if source.by_role(TITLE):
            out.append(
                Check(
                    "untitled-initiative",
                    frozenset({"untitled-initiative"}),
                    col.key,
                    self.untitled_message(col, source),
                )
            )
        return out

    def relevant(self, sheet, spec):
        return bool(_columns(sheet, "references"))

    def findings(self, row, ctx):
        for col in _columns(row.sheet, "references"):
            value = row.record.values.get(col.key)
            if not isinstance(value, str) or not value:
                continue
            source = _source(ctx.spec, col)
            if not ctx.known(source.key, value):
                yield finding("unknown-initiative", f"{value} is not an id on the {source.title} sheet", row, col.key)
                continue
            title = source.key_of(TITLE)
            if not title:
                continue
            target = ctx.first_by_id[source.key].get(value.casefold())
            if target is None or target.parsed[title].blank:
                yield finding("untitled-initiative", f"{value} has no title on the {source.title} sheet", row, col.key)


class Direction(RowRule):
    """The target moves from the baseline in the objective's direction."""

    codes = ("target-direction",)
    sheet_codes = frozenset(codes)

    @staticmethod
    def applies(sheet: SheetSpec) -> bool:
        """The sheet has an objective reference, a baseline and a target (by role: any keys, any headers)."""
        return objective_column(sheet) is not None and bool(sheet.by_role(BASELINE)) and bool(sheet.by_role(TARGET))

    @staticmethod
    def wrong_moves() -> str:
        """|direction+SIGN(target-baseline)| pairs that go the wrong way, from the model's own rule."""
        return pipe_list(
            f"{d}{s}"
            for d in DIRECTIONS
            for s in (-1, 0, 1)
            if not Objective("", "", direction=d).moves_right_way(0, s)
        )

    def check(self, env: Env) -> Check | None:
        sheet = env.sheet
        column = objective_column(sheet)
        if column is None or not self.applies(sheet):
            return None
        base_key, target_key = sheet.key_of(BASELINE), sheet.key_of(TARGET)
        objective, base, target = env.ref(column.key), env.ref(base_key), env.ref(target_key)
        direction = f"LOWER(INDEX({OBJECTIVE_DIRECTIONS},MATCH(TRIM({objective}),{OBJECTIVE_IDS},0)))"
        test = (
            f"IF(AND(ISNUMBER({base}),ISNUMBER({target})),IF({ObjectiveId().unknown_formula(objective)},FALSE,"
            f"ISNUMBER(FIND(\"|\"&{direction}&SIGN({target}-{base})&\"|\",{q(self.wrong_moves())}))),FALSE)"
        )
        message = f"{sheet.header_of(TARGET)} against the objective's direction"
        return Check("target-direction", self.sheet_codes, target_key, message, test, after=(base_key, target_key))

    def relevant(self, sheet, spec):
        return objective_column(sheet) is not None and self.applies(sheet)

    def findings(self, row, ctx):
        sheet = row.sheet
        column = objective_column(sheet)
        if column is None or not self.applies(sheet):
            return
        target_key = sheet.key_of(TARGET)
        objective = ctx.objective(str(row.record.get(column.key, "")))
        baseline, target = row.record.get(sheet.key_of(BASELINE)), row.record.get(target_key)
        if (
            objective
            and _is_number(baseline)
            and _is_number(target)
            and not objective.moves_right_way(baseline, target)
        ):
            yield finding(
                "target-direction",
                f"{objective.id} is to {objective.direction} but the target "
                f"{target:g} is not {'above' if objective.direction == 'increase' else 'below'} "
                f"the baseline {baseline:g}",
                row,
                target_key,
            )


class DuplicateId(RowRule):
    """Each row has its own id; the second use of an id is reported."""

    codes = ("duplicate-initiative",)
    sheet_codes = frozenset(codes)

    def check(self, env: Env) -> Check:
        key = env.sheet.key_of(ID)
        ref, letter = env.ref(key), env.letter(key)
        test = f'IF(TRIM({ref})="",FALSE,SUMPRODUCT(--(TRIM(${letter}${env.first}:${letter}{ROW})=TRIM({ref})))>1)'
        return Check(
            "duplicate-initiative",
            self.sheet_codes,
            key,
            f"{env.sheet.header_of(ID)} also used on an earlier row",
            test,
        )

    def relevant(self, sheet, spec):
        return bool(sheet.by_role(ID))

    def findings(self, row, ctx):
        if not row.record.id or not row.sheet.by_role(ID):
            return
        first = ctx.first_by_id[row.sheet.key][row.record.id.casefold()]
        if first is not row:
            yield finding(
                "duplicate-initiative",
                f"id {row.record.id} is also used on row {first.record.row}",
                row,
                row.sheet.key_of(ID),
            )


_REFERRERS: dict[tuple[int, int], tuple[Spec, SheetSpec, list[tuple[SheetSpec, Column]]]] = {}


class Unreferenced(RowRule):
    """An initiative needs at least one KPI (a row of another sheet that refers to it)."""

    codes = ("initiative-without-kpis",)
    sheet_codes = frozenset(codes)

    @staticmethod
    def referrers(spec: Spec, sheet: SheetSpec) -> list[tuple[SheetSpec, Column]]:
        return [(s, c) for s in spec.sheets for c in sheet_references(s) if c.source == sheet.key]

    def _referrers(self, spec: Spec, sheet: SheetSpec) -> list[tuple[SheetSpec, Column]]:
        """``referrers``, once per spec and sheet object (asked on every row)."""
        key = (id(spec), id(sheet))
        hit = _REFERRERS.get(key)
        if hit is None or hit[0] is not spec or hit[1] is not sheet:
            hit = _REFERRERS[key] = (spec, sheet, self.referrers(spec, sheet))
        return hit[2]

    def check(self, env: Env) -> Check | None:
        referrers = self.referrers(env.spec, env.sheet)
        key = env.sheet.key_of(ID)
        if not referrers or not key:
            return None
        ref = env.ref(key)
        counts = "+".join(f"SUMPRODUCT(--(TRIM({env.column_range(s, c.key)})=TRIM({ref})))" for s, c in referrers)
        titles = " or ".join(s.title for s, _ in referrers)
        return Check(
            "initiative-without-kpis",
            self.sheet_codes,
            key,
            f"Nothing on the {titles} sheet for it yet",
            f'IF(TRIM({ref})="",TRUE,{counts}=0)',
        )

    def relevant(self, sheet, spec):
        return bool(self._referrers(spec, sheet))

    def findings(self, row, ctx):
        referrers = self._referrers(ctx.spec, row.sheet)
        if referrers and row.record.id and row.record.id.casefold() not in ctx.referenced[row.sheet.key]:
            titles = " or ".join(s.title for s, _ in referrers)
            yield finding(
                "initiative-without-kpis",
                f"{row.record.id} has nothing on the {titles} sheet",
                row,
                row.sheet.key_of(ID),
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


REQUIRED, VALUE_TYPE, FORMULA_TEXT = Required(), ValueType(), FormulaText()
OBJECTIVE_ID, SHEET_ID, DIRECTION, DUPLICATE_ID, UNREFERENCED = (
    ObjectiveId(),
    SheetId(),
    Direction(),
    DuplicateId(),
    Unreferenced(),
)
ROW_RULES: tuple[RowRule, ...] = (
    REQUIRED,
    VALUE_TYPE,
    FORMULA_TEXT,
    OBJECTIVE_ID,
    SHEET_ID,
    DIRECTION,
    DUPLICATE_ID,
    UNREFERENCED,
)
# Row-level codes reported elsewhere, never in the sheet: ids given to rows typed without one (validate),
# and what the commitments module checks (splits over objectives, contributions).
OTHER_ROW_CODES = ("id-assigned", "split-not-100", "contribution-direction", "contribution-unit")


def on_return_only() -> list[str]:
    """Row-level codes the template cannot check while it is filled in (the panel names them)."""
    shown = set().union(*(r.sheet_codes for r in ROW_RULES))
    codes = [c for r in ROW_RULES for c in r.codes if c not in shown] + list(OTHER_ROW_CODES)
    return [c for c in CATALOGUE if c in codes]


# ---- the formula side: one sheet's checks, the Check column, the counts --------------------------

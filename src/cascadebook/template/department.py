"""Department templates: one workbook per department, written with xlsxwriter.

Layout is driven entirely by the department spec. Input cells are unlocked and shaded, everything
else is protected, and identity lives in a very hidden ``_cascadebook`` sheet *and* in custom
document properties (LibreOffice keeps those on re-save), signed with the strategy office's key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import xlsxwriter

from cascadebook.atomic import all_or_nothing, atomic_path, check_folder, check_writable
from cascadebook.findings import CATALOGUE
from cascadebook.intake.formulas import (
    MARKERS_NAME,
    OBJECTIVE_DIRECTIONS,
    OBJECTIVE_IDS,
    blank_markers,
    id_range_name,
    key_letter,
    q,
    title_range_name,
)
from cascadebook.intake.rules import on_return_only
from cascadebook.intake.sheet_checks import SheetChecks, sheet_checks, started_test
from cascadebook.intake.validate import validate_records  # the rules' Python side, as reconcile runs it
from cascadebook.kinds import CHECK_HEADER, FORMAT_VERSION, META_PROPERTY_PREFIX, META_SHEET, PARENT_PLAN_SHEET, PLAN
from cascadebook.model import Decision, Department, Metadata, Record, Strategy
from cascadebook.org import OrgTree
from cascadebook.signing import sign
from cascadebook.spec.roles import ID, TITLE
from cascadebook.spec.schema import SheetSpec, Spec, load_spec, resolve_spec
from cascadebook.spec.values import is_blank
from cascadebook.template.decisions import (
    DecisionDisplay,
    DecisionFormats,
    display_for,
    input_format,
    write_display,
    write_legend,
)
from cascadebook.template.formats import Formats, validation
from cascadebook.template.layout import (
    PageText,
    header_height,
    input_sheet_print,
    merged_height,
    objective_widths,
    page_text,
    print_setup,
    unit_format,
)
from cascadebook.template.parent_sheet import ParentPlan, instruction, write_parent_plan
from cascadebook.template.styles import (
    PROTECT_OPTIONS,
)
from cascadebook.xlsx.addresses import column_letter, quote_sheet
from cascadebook.xlsx.layout import header_height as header_row_height
from cascadebook.xlsx.layout import row_height
from cascadebook.xlsx.writer import PlainFormulaWorksheet, write_value

HEADER_ROW = 4  # 1-based row of the column headers on input sheets; data starts below it
INSTRUCTIONS_WIDTH = 90  # column B of the Instructions, in characters
CHECK_WIDTH = 22  # the Check column: its messages wrap, so the sheet prints one landscape page wide at a readable scale


def template_filename(cycle: str, department_code: str) -> str:
    return f"{cycle}_{department_code}.xlsx"


INSTRUCTIONS = "Instructions"
NOTHING_YET, READY, NOTHING_TO_FIX = "Nothing filled in yet", "Ready to send", "Nothing to fix"
ON_THIS_SHEET, DETAIL_SEPARATOR = " — on this sheet: ", " · "
CHECK_HELP = (
    "What this row still needs, from the same rules the strategy office runs when the workbook comes "
    "back. Empty when the row is fine."
)


def make_metadata(
    strategy: Strategy,
    department: Department,
    spec: Spec,
    generated_at: str,
    key: bytes | None,
    kind: str = PLAN,
    decision_columns: str = "",
    decision_values: str = "",
    level: str = "",
    parent_plan: ParentPlan | None = None,
) -> Metadata:
    meta = Metadata(
        format_version=FORMAT_VERSION,
        kind=kind,
        cycle=strategy.cycle,
        department=department.code,
        spec_name=spec.name,
        spec_version=spec.version,
        fingerprint=strategy.fingerprint(),
        generated_at=generated_at,
        spec_fingerprint=spec.fingerprint(),
        decision_columns=decision_columns,
        decision_values=decision_values,
        level=level,
        parent=parent_plan.parent.code if parent_plan is not None else "",
        parent_plan=parent_plan.fingerprint if parent_plan is not None else "",
    )
    if key is None:
        return meta
    return Metadata(**{**meta.__dict__, "signature": sign(meta, key)})


def write_template(
    strategy: Strategy,
    department: Department,
    path: str | Path,
    *,
    spec: Spec | None = None,
    key: bytes | None = None,
    generated_at: str | None = None,
    prefill: dict | None = None,
    decisions: Sequence[Decision] = (),
    parent_plan: ParentPlan | None = None,
) -> Path:
    """Write one department's template atomically and return its path.

    ``prefill`` maps a sheet key to rows of values by column key (the next cycle starting from the
    master, see ``master_read.prefill_rows``): they fill the input cells from the first row, ids kept.
    ``decisions``: finance's on those rows (read from the same master), shown beside them (template/decisions.py).
    ``parent_plan``: for a unit aligned to its parent's plan, the parent's initiatives it may align to
    (template/parent_sheet.py); the metadata records the parent and the plan's fingerprint.
    """
    spec = spec or load_spec("department")
    generated_at = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    listed_on = PARENT_PLAN_SHEET if parent_plan is not None else "Objectives"
    live = {s.key: sheet_checks(spec, s.key, tuple(strategy.periods), HEADER_ROW, listed_on) for s in spec.sheets}
    given = {s.key: list((prefill or {}).get(s.key) or [])[: s.input_rows] for s in spec.sheets}
    shown = {s.key: display_for(spec, s, given[s.key], decisions, live[s.key]) for s in spec.sheets}
    display = next((d for d in shown.values() if d is not None), None)
    marker, digest = (display.marker, display.digest) if display is not None else ("", "")
    tree = OrgTree.of(strategy.departments)
    level = str(tree.level(department.code)) if tree.nested and tree.unit(department.code) else ""
    meta = make_metadata(
        strategy,
        department,
        spec,
        generated_at,
        key,
        decision_columns=marker,
        decision_values=digest,
        level=level,
        parent_plan=parent_plan,
    )
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        fmt = Formats(book, strategy.currency)
        fmt.decisions = DecisionFormats(book, strategy.currency) if marker else None
        page = page_text(strategy, department, generated_at)
        book.set_properties(
            {
                "title": f"{strategy.cycle} goal plan - {department.name}",
                "company": strategy.company,
                "comments": "Generated by cascadebook. Fill in the shaded cells and send the workbook back.",
                "created": datetime(2000, 1, 1),
            }
        )
        for name, value in meta.property_pairs():  # a long decision_values split within Excel's limit
            book.set_custom_property(META_PROPERTY_PREFIX + name, value)
        ids = {s.key: _row_ids(s, department.code, given[s.key]) for s in spec.sheets}
        status = _status(strategy, department, spec, live, given, ids)
        _instructions(book, fmt, strategy, department, spec, status, page, parent_plan)
        _objectives(book, fmt, strategy, spec, page, names=parent_plan is None)
        if parent_plan is not None:
            write_parent_plan(book, fmt, strategy, spec, parent_plan, page)
        for sheet in spec.sheets:
            _input_sheet(
                book,
                fmt,
                strategy,
                department,
                spec,
                sheet,
                given[sheet.key],
                ids[sheet.key],
                status,
                page,
                shown[sheet.key],
            )
        write_metadata_sheet(book, meta)
        book.close()
    return path


def _instructions(
    book,
    fmt: Formats,
    strategy: Strategy,
    department: Department,
    spec: Spec,
    status: _Status,
    page: PageText,
    parent_plan: ParentPlan | None = None,
) -> None:
    ws = book.add_worksheet(INSTRUCTIONS, PlainFormulaWorksheet)  # its formulas skip xlsxwriter's renaming
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, INSTRUCTIONS_WIDTH)
    ws.set_column(3, 3, 8, None, {"hidden": True})
    ws.hide_gridlines(2)
    ws.write_string(0, 0, f"{strategy.cycle} goal plan — {department.name} ({department.code})", fmt.title)
    ws.write_string(0, 3, blank_markers())  # the "n/a" words, for the checks' formulas
    book.define_name(MARKERS_NAME, f"={quote_sheet(INSTRUCTIONS)}!$D$1")
    after = _status_panel(ws, fmt, spec, status)
    rows: list[tuple[str, object]] = [
        ("Company", strategy.company),
        ("Department head", department.head),
        ("Please return by", strategy.response_deadline),
        ("Questions to", " ".join(p for p in (strategy.contact_name, f"<{strategy.contact_email}>") if p.strip("<>"))),
        ("Vision", strategy.vision),
        ("Mission", strategy.mission),
    ]
    r = after + 1
    for label, value in rows:
        ws.write_string(r, 0, label, fmt.label)
        if isinstance(value, date):
            ws.write_datetime(r, 1, datetime(value.year, value.month, value.day), fmt.date)
        else:
            ws.write_string(r, 1, str(value or ""), fmt.wrap)
            ws.set_row(r, merged_height(str(value or ""), [INSTRUCTIONS_WIDTH]))
        r += 1
    r += 1
    ws.write_string(r, 0, "What to do", fmt.label)
    steps = [
        (
            instruction(parent_plan, [s.title for s in spec.sheets])
            if parent_plan is not None
            else "1. Read the corporate objectives on the Objectives sheet."
        ),
        *[f"{i}. {sheet.title}: {sheet.intro}" for i, sheet in enumerate(spec.sheets, 2)],
        (
            f"{len(spec.sheets) + 2}. Save the workbook (keep the .xlsx format) and send it back. "
            "Renaming the file is fine: the workbook identifies itself."
        ),
    ]
    for step in steps:
        ws.write_string(r, 1, step, fmt.wrap)
        ws.set_row(r, merged_height(step, [INSTRUCTIONS_WIDTH]))
        r += 1
    r += 1
    ws.write_string(r, 0, "Colour legend", fmt.label)
    ws.write_string(r, 1, "Shaded cells are yours to fill in.", fmt.legend_input)
    ws.write_string(
        r + 1, 1, "Grey cells are ids, prefilled or shown as soon as you type on the row: keep them.", fmt.prefilled
    )
    legend = (
        "Red cells have a problem; the Check column at the right of each row says "
        "which, and the status at the top of each sheet counts them."
    )
    ws.write_string(r + 2, 1, legend, fmt.legend_problem)
    ws.set_row(r + 2, merged_height(legend, [INSTRUCTIONS_WIDTH]))
    ws.write_string(r + 3, 1, "Everything else is protected reference material.")
    if fmt.decisions is not None:  # a template prefilled with finance's decisions: what their marks mean
        ws.set_row(r + 4, merged_height(write_legend(ws, r + 4, fmt.decisions), [INSTRUCTIONS_WIDTH]))
    print_setup(ws, page, landscape=False, area=(r + 3 + (fmt.decisions is not None), 1), one_page=True)
    ws.protect("", PROTECT_OPTIONS)
    ws.activate()


@dataclass
class _Status:
    """What the live checks show on the rows a template is written with: the formulas' cached values.

    All quiet for a blank template; for one prefilled from a master (``generate --from``) the same rules
    reconcile runs work it out, so a viewer that does not recalculate shows the truth as well.
    """

    live: dict[str, SheetChecks]
    checks: dict[str, dict[int, str]] = field(default_factory=dict)  # sheet key -> 1-based row -> Check text
    counts: dict[str, Counter] = field(default_factory=dict)  # sheet key -> code -> problems
    started: dict[str, int] = field(default_factory=dict)  # sheet key -> rows with anything typed

    def total(self, key: str | None = None) -> int:
        return sum(sum(c.values()) for k, c in self.counts.items() if key in (None, k))

    def headline(self) -> str:
        n = self.total()
        if not sum(self.started.values()):
            return NOTHING_YET
        return READY if not n else f"{n} problem{'' if n == 1 else 's'} to fix before sending"

    def details(self, key: str) -> str:
        counts = self.counts.get(key, Counter())
        return DETAIL_SEPARATOR.join(
            f"{CATALOGUE[code].title}: {counts[code]}" for code in self.live[key].kinds if counts[code]
        )

    def sheet_line(self, key: str) -> str:
        """The Instructions line of one input sheet."""
        if not self.started.get(key):
            return NOTHING_YET
        return self.details(key) if self.total(key) else NOTHING_TO_FIX

    def status_line(self, key: str) -> str:
        """Row 3 of one input sheet."""
        if not self.total(key):
            return self.headline()
        return f"{self.headline()}{ON_THIS_SHEET}{self.details(key)}{_where(self.live[key])}"


def _row_ids(sheet: SheetSpec, department: str, given: list[dict]) -> list[str | None]:
    """The id of each input row: kept from ``given``, else the next free one. Every input row has one, so
    a KPI can pick any initiative; the rows below the prefilled ones show theirs once started
    (:func:`_shown_once_started`)."""
    key = sheet.key_of(ID)
    if not key:
        return [None] * sheet.input_rows
    used = {str(row.get(key)).casefold() for row in given if row.get(key)}
    fresh = (i for i in (sheet.make_id(department, n) for n in range(1, 10**6)) if i.casefold() not in used)
    ids: list[str | None] = []
    for number in range(1, sheet.input_rows + 1):
        row = given[number - 1] if number <= len(given) else {}
        ids.append(str(row.get(key) or next(fresh)))
    return ids


def _shown_once_started(sheet: SheetSpec, number: int, row: dict) -> bool:
    """Whether input row ``number`` (1-based) shows its id by a formula, once anything is typed on it,
    rather than as a prefilled value: the rows below the prefilled ids, unless given one. Its Check
    column then finds it on the KPIs sheet, the KPIs' dropdown lists it, and reconcile reads it from the
    formula's value; an unstarted row shows none, so the dropdown is not crowded with unused ids."""
    return number > sheet.prefilled_rows and not row.get(sheet.key_of(ID))


def _status(
    strategy: Strategy,
    department: Department,
    spec: Spec,
    live: dict[str, SheetChecks],
    given: dict[str, list[dict]],
    ids: dict[str, list[str | None]],
) -> _Status:
    status = _Status(
        live, {s.key: {} for s in spec.sheets}, {s.key: Counter() for s in spec.sheets}, {s.key: 0 for s in spec.sheets}
    )
    if not any(given.values()):
        return status

    records: dict[str, list[Record]] = {}
    for sheet in spec.sheets:
        letters = {c.key: column_letter(i) for i, c in enumerate(sheet.columns, 1)}
        records[sheet.key] = []
        for i, row in enumerate(given[sheet.key]):
            if all(is_blank(row.get(c.key)) for c in sheet.input_columns):
                continue  # not started: reconcile would not read it
            number = live[sheet.key].first + i
            values = {c.key: row.get(c.key) for c in sheet.columns}
            id_key = sheet.key_of(ID)
            if id_key:
                values[id_key] = ids[sheet.key][i]
            records[sheet.key].append(
                Record(
                    sheet.key,
                    department.code,
                    "",
                    sheet.title,
                    number,
                    values,
                    {k: f"{letter}{number}" for k, letter in letters.items()},
                    id_key,
                )
            )
        status.started[sheet.key] = len(records[sheet.key])
    _, findings = validate_records(strategy, spec, records, department.code)
    by_row: dict[tuple[str, int], list] = {}
    for f in findings:
        by_row.setdefault((f.sheet, int("".join(ch for ch in f.cell if ch.isdigit()) or 0)), []).append(f)
    for sheet in spec.sheets:
        for record in records[sheet.key]:
            shown = live[sheet.key].expected(by_row.get((sheet.title, record.row), ()))
            status.checks[sheet.key][record.row] = "; ".join(c.message for c in shown)
            status.counts[sheet.key].update(c.code for c in shown)
    return status


def _where(live: SheetChecks) -> str:
    return f". The {CHECK_HEADER} column ({live.letter}) says where."


def _started_cell(live: SheetChecks, sheet: str = "") -> str:
    """Hidden cell (row 3, after the Check column) counting the rows with anything typed."""
    return f"{sheet}${column_letter(live.column + 2)}$3"


def _count_cells(live: SheetChecks, sheet: str = "") -> list[tuple[str, str]]:
    """(code, hidden cell) counting each kind of problem the sheet's Check column shows."""
    return [(code, f"{sheet}${column_letter(live.column + 3 + i)}$3") for i, code in enumerate(live.kinds)]


def _problems(live: SheetChecks, sheet: str = "") -> str:
    cells = _count_cells(live, sheet)
    return f"SUM({cells[0][1]}:{cells[-1][1].split('!')[-1]})" if cells else "0"


def _details(live: SheetChecks, sheet: str = "") -> str:
    """'Required value missing: 2 · Value of the wrong type: 1' for the kinds that are not zero."""
    parts = "&".join(
        f"IF({cell}>0,{q(DETAIL_SEPARATOR + CATALOGUE[code].title + ': ')}&{cell},\"\")"
        for code, cell in _count_cells(live, sheet)
    )
    return f"MID({parts},{len(DETAIL_SEPARATOR) + 1},999)" if parts else '""'


def _headline(spec: Spec, live: dict[str, SheetChecks]) -> str:
    """The workbook's status: nothing yet, ready to send, or how many problems to fix."""
    sheets = [(quote_sheet(s.title) + "!", live[s.key]) for s in spec.sheets]
    started = "+".join(_started_cell(lv, name) for name, lv in sheets) or "0"
    problems = "+".join(_problems(lv, name) for name, lv in sheets if lv.kinds) or "0"
    return (
        f"=IF({started}=0,{q(NOTHING_YET)},IF({problems}=0,{q(READY)},{problems}&IF({problems}=1,"
        f"\" problem\",\" problems\")&\" to fix before sending\"))"
    )


def _status_colours(ws, fmt: Formats, row: int, col: int) -> None:
    cell = f"${column_letter(col + 1)}${row + 1}"
    ws.conditional_format(
        row,
        col,
        row,
        col,
        {"type": "formula", "criteria": f'=LEFT({cell},{len(READY)})="{READY}"', "format": fmt.ready},
    )
    ws.conditional_format(
        row,
        col,
        row,
        col,
        {"type": "formula", "criteria": f'=ISNUMBER(SEARCH("to fix",{cell}))', "format": fmt.problem},
    )


def _status_panel(ws, fmt: Formats, spec: Spec, status: _Status) -> int:
    """The Instructions sheet's status, from row 3: the workbook, each input sheet, what waits for return.

    Returns the last row used (0-based). Every formula carries the value it has as written.
    """
    live = status.live
    ws.write_string(2, 0, "Before you send", fmt.label)
    ws.write_formula(2, 1, _headline(spec, live), fmt.status, status.headline())
    _status_colours(ws, fmt, 2, 1)
    r = 3
    for sheet in spec.sheets:
        lv, name = live[sheet.key], quote_sheet(sheet.title) + "!"
        ws.write_string(r, 0, sheet.title, fmt.label)
        ws.write_formula(
            r,
            1,
            f"=IF({_started_cell(lv, name)}=0,{q(NOTHING_YET)},IF({_problems(lv, name)}=0,"
            f"{q(NOTHING_TO_FIX)},{_details(lv, name)}))",
            fmt.wrap,
            status.sheet_line(sheet.key),
        )
        # room for the longest line the formula can show: every kind of problem counted
        longest = DETAIL_SEPARATOR.join(f"{CATALOGUE[code].title}: 99" for code in lv.kinds[:4])
        ws.set_row(r, merged_height(longest, [INSTRUCTIONS_WIDTH]))
        r += 1
    later = " · ".join(CATALOGUE[code].title for code in on_return_only())
    text = (
        "The sheets check themselves as you type; everything is checked again when the workbook "
        f"comes back, where these are checked only: {later}."
    )
    ws.write_string(r, 1, text, fmt.wrap)
    ws.set_row(r, merged_height(text, [INSTRUCTIONS_WIDTH]))
    return r


def _objectives(book, fmt: Formats, strategy: Strategy, spec: Spec, page: PageText, names: bool = True) -> None:
    """The corporate objectives, locked; with ``names`` the objective column's dropdown and checks look them up
    (a cascaded template's look up its Parent plan sheet instead)."""
    sheet = load_spec("strategy").sheet("objectives")
    ws = book.add_worksheet(sheet.title)
    widths = objective_widths(sheet.columns, strategy.objectives)
    for c, col in enumerate(sheet.columns):
        ws.set_column(c, c, widths[c])
        ws.write_string(0, c, col.header, fmt.header)
    ws.set_row(0, header_row_height([(col.header, w) for col, w in zip(sheet.columns, widths)]))
    measured = {"baseline", "target"}  # the objective's own fields, in its unit
    for r, objective in enumerate(strategy.objectives, 1):
        values = (objective.baseline, objective.target)
        in_unit = fmt.unit(unit_format(spec, objective.unit, strategy.currency, values))
        for c, col in enumerate(sheet.columns):
            cell = in_unit if col.key in measured else fmt.reference(col.type)
            write_value(ws, r, c, getattr(objective, col.key), cell)
        # each row as tall as its own text wraps in the widths written (not the spec's)
        wrapped = [(getattr(objective, col.key), w) for col, w in zip(sheet.columns, widths) if col.type == "text"]
        ws.set_row(r, row_height(wrapped))
    print_setup(
        ws,
        page,
        width=sum(widths),
        repeat=0,
        area=(len(strategy.objectives), len(sheet.columns) - 1),
    )
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(strategy.objectives), 1), len(sheet.columns) - 1)
    ws.protect("", PROTECT_OPTIONS)
    if not names:
        return
    last = len(strategy.objectives) + 1
    book.define_name(OBJECTIVE_IDS, f"={quote_sheet(sheet.title)}!$A$2:$A${last}")
    direction = key_letter(sheet, "direction")
    book.define_name(OBJECTIVE_DIRECTIONS, f"={quote_sheet(sheet.title)}!${direction}$2:${direction}${last}")


def _input_sheet(
    book,
    fmt: Formats,
    strategy: Strategy,
    department: Department,
    spec: Spec,
    sheet: SheetSpec,
    given: list[dict],
    ids: list[str | None],
    status: _Status,
    page: PageText,
    shown: DecisionDisplay | None = None,
) -> None:
    live = status.live[sheet.key]
    ws = book.add_worksheet(sheet.title, PlainFormulaWorksheet)
    header_idx = HEADER_ROW - 1
    first, last = header_idx + 1, header_idx + sheet.input_rows
    ws.write_string(0, 0, f"{sheet.title} — {department.name} ({department.code}), {strategy.cycle}", fmt.title)
    merged = sheet.columns[: min(len(sheet.columns), 8)]
    ws.merge_range(1, 0, 1, len(merged) - 1, sheet.intro, fmt.intro)
    ws.set_row(1, merged_height(sheet.intro, [c.width for c in merged]))
    ws.set_row(header_idx, header_height(sheet.columns))
    for c, col in enumerate(sheet.columns):
        ws.write_string(header_idx, c, col.header + (" *" if col.required else ""), fmt.header)
        ws.set_column(c, c, col.width, fmt.input(col.type) if col.is_input else None)
        rule = validation(col, strategy, spec)
        if rule:
            ws.data_validation(first, c, last, c, rule)
    # Columns carry the input format so typed cells are unlocked; rows above the data are locked.
    # Every input cell is written (blank, unlocked, shaded) rather than relying on column styles,
    # which some spreadsheet programs drop on import.
    inputs = [(c, fmt.input(col.type)) for c, col in enumerate(sheet.columns) if col.is_input]
    id_col = next((c for c, col in enumerate(sheet.columns) if col.role == ID), None)
    started_row = started_test(sheet, "{row}")  # built once a sheet; each row's id formula fills in its row
    for r in range(first, last + 1):
        number = r - first + 1
        row = given[number - 1] if number <= len(given) else {}
        if id_col is not None:
            if ids[number - 1] is None:
                ws.write_blank(r, id_col, None, fmt.input("text"))
            elif _shown_once_started(sheet, number, row):
                started = r + 1 in status.checks.get(sheet.key, {})  # a row _status read
                ws.write_formula(
                    r,
                    id_col,
                    f'=IF({started_row.format(row=r + 1)},{q(ids[number - 1])},"")',
                    fmt.prefilled,
                    ids[number - 1] if started else "",
                )
            else:
                marked = fmt.decisions and input_format(shown, fmt.decisions, number - 1, sheet.columns[id_col])
                ws.write_string(r, id_col, ids[number - 1], marked or fmt.prefilled)
        for c, cell_format in inputs:
            marked = fmt.decisions and input_format(shown, fmt.decisions, number - 1, sheet.columns[c])
            write_value(ws, r, c, row.get(sheet.columns[c].key), marked or cell_format)
    for r in (0, 1, 2):  # keep the rows above the headers plain even where the column is an input column
        for c in range({0: 1, 1: len(merged)}.get(r, 0), len(sheet.columns)):
            ws.write_blank(r, c, None, fmt.plain)
    _live_checks(ws, fmt, live, status, len(merged) - 1)
    ws.set_row(2, merged_height(status.status_line(sheet.key), [c.width for c in merged]))
    filled = max(sheet.prefilled_rows, len(given))
    if shown is not None and fmt.decisions is not None:  # sorted and printed with the rows they belong to
        write_display(ws, shown, fmt.decisions, fmt.header, header_idx)
    right, extra = (shown.last, shown.width) if shown is not None else (live.column, 0)
    input_sheet_print(ws, page, sheet.columns, header_idx, filled, right, CHECK_WIDTH + extra)
    ws.freeze_panes(HEADER_ROW, 1)
    ws.autofilter(header_idx, 0, last, right)
    ws.protect("", PROTECT_OPTIONS)
    ident = column_letter((id_col or 0) + 1)
    book.define_name(id_range_name(sheet), f"={quote_sheet(sheet.title)}!${ident}${first + 1}:${ident}${last + 1}")
    referenced = any(c.type == "reference" and c.source == sheet.key for s in spec.sheets for c in s.columns)
    if referenced and sheet.by_role(TITLE):  # the KPIs' check that their initiative has a title looks it up
        title = key_letter(sheet, sheet.key_of(TITLE))
        book.define_name(
            title_range_name(sheet), f"={quote_sheet(sheet.title)}!${title}${first + 1}:${title}${last + 1}"
        )


def _live_checks(ws, fmt: Formats, live: SheetChecks, status: _Status, status_last: int = 0) -> None:
    """The Check column, the red cells and the status line (row 3) of one input sheet.

    Formulas are written for the spec's input rows only, each with the value it has as written ("" for
    a Check cell of an empty row), so a viewer that does not recalculate still shows the truth.
    """
    first, last, col = live.first - 1, live.last - 1, live.column  # 0-based
    key = live.sheet.key
    cached = status.checks.get(key, {})
    ws.write_string(HEADER_ROW - 1, col, CHECK_HEADER, fmt.header)
    ws.set_column(col, col, CHECK_WIDTH)
    for r, formula in live.rows():
        ws.write_formula(r, col, formula, fmt.check, cached.get(r + 1, ""))
    ws.data_validation(
        first, col, last, col, {"validate": "any", "input_title": CHECK_HEADER, "input_message": CHECK_HELP}
    )
    for check in live.checks:
        c = live.sheet.columns.index(live.sheet.column(check.key))
        ws.conditional_format(
            first, c, last, c, {"type": "formula", "criteria": live.cf_formula(check), "format": fmt.problem}
        )
    # Row 3, hidden, after the Check column: rows started, then one count per kind of problem.
    counts = _count_cells(live)
    # Hidden by a width of 0, shown as nothing: LibreOffice prints a number in a column hidden at its
    # ordinary width as ### at the edge of the column before it (the Check column's, on row 3).
    ws.set_column(col + 1, col + 1 + len(counts), 0)
    ws.write_formula(2, col + 1, "=" + live.started_rows_formula(), fmt.unseen, status.started.get(key, 0))
    for i, (code, _) in enumerate(counts):
        ws.write_formula(2, col + 2 + i, "=" + live.count_formula(code), fmt.unseen, status.counts[key][code])
    if status_last > 0:  # the status line spans the intro's width, its colour with it
        ws.merge_range(2, 0, 2, status_last, "", fmt.status)
    ws.write_formula(
        2,
        0,
        f"={quote_sheet(INSTRUCTIONS)}!$B$3&IF({_problems(live)}=0,\"\",{q(ON_THIS_SHEET)}&{_details(live)}&"
        f"{q(_where(live))})",
        fmt.status,
        status.status_line(key),
    )
    _status_colours(ws, fmt, 2, 0)


def write_metadata_sheet(book, meta: Metadata) -> None:
    """The very hidden, protected sheet of the signed metadata (a second copy beside the document
    properties), written the same way into templates and check-ins."""
    ws = book.add_worksheet(META_SHEET)
    for r, (name, value) in enumerate(meta.as_pairs()):
        ws.write_string(r, 0, name)
        ws.write_string(r, 1, value)
    ws.protect("", {"select_locked_cells": False, "select_unlocked_cells": False})
    ws.very_hidden()


def generate(
    strategy: Strategy,
    outbox: str | Path,
    *,
    spec: Spec | None = None,
    departments: Iterable[str] | None = None,
    key: bytes | None = None,
    generated_at: str | None = None,
    prefill: dict | None = None,
    decisions: Mapping[str, Sequence[Decision]] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    parent_plans: Mapping[str, ParentPlan] | None = None,
) -> list[Path]:
    """Write one template per department (or per code in ``departments``) into ``outbox``.

    ``prefill``: department code -> sheet key -> rows (``master_read.prefill_rows``), for ``--from``;
    ``decisions``: department code -> finance's decisions in that master (``decisions_read.read_decisions``).
    Without ``spec``, the strategy's own (``spec.resolve_spec``: its ``spec:``, else department.yaml beside it).
    ``parent_plans``: department code -> the parent plan its template aligns to (``generate --cascade``,
    cycle/cascade_round.py). ``progress(done, total, code)`` is called after each template. The outbox is checked before the
    first template is made, and the templates appear together or not at all (``atomic.all_or_nothing``):
    a template that cannot be replaced (open in Excel) raises ``atomic.OutputError`` and leaves the
    outbox as it was.
    """
    spec = spec or resolve_spec(None, strategy)
    wanted = {c.casefold() for c in departments} if departments else None
    chosen = [d for d in strategy.departments if wanted is None or d.code.casefold() in wanted]
    if wanted is not None:
        unknown = wanted - {d.code.casefold() for d in chosen}
        if unknown:
            raise KeyError(f"unknown department code(s): {', '.join(sorted(unknown))}")
    stamp = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    outbox = Path(outbox)
    chosen = sorted(chosen, key=lambda d: d.code)
    targets = [outbox / template_filename(strategy.cycle, d.code) for d in chosen]
    check_folder(outbox)
    check_writable(targets)
    written = []
    decided: dict[str, list[Decision]] = {}
    for code, rows in (decisions or {}).items():
        decided.setdefault(code.strip().casefold(), []).extend(rows)
    with all_or_nothing():
        for d, target in zip(chosen, targets):
            written.append(
                write_template(
                    strategy,
                    d,
                    target,
                    spec=spec,
                    key=key,
                    generated_at=stamp,
                    prefill=(prefill or {}).get(d.code),
                    decisions=decided.get(d.code.casefold(), ()),
                    parent_plan=(parent_plans or {}).get(d.code),
                )
            )
            if progress is not None:
                progress(len(written), len(chosen), d.code)
    return written

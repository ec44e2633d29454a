"""Quarterly check-ins: one workbook per department and period, and reading them back.

A check-in workbook is written from the master (the department's initiatives and KPIs, with ids,
titles, baselines and targets locked) and laid out by the check-in spec
(``workbook_templates/checkin.yaml``), so ``returns.read_return(path, checkin_spec())`` reads it
like any template. It carries the planning templates' signed metadata with ``kind: checkin`` and
the period, so ``reconcile`` recognises it whatever its file name, and turns it into progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cascadebook.atomic import all_or_nothing, atomic_path, check_folder, check_writable
from cascadebook.consolidate.progress import Item, is_number
from cascadebook.intake.dispatch import CHECKIN_KIND, HISTORY_SHEET, checkin_spec
from cascadebook.master.read import MasterData
from cascadebook.model import Department, Record, Strategy
from cascadebook.signing import sign
from cascadebook.spec.roles import (
    ACTUAL,
    BASELINE,
    COMMENT,
    PREVIOUS_ACTUAL,
    STATUS,
    TARGET,
    TITLE,
    UNIT,
    plan_role,
)
from cascadebook.spec.schema import BUNDLED_SPEC, Column, SheetSpec, Spec, load_spec
from cascadebook.template.department import HEADER_ROW, META_PROPERTY_PREFIX, make_metadata, write_metadata_sheet
from cascadebook.template.layout import (
    PageText,
    cell_number_format,
    header_height,
    input_sheet_print,
    merged_height,
    page_text,
    print_setup,
    unit_format,
)
from cascadebook.template.styles import (
    INPUT_FILL,
    NUMBER_FORMATS,
    PREFILLED_FILL,
    PROTECT_OPTIONS,
    header_format,
    intro_format,
    title_format,
)
from cascadebook.xlsx.layout import row_height
from cascadebook.xlsx.writer import Workbook as SafeWorkbook
from cascadebook.xlsx.writer import write_value

PERCENT_FORMAT = "0.0%"


def checkin_filename(cycle: str, department_code: str, period: str) -> str:
    return f"{cycle}_{department_code}_{period}_checkin.xlsx"


# ---------------------------------------------------------------------------------------------- writing


class _Formats:
    def __init__(self, book, currency: str = ""):
        add = book.add_format
        self.book = book
        self.currency = currency
        self.title = add(title_format(14))
        self.intro = add(intro_format())
        self.header = add(header_format())
        self.label = add({"bold": True, "valign": "top"})
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.plain = add({})
        self.date = add({"num_format": NUMBER_FORMATS["date"], "align": "left"})
        self.legend_input = add({"bg_color": INPUT_FILL, "border": 1, "border_color": "#BFBFBF"})
        self.legend_locked = add({"bg_color": PREFILLED_FILL, "border": 1, "border_color": "#BFBFBF"})
        self._cache: dict[tuple, Any] = {}

    def cell(self, column_type: str, *, locked: bool, percent: bool = False, num_format: str | None = None):
        """A cell of ``column_type``; ``num_format`` (a row's unit) for its baseline, target and actuals."""
        key = (column_type, locked, percent, num_format)
        if key not in self._cache:
            props: dict[str, Any] = {
                "border": 1,
                "border_color": "#BFBFBF",
                "valign": "top",
                "bg_color": PREFILLED_FILL if locked else INPUT_FILL,
            }
            if not locked:
                props["locked"] = False
            if num_format:
                props["num_format"] = num_format
            elif percent:
                props["num_format"] = PERCENT_FORMAT
            elif column_type == "currency":
                props["num_format"] = cell_number_format(column_type, self.currency)
            elif column_type in NUMBER_FORMATS and column_type != "number":
                props["num_format"] = NUMBER_FORMATS[column_type]
            if column_type == "text":
                props["text_wrap"] = True
            self._cache[key] = self.book.add_format(props)
        return self._cache[key]


def _percent_row(record: Record, plan: SheetSpec | None) -> bool:
    """Whether a plan row (of the plan's sheet ``plan``) is a % item planned as fractions."""
    value = lambda role: record.values.get(plan.key_of(role)) if plan is not None else None  # noqa: E731
    return Item(
        "",
        "",
        "",
        baseline=_num(value(BASELINE)),
        target=_num(value(TARGET)),
        unit=str(value(UNIT) or ""),
    ).is_percent


def _plan_sheet(master: MasterData, sheet: SheetSpec) -> SheetSpec | None:
    """The plan's sheet a check-in sheet reports on (by their roles), in the spec the master was read with."""
    plan = master.spec if master.spec is not None else load_spec(BUNDLED_SPEC)
    return plan.sheet_by_role(plan_role(sheet.role))


def _plan_value(record: Record, plan: SheetSpec | None, col: Column) -> Any:
    """A prefilled check-in cell: the plan's column of the same role, else of the same key."""
    if col.role and plan is not None and plan.by_role(col.role):
        return record.values.get(plan.key_of(col.role))
    return record.values.get(col.key)


def _num(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def _earlier(strategy: Strategy, period: str) -> list[str]:
    periods = list(strategy.periods)
    return periods[: periods.index(period)] if period in periods else []


def write_checkin(
    strategy: Strategy,
    department: Department,
    period: str,
    path: str | Path,
    *,
    master: MasterData,
    spec: Spec | None = None,
    key: bytes | None = None,
    generated_at: str | None = None,
) -> Path:
    """Write one department's check-in workbook for ``period`` atomically; returns its path."""

    spec = spec or checkin_spec()
    if period not in strategy.periods:
        raise ValueError(f"{period!r} is not a period of {strategy.cycle} ({', '.join(strategy.periods)})")
    generated_at = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    meta = replace(make_metadata(strategy, department, spec, generated_at, None, kind=CHECKIN_KIND), period=period)
    if key is not None:
        meta = replace(meta, signature=sign(meta, key))
    mine = master.for_department(department.code)
    earlier = _earlier(strategy, period)
    path = Path(path)
    with atomic_path(path) as tmp:
        book = SafeWorkbook(str(tmp), {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
        fmt = _Formats(book, strategy.currency)
        page = page_text(strategy, department, generated_at, period)
        units = master.spec if master.spec is not None else load_spec(BUNDLED_SPEC)
        book.set_properties(
            {
                "title": f"{strategy.cycle} {period} check-in - {department.name}",
                "company": strategy.company,
                "comments": "Generated by cascadebook. Fill in the shaded cells and send the workbook back.",
                "created": datetime(2000, 1, 1),
            }
        )
        for name, value in meta.as_pairs():
            book.set_custom_property(META_PROPERTY_PREFIX + name, value)
        _instructions(book, fmt, strategy, department, period, spec, earlier, page)
        for sheet in spec.sheets:
            plan = _plan_sheet(master, sheet)
            records = mine.get(plan.key, []) if plan is not None else []
            _checkin_sheet(
                book, fmt, strategy, department, period, sheet, plan, records, master, earlier, (page, units)
            )
        _history_sheet(book, fmt, spec, mine, master, earlier, page)
        write_metadata_sheet(book, meta)
        book.close()
    return path


def _instructions(
    book,
    fmt: _Formats,
    strategy: Strategy,
    department: Department,
    period: str,
    spec: Spec,
    earlier: list[str],
    page: PageText,
) -> None:
    ws = book.add_worksheet("Instructions")
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 90)
    ws.hide_gridlines(2)
    ws.write_string(0, 0, f"{strategy.cycle} {period} check-in — {department.name} ({department.code})", fmt.title)
    contact = " ".join(p for p in (strategy.contact_name, f"<{strategy.contact_email}>") if p.strip("<>"))
    rows = [
        ("Company", strategy.company),
        ("Department head", department.head),
        ("Period", period),
        ("Questions to", contact),
        ("Vision", strategy.vision),
    ]
    r = 2
    for label, value in rows:
        ws.write_string(r, 0, label, fmt.label)
        ws.write_string(r, 1, str(value or ""), fmt.wrap)
        ws.set_row(r, merged_height(str(value or ""), [90]))
        r += 1
    r += 1
    ws.write_string(r, 0, "What to do", fmt.label)
    steps = [f"{i}. {sheet.title}: {sheet.intro}" for i, sheet in enumerate(spec.sheets, 1)]
    if earlier:
        steps.append(
            f"{len(steps) + 1}. The {HISTORY_SHEET} sheet shows what you reported for "
            f"{', '.join(earlier)}; 'Last actual' is the most recent of them."
        )
    steps.append(
        f"{len(steps) + 1}. Save the workbook (keep the .xlsx format) and send it back. Renaming the file "
        "is fine: the workbook identifies itself."
    )
    for step in steps:
        ws.write_string(r, 1, step, fmt.wrap)
        ws.set_row(r, merged_height(step, [90]))
        r += 1
    r += 1
    ws.write_string(r, 0, "How progress is counted", fmt.label)
    ws.write_string(
        r,
        1,
        "Progress is the share of the way from the baseline to the target that the actual has "
        "covered (0% at the baseline, 100% at the target). Percentages can be typed as 18% or 0.18.",
        fmt.wrap,
    )
    ws.set_row(r, 30)
    r += 2
    ws.write_string(r, 0, "Colour legend", fmt.label)
    ws.write_string(r, 1, "Shaded cells are yours to fill in.", fmt.legend_input)
    ws.write_string(r + 1, 1, "Grey cells are the plan, from the master: keep them.", fmt.legend_locked)
    print_setup(ws, page, landscape=False, area=(r + 1, 1), one_page=True)
    ws.protect("", PROTECT_OPTIONS)
    ws.activate()


def _validation(col: Column) -> dict | None:
    message = {"input_title": col.header[:32], "input_message": col.help[:255]} if col.help else {}
    if col.type == "choice":
        return {"validate": "list", "source": list(col.choices), **message}
    if col.type in ("number", "percent", "currency", "integer"):
        return {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e15,
            "maximum": 1e15,
            "error_type": "warning",
            "error_title": "Number expected",
            "error_message": f"{col.header} should be a number.",
            **message,
        }
    return {"validate": "any", **message} if message else None


def _checkin_sheet(
    book,
    fmt: _Formats,
    strategy: Strategy,
    department: Department,
    period: str,
    sheet: SheetSpec,
    plan: SheetSpec | None,
    records: Sequence[Record],
    master: MasterData,
    earlier: list[str],
    looks: tuple[PageText, Spec],
) -> None:
    page, units = looks
    ws = book.add_worksheet(sheet.title)
    header_idx = HEADER_ROW - 1
    ws.write_string(
        0, 0, f"{sheet.title} — {department.name} ({department.code}), {strategy.cycle} {period} check-in", fmt.title
    )
    merged = sheet.columns[: min(len(sheet.columns), 9)]
    ws.merge_range(1, 0, 1, len(merged) - 1, sheet.intro, fmt.intro)
    ws.set_row(1, merged_height(sheet.intro, [c.width for c in merged]))
    ws.set_row(header_idx, header_height(sheet.columns))
    for c, col in enumerate(sheet.columns):
        ws.write_string(header_idx, c, col.header + (" *" if col.required else ""), fmt.header)
        ws.set_column(c, c, col.width)
    first = header_idx + 1
    last = first + max(len(records), 1) - 1
    for c, col in enumerate(sheet.columns):
        validation = _validation(col) if col.is_input else None
        if validation and records:
            ws.data_validation(first, c, last, c, validation)
    numeric = (BASELINE, TARGET, PREVIOUS_ACTUAL, ACTUAL)  # shown as percentages on a % item's row
    for r, record in enumerate(records, first):
        percent = _percent_row(record, plan)
        history = master.history(record.sheet, record.department, record.id)
        previous = next(
            (history[p].actual for p in reversed(earlier) if p in history and history[p].actual is not None), None
        )
        texts: list[tuple[str, float]] = []  # the row's wrapped text, for its height
        unit = record.values.get(plan.key_of(UNIT)) if plan is not None and plan.key_of(UNIT) else ""
        in_unit = unit_format(
            units, unit, strategy.currency, [_plan_value(record, plan, c) for c in sheet.columns if c.role in numeric]
        )
        for c, col in enumerate(sheet.columns):
            shown = in_unit if col.role in numeric and not percent else None
            cell = fmt.cell(col.type, locked=col.prefilled, percent=percent and col.role in numeric, num_format=shown)
            if col.role == PREVIOUS_ACTUAL:
                value = previous
            elif col.prefilled:
                value = _plan_value(record, plan, col)
            else:
                value = None
            write_value(ws, r, c, value, cell)
            if col.type == "text" and isinstance(value, str):
                texts.append((value, col.width))
        ws.set_row(r, row_height(texts))
    ws.freeze_panes(HEADER_ROW, 1)
    if records:
        ws.autofilter(header_idx, 0, last, len(sheet.columns) - 1)
    input_sheet_print(ws, page, sheet.columns, header_idx, len(records), len(sheet.columns) - 1)
    ws.protect("", PROTECT_OPTIONS)


def _history_sheet(
    book,
    fmt: _Formats,
    spec: Spec,
    mine: dict[str, list[Record]],
    master: MasterData,
    earlier: list[str],
    page: PageText,
) -> None:
    """Earlier periods' actuals, status and comments, read-only."""
    shown = [p for p in earlier if p in master.periods()]
    if not shown:
        return
    ws = book.add_worksheet(HISTORY_SHEET)
    headers = ["Sheet", "ID", "Title"]
    for p in shown:
        headers += [f"{p} actual", f"{p} status", f"{p} comment"]
    widths = [12, 12, 40] + [10, 11, 30] * len(shown)
    for c, (h, width) in enumerate(zip(headers, widths)):
        ws.write_string(0, c, h, fmt.header)
        ws.set_column(c, c, width)
    r = 1
    for sheet in spec.sheets:
        plan = _plan_sheet(master, sheet)
        if plan is None:  # the plan has no sheet this check-in sheet reports on
            continue
        actual, status, comment = sheet.key_of(ACTUAL), sheet.key_of(STATUS), sheet.key_of(COMMENT)
        for record in mine.get(plan.key, []):
            history = master.history(record.sheet, record.department, record.id)
            percent = _percent_row(record, plan)
            row: list[tuple[Any, Any]] = [
                (sheet.title, None),
                (record.id, None),
                (record.values.get(plan.key_of(TITLE)), fmt.wrap),
            ]
            for p in shown:
                got = history.get(p)
                values = got.values if got else {}
                row += [
                    (values.get(actual), fmt.cell("number", locked=True, percent=percent)),
                    (values.get(status), None),
                    (values.get(comment), fmt.wrap),
                ]
            for c, (value, cell) in enumerate(row):
                write_value(ws, r, c, value, cell)
            r += 1
    ws.freeze_panes(1, 2)
    print_setup(ws, page, width=sum(widths), repeat=0)
    ws.protect("", PROTECT_OPTIONS)


def generate_checkins(
    strategy: Strategy,
    master: MasterData,
    outbox: str | Path,
    period: str,
    *,
    departments: Iterable[str] | None = None,
    key: bytes | None = None,
    spec: Spec | None = None,
    generated_at: str | None = None,
) -> list[Path]:
    """One check-in workbook per department that has initiatives or KPIs in the master."""
    if period not in strategy.periods:
        raise ValueError(f"{period!r} is not a period of {strategy.cycle} ({', '.join(strategy.periods)})")
    wanted = {c.casefold() for c in departments} if departments else None
    if wanted is not None:
        unknown = wanted - {d.code.casefold() for d in strategy.departments}
        if unknown:
            raise KeyError(f"unknown department code(s): {', '.join(sorted(unknown))}")
    with_plan = {c.casefold() for c in master.departments()}
    stamp = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    outbox = Path(outbox)
    chosen = [
        d
        for d in sorted(strategy.departments, key=lambda d: d.code)
        if d.code.casefold() in with_plan and (wanted is None or d.code.casefold() in wanted)
    ]
    targets = [outbox / checkin_filename(strategy.cycle, d.code, period) for d in chosen]
    check_folder(outbox)
    check_writable(targets)
    with all_or_nothing():  # all the check-ins appear together, or none (atomic.OutputError)
        return [
            write_checkin(strategy, d, period, target, master=master, spec=spec, key=key, generated_at=stamp)
            for d, target in zip(chosen, targets)
        ]
